#!/usr/bin/env bats
# CRI-O's path without CRI-O: conmon 2.x drives runk as CRI-O makes it
# (contrib/crio/10-runk.conf): conmon --runtime <runk> --cid --cuuid --name
# --bundle --exit-dir --log-path (CRI log format) --socket-dir-path
# --container-pidfile --conmon-pidfile --runtime-arg --root=<runtime_root>;
# conmon runs `runk create`, CRI-O then runs `runk start`, conmon writes the
# exit file, CRI-O kills and deletes.  runk is reached through the wrapper
# engines use (engines.bash: exec runk --config CONF "$@").

load helpers
load engines

setup() {
	require_vm
	require_engine conmon
	setup_runk
	engine_setup
	CONMON_DIR=$TEST_DIR/conmon
	mkdir -p "$CONMON_DIR"/{exits,sockets,persist}
}

teardown() {
	local pid
	if [ -n "${CONMON_DIR:-}" ] && [ -f "$CONMON_DIR/conmon.pid" ]; then
		pid=$(cat "$CONMON_DIR/conmon.pid")
		kill -9 "$pid" 2>/dev/null || true
	fi
	[ -z "${SYNC_FD:-}" ] || exec {SYNC_FD}>&-
	engine_teardown
	teardown_runk
}

# start_conmon ID BUNDLE: conmon as CRI-O starts it, with a sync pipe
# (_OCI_SYNCPIPE) on which conmon reports `runk create`'s result:
# {"data": <container pid>} or a negative data and a message.
start_conmon() {
	local id=$1 bundle=$2 fd reply
	mkdir -p "$CONMON_DIR/persist/$id"
	mkfifo "$CONMON_DIR/sync-$id"
	exec {fd}<>"$CONMON_DIR/sync-$id"
	_OCI_SYNCPIPE=$fd run timeout -k 10 300 conmon \
		--api-version 1 \
		--runtime "$ENGINE_RUNK" \
		--cid "$id" --cuuid "$(cat /proc/sys/kernel/random/uuid)" --name "k8s_$id" \
		--bundle "$bundle" \
		--exit-dir "$CONMON_DIR/exits" \
		--log-path "$CONMON_DIR/$id.log" --log-level debug \
		--socket-dir-path "$CONMON_DIR/sockets" \
		--persist-dir "$CONMON_DIR/persist/$id" \
		--container-pidfile "$CONMON_DIR/$id.pid" \
		--conmon-pidfile "$CONMON_DIR/conmon.pid" \
		--runtime-arg "--root=$ROOT" \
		--syslog=false
	[ "$status" -eq 0 ] || fail "conmon: status $status: $output"
	read -r -t 300 -u "$fd" reply || fail "no reply from conmon on the sync pipe"
	# Kept open, as CRI-O keeps it: conmon writes the exit status there too,
	# and dies of SIGPIPE before writing the exit file if nobody holds it.
	SYNC_FD=$fd
	[ "$(jq -r .data <<<"$reply")" -gt 0 ] 2>/dev/null || fail "conmon: create failed: $reply"
	[ "$(jq -r .data <<<"$reply")" = "$(cat "$CONMON_DIR/$id.pid")" ] ||
		fail "sync pipe $reply, pidfile $(cat "$CONMON_DIR/$id.pid")"
	[ -s "$CONMON_DIR/$id.pid" ] || fail "no container pidfile after conmon: $output"
	[ -s "$CONMON_DIR/conmon.pid" ] || fail "no conmon pidfile"
}

wait_for_file() {
	local f=$1 i
	for i in $(seq 1200); do
		[ -s "$f" ] && return 0
		sleep 0.1
	done
	fail "timed out waiting for $f"
}

@test "conmon (as CRI-O runs it): create, start, exit file 3, CRI log, delete" {
	make_bundle "$TEST_DIR/b" sh -c 'echo out-line; echo err-line >&2; exit 3'
	start_conmon cm1 "$TEST_DIR/b"
	local pid conmon_pid
	pid=$(cat "$CONMON_DIR/cm1.pid")
	conmon_pid=$(cat "$CONMON_DIR/conmon.pid")
	kill -0 "$conmon_pid" || fail "conmon $conmon_pid is not running"
	# The container pid conmon was given is runk's (the shim).
	run runk state cm1
	assert_success
	[ "$(jq -r .status <<<"$output")" = created ] || fail "state: $output"
	[ "$(jq -r .pid <<<"$output")" = "$pid" ] || fail "pidfile $pid, state: $output"
	# conmon is the shim's parent (a subreaper): it reads its exit status.
	[ "$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status")" = "$conmon_pid" ] ||
		fail "shim $pid's parent is not conmon $conmon_pid"

	# CRI-O starts the container itself.
	"$ENGINE_RUNK" --root "$ROOT" start cm1

	wait_for_file "$CONMON_DIR/exits/cm1"
	[ "$(cat "$CONMON_DIR/exits/cm1")" = 3 ] || fail "exit file: $(cat "$CONMON_DIR/exits/cm1")"
	# CRI log format: <RFC3339Nano> stdout|stderr F|P <text>
	run cat "$CONMON_DIR/cm1.log"
	assert_line --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+) stdout F out-line$'
	assert_line --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+) stderr F err-line$'
	run runk state cm1
	[ "$(jq -r .status <<<"$output")" = stopped ] || fail "state after exit: $output"

	# CRI-O's StopContainer/RemoveContainer on an exited container.
	"$ENGINE_RUNK" --root "$ROOT" kill --all cm1 9
	"$ENGINE_RUNK" --root "$ROOT" delete cm1
	wait_gone "$conmon_pid" 100 || fail "conmon $conmon_pid still running"
	assert_nothing_left
	assert_engine_nothing_left "cm1"
}

@test "conmon (as CRI-O runs it): a running container is killed and deleted" {
	make_bundle "$TEST_DIR/b" sh -c 'echo started; while :; do sleep 1; done'
	start_conmon cm2 "$TEST_DIR/b"
	local conmon_pid
	conmon_pid=$(cat "$CONMON_DIR/conmon.pid")
	"$ENGINE_RUNK" --root "$ROOT" start cm2
	wait_until_text "$CONMON_DIR/cm2.log" "stdout F started"
	run runk state cm2
	[ "$(jq -r .status <<<"$output")" = running ] || fail "state: $output"
	# StopContainer: TERM (sh ignores it as PID 1 without a trap), then KILL.
	"$ENGINE_RUNK" --root "$ROOT" kill cm2 15
	"$ENGINE_RUNK" --root "$ROOT" kill cm2 9
	wait_for_file "$CONMON_DIR/exits/cm2"
	[ "$(cat "$CONMON_DIR/exits/cm2")" = 137 ] || fail "exit file: $(cat "$CONMON_DIR/exits/cm2")"
	"$ENGINE_RUNK" --root "$ROOT" delete --force cm2
	wait_gone "$conmon_pid" 100 || fail "conmon $conmon_pid still running"
	assert_nothing_left
	assert_engine_nothing_left "cm2"
}
