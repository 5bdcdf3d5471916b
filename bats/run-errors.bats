#!/usr/bin/env bats
# runk run with bad input or a broken VM: a clear error naming the cause, and nothing left behind.

load helpers

setup() {
	setup_runk
	BUNDLE=$TEST_DIR/bundle
}

teardown() {
	teardown_runk
}

# conf KEY VALUE...: rewrite runk.conf's [hypervisor] with these settings on top of the test's.
conf() {
	local extra=""
	while [ $# -gt 0 ]; do
		extra+="$1 = $2"$'\n'
		shift 2
	done
	cat >"$RUNK_CONF" <<-CONF
		[hypervisor]
		kernel = $GUEST_KERNEL
		initrd = $GUEST_INITRD
		$extra
	CONF
	factory_conf >>"$RUNK_CONF"
}

@test "a missing bundle is named" {
	run runk run --bundle "$TEST_DIR/nope" c1
	assert_failure
	assert_output --partial "$TEST_DIR/nope"
	assert_nothing_left
}

@test "a missing config.json is named" {
	mkdir -p "$BUNDLE"
	run runk run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "$BUNDLE/config.json"
	assert_nothing_left
}

@test "a malformed config.json names the JSON path of the bad field" {
	make_bundle "$BUNDLE" true
	bundle_jq "$BUNDLE" '.linux.resources.cpu.quota = "lots"'
	run runk run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial 'linux.resources.cpu.quota: expected an integer, got string'
	assert_nothing_left
}

@test "config.json that is not JSON is reported" {
	mkdir -p "$BUNDLE"
	echo '{"ociVersion": ' >"$BUNDLE/config.json"
	run runk run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial 'invalid JSON'
	assert_nothing_left
}

@test "a missing rootfs is named" {
	make_bundle "$BUNDLE" true
	bundle_jq "$BUNDLE" '.root.path = "no-such-rootfs"'
	run runk run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "rootfs \`$BUNDLE/no-such-rootfs\` does not exist"
	assert_nothing_left
}

@test "a missing guest kernel is named" {
	make_bundle "$BUNDLE" true
	conf kernel "$TEST_DIR/no-vmlinux"
	run runk run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "guest kernel \`$TEST_DIR/no-vmlinux\`"
	assert_nothing_left
}

@test "a missing guest initrd is named" {
	make_bundle "$BUNDLE" true
	conf initrd "$TEST_DIR/no-initrd"
	run runk run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "guest initrd \`$TEST_DIR/no-initrd\`"
	assert_nothing_left
}

@test "a missing QEMU binary is named" {
	require_vm
	make_bundle "$BUNDLE" true
	conf path "$TEST_DIR/no-qemu"
	run runk run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial "$TEST_DIR/no-qemu"
	assert_nothing_left
}

@test "a QEMU that dies during boot is reported and nothing is left" {
	require_vm
	# A workload that outlives QEMU, so the VM's death is seen even on a host that boots fast.
	make_bundle "$BUNDLE" sleep 60
	# QEMU is killed 0.3 s after it starts, before the guest is up here (TCG boots in ~1 s).
	cat >"$TEST_DIR/dying-qemu" <<-'SH'
		#!/bin/sh
		(sleep 0.3; kill -9 $$) &
		exec /usr/bin/qemu-system-x86_64 "$@"
	SH
	chmod +x "$TEST_DIR/dying-qemu"
	conf path "$TEST_DIR/dying-qemu"
	run runk run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial 'VM exited unexpectedly'
	assert_nothing_left
}

@test "an agent that never answers times out after boot_timeout" {
	require_vm
	make_bundle "$BUNDLE" true
	# An initramfs whose /init never speaks on the agent port.
	local initrd_dir=$TEST_DIR/silent-initrd
	mkdir -p "$initrd_dir/bin" "$initrd_dir/dev"
	cp /bin/busybox "$initrd_dir/bin/sh"
	ln -s sh "$initrd_dir/bin/sleep"
	printf '#!/bin/sh\nwhile :; do /bin/sleep 100; done\n' >"$initrd_dir/init"
	chmod +x "$initrd_dir/init"
	(cd "$initrd_dir" && find . | cpio -o -H newc --quiet >"$TEST_DIR/silent.cpio")
	conf initrd "$TEST_DIR/silent.cpio" boot_timeout 5
	run runk run --bundle "$BUNDLE" c1
	assert_failure
	assert_output --partial 'timed out after 5 s waiting for the guest agent'
	assert_nothing_left
}
