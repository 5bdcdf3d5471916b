#!/usr/bin/env bats
# runk exec: a new process in a running container's VM, its environment, user,
# directory, stdio and exit status, detached with --pid-file as conmon and
# containerd's shim use it.

load helpers

setup_file() {
	# Every exec test below but one runs in one shared container (one VM boot).
	# noNewPrivileges off, so that exec --no-new-privs makes a difference.
	SHARED_BUNDLE_JQ='.process.noNewPrivileges = false'
	shared_container_setup_if_vm shared sh -c 'echo ready; while :; do sleep 1; done'
}

teardown_file() {
	shared_container_teardown
}

setup() {
	setup_runk
	BUNDLE=$TEST_DIR/bundle
}

teardown() {
	teardown_runk_and_resume_shared
}

# sx ARGS...: runk exec in the shared container, bounded in time.
sx() {
	RUNK_CONFIG=$SHARED_DIR/runk.conf timeout -k 10 120 "$RUNK_BIN" --root "$SHARED_ROOT" exec "$@"
}

@test "exec: output, stdin, and the config's environment" {
	require_shared
	run --separate-stderr sx shared sh -c 'echo out; echo err >&2; echo "path=$PATH"'
	assert_success
	[ "${lines[0]}" = out ]
	[ "$stderr" = err ] || fail "stderr: $stderr"
	[[ "${lines[1]}" == path=*/bin* ]] || fail "PATH from config.json: ${lines[1]}"
	run sx shared cat <<<$'one\ntwo'
	assert_success
	assert_line --index 0 one
	assert_line --index 1 two
}

@test "exec -e sets and overrides variables" {
	require_shared
	run sx -e FOO=bar -e 'SPACED=a b' -e PATH=/bin shared sh -c 'echo "$FOO|$SPACED|$PATH"'
	assert_success
	[ "$output" = "bar|a b|/bin" ] || fail "env: $output"
}

@test "exec --cwd runs in that directory" {
	require_shared
	run sx --cwd /dev/shm shared pwd
	assert_success
	[ "$output" = /dev/shm ] || fail "pwd: $output"
	run sx --cwd /etc shared sh -c 'pwd; cat passwd | head -1'
	assert_success
	assert_line --index 0 /etc
	assert_line --index 1 'root:x:0:0:root:/root:/bin/sh'
}

@test "exec -u 65534:65534 and -u 65534 run as that user; --additional-gids adds groups" {
	require_shared
	run sx -u 65534:65534 shared sh -c 'echo "$(id -u):$(id -g)"'
	assert_success
	[ "$output" = 65534:65534 ] || fail "id: $output"
	run sx -u 65534 shared id -u
	assert_success
	[ "$output" = 65534 ] || fail "id -u: $output"
	run sx -u 1000:1000 --additional-gids 10 --additional-gids 20 shared id -G
	assert_success
	[ "$(tr ' ' '\n' <<<"$output" | sort -n | tr '\n' ' ')" = "10 20 1000 " ] || fail "id -G: $output"
	run sx shared id -u
	[ "$output" = 0 ] || fail "default user: $output"
}

@test "exec passes the exit status through" {
	require_shared
	run sx shared sh -c 'exit 5'
	[ "$status" -eq 5 ] || fail "status $status: $output"
	run sx shared true
	[ "$status" -eq 0 ]
	run sx shared sh -c 'kill -9 $$'
	[ "$status" -eq 137 ] || fail "killed by SIGKILL: status $status: $output"
}

@test "exec of a program that does not exist fails naming it" {
	require_shared
	# 127, as a shell reports a command it cannot find.
	run -127 timeout -k 5 60 "$RUNK_BIN" --root "$SHARED_ROOT" --config "$SHARED_DIR/runk.conf" exec shared /no/such/program
	assert_output --partial /no/such/program
	# The container is unharmed.
	[ "$(shared_runk state shared | jq -r .status)" = running ]
}

@test "exec --process FILE runs process.json (args, env, cwd, user)" {
	require_shared
	cat >"$BATS_TEST_TMPDIR/process.json" <<-'JSON'
		{
			"terminal": false,
			"user": {"uid": 65534, "gid": 65534},
			"args": ["sh", "-c", "echo \"$(id -u):$(id -g) $PWD $GREETING\"; exit 9"],
			"env": ["PATH=/bin", "GREETING=hello-from-process-json"],
			"cwd": "/tmp"
		}
	JSON
	run sx --process "$BATS_TEST_TMPDIR/process.json" shared
	[ "$status" -eq 9 ] || fail "status $status: $output"
	[ "$output" = "65534:65534 /tmp hello-from-process-json" ] || fail "output: $output"
}

