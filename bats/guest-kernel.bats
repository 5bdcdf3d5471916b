#!/usr/bin/env bats
# The guest kernel has what containers need (one VM serves every check), and
# building runk's kernel fails clearly when its source or an option is missing.

load helpers

# One VM for the whole file: its workload prints what the kernel offers, each
# test below checks one part of that report.
setup_file() {
	[ -x /usr/bin/qemu-system-x86_64 ] && [ -f "$GUEST_KERNEL" ] && [ -f "$GUEST_INITRD" ] ||
		return 0
	setup_runk
	local bundle=$TEST_DIR/bundle
	# cgroup2 is mounted afresh (the container's /sys/fs/cgroup depends on
	# what the agent mounts there); that needs CAP_SYS_ADMIN.  The script is
	# set with jq: make_bundle takes one argument a line.
	local script='
		echo "release $(uname -r)"
		echo "ns $(ls /proc/self/ns | tr "\n" " ")"
		grep "^Seccomp:" /proc/self/status || echo "Seccomp: missing"
		echo "filesystems $(awk "{ print \$NF }" /proc/filesystems | tr "\n" " ")"
		mkdir -p /tmp/cg && mount -t cgroup2 cgroup2 /tmp/cg &&
			echo "controllers $(cat /tmp/cg/cgroup.controllers)"
		[ -d /sys/bus/virtio/drivers/virtio_net ] && echo "virtio_net driver"
		[ -e /proc/modules ] && echo "proc/modules present" || echo "proc/modules absent"
		echo done'
	make_bundle "$bundle" sh
	jq --arg script "$script" '.process.args = ["sh", "-c", $script]
		| .process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])
		| .mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]}]' \
		"$bundle/config.json" >"$bundle/config.json.new"
	mv "$bundle/config.json.new" "$bundle/config.json"
	runk run --bundle "$bundle" guest-kernel >"$BATS_FILE_TMPDIR/report" 2>"$BATS_FILE_TMPDIR/stderr" ||
		echo "runk run failed: $?" >>"$BATS_FILE_TMPDIR/report"
	assert_nothing_left >>"$BATS_FILE_TMPDIR/report" 2>&1 || echo "left behind" >>"$BATS_FILE_TMPDIR/report"
	teardown_runk
}

report() {
	require_vm
	[ -f "$BATS_FILE_TMPDIR/report" ] || fail "the guest report was not made"
	cat "$BATS_FILE_TMPDIR/report"
}

# The report's line starting with KEY, without the key.
report_line() {
	report | sed -n "s/^$1 //p" | head -n 1
}

@test "guest-kernel: the VM ran, exited cleanly and left nothing behind" {
	run report
	assert_success
	assert_line done
	refute_output --partial "runk run failed"
	refute_output --partial "left behind"
}

@test "guest-kernel: Linux 6.1 (the guest's kernel, not the host's)" {
	release=$(report_line release)
	[[ "$release" == 6.1.* ]] || fail "release '$release'; stderr: $(cat "$BATS_FILE_TMPDIR/stderr")"
}

@test "guest-kernel: every namespace type" {
	ns=" $(report_line ns) "
	for t in cgroup ipc mnt net pid time user uts; do
		[[ "$ns" == *" $t "* ]] || fail "no $t namespace in:$ns"
	done
}

@test "guest-kernel: seccomp filters" {
	run report
	assert_line --regexp '^Seccomp:[[:space:]]+[0-9]'
}

@test "guest-kernel: overlay, 9p and tmpfs" {
	fs=" $(report_line filesystems) "
	for t in overlay 9p tmpfs; do
		[[ "$fs" == *" $t "* ]] || fail "no $t in /proc/filesystems:$fs"
	done
}

@test "guest-kernel: cgroup2 with cpu cpuset io memory pids" {
	controllers=" $(report_line controllers) "
	for c in cpu cpuset io memory pids; do
		[[ "$controllers" == *" $c "* ]] || fail "no $c controller in:$controllers"
	done
}

@test "guest-kernel: virtio-net driver" {
	run report
	assert_line "virtio_net driver"
}

