#!/usr/bin/env bats
# The runc lifecycle with a VM per container: create/start/state/kill/delete/list,
# pause/resume, ps, events, update and hooks.

load helpers

setup_file() {
	# ps, events, update and pause/resume only observe or adjust a running
	# container: one shared VM serves them (see shared_container_setup).
	shared_container_setup_if_vm shared sh -c 'sleep 100000 & echo ready; while :; do sleep 1; done'
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

# create ID [FLAGS...]: runk create of $BUNDLE with its stdio in files (never a
# pipe of bats' `run`, which the shim would hold open).
create() {
	local id=$1
	shift
	runk create --bundle "$BUNDLE" --pid-file "$TEST_DIR/$id.pid" "$@" "$id" \
		<"${CREATE_STDIN:-/dev/null}" >"$TEST_DIR/$id.out" 2>"$TEST_DIR/$id.err" ||
		fail "create $id failed: $(cat "$TEST_DIR/$id.err")"
}

@test "created → running → stopped → deleted, with state at every step" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'echo started; read line; echo "got $line"'
	# The process waits for a line on its stdin, a FIFO this test holds open.
	mkfifo "$TEST_DIR/in"
	exec {in}<>"$TEST_DIR/in"
	CREATE_STDIN=$TEST_DIR/in create c1
	local pid
	pid=$(cat "$TEST_DIR/c1.pid")
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || fail "--pid-file holds '$pid', not a live process"

	run runk state c1
	assert_success
	echo "$output" | jq -e . >/dev/null || fail "state is not JSON: $output"
	[ "$(jq -r .id <<<"$output")" = c1 ]
	[ "$(jq -r .status <<<"$output")" = created ] || fail "status after create: $output"
	[ "$(jq -r .pid <<<"$output")" = "$pid" ] || fail "state pid is not the --pid-file's $pid: $output"
	[ "$(jq -r .bundle <<<"$output")" = "$BUNDLE" ] || fail "bundle: $output"
	[ -n "$(jq -r '.ociVersion // empty' <<<"$output")" ] || fail "no ociVersion: $output"
	[ -n "$(jq -r '.created // empty' <<<"$output")" ] || fail "no created: $output"
	# runc's state has an empty owner (list fills it in).
	jq -e 'has("owner") and has("rootfs")' <<<"$output" >/dev/null || fail "owner, rootfs: $output"
	# Created: the program has not run yet.
	! grep -q started "$TEST_DIR/c1.out" || fail "the program ran before start"

	runk start c1
	[ "$(status_of c1)" = running ] || fail "after start: $(runk state c1)"
	[ "$(runk state c1 | jq -r .pid)" = "$pid" ]
	wait_until_text "$TEST_DIR/c1.out" started

	run runk start c1
	assert_failure
	[ "$(status_of c1)" = running ] || fail "a second start changed the state"

	echo go >&"$in"
	wait_for_status c1 stopped
	exec {in}>&-
	[ "$(runk state c1 | jq -r .pid)" = 0 ] || fail "pid of a stopped container: $(runk state c1)"
	grep -qx 'got go' "$TEST_DIR/c1.out" || fail "output: $(cat "$TEST_DIR/c1.out")"
	local i
	for i in $(seq 600); do
		[ -d "/proc/$pid" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat")" != Z ] || break
		sleep 0.2
	done
	[ ! -d "/proc/$pid" ] || [ "$(cut -d' ' -f3 "/proc/$pid/stat")" = Z ] ||
		fail "the shim $pid outlived its container"

	run runk start c1
	assert_failure
	# containerd's shim sends this to containers that already exited.
	runk kill --all c1 9
	[ "$(status_of c1)" = stopped ]

	runk delete c1
	run runk state c1
	assert_failure
	assert_output --partial c1
	[ -z "$(runk list -q)" ] || fail "list after delete: $(runk list -q)"
	assert_nothing_left
}

