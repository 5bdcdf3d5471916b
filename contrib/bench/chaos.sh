#!/bin/bash
# contrib/bench/chaos.sh [SEEDS]: the long run of bats/chaos.bats: kill -9 of
# the shim, of QEMU and of the `runk create` caller at SEEDS (default 500)
# seeded random moments each.  For every seed the container's state answers,
# `runk delete --force` succeeds and nothing is left (no QEMU, shim, mount,
# cgroup or state dir).  Prints the outcomes per victim and the bats summary;
# exits non-zero if any seed failed.
#
# Run from a built tree: RUNK_BUILDDIR (default ./build) as for the bats suite.
set -u

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
SEEDS=${1:-500}
out=$(mktemp /tmp/runk-chaos.XXXXXX)
trap 'rm -f "$out"' EXIT

start=$(date +%s)
CHAOS_SEEDS=$SEEDS RUNK_BUILDDIR=${RUNK_BUILDDIR:-$SRCDIR/build} \
	bats --tap "$SRCDIR/bats/chaos.bats" 2>&1 | tee "$out" | grep -E '^(not )?ok '
status=${PIPESTATUS[0]}
end=$(date +%s)

echo
echo "seeds per kill test: $SEEDS, $((end - start)) s"
# chaos.bats reports each seed as "# seed N: VICTIM (pid P) at D ms; ...".
for victim in shim qemu caller; do
	n=$(grep -cE "^# seed [0-9]+: $victim " "$out")
	echo "killed the $victim: $n times"
done
echo "bats: $(grep -cE '^ok ' "$out") passed, $(grep -cE '^not ok ' "$out") failed"
exit "$status"
