#!/usr/bin/env bats
# Fault injection: with runk built by ./configure --enable-fault-injection,
# RUNK_FAULT=<point> kills (SIGKILL) whichever runk process reaches the point:
# the CLI or the shim (docs/testing.md lists the points).  For every point the
# command fails with an error, `runk state` still answers (a status or an error
# naming the cause), `runk list` works, `runk delete --force` succeeds (also when create already
# undid its own work: as with runc, a container that is not there is deleted), and nothing is left:
# no QEMU, shim, mount, host cgroup, socket or state dir.

load helpers

setup() {
	setup_runk
	"$RUNK_BIN" --version | grep -q '^fault-injection:' ||
		skip "runk was built without --enable-fault-injection (./configure --enable-fault-injection)"
	BUNDLE=$TEST_DIR/bundle
	# Host cgroups are named by id: unique ids, as other suites may run at once.
	ID=fault$$-$BATS_TEST_NUMBER
}

teardown() {
	teardown_runk
}

# must_fail_with_error CMD...: CMD exits non-zero and says something on stderr (or stdout).
must_fail_with_error() {
	local rc=0
	"$@" </dev/null >"$TEST_DIR/cmd.out" 2>&1 || rc=$?
	echo "# $* -> $rc: $(tail -c 300 "$TEST_DIR/cmd.out" | tr '\n' ' ')" >&3
	[ "$rc" != 0 ] || fail "$* succeeded despite RUNK_FAULT=${RUNK_FAULT:-}"
	[ -s "$TEST_DIR/cmd.out" ] || fail "$* failed ($rc) without a word"
}

# after_fault: state answers, delete --force succeeds, nothing of ID is left.
after_fault() {
	local rc=0 out
	out=$(timeout 20 "$RUNK_BIN" --root "$ROOT" state "$ID" 2>&1) || rc=$?
	[ "$rc" != 124 ] || fail "runk state hung"
	echo "# state -> $rc: $(tr '\n' ' ' <<<"$out" | tail -c 300)" >&3
	if [ "$rc" = 0 ]; then
		jq -e '.status | IN("created","running","stopped","paused","creating")' <<<"$out" >/dev/null ||
			fail "state: $out"
	else
		[[ $out == *"$ID"* ]] || fail "runk state failed ($rc) without naming the container: $out"
	fi
	# list neither blocks nor fails on what the fault left.
	out=$(timeout 20 "$RUNK_BIN" --root "$ROOT" list 2>&1) || fail "runk list after the fault: $out"
	# delete --force succeeds, also when runk create undid its own work (as with runc).
	out=$(timeout 60 "$RUNK_BIN" --root "$ROOT" delete --force "$ID" 2>&1) ||
		fail "delete --force after the fault: $out"
	assert_nothing_left "$ID"
}

# A create killed at POINT.
create_fault() {
	RUNK_FAULT=$1 must_fail_with_error runk create --bundle "$BUNDLE" "$ID"
	grep -qE "RUNK_FAULT: killed at \`$1\`" "$TEST_DIR/cmd.out" || fail "the fault at $1 was not reached"
	after_fault
}

@test "fault state-dir-created: create fails, state answers, delete --force cleans up" {
	make_bundle "$BUNDLE" sleep 100000
	create_fault state-dir-created
}

@test "fault cgroups-created: create fails, state answers, delete --force cleans up" {
	make_bundle "$BUNDLE" sleep 100000
	create_fault cgroups-created
}

@test "fault qemu-started (in the shim): create fails, state answers, delete --force cleans up" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	create_fault qemu-started
}

@test "fault agent-ready (in the shim): create fails, state answers, delete --force cleans up" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	create_fault agent-ready
}

@test "fault container-created (in the shim): create fails, state answers, delete --force cleans up" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	create_fault container-created
}

@test "fault mid-start (in the shim): start fails, state answers, delete --force cleans up" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	# The shim inherits RUNK_FAULT from create and reaches the point at start.
	RUNK_FAULT=mid-start runk create --bundle "$BUNDLE" "$ID" </dev/null >"$TEST_DIR/create.out" 2>&1 ||
		fail "create: $(cat "$TEST_DIR/create.out")"
	must_fail_with_error runk start "$ID"
	wait_for_status "$ID" stopped # the shim died: its container with it
	after_fault
}

@test "fault mid-kill (in the shim): kill fails, state answers, delete --force cleans up" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	RUNK_FAULT=mid-kill runk create --bundle "$BUNDLE" "$ID" </dev/null >"$TEST_DIR/create.out" 2>&1 ||
		fail "create: $(cat "$TEST_DIR/create.out")"
	runk start "$ID"
	# Not KILL: runk kill falls back to killing the VM itself when the shim fails a SIGKILL.
	must_fail_with_error runk kill "$ID" TERM
	wait_for_status "$ID" stopped
	after_fault
}

@test "fault mid-delete: delete fails, state answers, delete --force cleans up" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	runk create --bundle "$BUNDLE" "$ID" </dev/null >"$TEST_DIR/create.out" 2>&1 ||
		fail "create: $(cat "$TEST_DIR/create.out")"
	runk start "$ID"
	RUNK_FAULT=mid-delete must_fail_with_error runk delete --force "$ID"
	grep -q 'RUNK_FAULT: killed at `mid-delete`' "$TEST_DIR/cmd.out" || fail "the fault was not reached"
	after_fault
}
