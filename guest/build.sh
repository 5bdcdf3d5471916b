#!/bin/bash
# build.sh OUTDIR [AGENT]
#
# Produce the guest image runk boots:
#   OUTDIR/vmlinux      uncompressed, PVH-bootable kernel
#   OUTDIR/initrd.cpio  initramfs: AGENT as /init and, when the kernel has
#                       modules, the ones it loads and /lib/modules/runk.order
#                       listing them in load order
#   OUTDIR/kernel.info  what the kernel is, one key=value a line (flavor,
#                       version, source, config_hash), for runk --version/check
#
# Without AGENT only the kernel and kernel.info are made (make guest-kernel).
#
# The kernel (and its modules) come from a cache shared by every checkout,
# keyed by what was used to make them: RUNK_GUEST_CACHE, default
# /var/cache/runk/guest.  The initramfs is rebuilt on every run (it is a few
# MB and the agent changes often).
#
# RUNK_GUEST_KERNEL picks the kernel recipe (guest/kernel-$RUNK_GUEST_KERNEL.sh):
# runk (the default, built from linux-source-6.1, its own cache: see
# kernel-runk.sh), debian (Debian's generic kernel + modules) or prebuilt
# (RUNK_GUEST_VMLINUX, a vmlinux built elsewhere).
set -euo pipefail

die() {
	echo "guest: $*" >&2
	exit 1
}

[ $# -eq 1 ] || [ $# -eq 2 ] || die "usage: build.sh OUTDIR [AGENT]"
outdir=$1
agent=${2:-}
GUEST_SRCDIR=$(cd "$(dirname "$0")" && pwd)
GUEST_KERNEL=${RUNK_GUEST_KERNEL:-runk}
GUEST_CACHE=${RUNK_GUEST_CACHE:-/var/cache/runk/guest}

[ -z "$agent" ] || [ -x "$agent" ] || die "agent $agent is missing or not executable"
[ -f "$GUEST_SRCDIR/kernel-$GUEST_KERNEL.sh" ] || die "unknown kernel recipe $GUEST_KERNEL"

# shellcheck source=kernel-debian.sh
. "$GUEST_SRCDIR/kernel-$GUEST_KERNEL.sh"
kernel_prepare "$GUEST_CACHE"

mkdir -p "$outdir"

# The kernel: link from the cache when we can (entries are never changed in
# place), copy otherwise.
if ! cmp -s "$KERNEL_DIR/vmlinux" "$outdir/vmlinux" 2>/dev/null; then
	rm -f "$outdir/vmlinux"
	ln "$KERNEL_DIR/vmlinux" "$outdir/vmlinux" 2>/dev/null ||
		cp "$KERNEL_DIR/vmlinux" "$outdir/vmlinux"
fi

# What the kernel is, for runk --version / runk check.  The version comes from
# the kernel's own banner so every recipe reports it the same way.
kversion=$(LC_ALL=C grep -aom1 'Linux version [^ ]*' "$outdir/vmlinux" | cut -d' ' -f3) || true
if [ -f "$KERNEL_DIR/config" ]; then
	config_hash=$(sha256sum <"$KERNEL_DIR/config" | cut -c1-16)
else
	config_hash=unknown
fi
cat >"$outdir/kernel.info.tmp" <<INFO
flavor=$GUEST_KERNEL
version=${kversion:-unknown}
source=${KERNEL_SOURCE:-$KERNEL_ID}
config_hash=$config_hash
INFO
mv "$outdir/kernel.info.tmp" "$outdir/kernel.info"

if [ -z "$agent" ]; then
	echo "guest: kernel $KERNEL_ID, vmlinux $(($(stat -c %s "$outdir/vmlinux") / 1024)) KiB" >&2
	exit 0
fi

# The initramfs, staged in a temp dir and packed with GNU cpio.
stage=$(mktemp -d "${TMPDIR:-/tmp}/runk-initrd.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{proc,sys,dev,run,tmp,mnt}
chmod 1777 "$stage/tmp"
install -m 0755 "$agent" "$stage/init"

# A dynamically linked agent brings its libraries and loader along.
if ldd "$agent" >/dev/null 2>&1; then
	ldd "$agent" | grep -o '/[^ ]*' | sort -u | while read -r lib; do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
fi

# Modules only for a kernel that has some: without runk.order the agent
# loads nothing.
if [ -s "$KERNEL_DIR/modules.order" ]; then
	mkdir -p "$stage/lib/modules"
	: >"$stage/lib/modules/runk.order"
	while read -r ko; do
		[ -n "$ko" ] || continue
		install -m 0644 "$KERNEL_DIR/modules/$ko" "$stage/lib/modules/$ko"
		echo "/lib/modules/$ko" >>"$stage/lib/modules/runk.order"
	done <"$KERNEL_DIR/modules.order"
fi

# /dev gets a devtmpfs, but a console node present from the start lets the
# kernel hand /init its stdio before anything is mounted.
if [ "$(id -u)" -eq 0 ]; then
	mknod -m 0600 "$stage/dev/console" c 5 1
	mknod -m 0666 "$stage/dev/null" c 1 3
else
	echo "guest: not root, the initramfs has no /dev/console" >&2
fi

# Fixed timestamps and owners: the same inputs give the same bytes.
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) >"$outdir/initrd.cpio.tmp"
mv "$outdir/initrd.cpio.tmp" "$outdir/initrd.cpio"

echo "guest: kernel $KERNEL_ID, $(wc -l <"$KERNEL_DIR/modules.order") modules;" \
	"vmlinux $(($(stat -c %s "$outdir/vmlinux") / 1024)) KiB," \
	"initrd.cpio $(($(stat -c %s "$outdir/initrd.cpio") / 1024)) KiB" >&2
