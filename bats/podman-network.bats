#!/usr/bin/env bats
# podman's networks with runk: the default bridge network and a port mapping
# reach a server in the VM; --network none and --network host.
# A private podman config, storage and image: see engines.bash.  The private
# containers.conf says netns = "none", so these tests ask for their network.
#
# podman's bridge network, through CNI (set in the private containers.conf,
# whether netavark is installed or not), changes the host: the cni-podman0 bridge, CNI-* iptables chains,
# CNI's state in /var/lib/cni (host-local's IP reservations, results) and
# net.ipv4.ip_forward.  setup_file notes what was there and teardown_file
# removes only what was not.

load helpers
load engines

PORT=18080
# podman's default network, the name of its bridge and its gateway.
BRIDGE=cni-podman0
GATEWAY=10.88.0.1
CNI_STATE=/var/lib/cni

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
	[ -x /usr/lib/cni/bridge ] || skip "no CNI plugins (containernetworking-plugins)"
	[ -n "${PODMAN_DRIVER:-}" ] || fail "podman set-up failed (see setup_file)"
	[ "$(podman info --format '{{.Host.NetworkBackend}}')" = cni ] ||
		fail "podman's network backend: $(podman info --format '{{.Host.NetworkBackend}}')"
	BG_PIDS=()
}

teardown() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	podman rm -af -t 0 >/dev/null 2>&1 || true
}

# ---- the host's network state around the file ----

# CNI's chains in iptables TABLE.
cni_chains() {
	iptables-save -t "$1" 2>/dev/null | sed -n 's/^:\(CNI-[^ ]*\) .*/\1/p' | sort
}

network_state_save() {
	local table
	SAVED=$(mktemp -d /tmp/runk-netstate.XXXXXX)
	for table in filter nat; do
		cni_chains "$table" >"$SAVED/chains-$table"
	done
	sysctl -n net.ipv4.ip_forward >"$SAVED/ip_forward"
	[ -e "/sys/class/net/$BRIDGE" ] && touch "$SAVED/bridge"
	[ -e "$CNI_STATE/networks/podman" ] && touch "$SAVED/ipam"
	[ -e "$CNI_STATE" ] && touch "$SAVED/cni"
	export SAVED
}

# Undo what CNI left behind that was not there before: the jumps into its new
# chains, then the chains; the bridge, the IP reservations and ip_forward.
network_state_restore() {
	local table chain new rule
	[ -n "${SAVED:-}" ] || return 0
	for table in filter nat; do
		new=$(comm -13 "$SAVED/chains-$table" <(cni_chains "$table"))
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
	[ -e "$SAVED/bridge" ] || ip link del "$BRIDGE" 2>/dev/null || true
	[ -e "$SAVED/ipam" ] || rm -rf "$CNI_STATE/networks/podman"
	[ -e "$SAVED/cni" ] || rm -rf "$CNI_STATE"
	sysctl -qw net.ipv4.ip_forward="$(cat "$SAVED/ip_forward")"
	rm -rf "$SAVED"
}

# ---- tests ----

@test "podman bridge network: -p $PORT:8080 reaches busybox httpd in the VM, both ways" {
	local cid ip netns i
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
