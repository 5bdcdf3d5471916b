#!/usr/bin/env bats
# podman drives runk: run, exit status, run -d + exec + logs + stop + rm,
# signals, restart, terminals, pause, top/stats, sizing and cgroups, update,
# the common run options, pods, and podman's own clean-up.
# A private podman config, storage and image: see engines.bash.
#
# Every podman container boots a VM, so the tests that only look at or adjust
# a running container share one, p-shared (started in setup_file, removed by
# the last test), with a host directory mounted at /data.

load helpers
load engines

SHARED=p-shared
# --cgroup-parent's cgroup (removed by teardown, with the conmon cgroup podman makes in it).
CG_PARENT=/runk-bats-podman

setup_file() {
	command -v podman >/dev/null || return 0
	engine_setup
	podman_setup || return 0
	mkdir -p "$ENGINE_DIR/vol"
	chmod 777 "$ENGINE_DIR/vol" # the tests write to it as other users too
	echo from-host >"$ENGINE_DIR/vol/in"
	# 1.5 CPUs + default_vcpus 1 -> 3 vCPUs (clamped to the host); 256 MiB -> 512 MiB of RAM.
	if ! timeout -k 10 300 podman --runtime runk run -d --name "$SHARED" --cpus 1.5 --memory 256m \
		-v "$ENGINE_DIR/vol:/data" "$ENGINE_IMAGE" sh -c 'while :; do sleep 1; done' \
		>"$ENGINE_DIR/shared.out" 2>&1; then
		echo "# $SHARED: $(cat "$ENGINE_DIR/shared.out")" >&3
	fi
}

teardown_file() {
	engine_teardown
	cgroup_parent_remove "$CG_PARENT"
}

setup() {
	require_vm
	require_engine podman conmon
	[ -n "${PODMAN_DRIVER:-}" ] || fail "podman set-up failed (see setup_file)"
	VOL=$ENGINE_DIR/vol
}

teardown() {
	local c
	[ -n "${PODMAN_DRIVER:-}" ] || return 0
	# Everything but the shared container; it is left running, not paused.
	for c in $(podman ps -aq --no-trunc 2>/dev/null); do
		[ "$c" = "$(shared_id)" ] || podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
	done
	podman pod rm -af -t 0 >/dev/null 2>&1 || true
	cgroup_parent_remove "$CG_PARENT"
	if [ "$(podman inspect --format '{{.State.Status}}' "$SHARED" 2>/dev/null)" = paused ]; then
		podman unpause "$SHARED" >/dev/null 2>&1 || true
	fi
}

# podman with runk, bounded in time.
pr() {
	timeout -k 10 300 podman --runtime runk "$@"
}

shared_id() {
	podman inspect --format '{{.Id}}' "$SHARED" 2>/dev/null
}

require_shared() {
	[ "$(podman inspect --format '{{.State.Status}}' "$SHARED" 2>&1)" = running ] ||
		fail "the shared container is not running: $(cat "$ENGINE_DIR/shared.out") $(podman ps -a)"
}

# runk's state for a podman container (podman passes no --root: runk's default).
runk_state_dir() {
	echo "/run/runk/$1"
}

# The sandbox cgroup podman gave a container (its linux.cgroupsPath).
sandbox_cgroup() {
	jq -r .linux.cgroupsPath "$(podman inspect --format '{{.OCIConfigPath}}' "$1")"
}

# The cgroups of container ID (sandbox CGPATH and runk's overhead one) are gone.
assert_cgroups_gone() {
	local id=$1 cgpath=$2 h
	for h in cpu memory pids freezer; do
		[ ! -e "/sys/fs/cgroup/$h$cgpath" ] || fail "cgroup $h$cgpath left behind"
		[ ! -e "/sys/fs/cgroup/$h/runk_overhead/$id" ] ||
			fail "cgroup $h/runk_overhead/$id left behind"
	done
}

# --cgroup-parent's directory, with the conmon cgroup podman makes in it.
cgroup_parent_remove() {
	local d
	for d in /sys/fs/cgroup/*"$1" /sys/fs/cgroup/*/"${1#/}"; do
		[ -d "$d" ] || continue
		rmdir "$d/conmon" 2>/dev/null || true
		rmdir "$d" 2>/dev/null || true
	done
}

