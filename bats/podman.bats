#!/usr/bin/env bats
# podman drives runk (smoke): run, exit status, run -d + exec + logs + stop + rm.
# A private podman config, storage and image: see engines.bash.

load helpers
load engines

setup_file() {
	command -v podman >/dev/null || return 0
	engine_setup
	podman_setup
}

teardown_file() {
	engine_teardown
}

setup() {
	require_vm
	require_engine podman conmon
	[ -n "${PODMAN_DRIVER:-}" ] || fail "podman set-up failed (see setup_file)"
}

teardown() {
	podman rm -af -t 0 >/dev/null 2>&1 || true
}

# runk's state for a podman container (podman passes no --root: runk's default).
runk_state_dir() {
	echo "/run/runk/$1"
}

@test "podman --runtime runk run --rm echo hi" {
	run --separate-stderr timeout -k 10 300 podman --runtime runk run --rm --name p-echo "$ENGINE_IMAGE" echo hi
	[ "$status" -eq 0 ] || fail "status $status: $output $stderr"
	[ "$output" = hi ] || fail "output: $output (stderr: $stderr)"
	# The VM's kernel, not the host's.
	run timeout -k 10 300 podman --runtime runk run --rm "$ENGINE_IMAGE" uname -r
	assert_success
	[ "$output" != "$(uname -r)" ] || fail "the container ran on the host's kernel"
	[ -z "$(podman ps -aq)" ] || fail "containers left: $(podman ps -a)"
}

@test "podman run: the exit code passes through" {
	run timeout -k 10 300 podman --runtime runk run --rm "$ENGINE_IMAGE" sh -c 'echo before; exit 3'
	[ "$status" -eq 3 ] || fail "status $status: $output"
	[ "$output" = before ] || fail "output: $output"
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
	[ -z "$(podman ps -aq)" ] || fail "containers left: $(podman ps -a)"
	assert_engine_nothing_left "$cid" "$(runk_state_dir "$cid")"
}
