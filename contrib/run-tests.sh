#!/bin/bash
# Install what runk needs, build it, and run every test: C unit tests (also
# under AddressSanitizer + UBSan), the fuzz targets, clang-format, and the bats
# integration tests with real VMs.  Ends with one line "N passed, N failed,
# N skipped" and exits non-zero if anything failed.
#
# Environment: FUZZ_SECONDS (default 45: five targets), BATS_FILTER (a bats --filter regex),
# SKIP_INSTALL=1 (do not run install-deps.sh).
set -uo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRCDIR/build
ASAN_BUILD=$SRCDIR/build-asan
RESULTS=$(mktemp -d /tmp/runk-results.XXXXXX)
FUZZ_SECONDS=${FUZZ_SECONDS:-45}
passed=0
failed=0
skipped=0

trap 'rm -rf "$RESULTS"' EXIT

step() { printf '\n=== %s\n' "$*"; }

# record NAME STATUS: one result that is not a TAP test (a build, a sanitizer run, the fuzzer).
record() {
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok - $1"
	else
		failed=$((failed + 1))
		echo "not ok - $1"
	fi
}

# count_tap FILE: add a TAP stream's results.
count_tap() {
	local p f s
	p=$(grep -cE '^ok ' "$1" | tr -d ' ')
	s=$(grep -cE '^ok .*# (skip|SKIP)' "$1" | tr -d ' ')
	f=$(grep -cE '^not ok ' "$1" | tr -d ' ')
	passed=$((passed + p - s))
	skipped=$((skipped + s))
	failed=$((failed + f))
}

summary() {
	echo
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit $?
}

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
	step "install dependencies"
	"$SRCDIR/contrib/install-deps.sh" || { record "install-deps.sh" 1; summary; }
fi

step "build (-Werror, with fault injection for bats/faults.bats)"
(cd "$SRCDIR" && ./autogen.sh >/dev/null 2>&1) || { record "autogen.sh" 1; summary; }
mkdir -p "$BUILD"
if (cd "$BUILD" && "$SRCDIR/configure" --enable-werror --enable-fault-injection -q && make -j"$(nproc)" -s); then
	record "build with -Wall -Wextra -Werror" 0
else
	record "build with -Wall -Wextra -Werror" 1
	summary
fi

step "guest image"
# runk's own kernel (the default): built once per machine, then cached.
(cd "$BUILD" && make -s guest)
record "make guest" $?

step "hostile guest image"
# The test-only agent of bats/hostile-guest.bats, packed with the cached kernel.
(cd "$BUILD" && make -s guest-hostile)
record "make guest-hostile" $?

step "guest image with Debian's kernel"
# The --with-guest-kernel=debian path, into its own dir: one bats file runs on it.
DEBIAN_GUEST=guest/out-debian
(cd "$BUILD" && make -s guest GUEST_KERNEL=debian GUEST_OUT=$DEBIAN_GUEST)
debian_guest=$?
record "make guest GUEST_KERNEL=debian" $debian_guest

step "unit tests"
(cd "$BUILD" && make -s -j"$(nproc)" check >/dev/null 2>&1)
for log in "$BUILD"/tests/*.log; do
	[ -f "$log" ] || continue
	[ "$(basename "$log")" = test-suite.log ] && continue
	count_tap "$log"
	grep -E '^not ok ' "$log" | sed "s|^|$(basename "$log" .log): |"
done

step "unit tests under AddressSanitizer + UBSan"
# check-TESTS builds only the tests: the static agent cannot link with ASan.
mkdir -p "$ASAN_BUILD"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
(cd "$ASAN_BUILD" && "$SRCDIR/configure" -q CFLAGS="-O1 -g $san -fno-omit-frame-pointer" \
	LDFLAGS="$san" && make -s -j"$(nproc)" check-TESTS >/dev/null 2>&1)
status=$?
[ $status -eq 0 ] || cat "$ASAN_BUILD"/tests/test-*.log 2>/dev/null | grep -vE '^ok ' | tail -40
record "unit tests under ASan+UBSan" $status
# The host binary too, for bats/leak.bats (LeakSanitizer on the shim).
(cd "$ASAN_BUILD" && make -s -j"$(nproc)" src/runk >/dev/null 2>&1)
record "runk built with ASan+UBSan" $?

step "fuzz (${FUZZ_SECONDS}s per target)"
(cd "$BUILD" && make -s fuzz-run FUZZ_SECONDS="$FUZZ_SECONDS" >"$RESULTS/fuzz.log" 2>&1)
status=$?
[ $status -eq 0 ] || tail -30 "$RESULTS/fuzz.log"
record "fuzz targets run ${FUZZ_SECONDS}s without a crash" $status

step "clang-format"
(cd "$SRCDIR" && clang-format --dry-run --Werror src/*.[ch] src/*/*.[ch] src/librunk/*/*.[ch] \
	libocispec/*.[ch] tests/*.[ch] tests/fuzz/*.c)
record "clang-format --dry-run --Werror" $?

step "bats integration tests"
# VM templates shared by the whole run, on tmpfs, removed at the end (see cleanup_templates).
export RUNK_TEST_TEMPLATE_DIR=/dev/shm/runk-ci-templates.$$
filter=()
[ -n "${BATS_FILTER:-}" ] && filter=(--filter "$BATS_FILTER")
RUNK_BUILDDIR=$BUILD bats --tap "${filter[@]}" "$SRCDIR"/bats/*.bats | tee "$RESULTS/bats.tap"
count_tap "$RESULTS/bats.tap"

step "bats run.bats on Debian's kernel, with VM templates off"
if [ $debian_guest -eq 0 ]; then
	RUNK_TEST_TEMPLATES=false RUNK_BUILDDIR=$BUILD RUNK_GUEST_KERNEL=$BUILD/$DEBIAN_GUEST/vmlinux \
		RUNK_GUEST_INITRD=$BUILD/$DEBIAN_GUEST/initrd.cpio \
		bats --tap "${filter[@]}" "$SRCDIR"/bats/run.bats |
		sed -E 's/^((not )?ok [0-9]+ )/\1[debian kernel] /' | tee "$RESULTS/bats-debian.tap"
	count_tap "$RESULTS/bats-debian.tap"
else
	echo "skipped: no Debian-kernel guest image"
fi

# Template builders run in the background: let them finish before the directory goes.
for _ in $(seq 60); do
	ls -d "$RUNK_TEST_TEMPLATE_DIR"/.build-* >/dev/null 2>&1 || break
	sleep 1
done
# Pooled VMs end within a second of their entries going (their keepers watch them).
rm -rf "$RUNK_TEST_TEMPLATE_DIR" "$RUNK_TEST_TEMPLATE_DIR-fac"

summary