# wait_for_podman_status NAME STATUS: podman's status of NAME, at most 120 s.
wait_for_podman_status() {
	local got i
	for i in $(seq 600); do
		got=$(podman inspect --format '{{.State.Status}}' "$1" 2>/dev/null) || true
		[ "$got" = "$2" ] && return 0
		sleep 0.2
	done
	fail "container $1: status '$got', waited for '$2'"
}

# wait_for_file FILE: FILE exists and is not empty, at most 120 s.
wait_for_file() {
	local i
	for i in $(seq 600); do
		[ -s "$1" ] && return 0
		sleep 0.2
	done
	fail "no $1 after 120 s"
}

# under_script LOG CMD LINE...: run CMD on a new 33x97 terminal under script(1),
# its output in LOG; each LINE is typed once the shell prompt appeared once
# more (the first after the first prompt).  Returns CMD's exit status.
under_script() {
	local log=$1 cmd=$2
	shift 2
	local fifo=$BATS_TEST_TMPDIR/tty-input
	rm -f "$fifo" "$log"
	mkfifo "$fifo"
	(
		exec 3>"$fifo"
		n=1
		for line in "$@"; do
			for i in $(seq 600); do
				[ "$(grep -o '/ # ' "$log" 2>/dev/null | wc -l)" -ge "$n" ] && break
				sleep 0.2
			done
			printf '%s\n' "$line" >&3
			n=$((n + 1))
		done
	) &
	timeout -k 10 120 script -q -e -f -c "stty rows 33 cols 97; exec $cmd" "$log" <"$fifo" >/dev/null
}

@test "podman --runtime runk run --rm echo hi" {
	run --separate-stderr timeout -k 10 300 podman --runtime runk run --rm --name p-echo "$ENGINE_IMAGE" echo hi
	[ "$status" -eq 0 ] || fail "status $status: $output $stderr"
	[ "$output" = hi ] || fail "output: $output (stderr: $stderr)"
	# The VM's kernel, not the host's.
	run timeout -k 10 300 podman --runtime runk run --rm "$ENGINE_IMAGE" uname -r
	assert_success
	[ "$output" != "$(uname -r)" ] || fail "the container ran on the host's kernel"
	! podman container exists p-echo || fail "--rm left p-echo: $(podman ps -a)"
}

@test "podman run: the exit code passes through" {
	run timeout -k 10 300 podman --runtime runk run --rm "$ENGINE_IMAGE" sh -c 'echo before; exit 3'
	[ "$status" -eq 3 ] || fail "status $status: $output"
	[ "$output" = before ] || fail "output: $output"
	# A command that is not there: 127, and the reason.
	run -127 timeout -k 10 300 podman --runtime runk run --rm "$ENGINE_IMAGE" /nonexistent
	assert_output --partial /nonexistent
	# The container's PID 1 ignores a signal it has no handler for, even SIGKILL
	# sent from inside: as with runc, `kill -9 $$` does nothing.
	run timeout -k 10 300 podman --runtime runk run --rm "$ENGINE_IMAGE" sh -c 'kill -9 $$; echo survived'
	assert_success
	assert_output survived
	# With --init, sh is not PID 1: kill -9 kills it and the init reports 128+9.
	run timeout -k 10 300 podman --runtime runk run --rm --init "$ENGINE_IMAGE" sh -c 'echo pid $$; kill -9 $$; echo survived'
	[ "$status" -eq 137 ] || fail "status $status after kill -9 inside: $output"
	assert_output "pid 2"
}

