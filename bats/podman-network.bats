#!/usr/bin/env bats
# podman's networks with runk: the default bridge network and a port mapping
# reach a server in the VM, through CNI and through netavark; --network none
# and --network host.  A private podman config, storage and image: see
# engines.bash.  The private containers.conf says netns = "none", so these
# tests ask for their network, and each sets network_backend in it.
#
# A bridge network changes the host: a bridge (cni-podman0, podman0, podman1),
# the backend's iptables and ip6tables chains (CNI-*, NETAVARK*), CNI's state
# in /var/lib/cni, netavark's IP allocations in
# /run/containers/networks/ipam.db and the forwarding sysctls.  setup_file notes what was there and teardown_file
# removes only what was not.

load helpers
load engines

PORT=18080
# The gateway of podman's default network (10.88.0.0/16) on the host.
GATEWAY=10.88.0.1
BRIDGES="cni-podman0 podman0 podman1"
# The dual-stack network of the IPv6 test.
NET6=runk-test-ds
CNI_STATE=/var/lib/cni
NETAVARK_IPAM=/run/containers/networks/ipam.db

setup_file() {
	command -v podman >/dev/null || return 0
	network_state_save
	engine_setup
	podman_setup || return 0
	sed -i '/^\[network\]/a network_backend = "cni"' "$CONTAINERS_CONF"
}

teardown_file() {
	engine_teardown
	network_state_restore
}

setup() {
	require_vm
	require_engine podman conmon iptables-save
	[ -n "${PODMAN_DRIVER:-}" ] || fail "podman set-up failed (see setup_file)"
	BG_PIDS=()
}

teardown() {
	kill_bg_pids
	podman rm -af -t 0 >/dev/null 2>&1 || true
	podman network rm -f "$NET6" >/dev/null 2>&1 || true
	remove_new_bridges
}

# use_backend cni|netavark: podman's network backend from now on (skips if
# it is not installed).
use_backend() {
	case $1 in
	cni) [ -x /usr/lib/cni/bridge ] || skip "no CNI plugins (containernetworking-plugins)" ;;
	netavark) [ -x /usr/lib/podman/netavark ] || skip "netavark is not installed" ;;
	esac
	sed -i "s/^network_backend = .*/network_backend = \"$1\"/" "$CONTAINERS_CONF"
	[ "$(podman info --format '{{.Host.NetworkBackend}}')" = "$1" ] ||
		fail "podman's network backend: $(podman info --format '{{.Host.NetworkBackend}}')"
}

# ---- the host's network state around the file ----

# backend_chains iptables|ip6tables TABLE: the network backends' chains.
backend_chains() {
	"$1-save" -t "$2" 2>/dev/null | sed -n -E 's/^:((CNI-|NETAVARK)[^ ]*) .*/\1/p' | sort
}

FORWARDING="net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv6.conf.default.forwarding"

network_state_save() {
	local ipt table bridge key
	SAVED=$(mktemp -d /tmp/runk-netstate.XXXXXX)
	for ipt in iptables ip6tables; do
		for table in filter nat; do
			backend_chains "$ipt" "$table" >"$SAVED/chains-$ipt-$table"
		done
	done
	for key in $FORWARDING; do
		sysctl -n "$key" >"$SAVED/$key"
	done
	for bridge in $BRIDGES; do
		[ -e "/sys/class/net/$bridge" ] && touch "$SAVED/bridge-$bridge"
	done
	[ -e "$CNI_STATE/networks/podman" ] && touch "$SAVED/ipam"
	[ -e "$CNI_STATE" ] && touch "$SAVED/cni"
	[ -e "$NETAVARK_IPAM" ] && touch "$SAVED/netavark-ipam"
	export SAVED
}

# The bridges that were not there before.  Also after each test: CNI leaves
# cni-podman0 up with podman's subnet, which would take netavark's routes.
remove_new_bridges() {
	local bridge
	[ -n "${SAVED:-}" ] || return 0
	for bridge in $BRIDGES; do
		[ -e "$SAVED/bridge-$bridge" ] || ip link del "$bridge" 2>/dev/null || true
	done
}

# Undo what the backends left behind that was not there before: the jumps into
# their new chains, then the chains; the bridges, CNI's state and forwarding.
network_state_restore() {
	local ipt table chain new rule key
	[ -n "${SAVED:-}" ] || return 0
	for ipt in iptables ip6tables; do
		for table in filter nat; do
			new=$(comm -13 "$SAVED/chains-$ipt-$table" <(backend_chains "$ipt" "$table"))
			[ -n "$new" ] || continue
			for chain in $new; do
				"$ipt-save" -t "$table" | grep -E -- "^-A .* -j $chain( |\$)" |
					while read -r rule; do
						eval "$ipt -t $table -D ${rule#-A }" || true
					done
			done
			for chain in $new; do
				"$ipt" -t "$table" -F "$chain" || true
			done
			for chain in $new; do
				"$ipt" -t "$table" -X "$chain" || true
			done
		done
	done
	remove_new_bridges
	[ -e "$SAVED/netavark-ipam" ] || rm -f "$NETAVARK_IPAM"
	[ -e "$SAVED/ipam" ] || rm -rf "$CNI_STATE/networks/podman"
	[ -e "$SAVED/cni" ] || rm -rf "$CNI_STATE"
	for key in $FORWARDING; do
		sysctl -qw "$key=$(cat "$SAVED/$key")"
	done
	rm -rf "$SAVED"
}

# ---- tests ----

