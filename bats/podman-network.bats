#!/usr/bin/env bats
# podman's networks with runk: the default bridge network and a port mapping
# reach a server in the VM, through CNI and through netavark; --network none
# and --network host.  A private podman config, storage and image: see
# engines.bash.  The private containers.conf says netns = "none", so these
# tests ask for their network, and each sets network_backend in it.
#
# A bridge network changes the host: a bridge (cni-podman0, podman0), the
# backend's iptables chains (CNI-*, NETAVARK*), CNI's state in /var/lib/cni,
# netavark's IP allocations in /run/containers/networks/ipam.db and
# net.ipv4.ip_forward.  setup_file notes what was there and teardown_file
# removes only what was not.

load helpers
load engines

PORT=18080
# The gateway of podman's default network (10.88.0.0/16) on the host.
GATEWAY=10.88.0.1
BRIDGES="cni-podman0 podman0"
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
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	podman rm -af -t 0 >/dev/null 2>&1 || true
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

# The network backends' chains in iptables TABLE.
backend_chains() {
	iptables-save -t "$1" 2>/dev/null | sed -n -E 's/^:((CNI-|NETAVARK)[^ ]*) .*/\1/p' | sort
}

network_state_save() {
	local table bridge
	SAVED=$(mktemp -d /tmp/runk-netstate.XXXXXX)
	for table in filter nat; do
		backend_chains "$table" >"$SAVED/chains-$table"
	done
	sysctl -n net.ipv4.ip_forward >"$SAVED/ip_forward"
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
# their new chains, then the chains; the bridges, CNI's state and ip_forward.
network_state_restore() {
	local table chain new rule
	[ -n "${SAVED:-}" ] || return 0
	for table in filter nat; do
		new=$(comm -13 "$SAVED/chains-$table" <(backend_chains "$table"))
		[ -n "$new" ] || continue
		for chain in $new; do
			iptables-save -t "$table" | grep -E -- "^-A .* -j $chain( |\$)" |
				while read -r rule; do
					eval "iptables -t $table -D ${rule#-A }" || true
				done
		done
		for chain in $new; do
			iptables -t "$table" -F "$chain" || true
		done
		for chain in $new; do
			iptables -t "$table" -X "$chain" || true
		done
	done
	remove_new_bridges
	[ -e "$SAVED/netavark-ipam" ] || rm -f "$NETAVARK_IPAM"
	[ -e "$SAVED/ipam" ] || rm -rf "$CNI_STATE/networks/podman"
	[ -e "$SAVED/cni" ] || rm -rf "$CNI_STATE"
	sysctl -qw net.ipv4.ip_forward="$(cat "$SAVED/ip_forward")"
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