@test "podman run -d, inspect, exec, logs, stop, rm" {
	local cid
	cid=$(timeout -k 10 300 podman --runtime runk run -d "$ENGINE_IMAGE" \
		sh -c 'echo out-line; echo err-line >&2; trap "echo got-term; exit 0" TERM; while :; do sleep 0.1; done')
	[ -n "$cid" ]
	run podman inspect --format '{{.State.Status}} {{.State.Pid}} {{.OCIRuntime}}' "$cid"
	assert_success
	local status_ pid runtime
	read -r status_ pid runtime <<<"$output"
	[ "$status_" = running ] || fail "inspect: $output"
	[ "$runtime" = runk ] || fail "inspect: $output"
	# podman's PID is the shim's, which runk's state reports.
	[ "$("$ENGINE_RUNK" state "$cid" | jq -r .pid)" = "$pid" ] ||
		fail "podman's pid $pid, runk state: $("$ENGINE_RUNK" state "$cid")"

	run timeout -k 10 300 podman exec "$cid" sh -c 'echo "exec-out $(id -u)"'
	assert_success
	[ "$output" = "exec-out 0" ] || fail "exec: $output"
	run timeout -k 10 300 podman exec -e X=y -w /etc -u 65534 "$cid" sh -c 'echo "$X $PWD $(id -u)"'
	assert_success
	[ "$output" = "y /etc 65534" ] || fail "exec with env, workdir, user: $output"
	run timeout -k 10 300 podman exec "$cid" sh -c 'exit 4'
	[ "$status" -eq 4 ] || fail "exec exit status $status: $output"

	local i
	for i in $(seq 300); do
		podman logs "$cid" 2>&1 | grep -q err-line && break
		sleep 0.2
	done
	run podman logs "$cid"
	assert_line out-line
	assert_line err-line

	run timeout -k 10 300 podman stop -t 30 "$cid"
	assert_success
	run podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$cid"
	[ "$output" = "exited 0" ] || fail "after stop: $output"
	run podman logs "$cid"
	assert_line got-term

	podman rm "$cid"
	! podman container exists "$cid" || fail "rm left $cid: $(podman ps -a)"
	assert_engine_nothing_left "$cid" "$(runk_state_dir "$cid")"
}

@test "podman shows runk's error from its JSON log; a failed create leaves nothing" {
	run --separate-stderr pr run --rm --name p-bad --annotation org.runk.hypervisor.default_memory=384 \
		"$ENGINE_IMAGE" true
	[ "$status" -eq 126 ] || fail "status $status: $stderr"
	[[ "$stderr" == *'Error: OCI runtime error: runk: annotation `org.runk.hypervisor.default_memory` is not allowed'* ]] ||
		fail "stderr: $stderr"
	# podman's delete --force after the failed create is no error (as with runc).
	[[ "$stderr" != *"after creation failed"* ]] || fail "stderr: $stderr"
	! podman container exists p-bad || fail "p-bad left behind"
	assert_engine_nothing_left p-bad
}

@test "podman exec -d: the detached process runs on after podman returns" {
	require_shared
	run pr exec -d "$SHARED" sh -c 'sleep 1; echo "detached $(id -u) $PWD" >/tmp/execd'
	assert_success
	[[ "$output" =~ ^[0-9a-f]{64}$ ]] || fail "exec -d printed: $output"
	# podman returned before the process wrote anything.
	run pr exec "$SHARED" sh -c 'for i in $(seq 300); do [ -s /tmp/execd ] && break; sleep 0.1; done; cat /tmp/execd'
	assert_success
	assert_output "detached 0 /"
	run pr exec -d -e V=w -w /etc -u 65534 "$SHARED" sh -c 'echo "$V $PWD $(id -u)" >/data/execd2'
	assert_success
	wait_for_file "$VOL/execd2"
	[ "$(cat "$VOL/execd2")" = "w /etc 65534" ] || fail "exec -d with env, workdir, user: $(cat "$VOL/execd2")"
}

@test "podman stop -t 2: TERM reaches a trap; without one, SIGKILL after 2 s" {
	local trapped plain start elapsed
	trapped=$(pr run -d "$ENGINE_IMAGE" sh -c 'trap "echo got-term; exit 42" TERM; echo up; while :; do sleep 0.1; done')
	plain=$(pr run -d "$ENGINE_IMAGE" sh -c 'echo up; while :; do sleep 0.1; done')
	for c in "$trapped" "$plain"; do
		for i in $(seq 300); do
			podman logs "$c" 2>/dev/null | grep -q up && break
			sleep 0.2
		done
	done
	run pr stop -t 2 "$trapped"
	assert_success
	run podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$trapped"
	assert_output "exited 42"
	run podman logs "$trapped"
	assert_line got-term

	start=$(date +%s%N)
	run --separate-stderr pr stop -t 2 "$plain"
	elapsed=$((($(date +%s%N) - start) / 1000000))
	assert_success
	[[ "$stderr" == *"resorting to SIGKILL"* ]] || fail "no SIGKILL fallback: $stderr"
	[ "$elapsed" -ge 2000 ] || fail "stopped after $elapsed ms: the 2 s of grace were not given"
	run podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$plain"
	assert_output "exited 137"
}

