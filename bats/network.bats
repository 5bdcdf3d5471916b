#!/usr/bin/env bats
# Networking: the engine's network namespace carried into the VM (taps + tc
# mirroring on the host, the same MAC/MTU/addresses/routes in the guest).
#
# Each test makes two network namespaces of its own: NS plays the engine's
# container namespace (eth0, 10.200.7.2/24, default route via .1) and PEER
# the host side of the veth pair (10.200.7.1/24).  The host's own interfaces
# are never touched; both namespaces are deleted by name in teardown.

load helpers

setup() {
	setup_runk
	NS=runk-t-$RANDOM$RANDOM
	PEER=$NS-p
	BG_PIDS=()
}

teardown() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	teardown_runk
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "$PEER" 2>/dev/null || true
}

# The veth pair: eth0 in NS (MTU 1400, a fixed MAC), veth-p in PEER.
make_netns() {
	ip netns add "$NS"
	ip netns add "$PEER"
	ip -n "$NS" link add eth0 type veth peer name veth-p netns "$PEER"
	ip -n "$NS" link set eth0 address 02:00:0a:c8:07:02 mtu 1400
	ip -n "$PEER" link set veth-p mtu 1400
	ip -n "$NS" addr add 10.200.7.2/24 dev eth0
	ip -n "$NS" link set lo up
	ip -n "$NS" link set eth0 up
	ip -n "$NS" route add default via 10.200.7.1
	ip -n "$NS" route add 10.200.99.0/24 via 10.200.7.1
	ip -n "$PEER" addr add 10.200.7.1/24 dev veth-p
	ip -n "$PEER" link set veth-p up
}

# A bundle running ARGS whose network namespace is NS.
make_net_bundle() {
	make_bundle "$TEST_DIR/bundle" "$@"
	bundle_jq "$TEST_DIR/bundle" \
		".linux.namespaces |= map(if .type == \"network\" then .path = \"/run/netns/$NS\" else . end)"
}

# runk create with its stdio in files: the shim keeps what it inherits open.
create_detached() {
	runk create --bundle "$TEST_DIR/bundle" --pid-file "$TEST_DIR/pid" "$1" \
		</dev/null >"$TEST_DIR/$1.out" 2>&1 || fail "create $1: $(cat "$TEST_DIR/$1.out")"
}

# Nothing of runk's left in NS: no tap, no ingress qdisc, no filter.
assert_netns_clean() {
	run ip -n "$NS" -o link show
	refute_output --partial _runk
	run tc -n "$NS" qdisc show dev eth0 ingress
	assert_output ''
	run tc -n "$NS" filter show dev eth0 ingress
	assert_output ''
}

@test "network: ping, MTU, MAC, routes and nc both ways through the VM" {
	require_vm
	make_netns
	make_net_bundle sh -c 'nc -l -p 8080 >/dev/shm/got; sleep 600'
	# ping needs a raw socket.
	bundle_jq "$TEST_DIR/bundle" '.process.capabilities[] += ["CAP_NET_RAW"]'
	create_detached c1
	# While the container lives: a tap mirrored to and from eth0.
	run tc -n "$NS" filter show dev eth0 ingress
	assert_output --partial 'mirred (Egress Redirect to device tap0_runk)'
	run runk start c1
	assert_success

	run runk exec c1 cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu
	assert_success
	assert_output $'02:00:0a:c8:07:02\n1400'
	run runk exec c1 ip -o -4 addr show dev eth0
	assert_output --partial 'inet 10.200.7.2/24'
	run runk exec c1 ip route
	assert_output --partial 'default via 10.200.7.1 dev eth0'
	assert_output --partial '10.200.99.0/24 via 10.200.7.1 dev eth0'
	run runk exec c1 ping -c1 -W10 10.200.7.1
	assert_success
	assert_output --partial '1 packets received'

	# peer -> container: the container's init listens on 8080.
	run timeout -k 5 30 ip netns exec "$PEER" busybox sh -c 'echo hello-from-peer | nc -w 5 10.200.7.2 8080'
	assert_success
	run runk exec c1 cat /dev/shm/got
	assert_output 'hello-from-peer'

	# container -> peer.
	ip netns exec "$PEER" busybox nc -l -p 9090 >"$TEST_DIR/from-container" &
	BG_PIDS+=($!)
	sleep 0.5
	run runk exec c1 sh -c 'echo hello-from-container | nc -w 5 10.200.7.1 9090'
	assert_success
	wait_until_text "$TEST_DIR/from-container" hello-from-container

	run runk delete --force c1
	assert_success
	assert_netns_clean
	assert_nothing_left
}

@test "network: a shim killed by SIGKILL leaves nothing in the namespace after delete" {
	require_vm
	make_netns
	make_net_bundle sleep 600
	create_detached c1
	run cat "$ROOT/c1/network"
	assert_output --partial 'iface eth0 tap0_runk'
	kill -9 "$(cat "$TEST_DIR/pid")"
	# The tap went with QEMU; eth0's qdisc and filter stay until delete.
	run tc -n "$NS" filter show dev eth0 ingress
	assert_output --partial 'mirred (Egress Redirect'
	run runk delete --force c1
	assert_success
	assert_netns_clean
	assert_nothing_left
}

@test "network: a network namespace without a path gives loopback only" {
	require_vm
	make_bundle "$TEST_DIR/bundle" sh -c 'ip -o link | cut -d: -f2'
	run runk run --bundle "$TEST_DIR/bundle" c1 </dev/null
	assert_success
	assert_output ' lo'
	assert_nothing_left
}

@test "network: host networking is refused" {
	make_bundle "$TEST_DIR/bundle" true
	bundle_jq "$TEST_DIR/bundle" '.linux.namespaces |= map(select(.type != "network"))'
	run runk run --bundle "$TEST_DIR/bundle" c1 </dev/null
	assert_failure
	assert_output --partial "a VM cannot share the host's network namespace"
	assert_nothing_left
}

@test "network: the host's own network namespace by path is refused" {
	make_bundle "$TEST_DIR/bundle" true
	bundle_jq "$TEST_DIR/bundle" \
		'.linux.namespaces |= map(if .type == "network" then .path = "/proc/self/ns/net" else . end)'
	run runk run --bundle "$TEST_DIR/bundle" c1 </dev/null
	assert_failure
	assert_output --partial "a VM cannot share the host's network namespace"
	assert_nothing_left
}
