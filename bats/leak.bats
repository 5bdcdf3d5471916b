#!/usr/bin/env bats
# Leaks: one container gets 100 execs and 100 signals (contrib/bench/leak.sh,
# which runs 1000 and 10000); its shim's fd count must not grow, its RSS must
# stay flat, and a runk built with AddressSanitizer (build-asan, as CI makes
# it) must write no leak or sanitizer report -- the shim runs LeakSanitizer
# before it exits.

load helpers

RUNK_ASAN_BIN=${RUNK_ASAN_BIN:-$SRCDIR/build-asan/src/runk}

setup() {
	require_vm
	setup_runk
}

teardown() {
	teardown_runk
}

# leak_run RUNK [ENV...]: the bench with CI's counts, in the test dir, its summary on fd 3.
leak_run() {
	local bin=$1
	shift
	run env RUNK="$bin" WORKDIR="$TEST_DIR" KEEP=1 EXECS=${LEAK_EXECS:-100} \
		SIGNALS=${LEAK_SIGNALS:-100} STEP=50 "$@" "$SRCDIR/contrib/bench/leak.sh"
	echo "$output" | grep -E '^(execs|shim|sanitizer|FAIL)' | sed 's/^/# /' >&3
	assert_success
	assert_output --partial "sanitizer reports: 0"
	assert_nothing_left
}

@test "leak: the shim's fds and RSS stay flat across 100 execs and 100 signals" {
	leak_run "$RUNK_BIN" RSS_SLACK_KB=512
}

@test "leak: no LeakSanitizer report from an ASan-built runk and its shim" {
	[ -x "$RUNK_ASAN_BIN" ] ||
		skip "no ASan-built runk at $RUNK_ASAN_BIN (make src/runk in an ASan build; CI does)"
	# ASan's quarantine holds freed memory for a while: RSS may grow by its size.
	leak_run "$RUNK_ASAN_BIN" RSS_SLACK_KB=8192
}
