#!/usr/bin/env bats
# Kubernetes pods through containerd's CRI (a private containerd with the CRI
# plugin on, driven by tests/cri/cri-client.py): RunPodSandbox, two
# containers, ExecSync, status, logs, StopContainer, StopPodSandbox,
# RemovePodSandbox; under runc (checks the harness) and under runk, where the
# whole pod is one VM (docs/pods.md).
#
# One containerd serves the file.  The runk tests share one pod (one VM
# boot), made by the first test that needs it and removed by the last one;
# they run in file order.

load helpers
load engines
load cri

setup_file() {
	command -v containerd >/dev/null && command -v protoc >/dev/null &&
		/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null || return 0
	engine_setup
	cri_setup || echo "# the private containerd with CRI did not start: $(tail -5 "$ENGINE_DIR/cri/containerd.log")" >&3
}

teardown_file() {
	cri_teardown
	engine_teardown
}

setup() {
	require_cri
	[ -n "${CRI_PID:-}" ] && kill -0 "$CRI_PID" ||
		fail "the private containerd with CRI did not start (see setup_file)"
}

# run_pod HANDLER NAME: a pod NAME (the sandbox + c1 + c2, each container 0.5
# CPU and 256 MiB, the pod 1 CPU and 512 MiB) sharing one PID namespace, as
# kubelet asks for shareProcessNamespace, started under HANDLER; sets POD,
# C1, C2.  Each container says it started, on stdout and stderr, and ends
# with 0 on SIGTERM.
run_pod() {
	local handler=$1 name=$2 c id
	cri_pod_config "$ENGINE_DIR/$name.json" "$name" '
		.linux.resources = {cpu_period: 100000, cpu_quota: 100000, memory_limit_in_bytes: 536870912} |
		.linux.security_context.namespace_options.pid = "POD"'
	POD=$(cri runp "$ENGINE_DIR/$name.json" --handler "$handler")
	[ -n "$POD" ] || fail "RunPodSandbox gave no id"
	for c in c1 c2; do
		cri_container_config "$ENGINE_DIR/$name-$c.json" "$c" '
			.linux.resources = {cpu_period: 100000, cpu_quota: 50000, memory_limit_in_bytes: 268435456} |
			.linux.security_context.namespace_options = {network: "NODE", pid: "POD", ipc: "POD"}' \
			-- sh -c "trap 'exit 0' TERM; echo $c started; echo $c on stderr >&2; while :; do sleep 1; done"
		id=$(cri create "$POD" "$ENGINE_DIR/$name-$c.json" "$ENGINE_DIR/$name.json")
		[ -n "$id" ] || fail "CreateContainer $c gave no id"
		cri start "$id"
		eval "${c^^}=$id"
	done
}

@test "pod under runc through the CRI: two containers, ExecSync, status, logs, removal (checks the harness)" {
	run_pod runc pod-runc
	run cri exec "$C1" -- sh -c 'echo out; echo err >&2; exit 3'
	[ "$status" -eq 3 ] || fail "ExecSync exit code: $status: $output"
	assert_output --partial out
	run cri inspect "$C2"
	assert_success
	assert_equal "$(jq -r .status.state <<<"$output")" CONTAINER_RUNNING
	wait_until_text "$CRI_DIR/logs/pod-runc/c1.log" "c1 started"
	wait_until_text "$CRI_DIR/logs/pod-runc/c1.log" "c1 on stderr"
	# Both containers are in the pod's cgroup parent, with their own limits.
	[ "$(cat /sys/fs/cgroup/cpu$CRI_CGROUP_PARENT/$C1/cpu.cfs_quota_us)" = 50000 ]
	cri stopp "$POD"
	run cri inspect "$C1"
	assert_equal "$(jq -r .status.state <<<"$output")" CONTAINER_EXITED
	cri rmp "$POD"
	run cri ps
	assert_equal "$(jq '.containers // [] | length' <<<"$output")" 0
	[ -z "$(ls "$CRI_RUNC_ROOT/k8s.io" 2>/dev/null)" ] || fail "runc state left: $(ls "$CRI_RUNC_ROOT/k8s.io")"
	[ -z "$(cri_cgroups_left)" ] || fail "cgroups left: $(cri_cgroups_left)"
}

# ---- one pod under runk, shared by the tests below ----

# runk_pod: POD, C1, C2 and QEMU (the pod's one QEMU, recorded when the pod
# was made) of the runk pod, made on first use.
runk_pod() {
	local env=$BATS_FILE_TMPDIR/runk-pod.env
	require_vm
	if [ ! -f "$env" ]; then
		[ ! -e "$BATS_FILE_TMPDIR/runk-pod.removed" ] || fail "the runk pod was removed by an earlier test"
		run_pod runk pod-runk
		QEMU=$(TEST_DIR=$CRI_RUNK_ROOT qemus_of_test)
		printf 'POD=%q C1=%q C2=%q QEMU=%q\n' "$POD" "$C1" "$C2" "$QEMU" >"$env"
	fi
	source "$env"
}

