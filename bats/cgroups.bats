#!/usr/bin/env bats
# Host cgroups with the fs manager on this host's real hierarchies (cgroup v1
# controllers + the cgroup2 mount at /sys/fs/cgroup/unified): limits, the
# sandbox/overhead placement of QEMU's threads, update, delete.  Every test
# works under its own parent cgroup (runk-test-<random>) or its own ids, and
# teardown removes what is left.

load helpers

V1_CONTROLLERS="cpu cpuacct cpuset memory devices freezer blkio pids"
UNIFIED=/sys/fs/cgroup/unified

setup() {
	setup_runk
	BUNDLE=$TEST_DIR/bundle
	CG_PARENT=runk-test-$$-$RANDOM
	IDS=()
}

teardown() {
	teardown_runk
	cg_cleanup
}

conf_add() {
	printf '[%s]\n%s\n' "$1" "$2" >>"$RUNK_CONF"
}

# Where each hierarchy is mounted: the v1 controllers, then cgroup2 as "unified".
cg_dir() {
	local hier=$1
	if [ "$hier" = unified ]; then echo "$UNIFIED"; else echo "/sys/fs/cgroup/$hier"; fi
}

# Our cgroup in HIERARCHY relative to runk's own there (as runc resolves a relative path).
own_cgroup() {
	local hier=$1
	if [ "$hier" = unified ]; then
		sed -n 's/^0:://p' /proc/self/cgroup
	else
		awk -F: -v c="$hier" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup
	fi
}

