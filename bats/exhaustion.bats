#!/usr/bin/env bats
# Exhaustion: a state root on a tmpfs that is full, QEMU that cannot get its
# memory, a low fd limit, and a container flooding stdout to a slow reader.
# Each fails with an error naming the cause (or works), leaves nothing behind,
# and the shim's memory stays bounded under the flood.
# FLOOD_MIB (default 256) sets the flood; contrib/bench can run 1024.

load helpers

setup() {
	setup_runk
	BUNDLE=$TEST_DIR/bundle
	ID=exh$$-$BATS_TEST_NUMBER
	TINY=""
}

teardown() {
	if [ -n "$TINY" ] && mountpoint -q "$TINY"; then
		# Containers first (their sockets live there), then the mount.
		teardown_runk_ids "$TINY"
		umount "$TINY"
	fi
	teardown_runk
}

# teardown_runk_ids ROOT: delete --force every container under ROOT.
teardown_runk_ids() {
	local id
	for id in $(ls "$1"); do
		"$RUNK_BIN" --root "$1" delete --force "$id" >/dev/null 2>&1 || true
	done
}

# try_create [ULIMIT-ARGS]: runk create of ID under `ulimit ULIMIT-ARGS`; sets rc and out.
# Output goes to a file, never a pipe: a shim that lives would hold a pipe open.
try_create() {
	rc=0
	(
		[ $# -eq 0 ] || ulimit "$@" || exit 99
		exec "$RUNK_BIN" --root "$ROOT" create --bundle "$BUNDLE" "$ID"
	) </dev/null >"$TEST_DIR/create.out" 2>&1 || rc=$?
	out=$(cat "$TEST_DIR/create.out")
}

# No template: a clone failing under the caller's limits would remove the shared template.
no_templates() {
	sed -i 's/^template = .*/template = false/' "$RUNK_CONF"
}

@test "a full tmpfs as --root: create fails naming ENOSPC at every stage, nothing half-written" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	no_templates
	TINY=$TEST_DIR/tiny
	mkdir "$TINY"
	mount -t tmpfs -o size=64k,mode=0711 tmpfs "$TINY" || skip "cannot mount a tmpfs"
	ROOT=$TINY
	local free out rc
	# 0: the first file; 8k: the share's config.json (in the shim); 16k: state.json (VM booted).
	for free in 0 8 16; do
		rm -f "$TINY/.fill"
		dd if=/dev/zero of="$TINY/.fill" bs=4k count=$((16 - free / 4)) status=none 2>/dev/null || true
		try_create
		echo "# ${free}k free: create -> $rc: $out" >&3
		[ "$rc" != 0 ] || fail "create succeeded with ${free}k free"
		[[ $out == *"No space left on device"* ]] || fail "the error does not name ENOSPC: $out"
		[ "$(ls -A "$TINY")" = .fill ] || fail "left in the root with ${free}k free: $(ls -A "$TINY")"
		run -1 runk state "$ID"
		assert_output --partial "does not exist"
	done
	rm -f "$TINY/.fill"
	[ -z "$(ls -A "$TINY")" ] || fail "left in the root: $(ls -A "$TINY")"
	umount "$TINY"
	TINY=""
	assert_nothing_left "$ID"
}

@test "QEMU that cannot get its memory (ulimit -v): create fails with QEMU's reason, nothing left" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	no_templates
	local out rc
	try_create -v 300000
	echo "# create under ulimit -v 300000 -> $rc: $out" >&3
	[ "$rc" != 0 ] || fail "create succeeded under ulimit -v"
	[[ $out == *"QEMU exited"*"Cannot allocate memory"* ]] || fail "unclear error: $out"
	run -1 runk state "$ID"
	assert_nothing_left "$ID"
}

@test "a low fd limit: create works or fails naming EMFILE, nothing left" {
	require_vm
	make_bundle "$BUNDLE" sleep 100000
	no_templates
	local n out rc
	for n in 20 10; do
		try_create -n "$n"
		echo "# create under ulimit -n $n -> $rc: $out" >&3
		if [ "$rc" = 0 ]; then
			# It fit: the container works all the way.
			runk start "$ID"
			run -0 runk exec "$ID" echo fits
			assert_output fits
			runk kill "$ID" KILL
			runk delete --force "$ID"
		else
			[[ $out == *"Too many open files"* ]] || fail "unclear error under ulimit -n $n: $out"
			run -1 runk state "$ID"
		fi
		assert_nothing_left "$ID"
	done
}

# The shim writes each frame before it reads the next: a stalled reader stalls
# the agent (backpressure) instead of growing a buffer.
@test "a container flooding stdout to a slow reader: the shim's peak RSS stays under 32 MiB" {
	require_vm
	local mib=${FLOOD_MIB:-256} run shim="" i hwm=0 v got
	make_bundle "$BUNDLE" sh -c "head -c $((mib * 1048576)) /dev/zero"
	mkfifo "$TEST_DIR/out.fifo"
	runk run --bundle "$BUNDLE" "$ID" </dev/null >"$TEST_DIR/out.fifo" 2>"$TEST_DIR/err" &
	run=$!
	# The reader: stalls 3 s once the flood is on, then reads at most 64 MiB/s, counting bytes.
	python3 -c '
import sys, time
f = open(sys.argv[1], "rb", buffering=0)
total = len(f.read(65536))
time.sleep(3)
start = time.monotonic()
while True:
    b = f.read(65536)
    if not b:
        break
    total += len(b)
    ahead = total / (64 << 20) - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)
print(total)
' "$TEST_DIR/out.fifo" >"$TEST_DIR/count" &
	local reader=$!
	for i in $(seq 1200); do
		shim=$(jq -r '.pid // empty' "$ROOT/$ID/state.json" 2>/dev/null) && [ -n "$shim" ] && break
		kill -0 "$run" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$shim" ] || fail "no shim: $(cat "$TEST_DIR/err")"
	# VmHWM only grows: the last value read before the shim exits is its peak.
	while v=$(awk '/^VmHWM:/ {print $2}' "/proc/$shim/status" 2>/dev/null) && [ -n "$v" ]; do
		hwm=$v
		sleep 0.2
	done
	wait "$run" || fail "runk run failed ($?): $(cat "$TEST_DIR/err")"
	wait "$reader"
	got=$(cat "$TEST_DIR/count")
	echo "# flood of $mib MiB: shim peak RSS (VmHWM) $((hwm / 1024)) MiB, $got bytes read" >&3
	[ "$got" = $((mib * 1048576)) ] || fail "read $got bytes of $((mib * 1048576))"
	[ "$hwm" -gt 0 ] || fail "no VmHWM read"
	[ "$hwm" -lt $((32 * 1024)) ] || fail "the shim's peak RSS is $((hwm / 1024)) MiB"
	assert_nothing_left "$ID"
}