# The pod's processes and QEMUs: everything naming runk's state root for the CRI.
pod_pids() {
	TEST_DIR=$CRI_RUNK_ROOT pids_of_test
}

pod_qemus() {
	TEST_DIR=$CRI_RUNK_ROOT qemus_of_test
}

# shim_pid ID: the container's PID by runk state (a shim or a member shim).
shim_pid() {
	cri_runk state "$1" | jq -r .pid
}

@test "runk pod through the CRI: the sandbox and both containers are one QEMU; each container's PID is its member shim" {
	runk_pod
	local sandbox_shim qemus c pid
	qemus=$(pod_qemus)
	[ "$(wc -w <<<"$qemus")" -eq 1 ] || fail "QEMUs of the pod: '$qemus' (want exactly one)"
	[ "$qemus" = "$QEMU" ] || fail "the pod's QEMU changed: $QEMU then $qemus"
	sandbox_shim=$(shim_pid "$POD")
	[ "$(qemu_of "$sandbox_shim")" = "$QEMU" ] || fail "the sandbox's shim $sandbox_shim does not run QEMU $QEMU"
	for c in "$C1" "$C2"; do
		pid=$(shim_pid "$c")
		[ "$(cat "/proc/$pid/comm")" = runk-member ] || fail "container $c: PID $pid is $(cat "/proc/$pid/comm"), not a member shim"
		[ -z "$(qemu_of "$pid")" ] || fail "container $c: its member shim $pid has a VM of its own: $(qemu_of "$pid")"
		run cri inspect "$c"
		assert_success
		[ "$(jq -r '.info.info' <<<"$output" | jq -r .pid)" = "$pid" ] || fail "ContainerStatus of $c: pid is not $pid: $output"
	done
}

@test "runk pod: nproc in each container is ceil(default_vcpus + 0.5 + 0.5); MemTotal is default_memory + the pod's 512 MiB" {
	runk_pod
	local want c mib
	want=$(expected_vcpus "$ENGINE_DIR/runk.conf" 1.0)
	for c in "$C1" "$C2"; do
		run cri exec "$c" -- nproc
		assert_success
		[ "$output" = "$want" ] || fail "nproc in $c: $output, want $want (host: $(nproc))"
		run cri exec "$c" -- sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo
		assert_success
		mib=$((output / 1024))
		# 256 + 512 MiB of RAM; the kernel keeps some for itself.
		[ "$mib" -gt 700 ] && [ "$mib" -le 768 ] || fail "MemTotal in $c: $mib MiB"
	done
}

# guest_limits ID: cpu.max and memory.max of the container's guest cgroup.
guest_limits() {
	cri exec "$1" -- sh -c 'g=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup); cat $g/cpu.max $g/memory.max'
}

@test "runk pod: each container's guest cgroup has its own cpu.max and memory.max; UpdateContainerResources changes one" {
	runk_pod
	local c
	for c in "$C1" "$C2"; do
		run guest_limits "$c"
		assert_success
		[ "$output" = $'50000 100000\n268435456' ] || fail "guest cgroup of $c: $output"
	done
	echo '{"cpu_period": 100000, "cpu_quota": 80000, "memory_limit_in_bytes": 201326592}' >"$BATS_TEST_TMPDIR/update.json"
	cri update "$C2" "$BATS_TEST_TMPDIR/update.json"
	run guest_limits "$C2"
	[ "$output" = $'80000 100000\n201326592' ] || fail "guest cgroup of $C2 after the update: $output"
	[ "$(cat /sys/fs/cgroup/cpu$CRI_CGROUP_PARENT/$C2/cpu.cfs_quota_us)" = 80000 ] ||
		fail "host cgroup of $C2 after the update: cpu.cfs_quota_us $(cat /sys/fs/cgroup/cpu$CRI_CGROUP_PARENT/$C2/cpu.cfs_quota_us)"
	run guest_limits "$C1"
	[ "$output" = $'50000 100000\n268435456' ] || fail "guest cgroup of $C1 changed with $C2's update: $output"
}

