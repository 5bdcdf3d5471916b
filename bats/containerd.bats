#!/usr/bin/env bats
# containerd drives runk through its runc v2 shim: ctr run, exit status,
# ctr task exec/ps/pause/resume/metrics/kill, ctr run -t.  One private
# containerd serves the file: see engines.bash.

load helpers
load engines

setup_file() {
	command -v containerd >/dev/null && command -v podman >/dev/null || return 0
	engine_setup
	containerd_setup
}

teardown_file() {
	engine_teardown
}

setup() {
	require_vm
	require_engine containerd ctr podman
	[ -n "${CONTAINERD_PID:-}" ] && kill -0 "$CONTAINERD_PID" ||
		fail "containerd set-up failed (see setup_file)"
}

@test "ctr run --rm --runc-binary runk: echo hi, and the exit status" {
	run ctr_run --rm "$ENGINE_IMAGE" t1 echo hi
	assert_success
	[ "$output" = hi ] || fail "output: $output"
	run ctr_run --rm "$ENGINE_IMAGE" t1b sh -c 'exit 3'
	[ "$status" -eq 3 ] || fail "status $status: $output"
	[ -z "$(ctrn container ls -q)" ] || fail "containers left: $(ctrn container ls)"
	assert_engine_nothing_left "$CONTAINERD_RUNK_ROOT" "$CONTAINERD_RUNK_ROOT/runk-test"
	[ ! -e "$(shim_socket_of t1)" ] || fail "shim socket left: $(shim_socket_of t1)"
}

@test "ctr run -d, task ls, task exec, task ps, task pause/resume, task metrics, task kill" {
	ctr_run -d "$ENGINE_IMAGE" t2 sh -c 'while :; do sleep 1; done' >/dev/null
	run ctrn task ls
	assert_success
	assert_line --regexp '^t2 +[0-9]+ +RUNNING$'

	run ctr_exec --exec-id e1 t2 sh -c 'echo "hi-exec $(id -u)"'
	assert_success
	[ "$output" = "hi-exec 0" ] || fail "exec: $output"
	run ctr_exec --exec-id e2 t2 sh -c 'exit 3'
	[ "$status" -eq 3 ] || fail "exec status $status: $output"

	# task ps is the runtime's ps --format json: the guest's PIDs.
	run ctrn task ps t2
	assert_success
	[ "${#lines[@]}" -ge 2 ] || fail "task ps: $output"

	# pause/resume freeze the whole VM: a counter does not move while paused.
	# Written aside and renamed: a reader never sees the file truncated and empty.
	ctr_exec -d --exec-id e3 t2 sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.2; done'
	run ctrn task pause t2
	assert_success
	run ctrn task ls
	assert_line --regexp '^t2 +[0-9]+ +PAUSED$'
	[ "$("$ENGINE_RUNK" --root "$CONTAINERD_RUNK_ROOT/runk-test" state t2 | jq -r .status)" = paused ]
	run ctrn task resume t2
	assert_success
	run ctrn task ls
	assert_line --regexp '^t2 +[0-9]+ +RUNNING$'
	run ctr_exec --exec-id e4 t2 sh -c 'a=$(cat /tmp/count); sleep 1; b=$(cat /tmp/count); [ "$b" -gt "$a" ] && echo counting'
	assert_output counting

	# task metrics: the runtime's events --stats, the guest's cgroup.
	run ctrn task metrics t2
	assert_success
	assert_line --regexp '^t2 +'
	local mem
	mem=$(awk '$1 == "memory.usage_in_bytes" || $1 == "memory.usage" { print $2 }' <<<"$output" | head -1)
	[ -n "$mem" ] && [ "$mem" != 0 ] || fail "task metrics: $output"

	ctrn task kill -s SIGKILL t2
	local i
	for i in $(seq 300); do
		ctrn task ls | grep -qE '^t2 .*STOPPED' && break
		sleep 0.2
	done
	run ctrn task ls
	assert_line --regexp '^t2 +[0-9]+ +STOPPED$'
	ctrn task delete t2
	ctrn container delete t2
	assert_engine_nothing_left "$CONTAINERD_RUNK_ROOT" "$CONTAINERD_RUNK_ROOT/runk-test"
	[ ! -e "$(shim_socket_of t2)" ] || fail "shim socket left: $(shim_socket_of t2)"
}

@test "ctr run -t under script: a terminal of the size set" {
	local log=$BATS_TEST_TMPDIR/tty.log
	local ctr_run="ctr --address $CONTAINERD_ADDRESS --namespace runk-test run -t --rm \
		--runc-binary $ENGINE_RUNK --runc-root $CONTAINERD_RUNK_ROOT --fifo-dir $ENGINE_DIR/containerd/fifo"
	run timeout -k 10 120 script -q -e -c \
		"stty rows 31 cols 93; $ctr_run $ENGINE_IMAGE t3 sh -c 'stty size; tty; exit 4'" "$log" </dev/null
	[ "$status" -eq 4 ] || fail "status $status: $(cat "$log")"
	# The terminal echoes the EOF script(1) reads from /dev/null as ^@.
	tr -d '\r' <"$log" | sed 's/^^@//' | grep -qx '31 93' || fail "stty size: $(cat -A "$log")"
	tr -d '\r' <"$log" | grep -qx '/dev/pts/[0-9]*' || fail "tty: $(cat -A "$log")"
	assert_engine_nothing_left "$CONTAINERD_RUNK_ROOT" "$CONTAINERD_RUNK_ROOT/runk-test"
}