# Remove (deepest first) every cgroup this test may have made, in every hierarchy.
cg_cleanup() {
	local hier base own id
	for hier in $V1_CONTROLLERS unified; do
		base=$(cg_dir "$hier")
		[ -d "$base" ] || continue
		own=$(own_cgroup "$hier")
		for d in "$base/$CG_PARENT" "$base${own%/}/$CG_PARENT"; do
			[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		done
		for id in "${IDS[@]}"; do
			rmdir "$base/runk_overhead/$id" "$base/runk/$id" 2>/dev/null
		done
		# Shared parents: removed only when no other container uses them.
		rmdir "$base/runk_overhead" "$base/runk" 2>/dev/null
	done
	true
}

# The shim's PID and QEMU's (the shim's only child, or the pooled VM it adopted).
vm_pids() {
	SHIM=$(runk state "$1" | jq -r .pid)
	QEMU=$(qemu_of "$SHIM")
	[ -n "$QEMU" ] || fail "no QEMU under shim $SHIM"
}

# The vCPU thread ids QMP reported, from the shim's debug log.
qmp_vcpu_tids() {
	grep -o 'vCPU [0-9]*: thread [0-9]*' "$TEST_DIR/log.json" | awk '{ print $4 }' | sort -n
}

# QEMU's threads named "CPU N/TCG" or "CPU N/KVM" (-name debug-threads=on).
named_vcpu_tids() {
	local t
	for t in /proc/$QEMU/task/*; do
		grep -q '^CPU [0-9]*/' "$t/comm" && basename "$t"
	done | sort -n
}

sorted() {
	tr ' ' '\n' <"$1" | grep . | sort -n
}

assert_same() {
	local what=$1 got=$2 want=$3
	[ "$got" = "$want" ] || fail "$what: got [$(echo $got)], expected [$(echo $want)]"
}

@test "cgroups fs: limits, vCPU threads in the sandbox cgroup, the rest in the overhead one; update; delete removes both" {
	require_vm
	local id=cg1-$RANDOM sandbox hier dir vcpus others
	IDS+=("$id")
	sandbox=/$CG_PARENT/pod/$id
	make_bundle "$BUNDLE" sleep 600
	bundle_jq "$BUNDLE" ".linux.cgroupsPath = \"$sandbox\" | .linux.resources = {
		\"cpu\": {\"quota\": 50000, \"period\": 100000, \"shares\": 512},
		\"memory\": {\"limit\": 134217728},
		\"pids\": {\"limit\": 300}}"
	runk --debug --log "$TEST_DIR/log.json" --log-format json create --bundle "$BUNDLE" "$id"
	vm_pids "$id"

	# Limits, as the spec says; memory: the VM's RAM (256 + 128 MiB) + memory_overhead (64 MiB).
	assert_equal "$(cat /sys/fs/cgroup/cpu$sandbox/cpu.cfs_quota_us)" 50000
	assert_equal "$(cat /sys/fs/cgroup/cpu$sandbox/cpu.cfs_period_us)" 100000
	assert_equal "$(cat /sys/fs/cgroup/cpu$sandbox/cpu.shares)" 512
	assert_equal "$(cat /sys/fs/cgroup/memory$sandbox/memory.limit_in_bytes)" $(((256 + 128 + 64) * 1024 * 1024))
	assert_equal "$(cat /sys/fs/cgroup/pids$sandbox/pids.max)" 300
	# The overhead cgroup has no limits.
	assert_equal "$(cat /sys/fs/cgroup/cpu/runk_overhead/$id/cpu.cfs_quota_us)" -1
	assert_equal "$(cat /sys/fs/cgroup/pids/runk_overhead/$id/pids.max)" max

	# v1: exactly the vCPU threads QMP reported are in the sandbox, in every controller.
	vcpus=$(qmp_vcpu_tids)
	[ -n "$vcpus" ] || fail "no vCPU threads in the debug log"
	assert_same "QMP's vCPU threads vs QEMU's CPU threads" "$vcpus" "$(named_vcpu_tids)"
	others=$(ls /proc/$QEMU/task | sort -n | grep -vxF "$vcpus"; echo "$SHIM")
	for hier in $V1_CONTROLLERS; do
		dir=$(cg_dir "$hier")
		assert_same "$hier sandbox tasks" "$(sorted "$dir$sandbox/tasks")" "$vcpus"
		assert_same "$hier overhead tasks" "$(sorted "$dir/runk_overhead/$id/tasks")" "$(echo "$others" | sort -n)"
	done
	# cgroup2 (no thread placement): the whole QEMU in the sandbox, the shim in the overhead.
	assert_same "cgroup2 sandbox procs" "$(sorted "$UNIFIED$sandbox/cgroup.procs")" "$QEMU"
	assert_same "cgroup2 overhead procs" "$(sorted "$UNIFIED/runk_overhead/$id/cgroup.procs")" "$SHIM"

	# update changes the sandbox cgroup (memory stays the VM's: its RAM cannot change).
	runk update --cpu-quota 20000 --pids-limit 150 --cpu-share 256 "$id"
	assert_equal "$(cat /sys/fs/cgroup/cpu$sandbox/cpu.cfs_quota_us)" 20000
	assert_equal "$(cat /sys/fs/cgroup/cpu$sandbox/cpu.shares)" 256
	assert_equal "$(cat /sys/fs/cgroup/pids$sandbox/pids.max)" 150

	runk delete --force "$id"
	for hier in $V1_CONTROLLERS unified; do
		dir=$(cg_dir "$hier")
		[ ! -e "$dir$sandbox" ] || fail "$dir$sandbox left behind"
		[ ! -e "$dir/runk_overhead/$id" ] || fail "$dir/runk_overhead/$id left behind"
	done
	# The engine's parent cgroups are the engine's: delete leaves them.
	[ -d "/sys/fs/cgroup/cpu/$CG_PARENT/pod" ]
	assert_nothing_left
}

@test "cgroups fs: sandbox_cgroup_only puts the shim and all of QEMU in a relative cgroupsPath, under runk's own cgroup" {
	require_vm
	local id=cg2-$RANDOM hier dir own all
	IDS+=("$id")
	conf_add runtime 'sandbox_cgroup_only = true'
	make_bundle "$BUNDLE" sleep 600
	bundle_jq "$BUNDLE" ".linux.cgroupsPath = \"$CG_PARENT/$id\" | .linux.resources.cpu = {\"quota\": 100000, \"period\": 100000}"
	runk create --bundle "$BUNDLE" "$id"
	vm_pids "$id"
	all=$( (ls /proc/$QEMU/task; echo "$SHIM") | sort -n)
	for hier in $V1_CONTROLLERS unified; do
		dir=$(cg_dir "$hier")
		own=$(own_cgroup "$hier")
		own=${own%/}
		if [ "$hier" = unified ]; then
			assert_same "cgroup2 procs" "$(sorted "$dir$own/$CG_PARENT/$id/cgroup.procs")" "$(printf '%s\n' "$SHIM" "$QEMU" | sort -n)"
		else
			assert_same "$hier tasks" "$(sorted "$dir$own/$CG_PARENT/$id/tasks")" "$all"
		fi
		[ ! -e "$dir/runk_overhead/$id" ] || fail "an overhead cgroup with sandbox_cgroup_only"
	done
	assert_equal "$(cat /sys/fs/cgroup/cpu$(own_cgroup cpu | sed 's:/$::')/$CG_PARENT/$id/cpu.cfs_quota_us)" 100000
	runk delete --force "$id"
	for hier in $V1_CONTROLLERS unified; do
		own=$(own_cgroup "$hier")
		[ ! -e "$(cg_dir "$hier")${own%/}/$CG_PARENT/$id" ] || fail "$hier cgroup left behind"
	done
	assert_nothing_left
}

@test "cgroups fs: an empty cgroupsPath is /runk/<id>; a taken cgroupsPath is refused; a create that fails after making cgroups removes them" {
	require_vm
	local id=cg3-$RANDOM bad=cg4-$RANDOM hier
	IDS+=("$id" "$bad")
	make_bundle "$BUNDLE" sleep 600
	runk create --bundle "$BUNDLE" "$id"
	vm_pids "$id"
	grep -qx "$QEMU" /sys/fs/cgroup/unified/runk/$id/cgroup.procs || fail "QEMU not in /runk/$id"
	grep -qx "$SHIM" /sys/fs/cgroup/cpu/runk_overhead/$id/tasks || fail "the shim not in /runk_overhead/$id"
	# A cgroupsPath that another container's processes are in is refused, the first left alone.
	cp -r "$BUNDLE" "$TEST_DIR/bundle2"
	bundle_jq "$TEST_DIR/bundle2" ".linux.cgroupsPath = \"/runk/$id\""
	run "$RUNK_BIN" --root "$TEST_DIR/other-root" create --bundle "$TEST_DIR/bundle2" "$id"
	assert_failure
	assert_output --partial "cgroup \`/runk/$id\` is in use"
	grep -qx "$QEMU" /sys/fs/cgroup/unified/runk/$id/cgroup.procs || fail "QEMU moved out of /runk/$id"
	runk delete --force "$id"
	[ ! -e /sys/fs/cgroup/cpu/runk/$id ] && [ ! -e /sys/fs/cgroup/cpu/runk_overhead/$id ]

	# The shim cannot start QEMU in a sandbox cgroup that allows one task: create fails, cleans up.
	conf_add runtime 'sandbox_cgroup_only = true'
	bundle_jq "$BUNDLE" ".linux.cgroupsPath = \"/$CG_PARENT/$bad\" | .linux.resources.pids = {\"limit\": 1}"
	run runk create --bundle "$BUNDLE" "$bad"
	assert_failure
	for hier in $V1_CONTROLLERS unified; do
		[ ! -e "$(cg_dir "$hier")/$CG_PARENT/$bad" ] || fail "$hier: /$CG_PARENT/$bad left behind"
	done
	assert_nothing_left
}

@test "cgroups: features.json lists cgroup v1, v2 and systemd; bad cgroupsPath forms are refused before anything is made" {
	run runk features
	assert_success
	assert_equal "$(jq -c '.linux.cgroup | [.v1, .v2, .systemd]' <<<"$output")" '[true,true,true]'
	make_bundle "$BUNDLE" true
	bundle_jq "$BUNDLE" ".linux.cgroupsPath = \"/$CG_PARENT/x\""
	run "$RUNK_BIN" --root "$ROOT" --systemd-cgroup create --bundle "$BUNDLE" bad1
	assert_failure
	assert_output --partial 'expected `slice:prefix:name`'
	run "$RUNK_BIN" --root "$ROOT" --cgroup-manager systemd create --bundle "$BUNDLE" bad1
	assert_failure
	assert_output --partial 'expected `slice:prefix:name`'
	bundle_jq "$BUNDLE" ".linux.cgroupsPath = \"/$CG_PARENT/../x\""
	run runk create --bundle "$BUNDLE" bad2
	assert_failure
	assert_output --partial '`..` is not allowed'
	bundle_jq "$BUNDLE" '.linux.cgroupsPath = "system.slice:runk:"'
	run runk create --bundle "$BUNDLE" bad3
	assert_failure
	assert_output --partial 'the name part is empty'
	[ ! -e "/sys/fs/cgroup/cpu/$CG_PARENT" ]
	assert_nothing_left
}

@test "cgroups: a container that uses its whole memory limit is OOM-killed in the guest (exit 137, oom event); the VM and the host cgroup are not" {
	require_vm
	local id=cg5-$RANDOM
	IDS+=("$id")
	# dd's 96 MiB buffer does not fit the 64 MiB limit; the VM has 256 + 64 MiB of RAM.
	make_bundle "$BUNDLE" dd if=/dev/zero of=/dev/null bs=96M count=1
	bundle_jq "$BUNDLE" ".linux.cgroupsPath = \"/$CG_PARENT/$id\" | .linux.resources.memory = {\"limit\": 67108864}"
	# poststop runs on the host before delete removes the cgroup: keep its OOM record.
	bundle_jq "$BUNDLE" ".hooks.poststop = [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"cat /sys/fs/cgroup/memory/$CG_PARENT/$id/memory.oom_control > $TEST_DIR/host-oom\"]}]"
	run runk --log "$TEST_DIR/log.json" --log-format json run --bundle "$BUNDLE" "$id"
	assert_equal "$status" 137
	grep -q 'killed a process for lack of memory' "$TEST_DIR/log.json" || fail "no oom event in the log: $(cat "$TEST_DIR/log.json")"
	! grep -q 'exited unexpectedly' "$TEST_DIR/log.json" || fail "the VM died: $(cat "$TEST_DIR/log.json")"
	grep -qx 'oom_kill 0' "$TEST_DIR/host-oom" || fail "the host killed in the sandbox cgroup: $(cat "$TEST_DIR/host-oom")"
	assert_nothing_left
}