@test "kill by name and number reaches a trapping process; delete refuses a running container, --force deletes it" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'n=0; trap "n=\$((n+1)); echo term \$n" TERM; echo ready; while :; do sleep 0.1; done'
	create c2
	runk start c2
	wait_until_text "$TEST_DIR/c2.out" ready
	runk kill c2 TERM
	wait_until_text "$TEST_DIR/c2.out" 'term 1'
	runk kill c2 SIGTERM
	wait_until_text "$TEST_DIR/c2.out" 'term 2'
	runk kill c2 15
	wait_until_text "$TEST_DIR/c2.out" 'term 3'
	# The default signal is SIGTERM.
	runk kill c2
	wait_until_text "$TEST_DIR/c2.out" 'term 4'
	run runk kill c2 NOSUCHSIG
	assert_failure
	[ "$(status_of c2)" = running ]

	run runk delete c2
	assert_failure
	assert_output --partial c2
	[ "$(status_of c2)" = running ] || fail "delete without --force changed the state"

	runk delete --force c2
	run runk state c2
	assert_failure
	assert_nothing_left
}

@test "kill -9 of the shim (the state's pid), then delete --force leaves nothing" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'while :; do sleep 1; done'
	create c3
	runk start c3
	local pid
	pid=$(runk state c3 | jq -r .pid)
	[ "$pid" -gt 0 ]
	kill -9 "$pid"
	wait_for_status c3 stopped
	runk delete --force c3
	run runk state c3
	assert_failure
	assert_nothing_left
}

@test "state, kill, start and delete of an unknown id fail naming it; delete --force succeeds" {
	local cmd
	for cmd in state kill start delete; do
		run runk $cmd no-such-ctr
		assert_failure
		assert_output --partial no-such-ctr
	done
	# As runc and crun: engines delete --force after a failed create.
	run runk delete --force no-such-ctr
	assert_success
	assert_output ""
}

@test "list shows a created and a running container (table, -q, json); delete --force of a created one" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'while :; do sleep 1; done'
	create la
	create lb
	runk start lb

	run runk list
	assert_success
	[[ "${lines[0]}" =~ ^ID\ +PID\ +STATUS\ +BUNDLE\ +CREATED\ +OWNER ]] || fail "header: ${lines[0]}"
	[ "${#lines[@]}" -eq 3 ] || fail "list: $output"
	local la_pid lb_pid
	la_pid=$(cat "$TEST_DIR/la.pid")
	lb_pid=$(cat "$TEST_DIR/lb.pid")
	assert_line --regexp "^la +$la_pid +created +$BUNDLE +[^ ]+ +root\$"
	assert_line --regexp "^lb +$lb_pid +running +$BUNDLE +[^ ]+ +root\$"

	run runk list -q
	assert_success
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "la lb " ] || fail "list -q: $output"

	run runk list --format json
	assert_success
	[ "$(jq -r 'map(.id + ":" + .status + ":" + (.pid|tostring)) | sort | join(" ")' <<<"$output")" = \
		"la:created:$la_pid lb:running:$lb_pid" ] || fail "list json: $output"
	[ "$(jq -r 'map(.bundle) | unique | join(" ")' <<<"$output")" = "$BUNDLE" ] || fail "bundles: $output"
	[ "$(jq -r 'map(.owner) | unique | join(" ")' <<<"$output")" = root ] || fail "owners: $output"

	runk delete --force la
	run runk list -q
	[ "$output" = lb ] || fail "list -q after deleting la: $output"
	runk delete --force lb
	run runk list --format json
	assert_success
	[ "$(jq length <<<"$output")" = 0 ] || fail "list json when empty: $output"
	assert_nothing_left
}

