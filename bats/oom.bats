#!/usr/bin/env bats
# The guest enforces the container's memory limit: an OOM kill inside the VM is
# reported as an oom event and exit 137, and the VM survives to report it.

load helpers

setup() {
	setup_runk
	BUNDLE=$TEST_DIR/bundle
}

teardown() {
	[ -n "${EVENTS_PID:-}" ] && kill "$EVENTS_PID" 2>/dev/null
	teardown_runk
}

@test "oom: a process past the memory limit dies with 137, events reports oom, the VM lives on" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'while :; do sleep 1; done'
	bundle_jq "$BUNDLE" '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	runk --debug --log "$TEST_DIR/debug.log" run -d --bundle "$BUNDLE" m1 </dev/null >/dev/null 2>&1
	runk events --interval 500ms m1 >"$TEST_DIR/events" 2>&1 &
	EVENTS_PID=$!
	# The first stats line is the baseline an oom is counted from.
	for i in $(seq 100); do [ -s "$TEST_DIR/events" ] && break; sleep 0.1; done
	run runk exec m1 sh -c 'head -c 200m /dev/zero | tail'
	[ "$status" -eq 137 ] || fail "exec status $status: $output; $(grep -v forwarding "$TEST_DIR/debug.log")"
	for i in $(seq 100); do grep -q '"type":"oom"' "$TEST_DIR/events" && break; sleep 0.1; done
	grep -qx '{"type":"oom","id":"m1"}' "$TEST_DIR/events" || fail "no oom event: $(cat "$TEST_DIR/events")"
	kill "$EVENTS_PID"
	wait "$EVENTS_PID" || true
	EVENTS_PID=
	[ "$(runk state m1 | jq -r .status)" = running ]
	run runk exec m1 cat /sys/fs/cgroup/memory.events
	runk delete --force m1
	assert_nothing_left
}
