#!/usr/bin/env bats
# containerd drives runk through its runc v2 shim (smoke): ctr run, exit
# status, ctr task exec/ps/kill.  One private containerd serves the file: see
# engines.bash.

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

@test "ctr run -d, task ls, task exec, task ps, task kill" {
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
