#!/usr/bin/env bats
# The guest agent's side of pods (issue 15), driven without runk's shim by
# tests/agent-driver (built by `make check`): a pod member's create joins its
# sandbox's namespaces, `cpus` sets the exact online count, `freeze` freezes
# one container.  Each test boots one VM (TCG without KVM) and sends the
# agent JSON requests, one a line; the driver prints one JSON line each.

load helpers

DRIVER=${RUNK_AGENT_DRIVER:-$BUILDDIR/tests/agent-driver}

setup() {
	require_vm
	[ -x "$DRIVER" ] || skip "no $DRIVER (run make check)"
	setup_runk
	SHARE=$TEST_DIR/share
	mkdir -p "$SHARE"
}

teardown() {
	teardown_runk
}

# pod_container ID ARGS...: ID's directory in the share, a copy of the busybox
# rootfs (9p does not follow a symlink out of the share) running ARGS.
pod_container() {
	local id=$1
	shift
	make_bundle "$SHARE/$id" "$@"
	rm "$SHARE/$id/rootfs"
	cp -a "$(busybox_rootfs)" "$SHARE/$id/rootfs"
}

# drive VCPUS [KERNEL_PARAMS]: boot a VM, send stdin's requests; $output has the replies.
drive() {
	TMPDIR=$TEST_DIR run --separate-stderr timeout 600 "$DRIVER" "$GUEST_KERNEL" "$GUEST_INITRD" "$SHARE" "$1" 256 "${2:-}"
	[ "$status" -eq 0 ] || fail "agent-driver failed ($status): $stderr"
}

# reply N: the Nth line of the driver's output.
reply() {
	sed -n "${1}p" <<<"$output"
}

# expect_error N TEXT: request N failed with TEXT in its message.
expect_error() {
	local line
	line=$(reply "$1")
	[ "$(jq -r .reply.ok <<<"$line")" = false ] || fail "request $1 succeeded: $line"
	[[ $(jq -r .reply.error <<<"$line") == *"$2"* ]] || fail "request $1: $line, wanted '$2'"
}

expect_ok() {
	local line
	line=$(reply "$1")
	[ "$(jq -r .reply.ok <<<"$line")" = true ] || fail "request $1 failed: $line"
}

# exec_req ID STREAM SCRIPT: run `sh -c SCRIPT` in container ID.
exec_req() {
	jq -nc --arg id "$1" --argjson s "$2" --arg c "$3" \
		'{op:"exec",id:$id,stream:$s,process:{args:["sh","-c",$c],cwd:"/",env:["PATH=/bin"]}}'
}

NS_SCRIPT='for n in net ipc uts pid mnt; do echo $n $(readlink /proc/self/ns/$n); done; hostname'

