#!/usr/bin/env bats
# VM templates (src/librunk/factory/): clones instead of cold boots.
# These tests use their own template dir (/dev/shm is tmpfs, and short enough
# for the sockets of a template being built), removed at the end of the file.

load helpers

# Next to the suite's template dir, so runs from several checkouts do not meet.
FACTORY_DIR=${RUNK_TEST_TEMPLATE_DIR:-/dev/shm/runk-test-templates}-fac

setup_file() {
	rm -rf "$FACTORY_DIR"
}

teardown_file() {
	rm -rf "$FACTORY_DIR"
}

setup() {
	require_vm
	setup_runk
	# The per-test conf points at the shared test templates: this file wants its own.
	sed -i '/^\[factory\]/,$d' "$RUNK_CONF"
	printf '[factory]\ntemplate = true\ntemplate_dir = %s\n' "$FACTORY_DIR" >>"$RUNK_CONF"
	BUNDLE=$TEST_DIR/bundle
}

teardown() {
	teardown_runk
}

# The template for the default size, built now (a no-op when it exists).
template_ready() {
	run runk factory init
	assert_success
	KEY=${output%% *}
	[ -f "$FACTORY_DIR/$KEY/devstate" ]
}

# A private rootfs copy (the shared busybox rootfs is read-only).
own_rootfs() {
	local dir=$1
	mkdir -p "$dir"
	cp -a "$(busybox_rootfs)" "$dir/rootfs"
	"$RUNK_BIN" spec -b "$dir"
}

@test "factory: runk run works cold, builds a template in the background, then clones" {
	runk factory destroy
	make_bundle "$BUNDLE" echo hello
	run runk --debug --log "$TEST_DIR/cold.log" run --bundle "$BUNDLE" c1
	assert_success
	assert_output --partial hello
	refute grep -q "cloned from template" "$TEST_DIR/cold.log"
	# The builder finishes on its own.
	for _ in $(seq 60); do
		ls "$FACTORY_DIR"/*/devstate >/dev/null 2>&1 && break
		sleep 0.5
	done
	ls "$FACTORY_DIR"/*/devstate
	run runk --debug --log "$TEST_DIR/clone.log" run --bundle "$BUNDLE" c2
	assert_success
	assert_output --partial hello
	grep -qE "cloned from template|taken from the pool" "$TEST_DIR/clone.log"
}

@test "factory: two clones read different random bytes and uuids" {
	template_ready
	make_bundle "$BUNDLE" sh -c 'head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n"; echo; cat /proc/sys/kernel/random/uuid'
	run runk run --bundle "$BUNDLE" r1
	assert_success
	local a=$output
	run runk run --bundle "$BUNDLE" r2
	assert_success
	local b=$output
	[ "$(sed -n 1p <<<"$a")" != "$(sed -n 1p <<<"$b")" ]
	[ "$(sed -n 2p <<<"$a")" != "$(sed -n 2p <<<"$b")" ]
	[ "${#a}" -gt 60 ]
}

@test "factory: a clone's clock is within 1 s of the host's" {
	template_ready
	sleep 2 # the template's clock is now 2 s behind
	make_bundle "$BUNDLE" date +%s
	local before after
	before=$(date +%s)
	run runk --debug --log "$TEST_DIR/log" run --bundle "$BUNDLE" t1
	after=$(date +%s)
	assert_success
	grep -qE "cloned from template|taken from the pool" "$TEST_DIR/log"
	[ "$output" -ge $((before - 1)) ]
	[ "$output" -le $((after + 1)) ]
}

@test "factory: each clone has its own share and hostname" {
	template_ready
	own_rootfs "$TEST_DIR/a"
	own_rootfs "$TEST_DIR/b"
	echo one >"$TEST_DIR/a/rootfs/marker"
	echo two >"$TEST_DIR/b/rootfs/marker"
	bundle_jq "$TEST_DIR/a" '.process.args = ["sh","-c","cat /marker; hostname"] | .process.terminal = false | .hostname = "clone-a"'
	bundle_jq "$TEST_DIR/b" '.process.args = ["sh","-c","cat /marker; hostname"] | .process.terminal = false | .hostname = "clone-b"'
	run runk run --bundle "$TEST_DIR/a" ra
	assert_success
	assert_output "one
clone-a"
	run runk run --bundle "$TEST_DIR/b" rb
	assert_success
	assert_output "two
clone-b"
}

@test "factory: a truncated devstate falls back to a cold boot with a warning and is rebuilt" {
	# A pooled VM was restored before the damage: this is about the template itself.
	printf 'pool = 0\n' >>"$RUNK_CONF"
	template_ready
	local size
	truncate -s 1000 "$FACTORY_DIR/$KEY/devstate"
	make_bundle "$BUNDLE" echo still-works
	run runk --log "$TEST_DIR/log" run --bundle "$BUNDLE" bad1
	assert_success
	assert_output --partial still-works
	grep -q "booting it cold" "$TEST_DIR/log"
	# Rebuilt in the background, whole.
	for _ in $(seq 60); do
		[ -f "$FACTORY_DIR/$KEY/devstate" ] && [ "$(stat -c %s "$FACTORY_DIR/$KEY/devstate")" -gt 1000 ] && break
		sleep 0.5
	done
	size=$(stat -c %s "$FACTORY_DIR/$KEY/devstate")
	[ "$size" -gt 1000 ]
	run runk --debug --log "$TEST_DIR/log2" run --bundle "$BUNDLE" bad2
	assert_success
	grep -q "cloned from template" "$TEST_DIR/log2"
}

