#!/bin/bash
# The README's first command ends here: run a busybox container in its own VM.
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${RUNK_BUILDDIR:-$SRCDIR/build}
RUNK=$BUILD/src/runk
demo=$(mktemp -d /tmp/runk-demo.XXXXXX)
trap 'rm -rf "$demo"' EXIT

mkdir -p "$demo/bundle/rootfs/bin" "$demo/bundle/rootfs/etc"
cp /bin/busybox "$demo/bundle/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ -e "$demo/bundle/rootfs/bin/$applet" ] || ln -s busybox "$demo/bundle/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$demo/bundle/rootfs/etc/passwd"
echo 'root:x:0:' >"$demo/bundle/rootfs/etc/group"
"$RUNK" spec -b "$demo/bundle"
jq '.process.terminal = false | .process.args = ["sh", "-c", "echo hello from a runk VM; uname -sr"]' \
	"$demo/bundle/config.json" >"$demo/config.json" && mv "$demo/config.json" "$demo/bundle/config.json"
cat >"$demo/runk.conf" <<CONF
[hypervisor]
kernel = $BUILD/guest/out/vmlinux
initrd = $BUILD/guest/out/initrd.cpio
CONF

"$RUNK" --version
echo "host kernel: $(uname -r)"
RUNK_CONFIG=$demo/runk.conf "$RUNK" --root "$demo/state" run --bundle "$demo/bundle" demo
