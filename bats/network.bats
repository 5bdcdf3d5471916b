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
	kill_bg_pids
	teardown_runk
	ip netns del "$NS" 2>/dev/null || true
	ip netns del "$PEER" 2>/dev/null || true
}

# The veth pair: eth0 in NS (MTU 1400, a fixed MAC), veth-p in PEER.
# --eth1-first: add_second_veth before it, so that eth1 is the first NIC.
make_netns() {
	ip netns add "$NS"
	ip netns add "$PEER"
	[ "${1:-}" != --eth1-first ] || add_second_veth
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

# IPv6 on the same veth pair: fd00:7::2/64 in NS with a default route via
# fd00:7::1 in PEER (nodad: no waiting for duplicate address detection).
add_ipv6() {
	ip -n "$NS" addr add fd00:7::2/64 dev eth0 nodad
	ip -n "$NS" -6 route add default via fd00:7::1
	ip -n "$NS" -6 route add fd00:99::/64 via fd00:7::1
	# A link-local gateway, as router advertisements give.
	ip -n "$NS" -6 route add fd00:98::/64 via fe80::1 dev eth0
	ip -n "$PEER" addr add fd00:7::1/64 dev veth-p nodad
	# Off the link: reached through the default route only.
	ip -n "$PEER" link set lo up
	ip -n "$PEER" addr add fd00:42::1/128 dev lo
}

# A second veth pair: eth1 in NS (10.200.8.2/24, fd00:8::2/64, its own MAC),
# veth-q in PEER (10.200.8.1/24, fd00:8::1/64).
add_second_veth() {
	ip -n "$NS" link add eth1 type veth peer name veth-q netns "$PEER"
	ip -n "$NS" link set eth1 address 02:00:0a:c8:08:02 mtu 1450
	ip -n "$PEER" link set veth-q mtu 1450
	ip -n "$NS" addr add 10.200.8.2/24 dev eth1
	ip -n "$NS" addr add fd00:8::2/64 dev eth1 nodad
	ip -n "$NS" link set eth1 up
	ip -n "$PEER" addr add 10.200.8.1/24 dev veth-q
	ip -n "$PEER" addr add fd00:8::1/64 dev veth-q nodad
	ip -n "$PEER" link set veth-q up
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

# Nothing of runk's left in NS: no tap, no ingress qdisc, no filter (on eth0
# and on every other interface named).
assert_netns_clean() {
	local dev
	run ip -n "$NS" -o link show
	refute_output --partial _runk
	for dev in eth0 "$@"; do
		run tc -n "$NS" qdisc show dev "$dev" ingress
		assert_output ''
		run tc -n "$NS" filter show dev "$dev" ingress
		assert_output ''
	done
}

# peer_sends ADDRESS PORT TEXT: TEXT from PEER to a listener in the container.
peer_sends() {
	run timeout -k 5 30 ip netns exec "$PEER" busybox sh -c "echo $3 | nc -w 5 $1 $2"
	assert_success
}

# container_sends ID ADDRESS PORT TEXT: TEXT from the container to a listener in PEER.
container_sends() {
	local got=$TEST_DIR/got-$3
	ip netns exec "$PEER" busybox nc -l -p "$3" >"$got" &
	BG_PIDS+=($!)
	sleep 0.5
	run runk exec "$1" sh -c "echo $4 | nc -w 5 $2 $3"
	assert_success
	wait_until_text "$got" "$4"
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

@test "network: IPv6 addresses and routes, ping6 and nc over IPv6 both ways" {
	require_vm
	make_netns
	add_ipv6
	make_net_bundle sh -c 'nc -l -p 8080 >/dev/shm/got; sleep 600'
	bundle_jq "$TEST_DIR/bundle" '.process.capabilities[] += ["CAP_NET_RAW"]'
	create_detached c1
	run runk start c1
	assert_success

	run runk exec c1 ip -o -6 addr show dev eth0 scope global
	assert_success
	assert_output --partial 'inet6 fd00:7::2/64'
	run runk exec c1 ip -o -4 addr show dev eth0
	assert_output --partial 'inet 10.200.7.2/24'
	run runk exec c1 ip -6 route
	assert_output --partial 'default via fd00:7::1 dev eth0'
	assert_output --partial 'fd00:99::/64 via fd00:7::1 dev eth0'
	assert_output --partial 'fd00:98::/64 via fe80::1 dev eth0'
	run runk exec c1 ping6 -c1 -W10 fd00:7::1
	assert_success
	assert_output --partial '1 packets received'
	run runk exec c1 ping6 -c1 -W10 fd00:42::1
	assert_success
	assert_output --partial '1 packets received'

	# peer -> container over IPv6, to the init's listener.
	peer_sends fd00:7::2 8080 hello-v6-from-peer
	run runk exec c1 cat /dev/shm/got
	assert_output 'hello-v6-from-peer'
	# container -> peer over IPv6.
	container_sends c1 fd00:7::1 9090 hello-v6-from-container

	run runk delete --force c1
	assert_success
	assert_netns_clean
	assert_nothing_left
}

@test "network: two veths give two NICs, each with its MAC, MTU and addresses, both reachable" {
	require_vm
	# eth1 is the guest's first virtio NIC, which the guest kernel names eth0:
	# the names must not collide while the agent renames them.
	make_netns --eth1-first
	make_net_bundle sh -c 'nc -l -p 8080 >/dev/shm/got0 & nc -l -p 8081 >/dev/shm/got1; sleep 600'
	create_detached c1
	run tc -n "$NS" filter show dev eth1 ingress
	assert_output --partial 'mirred (Egress Redirect to device tap0_runk)'
	run runk start c1
	assert_success

	run runk exec c1 sh -c 'cd /sys/class/net && cat eth0/address eth0/mtu eth1/address eth1/mtu'
	assert_success
	assert_output $'02:00:0a:c8:07:02\n1400\n02:00:0a:c8:08:02\n1450'
	run runk exec c1 ip -o addr
	assert_output --partial 'eth0    inet 10.200.7.2/24'
	assert_output --partial 'eth1    inet 10.200.8.2/24'
	assert_output --partial 'eth1    inet6 fd00:8::2/64'
	run runk exec c1 sh -c 'ip -o link | cut -d: -f2 | sort | tr -d " " | tr "\n" " "'
	assert_output 'eth0 eth1 lo '

	peer_sends 10.200.7.2 8080 hello-eth0
	peer_sends fd00:8::2 8081 hello-eth1
	run runk exec c1 cat /dev/shm/got0 /dev/shm/got1
	assert_output $'hello-eth0\nhello-eth1'
	container_sends c1 10.200.7.1 9090 from-c1-eth0
	container_sends c1 10.200.8.1 9091 from-c1-eth1

	run runk delete --force c1
	assert_success
	assert_netns_clean eth1
	assert_nothing_left
}

@test "network: a shim killed by SIGKILL leaves nothing in the namespace after delete (two NICs)" {
	require_vm
	make_netns
	add_second_veth
	make_net_bundle sleep 600
	create_detached c1
	run cat "$ROOT/c1/network"
	assert_output --partial 'iface eth0 tap0_runk'
	assert_output --partial 'iface eth1 tap1_runk'
	kill -9 "$(cat "$TEST_DIR/pid")"
	# The taps went with QEMU; the veths' qdiscs and filters stay until delete.
	run tc -n "$NS" filter show dev eth0 ingress
	assert_output --partial 'mirred (Egress Redirect'
	run tc -n "$NS" filter show dev eth1 ingress
	assert_output --partial 'mirred (Egress Redirect'
	run runk delete --force c1
	assert_success
	assert_netns_clean eth1
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