@test "factory: destroy removes every template" {
	template_ready
	run runk factory status
	assert_success
	assert_output --partial "$KEY"
	run runk factory destroy
	assert_success
	[ ! -e "$FACTORY_DIR" ]
	run runk factory status
	refute_output --partial "$KEY"
}

@test "factory: another kernel path gives another key" {
	template_ready
	local first=$KEY
	ln -s "$GUEST_KERNEL" "$TEST_DIR/vmlinux-link"
	sed -i "s|^kernel = .*|kernel = $TEST_DIR/vmlinux-link|" "$RUNK_CONF"
	run runk factory init
	assert_success
	[ "${output%% *}" != "$first" ]
}

@test "factory: template = false boots cold" {
	template_ready
	sed -i 's/^template = true/template = false/' "$RUNK_CONF"
	make_bundle "$BUNDLE" echo cold
	run runk --debug --log "$TEST_DIR/log" run --bundle "$BUNDLE" off1
	assert_success
	assert_output --partial cold
	refute grep -q "cloned from template" "$TEST_DIR/log"
}

# The name of a ready pooled VM of the default size (after template_ready), waiting for one.
pool_ready() {
	local entry
	for _ in $(seq 120); do
		entry=$(ls "$FACTORY_DIR/$KEY.pool" 2>/dev/null | grep '^ready-' | head -1) || true
		[ -n "$entry" ] && break
		sleep 0.5
	done
	[ -n "$entry" ] || fail "no pooled VM became ready: $(tail -5 "$FACTORY_DIR/build.log" 2>/dev/null)"
	echo "$entry"
}

# The QEMU of a pool entry: the keeper's child, named by the entry in its
# command line or, jailed, by its root (the entry's jail dir).
pool_qemu() {
	local keeper qemu
	for keeper in $(pgrep -x runk-pool-keepe); do
		qemu=$(awk '{print $1}' /proc/"$keeper"/task/"$keeper"/children 2>/dev/null)
		[ -n "$qemu" ] || continue
		if grep -qF "$1" /proc/"$qemu"/cmdline 2>/dev/null ||
			[ "$(stat -c %d:%i /proc/"$qemu"/root/ 2>/dev/null)" = \
				"$(stat -c %d:%i "$FACTORY_DIR/$KEY.pool/"*"-$1/jail" 2>/dev/null)" ]; then
			echo "$qemu"
			return 0
		fi
	done
}

