# Set-up for pod tests through containerd's CRI (load after helpers and engines).
#
# A private containerd with the CRI plugin on (tests/cri/containerd-cri.toml):
# root, state, socket, CNI dirs and both runtimes' state roots under
# ENGINE_DIR/cri; handlers "runk" (the runk wrapper of engines.bash) and
# "runc". Images: busybox and a "pause" image (busybox waiting for a signal),
# made by podman from the test rootfs and imported into the k8s.io namespace.
# Pods use the node's network (no CNI) and a cgroup parent of their own,
# /runk-bats-pods-<pid>, removed from every hierarchy at teardown.

CRI_PAUSE_IMAGE=localhost/pause:runk-test
CRI_CLIENT=$SRCDIR/tests/cri/cri-client.py

require_cri() {
	require_engine containerd ctr podman protoc
	/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null ||
		skip "python3-grpcio or python3-protobuf is not installed (contrib/install-deps.sh)"
}

# cri ARGS...: the CRI client on the private containerd.
cri() {
	# TMPDIR: the client's compiled cri.proto goes with ENGINE_DIR.
	TMPDIR=$ENGINE_DIR timeout "${ENGINE_TIMEOUT:-300}" /usr/bin/python3 "$CRI_CLIENT" \
		--socket "$CRI_ADDRESS" "$@"
}

ctr_k8s() {
	timeout "${ENGINE_TIMEOUT:-300}" ctr --address "$CRI_ADDRESS" --namespace k8s.io "$@"
}

# cri_setup: start the private containerd (CRI_PID) and import both images.
cri_setup() {
	local d=$ENGINE_DIR/cri i
	mkdir -p "$d"/cni/bin "$d"/cni/conf "$d"/logs
	CRI_DIR=$d
	CRI_ADDRESS=$d/containerd.sock
	CRI_RUNK_ROOT=$d/runk-root
	CRI_RUNC_ROOT=$d/runc-root
	CRI_CGROUP_PARENT=/runk-bats-pods-$$
	fill_template "$SRCDIR/tests/cri/containerd-cri.toml" "$d/config.toml" \
		ROOT="$d/root" STATE="$d/state" ADDRESS="$CRI_ADDRESS" CNI_DIR="$d/cni" \
		PAUSE_IMAGE="$CRI_PAUSE_IMAGE" RUNK="$ENGINE_RUNK" RUNK_ROOT="$CRI_RUNK_ROOT" \
		RUNC_ROOT="$CRI_RUNC_ROOT"
	containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
	CRI_PID=$!
	export CRI_DIR CRI_ADDRESS CRI_RUNK_ROOT CRI_RUNC_ROOT CRI_PID CRI_CGROUP_PARENT
	for i in $(seq 600); do
		cri --timeout 2 version >/dev/null 2>&1 && break
		kill -0 "$CRI_PID" 2>/dev/null || {
			echo "# containerd exited: $(tail -20 "$d/containerd.log")" >&3
			return 1
		}
		sleep 0.1
	done
	cri version >/dev/null || return 1
	podman_setup || return 1
	podman import --change 'ENTRYPOINT ["/bin/sh", "-c", "trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait; done"]' \
		"$(engine_rootfs_tar)" "$CRI_PAUSE_IMAGE" >"$d/import-pause.log" 2>&1 || return 1
	for i in "$ENGINE_IMAGE" "$CRI_PAUSE_IMAGE"; do
		podman save --format oci-archive -o "$d/image.tar" "$i" >/dev/null || return 1
		ctr_k8s image import "$d/image.tar" >"$d/import.log" 2>&1 || {
			echo "# ctr image import $i: $(cat "$d/import.log")" >&3
			return 1
		}
	done
	rm -f "$d/image.tar"
}

# cri_pod_config FILE NAME [JQ]: a PodSandboxConfig on the node's network with
# the test's cgroup parent; JQ edits it.
cri_pod_config() {
	local file=$1 name=$2 filter=${3:-.}
	jq -n --arg name "$name" --arg logs "$CRI_DIR/logs/$name" --arg parent "$CRI_CGROUP_PARENT" '{
		metadata: {name: $name, uid: ("uid-" + $name), namespace: "runk-test", attempt: 0},
		log_directory: $logs,
		linux: {cgroup_parent: $parent,
			security_context: {namespace_options: {network: "NODE", pid: "CONTAINER", ipc: "POD"}}}
	}' | jq "$filter" >"$file"
	mkdir -p "$CRI_DIR/logs/$name"
}

# cri_container_config FILE NAME [JQ] -- ARGS...: a busybox ContainerConfig
# running ARGS, logging to NAME.log; JQ edits it.
cri_container_config() {
	local file=$1 name=$2 filter=.
	shift 2
	if [ "${1:-}" != -- ]; then
		filter=$1
		shift
	fi
	shift
	# The command through stdin: jq would take an argument such as -c as its own.
	printf '%s\n' "$@" | jq -Rn --arg name "$name" --arg image "$ENGINE_IMAGE" '{
		metadata: {name: $name, attempt: 0},
		image: {image: $image},
		command: [inputs],
		log_path: ($name + ".log"),
		linux: {}
	}' | jq "$filter" >"$file"
}

cri_teardown() {
	local id
	[ -n "${CRI_PID:-}" ] || return 0
	local ENGINE_TIMEOUT=60
	containerd_stop "$CRI_PID" "$CRI_ADDRESS" ctr_k8s
	# What a failed test left of runk's pods: their VMs, overhead cgroups.
	for id in $(ls "$CRI_RUNK_ROOT/k8s.io" 2>/dev/null); do
		cri_runk delete --force "$id" >/dev/null 2>&1 || true
	done
	cri_cgroups_remove
	rmdir /run/containerd/s /run/containerd/fifo /run/containerd 2>/dev/null || true
}

# cri_cgroups_remove: the test's cgroup parent, out of every hierarchy.
cri_cgroups_remove() {
	local hier
	for hier in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
		[ -d "$hier$CRI_CGROUP_PARENT" ] || continue
		find "$hier$CRI_CGROUP_PARENT" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
}

# cri_cgroups_left: the test's cgroup parent's directories still present.
cri_cgroups_left() {
	local hier
	for hier in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
		[ -d "$hier$CRI_CGROUP_PARENT" ] || continue
		find "$hier$CRI_CGROUP_PARENT" -mindepth 1 -type d
	done
}

# cri_runk ARGS...: runk (the handler's wrapper) on the CRI handler's state
# root: containerd's shim adds the namespace, k8s.io.
cri_runk() {
	"$ENGINE_RUNK" --root "$CRI_RUNK_ROOT/k8s.io" "$@"
}

# cri_bundle ID: the bundle containerd wrote for a task.
cri_bundle() {
	echo "$CRI_DIR/state/io.containerd.runtime.v2.task/k8s.io/$1"
}