@test "guest-kernel: no loadable modules (no /proc/modules) with runk's kernel" {
	require_vm
	info=${GUEST_KERNEL%/*}/kernel.info
	[ -f "$info" ] && grep -qx flavor=runk "$info" || skip "not runk's kernel ($info)"
	run report
	assert_line "proc/modules absent"
}

# ---- building the kernel: no VM, no kernel build ----

@test "guest-kernel: verify-config names every option olddefconfig lost" {
	cd "$BATS_TEST_TMPDIR"
	cat >fragment <<-'F'
		# a group
		CONFIG_KEPT=y
		CONFIG_DROPPED=y
		CONFIG_VALUE=4
		CONFIG_STRING="a b"
		# CONFIG_OFF is not set
		# CONFIG_TURNED_ON is not set
	F
	cat >dotconfig <<-'C'
		CONFIG_KEPT=y
		# CONFIG_DROPPED is not set
		CONFIG_VALUE=5
		CONFIG_STRING="a b"
		CONFIG_TURNED_ON=y
	C
	run "$SRCDIR/guest/verify-config.sh" fragment dotconfig
	assert_failure 1
	assert_output --partial "CONFIG_DROPPED=y was lost"
	assert_output --partial "CONFIG_VALUE=4 was changed to 5"
	assert_output --partial "CONFIG_TURNED_ON=n was changed to y"
	refute_output --partial CONFIG_KEPT
	refute_output --partial CONFIG_STRING
	refute_output --partial "CONFIG_OFF"
	assert_output --partial "3 of 6 options"
}

@test "guest-kernel: verify-config accepts a .config that kept everything" {
	cd "$BATS_TEST_TMPDIR"
	printf 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=1\n' >fragment
	printf 'CONFIG_A=y\nCONFIG_C=1\nCONFIG_OTHER=y\n' >dotconfig
	run "$SRCDIR/guest/verify-config.sh" fragment dotconfig
	assert_success
	assert_output ""
}

@test "guest-kernel: runk's fragment survives in the built kernel's config" {
	info=${GUEST_KERNEL%/*}/kernel.info
	[ -f "$info" ] && grep -qx flavor=runk "$info" || skip "not runk's kernel ($info)"
	cache=${RUNK_KERNEL_CACHE:-/var/cache/runk/kernel}
	config=$(ls -t "$cache"/runk-*/config 2>/dev/null | head -n 1)
	[ -n "$config" ] || skip "no built runk kernel in $cache"
	run "$SRCDIR/guest/verify-config.sh" "$SRCDIR/guest/kernel/runk-guest.config" "$config"
	assert_success
}

@test "guest-kernel: a missing linux-source fails the build and says what to install" {
	run env RUNK_GUEST_KERNEL=runk RUNK_KERNEL_SOURCE="$BATS_TEST_TMPDIR/no-such-linux.tar.xz" \
		RUNK_KERNEL_CACHE="$BATS_TEST_TMPDIR/cache" "$SRCDIR/guest/build.sh" "$BATS_TEST_TMPDIR/out"
	assert_failure
	assert_output --partial "$BATS_TEST_TMPDIR/no-such-linux.tar.xz is missing"
	assert_output --partial "linux-source-6.1"
	[ ! -e "$BATS_TEST_TMPDIR/out/vmlinux" ]
}

@test "guest-kernel: a fragment option the kernel drops fails the build and is named" {
	# A source "tree" whose tinyconfig/olddefconfig are stubs: the real
	# kernel_prepare runs up to the config check without compiling anything.
	tree=$BATS_TEST_TMPDIR/src/linux-source-6.1
	mkdir -p "$tree/scripts/kconfig"
	printf 'tinyconfig:\n\t@printf "CONFIG_64BIT=y\\n" >.config\nolddefconfig:\n\t@true\n' \
		>"$tree/Makefile"
	cat >"$tree/scripts/kconfig/merge_config.sh" <<-'SH'
		#!/bin/sh
		# keep only CONFIG_64BIT: every other option "lost its dependencies"
		exit 0
	SH
	chmod +x "$tree/scripts/kconfig/merge_config.sh"
	tar -C "$BATS_TEST_TMPDIR/src" -cJf "$BATS_TEST_TMPDIR/linux.tar.xz" linux-source-6.1
	printf 'CONFIG_64BIT=y\nCONFIG_SECCOMP_FILTER=y\n' >"$BATS_TEST_TMPDIR/fragment"
	run env RUNK_GUEST_KERNEL=runk RUNK_KERNEL_SOURCE="$BATS_TEST_TMPDIR/linux.tar.xz" \
		RUNK_KERNEL_FRAGMENT="$BATS_TEST_TMPDIR/fragment" \
		RUNK_KERNEL_CACHE="$BATS_TEST_TMPDIR/cache" "$SRCDIR/guest/build.sh" "$BATS_TEST_TMPDIR/out"
	assert_failure
	assert_output --partial "CONFIG_SECCOMP_FILTER=y was lost"
	refute_output --partial "CONFIG_64BIT"
	[ ! -e "$BATS_TEST_TMPDIR/out/vmlinux" ]
	[ -z "$(ls "$BATS_TEST_TMPDIR/cache" | grep '^runk-')" ]
}
