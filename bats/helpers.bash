# Shared set-up for runk's bats tests.
#
# Every test gets its own temp dir holding a state root (--root), a runk.conf
# pointing at the built guest image, and bundles.  teardown removes every
# container it left (by id, through runk), kills any QEMU still running from
# that dir by PID, and removes the dir.

bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

SRCDIR=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BUILDDIR=${RUNK_BUILDDIR:-$SRCDIR/build}
RUNK_BIN=${RUNK_BIN:-$BUILDDIR/src/runk}
GUEST_KERNEL=${RUNK_GUEST_KERNEL:-$BUILDDIR/guest/out/vmlinux}
GUEST_INITRD=${RUNK_GUEST_INITRD:-$BUILDDIR/guest/out/initrd.cpio}

setup_runk() {
	TEST_DIR=$(mktemp -d /tmp/runk-bats.XXXXXX)
	ROOT=$TEST_DIR/state
	RUNK_CONF=$TEST_DIR/runk.conf
	cat >"$RUNK_CONF" <<-CONF
		[hypervisor]
		kernel = $GUEST_KERNEL
		initrd = $GUEST_INITRD
		boot_timeout = 60
		[agent]
		timeout = 60
	CONF
	export RUNK_CONFIG=$RUNK_CONF
}

# runk with the test's state root.
runk() {
	"$RUNK_BIN" --root "$ROOT" "$@"
}

# PIDs of processes whose command line mentions the test dir (QEMU, shims).
pids_of_test() {
	local d pid
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" = "$$" ] && continue
		if tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF "$TEST_DIR"; then
			echo "$pid"
		fi
	done
}

teardown_runk() {
	local id pid
	[ -n "${TEST_DIR:-}" ] || return 0
	if [ -d "$ROOT" ]; then
		for id in $(ls "$ROOT"); do
			"$RUNK_BIN" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	for pid in $(pids_of_test); do
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$TEST_DIR"
}

# The tests that boot a VM need QEMU and the guest image.
require_vm() {
	[ -x /usr/bin/qemu-system-x86_64 ] || skip "no qemu-system-x86_64 (install qemu-system-x86)"
	[ -f "$GUEST_KERNEL" ] || skip "no guest kernel at $GUEST_KERNEL (run make guest)"
	[ -f "$GUEST_INITRD" ] || skip "no guest initrd at $GUEST_INITRD (run make guest)"
}

# A busybox rootfs from Debian's busybox-static, built once per test file.
# Applet links are relative: busybox --install -s would write absolute host paths.
busybox_rootfs() {
	local rootfs=$BATS_FILE_TMPDIR/busybox-rootfs applet
	if [ ! -d "$rootfs" ]; then
		mkdir -p "$rootfs"/{bin,etc,proc,sys,dev,tmp,root}
		cp /bin/busybox "$rootfs/bin/busybox"
		for applet in $(/bin/busybox --list); do
			[ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
		done
		echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
		echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$rootfs/etc/passwd"
		echo 'root:x:0:' >"$rootfs/etc/group"
		echo 'nogroup:x:65534:' >>"$rootfs/etc/group"
	fi
	echo "$rootfs"
}

# make_bundle DIR ARGS...: a bundle whose rootfs is the shared busybox rootfs
# (bind-mounted read-only by the shim, so sharing it is safe) running ARGS.
make_bundle() {
	local dir=$1
	shift
	mkdir -p "$dir"
	ln -s "$(busybox_rootfs)" "$dir/rootfs"
	"$RUNK_BIN" spec -b "$dir"
	local args
	args=$(printf '%s\n' "$@" | jq -R . | jq -s -c .)
	jq --argjson args "$args" '.process.args = $args | .process.terminal = false' \
		"$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

# Edit a bundle's config.json with a jq filter.
bundle_jq() {
	local dir=$1 filter=$2
	jq "$filter" "$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

# No QEMU, shim or state left behind by this test.
assert_nothing_left() {
	local left
	left=$(pids_of_test)
	[ -z "$left" ] || fail "processes left behind: $left"
	if [ -d "$ROOT" ]; then
		[ -z "$(ls -A "$ROOT")" ] || fail "state left behind: $(ls -A "$ROOT")"
	fi
	! grep -qF "$TEST_DIR" /proc/self/mounts || fail "mounts left behind under $TEST_DIR"
}
