#!/usr/bin/env bats
# The jailed VMM (src/librunk/hypervisor/jail.c, docs/SECURITY.md): QEMU's
# seccomp, capabilities, mount-namespace jail and user, and a container's root
# trying to read host files through every path it has (.. walks, symlinks in
# its rootfs, a symlink swapped in during create, the raw 9p share).

load helpers

conf_add() {
	printf '[%s]\n%s\n' "$1" "$2" >>"$RUNK_CONF"
}

# CAP_CHOWN | CAP_DAC_OVERRIDE | CAP_FOWNER | CAP_FSETID: what the 9p share needs.
ROOT_CAPS=000000000000001b

setup() {
	require_vm
	setup_runk
	# QEMUs here are the shim's own (cold or cloned, jailed in the container's
	# state dir); a pooled VM's jail is its pool entry's (factory.bats).
	conf_add factory 'pool = 0'
	BUNDLE=$TEST_DIR/bundle
	# A file only the host has: no path from the guest may show its content.
	SECRET=host-secret-$RANDOM$RANDOM
	mkdir -p "$TEST_DIR/hostdir"
	echo "$SECRET" >"$TEST_DIR/hostdir/secret"
}

teardown() {
	teardown_runk
}

# The shim's and QEMU's PIDs of container $1.
qemu_of() {
	SHIM=$(runk state "$1" | jq -r .pid)
	QEMU=$(tr -d ' ' <"/proc/$SHIM/task/$SHIM/children")
	[ -n "$QEMU" ] || fail "no QEMU under shim $SHIM"
}

status_field() {
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}

# A private copy of the busybox rootfs (the shared one is read-only).
own_bundle() {
	mkdir -p "$BUNDLE"
	cp -a "$(busybox_rootfs)" "$BUNDLE/rootfs"
	"$RUNK_BIN" spec -b "$BUNDLE"
	bundle_jq "$BUNDLE" '.process.terminal = false | .root.readonly = false'
}

