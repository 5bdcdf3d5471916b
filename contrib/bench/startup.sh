#!/bin/bash
# Startup benchmark, all measured in one run on this machine:
#   runk run of /bin/true (a VM per container)
#   a bare QEMU boot of the same kernel + initrd to the agent's first frame (HELLO)
#   runc run of the same bundle
# Prints min/median for each and the ratios runk/bare-QEMU and runk/runc.
#
# Usage: contrib/bench/startup.sh [N]   (default 5; RUNK_BUILDDIR to pick the build)
set -euo pipefail

N=${1:-5}
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${RUNK_BUILDDIR:-$SRCDIR/build}
RUNK=$BUILD/src/runk
KERNEL=${RUNK_GUEST_KERNEL:-$BUILD/guest/out/vmlinux}
INITRD=${RUNK_GUEST_INITRD:-$BUILD/guest/out/initrd.cpio}
WORK=$(mktemp -d /tmp/runk-bench.XXXXXX)
qemu_pid=""
cleanup() {
	[ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

# Bundle: busybox rootfs running /bin/true.
mkdir -p "$WORK/bundle/rootfs/bin"
cp /bin/busybox "$WORK/bundle/rootfs/bin/busybox"
ln -s busybox "$WORK/bundle/rootfs/bin/true"
ln -s busybox "$WORK/bundle/rootfs/bin/sh"
"$RUNK" spec -b "$WORK/bundle"
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$WORK/bundle/config.json" \
	>"$WORK/c.json" && mv "$WORK/c.json" "$WORK/bundle/config.json"
cat >"$WORK/runk.conf" <<CONF
[hypervisor]
kernel = $KERNEL
initrd = $INITRD
CONF

# Waits for the first 12 bytes (a frame header) on the agent socket; prints nothing.
cat >"$WORK/hello.py" <<'PY'
import socket, sys, time, struct
path = sys.argv[1]
deadline = time.time() + 120
while True:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("no agent socket")
        time.sleep(0.005)
hdr = b""
while len(hdr) < 12:
    chunk = s.recv(12 - len(hdr))
    if not chunk:
        sys.exit("agent socket closed")
    hdr += chunk
length, ftype, flags, fid = struct.unpack("!IHHI", hdr)
sys.exit(0 if ftype == 1 else "first frame is not HELLO")
PY

# stats KEY LABEL: min and median (ms) of the nanosecond samples in $WORK/KEY;
# the median (ns) goes to $WORK/KEY.median.
stats() {
	sort -n "$WORK/$1" | awk -v label="$2" '{ v[NR] = $1 } END {
		med = (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)
		printf "%-28s min %6d ms   median %6d ms   (n=%d)\n", label, v[1] / 1000000, med / 1000000, NR
		print med > "/dev/stderr" }' 2>"$WORK/$1.median"
}

bare_qemu_once() {
	local dir=$WORK/bare-vm start
	rm -rf "$dir" && mkdir -p "$dir/share"
	start=$(now_ns)
	qemu-system-x86_64 -M microvm,x-option-roms=off,pit=on,pic=on,rtc=on,isa-serial=on \
		-accel tcg,tb-size=16 -cpu max -m 256 -smp 1 -nodefaults -no-user-config -display none \
		-serial null -kernel "$KERNEL" -initrd "$INITRD" -no-reboot \
		-append "console=ttyS0 quiet reboot=t panic=-1 no_timer_check tsc_early_khz=$TSC_KHZ" \
		-device virtio-serial-device \
		-chardev socket,id=agent,path="$dir/agent.sock",server=on,wait=off \
		-device virtserialport,chardev=agent,name=agent \
		-fsdev local,id=fs0,path="$dir/share",security_model=none \
		-device virtio-9p-device,fsdev=fs0,mount_tag=share &
	qemu_pid=$!
	python3 "$WORK/hello.py" "$dir/agent.sock"
	echo $(($(now_ns) - start)) >>"$WORK/bare"
	kill -9 "$qemu_pid" 2>/dev/null
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=""
}

TSC_KHZ=$(awk '/^cpu MHz/ { printf "%d", $4 * 1000; exit }' /proc/cpuinfo)
echo "runk startup benchmark: $N runs each, interleaved; kernel $KERNEL"
: >"$WORK/runk"; : >"$WORK/bare"; : >"$WORK/runc"
for i in $(seq "$N"); do
	start=$(now_ns)
	RUNK_CONFIG=$WORK/runk.conf "$RUNK" --root "$WORK/state" run --bundle "$WORK/bundle" "b$i" </dev/null
	echo $(($(now_ns) - start)) >>"$WORK/runk"

	bare_qemu_once

	if command -v runc >/dev/null; then
		start=$(now_ns)
		(cd "$WORK/bundle" && runc --root "$WORK/runc-state" run "r$i" </dev/null)
		echo $(($(now_ns) - start)) >>"$WORK/runc"
	fi
done

stats runk "runk run /bin/true"
stats bare "bare QEMU boot to HELLO"
[ -s "$WORK/runc" ] && stats runc "runc run /bin/true"
runk_med=$(cat "$WORK/runk.median")
bare_med=$(cat "$WORK/bare.median")
awk -v a="$runk_med" -v b="$bare_med" 'BEGIN { printf "ratio runk / bare QEMU: %.2f\n", a / b }'
if [ -s "$WORK/runc" ]; then
	runc_med=$(cat "$WORK/runc.median")
	awk -v a="$runk_med" -v b="$runc_med" 'BEGIN { printf "ratio runk / runc:      %.1f\n", a / b }'
fi