@test "pause → paused → resume → running; exec refused while paused; delete --force of a paused container" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'i=0; while :; do i=$((i+1)); echo $i >/dev/shm/count; sleep 0.1; done'
	create p1
	runk start p1
	# The counter has started (exec sees the container's /dev/shm).
	local first="" next i
	for i in $(seq 600); do
		first=$(runk exec p1 cat /dev/shm/count 2>/dev/null) && [ -n "$first" ] && break
		sleep 0.2
	done
	[ -n "$first" ] || fail "the counter never appeared in /dev/shm/count"
	runk pause p1
	[ "$(status_of p1)" = paused ] || fail "after pause: $(runk state p1)"
	run runk list --format json
	[ "$(jq -r '.[] | select(.id == "p1") | .status' <<<"$output")" = paused ] ||
		fail "list while paused: $output"
	run runk pause p1
	assert_failure
	run runk exec p1 true
	assert_failure
	assert_output --partial paused
	runk resume p1
	[ "$(status_of p1)" = running ] || fail "after resume: $(runk state p1)"
	run runk resume p1
	assert_failure
	# The program runs on after resume: its counter advances.
	first=$(runk exec p1 cat /dev/shm/count)
	for i in $(seq 600); do
		next=$(runk exec p1 cat /dev/shm/count)
		[ "$next" -gt "$first" ] && break
		sleep 0.2
	done
	[ "$next" -gt "$first" ] || fail "counter stuck at $first after resume"

	runk pause p1
	runk delete --force p1
	run runk state p1
	assert_failure
	assert_nothing_left
}

@test "ps --format json lists the guest PIDs of a running container" {
	require_shared
	run shared_runk ps --format json shared
	assert_success
	jq -e 'type == "array" and length >= 2 and all(.[]; type == "number" and . > 0)' \
		<<<"$output" >/dev/null || fail "ps json (sh, sleep 100000, sleep 1 expected): $output"
	run shared_runk ps shared
	assert_success
	[[ "${lines[0]}" == *PID* ]] || fail "ps table header: ${lines[0]}"
	assert_output --partial 'sleep 100000'
}

@test "events --stats prints one stats event with memory usage > 0" {
	require_shared
	run --separate-stderr shared_runk events --stats shared
	assert_success
	[ "${#lines[@]}" -eq 1 ] || fail "expected one line: $output"
	jq -e '.type == "stats" and .id == "shared"' <<<"$output" >/dev/null || fail "event: $output"
	jq -e '.data.memory.usage.usage > 0' <<<"$output" >/dev/null || fail "memory usage: $output"
	jq -e '.data.pids.current >= 2' <<<"$output" >/dev/null || fail "pids.current: $output"
	jq -e '.data.cpu.usage.total > 0' <<<"$output" >/dev/null || fail "cpu usage: $output"
}

@test "update --memory, -r FILE and -r - change memory.max in the guest's cgroup" {
	require_shared
	run shared_runk exec shared cat /sys/fs/cgroup/memory.max
	assert_success
	[ "$output" != 67108864 ] || fail "memory.max already 67108864"

	shared_runk update --memory 67108864 shared
	run shared_runk exec shared cat /sys/fs/cgroup/memory.max
	assert_success
	[ "$output" = 67108864 ] || fail "memory.max after --memory 67108864: $output"

	echo '{"memory": {"limit": 100663296}}' >"$BATS_TEST_TMPDIR/r.json"
	shared_runk update -r "$BATS_TEST_TMPDIR/r.json" shared
	run shared_runk exec shared cat /sys/fs/cgroup/memory.max
	[ "$output" = 100663296 ] || fail "memory.max after -r FILE: $output"

	# containerd's shim sends the resources on stdin.
	echo '{"memory": {"limit": 134217728}, "pids": {"limit": 99}}' |
		shared_runk update --resources - shared
	run shared_runk exec shared cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max
	[ "${lines[0]}" = 134217728 ] || fail "memory.max after -r -: $output"
	[ "${lines[1]}" = 99 ] || fail "pids.max after -r -: $output"

	shared_runk update --pids-limit 200 shared
	run shared_runk exec shared cat /sys/fs/cgroup/pids.max
	[ "$output" = 200 ] || fail "pids.max after --pids-limit 200: $output"
}

