#!/bin/bash
# contrib/bench/leak.sh: does one long-lived container's shim leak?
#
# One container (a shell that traps SIGUSR1) gets EXECS `runk exec ID true </dev/null`
# (default 1000) and SIGNALS `runk kill ID SIGUSR1` (default 10000), then a
# SIGTERM it exits 0 on.  The shim's open fds and RSS are sampled after a
# warm-up and every STEP operations; the first and last are printed.  With
# RUNK built with AddressSanitizer (./configure CFLAGS=-fsanitize=address ...;
# only the host binary: the static agent cannot link with ASan) every runk
# process and the shim itself (it checks before it exits) write leak reports
# to WORKDIR/asan, which must stay empty.
#
# Exits 1 if the fd count grew, RSS grew by more than RSS_SLACK_KB (default
# 2048), any sanitizer report was written, or the container did not end with 0.
#
# Environment: RUNK (the runk binary, default runk), RUNK_CONFIG (runk.conf),
# EXECS, SIGNALS, STEP (default 100), WORKDIR (default a temp dir, removed at
# the end unless KEEP=1), RSS_SLACK_KB.
set -u

RUNK=${RUNK:-runk}
EXECS=${EXECS:-1000}
SIGNALS=${SIGNALS:-10000}
STEP=${STEP:-100}
RSS_SLACK_KB=${RSS_SLACK_KB:-2048}
WORKDIR=${WORKDIR:-$(mktemp -d /tmp/runk-leak.XXXXXX)}
ROOT=$WORKDIR/state
ID=leak$$
mkdir -p "$WORKDIR/asan" "$ROOT"

# Reports go to files (the shim's stderr is not ours); a small quarantine keeps
# freed memory from counting as growth.
export ASAN_OPTIONS=${ASAN_OPTIONS:-log_path=$WORKDIR/asan/report:detect_leaks=1:quarantine_size_mb=4}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-log_path=$WORKDIR/asan/ubsan:print_stacktrace=1}

r() { "$RUNK" --root "$ROOT" "$@"; }

cleanup() {
	r delete --force "$ID" >/dev/null 2>&1
	[ "${KEEP:-0}" = 1 ] || rm -rf "$WORKDIR"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"
rootfs=$WORKDIR/rootfs
busybox_rootfs "$rootfs"
bundle=$WORKDIR/bundle
mkdir -p "$bundle"
ln -sfn "$rootfs" "$bundle/rootfs"
r spec -b "$bundle" || exit 1
# PID 1 of the container: USR1 is caught (and counted), TERM ends it with 0.
cat >"$rootfs/leak-init" <<'INIT'
#!/bin/sh
n=0
trap 'n=$((n + 1))' USR1
trap 'echo "usr1=$n"; exit 0' TERM
while :; do sleep 1; done
INIT
chmod 755 "$rootfs/leak-init"
jq '.process.args = ["/leak-init"] | .process.terminal = false' \
	"$bundle/config.json" >"$bundle/c.new" && mv "$bundle/c.new" "$bundle/config.json"

r create --bundle "$bundle" "$ID" </dev/null >"$WORKDIR/init.out" 2>&1 || {
	echo "create failed: $(cat "$WORKDIR/init.out")"
	exit 1
}
r start "$ID" || exit 1
shim=$(jq -r .pid "$ROOT/$ID/state.json")

sample() {
	local fds rss
	fds=$(find "/proc/$shim/fd" -mindepth 1 2>/dev/null | wc -l)
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$shim/status" 2>/dev/null)
	echo "$fds ${rss:-0}"
}

failures=0
# Warm-up: the first execs and signals allocate what is reused afterwards.
for _ in $(seq 10); do
	r exec "$ID" true </dev/null || failures=$((failures + 1))
	r kill "$ID" USR1 || failures=$((failures + 1))
done
read -r fds0 rss0 < <(sample)
printf '%-16s %8s %10s\n' "after" "shim fds" "RSS kB"
printf '%-16s %8s %10s\n' "warm-up" "$fds0" "$rss0"

start=$(date +%s)
for i in $(seq "$EXECS"); do
	r exec "$ID" true </dev/null || failures=$((failures + 1))
	if [ $((i % STEP)) -eq 0 ]; then
		read -r fds rss < <(sample)
		printf '%-16s %8s %10s\n' "$i execs" "$fds" "$rss"
	fi
done
exec_s=$(($(date +%s) - start))
read -r fds_e rss_e < <(sample)

start=$(date +%s)
for i in $(seq "$SIGNALS"); do
	r kill "$ID" USR1 || failures=$((failures + 1))
	if [ $((i % (STEP * 10))) -eq 0 ] || [ "$i" -eq "$SIGNALS" ]; then
		read -r fds rss < <(sample)
		printf '%-16s %8s %10s\n' "$i signals" "$fds" "$rss"
	fi
done
signal_s=$(($(date +%s) - start))
read -r fds1 rss1 < <(sample)

r kill "$ID" TERM || failures=$((failures + 1))
for _ in $(seq 300); do
	[ "$(r state "$ID" 2>/dev/null | jq -r .status)" = stopped ] && break
	sleep 0.2
done
status=$(r state "$ID" 2>/dev/null | jq -r .status)
# The shim checks for leaks as it exits: let it finish writing.
for _ in $(seq 100); do kill -0 "$shim" 2>/dev/null || break; sleep 0.1; done
r delete "$ID" || failures=$((failures + 1))

echo
echo "execs: $EXECS in ${exec_s}s; signals: $SIGNALS in ${signal_s}s; failed commands: $failures"
echo "shim fds: first $fds0, after execs $fds_e, last $fds1"
echo "shim RSS: first $rss0 kB, after execs $rss_e kB, last $rss1 kB ($((rss1 - rss0)) kB)"
echo "init: $(tr '\n' ' ' <"$WORKDIR/init.out")status $status"
reports=$(find "$WORKDIR/asan" -type f | wc -l)
echo "sanitizer reports: $reports"
for f in "$WORKDIR"/asan/*; do
	[ -f "$f" ] || continue
	echo "--- $f"
	head -60 "$f"
done

ok=0
[ "$fds1" -le "$fds0" ] || { echo "FAIL: the shim's fd count grew"; ok=1; }
[ $((rss1 - rss0)) -le "$RSS_SLACK_KB" ] || { echo "FAIL: the shim's RSS grew by more than $RSS_SLACK_KB kB"; ok=1; }
[ "$reports" -eq 0 ] || { echo "FAIL: sanitizer reports"; ok=1; }
[ "$failures" -eq 0 ] || { echo "FAIL: $failures commands failed"; ok=1; }
[ "$status" = stopped ] || { echo "FAIL: the container is $status, not stopped"; ok=1; }
grep -q 'usr1=' "$WORKDIR/init.out" || { echo "FAIL: the init did not exit on SIGTERM"; ok=1; }
exit $ok
