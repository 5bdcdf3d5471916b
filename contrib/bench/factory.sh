#!/bin/bash
# VM templates benchmark, one run on this machine, cold and clone interleaved
# so the host's load hits both alike:
#   N x `runk run true`: cold boot ([factory] template = false) vs a clone of
#     the template (pool = 0; built first with `runk factory init`) vs a VM
#     claimed from the pool (pool = 1; each run waits until the pool was
#     refilled, so it measures the claim, not the refill); runc for reference
#   M idle containers (`sleep 1000`) started each way: the total PSS of their
#     QEMUs and shims (smaps_rollup), where QEMU's goes (TCG's translated
#     code, the guest's RAM, the rest) and the MemAvailable drop
# Prints min/median, the ratios against cold and runc.
#
# Usage: contrib/bench/factory.sh [N] [M]   (defaults 7 and 10)
# Environment: RUNK_BUILDDIR (default build/), RUNK_GUEST_KERNEL/_INITRD.
set -euo pipefail

N=${1:-7}
M=${2:-10}
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${RUNK_BUILDDIR:-$SRCDIR/build}
RUNK=$BUILD/src/runk
KERNEL=${RUNK_GUEST_KERNEL:-$BUILD/guest/out/vmlinux}
INITRD=${RUNK_GUEST_INITRD:-$BUILD/guest/out/initrd.cpio}
WORK=$(mktemp -d /tmp/runk-fbench.XXXXXX)
# shellcheck source=contrib/bench/lib.sh
. "$SRCDIR/contrib/bench/lib.sh"
TEMPLATES=/dev/shm/runk-fbench-$$
cleanup() {
	for c in cold clone pool; do
		for id in $(ls "$WORK/state-$c" 2>/dev/null); do
			RUNK_CONFIG=$WORK/$c.conf "$RUNK" --root "$WORK/state-$c" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	RUNK_CONFIG=$WORK/pool.conf "$RUNK" factory destroy >/dev/null 2>&1 || true
	rm -rf "$WORK" "$TEMPLATES"
}
trap cleanup EXIT

for c in cold clone pool; do
	cat >"$WORK/$c.conf" <<-CONF
		[hypervisor]
		kernel = $KERNEL
		initrd = $INITRD
		[factory]
		template = $([ $c = cold ] && echo false || echo true)
		template_dir = $TEMPLATES
		pool = $([ $c = pool ] && echo 1 || echo 0)
	CONF
done

mkdir -p "$WORK/bundle/rootfs/bin"
cp /bin/busybox "$WORK/bundle/rootfs/bin/busybox"
for a in true sleep sh; do ln -s busybox "$WORK/bundle/rootfs/bin/$a"; done
(cd "$WORK/bundle" && "$RUNK" spec)
jq '.process.args = ["/bin/true"] | .process.terminal = false' "$WORK/bundle/config.json" >"$WORK/c" &&
	mv "$WORK/c" "$WORK/bundle/config.json"
mkdir -p "$WORK/idle"
ln -s ../bundle/rootfs "$WORK/idle/rootfs"
jq '.process.args = ["/bin/sleep","1000"]' "$WORK/bundle/config.json" >"$WORK/idle/config.json"

