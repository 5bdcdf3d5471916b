#!/usr/bin/env bats
# Consoles: terminal:true with --console-socket (the pty master is sent over the
# socket, as runc does), exec -t, and runk run on the caller's terminal.

load helpers

setup() {
	setup_runk
	BUNDLE=$TEST_DIR/bundle
	SOCK=$TEST_DIR/console.sock
}

teardown() {
	[ -z "${RECEIVER_PID:-}" ] || kill "$RECEIVER_PID" 2>/dev/null || true
	teardown_runk
}

# The program on the terminal: says where it is, echoes a line, then waits
# until the window size set on the host's master reaches it, and exits 3.
TTY_SCRIPT='tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-is-a-tty; echo ready; read x; echo "got:$x"; while [ "$(stty size 2>/dev/null)" != "40 132" ]; do sleep 0.2; done; echo resized; exit 3'
RECEIVER_STEPS=(--expect ready --send $'hello\n' --expect got:hello --resize 40 132 --expect resized)

# The receiver's output as lines without the terminal's carriage returns.
check_tty_output() {
	local out=$1
	grep -q $'\r$' "$out" || fail "no CR LF: not the output of a terminal: $(cat -A "$out")"
	tr -d '\r' <"$out" >"$out.lf"
	grep -qx '/dev/pts/[0-9]*' "$out.lf" || fail "tty: $(cat "$out.lf")"
	grep -qx stdio-is-a-tty "$out.lf" || fail "stdio not a tty: $(cat "$out.lf")"
	# The terminal echoes the input line before the program reads it.
	grep -qx hello "$out.lf" || fail "no echo of the input: $(cat "$out.lf")"
	grep -qx got:hello "$out.lf" || fail "input did not arrive: $(cat "$out.lf")"
	grep -qx resized "$out.lf" || fail "the resize did not reach the guest: $(cat "$out.lf")"
}

@test "create --console-socket: the master arrives, output, input echo, resize seen by stty size" {
	require_vm
	make_bundle "$BUNDLE" sh -c "$TTY_SCRIPT"
	bundle_jq "$BUNDLE" '.process.terminal = true'
	start_console_receiver "$SOCK" --output "$TEST_DIR/tty.out" --timeout 180 "${RECEIVER_STEPS[@]}"
	runk create --console-socket "$SOCK" --bundle "$BUNDLE" c1 </dev/null >"$TEST_DIR/out" 2>&1 ||
		fail "create: $(cat "$TEST_DIR/out")"
	runk start c1
	local status=0
	wait "$RECEIVER_PID" || status=$?
	RECEIVER_PID=
	# 0: every step ran and the terminal closed when the container exited.
	[ "$status" -eq 0 ] || fail "console-receiver: status $status: $(cat -A "$TEST_DIR/tty.out")"
	check_tty_output "$TEST_DIR/tty.out"
	wait_for_status c1 stopped
	runk delete c1
	assert_nothing_left
}

@test "terminal:true without --console-socket is refused by create" {
	require_vm
	make_bundle "$BUNDLE" true
	bundle_jq "$BUNDLE" '.process.terminal = true'
	run runk create --bundle "$BUNDLE" c0
	assert_failure
	assert_output --partial console-socket
	assert_nothing_left
}

@test "exec -t --console-socket, attached and detached (conmon's form)" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'while :; do sleep 1; done'
	runk create --bundle "$BUNDLE" c2 </dev/null >"$TEST_DIR/out" 2>&1 || fail "create: $(cat "$TEST_DIR/out")"
	runk start c2

	# Attached: runk exec returns the process's status.
	start_console_receiver "$SOCK" --output "$TEST_DIR/tty.out" --timeout 180 "${RECEIVER_STEPS[@]}"
	local status=0
	timeout -k 10 180 "$RUNK_BIN" --root "$ROOT" exec -t --console-socket "$SOCK" c2 sh -c "$TTY_SCRIPT" \
		</dev/null >"$TEST_DIR/exec.out" 2>&1 || status=$?
	[ "$status" -eq 3 ] || fail "exec -t: status $status: $(cat "$TEST_DIR/exec.out")"
	status=0
	wait "$RECEIVER_PID" || status=$?
	RECEIVER_PID=
	[ "$status" -eq 0 ] || fail "console-receiver: status $status: $(cat -A "$TEST_DIR/tty.out")"
	check_tty_output "$TEST_DIR/tty.out"

	# Detached with --pid-file, as conmon runs `podman exec -it`: the PID exits with the status.
	rm -f "$TEST_DIR/tty.out"
	start_console_receiver "$SOCK" --output "$TEST_DIR/tty.out" --timeout 180 "${RECEIVER_STEPS[@]}"
	run reap_detached "$TEST_DIR/exec.pid" timeout -k 10 180 "$RUNK_BIN" --root "$ROOT" exec -d -t \
		--console-socket "$SOCK" --pid-file "$TEST_DIR/exec.pid" c2 sh -c "$TTY_SCRIPT"
	assert_success
	[ "$output" = 3 ] || fail "the detached exec's PID exited with '$output', not 3"
	status=0
	wait "$RECEIVER_PID" || status=$?
	RECEIVER_PID=
	[ "$status" -eq 0 ] || fail "console-receiver (detached): status $status: $(cat -A "$TEST_DIR/tty.out")"
	check_tty_output "$TEST_DIR/tty.out"

	runk delete --force c2
	assert_nothing_left
}

@test "run with terminal:true uses the caller's terminal (under script)" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'tty; [ -t 0 ] && echo stdin-is-a-tty; stty size; read x; echo "got:$x"; exit 4'
	bundle_jq "$BUNDLE" '.process.terminal = true'
	# script gives runk a terminal 30x100; the input line waits in it until the guest reads it.
	local status=0
	printf 'hello\n' | timeout -k 10 180 script -q -e -c \
		"stty rows 30 cols 100; exec '$RUNK_BIN' --root '$ROOT' run --bundle '$BUNDLE' c3" /dev/null \
		>"$TEST_DIR/out" 2>&1 || status=$?
	tr -d '\r' <"$TEST_DIR/out" >"$TEST_DIR/out.lf"
	[ "$status" -eq 4 ] || fail "status $status: $(cat "$TEST_DIR/out.lf")"
	grep -qx '/dev/pts/[0-9]*' "$TEST_DIR/out.lf" || fail "tty: $(cat "$TEST_DIR/out.lf")"
	grep -qx stdin-is-a-tty "$TEST_DIR/out.lf" || fail "$(cat "$TEST_DIR/out.lf")"
	grep -qx '30 100' "$TEST_DIR/out.lf" || fail "stty size in the guest: $(cat "$TEST_DIR/out.lf")"
	grep -qx got:hello "$TEST_DIR/out.lf" || fail "input: $(cat "$TEST_DIR/out.lf")"
	assert_nothing_left
}