@test "podman kill, restart, rm -f" {
	local cid pid1 pid2
	cid=$(pr run -d "$ENGINE_IMAGE" sh -c 'echo started; while :; do sleep 0.2; done')
	pid1=$(podman inspect --format '{{.State.Pid}}' "$cid")
	for i in $(seq 300); do
		podman logs "$cid" | grep -q started && break
		sleep 0.2
	done
	run pr kill "$cid"
	assert_success
	wait_for_podman_status "$cid" exited
	run podman inspect --format '{{.State.ExitCode}}' "$cid"
	assert_output 137

	run pr restart "$cid"
	assert_success
	run podman inspect --format '{{.State.Status}} {{.State.Pid}}' "$cid"
	read -r st pid2 <<<"$output"
	[ "$st" = running ] || fail "after restart: $output"
	[ "$pid2" != "$pid1" ] || fail "restart kept the old shim $pid1"
	[ "$("$ENGINE_RUNK" state "$cid" | jq -r '.status + " " + (.pid|tostring)')" = "running $pid2" ] ||
		fail "runk state after restart: $("$ENGINE_RUNK" state "$cid")"
	for i in $(seq 300); do
		[ "$(podman logs "$cid" | grep -c started)" -ge 2 ] && break
		sleep 0.2
	done
	[ "$(podman logs "$cid" | grep -c started)" -eq 2 ] || fail "logs after restart: $(podman logs "$cid")"
	run pr exec "$cid" true
	assert_success

	local cgpath
	cgpath=$(sandbox_cgroup "$cid")
	run pr rm -f -t 0 "$cid"
	assert_success
	! podman container exists "$cid" || fail "rm -f left $cid"
	assert_engine_nothing_left "$cid" "$(runk_state_dir "$cid")"
	assert_cgroups_gone "$cid" "$cgpath"
}

@test "podman run -it and exec -it under script: the prompt, and stty size is the terminal's" {
	require_shared
	local log=$BATS_TEST_TMPDIR/tty.log
	run under_script "$log" "podman --runtime runk run -it --rm $ENGINE_IMAGE sh" 'stty size' 'exit 5'
	[ "$status" -eq 5 ] || fail "run -it: status $status: $(cat "$log")"
	grep -q '^/ # ' "$log" || fail "no prompt: $(cat "$log")"
	tr -d '\r' <"$log" | grep -qx '33 97' || fail "stty size: $(cat -A "$log")"

	run under_script "$log" "podman exec -it $SHARED sh" 'stty size; tty' 'exit 6'
	[ "$status" -eq 6 ] || fail "exec -it: status $status: $(cat "$log")"
	grep -q '/ # ' "$log" || fail "no prompt: $(cat "$log")"
	tr -d '\r' <"$log" | grep -qx '33 97' || fail "stty size: $(cat -A "$log")"
	tr -d '\r' <"$log" | grep -qx '/dev/pts/[0-9]*' || fail "tty: $(cat -A "$log")"
}