@test "a pod member joins the sandbox's network, ipc, uts and pid namespaces" {
	pod_container sb sleep 1000
	bundle_jq "$SHARE/sb" '.hostname = "pod-host"'
	pod_container c1 sleep 999
	bundle_jq "$SHARE/c1" '.hostname = "member-host"'
	pod_container solo sleep 1000
	drive 1 <<-EOF
		{"op":"create","id":"sb","stream":1}
		{"op":"start","id":"sb"}
		{"op":"create","id":"c1","stream":2,"sandbox":"sb","join":["network","ipc","uts","pid"]}
		{"op":"start","id":"c1"}
		$(exec_req sb 10 "$NS_SCRIPT")
		$(exec_req c1 11 "$NS_SCRIPT")
		$(exec_req c1 12 'ps -o pid,args | grep -c "[s]leep 1000"; ip link show lo | grep -c UP; echo member >/dev/shm/m; touch /dev/mqueue/pod-q; ls /dev/mqueue')
		$(exec_req sb 13 'ls /dev/mqueue; cat /dev/shm/m 2>&1 | grep -c member')
		{"op":"ps","id":"c1"}
		{"op":"ps","id":"sb"}
		{"op":"delete","id":"c1"}
		$(exec_req sb 14 "$NS_SCRIPT")
		{"op":"stats","id":"sb"}
		{"op":"create","id":"solo","stream":3}
		{"op":"start","id":"solo"}
		$(exec_req solo 15 'readlink /proc/self/ns/pid; ps -o pid,args | grep "[s]leep"')
		$(exec_req sb 16 'ps -o pid,args | grep -c "[s]leep 1000"')
	EOF
	for n in $(seq 17); do expect_ok "$n"; done
	sb_ns=$(reply 5 | jq -r .stdout)
	c1_ns=$(reply 6 | jq -r .stdout)
	for n in net ipc uts pid; do
		[ "$(grep "^$n " <<<"$sb_ns")" = "$(grep "^$n " <<<"$c1_ns")" ] ||
			fail "$n differs: sandbox $sb_ns, member $c1_ns"
	done
	[ "$(grep '^mnt ' <<<"$sb_ns")" != "$(grep '^mnt ' <<<"$c1_ns")" ] || fail "the mount namespace is shared"
	# The joined uts namespace keeps the sandbox's hostname (the member's is not set).
	[ "$(tail -1 <<<"$sb_ns")" = pod-host ] && [ "$(tail -1 <<<"$c1_ns")" = pod-host ] ||
		fail "hostnames: $sb_ns / $c1_ns"
	# One pid namespace: the member sees the sandbox's sleep 1000; lo is up (the
	# sandbox's); a POSIX message queue made in the member...
	[ "$(reply 7 | jq -r .stdout)" = $'1\n1\npod-q' ] || fail "member: $(reply 7)"
	# ... is in the sandbox's ipc namespace too, while /dev/shm is the member's own mount.
	[ "$(reply 8 | jq -r .stdout)" = $'pod-q\n0' ] || fail "sandbox: $(reply 8)"
	# ps of each is its own cgroup: the member's init (+ nothing else left running).
	c1_pid=$(reply 3 | jq .reply.pid)
	[ "$(reply 9 | jq -c .reply.pids)" = "[$c1_pid]" ] || fail "ps c1: $(reply 9), init $c1_pid"
	sb_pid=$(reply 1 | jq .reply.pid)
	[ "$(reply 10 | jq -c .reply.pids)" = "[$sb_pid]" ] || fail "ps sb: $(reply 10)"
	# Deleting the member leaves the sandbox and its namespaces.
	[ "$(reply 12 | jq -r .stdout)" = "$sb_ns" ] || fail "after delete: $(reply 12)"
	# The agent came back to its own pid namespace for children: a standalone
	# container made afterwards has a new one, its init is PID 1 there, and
	# it is not nested in the sandbox's (whose ps would list its sleep 1000 too).
	[ "$(reply 17 | jq -r .stdout)" = 1 ] || fail "the sandbox sees solo: $(reply 17)"
	solo=$(reply 16 | jq -r .stdout)
	[ "$(head -1 <<<"$solo")" != "$(grep '^pid ' <<<"$sb_ns" | cut -d' ' -f2)" ] || fail "solo: $solo"
	[[ $(tail -1 <<<"$solo") =~ ^\ +1\ sleep\ 1000$ ]] || fail "solo's init is not PID 1: $solo"
}

@test "create with sandbox and join: every mistake is refused by name" {
	pod_container sb sleep 1000
	pod_container dead true
	pod_container c1 sleep 1000
	pod_container nouts sleep 1000
	bundle_jq "$SHARE/nouts" 'del(.linux.namespaces[] | select(.type == "uts"))'
	pod_container userns sleep 1000
	bundle_jq "$SHARE/userns" '.linux.namespaces += [{type: "user"}] |
		.linux.uidMappings = [{containerID: 0, hostID: 1000, size: 1}] |
		.linux.gidMappings = [{containerID: 0, hostID: 1000, size: 1}]'
	pod_container path sleep 1000
	bundle_jq "$SHARE/path" '(.linux.namespaces[] | select(.type == "network")) .path = "/proc/1/ns/net"'
	requests() {
		echo '{"op":"create","id":"sb","stream":1}'
		echo '{"op":"create","id":"dead","stream":2}'
		echo '{"op":"start","id":"dead"}'
		sleep 3
		echo '{"op":"create","id":"c1","stream":3,"join":["network"]}'
		echo '{"op":"create","id":"c1","stream":3,"sandbox":"nope","join":["network"]}'
		echo '{"op":"create","id":"c1","stream":3,"sandbox":"dead","join":["network"]}'
		echo '{"op":"create","id":"c1","stream":3,"sandbox":"../sb","join":["network"]}'
		echo '{"op":"create","id":"c1","stream":3,"sandbox":"sb","join":"network"}'
		echo '{"op":"create","id":"c1","stream":3,"sandbox":"sb","join":["network","mount"]}'
		echo '{"op":"create","id":"c1","stream":3,"sandbox":"sb","join":["pid","pid"]}'
		echo '{"op":"create","id":"nouts","stream":3,"sandbox":"sb","join":["uts"]}'
		echo '{"op":"create","id":"userns","stream":3,"sandbox":"sb","join":["network"]}'
		echo '{"op":"create","id":"path","stream":3,"sandbox":"sb","join":["ipc"]}'
		echo '{"op":"create","id":"c1","stream":3,"sandbox":"sb","join":[]}'
		echo '{"op":"ping"}'
	}
	drive 1 < <(requests)
	expect_ok 1
	expect_ok 2
	expect_ok 3
	expect_error 4 '"join" needs "sandbox"'
	expect_error 5 'sandbox `nope` does not exist'
	expect_error 6 'sandbox `dead` is not running'
	expect_error 7 'sandbox: invalid container id'
	expect_error 8 '"join" is not an array'
	expect_error 9 'join[1]: `mount` is not network, ipc, uts or pid'
	expect_error 10 'join[1]: `pid` listed twice'
	expect_error 11 'join: linux.namespaces has no `uts` namespace'
	expect_error 12 "a pod member with its own user namespace cannot join the sandbox's namespaces"
	expect_error 13 'linux.namespaces[1].path: the network namespace `/proc/1/ns/net` cannot be joined'
	# Nothing was left half made: the id is free, and an empty join joins nothing.
	expect_ok 14
	expect_ok 15
}

