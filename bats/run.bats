#!/usr/bin/env bats
# runk run: a container in its own VM, its output, input, exit status and signals.

load helpers

setup() {
	setup_runk
	BUNDLE=$TEST_DIR/bundle
}

teardown() {
	teardown_runk
}

# Wait until FILE contains TEXT (the container said it is ready), at most 60 s.
wait_for_text() {
	local file=$1 text=$2 i
	for i in $(seq 600); do
		grep -qF "$text" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "timed out waiting for '$text' in $file: $(cat "$file" 2>/dev/null)"
}

@test "run: output from the VM's kernel, stdout and stderr apart, exit code 7" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'echo hello; uname -r; echo to-stderr >&2; exit 7'
	run --separate-stderr runk run --bundle "$BUNDLE" c1
	[ "$status" -eq 7 ] || fail "status $status, stderr: $stderr"
	[ "${lines[0]}" = hello ]
	# The guest's kernel (Debian 6.1), not the host's.
	[[ "${lines[1]}" == 6.1.* ]] || fail "guest kernel: ${lines[1]}"
	[ "${lines[1]}" != "$(uname -r)" ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$stderr" = to-stderr ]
	assert_nothing_left
}

@test "run: stdin piped in reaches the process; exit code 1" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'cat; echo "[$(wc -c </proc/self/fd/0)]"; exit 1'
	run bash -c 'printf "line one\nline two\n" | "$0" --root "$1" run --bundle "$2" c2' \
		"$RUNK_BIN" "$ROOT" "$BUNDLE"
	[ "$status" -eq 1 ] || fail "status $status: $output"
	assert_line --index 0 'line one'
	assert_line --index 1 'line two'
	assert_nothing_left
}

@test "run: 5 MiB on stdout arrives intact; exit code 0" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'head -c 5242880 /dev/urandom >/dev/shm/blob; sha256sum /dev/shm/blob >&2; cat /dev/shm/blob'
	runk run --bundle "$BUNDLE" c3 >"$TEST_DIR/out" 2>"$TEST_DIR/err"
	[ "$(stat -c %s "$TEST_DIR/out")" -eq 5242880 ]
	expected=$(cut -d' ' -f1 "$TEST_DIR/err")
	actual=$(sha256sum "$TEST_DIR/out" | cut -d' ' -f1)
	[ "$expected" = "$actual" ] || fail "sha256 in the guest $expected, on the host $actual"
	assert_nothing_left
}

@test "run: runk kill TERM from another shell reaches a process that traps it" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 0.1; done'
	runk run --bundle "$BUNDLE" c4 >"$TEST_DIR/out" 2>&1 &
	local run_pid=$!
	wait_for_text "$TEST_DIR/out" ready
	runk kill c4 TERM
	local status=0
	wait $run_pid || status=$?
	[ "$status" -eq 3 ] || fail "status $status: $(cat "$TEST_DIR/out")"
	grep -qx 'got TERM' "$TEST_DIR/out"
	assert_nothing_left
}

@test "run: a workload killed by SIGKILL gives 137 and the shim dies of SIGKILL" {
	require_vm
	# Without its own PID namespace the shell is not an init, so it can kill itself.
	make_bundle "$BUNDLE" sh -c 'echo ready; kill -9 $$'
	bundle_jq "$BUNDLE" '.linux.namespaces |= map(select(.type != "pid"))'
	run runk run --bundle "$BUNDLE" c5
	[ "$status" -eq 137 ] || fail "status $status: $output"
	assert_nothing_left
}

@test "run -d writes the shim as the container PID; runk kill KILL ends it" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'while :; do sleep 1; done'
	runk run -d --pid-file "$TEST_DIR/pid" --bundle "$BUNDLE" c6 </dev/null >/dev/null 2>&1
	pid=$(cat "$TEST_DIR/pid")
	[ -d "/proc/$pid" ]
	[ "$(jq -r .pid "$ROOT/c6/state.json")" = "$pid" ]
	runk kill c6 KILL
	for i in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
	[ ! -d "/proc/$pid" ] || fail "shim $pid still alive"
	runk delete c6
	assert_nothing_left
}

@test "run: a container id that is already in use is refused and the first is untouched" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'sleep 30'
	runk run -d --bundle "$BUNDLE" dup </dev/null >/dev/null 2>&1
	run runk run --bundle "$BUNDLE" dup
	assert_failure
	assert_output --partial 'container `dup` already exists'
	[ -f "$ROOT/dup/state.json" ]
	runk delete --force dup
	assert_nothing_left
}
