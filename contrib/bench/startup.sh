#!/bin/bash
# Startup benchmark, all measured in one run on this machine, interleaved so
# that the host's load hits every variant alike:
#   runk run of /bin/true (a VM per container), with runk's kernel and Debian's
#   a bare QEMU boot of each kernel + initrd to the agent's first frame (HELLO),
#     with QEMU's peak RSS (VmHWM) and PSS (smaps_rollup) at that moment
#   runc run of the same bundle (skipped if runc is missing)
# Prints min/median for each and the ratios debian/runk, runk/bare QEMU and
# runk/runc.
#
# Usage: contrib/bench/startup.sh [N]   (default 5)
# Environment: RUNK_BUILDDIR (the build, default build/); RUNK_GUEST_KERNEL /
# RUNK_GUEST_INITRD (the runk-kernel image, default the build's guest/out);
# RUNK_DEBIAN_GUEST (a dir with Debian's vmlinux + initrd.cpio; default: made
# with guest/build.sh into the build's guest/out-debian); BENCH_KERNELS
# ("runk debian", or just one of them).
set -euo pipefail

N=${1:-5}
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${RUNK_BUILDDIR:-$SRCDIR/build}
RUNK=$BUILD/src/runk
KERNELS=${BENCH_KERNELS:-runk debian}
WORK=$(mktemp -d /tmp/runk-bench.XXXXXX)
# shellcheck source=contrib/bench/lib.sh
. "$SRCDIR/contrib/bench/lib.sh"
qemu_pid=""
cleanup() {
	[ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# ---- the guest images: kernel name -> vmlinux + initrd ----
declare -A KERNEL INITRD
KERNEL[runk]=${RUNK_GUEST_KERNEL:-$BUILD/guest/out/vmlinux}
INITRD[runk]=${RUNK_GUEST_INITRD:-$BUILD/guest/out/initrd.cpio}
if [[ " $KERNELS " == *" debian "* ]]; then
	debian_dir=${RUNK_DEBIAN_GUEST:-$BUILD/guest/out-debian}
	if [ ! -f "$debian_dir/vmlinux" ] || [ ! -f "$debian_dir/initrd.cpio" ]; then
		echo "making Debian's guest image in $debian_dir" >&2
		RUNK_GUEST_KERNEL=debian "$SRCDIR/guest/build.sh" "$debian_dir" "$BUILD/src/agent/runk-agent"
	fi
	KERNEL[debian]=$debian_dir/vmlinux
	INITRD[debian]=$debian_dir/initrd.cpio
fi
for k in $KERNELS; do
	[ -f "${KERNEL[$k]}" ] && [ -f "${INITRD[$k]}" ] ||
		{ echo "no $k guest image (${KERNEL[$k]}): run make guest" >&2; exit 1; }
	cat >"$WORK/runk-$k.conf" <<-CONF
		[hypervisor]
		kernel = ${KERNEL[$k]}
		initrd = ${INITRD[$k]}
	CONF
done

# Bundle: busybox rootfs running /bin/true.
mkdir -p "$WORK/bundle/rootfs/bin"
cp /bin/busybox "$WORK/bundle/rootfs/bin/busybox"
ln -s busybox "$WORK/bundle/rootfs/bin/true"
ln -s busybox "$WORK/bundle/rootfs/bin/sh"
"$RUNK" spec -b "$WORK/bundle"
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$WORK/bundle/config.json" \
	>"$WORK/c.json" && mv "$WORK/c.json" "$WORK/bundle/config.json"

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

# The QEMU command line runk uses (minus what a bare boot does not need).
bare_qemu_once() { # KERNEL-NAME
	local k=$1 dir=$WORK/bare-vm start
	rm -rf "$dir" && mkdir -p "$dir/share"
	start=$(now_ns)
	qemu-system-x86_64 -M microvm,x-option-roms=off,pit=on,pic=on,rtc=on,isa-serial=on \
		-accel tcg,tb-size=16 -cpu max -m 256 -smp 1 -nodefaults -no-user-config -display none \
		-serial null -kernel "${KERNEL[$k]}" -initrd "${INITRD[$k]}" -no-reboot \
		-append "console=ttyS0 quiet reboot=t panic=-1 no_timer_check tsc_early_khz=$TSC_KHZ" \
		-device virtio-serial-device \
		-chardev socket,id=agent,path="$dir/agent.sock",server=on,wait=off \
		-device virtserialport,chardev=agent,name=agent \
		-fsdev local,id=fs0,path="$dir/share",security_model=none \
		-device virtio-9p-device,fsdev=fs0,mount_tag=share &
	qemu_pid=$!
	python3 "$WORK/hello.py" "$dir/agent.sock"
	echo $(($(now_ns) - start)) >>"$WORK/bare-$k"
	# Memory at agent-ready: peak RSS and proportional set size, in KiB.
	awk '/^VmHWM:/ { print $2 }' "/proc/$qemu_pid/status" >>"$WORK/hwm-$k"
	awk '/^Pss:/ { print $2 }' "/proc/$qemu_pid/smaps_rollup" >>"$WORK/pss-$k"
	kill -9 "$qemu_pid" 2>/dev/null
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=""
}

runk_run_once() { # KERNEL-NAME RUN
	local start
	start=$(now_ns)
	RUNK_CONFIG=$WORK/runk-$1.conf "$RUNK" --root "$WORK/state" run --bundle "$WORK/bundle" "b$1$2" </dev/null
	echo $(($(now_ns) - start)) >>"$WORK/runk-$1"
}

TSC_KHZ=$(awk '/^cpu MHz/ { printf "%d", $4 * 1000; exit }' /proc/cpuinfo)
have_runc=no
command -v runc >/dev/null && have_runc=yes
echo "runk startup benchmark: $N runs each, interleaved; kernels: $KERNELS"
for k in $KERNELS; do
	echo "  $k: ${KERNEL[$k]} ($(($(stat -c %s "${KERNEL[$k]}") / 1048576)) MiB)"
done
[ $have_runc = yes ] || echo "  runc: not installed, skipped (contrib/install-deps.sh installs it)"

for i in $(seq "$N"); do
	for k in $KERNELS; do
		runk_run_once "$k" "$i"
		bare_qemu_once "$k"
	done
	if [ $have_runc = yes ]; then
		start=$(now_ns)
		(cd "$WORK/bundle" && runc --root "$WORK/runc-state" run "r$i" </dev/null)
		echo $(($(now_ns) - start)) >>"$WORK/runc"
	fi
done

echo
echo "== startup"
for k in $KERNELS; do
	stats "runk-$k" "runk run /bin/true, $k kernel"
	stats "bare-$k" "bare QEMU boot to HELLO, $k kernel"
done
stats runc "runc run /bin/true"
echo
echo "== QEMU memory at agent-ready (bare boot)"
for k in $KERNELS; do
	stats "hwm-$k" "peak RSS (VmHWM), $k kernel" MiB 1024
	stats "pss-$k" "PSS, $k kernel" MiB 1024
done
echo
echo "== ratios (medians)"
ratio "runk run: debian / runk kernel" runk-debian runk-runk
ratio "boot to HELLO: debian / runk kernel" bare-debian bare-runk
ratio "PSS: debian / runk kernel" pss-debian pss-runk
ratio "peak RSS: debian / runk kernel" hwm-debian hwm-runk
for k in $KERNELS; do
	ratio "runk run / bare QEMU, $k kernel" "runk-$k" "bare-$k"
	ratio "runk run / runc, $k kernel" "runk-$k" runc
done