@test "members outlive a deleted sandbox (net/ipc/uts); a shared pid namespace dies with its init" {
	pod_container sb sleep 1000
	pod_container c1 sleep 1000
	pod_container c2 sleep 1000
	requests() {
		echo '{"op":"create","id":"sb","stream":1}'
		echo '{"op":"start","id":"sb"}'
		echo '{"op":"create","id":"c1","stream":2,"sandbox":"sb","join":["network","ipc","uts"]}'
		echo '{"op":"start","id":"c1"}'
		echo '{"op":"create","id":"c2","stream":3,"sandbox":"sb","join":["network","pid"]}'
		echo '{"op":"start","id":"c2"}'
		exec_req c1 10 'readlink /proc/self/ns/net'
		echo '{"op":"delete","id":"sb"}'
		sleep 2
		exec_req c1 11 'readlink /proc/self/ns/net; ip link show lo | grep -c UP'
		echo '{"op":"signal","id":"c2","signal":15}'
		echo '{"op":"create","id":"c3","stream":4,"sandbox":"sb","join":["network"]}'
		echo '{"op":"delete","id":"c1"}'
		echo '{"op":"delete","id":"c2"}'
		echo '{"op":"ping"}'
	}
	drive 1 < <(requests)
	for n in 1 2 3 4 5 6 7 8 9; do expect_ok "$n"; done
	# c1 keeps the network namespace it joined, with lo up.
	net=$(reply 7 | jq -r .stdout)
	[ "$(reply 9 | jq -r .stdout)" = "$net"$'\n1' ] || fail "after the sandbox's delete: $(reply 9), before: $net"
	# c2's init was in the sandbox's pid namespace: the kernel killed it with that namespace's init.
	expect_error 10 'container `c2` is not running'
	expect_error 11 'sandbox `sb` does not exist'
	expect_ok 12
	expect_ok 13
	expect_ok 14
}

cpus_req() {
	echo "{\"op\":\"cpus\",\"online\":$1}"
}

