#!/bin/bash
# Kubernetes pod benchmark through one private containerd with its CRI plugin
# (the set-up of bats/pods.bats: bats/engines.bash and bats/cri.bash), one
# run on this machine:
#   N pods of two containers (the sandbox + c1 + c2; 0.5 CPU and 256 MiB
#     each, the pod 1 CPU and 512 MiB), timed from RunPodSandbox to the
#     second StartContainer's answer inside one CRI client, interleaved:
#       runk, the pod's VM restored from its VM template ([factory] pool = 0:
#         what a node gets by default, as a pool's keeper forked under
#         containerd's shim stands down)
#       runk, the VM claimed from the template's pool (pool = 1, started with
#         `runk factory init`; each run waits until the pool holds a ready VM)
#       runc
#     after one warm-up pod each, not counted.  The template and its pool
#     are made first (`runk factory init`).
#   M idle runk pods at once (from the pool): the total PSS (smaps_rollup) of
#     their QEMUs, shims and member shims, and the MemAvailable drop, both
#     also per pod.
# Prints min/median, the ratios runk/runc and the factory's counters.
#
# Usage: contrib/bench/pod.sh [N] [M]   (defaults 5 and 10)
# Environment: RUNK_BUILDDIR (default build/), RUNK_GUEST_KERNEL/_INITRD.
set -euo pipefail

N=${1:-5}
M=${2:-10}
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${RUNK_BUILDDIR:-$SRCDIR/build}
WORK=$(mktemp -d /tmp/runk-podbench.XXXXXX)
# shellcheck source=contrib/bench/lib.sh
. "$SRCDIR/contrib/bench/lib.sh"

# What bats/engines.bash and bats/cri.bash take from bats and helpers.bash.
RUNK_BIN=$BUILD/src/runk
GUEST_KERNEL=${RUNK_GUEST_KERNEL:-$BUILD/guest/out/vmlinux}
GUEST_INITRD=${RUNK_GUEST_INITRD:-$BUILD/guest/out/initrd.cpio}
RUNK_TEST_TEMPLATE_DIR=/dev/shm/runk-podbench-$$
fail() {
	echo "pod.sh: $*" >&2
	exit 1
}
skip() { fail "$@"; }
# lib.sh's busybox_rootfs makes one in DIR; helpers.bash's prints the one it made.
# shellcheck disable=SC2218
busybox_rootfs "$WORK/rootfs"
busybox_rootfs() { echo "$WORK/rootfs"; }
exec 3>&2
# shellcheck source=bats/engines.bash
. "$SRCDIR/bats/engines.bash"
# shellcheck source=bats/cri.bash
. "$SRCDIR/bats/cri.bash"

cleanup() {
	set +e
	cri_teardown
	RUNK_CONFIG=$ENGINE_DIR/runk.conf "$RUNK_BIN" factory destroy >/dev/null 2>&1
	engine_teardown
	rm -rf "$WORK" "$RUNK_TEST_TEMPLATE_DIR"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

for tool in containerd ctr podman protoc qemu-system-x86_64; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (contrib/install-deps.sh)"
done
{ [ -f "$GUEST_KERNEL" ] && [ -f "$GUEST_INITRD" ]; } || fail "no guest image at $GUEST_KERNEL: run make guest"
engine_setup
cri_setup || fail "the private containerd did not start: $(tail -5 "$ENGINE_DIR/cri/containerd.log")"

# The pod and its two containers, as bats/pods.bats runs them.
cri_pod_config "$WORK/pod.json" bench '.linux.resources = {cpu_period: 100000, cpu_quota: 100000, memory_limit_in_bytes: 536870912}'
for c in c1 c2; do
	cri_container_config "$WORK/$c.json" "$c" \
		'.linux.resources = {cpu_period: 100000, cpu_quota: 50000, memory_limit_in_bytes: 268435456}' \
		-- sh -c 'while :; do sleep 1; done'
done

pool_wait() { # until the template's pool holds a ready VM (at most 60 s)
	for _ in $(seq 600); do
		ls -d "$RUNK_TEST_TEMPLATE_DIR"/*.pool/ready-* >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "no pooled VM became ready" >&2
}

# pod_up HANDLER POD.json: a pod under HANDLER; prints the CRI client's JSON.
pod_up() {
	cri up "$2" --handler "$1" "$WORK/c1.json" "$WORK/c2.json"
}

pod_down() { # POD-ID
	cri stopp "$1"
	cri rmp "$1"
}

# runk_pool P: the runk.conf of the handler, with [factory] pool = P.
cp "$ENGINE_DIR/runk.conf" "$WORK/runk.conf.base"
runk_pool() {
	{
		cat "$WORK/runk.conf.base"
		echo "pool = $1"
	} >"$ENGINE_DIR/runk.conf"
}

# timed KEY HANDLER: one pod, its time in $WORK/KEY (unless KEY is -), then removed.
timed() {
	local out
	out=$(pod_up "$2" "$WORK/pod.json")
	[ "$1" = - ] || jq -r '.seconds * 1e9 | floor' <<<"$out" >>"$WORK/$1"
	pod_down "$(jq -r .pod <<<"$out")"
}

echo "pod benchmark: $N pods per variant after a warm-up, interleaved; $M idle runk pods"
# The pod's VM template (768 MiB: default_memory + the pod's 512) and its
# pool, before any pod: `factory init` of a template that exists already
# starts no pool.
runk_pool 1
RUNK_CONFIG=$ENGINE_DIR/runk.conf "$RUNK_BIN" factory --memory 768 init >/dev/null
runk_pool 0
timed - runk
timed - runc
for _ in $(seq "$N"); do
	runk_pool 0
	timed runk-template runk
	runk_pool 1
	pool_wait
	timed runk-pool runk
	timed runc runc
done

# M idle runk pods: memory.
sync
before=$(mem_available_kib)
pods=()
for i in $(seq "$M"); do
	pool_wait
	cri_pod_config "$WORK/idle-$i.json" "idle-$i" '.linux.resources = {cpu_period: 100000, cpu_quota: 100000, memory_limit_in_bytes: 536870912}'
	pods+=("$(pod_up runk "$WORK/idle-$i.json" | jq -r .pod)")
done
sleep 5
after=$(mem_available_kib)
pss=$(pss_of_state "$CRI_RUNK_ROOT/k8s.io")
qemus=0
for pid in $(processes_of_state "$CRI_RUNK_ROOT/k8s.io"); do
	[ "$(readlink "/proc/$pid/exe")" != /usr/bin/qemu-system-x86_64 ] || qemus=$((qemus + 1))
done
for pod in "${pods[@]}"; do
	pod_down "$pod"
done

echo
echo "== RunPodSandbox to both containers started"
stats runk-template "runk, VM from the template"
stats runk-pool "runk, VM from the pool"
stats runc "runc"
ratio "runk (template) / runc" runk-template runc
ratio "runk (pool) / runc" runk-pool runc
echo "factory counters (pods' VMs by origin): $(cat "$RUNK_TEST_TEMPLATE_DIR"/*.stats)"
echo
echo "== $M idle runk pods (sandbox + 2 containers each; $qemus QEMUs)"
printf '%-40s %6d MiB   per pod %5d MiB\n' "PSS of QEMUs, shims, member shims" $((pss / 1024)) $((pss / 1024 / M))
printf '%-40s %6d MiB   per pod %5d MiB\n' "MemAvailable drop" $(((before - after) / 1024)) $(((before - after) / 1024 / M))
