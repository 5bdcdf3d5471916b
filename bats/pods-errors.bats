#!/usr/bin/env bats
# A pod's member that cannot join its sandbox: `runk create` fails, names the
# problem and leaves nothing, and the pod runs on.  Hand-made bundles in
# containerd's dialect, plain runk; one sandbox VM (and one member in it)
# serves the file, and the last test stops it.

load helpers

setup_file() {
	setup_runk
	export TEST_DIR ROOT RUNK_CONF
}

teardown_file() {
	teardown_runk
}

setup() {
	require_vm
}

# member_bundle DIR SANDBOX [JQ]: a pod member of SANDBOX, in containerd's
# dialect: the sandbox's ipc, uts, network and pid namespaces by its shim's
# /proc path; JQ edits it.
member_bundle() {
	local dir=$1 sandbox=$2 filter=${3:-.} pid
	pid=$(runk state "$SB" 2>/dev/null | jq -r .pid) || pid=0
	make_bundle "$dir" sh -c 'echo started; while :; do sleep 1; done'
	jq --arg sb "$sandbox" --arg pid "$pid" '
		.annotations = {"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.sandbox-id": $sb} |
		.linux.namespaces = [{type: "pid", path: "/proc/\($pid)/ns/pid"}, {type: "ipc", path: "/proc/\($pid)/ns/ipc"},
			{type: "uts", path: "/proc/\($pid)/ns/uts"}, {type: "mount"}, {type: "network", path: "/proc/\($pid)/ns/net"}] |
		.linux.resources.cpu = {quota: 50000, period: 100000}' "$dir/config.json" | jq "$filter" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

# pod: SB (the sandbox, sized 1 CPU + 256 MiB by containerd's annotations),
# C1 (a member, running), QEMU; made on first use.
pod() {
	local env=$TEST_DIR/pod.env
	SB=sb
	C1=c1
	if [ ! -f "$env" ]; then
		[ ! -e "$TEST_DIR/pod.stopped" ] || fail "the pod was stopped by an earlier test"
		make_bundle "$TEST_DIR/sb" sh -c 'trap "exit 0" TERM; while :; do sleep 1; done'
		bundle_jq "$TEST_DIR/sb" '.annotations = {"io.kubernetes.cri.container-type": "sandbox",
			"io.kubernetes.cri.sandbox-id": "sb", "io.kubernetes.cri.sandbox-cpu-quota": "100000",
			"io.kubernetes.cri.sandbox-cpu-period": "100000", "io.kubernetes.cri.sandbox-memory": "268435456"}'
		runk create --bundle "$TEST_DIR/sb" "$SB" </dev/null >"$TEST_DIR/sb.out" 2>&1 ||
			fail "create the sandbox: $(cat "$TEST_DIR/sb.out")"
		runk start "$SB"
		member_bundle "$TEST_DIR/c1" "$SB"
		runk create --bundle "$TEST_DIR/c1" "$C1" </dev/null >"$TEST_DIR/c1.out" 2>&1 ||
			fail "create the member: $(cat "$TEST_DIR/c1.out")"
		runk start "$C1"
		printf 'QEMU=%q\n' "$(qemus_of_test)" >"$env"
	fi
	source "$env"
	[ "$(status_of "$SB")" = running ] && [ "$(status_of "$C1")" = running ] ||
		fail "the pod is not running: sandbox $(status_of "$SB"), member $(status_of "$C1")"
}

# refused ID BUNDLE MESSAGE: runk create of ID fails naming MESSAGE, and
# leaves nothing: no state, cgroup or process of its own, nothing in the
# sandbox's share or QEMU's mounts; the pod runs on, with the same processes.
refused() {
	local id=$1 bundle=$2 message=$3 before
	before=$(pids_of_test | sort)
	run runk create --bundle "$bundle" "$id" </dev/null
	assert_failure
	assert_output --partial "$message"
	[ -z "$(ls -A "$ROOT" | grep -F -- "$id")" ] || fail "state of $id left: $(ls -A "$ROOT")"
	[ -z "$(runk_cgroups_of "$id")" ] || fail "host cgroups of $id left: $(runk_cgroups_of "$id")"
	[ "$(pids_of_test | sort)" = "$before" ] || fail "processes before: $before; after: $(pids_of_test | sort)"
	[ ! -e "$ROOT/$SB/share/$id" ] || fail "$id left in the sandbox's share"
	! grep -qF -- "$id" "/proc/$QEMU/mountinfo" || fail "$id left in QEMU's mounts: $(grep -F -- "$id" "/proc/$QEMU/mountinfo")"
	[ "$(status_of "$SB")" = running ] && [ "$(status_of "$C1")" = running ] ||
		fail "the pod after the refused $id: sandbox $(status_of "$SB"), member $(status_of "$C1")"
}