@test "podman pause/unpause: the container is frozen, then runs on" {
	require_shared
	rm -f "$VOL/count"
	pr exec -d "$SHARED" sh -c 'i=0; echo $$ >/data/count.pid; while :; do i=$((i+1)); echo $i >/data/count; sleep 0.2; done'
	for i in $(seq 300); do
		[ "$(cat "$VOL/count" 2>/dev/null || echo 0)" -ge 3 ] && break
		sleep 0.2
	done
	run pr pause "$SHARED"
	assert_success
	run podman inspect --format '{{.State.Status}}' "$SHARED"
	assert_output paused
	[ "$("$ENGINE_RUNK" state "$(shared_id)" | jq -r .status)" = paused ]
	local a b
	a=$(cat "$VOL/count")
	sleep 2
	b=$(cat "$VOL/count")
	[ "$a" = "$b" ] || fail "the counter went from $a to $b while paused"
	run pr unpause "$SHARED"
	assert_success
	run podman inspect --format '{{.State.Status}}' "$SHARED"
	assert_output running
	for i in $(seq 300); do
		[ "$(cat "$VOL/count")" -gt "$b" ] && break
		sleep 0.2
	done
	[ "$(cat "$VOL/count")" -gt "$b" ] || fail "the counter stayed at $b after unpause"
	pr exec "$SHARED" sh -c 'kill $(cat /data/count.pid)'
}

@test "podman top (ps in the guest) and stats --no-stream" {
	require_shared
	# ps(1) options: podman runs ps inside the container, i.e. in the VM.
	run pr top "$SHARED" -o pid,args
	assert_success
	assert_line --regexp '^ +1 sh -c while :; do sleep 1; done$'
	run pr top "$SHARED" -ef
	assert_success
	assert_line --regexp '^ +1 root +sh -c while'
	# stats reads the cgroup of the container's PID: the shim's overhead cgroup, where
	# QEMU's memory is charged.
	run pr stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' "$SHARED"
	assert_success
	local name mem
	read -r name mem _ <<<"$output"
	[ "$name" = "$SHARED" ] || fail "stats: $output"
	[[ "$mem" =~ ^[0-9.]+[kMG]i?B$ ]] && [[ ! "$mem" =~ ^0(\.0+)?[kMG]?B$ ]] || fail "memory usage: $output"
	run pr stats --no-stream --format json "$SHARED"
	assert_success
	[ "$(jq -r '.[0].mem_usage' <<<"$output" | tr -d '[:alpha:] ')" != 0 ] || fail "stats json: $output"
}

@test "podman --cpus 1.5 --memory 256m: the VM's size, the sandbox cgroup's limits; update" {
	require_shared
	local host_cpus id cg
	host_cpus=$(nproc)
	id=$(shared_id)
	run pr exec "$SHARED" sh -c 'nproc; echo $(($(sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo) / 1024))'
	assert_success
	# ceil(default_vcpus 1 + 1.5) = 3, clamped to the host's CPUs.
	[ "${lines[0]}" -eq "$((host_cpus < 3 ? host_cpus : 3))" ] || fail "nproc ${lines[0]}, host $host_cpus"
	# default_memory 256 + 256 MiB; the guest kernel keeps some.
	[ "${lines[1]}" -gt 440 ] && [ "${lines[1]}" -le 512 ] || fail "MemTotal ${lines[1]} MiB"
	cg=$(sandbox_cgroup "$SHARED")
	[ "$cg" = "/libpod_parent/libpod-$id" ] || fail "cgroupsPath $cg"
	assert_equal "$(cat "/sys/fs/cgroup/cpu$cg/cpu.cfs_quota_us")" 150000
	assert_equal "$(cat "/sys/fs/cgroup/cpu$cg/cpu.cfs_period_us")" 100000
	# The VM's RAM (256 + 256 MiB) + memory_overhead (64 MiB).
	assert_equal "$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")" $(((256 + 256 + 64) * 1024 * 1024))
	# QEMU's vCPU threads are there.
	[ -n "$(cat "/sys/fs/cgroup/cpu$cg/tasks")" ] || fail "no thread in the sandbox cgroup"
	# The container's own limits, in the guest.
	run pr exec "$SHARED" sh -c 'g=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup); cat $g/memory.max $g/cpu.max'
	assert_success
	assert_line --index 0 268435456
	assert_line --index 1 "150000 100000"

	run pr update --cpus 0.5 --memory 128m "$SHARED"
	assert_success
	assert_equal "$(cat "/sys/fs/cgroup/cpu$cg/cpu.cfs_quota_us")" 50000
	# A VM cannot shrink: the host limit stays; the guest enforces the new one.
	assert_equal "$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")" $(((256 + 256 + 64) * 1024 * 1024))
	run pr exec "$SHARED" sh -c 'g=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup); cat $g/memory.max $g/cpu.max'
	assert_success
	assert_line --index 0 134217728
	assert_line --index 1 "50000 100000"
	run pr update --cpus 1.5 --memory 256m "$SHARED"
	assert_success
	assert_equal "$(cat "/sys/fs/cgroup/cpu$cg/cpu.cfs_quota_us")" 150000
}

