#!/usr/bin/env bats
# A hostile guest: the test-only agent of `make guest-hostile`
# (src/agent/hostile.c) breaks the protocol on purpose, chosen by
# runk.hostile=MODE (and runk.hostile_at=OP, the request it misbehaves on) on
# the kernel command line.  For each way: the shim stays within bounded
# memory, logs the violation, stops the VM, the container is reported stopped
# (or create fails) with an error naming the violation, and nothing is left.

load helpers

HOSTILE_INITRD=${RUNK_HOSTILE_INITRD:-$BUILDDIR/guest/out-hostile/initrd.cpio}
# The shim's peak RSS may not pass this: a 16 MiB frame buffered would.
SHIM_MAX_HWM_KB=16384

setup() {
	require_vm
	[ -f "$HOSTILE_INITRD" ] || skip "no hostile guest at $HOSTILE_INITRD (run make guest-hostile)"
	setup_runk
	LOG=$TEST_DIR/runk.log
	BUNDLE=$TEST_DIR/bundle
	make_bundle "$BUNDLE" sleep 1000
}

teardown() {
	teardown_runk
}

# hostile MODE [OP]: the next VMs boot the hostile agent in MODE, misbehaving on OP.
hostile() {
	local mode=$1 at=${2:-create}
	cat >"$RUNK_CONF" <<-CONF
		[hypervisor]
		kernel = $GUEST_KERNEL
		initrd = $HOSTILE_INITRD
		kernel_params = runk.hostile=$mode runk.hostile_at=$at
		boot_timeout = 60
		[agent]
		timeout = 5
		[factory]
		template = false
	CONF
}

hrunk() {
	runk --log "$LOG" --debug "$@"
}

# The shim's peak RSS in kB, from the line it logs as it exits.
shim_peak_kb() {
	local kb
	kb=$(grep -o 'peak RSS [0-9]* kB' "$LOG" | tail -1 | awk '{print $3}')
	[ -n "$kb" ] || fail "the shim logged no peak RSS: $(tail -5 "$LOG")"
	echo "$kb"
}

assert_bounded() {
	local kb
	kb=$(shim_peak_kb)
	echo "shim peak RSS: $kb kB" >&3
	[ "$kb" -lt "$SHIM_MAX_HWM_KB" ] || fail "shim peak RSS $kb kB >= $SHIM_MAX_HWM_KB kB"
}

# create_fails MODE TEXT: create fails naming TEXT, which the log has too; nothing is left.
create_fails() {
	local mode=$1 text=$2 id=h-$1
	hostile "$mode"
	run hrunk create --bundle "$BUNDLE" "$id" </dev/null
	assert_failure
	assert_output --partial "$text"
	grep -qF -- "$text" "$LOG" || fail "the log does not name the violation: $(tail -5 "$LOG")"
	assert_bounded
	run runk state "$id"
	assert_failure
	assert_nothing_left
}

# started_container MODE OP ID [FLAG]: a container created with the hostile agent in
# MODE misbehaving on OP, SHIM its shim's pid.  FLAG (default --debug) goes to runk.
started_container() {
	local mode=$1 at=$2 id=$3 debug=${4:---debug}
	hostile "$mode" "$at"
	runk --log "$LOG" $debug create --bundle "$BUNDLE" "$id" </dev/null >"$TEST_DIR/create.out" 2>&1 ||
		fail "create: $(cat "$TEST_DIR/create.out")"
	SHIM=$(jq -r .pid "$ROOT/$id/state.json")
}

assert_stopped_by() {
	local id=$1 text=$2
	wait_for_status "$id" stopped
	wait_until_text "$LOG" "$text"
	grep -F -- "$text" "$LOG" | grep -q 'level=error' || fail "not logged as an error: $text"
	# The shim is gone, and with it QEMU.
	! kill -0 "$SHIM" 2>/dev/null || fail "the shim $SHIM still runs"
	assert_bounded
	runk delete "$id"
	assert_nothing_left
}

@test "hostile guest: an oversized frame is refused before its payload is read" {
	create_fails oversized "RESPONSE frame payload of 16777216 bytes exceeds the 1048576 byte limit"
}

@test "hostile guest: a truncated frame (the guest powers off inside it)" {
	create_fails truncated "stream ended inside a frame"
}

@test "hostile guest: a frame of an unknown type" {
	create_fails unknown-type "frame of unknown type 99"
}

@test "hostile guest: a reply that is not JSON" {
	create_fails bad-json "agent sent a bad frame"
}

@test "hostile guest: a reply to a request never made (at create)" {
	create_fails unsolicited "RESPONSE to request 4242, which is not pending"
}

@test "hostile guest: a guest that never replies fails create after [agent] timeout" {
	create_fails silent "timed out after 5 s waiting for the agent's reply"
}

@test "hostile guest: a reply to a request never made fails start and stops the container" {
	started_container unsolicited start h-unsol
	run runk start h-unsol
	assert_failure
	assert_output --partial "RESPONSE to request 4242, which is not pending"
	assert_stopped_by h-unsol "RESPONSE to request 4242, which is not pending"
}

@test "hostile guest: an exit status for a stream that is not its container's stops it" {
	started_container foreign-exit start h-foreign
	runk start h-foreign
	assert_stopped_by h-foreign "event for unknown stream 77"
}

@test "hostile guest: a guest that stops replying is stopped when a request times out" {
	started_container silent signal h-silent
	runk start h-silent
	# runk kill gets no answer: the shim gives up after 5 s and stops the VM.
	run runk kill h-silent TERM
	assert_stopped_by h-silent "timed out after 5 s waiting for the agent's reply"
}

@test "hostile guest: a flood of frames neither starves the shim nor grows it" {
	local rchar0 rchar1 t0 t1 i hwm
	# No --debug: every ignored frame would be a log line.
	started_container flood start h-flood --log-format=text
	runk start h-flood
	sleep 2
	rchar0=$(awk '/^rchar/ {print $2}' "/proc/$SHIM/io")
	t0=$(date +%s%N)
	# The control socket still answers while the frames pour in.
	for i in 1 2 3; do
		run timeout 20 "$RUNK_BIN" --root "$ROOT" state h-flood
		assert_success
		assert_output --partial '"status": "running"'
	done
	rchar1=$(awk '/^rchar/ {print $2}' "/proc/$SHIM/io")
	t1=$(date +%s%N)
	echo "3 state calls in $(((t1 - t0) / 1000000)) ms while the shim read" \
		"$(((rchar1 - rchar0) / 1024)) KiB of frames" >&3
	# More than one whole frame: the flood was on while the shim answered.
	[ $((rchar1 - rchar0)) -gt 1048576 ] || fail "no flood: the shim read $((rchar1 - rchar0)) bytes"
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$SHIM/status")
	echo "shim peak RSS under the flood: $hwm kB" >&3
	[ "$hwm" -lt "$SHIM_MAX_HWM_KB" ] || fail "shim peak RSS $hwm kB under the flood"
	run timeout 30 "$RUNK_BIN" --root "$ROOT" kill h-flood KILL
	assert_success
	wait_for_status h-flood stopped
	runk delete h-flood
	assert_nothing_left
}