@test "cpus sets exactly the online count, up and down, while a container runs" {
	pod_container c1 sh -c 'while :; do :; done'
	online='cat /sys/devices/system/cpu/online; nproc'
	requests() {
		echo '{"op":"create","id":"c1","stream":1}'
		echo '{"op":"start","id":"c1"}'
		exec_req c1 10 "$online"
		cpus_req 2
		exec_req c1 11 "$online"
		cpus_req 1
		exec_req c1 12 "$online"
		cpus_req 3
		exec_req c1 13 "$online"
		cpus_req 2
		exec_req c1 14 "$online"
		cpus_req 4
		cpus_req 0
		cpus_req 1
		cpus_req 2
		cpus_req 1
		cpus_req 1
		exec_req c1 15 "$online"
		echo '{"op":"stats","id":"c1"}'
	}
	drive 3 maxcpus=1 < <(requests)
	[ "$(reply 3 | jq -r .stdout)" = $'0\n1' ] || fail "at boot: $(reply 3)"
	[ "$(reply 4 | jq -c .reply)" = '{"ok":true,"online":2}' ] || fail "$(reply 4)"
	[ "$(reply 5 | jq -r .stdout)" = $'0-1\n2' ] || fail "2 online: $(reply 5)"
	[ "$(reply 6 | jq -c .reply)" = '{"ok":true,"online":1}' ] || fail "$(reply 6)"
	[ "$(reply 7 | jq -r .stdout)" = $'0\n1' ] || fail "1 online: $(reply 7)"
	[ "$(reply 8 | jq -c .reply)" = '{"ok":true,"online":3}' ] || fail "$(reply 8)"
	[ "$(reply 9 | jq -r .stdout)" = $'0-2\n3' ] || fail "3 online: $(reply 9)"
	[ "$(reply 10 | jq -c .reply)" = '{"ok":true,"online":2}' ] || fail "$(reply 10)"
	[ "$(reply 11 | jq -r .stdout)" = $'0-1\n2' ] || fail "2 online: $(reply 11)"
	expect_error 12 '"online": 4 vCPUs asked for, the VM has 3'
	expect_error 13 'online'
	expect_ok 16
	[ "$(reply 17 | jq -c .reply)" = '{"ok":true,"online":1}' ] || fail "1 again: $(reply 17)"
	[ "$(reply 18 | jq -r .stdout)" = $'0\n1' ] || fail "1 online at the end: $(reply 18)"
	expect_ok 19
	# A 1 -> 2 -> 1 cycle (requests 15 and 16), for the record.
	echo "# cpus 1->2->1 with a busy container: $(reply 15 | jq .ms) ms up, $(reply 16 | jq .ms) ms down" >&3
}

@test "freeze stops one container of the pod, thaw resumes it" {
	pod_container sb sleep 1000
	pod_container c1 sh -c 'while :; do :; done'
	usage='{"op":"stats","id":"c1"}'
	requests() {
		echo '{"op":"create","id":"sb","stream":1}'
		echo '{"op":"start","id":"sb"}'
		echo '{"op":"create","id":"c1","stream":2,"sandbox":"sb","join":["network","ipc","uts","pid"]}'
		echo '{"op":"start","id":"c1"}'
		echo '{"op":"freeze","id":"c1","frozen":true}'
		echo "$usage"
		sleep 1
		echo "$usage"
		exec_req c1 10 'true'
		exec_req sb 11 'echo sandbox runs'
		echo '{"op":"freeze","id":"c1","frozen":false}'
		echo "$usage"
		sleep 1
		echo "$usage"
		exec_req c1 12 'echo thawed'
		echo '{"op":"freeze","id":"nope","frozen":true}'
		echo '{"op":"freeze","id":"c1","frozen":"yes"}'
		echo '{"op":"freeze","id":"c1","frozen":true}'
		echo '{"op":"freeze","id":"c1","frozen":true}'
		echo '{"op":"delete","id":"c1"}'
		echo '{"op":"ping"}'
	}
	drive 1 < <(requests)
	for n in 1 2 3 4 5 6 7; do expect_ok "$n"; done
	a=$(reply 6 | jq .reply.cpu_usage_ns)
	b=$(reply 7 | jq .reply.cpu_usage_ns)
	[ "$a" = "$b" ] || fail "frozen, yet its CPU time grew: $a -> $b"
	expect_error 8 'container `c1` is frozen'
	[ "$(reply 9 | jq -r .stdout)" = "sandbox runs" ] || fail "the sandbox: $(reply 9)"
	expect_ok 10
	a=$(reply 11 | jq .reply.cpu_usage_ns)
	b=$(reply 12 | jq .reply.cpu_usage_ns)
	[ "$b" -gt "$a" ] || fail "thawed, yet no CPU time: $a -> $b"
	[ "$(reply 13 | jq -r .stdout)" = thawed ] || fail "exec after thaw: $(reply 13)"
	expect_error 14 'container `nope` does not exist'
	expect_error 15 '"frozen" is not a boolean'
	expect_ok 16
	expect_ok 17
	# A frozen container can be deleted (cgroup.kill reaches frozen processes).
	expect_ok 18
	expect_ok 19
	echo "# freeze $(reply 5 | jq .ms) ms, thaw $(reply 10 | jq .ms) ms (a busy loop, TCG)" >&3
}