@test "exec --no-new-privs" {
	require_shared
	run sx --no-new-privs shared grep NoNewPrivs /proc/self/status
	assert_success
	[[ "$output" =~ NoNewPrivs:[[:space:]]+1 ]] || fail "$output"
	run sx shared grep NoNewPrivs /proc/self/status
	[[ "$output" =~ NoNewPrivs:[[:space:]]+0 ]] || fail "without --no-new-privs: $output"
}

@test "exec --cap adds a capability the config does not grant" {
	require_shared
	# CAP_SYS_ADMIN is bit 21, not in runk spec's default set.
	run sx shared sh -c 'echo $(( 0x$(sed -n "s/^CapEff:[[:space:]]*//p" /proc/self/status) >> 21 & 1 ))'
	[ "$output" = 0 ] || fail "CAP_SYS_ADMIN without --cap: $output"
	run sx --cap CAP_SYS_ADMIN shared sh -c 'echo $(( 0x$(sed -n "s/^CapEff:[[:space:]]*//p" /proc/self/status) >> 21 & 1 ))'
	assert_success
	[ "$output" = 1 ] || fail "CAP_SYS_ADMIN with --cap: $output"
}

@test "exec -d --pid-file: the PID is a process that exits with the exec'd status" {
	require_shared
	local pidfile=$BATS_TEST_TMPDIR/exec.pid
	# As conmon does: a subreaper runs exec -d, then waits for the PID in --pid-file.
	run reap_detached "$pidfile" env RUNK_CONFIG="$SHARED_DIR/runk.conf" timeout -k 10 120 \
		"$RUNK_BIN" --root "$SHARED_ROOT" exec -d --pid-file "$pidfile" shared sh -c 'sleep 1; exit 7'
	assert_success
	[ "$output" = 7 ] || fail "the detached exec's PID exited with '$output', not 7"

	# And while it runs, it is alive; tail --pid waits for it.
	sx -d --pid-file "$pidfile" shared sh -c 'sleep 2' </dev/null >/dev/null 2>&1
	local pid
	pid=$(cat "$pidfile")
	[ -d "/proc/$pid" ] || fail "pid $pid from --pid-file is not alive"
	timeout -k 10 120 tail --pid "$pid" -f /dev/null
}

@test "exec -d: the detached process's output goes to the caller's stdout" {
	require_shared
	local pidfile=$BATS_TEST_TMPDIR/exec.pid
	sx -d --pid-file "$pidfile" shared sh -c 'echo detached-out; echo detached-err >&2' \
		</dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	timeout -k 10 120 tail --pid "$(cat "$pidfile")" -f /dev/null
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = detached-out ] || fail "stdout: $(cat "$BATS_TEST_TMPDIR/out")"
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = detached-err ] || fail "stderr: $(cat "$BATS_TEST_TMPDIR/err")"
}

@test "exec on a paused container fails unless --ignore-paused" {
	require_shared
	shared_runk pause shared
	run sx shared echo hi
	assert_failure
	assert_output --partial paused
	# With --ignore-paused the exec waits for the frozen VM and runs after resume.
	sx --ignore-paused shared echo hi-after-resume >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local exec_pid=$!
	shared_runk resume shared
	local status=0
	wait "$exec_pid" || status=$?
	[ "$status" -eq 0 ] || fail "exec --ignore-paused: status $status: $(cat "$BATS_TEST_TMPDIR/out")"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = hi-after-resume ] || fail "$(cat "$BATS_TEST_TMPDIR/out")"
}

@test "exec into a stopped container fails; into a created one works" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'read x'
	mkfifo "$TEST_DIR/in"
	exec {in}<>"$TEST_DIR/in"
	runk create --bundle "$BUNDLE" c1 <"$TEST_DIR/in" >"$TEST_DIR/out" 2>&1 ||
		fail "create: $(cat "$TEST_DIR/out")"
	# runc allows exec into a created container (its namespaces exist); checked
	# at the end so that the stopped case is tested whatever this gives.
	local created_out created_status=0
	created_out=$(timeout -k 10 120 "$RUNK_BIN" --root "$ROOT" exec c1 echo in-created 2>&1) || created_status=$?
	runk start c1
	echo >&"$in"
	wait_for_status c1 stopped
	exec {in}>&-
	run timeout -k 10 120 "$RUNK_BIN" --root "$ROOT" exec c1 true
	assert_failure
	assert_output --partial stopped
	runk delete c1
	assert_nothing_left
	[ "$created_status" -eq 0 ] && [ "$created_out" = in-created ] ||
		fail "exec into the created container: status $created_status: $created_out"
}
