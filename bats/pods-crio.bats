#!/usr/bin/env bats
# A pod in CRI-O's dialect, without CRI-O (not packaged here): the bundles
# containerd wrote for bats/pods.bats' runk pod, rewritten as CRI-O writes
# them (tests/cri/crio-dialect.jq; the fixture tests/cri/crio-bundles/),
# replayed with plain runk create/start/exec/kill/delete as conmon would.
# CRI-O's sandbox names no pod size: the VM has default_maxvcpus vCPUs
# present and ceil(default_vcpus + Σ running containers' quota/period)
# online, and default_memory + pod_memory of RAM.  Its ipc and uts namespaces
# are pinned files (CRI-O's pinns; here `unshare --ipc=FILE`), named by the
# same path in every container's config.json.
#
# One pod serves the file (one VM boot): made by the first test that needs
# it, removed by the last one; the tests run in file order.

load helpers
load engines
load cri

FIXTURE=$BATS_TEST_DIRNAME/../tests/cri/crio-bundles

setup_file() {
	setup_runk
	# A small pod_memory: the VM is default_memory + pod_memory.
	printf '[hypervisor]\ndefault_vcpus = 0.5\npod_memory = 512\n' >>"$RUNK_CONF"
	CRI_CGROUP_PARENT=/runk-bats-crio-$$
	export TEST_DIR ROOT RUNK_CONF CRI_CGROUP_PARENT
}

teardown_file() {
	teardown_runk_pod_pins
	teardown_runk
	cri_cgroups_remove
}

setup() {
	require_vm
}

