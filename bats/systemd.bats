#!/usr/bin/env bats
# The systemd cgroup manager against a real systemd 252, started in private
# namespaces by systemd.bash (FACTS.md's recipe: masks first, checked before
# systemd starts).  runk runs inside those namespaces (nsenter), so the test
# dir lives in /var/lib: the namespaces have their own /tmp, /var/tmp, /run.

load helpers
load systemd

setup() {
	setup_runk
	rm -rf "$TEST_DIR"
	# Nothing under /tmp, /var/tmp or /run is visible in systemd's namespaces, and the
	# build dir may be there (CI): the test dir, runk and the guest live in /var/lib.
	TEST_DIR=$(mktemp -d /var/lib/runk-bats-systemd.XXXXXX)
	mkdir "$TEST_DIR/bin"
	cp "$RUNK_BIN" "$TEST_DIR/bin/runk"
	cp "$GUEST_KERNEL" "$TEST_DIR/bin/vmlinux"
	cp "$GUEST_INITRD" "$TEST_DIR/bin/initrd.cpio"
	RUNK_BIN=$TEST_DIR/bin/runk
	ROOT=$TEST_DIR/state
	RUNK_CONF=$TEST_DIR/runk.conf
	cat >"$RUNK_CONF" <<-CONF
		[hypervisor]
		kernel = $TEST_DIR/bin/vmlinux
		initrd = $TEST_DIR/bin/initrd.cpio
		boot_timeout = 60
		[agent]
		timeout = 60
	CONF
	export RUNK_CONFIG=$RUNK_CONF
	BUNDLE=$TEST_DIR/bundle
}

teardown() {
	systemd_stop
	teardown_runk
}

# runk inside systemd's namespaces, with the systemd manager.
sd_runk() {
	sd_exec "$RUNK_BIN" --root "$ROOT" --systemd-cgroup "$@"
}

sd_bundle() {
	BATS_FILE_TMPDIR=$TEST_DIR make_bundle "$BUNDLE" "$@"
}

prop() {
	sd_exec systemctl show -P "$2" "$1"
}

# PIDs (in the namespace) in a unit's cgroup on the v1 cpu hierarchy and on cgroup2.
unit_procs() {
	local cg
	cg=$(prop "$1" ControlGroup)
	[ -n "$cg" ] || fail "$1 has no cgroup"
	sd_exec sh -c "cat /sys/fs/cgroup/$2$cg/cgroup.procs" | sort -n
}

# The shim's and QEMU's PIDs as the namespace sees them.
sd_vm_pids() {
	SHIM=$(sd_runk state "$1" | jq -r .pid)
	# Its child, or the pooled VM it watches through a pidfd (as qemu_of in helpers.bash).
	QEMU=$(sd_exec sh -c "grep -h '^Pid:' /proc/$SHIM/fdinfo/* 2>/dev/null; echo children: \$(cat /proc/$SHIM/task/$SHIM/children)" |
		awk '{print $2; exit}')
	[ -n "$QEMU" ] || fail "no QEMU under shim $SHIM"
}

@test "systemd.bash refuses to start systemd when a mask is missing" {
	local dir=$TEST_DIR/refuse
	mkdir -p "$dir"
	sd_write_units "$dir/units"
	sd_write_start_script "$dir/start.sh"
	# A unit that must be masked and is not: the start script stops before exec.
	run env SD_UNITS="$dir/units" SD_HOST_MNTNS="$(readlink /proc/self/ns/mnt)" \
		SD_MASKS="runk-not-masked.service" \
		unshare --mount --propagation private --pid --fork --mount-proc --uts --ipc "$dir/start.sh"
	assert_failure
	assert_output --partial 'REFUSING to start systemd: runk-not-masked.service is not masked'
	# Every unit the system has, and FACTS.md's list, are masked.
	for u in sysinit.target basic.target local-fs.target tmp.mount systemd-sysctl.service \
		systemd-tmpfiles-setup.service systemd-journald.service dbus.service; do
		[ "$(readlink "$dir/units/$u")" = /dev/null ] || fail "$u not masked"
	done
}