@test "factory: pool: a create claims a pooled VM (moved into its cgroups), which is replaced" {
	template_ready
	local first qemu second
	first=$(pool_ready)
	qemu=$(pool_qemu "${first#ready-}")
	[ -n "$qemu" ]
	make_bundle "$BUNDLE" sleep 100
	runk --debug --log "$TEST_DIR/log" create --bundle "$BUNDLE" p1 </dev/null >"$TEST_DIR/out" 2>&1 ||
		fail "create: $(cat "$TEST_DIR/out")"
	grep -q "taken from the pool" "$TEST_DIR/log"
	# The shim watches that very QEMU, which is not its child, and it is in the container's cgroups.
	local shim
	shim=$(jq -r .pid "$ROOT/p1/state.json")
	[ "$(qemu_of "$shim")" = "$qemu" ]
	[ "$(awk '{print $4}' /proc/"$qemu"/stat)" != "$shim" ]
	grep -q "/p1" /proc/"$qemu"/cgroup
	[ -d "$FACTORY_DIR/$KEY.pool/claimed-${first#ready-}" ]
	# Jailed as any QEMU (the default [hypervisor] jail): its root is the entry's jail.
	assert_equal "$(stat -c %d:%i /proc/"$qemu"/root/)" \
		"$(stat -c %d:%i "$FACTORY_DIR/$KEY.pool/claimed-${first#ready-}/jail")"
	grep -q '^Seccomp:[[:space:]]*2' /proc/"$qemu"/status
	runk start p1
	run runk exec p1 echo inside
	assert_output inside
	# A new one replaces it.
	second=$(pool_ready)
	[ "$second" != "$first" ]
	runk delete --force p1
	# Its QEMU ends with the container and the claimed entry goes.
	wait_gone "$qemu" 50
	for _ in $(seq 30); do
		[ -d "$FACTORY_DIR/$KEY.pool/claimed-${first#ready-}" ] || break
		sleep 0.1
	done
	[ ! -d "$FACTORY_DIR/$KEY.pool/claimed-${first#ready-}" ]
	run runk factory status
	assert_output --regexp "$KEY .* [1-9][0-9]*/[0-9]+/[0-9]+"
}

@test "factory: pool: kill -9 of the shim that claimed a pooled VM leaves no QEMU" {
	template_ready
	local entry qemu shim
	entry=$(pool_ready)
	qemu=$(pool_qemu "${entry#ready-}")
	make_bundle "$BUNDLE" sleep 100
	runk --debug --log "$TEST_DIR/log" run --detach --bundle "$BUNDLE" k1 </dev/null >"$TEST_DIR/out" 2>&1 ||
		fail "run --detach: $(cat "$TEST_DIR/out")"
	grep -q "taken from the pool" "$TEST_DIR/log"
	shim=$(jq -r .pid "$ROOT/k1/state.json")
	[ "$(qemu_of "$shim")" = "$qemu" ]
	kill -9 "$shim"
	wait_gone "$qemu" 50 || fail "pooled QEMU $qemu outlived its shim"
	run runk delete --force k1
	assert_success
	assert_nothing_left
}

@test "factory: pool: unclaimed pooled VMs expire after template_ttl; destroy ends them too" {
	template_ready
	local entry qemu
	entry=$(pool_ready)
	qemu=$(pool_qemu "${entry#ready-}")
	[ -n "$qemu" ]
	run runk factory destroy
	assert_success
	wait_gone "$qemu" 30 || fail "pooled QEMU $qemu survived factory destroy"
	# Now with a TTL of 3 s: the pooled VM goes by itself.
	printf 'template_ttl = 3\n' >>"$RUNK_CONF"
	template_ready
	entry=$(pool_ready)
	qemu=$(pool_qemu "${entry#ready-}")
	[ -n "$qemu" ]
	sleep 4.5
	! kill -0 "$qemu" 2>/dev/null || fail "pooled QEMU $qemu outlived template_ttl"
	[ ! -e "$FACTORY_DIR/$KEY.pool/$entry" ]
}

@test "factory: pool = 0 clones from the template; runk check reports the factory" {
	template_ready
	printf 'pool = 0\n' >>"$RUNK_CONF"
	make_bundle "$BUNDLE" echo nopool
	run runk --debug --log "$TEST_DIR/log" run --bundle "$BUNDLE" np1
	assert_success
	assert_output --partial nopool
	grep -q "cloned from template" "$TEST_DIR/log"
	! grep -q "taken from the pool" "$TEST_DIR/log"
	run runk check
	assert_line --regexp "^ok +factory +$FACTORY_DIR, [0-9]+ templates?, pool 0 per template"
}

@test "factory: one template serves every vCPU count: clones bring vCPUs online (nproc follows sizing)" {
	template_ready
	local host want
	host=$(nproc)
	[ "$host" -ge 2 ] || skip "one host CPU: every VM has 1 vCPU"
	run runk factory status
	assert_output --regexp "$KEY +$host "
	make_bundle "$BUNDLE" sh -c 'nproc; cat /sys/devices/system/cpu/online'
	# 1 vCPU: the template's own state.
	run runk --debug --log "$TEST_DIR/log1" run --bundle "$BUNDLE" v1
	assert_success
	assert_line --index 0 1
	grep -qE "cloned from template $KEY|pool of template $KEY" "$TEST_DIR/log1"
	# quota = period: default 1 + 1 = 2 vCPUs, same memory, so the same template.
	bundle_jq "$BUNDLE" '.linux.resources.cpu = {"quota": 100000, "period": 100000}'
	want=2
	run runk --debug --log "$TEST_DIR/log2" run --bundle "$BUNDLE" v2
	assert_success
	assert_line --index 0 "$want"
	assert_line --index 1 "0-$((want - 1))"
	grep -qE "cloned from template $KEY|pool of template $KEY" "$TEST_DIR/log2"
}

@test "factory: pool: a keeper that a subreaper (an engine's monitor) would adopt stands down" {
	printf 'pool = 0\n' >>"$RUNK_CONF"
	# No pooled VM of earlier tests (their keepers may still be filling the pool).
	runk factory destroy
	template_ready
	sed -i '/^pool = 0$/d' "$RUNK_CONF"
	make_bundle "$BUNDLE" echo adopted
	# As conmon does: a subreaper runs runk; orphans of the shim come to it.
	run python3 - "$RUNK_BIN" --root "$ROOT" --debug --log "$TEST_DIR/log" run --bundle "$BUNDLE" sr1 <<-'PY'
		import ctypes, os, subprocess, sys, time
		libc = ctypes.CDLL(None, use_errno=True)
		if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
		    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
		r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True)
		print(r.stdout.strip())
		# Anything adopted must end by itself: a keeper stands down at once.
		deadline = time.time() + 20
		while time.time() < deadline:
		    try:
		        pid, _ = os.waitpid(-1, os.WNOHANG)
		    except ChildProcessError:
		        print("no children left")
		        break
		    if pid == 0:
		        time.sleep(0.1)
		else:
		    print("children left:", open(f"/proc/self/task/{os.getpid()}/children").read())
	PY
	assert_success
	assert_line adopted
	assert_line "no children left"
	grep -qE "cloned from template" "$TEST_DIR/log"
	[ -z "$(ls "$FACTORY_DIR/$KEY.pool" 2>/dev/null | grep -E '^(new|ready)-')" ]
}
