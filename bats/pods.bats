#!/usr/bin/env bats
# Kubernetes pods through containerd's CRI (a private containerd with the CRI
# plugin on, driven by tests/cri/cri-client.py): RunPodSandbox, two
# containers, ExecSync, status, logs, StopPodSandbox, RemovePodSandbox.

load helpers
load engines
load cri


setup() {
	require_cri
	setup_runk
	engine_setup
	cri_setup || fail "the private containerd with CRI did not start: $(tail -5 "$ENGINE_DIR/cri/containerd.log")"
}

teardown() {
	cri_teardown
	engine_teardown
	teardown_runk
}

# run_pod HANDLER: a pod (the sandbox + c1 + c2, each container 0.5 CPU and
# 256 MiB) started under HANDLER; sets POD, C1, C2.
run_pod() {
	local handler=$1
	cri_pod_config "$ENGINE_DIR/pod.json" pod1 '.linux.resources = {cpu_period: 100000, cpu_quota: 100000, memory_limit_in_bytes: 536870912}'
	POD=$(cri runp "$ENGINE_DIR/pod.json" --handler "$handler")
	[ -n "$POD" ] || fail "RunPodSandbox gave no id"
	for c in c1 c2; do
		cri_container_config "$ENGINE_DIR/$c.json" "$c" \
			'.linux.resources = {cpu_period: 100000, cpu_quota: 50000, memory_limit_in_bytes: 268435456}' \
			-- sh -c "echo $c started; echo $c on stderr >&2; while :; do sleep 1; done"
		id=$(cri create "$POD" "$ENGINE_DIR/$c.json" "$ENGINE_DIR/pod.json")
		[ -n "$id" ] || fail "CreateContainer $c gave no id"
		cri start "$id"
		eval "${c^^}=$id"
	done
}

@test "pod under runc through the CRI: two containers, ExecSync, status, logs, removal (checks the harness)" {
	run_pod runc
	run cri exec "$C1" -- sh -c 'echo out; echo err >&2; exit 3'
	[ "$status" -eq 3 ] || fail "ExecSync exit code: $status: $output"
	assert_output --partial out
	run cri inspect "$C2"
	assert_success
	assert_equal "$(jq -r .status.state <<<"$output")" CONTAINER_RUNNING
	wait_until_text "$CRI_DIR/logs/pod1/c1.log" "c1 started"
	wait_until_text "$CRI_DIR/logs/pod1/c1.log" "c1 on stderr"
	# Both containers are in the pod's cgroup parent, with their own limits.
	[ "$(cat /sys/fs/cgroup/cpu$CRI_CGROUP_PARENT/$C1/cpu.cfs_quota_us)" = 50000 ]
	cri stopp "$POD"
	run cri inspect "$C1"
	assert_equal "$(jq -r .status.state <<<"$output")" CONTAINER_EXITED
	cri rmp "$POD"
	run cri ps
	assert_equal "$(jq '.containers // [] | length' <<<"$output")" 0
	[ -z "$(ls "$CRI_RUNC_ROOT/k8s.io" 2>/dev/null)" ] || fail "runc state left: $(ls "$CRI_RUNC_ROOT/k8s.io")"
	[ -z "$(cri_cgroups_left)" ] || fail "cgroups left: $(cri_cgroups_left)"
}
