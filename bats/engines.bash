# Shared set-up for podman.bats and containerd.bats (load after helpers).
#
# The engines run runk through a wrapper script, ENGINE_DIR/runk, that passes
# --config ENGINE_DIR/runk.conf: what a user's /etc/runk/runk.conf does, and it
# does not depend on conmon or containerd-shim passing RUNK_CONFIG through.
# Everything else is private too: podman's config, storage, tmp dir and locks,
# containerd's root, state and socket, all under ENGINE_DIR; teardown removes
# the containers, stops the daemons by PID, unmounts and deletes ENGINE_DIR.
#
# ENGINE_RUNTIME_BIN=/usr/sbin/runc makes the wrapper run another runtime, to
# check the harness itself.

ENGINE_IMAGE=localhost/busybox:runk-test

require_engine() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || skip "$tool is not installed (contrib/install-deps.sh)"
	done
}

# engine_setup: ENGINE_DIR, its runk.conf and the runk wrapper (ENGINE_RUNK).
engine_setup() {
	ENGINE_DIR=$(mktemp -d /tmp/runk-engine.XXXXXX)
	cat >"$ENGINE_DIR/runk.conf" <<-CONF
		[hypervisor]
		kernel = $GUEST_KERNEL
		initrd = $GUEST_INITRD
		boot_timeout = 60
		[agent]
		timeout = 60
		[factory]
		template = ${RUNK_TEST_TEMPLATES:-true}
		template_dir = ${RUNK_TEST_TEMPLATE_DIR:-/dev/shm/runk-test-templates}
	CONF
	ENGINE_RUNK=$ENGINE_DIR/runk
	if [ -n "${ENGINE_RUNTIME_BIN:-}" ]; then
		printf '#!/bin/sh\nexec %s "$@"\n' "$ENGINE_RUNTIME_BIN" >"$ENGINE_RUNK"
	else
		printf '#!/bin/sh\nexec %s --config %s "$@"\n' "$RUNK_BIN" "$ENGINE_DIR/runk.conf" >"$ENGINE_RUNK"
	fi
	chmod +x "$ENGINE_RUNK"
	export ENGINE_DIR ENGINE_RUNK
}

# fill_template SRC DST NAME=VALUE...: copy SRC with every @NAME@ replaced.
fill_template() {
	local src=$1 dst=$2 kv script=""
	shift 2
	for kv in "$@"; do
		script+="s|@${kv%%=*}@|${kv#*=}|g;"
	done
	sed "$script" "$src" >"$dst"
	! grep -q '@[A-Z_]*@' "$dst" || fail "unfilled template values in $dst: $(grep '@[A-Z_]*@' "$dst")"
}

# The busybox rootfs as an image tarball (no registry).
engine_rootfs_tar() {
	local tar=$ENGINE_DIR/busybox-rootfs.tar
	[ -f "$tar" ] || tar -C "$(busybox_rootfs)" -cf "$tar" .
	echo "$tar"
}

# podman_setup: private containers.conf and storage.conf, and the image imported.
podman_setup() {
	local driver
	mkdir -p "$ENGINE_DIR/podman"/{tmp,net}
	for driver in overlay vfs; do
		fill_template "$SRCDIR/contrib/podman/storage.conf" "$ENGINE_DIR/podman/storage.conf" \
			DRIVER=$driver RUNROOT="$ENGINE_DIR/podman/runroot" GRAPHROOT="$ENGINE_DIR/podman/graphroot"
		fill_template "$SRCDIR/contrib/podman/containers.conf" "$ENGINE_DIR/podman/containers.conf" \
			TMP_DIR="$ENGINE_DIR/podman/tmp" RUNK="$ENGINE_RUNK" NETWORK_DIR="$ENGINE_DIR/podman/net"
		export CONTAINERS_CONF=$ENGINE_DIR/podman/containers.conf
		export CONTAINERS_STORAGE_CONF=$ENGINE_DIR/podman/storage.conf
		if podman import --change 'CMD ["/bin/sh"]' "$(engine_rootfs_tar)" "$ENGINE_IMAGE" \
			>"$ENGINE_DIR/podman/import.log" 2>&1; then
			PODMAN_DRIVER=$driver
			export PODMAN_DRIVER
			return 0
		fi
		podman system reset -f >/dev/null 2>&1 || true
		engine_unmount "$ENGINE_DIR/podman"
		rm -rf "$ENGINE_DIR/podman/runroot" "$ENGINE_DIR/podman/graphroot"
	done
	echo "# podman import failed: $(cat "$ENGINE_DIR/podman/import.log")" >&3
	return 1
}

podman_teardown() {
	[ -n "${CONTAINERS_CONF:-}" ] || return 0
	podman rm -af -t 0 >/dev/null 2>&1 || true
	podman pod rm -af >/dev/null 2>&1 || true
	podman rmi -af >/dev/null 2>&1 || true
	podman system reset -f >/dev/null 2>&1 || true
}