# A hook that appends its name to $TEST_DIR/order and saves the state it got on stdin.
hook() {
	jq -n --arg dir "$TEST_DIR" --arg name "$1" '{path: "/bin/sh",
		args: ["sh", "-c", "cat >\"$0/hook-$1.json\"; echo $1 >>\"$0/order\"", $dir, $name]}'
}

@test "hooks prestart, createRuntime, poststart, poststop run in order with the state on stdin" {
	require_vm
	make_bundle "$BUNDLE" true
	local h
	for h in prestart createRuntime poststart poststop; do
		bundle_jq "$BUNDLE" ".hooks.$h = [$(hook "$h")]"
	done
	create h1
	[ "$(cat "$TEST_DIR/order" | tr '\n' ' ')" = "prestart createRuntime " ] ||
		fail "hooks after create: $(cat "$TEST_DIR/order" 2>/dev/null)"
	runk start h1
	wait_for_status h1 stopped
	runk delete h1
	[ "$(cat "$TEST_DIR/order" | tr '\n' ' ')" = "prestart createRuntime poststart poststop " ] ||
		fail "hook order: $(cat "$TEST_DIR/order")"
	local pid
	pid=$(cat "$TEST_DIR/h1.pid")
	for h in prestart createRuntime poststart poststop; do
		jq -e '.id == "h1"' "$TEST_DIR/hook-$h.json" >/dev/null ||
			fail "$h got: $(cat "$TEST_DIR/hook-$h.json")"
		jq -e --arg b "$BUNDLE" '.bundle == $b' "$TEST_DIR/hook-$h.json" >/dev/null ||
			fail "$h: bundle: $(cat "$TEST_DIR/hook-$h.json")"
	done
	for h in prestart createRuntime; do
		jq -e '.status == "creating" or .status == "created"' "$TEST_DIR/hook-$h.json" >/dev/null ||
			fail "$h: status: $(cat "$TEST_DIR/hook-$h.json")"
		jq -e --argjson pid "$pid" '.pid == $pid' "$TEST_DIR/hook-$h.json" >/dev/null ||
			fail "$h: pid is not the shim's $pid: $(cat "$TEST_DIR/hook-$h.json")"
	done
	jq -e '.status == "running"' "$TEST_DIR/hook-poststart.json" >/dev/null ||
		fail "poststart: status: $(cat "$TEST_DIR/hook-poststart.json")"
	jq -e '.status == "stopped"' "$TEST_DIR/hook-poststop.json" >/dev/null ||
		fail "poststop: status: $(cat "$TEST_DIR/hook-poststop.json")"
	assert_nothing_left
}

@test "a failing createRuntime hook fails create and leaves nothing" {
	require_vm
	make_bundle "$BUNDLE" true
	bundle_jq "$BUNDLE" '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "echo hook-says-no >&2; exit 3"]}]'
	local status=0
	runk create --bundle "$BUNDLE" hf </dev/null >"$TEST_DIR/out" 2>&1 || status=$?
	[ "$status" -ne 0 ] || fail "create succeeded: $(cat "$TEST_DIR/out")"
	grep -q createRuntime "$TEST_DIR/out" || fail "error does not name the hook: $(cat "$TEST_DIR/out")"
	run runk state hf
	assert_failure
	assert_nothing_left
}

@test "a createRuntime hook that outlives its timeout fails create and leaves nothing" {
	require_vm
	make_bundle "$BUNDLE" true
	# A copy of sleep under TEST_DIR, so assert_nothing_left sees it if runk leaves it running.
	cp /bin/sleep "$TEST_DIR/hook-sleep"
	bundle_jq "$BUNDLE" ".hooks.createRuntime = [{path: \"$TEST_DIR/hook-sleep\", args: [\"sleep\", \"600\"], timeout: 1}]"
	local status=0
	timeout -k 10 300 "$RUNK_BIN" --root "$ROOT" create --bundle "$BUNDLE" ht </dev/null >"$TEST_DIR/out" 2>&1 ||
		status=$?
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "create: status $status: $(cat "$TEST_DIR/out")"
	run runk state ht
	assert_failure
	assert_nothing_left
}