# bridge_network_test BACKEND: podman's default network through BACKEND,
# -p PORT:8080 to busybox httpd in the VM, the VM to the host.
bridge_network_test() {
	local cid ip netns i
	use_backend "$1"
	cid=$(timeout -k 10 300 podman --runtime runk run -d --network bridge -p "$PORT:8080" \
		"$ENGINE_IMAGE" sh -c 'mkdir /www && echo hello-from-vm >/www/index.html &&
			exec httpd -f -p 8080 -h /www')
	[ -n "$cid" ]
	read -r ip netns < <(podman inspect --format \
		'{{.NetworkSettings.IPAddress}} {{.NetworkSettings.SandboxKey}}' "$cid")
	[[ "$ip" == 10.88.* ]] || fail "podman inspect: address '$ip'"
	# runk mirrored podman's veth in the namespace podman made.
	run tc -n "${netns##*/}" filter show dev eth0 ingress
	assert_output --partial 'mirred (Egress Redirect to device tap0_runk)'

	# The VM's kernel, with podman's address on its eth0.
	run timeout -k 10 120 podman exec "$cid" sh -c 'uname -r; ip -o -4 addr show dev eth0'
	assert_success
	[ "${lines[0]}" != "$(uname -r)" ] || fail "the container ran on the host's kernel"
	assert_output --partial "inet $ip/"

	# host -> container through the port mapping on the host's loopback.
	for i in $(seq 100); do
		run timeout -k 5 10 curl -s -m 5 "http://127.0.0.1:$PORT/"
		[ "$output" = hello-from-vm ] && break
		sleep 0.2
	done
	[ "$output" = hello-from-vm ] || fail "curl 127.0.0.1:$PORT: status $status, '$output'"
	# and busybox wget, as the issue asks.
	run timeout -k 5 30 busybox wget -qO- "http://127.0.0.1:$PORT/"
	assert_success
	assert_output hello-from-vm

	# container -> host: a listener reached at the bridge's gateway address.
	timeout -k 5 60 busybox nc -l -p 18099 >"$BATS_TEST_TMPDIR/from-vm" &
	BG_PIDS+=($!)
	sleep 0.5
	run timeout -k 10 120 podman exec "$cid" sh -c "echo hello-from-vm | nc -w 5 $GATEWAY 18099"
	assert_success
	wait_until_text "$BATS_TEST_TMPDIR/from-vm" hello-from-vm

	run timeout -k 10 120 podman rm -f -t 0 "$cid"
	assert_success
	assert_engine_nothing_left "$cid" "/run/runk/$cid"
	[ ! -e "$netns" ] || fail "podman's network namespace $netns is still there"
	run timeout -k 5 10 curl -s -m 3 "http://127.0.0.1:$PORT/"
	assert_failure
}

@test "podman bridge network (CNI): -p $PORT:8080 reaches busybox httpd in the VM, both ways" {
	bridge_network_test cni
}

@test "podman bridge network (netavark): -p $PORT:8080 reaches busybox httpd in the VM, both ways" {
	bridge_network_test netavark
}

@test "podman dual-stack network (netavark): the IPv6 address and route in the VM, reached over IPv6" {
	local cid ip6 i
	use_backend netavark
	run podman network create --ipv6 --subnet 10.89.77.0/24 --subnet fd00:77::/64 "$NET6"
	assert_success
	cid=$(timeout -k 10 300 podman --runtime runk run -d --network "$NET6" "$ENGINE_IMAGE" \
		sh -c 'mkdir /www && echo hello-over-v6 >/www/index.html && exec httpd -f -p 8080 -h /www')
	[ -n "$cid" ]
	ip6=$(podman inspect --format "{{(index .NetworkSettings.Networks \"$NET6\").GlobalIPv6Address}}" "$cid")
	[[ "$ip6" == fd00:77:* ]] || fail "podman inspect: IPv6 address '$ip6'"

	run timeout -k 10 120 podman exec "$cid" sh -c 'ip -o -6 addr show dev eth0 scope global; ip -6 route'
	assert_success
	assert_output --partial "inet6 $ip6/64"
	assert_output --partial 'default via fd00:77::1 dev eth0'

	# host -> container over IPv6, through netavark's bridge.
	for i in $(seq 100); do
		run timeout -k 5 10 curl -g -s -m 5 "http://[$ip6]:8080/"
		[ "$output" = hello-over-v6 ] && break
		sleep 0.2
	done
	[ "$output" = hello-over-v6 ] || fail "curl [$ip6]:8080: status $status, '$output'"

	run timeout -k 10 120 podman rm -f -t 0 "$cid"
	assert_success
	assert_engine_nothing_left "$cid" "/run/runk/$cid"
	run podman network rm "$NET6"
	assert_success
}

@test "podman --network none: loopback only" {
	run timeout -k 10 300 podman --runtime runk run --rm --network none "$ENGINE_IMAGE" \
		sh -c 'ip -o link | cut -d: -f2; uname -r'
	assert_success
	assert_line --index 0 ' lo'
	[ "${#lines[@]}" -eq 2 ] || fail "more than lo: $output"
	[ "${lines[1]}" != "$(uname -r)" ] || fail "the container ran on the host's kernel"
}

@test "podman --network host: refused with the reason" {
	run timeout -k 10 300 podman --runtime runk run --rm --network host "$ENGINE_IMAGE" true
	assert_failure
	assert_output --partial "a VM cannot share the host's network namespace"
	assert_engine_nothing_left "$ENGINE_DIR/podman/graphroot/overlay-containers"
}
