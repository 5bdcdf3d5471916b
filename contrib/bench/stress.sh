#!/bin/bash
# contrib/bench/stress.sh: concurrency storm against runk.
#
# DISTINCT loops (default 8) each run create/start/exec/kill/delete on ids of
# their own, SHARED loops (default 4) fight over one id, and one loop runs
# `runk list` and parses every state.json, for DURATION seconds (default 300).
# Prints operations done, failures by cause, `runk list` failures, corrupt
# state.json files and leftovers; exits 1 unless the last three are all 0.
#
# Environment: RUNK (the runk binary, default runk), RUNK_CONFIG (runk.conf),
# DURATION, DISTINCT, SHARED, ROOT (state root; default a fresh temp dir,
# removed at the end), WORKDIR (default a temp dir).
set -u

RUNK=${RUNK:-runk}
DURATION=${DURATION:-300}
DISTINCT=${DISTINCT:-8}
SHARED=${SHARED:-4}
WORKDIR=${WORKDIR:-$(mktemp -d /tmp/runk-stress.XXXXXX)}
ROOT=${ROOT:-$WORKDIR/state}
TAG=st$$
mkdir -p "$WORKDIR/log" "$ROOT"

. "$(dirname "$0")/lib.sh"
rootfs=$WORKDIR/rootfs
busybox_rootfs "$rootfs"
bundle=$WORKDIR/bundle
mkdir -p "$bundle"
ln -sfn "$rootfs" "$bundle/rootfs"
"$RUNK" spec -b "$bundle"
jq '.process.args = ["sleep", "100000"] | .process.terminal = false' "$bundle/config.json" >"$bundle/c.new" &&
	mv "$bundle/c.new" "$bundle/config.json"

r() { "$RUNK" --root "$ROOT" "$@"; }

# op LOG NAME ARGS...: run runk ARGS, log "ok NAME" or "fail NAME: cause" (the
# error's first line, with ids and paths made generic).
op() {
	local log=$1 name=$2 out
	shift 2
	# stdio in files, never a pipe: the shim of create inherits them and holds them open.
	if timeout -s KILL 120 "$RUNK" --root "$ROOT" "$@" </dev/null >/dev/null 2>"$log.err"; then
		echo "ok $name" >>"$log"
	else
		out=$(head -n1 "$log.err" | sed -E "s#$ROOT#ROOT#g; s#$TAG-[a-z0-9-]+#ID#g; s#pid [0-9]+#pid N#g; s#^runk: ##; s#time=\"[^\"]*\" ##")
		echo "fail $name: ${out:-killed or silent}" >>"$log"
	fi
}

end=$((SECONDS + DURATION))

distinct_loop() {
	local i=$1 n=0 id log=$WORKDIR/log/d$1
	while [ $SECONDS -lt $end ]; do
		n=$((n + 1))
		id=$TAG-d$i-$n
		op "$log" create create --bundle "$bundle" "$id"
		op "$log" start start "$id"
		op "$log" exec exec "$id" true
		op "$log" kill kill "$id" KILL
		# The kill is asynchronous: wait (at most 10 s) for stopped before delete.
		for _ in $(seq 100); do
			[ "$(r state "$id" 2>/dev/null | jq -r .status 2>/dev/null)" = running ] || break
			sleep 0.1
		done
		op "$log" delete delete --force "$id"
	done
}

shared_loop() {
	local i=$1 id=$TAG-shared log=$WORKDIR/log/s$1
	while [ $SECONDS -lt $end ]; do
		op "$log" create create --bundle "$bundle" "$id"
		op "$log" start start "$id"
		op "$log" exec exec "$id" true
		op "$log" kill kill "$id" KILL
		op "$log" delete delete --force "$id"
	done
}

list_loop() {
	local log=$WORKDIR/log/list f
	while [ $SECONDS -lt $end ]; do
		if r list >/dev/null 2>"$WORKDIR/list.err"; then
			echo "ok list" >>"$log"
		else
			echo "fail list: $(head -n1 "$WORKDIR/list.err")" >>"$log"
		fi
		for f in "$ROOT"/*/state.json; do
			[ -e "$f" ] || continue
			if ! jq . "$f" >/dev/null 2>&1 && [ -e "$f" ]; then
				echo "corrupt $f: $(head -c 200 "$f" 2>/dev/null)" >>"$log"
			fi
		done
		sleep 0.2
	done
}

pids=()
for i in $(seq "$DISTINCT"); do distinct_loop "$i" & pids+=($!); done
for i in $(seq "$SHARED"); do shared_loop "$i" & pids+=($!); done
list_loop & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done

# Whatever the storm left (e.g. the shared id), delete it; then count what is still there.
for d in "$ROOT"/*; do
	[ -d "$d" ] && r delete --force "$(basename "$d")" >/dev/null 2>&1
done
leftovers=0
for d in "$ROOT"/*; do
	[ -e "$d" ] && { echo "leftover state dir: $d"; leftovers=$((leftovers + 1)); }
done
for p in /proc/[0-9]*; do
	if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$ROOT/"; then
		echo "leftover process ${p#/proc/}: $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-120)"
		leftovers=$((leftovers + 1))
	fi
done
for d in /sys/fs/cgroup/*/runk/"$TAG"-* /sys/fs/cgroup/*/runk_overhead/"$TAG"-*; do
	[ -d "$d" ] && { echo "leftover cgroup: $d"; leftovers=$((leftovers + 1)); }
done

cat "$WORKDIR"/log/?? "$WORKDIR"/log/??? "$WORKDIR"/log/list 2>/dev/null | grep -E '^(ok|fail|corrupt) ' >"$WORKDIR/all.log"
ops=$(grep -c -E '^(ok|fail) ' "$WORKDIR/all.log")
okops=$(grep -c '^ok ' "$WORKDIR/all.log")
list_fail=$(grep -c '^fail list' "$WORKDIR/all.log")
corrupt=$(grep -c '^corrupt ' "$WORKDIR/all.log")
echo "duration: ${DURATION}s, loops: $DISTINCT distinct + $SHARED on one id + 1 list"
echo "operations: $ops ($okops succeeded)"
echo "failures by cause:"
grep '^fail ' "$WORKDIR/all.log" | sed 's/^fail //' | sort | uniq -c | sort -rn | sed 's/^/  /'
grep '^corrupt ' "$WORKDIR/all.log" | head -5
echo "runk list failures: $list_fail"
echo "corrupt state.json: $corrupt"
echo "leftovers: $leftovers"
[ -z "${KEEP_WORKDIR:-}" ] && [ "$leftovers" = 0 ] && rm -rf "$WORKDIR"
[ "$leftovers" = 0 ] && [ "$list_fail" = 0 ] && [ "$corrupt" = 0 ]