echo "building the template..."
RUNK_CONFIG=$WORK/pool.conf "$RUNK" factory init
pool_wait() { # until a pooled VM is ready (at most 30 s)
	for _ in $(seq 300); do
		ls -d "$TEMPLATES"/*.pool/ready-* >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "no pooled VM became ready" >&2
}

run_ms() { # conf bundle id [runtime]
	local t0 t1
	t0=$(now_ns)
	RUNK_CONFIG=$WORK/$1.conf "$RUNK" --root "$WORK/state-$1" run --bundle "$2" "$3" >/dev/null
	t1=$(now_ns)
	echo $(((t1 - t0) / 1000000))
}
min_median() { # numbers... -> "min median"
	sort -n | awk '{a[NR]=$1} END {printf "%d %d", a[1], (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

declare -a COLD CLONE POOL RUNC
have_runc=$(command -v runc || true)
for i in $(seq "$N"); do
	COLD+=("$(run_ms cold "$WORK/bundle" cold$i)")
	CLONE+=("$(run_ms clone "$WORK/bundle" clone$i)")
	pool_wait
	POOL+=("$(run_ms pool "$WORK/bundle" pool$i)")
	if [ -n "$have_runc" ]; then
		t0=$(now_ns)
		runc --root "$WORK/runc" run --bundle "$WORK/bundle" runc$i >/dev/null
		RUNC+=("$((($(now_ns) - t0) / 1000000))")
	fi
done
read -r cold_min cold_med <<<"$(printf '%s\n' "${COLD[@]}" | min_median)"
read -r clone_min clone_med <<<"$(printf '%s\n' "${CLONE[@]}" | min_median)"
read -r pool_min pool_med <<<"$(printf '%s\n' "${POOL[@]}" | min_median)"
quotient() { echo "scale=${3:-2}; $1/$2" | bc; }
echo
echo "runk run true, N=$N (ms)      min  median"
printf "  cold boot                %6d %6d\n" "$cold_min" "$cold_med"
printf "  from a template          %6d %6d\n" "$clone_min" "$clone_med"
printf "  from the pool            %6d %6d\n" "$pool_min" "$pool_med"
printf "  cold / template          %6s %6s\n" "$(quotient $cold_min $clone_min)" "$(quotient $cold_med $clone_med)"
printf "  cold / pool              %6s %6s\n" "$(quotient $cold_min $pool_min)" "$(quotient $cold_med $pool_med)"
if [ -n "$have_runc" ]; then
	read -r runc_min runc_med <<<"$(printf '%s\n' "${RUNC[@]}" | min_median)"
	printf "  runc                     %6d %6d\n" "$runc_min" "$runc_med"
	printf "  cold / runc              %6s %6s\n" "$(quotient $cold_min $runc_min 1)" "$(quotient $cold_med $runc_med 1)"
	printf "  template / runc          %6s %6s\n" "$(quotient $clone_min $runc_min 1)" "$(quotient $clone_med $runc_med 1)"
	printf "  pool / runc              %6s %6s\n" "$(quotient $pool_min $runc_min 1)" "$(quotient $pool_med $runc_med 1)"
fi

qemus_of_state() { # state dir -> the QEMU pid of every container
	local pid
	for pid in $(jq -r .pid "$1"/*/state.json 2>/dev/null); do
		(pgrep -P "$pid"; cat /proc/"$pid"/fdinfo/* 2>/dev/null | awk '$1 == "Pid:" {print $2}') | sort -u
	done
}
# Where the QEMUs' PSS goes, in KiB: "tcg guest rest": TCG's translated code
# (the anonymous rwx mappings), the guest's RAM (a clone's /mem, whose shared
# pages PSS splits among the clones; a cold VM's anonymous RAM), the rest.
breakdown_of_state() {
	local q
	for q in $(qemus_of_state "$1"); do
		awk '/^[0-9a-f]+-[0-9a-f]+ / {anon = NF == 5; tcg = anon && $2 ~ /rwx/; mem = $6 == "/mem"}
		     /^Size:/ {ram = mem || (anon && !tcg && $2 > 65536)}
		     /^Pss:/ {pss += $2; if (tcg) t += $2; else if (ram) g += $2}
		     END {print t + 0, g + 0, pss - t - g}' /proc/"$q"/smaps 2>/dev/null
	done | awk '{t += $1; g += $2; r += $3} END {printf "%d %d %d", t, g, r}'
}
idle() { # conf -> "pss_kib avail_drop_kib tcg_kib guest_kib rest_kib"
	local c=$1 before after i pss
	sync
	before=$(mem_available_kib)
	for i in $(seq "$M"); do
		[ "$c" != pool ] || pool_wait
		RUNK_CONFIG=$WORK/$c.conf "$RUNK" --root "$WORK/state-$c" run --detach --bundle "$WORK/idle" idle-$c-$i >/dev/null
	done
	sleep 2
	after=$(mem_available_kib)
	pss=$(pss_of_state "$WORK/state-$c")
	parts=$(breakdown_of_state "$WORK/state-$c")
	for i in $(seq "$M"); do
		RUNK_CONFIG=$WORK/$c.conf "$RUNK" --root "$WORK/state-$c" delete --force idle-$c-$i >/dev/null 2>&1 || true
	done
	echo "$pss $((before - after)) $parts"
}
rm -rf "$WORK/state-cold" "$WORK/state-clone" "$WORK/state-pool"
read -r cold_pss cold_drop cold_tcg cold_guest cold_rest <<<"$(idle cold)"
read -r clone_pss clone_drop clone_tcg clone_guest clone_rest <<<"$(idle clone)"
pool_wait
read -r pool_pss pool_drop pool_tcg pool_guest pool_rest <<<"$(idle pool)"
echo
echo "$M idle containers            total PSS   per VM   MemAvailable drop"
printf "  cold boot                %7d MiB %5d MiB %7d MiB\n" $((cold_pss / 1024)) $((cold_pss / 1024 / M)) $((cold_drop / 1024))
printf "  from a template          %7d MiB %5d MiB %7d MiB\n" $((clone_pss / 1024)) $((clone_pss / 1024 / M)) $((clone_drop / 1024))
printf "  from the pool            %7d MiB %5d MiB %7d MiB\n" $((pool_pss / 1024)) $((pool_pss / 1024 / M)) $((pool_drop / 1024))
printf "  cold / template          %7s\n" "$(quotient $cold_pss $clone_pss)"
printf "  cold / pool              %7s\n" "$(quotient $cold_pss $pool_pss)"
echo "  per VM, MiB: TCG code + guest RAM + the rest of QEMU (PSS; shims are in the total)"
for c in cold clone pool; do
	eval "t=\$${c}_tcg g=\$${c}_guest r=\$${c}_rest"
	printf "  %-24s %5d + %5d + %5d\n" "$c" $((t / 1024 / M)) $((g / 1024 / M)) $((r / 1024 / M))
done
echo "  (the pool's drop includes the one pooled VM started to replace the last claim)"
echo "  (the template's RAM file, $(du -m "$TEMPLATES"/*/mem | awk '{print $1}' | head -1) MiB on tmpfs, exists once; PSS splits its mapped pages among the clones)"