teardown_runk_pod_pins() {
	local pin
	for pin in "$TEST_DIR"/ns/*/*; do
		umount "$pin" 2>/dev/null || true
	done
}

# fill NAME DIR [SANDBOX_PID]: the fixture's NAME.json as DIR/config.json.
fill() {
	local name=$1 dir=$2 id
	id=$(cat "$TEST_DIR/$name.id")
	mkdir -p "$dir"
	fill_template "$FIXTURE/$name.json" "$dir/config.json" \
		SANDBOX_ID="$SB" ID="$id" ROOTFS="$(busybox_rootfs)" USERDATA="$TEST_DIR/userdata" \
		NS_DIR="$TEST_DIR/ns" PIN="$PIN" SANDBOX_PID="${3:-0}" CGROUP_PARENT="$CRI_CGROUP_PARENT" \
		LOG_DIR="$TEST_DIR/logs" HOSTNAME="$(hostname)"
}

# in_guest ID CMD...: runk exec, its output.
in_guest() {
	local id=$1
	shift
	timeout 120 "$RUNK_BIN" --root "$ROOT" exec "$id" "$@"
}

# create_started NAME: runk create (stdio to files, as conmon's pipes) and start.
create_started() {
	local name=$1 id
	id=$(cat "$TEST_DIR/$name.id")
	runk create --bundle "$TEST_DIR/$name" --pid-file "$TEST_DIR/$name.pid" "$id" \
		</dev/null >"$TEST_DIR/$name.out" 2>"$TEST_DIR/$name.err" ||
		fail "runk create $name: $(cat "$TEST_DIR/$name.err")"
	runk start "$id"
}

# crio_pod: SB, C1, C2, QEMU and what the sandbox saw before its containers
# came (ALONE_NPROC, ALONE_PRESENT, ALONE_MIB) and with c1 only (C1_NPROC).
crio_pod() {
	local env=$TEST_DIR/pod.env name
	if [ ! -f "$env" ]; then
		[ ! -e "$TEST_DIR/pod.removed" ] || fail "the pod was removed by an earlier test"
		[ -f "$FIXTURE/sandbox.json" ] || fail "no fixture in $FIXTURE"
		for name in sandbox c1 c2; do
			od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$TEST_DIR/$name.id"
		done
		SB=$(cat "$TEST_DIR/sandbox.id")
		C1=$(cat "$TEST_DIR/c1.id")
		C2=$(cat "$TEST_DIR/c2.id")
		PIN=$(cat /proc/sys/kernel/random/uuid)
		# What CRI-O prepares: the sandbox's run dir and its pinned namespaces.
		mkdir -p "$TEST_DIR/userdata/shm" "$TEST_DIR/ns/ipcns" "$TEST_DIR/ns/utsns" "$TEST_DIR/logs"
		hostname >"$TEST_DIR/userdata/hostname"
		echo 'nameserver 192.0.2.53' >"$TEST_DIR/userdata/resolv.conf"
		touch "$TEST_DIR/ns/ipcns/$PIN" "$TEST_DIR/ns/utsns/$PIN"
		unshare --ipc="$TEST_DIR/ns/ipcns/$PIN" --uts="$TEST_DIR/ns/utsns/$PIN" true

		fill sandbox "$TEST_DIR/sandbox"
		create_started sandbox
		ALONE_NPROC=$(in_guest "$SB" nproc)
		ALONE_PRESENT=$(in_guest "$SB" cat /sys/devices/system/cpu/present)
		ALONE_MIB=$(($(in_guest "$SB" sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024))
		fill c1 "$TEST_DIR/c1" "$(runk state "$SB" | jq -r .pid)"
		fill c2 "$TEST_DIR/c2" "$(runk state "$SB" | jq -r .pid)"
		create_started c1
		C1_NPROC=$(in_guest "$C1" nproc)
		create_started c2
		QEMU=$(qemus_of_test)
		printf '%s=%q\n' SB "$SB" C1 "$C1" C2 "$C2" PIN "$PIN" QEMU "$QEMU" ALONE_NPROC "$ALONE_NPROC" \
			ALONE_PRESENT "$ALONE_PRESENT" ALONE_MIB "$ALONE_MIB" C1_NPROC "$C1_NPROC" >"$env"
	fi
	source "$env"
}

@test "CRI-O's dialect: the sandbox alone has every vCPU present, ceil(default_vcpus) online, default_memory + pod_memory of RAM" {
	crio_pod
	local host
	host=$(nproc)
	[ "$ALONE_PRESENT" = "$([ "$host" -gt 1 ] && echo "0-$((host - 1))" || echo 0)" ] ||
		fail "vCPUs present: $ALONE_PRESENT (host: $host CPUs)"
	[ "$ALONE_NPROC" = "$(expected_vcpus "$RUNK_CONF" 0)" ] || fail "vCPUs online before any container: $ALONE_NPROC"
	# 256 + 512 MiB; the kernel keeps some for itself.
	[ "$ALONE_MIB" -gt 700 ] && [ "$ALONE_MIB" -le 768 ] || fail "MemTotal $ALONE_MIB MiB"
}

@test "CRI-O's dialect: the sandbox and both containers are one QEMU; each container's PID is its member shim" {
	crio_pod
	local qemus c pid
	qemus=$(qemus_of_test)
	[ "$(wc -w <<<"$qemus")" -eq 1 ] && [ "$qemus" = "$QEMU" ] || fail "QEMUs of the pod: '$qemus', at creation '$QEMU'"
	[ "$(qemu_of "$(runk state "$SB" | jq -r .pid)")" = "$QEMU" ] || fail "the sandbox's shim does not run QEMU $QEMU"
	for c in c1 c2; do
		pid=$(cat "$TEST_DIR/$c.pid")
		[ "$(runk state "$(cat "$TEST_DIR/$c.id")" | jq -r .pid)" = "$pid" ] || fail "$c: runk state's pid is not the --pid-file's $pid"
		[ "$(cat "/proc/$pid/comm")" = runk-member ] || fail "$c: PID $pid is $(cat "/proc/$pid/comm")"
		[ -z "$(qemu_of "$pid")" ] || fail "$c: its member shim has a VM of its own"
	done
}

@test "CRI-O's dialect: vCPUs online follow the containers: ceil(default_vcpus + 0.5) with c1, ceil(default_vcpus + 0.5 + 0.5) with both" {
	crio_pod
	local want c
	[ "$C1_NPROC" = "$(expected_vcpus "$RUNK_CONF" 0.5)" ] || fail "nproc with c1 only: $C1_NPROC, want $(expected_vcpus "$RUNK_CONF" 0.5)"
	want=$(expected_vcpus "$RUNK_CONF" 1.0)
	for c in "$SB" "$C1" "$C2"; do
		run in_guest "$c" nproc
		assert_success
		[ "$output" = "$want" ] || fail "nproc in $c with both containers: $output, want $want (host: $(nproc))"
	done
}

@test "CRI-O's dialect: each container's guest cgroup has its own cpu.max, memory.max and pids.max" {
	crio_pod
	local c
	for c in "$C1" "$C2"; do
		run in_guest "$c" sh -c 'g=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup); cat $g/cpu.max $g/memory.max $g/pids.max'
		assert_success
		[ "$output" = $'50000 100000\n268435456\n1024' ] || fail "guest cgroup of $c: $output"
	done
}

@test "CRI-O's dialect: the containers are in the sandbox's pinned ipc and uts and its pid namespace (the agent's side of issue 15)" {
	crio_pod
	local show='for n in ipc uts pid net; do printf "%s " $(readlink /proc/self/ns/$n); done; hostname'
	local sandbox c1 c2
	sandbox=$(in_guest "$SB" sh -c "$show")
	c1=$(in_guest "$C1" sh -c "$show")
	c2=$(in_guest "$C2" sh -c "$show")
	[ "$c1" = "$sandbox" ] && [ "$c2" = "$sandbox" ] ||
		fail "namespaces and hostname: sandbox '$sandbox', c1 '$c1', c2 '$c2'"
	[ "${sandbox##* }" = "$(hostname)" ] || fail "the pod's hostname is '${sandbox##* }', CRI-O's config says '$(hostname)'"
}

@test "CRI-O's dialect: a server in one container answers the other over 127.0.0.1; output reaches the caller's stdio" {
	crio_pod
	run in_guest "$C1" sh -c 'mkdir -p /tmp/www && echo hello-from-c1 >/tmp/www/index.html && httpd -p 127.0.0.1:8080 -h /tmp/www'
	assert_success
	run in_guest "$C2" sh -c 'printf "GET /index.html HTTP/1.0\r\n\r\n" | nc -w 10 127.0.0.1 8080'
	assert_success
	assert_output --partial hello-from-c1
	wait_until_text "$TEST_DIR/c1.out" "c1 started"
	wait_until_text "$TEST_DIR/c1.err" "c1 on stderr"
}

@test "CRI-O's dialect: host cgroups <parent>/crio-<id>: the sandbox's holds QEMU, each container's its member shim; runk list" {
	crio_pod
	local c id hier
	for hier in cpu memory; do
		grep -qx "$QEMU" "/sys/fs/cgroup/$hier$CRI_CGROUP_PARENT/crio-$SB/cgroup.procs" ||
			fail "QEMU is not in the sandbox's $hier cgroup"
		for c in c1 c2; do
			id=$(cat "$TEST_DIR/$c.id")
			[ "$(cat "/sys/fs/cgroup/$hier$CRI_CGROUP_PARENT/crio-$id/cgroup.procs")" = "$(cat "$TEST_DIR/$c.pid")" ] ||
				fail "the $hier cgroup of $c holds '$(cat "/sys/fs/cgroup/$hier$CRI_CGROUP_PARENT/crio-$id/cgroup.procs")'"
		done
	done
	run runk list --format json
	assert_success
	[ "$(jq -r '[.[] | select(.status == "running") | .id] | sort | join(" ")' <<<"$output")" = "$(printf '%s\n' "$SB" "$C1" "$C2" | sort | xargs)" ] ||
		fail "runk list: $output"
}

# Taking vCPUs offline is the agent's side of issue 15.
@test "CRI-O's dialect: containers deleted one by one leave the VM and give their vCPUs back; runk update of a quota counts" {
	crio_pod
	local with_c2 updated limits without
	runk kill "$C1" TERM
	wait_for_status "$C1" stopped
	runk delete "$C1"
	run in_guest "$C2" echo c2 still here
	assert_output "c2 still here"
	with_c2=$(in_guest "$SB" nproc)
	# c2 alone, from 0.5 to 1 CPU.
	runk update --cpu-period 100000 --cpu-quota 100000 "$C2"
	updated=$(in_guest "$SB" nproc)
	limits=$(in_guest "$C2" sh -c 'cat /sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)/cpu.max')
	runk kill "$C2" KILL
	wait_for_status "$C2" stopped
	runk delete "$C2"
	without=$(in_guest "$SB" nproc)
	[ "$(qemus_of_test)" = "$QEMU" ] || fail "QEMUs after the containers left: $(qemus_of_test)"
	[ "$with_c2" = "$(expected_vcpus "$RUNK_CONF" 0.5)" ] || fail "nproc with c2 only: $with_c2"
	[ "$limits" = "100000 100000" ] || fail "c2's cpu.max after runk update: $limits"
	[ "$updated" = "$(expected_vcpus "$RUNK_CONF" 1.0)" ] || fail "nproc with c2 updated to 1 CPU: $updated"
	[ "$without" = "$(expected_vcpus "$RUNK_CONF" 0)" ] || fail "nproc after both containers left: $without"
}

@test "CRI-O's dialect: the sandbox's kill and delete leave no process, mount, cgroup or state" {
	crio_pod
	local id
	runk kill "$SB" KILL
	wait_for_status "$SB" stopped
	# Containers an earlier test did not get to delete stopped with the pod's VM.
	for id in "$C1" "$C2"; do
		[ ! -d "$ROOT/$id" ] || runk delete --force "$id"
	done
	runk delete "$SB"
	touch "$TEST_DIR/pod.removed"
	rm -f "$TEST_DIR/pod.env"
	teardown_runk_pod_pins
	assert_nothing_left "$SB" "$C1" "$C2"
	[ -z "$(cri_cgroups_left)" ] || fail "host cgroups left: $(cri_cgroups_left)"
}
