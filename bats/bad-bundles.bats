#!/usr/bin/env bats
# Malformed and hostile bundles (tests/bad-bundles/cases.tsv): `runk run` fails,
# names the cause (the JSON path of a bad field), and leaves nothing behind.

load helpers

CASES=$BATS_TEST_DIRNAME/../tests/bad-bundles/cases.tsv

setup() {
	setup_runk
}

teardown() {
	teardown_runk
}

# assert_no_leftovers ID: assert_nothing_left, and no host cgroup of ID
# (/runk/ID, /runk_overhead/ID or their -N variants) in any hierarchy.
assert_no_leftovers() {
	local id=$1 d left=""
	assert_nothing_left
	# An id that is a path (`..`, `a/b`) names no cgroup of its own: the empty state root above is the check.
	[[ $id == *[/$'\n']* || $id == . || $id == .. ]] && return 0
	[ ! -e "$ROOT/$id" ] || fail "state dir $ROOT/$id left behind"
	for d in /sys/fs/cgroup/*/runk/"$id" /sys/fs/cgroup/*/runk_overhead/"$id" \
		/sys/fs/cgroup/*/runk/"$id"-[0-9]* /sys/fs/cgroup/*/runk_overhead/"$id"-[0-9]*; do
		[ -d "$d" ] && left+=" $d"
	done
	[ -z "$left" ] || fail "host cgroups left behind:$left"
}

# run_case N NAME ID KIND INPUT EXPECTED: build the bundle, run it, check; on a
# mismatch print why and return 1 (the caller collects every failing case).
run_case() {
	local n=$1 name=$2 id=$3 kind=$4 input=$5 expected=$6 b out rc
	b=$TEST_DIR/b$n
	make_bundle "$b" true
	case $id in
	-) id=bad$$-$n ;;
	@2000) id=$(printf 'a%.0s' $(seq 2000)) ;;
	@nl) id=$'a\nb' ;;
	esac
	case $kind in
	jq) bundle_jq "$b" "$input" ;;
	raw) printf '%b' "$input" >"$b/config.json" ;;
	sh) (cd "$b" && bash -c "$input") || { echo "$name: its sh snippet failed"; return 1; } ;;
	*) echo "$name: unknown kind $kind"; return 1 ;;
	esac
	expected=${expected//@B@/$b}
	rc=0
	out=$(timeout -s KILL 120 "$RUNK_BIN" --root "$ROOT" run --bundle "$b" "$id" </dev/null 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		echo "$name: runk run succeeded: $out"
		return 1
	fi
	if [ "$rc" = 137 ]; then
		echo "$name: runk run hung (killed after 120 s): $out"
		return 1
	fi
	if [[ $out != *"$expected"* ]]; then
		echo "$name: exit $rc, output lacks '$expected': $out"
		return 1
	fi
	(assert_no_leftovers "$id") || {
		echo "$name: leftovers"
		return 1
	}
	rm -rf "$b"
}

# run_cases NEEDS: every case whose needs column is NEEDS.
run_cases() {
	local want=$1 n=0 tried=0 failed="" name id kind input needs expected
	while IFS=$'\t' read -r name id kind input needs expected; do
		n=$((n + 1))
		[[ $name == \#* || -z $name ]] && continue
		[ "$needs" = "$want" ] || continue
		tried=$((tried + 1))
		run_case "$n" "$name" "$id" "$kind" "$input" "$expected" || failed+=" $name"
	done <"$CASES"
	echo "# $tried bad bundles (needs=$want) tried" >&3
	[ "$tried" -gt 0 ] || fail "no cases with needs=$want"
	[ -z "$failed" ] || fail "failing cases:$failed"
}

@test "bad bundles refused before a VM boots: the cause named, nothing left" {
	run_cases -
}

@test "bad bundles the guest refuses: the cause named, nothing left" {
	require_vm
	run_cases vm
}

@test "10 MB of annotations: runk run works, and state and delete can read its state" {
	require_vm
	local b=$TEST_DIR/big id=bad$$-big
	make_bundle "$b" sh -c 'sleep 100000'
	python3 - "$b/config.json" <<-'PY'
		import json, sys
		c = json.load(open(sys.argv[1]))
		c["annotations"] = {"k%d" % i: "v" * 1000 for i in range(10000)}
		json.dump(c, open(sys.argv[1], "w"))
	PY
	runk create --bundle "$b" "$id" </dev/null >"$TEST_DIR/out" 2>&1 || fail "create: $(cat "$TEST_DIR/out")"
	[ "$(runk state "$id" | jq -r .status)" = created ] || fail "state: $(runk state "$id" 2>&1)"
	runk delete --force "$id"
	assert_no_leftovers "$id"
}
