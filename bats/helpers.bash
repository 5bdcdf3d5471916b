# Shared set-up for runk's bats tests.
#
# Every test gets its own temp dir holding a state root (--root), a runk.conf
# pointing at the built guest image, and bundles.  VM templates are on (as by
# default) in one template dir shared by every test, so only the first VM of
# each size boots cold; teardown leaves it (CI removes it at the end):
# RUNK_TEST_TEMPLATES=false runs the suite with templates off,
# RUNK_TEST_TEMPLATE_DIR moves the dir (it must be short: it holds sockets).  teardown removes every
# container it left (by id, through runk), kills any QEMU still running from
# that dir by PID, and removes the dir.

bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

SRCDIR=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BUILDDIR=${RUNK_BUILDDIR:-$SRCDIR/build}
RUNK_BIN=${RUNK_BIN:-$BUILDDIR/src/runk}
GUEST_KERNEL=${RUNK_GUEST_KERNEL:-$BUILDDIR/guest/out/vmlinux}
GUEST_INITRD=${RUNK_GUEST_INITRD:-$BUILDDIR/guest/out/initrd.cpio}

setup_runk() {
	TEST_DIR=$(mktemp -d /tmp/runk-bats.XXXXXX)
	ROOT=$TEST_DIR/state
	RUNK_CONF=$TEST_DIR/runk.conf
	cat >"$RUNK_CONF" <<-CONF
		[hypervisor]
		kernel = $GUEST_KERNEL
		initrd = $GUEST_INITRD
		boot_timeout = 60
		[agent]
		timeout = 60
	CONF
	factory_conf >>"$RUNK_CONF"
	export RUNK_CONFIG=$RUNK_CONF
}

# factory_conf: the [factory] section of every test's runk.conf: the run's
# template dir, never the host's /run/runk/templates (pooled VMs would outlive
# the tests there).
factory_conf() {
	printf '[factory]\ntemplate = %s\ntemplate_dir = %s\n' "${RUNK_TEST_TEMPLATES:-true}" \
		"${RUNK_TEST_TEMPLATE_DIR:-/dev/shm/runk-test-templates}"
}

# runk with the test's state root.
runk() {
	"$RUNK_BIN" --root "$ROOT" "$@"
}

# PIDs of processes whose command line mentions the test dir (QEMU, shims),
# or whose root is a jail under it (a jailed QEMU's command line names only
# paths inside its jail; the first line of its mountinfo is its root mount).
# One grep over /proc each: processes may end meanwhile (grep goes on).
pids_of_test() {
	{
		# The pattern comes from a file: grep's own command line does not match.
		grep -lF -f <(printf '%s\n' "$TEST_DIR") /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3
		grep -m1 -H '' /proc/[0-9]*/mountinfo 2>/dev/null |
			awk -v d="$TEST_DIR/" '{ split($1, p, "/"); if (index($4, d) == 1) print p[3] }'
	} | sort -un | grep -vx "$$" || true
}

teardown_runk() {
	local id pid
	[ -n "${TEST_DIR:-}" ] || return 0
	if [ -d "$ROOT" ]; then
		for id in $(ls "$ROOT"); do
			"$RUNK_BIN" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	for pid in $(pids_of_test); do
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$TEST_DIR"
}

# The tests that boot a VM need QEMU and the guest image.
require_vm() {
	[ -x /usr/bin/qemu-system-x86_64 ] || skip "no qemu-system-x86_64 (install qemu-system-x86)"
	[ -f "$GUEST_KERNEL" ] || skip "no guest kernel at $GUEST_KERNEL (run make guest)"
	[ -f "$GUEST_INITRD" ] || skip "no guest initrd at $GUEST_INITRD (run make guest)"
}