# containerd_setup: a private containerd in the background (CONTAINERD_PID),
# serving CONTAINERD_ADDRESS; the image imported from podman's OCI archive.
containerd_setup() {
	local d=$ENGINE_DIR/containerd i
	mkdir -p "$d"
	CONTAINERD_ADDRESS=$d/containerd.sock
	CONTAINERD_RUNK_ROOT=$d/runk-root
	fill_template "$SRCDIR/contrib/containerd/config.toml" "$d/config.toml" \
		ROOT="$d/root" STATE="$d/state" ADDRESS="$CONTAINERD_ADDRESS" RUNK="$ENGINE_RUNK"
	containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
	CONTAINERD_PID=$!
	export CONTAINERD_ADDRESS CONTAINERD_PID CONTAINERD_RUNK_ROOT
	for i in $(seq 600); do
		ctr --address "$CONTAINERD_ADDRESS" version >/dev/null 2>&1 && break
		kill -0 "$CONTAINERD_PID" 2>/dev/null || {
			echo "# containerd exited: $(tail -20 "$d/containerd.log")" >&3
			return 1
		}
		sleep 0.1
	done
	ctr --address "$CONTAINERD_ADDRESS" version >/dev/null || return 1
	# The image: podman imports the rootfs and saves it as an OCI archive.
	podman_setup || return 1
	podman save --format oci-archive -o "$d/busybox-oci.tar" "$ENGINE_IMAGE" >/dev/null ||
		return 1
	ctrn image import "$d/busybox-oci.tar" >"$d/import.log" 2>&1 || {
		echo "# ctr image import: $(cat "$d/import.log")" >&3
		return 1
	}
}

# ctr in the test namespace of the private containerd.
ctrn() {
	timeout "${ENGINE_TIMEOUT:-300}" ctr --address "$CONTAINERD_ADDRESS" --namespace runk-test "$@"
}

# ctr run with runk as the runc shim's binary and a private runtime root
# (the default would be /run/containerd/runc/<namespace>); the shim adds the
# namespace: runk's state root is CONTAINERD_RUNK_ROOT/runk-test.
ctr_run() {
	ctrn run --runc-binary "$ENGINE_RUNK" --runc-root "$CONTAINERD_RUNK_ROOT" \
		--fifo-dir "$ENGINE_DIR/containerd/fifo" "$@"
}

ctr_exec() {
	ctrn task exec --fifo-dir "$ENGINE_DIR/containerd/fifo" "$@"
}

# The socket containerd 1.6's shim makes for a task: /run/containerd/s/ +
# sha256 of "<containerd address>/<namespace>/<id>" (always there, whatever
# containerd's state dir).
shim_socket_of() {
	echo "/run/containerd/s/$(printf '%s' "$CONTAINERD_ADDRESS/runk-test/$1" | sha256sum | cut -d' ' -f1)"
}

# containerd_stop PID ADDRESS CTR: kill and delete every task and container
# (through CTR, a ctr function for the namespace), stop containerd PID, and
# kill the shims it started (they outlive it by design).
containerd_stop() {
	local pid=$1 address=$2 ctr=$3 id
	if kill -0 "$pid" 2>/dev/null; then
		for id in $("$ctr" task ls -q 2>/dev/null); do
			"$ctr" task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
		done
		for id in $("$ctr" container ls -q 2>/dev/null); do
			"$ctr" task delete -f "$id" >/dev/null 2>&1 || true
			"$ctr" container delete "$id" >/dev/null 2>&1 || true
		done
	fi
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for id in $(engine_pids "$address"); do
		kill -9 "$id" 2>/dev/null || true
	done
}

containerd_teardown() {
	local id ids
	[ -n "${CONTAINERD_PID:-}" ] || return 0
	local ENGINE_TIMEOUT=30
	ids=$(ctrn container ls -q 2>/dev/null) || ids=""
	containerd_stop "$CONTAINERD_PID" "$CONTAINERD_ADDRESS" ctrn
	for id in $ids; do
		rm -f "$(shim_socket_of "$id")"
	done
	# containerd makes these whatever its state dir; remove them only if empty
	# (another containerd may use them).
	rmdir /run/containerd/s /run/containerd/fifo /run/containerd/runc/runk-test /run/containerd/runc /run/containerd 2>/dev/null || true
}

# PIDs of processes whose command line mentions TEXT (one grep over /proc; the
# pattern comes from a file so that grep's own command line does not match).
engine_pids() {
	grep -lF -f <(printf '%s\n' "$1") /proc/[0-9]*/cmdline 2>/dev/null |
		awk -F/ -v self=$$ '$3 != self { print $3 }'
}

# Unmount everything under DIR, deepest first.
engine_unmount() {
	local m
	for m in $(awk -v d="$1" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
}

engine_teardown() {
	local pid
	[ -n "${ENGINE_DIR:-}" ] || return 0
	containerd_teardown
	podman_teardown
	for pid in $(engine_pids "$ENGINE_DIR"); do
		kill -9 "$pid" 2>/dev/null || true
	done
	engine_unmount "$ENGINE_DIR"
	rm -rf "$ENGINE_DIR"
}

# assert_engine_nothing_left TEXT [STATEDIR]: no process whose command line
# mentions TEXT (a container id or runk state root: conmon, the shim, QEMU) and,
# if given, no runk state in STATEDIR.  Engines clean up asynchronously (conmon's
# `podman container cleanup`, the runc shim): they get up to 60 s.
assert_engine_nothing_left() {
	local text=$1 state=${2:-} left i
	for i in $(seq 300); do
		left=$(engine_pids "$text")
		[ -z "$left" ] && { [ -z "$state" ] || [ ! -e "$state" ] || [ -z "$(ls -A "$state")" ]; } && break
		sleep 0.2
	done
	[ -z "$left" ] || fail "processes left behind: $(for p in $left; do
		tr '\0' ' ' <"/proc/$p/cmdline"
		echo
	done)"
	[ -z "$state" ] || [ ! -e "$state" ] || [ -z "$(ls -A "$state")" ] ||
		fail "runk state left behind in $state: $(ls -A "$state")"
}