@test "pod member: a sandbox-id that names no container is refused, naming it" {
	pod
	member_bundle "$BATS_TEST_TMPDIR/b" nosuch
	refused m-nosandbox "$BATS_TEST_TMPDIR/b" 'the pod sandbox of container `m-nosandbox`: container `nosuch` does not exist'
}

@test "pod member: a sandbox-id that names a container which is not a pod sandbox is refused" {
	pod
	member_bundle "$BATS_TEST_TMPDIR/b" "$C1"
	refused m-notsandbox "$BATS_TEST_TMPDIR/b" 'container `c1` is not a pod sandbox: `m-notsandbox` cannot join it'
}

@test "pod member: a namespace path that is not its sandbox's, or a namespace a pod does not share, is refused" {
	pod
	member_bundle "$BATS_TEST_TMPDIR/b" "$SB" '.linux.namespaces[1].path = "/proc/1/ns/ipc"'
	refused m-badipc "$BATS_TEST_TMPDIR/b" '`/proc/1/ns/ipc` is not the ipc namespace of the pod sandbox `sb`'
	member_bundle "$BATS_TEST_TMPDIR/c" "$SB" ".linux.namespaces[3].path = \"/proc/$(runk state "$C1" | jq -r .pid)/ns/mnt\""
	refused m-badmnt "$BATS_TEST_TMPDIR/c" 'a pod'"'"'s container shares only the network, ipc, uts and pid namespaces of its sandbox'
}

@test "pod member: an id that a member or the sandbox already has is refused" {
	pod
	local before
	member_bundle "$BATS_TEST_TMPDIR/b" "$SB"
	before=$(pids_of_test | sort)
	for id in "$C1" "$SB"; do
		run runk create --bundle "$BATS_TEST_TMPDIR/b" "$id" </dev/null
		assert_failure
		assert_output --partial "container \`$id\` already exists"
		[ "$(pids_of_test | sort)" = "$before" ] || fail "processes changed by the refused create of $id"
	done
	[ "$(status_of "$SB")" = running ] && [ "$(status_of "$C1")" = running ] || fail "the pod after the refused creates"
	# The existing member still answers as itself.
	run timeout 60 "$RUNK_BIN" --root "$ROOT" exec "$C1" echo still c1
	assert_output "still c1"
}

@test "pod member: the sandbox killed stops its members (137); a stopped sandbox refuses new members; delete leaves nothing" {
	pod
	local c2_status=$TEST_DIR/c2.status
	member_bundle "$TEST_DIR/c2" "$SB"
	# c2's member shim under a subreaper, as conmon holds it: its exit status.
	reap_detached "$TEST_DIR/c2.pid" "$RUNK_BIN" --root "$ROOT" create --bundle "$TEST_DIR/c2" --pid-file "$TEST_DIR/c2.pid" c2 \
		</dev/null >"$c2_status" 2>"$TEST_DIR/c2.err" &
	BG_PIDS=($!)
	wait_for_status c2 created
	runk start c2
	runk kill "$SB" KILL
	touch "$TEST_DIR/pod.stopped"
	wait_for_status "$SB" stopped
	wait_for_status "$C1" stopped
	wait_for_status c2 stopped
	wait "${BG_PIDS[0]}" || fail "reaping c2: $(cat "$TEST_DIR/c2.err")"
	[ "$(cat "$c2_status")" = 137 ] || fail "c2's member shim exited with $(cat "$c2_status"), not 137"
	wait_gone "$QEMU" 300 || fail "QEMU $QEMU outlived its sandbox"

	member_bundle "$BATS_TEST_TMPDIR/b" "$SB"
	run runk create --bundle "$BATS_TEST_TMPDIR/b" m-late </dev/null
	assert_failure
	assert_output --partial 'the pod sandbox `sb` of container `m-late` has stopped'

	runk delete "$C1"
	runk delete c2
	runk delete "$SB"
	assert_nothing_left "$SB" "$C1" c2 m-late
}
