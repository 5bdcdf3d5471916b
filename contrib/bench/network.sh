#!/bin/bash
# Network throughput benchmark, one run on this machine: SIZE MiB sent over
# TCP from the host side of a veth pair to a busybox nc listening in the
# container, R times, through runk's VM (tap + tc mirroring + virtio-net)
# and through runc (the veth straight into the container), the same bundle
# and the same network namespace for both.  Prints MB/s (best and median)
# for each and the ratio runk/runc.  Not a test: CI does not run it.
#
# Usage: contrib/bench/network.sh [SIZE_MIB] [R]   (defaults 256 and 5)
# Environment: RUNK_BUILDDIR (default build/), RUNK_GUEST_KERNEL/_INITRD.
# Needs root, runc, busybox, jq, iproute2.
set -euo pipefail

SIZE_MIB=${1:-256}
R=${2:-5}
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${RUNK_BUILDDIR:-$SRCDIR/build}
RUNK=$BUILD/src/runk
KERNEL=${RUNK_GUEST_KERNEL:-$BUILD/guest/out/vmlinux}
INITRD=${RUNK_GUEST_INITRD:-$BUILD/guest/out/initrd.cpio}
RUNC=$(command -v runc)
WORK=$(mktemp -d /tmp/runk-nbench.XXXXXX)
NS=runk-nbench-$$
PEER=$NS-p
ADDR=10.201.0.2
PORT=5001
ID=nbench-$$

cleanup() {
	"$RUNK" --root "$WORK/state-runk" delete --force "$ID" >/dev/null 2>&1 || true
	"$RUNC" --root "$WORK/state-runc" delete --force "$ID" >/dev/null 2>&1 || true
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "$PEER" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/runk.conf" <<-CONF
	[hypervisor]
	kernel = $KERNEL
	initrd = $INITRD
	boot_timeout = 60
CONF
export RUNK_CONFIG=$WORK/runk.conf

# The engine's side: eth0 in NS, its peer in PEER (the "host").
ip netns add "$NS"
ip netns add "$PEER"
ip -n "$NS" link add eth0 type veth peer name veth-p netns "$PEER"
ip -n "$NS" addr add "$ADDR/24" dev eth0
ip -n "$NS" link set lo up
ip -n "$NS" link set eth0 up
ip -n "$PEER" addr add 10.201.0.1/24 dev veth-p
ip -n "$PEER" link set veth-p up

# A busybox bundle whose init accepts one transfer after another: nc -ll
# forks a sink for each connection, which counts what it got into
# /dev/shm/bytes (checked after the runs: all of it arrived).
mkdir -p "$WORK/bundle/rootfs"/{bin,proc,sys,dev,tmp}
cp /bin/busybox "$WORK/bundle/rootfs/bin/busybox"
for a in sh nc cat wc true; do ln -s busybox "$WORK/bundle/rootfs/bin/$a"; done
printf '#!/bin/sh\nexec wc -c >/dev/shm/bytes\n' >"$WORK/bundle/rootfs/bin/sink"
chmod +x "$WORK/bundle/rootfs/bin/sink"
(cd "$WORK/bundle" && "$RUNK" spec)
jq --arg ns "/run/netns/$NS" --arg port "$PORT" '
	.process.args = ["/bin/nc", "-ll", "-p", $port, "-e", "/bin/sink"]
	| .process.terminal = false
	| .root.readonly = true
	| .linux.namespaces |= map(if .type == "network" then .path = $ns else . end)' \
	"$WORK/bundle/config.json" >"$WORK/c"
mv "$WORK/c" "$WORK/bundle/config.json"

now_ns() { date +%s%N; }

# One transfer: MB/s (10^6 bytes) of SIZE_MIB MiB, to the listener's close.
transfer() {
	local t0 t1
	t0=$(now_ns)
	head -c "$((SIZE_MIB * 1024 * 1024))" /dev/zero |
		ip netns exec "$PEER" busybox nc -w 30 "$ADDR" "$PORT"
	t1=$(now_ns)
	awk -v b="$((SIZE_MIB * 1024 * 1024))" -v ns="$((t1 - t0))" 'BEGIN { printf "%.1f\n", b / (ns / 1e3) }'
}

# Wait until the listener answers (a VM boots first).
wait_listener() {
	local i
	for i in $(seq 300); do
		if echo | ip netns exec "$PEER" busybox nc -w 2 "$ADDR" "$PORT" 2>/dev/null; then
			sleep 0.2
			return 0
		fi
		sleep 0.2
	done
	echo "network.sh: no listener at $ADDR:$PORT" >&2
	return 1
}

# bench NAME RUNTIME: start the container, R transfers, delete it.
bench() {
	local name=$1 bin=$2 i got
	"$bin" --root "$WORK/state-$name" run -d --bundle "$WORK/bundle" "$ID" \
		</dev/null >"$WORK/$name.out" 2>&1 || {
		echo "network.sh: $name run: $(cat "$WORK/$name.out")" >&2
		return 1
	}
	wait_listener
	for i in $(seq "$R"); do
		transfer
	done >"$WORK/$name.mbs"
	got=$("$bin" --root "$WORK/state-$name" exec "$ID" cat /dev/shm/bytes)
	[ "$got" -eq "$((SIZE_MIB * 1024 * 1024))" ] || {
		echo "network.sh: $name: the last transfer delivered $got bytes" >&2
		return 1
	}
	"$bin" --root "$WORK/state-$name" delete --force "$ID" >/dev/null
}

summary() { # file: "best median"
	sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%s %s\n", v[NR], v[int((NR + 1) / 2)] }'
}

echo "network.sh: $R x $SIZE_MIB MiB host -> container over TCP (busybox nc)"
bench runk "$RUNK"
bench runc "$RUNC"
read -r runk_best runk_median < <(summary "$WORK/runk.mbs")
read -r runc_best runc_median < <(summary "$WORK/runc.mbs")
printf '%-28s %10s %10s\n' "" "best MB/s" "median MB/s"
printf '%-28s %10s %10s\n' "runk (VM, tap + tc mirred)" "$runk_best" "$runk_median"
printf '%-28s %10s %10s\n' "runc (veth)" "$runc_best" "$runc_median"
awk -v a="$runk_median" -v b="$runc_median" 'BEGIN { printf "ratio runk/runc (median): %.3f (runc is %.1fx faster)\n", a / b, b / a }'
echo "runk runs: $(tr '\n' ' ' <"$WORK/runk.mbs")"
echo "runc runs: $(tr '\n' ' ' <"$WORK/runc.mbs")"
