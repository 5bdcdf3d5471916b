#!/usr/bin/env bats
# kill -9 at seeded random moments of `runk create` — of the shim, of QEMU, of
# the caller — then `runk state` answers, `runk delete --force` cleans up, and
# nothing is left (state dir, QEMU, shim, mounts, host cgroups).
# CHAOS_SEEDS (default 24) seeds; delays spread over 0–2 s after create starts.

load helpers

setup() {
	setup_runk
	BUNDLE=$TEST_DIR/bundle
	# Host cgroups are named by id: unique ids, as other suites may run at once.
	ID=chaos$$-q
}

teardown() {
	teardown_runk
}

# assert_no_leftovers ID: assert_nothing_left, host cgroups of ID included.
assert_no_leftovers() {
	assert_nothing_left "$1"
}

children_of() {
	cat "/proc/$1/task/$1/children" 2>/dev/null
}

# The shim: state.json's pid once it exists, else the create caller's child.
shim_pid() {
	local id=$1 caller=$2 pid
	pid=$(jq -r '.pid // empty' "$ROOT/$id/state.json" 2>/dev/null) || pid=""
	[ -n "$pid" ] || pid=$(children_of "$caller" | awk '{print $1}')
	echo "$pid"
}

# chaos_one SEED: one create, one kill -9, then the checks.  Prints what it did.
chaos_one() {
	local seed=$1 id=chaos$$-$1 target delay_ms caller victim="" st rc i
	RANDOM=$seed
	delay_ms=$((RANDOM % 2000))
	local -a targets=(${CHAOS_TARGETS:-shim qemu caller})
	target=${targets[$(((seed + RANDOM) % ${#targets[@]}))]}
	"$RUNK_BIN" --root "$ROOT" create --bundle "$BUNDLE" "$id" \
		</dev/null >"$TEST_DIR/$id.out" 2>&1 &
	caller=$!
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	case $target in
	caller) victim=$caller ;;
	shim) victim=$(shim_pid "$id" "$caller") ;;
	qemu)
		victim=$(shim_pid "$id" "$caller")
		[ -z "$victim" ] || victim=$(qemu_of "$victim")
		;;
	esac
	[ -z "$victim" ] || kill -9 "$victim" 2>/dev/null || true
	# The caller returns (it may have finished before the kill); at most 120 s.
	wait_gone "$caller" 1200 || fail "seed $seed: runk create still running 120 s after killing the $target"
	wait "$caller" 2>/dev/null || true
	echo "# seed $seed: $target (pid ${victim:-none}) at ${delay_ms} ms; create said: $(tail -c 200 "$TEST_DIR/$id.out" | tr '\n' ' ')" >&3
	# state answers: a status, or an error with a message.  Never hangs.
	rc=0
	st=$(timeout 10 "$RUNK_BIN" --root "$ROOT" state "$id" 2>&1) || rc=$?
	[ "$rc" != 124 ] || fail "seed $seed: runk state hung"
	if [ "$rc" = 0 ]; then
		jq -e '.status | IN("created","running","stopped","paused","creating")' <<<"$st" >/dev/null ||
			fail "seed $seed: state: $st"
	else
		[ -n "$st" ] || fail "seed $seed: runk state failed silently"
	fi
	# delete --force succeeds, also when create cleaned up after itself (as with runc).
	st=$(timeout 30 "$RUNK_BIN" --root "$ROOT" delete --force "$id" 2>&1) ||
		fail "seed $seed: delete --force failed: $st"
	assert_no_leftovers "$id"
}

@test "kill -9 of the shim or QEMU at random moments of create: state answers, delete --force cleans up" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	local seed
	for seed in $(seq 1 "${CHAOS_SEEDS:-24}"); do
		CHAOS_TARGETS="shim qemu" chaos_one "$seed"
	done
}

# The shim records its own pid first, so delete finds it even when the caller died before state.json.
@test "kill -9 of the create caller at random moments: delete --force cleans up" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	local seed
	for seed in $(seq 1 "${CHAOS_SEEDS:-24}"); do
		CHAOS_TARGETS=caller chaos_one "$seed"
	done
}

@test "QEMU killed while a container runs: state says stopped within 2 s" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	runk create --bundle "$BUNDLE" $ID </dev/null >"$TEST_DIR/out" 2>&1 || fail "create: $(cat "$TEST_DIR/out")"
	runk start $ID
	[ "$(status_of $ID)" = running ]
	local shim qemu i st=""
	shim=$(runk state $ID | jq -r .pid)
	qemu=$(qemu_of "$shim")
	[ -n "$qemu" ] || fail "no QEMU under the shim $shim"
	kill -9 "$qemu"
	for i in $(seq 20); do
		st=$(runk state $ID 2>/dev/null | jq -r .status) || st=""
		[ "$st" = stopped ] && break
		sleep 0.1
	done
	[ "$st" = stopped ] || fail "2 s after QEMU was killed the status is '$st'"
	runk delete $ID
	assert_no_leftovers $ID
}

@test "QEMU killed under a foreground runk run: runk run exits 137, as for a killed container" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	runk run --bundle "$BUNDLE" $ID </dev/null >"$TEST_DIR/out" 2>&1 &
	local run=$! shim="" qemu="" i rc=0
	for i in $(seq 600); do
		[ "$(runk state $ID 2>/dev/null | jq -r .status)" = running ] && break
		sleep 0.1
	done
	shim=$(runk state $ID | jq -r .pid)
	qemu=$(qemu_of "$shim")
	[ -n "$qemu" ] || fail "no QEMU under the shim $shim"
	kill -9 "$qemu"
	wait_gone "$run" 100 || fail "runk run still running 10 s after QEMU was killed"
	wait "$run" || rc=$?
	echo "# runk run exited $rc: $(tail -c 200 "$TEST_DIR/out")" >&3
	[ "$rc" = 137 ] || fail "runk run exited $rc after QEMU was killed, not 137: $(cat "$TEST_DIR/out")"
	grep -q "QEMU was killed" "$TEST_DIR/out" || fail "the log does not say QEMU was killed: $(cat "$TEST_DIR/out")"
	runk delete --force $ID 2>/dev/null || true
	assert_no_leftovers $ID
}