@test "jail: QEMU has seccomp, only the share's capabilities, the jail as its root, no stray fds; delete removes the jail" {
	local id=j1 entries fd target
	make_bundle "$BUNDLE" sleep 600
	runk create --bundle "$BUNDLE" $id
	qemu_of $id

	# -sandbox with every deny, seccomp mode 2 (QEMU's filter and runk's), no_new_privs.
	tr '\0' ' ' <"/proc/$QEMU/cmdline" | grep -qF -- '-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny' ||
		fail "QEMU's command line lacks the sandbox: $(tr '\0' ' ' <"/proc/$QEMU/cmdline")"
	assert_equal "$(status_field $QEMU Seccomp)" 2
	[ "$(status_field $QEMU Seccomp_filters)" -ge 2 ] || fail "fewer than 2 seccomp filters"
	assert_equal "$(status_field $QEMU NoNewPrivs)" 1
	assert_equal "$(status_field $QEMU CapEff)" $ROOT_CAPS
	assert_equal "$(status_field $QEMU CapPrm)" $ROOT_CAPS
	assert_equal "$(status_field $QEMU CapBnd)" $ROOT_CAPS
	assert_equal "$(status_field $QEMU CapInh)" 0000000000000000
	assert_equal "$(status_field $QEMU CapAmb)" 0000000000000000

	# Its root is the jail dir (same inode), which holds only what QEMU needs.
	assert_equal "$(stat -c %d:%i "/proc/$QEMU/root/")" "$(stat -c %d:%i "$ROOT/$id/jail")"
	entries=$(ls "/proc/$QEMU/root/" | tr '\n' ' ')
	# A VM restored from a template (templates are on) also has the template's RAM file.
	if tr '\0' ' ' <"/proc/$QEMU/cmdline" | grep -qF 'mem-path=/mem'; then
		assert_equal "$entries" "bin dev initrd lib lib32 lib64 mem proc run sbin share usr vmlinux "
	else
		assert_equal "$entries" "bin dev initrd lib lib32 lib64 proc run sbin share usr vmlinux "
	fi
	assert_equal "$(ls "/proc/$QEMU/root/run" | tr '\n' ' ')" "agent.sock qmp.sock "
	assert_equal "$(ls "/proc/$QEMU/root/share")" "$id"
	assert_equal "$(ls "/proc/$QEMU/root/proc/self")" fd
	# The host's files are not there: not /etc, not the test dir, not the state dir.
	[ ! -e "/proc/$QEMU/root/etc/passwd" ] || fail "/etc/passwd visible to QEMU"
	[ ! -e "/proc/$QEMU/root$TEST_DIR" ] || fail "$TEST_DIR visible to QEMU"
	[ ! -e "/proc/$QEMU/root/root" ] || fail "/root visible to QEMU"
	# Read-only but for /run and the share.
	grep -E ' / ro,' "/proc/$QEMU/mountinfo" >/dev/null || fail "the jail's root is writable"
	grep -E ' /usr ro,' "/proc/$QEMU/mountinfo" >/dev/null || fail "/usr is writable in the jail"
	# The host reaches QEMU's sockets through symlinks into the jail.
	assert_equal "$(readlink "$ROOT/$id/qmp.sock")" jail/run/qmp.sock

	# Every descriptor is one QEMU needs: stdio, its log, the share, anonymous objects.
	for fd in /proc/$QEMU/fd/*; do
		target=$(readlink "$fd") || continue
		case $target in
		/dev/null | "$ROOT/$id/qemu.log" | /share | /share/* | socket:* | pipe:* | anon_inode:*) ;;
		/mem) ;; # a clone: the template's RAM, mapped copy-on-write
		*) fail "QEMU holds $fd -> $target" ;;
		esac
	done

	run "$RUNK_BIN" check
	assert_line --partial 'jail         on: QEMU pivoted into'

	runk delete --force $id
	[ ! -e "$ROOT/$id/jail" ] || fail "jail dir left behind"
	assert_nothing_left
}

@test "jail: [hypervisor] user runs QEMU as that user with no capabilities" {
	local id=j2
	conf_add hypervisor 'user = nobody'
	run "$RUNK_BIN" check
	assert_line --partial 'as user nobody (65534:65534) with no capabilities'
	make_bundle "$BUNDLE" sleep 600
	runk create --bundle "$BUNDLE" $id
	qemu_of $id
	assert_equal "$(awk '$1 == "Uid:" || $1 == "Gid:" { print $2, $3, $4, $5 }' "/proc/$QEMU/status")" "$(printf '65534 65534 65534 65534\n65534 65534 65534 65534')"
	assert_equal "$(status_field $QEMU CapEff)" 0000000000000000
	assert_equal "$(status_field $QEMU CapBnd)" 0000000000000000
	assert_equal "$(status_field $QEMU Seccomp)" 2
	runk start $id
	run runk exec $id cat /etc/passwd
	assert_success
	assert_output --partial 'root:x:0:0'
	runk delete --force $id
	assert_nothing_left

	# root is refused, by name and by number.
	conf_add hypervisor 'user = 0'
	run "$RUNK_BIN" check
	assert_failure
	assert_output --partial 'must be unprivileged'
}

@test "jail: root in a container cannot read a host file through .. walks, symlinks out of its rootfs, or the guest's raw 9p share" {
	own_bundle
	ln -s "$TEST_DIR/hostdir/secret" "$BUNDLE/rootfs/abs"
	ln -s "../../../../../../../../../..$TEST_DIR/hostdir/secret" "$BUNDLE/rootfs/rel"
	ln -s / "$BUNDLE/rootfs/hostroot"
	ln -s "$TEST_DIR" "$BUNDLE/rootfs/testdir"
	# The probe runs as root sharing the guest's PID namespace, with CAP_SYS_PTRACE:
	# through /proc/1/root it reaches the guest's own root and the raw 9p share.
	cat >"$BUNDLE/rootfs/probe.sh" <<-SH
		S=$TEST_DIR/hostdir/secret
	SH
	cat >>"$BUNDLE/rootfs/probe.sh" <<-'SH'
		G=/proc/1/root/run/runk/share
		for p in /abs /rel /hostroot$S /testdir/hostdir/secret /../../../..$S \
			/proc/1/root$S /proc/self/root$S /proc/1/cwd/../../..$S \
			$G/..$S $G/../../../../..$S $G/*/rootfs/abs $G/*/rootfs/rel $G/*/rootfs/hostroot$S; do
			cat $p 2>/dev/null && echo LEAK:$p
		done
		cd / && cd ../../../../.. && cat .$S 2>/dev/null && echo LEAK:cd
		cd $G && cd ../../../../.. && cat .$S 2>/dev/null && echo LEAK:sharecd
		echo share: $(ls $G)
		echo done
	SH
	bundle_jq "$BUNDLE" '.process.args = ["sh", "/probe.sh"] |
		.linux.namespaces |= map(select(.type != "pid")) |
		.process.capabilities = {
		"bounding": ["CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH"],
		"effective": ["CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH"],
		"permitted": ["CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH"]}'
	run runk run --bundle "$BUNDLE" j3
	assert_success
	assert_line done
	refute_output --partial LEAK
	refute_output --partial "$SECRET"
	# The raw share was reached, so it was tried: it holds only this container.
	assert_line "share: j3"
	assert_nothing_left
}