# A busybox rootfs from Debian's busybox-static, built once per test file.
# Applet links are relative: busybox --install -s would write absolute host paths.
busybox_rootfs() {
	local rootfs=$BATS_FILE_TMPDIR/busybox-rootfs applet
	if [ ! -d "$rootfs" ]; then
		mkdir -p "$rootfs"/{bin,etc,proc,sys,dev,tmp,root}
		cp /bin/busybox "$rootfs/bin/busybox"
		for applet in $(/bin/busybox --list); do
			[ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
		done
		echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
		echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$rootfs/etc/passwd"
		echo 'root:x:0:' >"$rootfs/etc/group"
		echo 'nogroup:x:65534:' >>"$rootfs/etc/group"
	fi
	echo "$rootfs"
}

# make_bundle DIR ARGS...: a bundle whose rootfs is the shared busybox rootfs
# (bind-mounted read-only by the shim, so sharing it is safe) running ARGS.
make_bundle() {
	local dir=$1
	shift
	mkdir -p "$dir"
	ln -s "$(busybox_rootfs)" "$dir/rootfs"
	"$RUNK_BIN" spec -b "$dir"
	local args
	# One --arg each, so arguments with newlines (or starting with -) stay whole.
	local arg
	args='[]'
	for arg in "$@"; do
		args=$(jq -c --arg a "$arg" '. + [$a]' <<<"$args")
	done
	jq --argjson args "$args" '.process.args = $args | .process.terminal = false' \
		"$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

# Edit a bundle's config.json with a jq filter.
bundle_jq() {
	local dir=$1 filter=$2
	jq "$filter" "$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

# assert_nothing_left [ID...]: no QEMU, shim, mount or state (state dirs, their
# sockets, temp dirs) left behind by this test; and for each ID, no host cgroup
# (cgroupfs: runk/ID, runk_overhead/ID; systemd: runk-ID.scope) in any hierarchy.
assert_nothing_left() {
	local left
	left=$(pids_of_test)
	[ -z "$left" ] || fail "processes left behind: $left"
	if [ -d "$ROOT" ]; then
		[ -z "$(ls -A "$ROOT")" ] || fail "state left behind: $(ls -A "$ROOT")"
	fi
	! grep -qF "$TEST_DIR" /proc/self/mounts || fail "mounts left behind under $TEST_DIR"
	left=$(runk_cgroups_of "$@")
	[ -z "$left" ] || fail "host cgroups left behind: $left"
}

# runk_cgroups_of ID...: the host cgroups runk names after each ID (cgroupfs:
# runk/ID, runk_overhead/ID and their -N; systemd: runk-ID.scope) that exist.
runk_cgroups_of() {
	local id d
	for id in "$@"; do
		for d in /sys/fs/cgroup/*/runk/"$id" /sys/fs/cgroup/*/runk_overhead/"$id" \
			/sys/fs/cgroup/*/runk/"$id"-[0-9]* /sys/fs/cgroup/*/runk_overhead/"$id"-[0-9]* \
			/sys/fs/cgroup/*/*.slice/runk-"$id".scope /sys/fs/cgroup/*/*.slice/*.slice/runk-"$id".scope; do
			if [ -d "$d" ]; then echo "$d"; fi
		done
	done
}

# ---- Added for the lifecycle/exec/console/engine tests ----

CONSOLE_RECEIVER=${CONSOLE_RECEIVER:-$BUILDDIR/tests/console-receiver}

# wait_until_text FILE TEXT: wait until FILE contains TEXT, at most 120 s.
wait_until_text() {
	local file=$1 text=$2 i
	for i in $(seq 1200); do
		grep -qF -- "$text" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "timed out waiting for '$text' in $file: $(cat "$file" 2>/dev/null)"
}

# wait_for_status ID STATUS [RUNK...]: poll `runk state ID` until its status is
# STATUS, at most 120 s.  RUNK defaults to the test's `runk`.
wait_for_status() {
	local id=$1 want=$2 i got=""
	shift 2
	[ $# -gt 0 ] || set -- runk
	for i in $(seq 600); do
		got=$("$@" state "$id" 2>/dev/null | jq -r .status 2>/dev/null) || true
		[ "$got" = "$want" ] && return 0
		sleep 0.2
	done
	fail "container $id: status '$got', waited for '$want'"
}

# status_of ID: the status field of `runk state ID`.
status_of() {
	runk state "$1" | jq -r .status
}

# reap_detached PIDFILE CMD...: run CMD (e.g. `runk exec -d --pid-file PIDFILE ...`)
# as a child subreaper, the way conmon does, then wait for the process whose PID
# CMD wrote to PIDFILE and print its exit status (128+N if a signal N killed it).
# Fails if CMD fails or the process is not a descendant that could be reaped.
reap_detached() {
	python3 - "$@" <<-'PY'
		import ctypes, os, subprocess, sys
		libc = ctypes.CDLL(None, use_errno=True)
		if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
		    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
		pidfile, cmd = sys.argv[1], sys.argv[2:]
		r = subprocess.run(cmd)
		if r.returncode != 0:
		    sys.exit(f"{cmd[0]} failed with status {r.returncode}")
		pid = int(open(pidfile).read().strip())
		try:
		    _, st = os.waitpid(pid, 0)
		except ChildProcessError:
		    sys.exit(f"pid {pid} from {pidfile} is not a descendant: a subreaper cannot wait for it")
		print(128 + os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st))
	PY
}

# start_console_receiver SOCKET ARGS...: `console-receiver SOCKET ARGS...` in the
# background (RECEIVER_PID), returning once it listens on SOCKET.
start_console_receiver() {
	local sock=$1 i
	[ -x "$CONSOLE_RECEIVER" ] || fail "no $CONSOLE_RECEIVER (make builds it)"
	"$CONSOLE_RECEIVER" "$@" &
	RECEIVER_PID=$!
	for i in $(seq 600); do
		[ -S "$sock" ] && return 0
		kill -0 "$RECEIVER_PID" 2>/dev/null || fail "console-receiver exited"
		sleep 0.05
	done
	fail "console-receiver did not listen on $sock"
}

# A container shared by the tests of one file, for tests that only observe or
# adjust a running container (one VM boot instead of one per test).  It lives in
# its own dir (SHARED_DIR, state root SHARED_ROOT), so the per-test setup_runk,
# teardown_runk and assert_nothing_left never see it.
# shared_container_setup ID ARGS...: in setup_file; creates and starts ID running
# ARGS (SHARED_BUNDLE_JQ, if set, is a jq filter applied to its config.json).
shared_container_setup() {
	local id=$1
	shift
	setup_runk
	SHARED_DIR=$TEST_DIR
	SHARED_ROOT=$ROOT
	SHARED_ID=$id
	unset TEST_DIR ROOT
	export SHARED_DIR SHARED_ROOT SHARED_ID RUNK_CONFIG
	make_bundle "$SHARED_DIR/bundle" "$@"
	[ -z "${SHARED_BUNDLE_JQ:-}" ] || bundle_jq "$SHARED_DIR/bundle" "$SHARED_BUNDLE_JQ"
	shared_runk create --bundle "$SHARED_DIR/bundle" --pid-file "$SHARED_DIR/pid" "$id" \
		</dev/null >"$SHARED_DIR/out" 2>&1 || {
		echo "# shared container $id: create failed: $(cat "$SHARED_DIR/out")" >&3
		return 1
	}
	shared_runk start "$id"
}

shared_runk() {
	RUNK_CONFIG=$SHARED_DIR/runk.conf "$RUNK_BIN" --root "$SHARED_ROOT" "$@"
}

# In teardown_file.
shared_container_teardown() {
	[ -n "${SHARED_DIR:-}" ] || return 0
	TEST_DIR=$SHARED_DIR ROOT=$SHARED_ROOT teardown_runk
}

# shared_container_setup_if_vm ID ARGS...: shared_container_setup where a VM can
# boot at all (otherwise each test's require_shared skips with the reason).
shared_container_setup_if_vm() {
	[ -x /usr/bin/qemu-system-x86_64 ] && [ -f "$GUEST_KERNEL" ] && [ -f "$GUEST_INITRD" ] ||
		return 0
	shared_container_setup "$@"
}

# In a test that uses the shared container: skip without a VM, fail when the
# shared container is not running.
require_shared() {
	require_vm
	[ -n "${SHARED_DIR:-}" ] || fail "the shared container was not created"
	[ "$(shared_runk state "$SHARED_ID" | jq -r .status)" = running ] ||
		fail "the shared container is not running: $(shared_runk state "$SHARED_ID" 2>&1)"
}

# In teardown, instead of teardown_runk: a failed pause test must not leave the
# shared container frozen for the next test.
teardown_runk_and_resume_shared() {
	if [ -n "${SHARED_DIR:-}" ] &&
		[ "$(shared_runk state "$SHARED_ID" 2>/dev/null | jq -r .status)" = paused ]; then
		shared_runk resume "$SHARED_ID" || true
	fi
	teardown_runk
}

# qemu_of SHIM: the shim's QEMU: the process its pidfd watches (a pooled VM is
# not the shim's child), else its child.
qemu_of() {
	local f pid
	for f in /proc/"$1"/fdinfo/*; do
		pid=$(awk '$1 == "Pid:" {print $2}' "$f" 2>/dev/null) || pid=""
		if [ -n "$pid" ] && [ "$pid" -gt 0 ]; then
			echo "$pid"
			return 0
		fi
	done
	awk '{print $1}' "/proc/$1/task/$1/children" 2>/dev/null
}

# qemus_of_test: the QEMUs of this test: those pids_of_test finds (command
# line or jail under TEST_DIR) and those its shims watch (a pooled VM is a
# keeper's child, jailed in the template dir).
qemus_of_test() {
	local pid
	for pid in $(pids_of_test); do
		echo "$pid"
		qemu_of "$pid"
	done | sort -un | while read -r pid; do
		if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/bin/qemu-system-x86_64 ]; then
			echo "$pid"
		fi
	done
}

# expected_vcpus CONF CPUS: the vCPUs of a VM for CPUS (a decimal, e.g. 0.5 +
# 0.5 = 1.0) by runk's rule: ceil(default_vcpus + CPUS), default_vcpus from
# runk.conf CONF (1 if it does not say), clamped to [1, the host's CPUs].
expected_vcpus() {
	local conf=$1 cpus=$2 default
	default=$(awk -F' *= *' '/^\[/ {s = $0} s == "[hypervisor]" && $1 == "default_vcpus" {v = $2} END {print v == "" ? 1 : v}' "$conf")
	awk -v d="$default" -v c="$cpus" -v h="$(nproc)" 'BEGIN {
		v = d + c; n = int(v); if (n < v) n++
		if (n > h) n = h; if (n < 1) n = 1; print n }'
}

# kill_bg_pids: SIGKILL the background helpers a test recorded in BG_PIDS.
kill_bg_pids() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
}

# wait_gone PID TENTHS: wait up to TENTHS tenths of a second for PID to end;
# fails (status 1) if it still runs then.
wait_gone() {
	local pid=$1 tenths=$2
	for _ in $(seq "$tenths"); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$pid" 2>/dev/null
}
