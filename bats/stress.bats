#!/usr/bin/env bats
# contrib/bench/stress.sh for 60 s (STRESS_DURATION): parallel create/start/exec/
# kill/delete loops on distinct ids and on one shared id.  No leftovers, no
# corrupt state.json, and `runk list` never fails.

load helpers

setup() {
	setup_runk
}

teardown() {
	teardown_runk
}

@test "a 60-second storm: no leftovers, no corrupt state.json, runk list never fails" {
	require_vm
	local rc=0
	DURATION=${STRESS_DURATION:-60} DISTINCT=${STRESS_DISTINCT:-8} SHARED=${STRESS_SHARED:-4} \
		RUNK=$RUNK_BIN WORKDIR=$TEST_DIR/stress ROOT=$ROOT KEEP_WORKDIR=1 \
		"$SRCDIR/contrib/bench/stress.sh" >"$TEST_DIR/stress.out" 2>&1 || rc=$?
	sed 's/^/# /' "$TEST_DIR/stress.out" >&3
	[ "$rc" = 0 ] || fail "stress.sh failed ($rc): $(cat "$TEST_DIR/stress.out")"
	grep -q '^leftovers: 0$' "$TEST_DIR/stress.out" || fail "leftovers"
	grep -q '^corrupt state.json: 0$' "$TEST_DIR/stress.out" || fail "corrupt state.json"
	grep -q '^runk list failures: 0$' "$TEST_DIR/stress.out" || fail "runk list failed"
	local ops
	ops=$(sed -n 's/^operations: \([0-9]*\).*/\1/p' "$TEST_DIR/stress.out")
	[ "${ops:-0}" -gt 0 ] || fail "no operations done"
	assert_nothing_left
}