@test "runk pod: the containers are in the sandbox's ipc, uts, pid and network namespaces (the agent's side of issue 15)" {
	runk_pod
	local show='for n in ipc uts pid net; do printf "%s " $(readlink /proc/self/ns/$n); done; hostname'
	local sandbox c1 c2
	sandbox=$(cri_runk exec "$POD" sh -c "$show")
	c1=$(cri exec "$C1" -- sh -c "$show")
	c2=$(cri exec "$C2" -- sh -c "$show")
	[ "$c1" = "$sandbox" ] && [ "$c2" = "$sandbox" ] ||
		fail "namespaces and hostname: sandbox '$sandbox', c1 '$c1', c2 '$c2'"
	# The pod's PID namespace: the pause process and the other container are in sight.
	run cri exec "$C1" -- ps -o args
	assert_output --partial 'sleep 3600'
	assert_output --partial 'echo c2 started'
}

# containerd names the sandbox's network namespace in each container: the
# guest must join the VM's (the agent's side of issue 15).
@test "runk pod: a server in one container answers the other over 127.0.0.1" {
	runk_pod
	run cri exec "$C1" -- sh -c 'mkdir -p /tmp/www && echo hello-from-c1 >/tmp/www/index.html && httpd -p 127.0.0.1:8080 -h /tmp/www'
	assert_success
	# busybox wget crashes on a refused connection: nc, with the request by hand.
	run cri exec "$C2" -- sh -c 'printf "GET /index.html HTTP/1.0\r\n\r\n" | nc -w 10 127.0.0.1 8080'
	assert_success
	assert_output --partial hello-from-c1
}

@test "runk pod: logs at containerd's log path, ContainerStatus, ExecSync, and runk list/state/ps/events per container" {
	runk_pod
	local c name
	for name in c1 c2; do
		wait_until_text "$CRI_DIR/logs/pod-runk/$name.log" "stdout F $name started"
		wait_until_text "$CRI_DIR/logs/pod-runk/$name.log" "stderr F $name on stderr"
	done
	run cri inspect "$C1"
	assert_success
	assert_equal "$(jq -r .status.state <<<"$output")" CONTAINER_RUNNING
	assert_equal "$(jq -r .status.log_path <<<"$output")" "$CRI_DIR/logs/pod-runk/c1.log"
	run cri exec "$C2" -- sh -c 'echo out; echo err >&2; exit 3'
	[ "$status" -eq 3 ] || fail "ExecSync exit code: $status: $output"
	assert_output --partial out
	assert_output --partial err
	# runk's own view: three containers, each running, each with its own PID.
	run cri_runk list --format json
	assert_success
	for c in "$POD" "$C1" "$C2"; do
		[ "$(jq -r --arg id "$c" '.[] | select(.id == $id) | .status' <<<"$output")" = running ] ||
			fail "runk list: $c is not running: $output"
	done
	[ "$(jq -r '[.[].pid] | unique | length' <<<"$output")" -eq 3 ] || fail "runk list: PIDs not distinct: $output"
	run cri_runk ps --format json "$C1"
	assert_success
	[ "$(jq length <<<"$output")" -ge 1 ] || fail "runk ps $C1: $output"
	run timeout 60 "$ENGINE_RUNK" --root "$CRI_RUNK_ROOT/k8s.io" events --stats "$C2"
	assert_success
	[ "$(jq -r .id <<<"$output")" = "$C2" ] || fail "events --stats $C2: $output"
	# Its own guest cgroup: c2's limit since the update above, or its first one.
	[[ "$(jq -r .data.memory.usage.limit <<<"$output")" =~ ^(201326592|268435456)$ ]] ||
		fail "events --stats $C2: memory limit: $output"
}

@test "runk pod: host cgroups under the pod's cgroup parent: the sandbox's holds QEMU, each container's its member shim" {
	runk_pod
	local c pid hier
	for hier in cpu memory; do
		grep -qx "$QEMU" "/sys/fs/cgroup/$hier$CRI_CGROUP_PARENT/$POD/cgroup.procs" ||
			fail "QEMU $QEMU is not in the sandbox's $hier cgroup: $(cat "/sys/fs/cgroup/$hier$CRI_CGROUP_PARENT/$POD/cgroup.procs")"
	done
	for c in "$C1" "$C2"; do
		pid=$(shim_pid "$c")
		for hier in cpu memory; do
			[ "$(cat "/sys/fs/cgroup/$hier$CRI_CGROUP_PARENT/$c/cgroup.procs")" = "$pid" ] ||
				fail "the $hier cgroup of $c holds '$(cat "/sys/fs/cgroup/$hier$CRI_CGROUP_PARENT/$c/cgroup.procs")', not its member shim $pid"
			! grep -qx "$QEMU" "/sys/fs/cgroup/$hier$CRI_CGROUP_PARENT/$c/tasks" || fail "QEMU threads in the $hier cgroup of $c"
		done
	done
	# c1's own limits (c2's may have been updated by a test above).
	[ "$(cat "/sys/fs/cgroup/cpu$CRI_CGROUP_PARENT/$C1/cpu.cfs_quota_us")" = 50000 ] &&
		[ "$(cat "/sys/fs/cgroup/memory$CRI_CGROUP_PARENT/$C1/memory.limit_in_bytes")" = 268435456 ] ||
		fail "limits of $C1's host cgroup"
}

