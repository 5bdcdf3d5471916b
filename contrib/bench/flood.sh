#!/bin/bash
# contrib/bench/flood.sh: a container floods stdout (FLOOD_MIB, default 1024)
# to a reader that stalls 3 s and then reads at most 64 MiB/s; prints the
# shim's peak RSS (VmHWM) and fails above 32 MiB.  It is the flood test of
# bats/exhaustion.bats (CI runs it with 256 MiB).
# Environment: RUNK_BUILDDIR (default ./build), RUNK_TEST_TEMPLATE_DIR.
set -eu
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
FLOOD_MIB=${FLOOD_MIB:-1024} exec bats --filter flooding "$SRCDIR/bats/exhaustion.bats"