@test "jail: a symlink to the host swapped in and out of the rootfs during create never shows host files" {
	local swapper i
	own_bundle
	mkdir -p "$BUNDLE/rootfs/decoy"
	echo decoy >"$BUNDLE/rootfs/decoy/secret"
	ln -s decoy "$BUNDLE/rootfs/swap"
	bundle_jq "$BUNDLE" '.process.args = ["sh", "-c", "for i in $(seq 200); do cat /swap/secret 2>/dev/null || echo miss; done | sort | uniq -c; echo done"]'
	# Rename loop: /swap points at the decoy, the host dir by absolute path, and by a relative one.
	(
		cd "$BUNDLE/rootfs"
		while :; do
			ln -sfn "$TEST_DIR/hostdir" swap.abs && mv -T swap.abs swap
			ln -sfn decoy swap.dec && mv -T swap.dec swap
			ln -sfn "../../../../../../../..$TEST_DIR/hostdir" swap.rel && mv -T swap.rel swap
			ln -sfn decoy swap.dec && mv -T swap.dec swap
		done
	) &
	swapper=$!
	run runk run --bundle "$BUNDLE" j4
	kill $swapper
	wait $swapper 2>/dev/null || true
	assert_success
	assert_line done
	refute_output --partial "$SECRET"
	# The race was live: the guest saw the decoy at some reads and a dangling link at others.
	assert_output --partial decoy
	assert_output --partial miss
	assert_nothing_left
}

@test "jail: templates are built and cloned jailed, with spawn=deny; no jail is left in the template dir" {
	local id=j5
	run runk factory init
	assert_success
	make_bundle "$BUNDLE" sleep 600
	runk --debug --log "$TEST_DIR/clone.log" create --bundle "$BUNDLE" $id
	grep -q "cloned from template" "$TEST_DIR/clone.log" || fail "not cloned: $(cat "$TEST_DIR/clone.log")"
	qemu_of $id
	tr '\0' ' ' <"/proc/$QEMU/cmdline" | grep -qF -- '-incoming defer' || fail "not a clone"
	tr '\0' ' ' <"/proc/$QEMU/cmdline" | grep -qF -- 'spawn=deny' || fail "a clone may spawn"
	assert_equal "$(stat -c %d:%i "/proc/$QEMU/root/")" "$(stat -c %d:%i "$ROOT/$id/jail")"
	assert_equal "$(status_field $QEMU CapEff)" $ROOT_CAPS
	runk start $id
	run runk exec $id echo cloned-ok
	assert_output cloned-ok
	runk delete --force $id
	assert_nothing_left
	# Templates keep no jail (pooled VMs, in <key>.pool/, have their own).
	run find "${RUNK_TEST_TEMPLATE_DIR:-/dev/shm/runk-test-templates}" -path '*.pool' -prune -o -name jail -print
	assert_output ""
}

@test "jail: a create that fails in the booted guest leaves no jail behind" {
	make_bundle "$BUNDLE" true
	# The agent's mount fails after QEMU is up (its jail made).
	bundle_jq "$BUNDLE" '.mounts += [{"destination": "/bogus", "type": "no-such-fs", "source": "none"}]'
	run runk create --bundle "$BUNDLE" j6 3>&-
	assert_failure
	assert_output --partial no-such-fs
	[ ! -e "$ROOT/j6" ] || fail "state (and jail) left: $(ls -R "$ROOT/j6")"
	assert_nothing_left
}