# The CRI-O replay's fixture (bats/pods-crio.bats) is this pod's bundles in
# CRI-O's dialect: it must follow what containerd writes for the pod above.
# RUNK_UPDATE_CRIO_BUNDLES=1 rewrites it.
@test "runk pod: its bundles in CRI-O's dialect (tests/cri/crio-dialect.jq) are the fixture tests/cri/crio-bundles/" {
	runk_pod
	local fixture=$SRCDIR/tests/cri/crio-bundles name id out
	mkdir -p "$fixture"
	for name in sandbox c1 c2; do
		case $name in sandbox) id=$POD ;; c1) id=$C1 ;; c2) id=$C2 ;; esac
		out=$BATS_TEST_TMPDIR/$name.json
		jq --arg pause "$CRI_PAUSE_IMAGE" -f "$SRCDIR/tests/cri/crio-dialect.jq" "$(cri_bundle "$id")/config.json" >"$out"
		# Nothing of containerd's is left: its paths, ids, annotations.
		! grep -qE "$ENGINE_DIR|$POD|$C1|$C2|io\.kubernetes\.cri\." "$out" ||
			fail "$name: containerd's values left in $(grep -nE "$ENGINE_DIR|$POD|$C1|$C2|io\.kubernetes\.cri\." "$out")"
		if [ "${RUNK_UPDATE_CRIO_BUNDLES:-}" = 1 ]; then
			cp "$out" "$fixture/$name.json"
		else
			diff -u "$fixture/$name.json" "$out" ||
				fail "$name: containerd's bundle no longer gives the fixture (RUNK_UPDATE_CRIO_BUNDLES=1 rewrites it)"
		fi
	done
}

@test "runk pod: StopContainer of one container leaves the VM and the other container running" {
	runk_pod
	local pid1
	pid1=$(shim_pid "$C1")
	cri stop "$C1" 10
	run cri inspect "$C1"
	assert_equal "$(jq -r .status.state <<<"$output")" CONTAINER_EXITED
	# Its trap answered the SIGTERM: no SIGKILL after the grace period.
	assert_equal "$(jq -r ".status.exit_code // 0, .status.reason" <<<"$output")" $'0\nCompleted'
	wait_gone "$pid1" 300 || fail "the member shim $pid1 of $C1 still runs"
	[ "$(pod_qemus)" = "$QEMU" ] || fail "QEMUs after StopContainer: '$(pod_qemus)', want $QEMU"
	run cri exec "$C2" -- echo c2 still here
	assert_success
	assert_output "c2 still here"
	[ "$(cri_runk state "$C2" | jq -r .status)" = running ]
	[ "$(cri_runk state "$POD" | jq -r .status)" = running ]
	cri rm "$C1"
	[ ! -e "/sys/fs/cgroup/cpu$CRI_CGROUP_PARENT/$C1" ] || fail "host cgroup of $C1 left after RemoveContainer"
	run cri_runk list -q
	assert_success
	refute_line "$C1"
}

@test "runk pod: StopPodSandbox + RemovePodSandbox leave no process, mount, cgroup or state" {
	runk_pod
	cri stopp "$POD"
	run cri inspect "$C2"
	assert_equal "$(jq -r .status.state <<<"$output")" CONTAINER_EXITED
	cri rmp "$POD"
	touch "$BATS_FILE_TMPDIR/runk-pod.removed"
	rm -f "$BATS_FILE_TMPDIR/runk-pod.env"
	run cri ps
	assert_equal "$(jq '.containers // [] | length' <<<"$output")" 0
	wait_gone "$QEMU" 300 || fail "QEMU $QEMU still runs"
	local left
	for _ in $(seq 100); do
		left=$(pod_pids)
		[ -z "$left" ] && break
		sleep 0.2
	done
	[ -z "$left" ] || fail "processes left: $(for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done)"
	[ -z "$(ls -A "$CRI_RUNK_ROOT/k8s.io" 2>/dev/null)" ] || fail "runk state left: $(ls -A "$CRI_RUNK_ROOT/k8s.io")"
	! grep -qF "$CRI_RUNK_ROOT" /proc/self/mounts || fail "mounts left: $(grep -F "$CRI_RUNK_ROOT" /proc/self/mounts)"
	[ -z "$(cri_cgroups_left)" ] || fail "cgroups left: $(cri_cgroups_left)"
	left=$(ls -d /sys/fs/cgroup/*/runk_overhead/"$POD" 2>/dev/null) || true
	[ -z "$left" ] || fail "overhead cgroups left: $left"
}