@test "podman --cgroup-parent: the sandbox cgroup under it, removed with the container" {
	local cid cg
	cid=$(pr run -d --cgroup-parent "$CG_PARENT" --cpus 0.5 "$ENGINE_IMAGE" sleep 1000)
	cg=$(sandbox_cgroup "$cid")
	[ "$cg" = "$CG_PARENT/libpod-$cid" ] || fail "cgroupsPath $cg"
	assert_equal "$(cat "/sys/fs/cgroup/cpu$cg/cpu.cfs_quota_us")" 50000
	[ -n "$(cat "/sys/fs/cgroup/cpu$cg/tasks")" ] || fail "no QEMU thread in $cg"
	run pr rm -f -t 0 "$cid"
	assert_success
	assert_engine_nothing_left "$cid" "$(runk_state_dir "$cid")"
	assert_cgroups_gone "$cid" "$cg"
	cgroup_parent_remove "$CG_PARENT"
	[ ! -e "/sys/fs/cgroup/cpu$CG_PARENT" ] || fail "$CG_PARENT left behind"
}

@test "podman run --read-only, --tmpfs, --cap-drop ALL, -v, --env-file, --hostname" {
	printf 'A=1\nB=two words\n# a comment\n' >"$BATS_TEST_TMPDIR/env"
	rm -f "$VOL/out"
	run --separate-stderr pr run --rm --read-only --tmpfs /t --tmpfs /etc --cap-drop ALL \
		-v "$VOL:/data" --env-file "$BATS_TEST_TMPDIR/env" --hostname hn-runk "$ENGINE_IMAGE" sh -c '
		touch /x 2>/dev/null && echo root-writable
		grep " /t " /proc/mounts | cut -d" " -f3
		echo in-tmpfs >/t/f && cat /t/f
		head -1 /etc/passwd
		cat /data/in; echo from-guest >/data/out
		grep ^CapEff /proc/self/status
		echo "A=$A B=$B"
		hostname'
	assert_success
	refute_line root-writable
	assert_line --index 0 tmpfs
	assert_line --index 1 in-tmpfs
	# --tmpfs copies up what it hides: /etc keeps the image's passwd.
	assert_line --index 2 'root:x:0:0:root:/root:/bin/sh'
	assert_line --index 3 from-host
	assert_line --index 4 --regexp '^CapEff:\s+0000000000000000$'
	assert_line --index 5 'A=1 B=two words'
	assert_line --index 6 hn-runk
	[ "$(cat "$VOL/out")" = from-guest ] || fail "the host did not see the write: $(cat "$VOL/out" 2>&1)"
}

@test "podman run --user 1000:1000 and --init" {
	[ -x /usr/libexec/podman/catatonit ] || fail "no catatonit (contrib/install-deps.sh installs it)"
	rm -f "$VOL/by-user"
	run pr run --rm --user 1000:1000 --init -v "$VOL:/data" "$ENGINE_IMAGE" \
		sh -c 'id -u; id -g; echo x >/data/by-user; tr "\0" " " </proc/1/cmdline; echo; echo $$'
	assert_success
	assert_line --index 0 1000
	assert_line --index 1 1000
	# PID 1 is podman's init (catatonit, bind-mounted at /run/podman-init); sh is its child.
	assert_line --index 2 --regexp '^/run/podman-init -- sh -c '
	assert_line --index 3 2
	[ "$(stat -c %u:%g "$VOL/by-user")" = 1000:1000 ] || fail "owner $(stat -c %u:%g "$VOL/by-user")"
}