@test "systemd: system.slice:runk:test gets runk-test.scope with the limits; QEMU in it, the shim in runk-overhead.slice; update; delete stops both" {
	require_vm
	systemd_start "$TEST_DIR/sd"
	sd_bundle sleep 600
	bundle_jq "$BUNDLE" '.linux.cgroupsPath = "system.slice:runk:test" | .linux.resources = {
		"cpu": {"quota": 50000, "period": 100000},
		"memory": {"limit": 134217728},
		"pids": {"limit": 300}}'
	sd_runk create --bundle "$BUNDLE" sd1
	sd_vm_pids sd1

	assert_equal "$(prop runk-test.scope ActiveState)" active
	assert_equal "$(prop runk-test.scope Slice)" system.slice
	assert_equal "$(prop runk-test.scope CPUQuotaPerSecUSec)" 500ms
	assert_equal "$(prop runk-test.scope TasksMax)" 300
	# The VM's RAM (256 + 128 MiB) + memory_overhead (64 MiB); v1: MemoryLimit.
	assert_equal "$(prop runk-test.scope MemoryLimit)" $(((256 + 128 + 64) * 1024 * 1024))
	assert_equal "$(prop runk-test.scope Delegate)" yes
	assert_equal "$(prop runk-sd1.scope Slice)" runk-overhead.slice
	assert_equal "$(prop runk-sd1.scope ActiveState)" active

	# systemd places processes: the whole QEMU in the sandbox scope, the shim in the overhead one.
	for h in cpu unified; do
		assert_equal "$(unit_procs runk-test.scope $h)" "$QEMU"
		assert_equal "$(unit_procs runk-sd1.scope $h)" "$SHIM"
	done
	sd_exec sh -c "cat /sys/fs/cgroup/cpu$(prop runk-test.scope ControlGroup)/cpu.cfs_quota_us" |
		grep -qx 50000 || fail "cpu.cfs_quota_us is not 50000"

	sd_runk update --cpu-quota 20000 --pids-limit 150 sd1
	assert_equal "$(prop runk-test.scope CPUQuotaPerSecUSec)" 200ms
	assert_equal "$(prop runk-test.scope TasksMax)" 150

	sd_runk delete --force sd1
	for u in runk-test.scope runk-sd1.scope; do
		[ "$(prop $u ActiveState)" != active ] || fail "$u still active"
	done
	[ -z "$(sd_exec systemctl list-units --all --no-legend 'runk-*.scope')" ] || fail "scopes left: $(sd_exec systemctl list-units --all 'runk-*')"
	[ ! -e "$ROOT/sd1" ]
}

@test "systemd: sandbox_cgroup_only puts the shim and QEMU in the sandbox scope, no overhead scope; an empty cgroupsPath is system.slice:runk:<id>" {
	require_vm
	printf '[runtime]\nsandbox_cgroup_only = true\n' >>"$RUNK_CONF"
	systemd_start "$TEST_DIR/sd"
	sd_bundle sleep 600
	bundle_jq "$BUNDLE" '.linux.resources.cpu = {"quota": 100000, "period": 100000}'
	sd_runk create --bundle "$BUNDLE" sd2
	sd_vm_pids sd2
	assert_equal "$(prop runk-sd2.scope Slice)" system.slice
	assert_equal "$(prop runk-sd2.scope CPUQuotaPerSecUSec)" 1s
	for h in cpu unified; do
		assert_equal "$(unit_procs runk-sd2.scope $h)" "$(printf '%s\n' "$SHIM" "$QEMU" | sort -n)"
	done
	[ -z "$(sd_exec systemctl list-units --all --no-legend 'runk-overhead.slice')" ] ||
		[ "$(prop runk-overhead.slice ActiveState)" != active ] || fail "an overhead slice with sandbox_cgroup_only"
	sd_runk delete --force sd2
	[ "$(prop runk-sd2.scope ActiveState)" != active ]
}