@test "a pod: an infra and two containers, each its own VM; pod ps/inspect; pod stop and rm leave nothing" {
	# containers.conf has netns = "none": the pod has no network of its own and each
	# VM has loopback only (bridge networking for pods: issue 9).
	local infra a b c ids=() cgs=() qemus
	run pr pod create --name p-pod
	assert_success
	a=$(pr run -d --pod p-pod --name p-pod-a "$ENGINE_IMAGE" sh -c 'while :; do sleep 1; done')
	b=$(pr run -d --pod p-pod --name p-pod-b "$ENGINE_IMAGE" sh -c 'while :; do sleep 1; done')
	infra=$(podman pod inspect --format '{{.InfraContainerID}}' p-pod)
	for c in "$infra" "$a" "$b"; do
		ids+=("$c")
		cgs+=("$(sandbox_cgroup "$c")")
		run podman inspect --format '{{.State.Status}} {{.OCIRuntime}}' "$c"
		assert_output "running runk"
		[ "$("$ENGINE_RUNK" state "$c" | jq -r .status)" = running ] || fail "runk state of $c"
		# One QEMU per container.
		qemus=$(grep -lF -- "-name $c," /proc/[0-9]*/cmdline 2>/dev/null | wc -l)
		[ "$qemus" -eq 1 ] || fail "$qemus QEMUs for $c"
	done
	run podman pod ps --format '{{.Name}} {{.Status}} {{.NumberOfContainers}}'
	assert_line "p-pod Running 3"
	run podman pod inspect p-pod --format '{{.State}} {{range .Containers}}{{.State}} {{end}}'
	assert_output "Running running running running "
	# The infra's namespaces on the host are its own (the members name them), not the host's.
	local ipid
	ipid=$(podman inspect --format '{{.State.Pid}}' "$infra")
	[ "$(readlink "/proc/$ipid/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
		fail "the infra's shim is in the host's network namespace"
	# A member's VM cannot share the infra's uts namespace, but has the pod's hostname.
	run pr exec p-pod-a hostname
	assert_output p-pod
	run pr exec p-pod-b sh -c 'ls /sys/class/net'
	assert_output lo

	run pr pod stop -t 2 p-pod
	assert_success
	run podman pod inspect p-pod --format '{{.State}} {{range .Containers}}{{.State}} {{end}}'
	assert_output "Exited exited exited exited "
	run pr pod rm p-pod
	assert_success
	run podman pod ps -q
	assert_output ""
	for i in "${!ids[@]}"; do
		! podman container exists "${ids[$i]}" || fail "pod rm left ${ids[$i]}"
		assert_engine_nothing_left "${ids[$i]}" "$(runk_state_dir "${ids[$i]}")"
		assert_cgroups_gone "${ids[$i]}" "${cgs[$i]}"
	done
}

@test "podman container cleanup after an exit, then rm: runk's state is gone" {
	local cid
	cid=$(pr run -d "$ENGINE_IMAGE" sh -c 'exit 9')
	run pr wait "$cid"
	assert_output 9
	run pr container cleanup "$cid"
	assert_success
	run "$ENGINE_RUNK" state "$cid"
	assert_failure
	assert_output --partial "does not exist"
	run pr rm "$cid"
	assert_success
	assert_engine_nothing_left "$cid" "$(runk_state_dir "$cid")"
}

# Last: removes the shared container too.
@test "podman rm -fa leaves no process, state or cgroup" {
	local ids=() cgs=() c
	pr run -d "$ENGINE_IMAGE" sleep 1000 >/dev/null
	c=$(pr run -d "$ENGINE_IMAGE" sleep 1000)
	pr pause "$c"
	for c in $(podman ps -aq --no-trunc); do
		ids+=("$c")
		cgs+=("$(sandbox_cgroup "$c")")
	done
	[ "${#ids[@]}" -ge 2 ] || fail "containers: $(podman ps -a)"
	run pr rm -fa -t 0
	assert_success
	[ -z "$(podman ps -aq)" ] || fail "containers left: $(podman ps -a)"
	assert_engine_nothing_left "$ENGINE_DIR"
	for i in "${!ids[@]}"; do
		assert_engine_nothing_left "${ids[$i]}" "$(runk_state_dir "${ids[$i]}")"
		assert_cgroups_gone "${ids[$i]}" "${cgs[$i]}"
	done
}
