#!/usr/bin/env bats
# The container inside the VM is what config.json says: capabilities,
# seccomp, read-only root, masked and read-only paths, rlimits, user, umask,
# hostname, sysctl, bind mounts from the host, mount destinations that
# cannot escape the rootfs, /dev and linux.devices, the guest cgroup's
# limits, user namespaces, and the errors of malformed configs.  One VM
# checks many things at once: every boot costs seconds under TCG.

load helpers

setup() {
	setup_runk
	BUNDLE=$TEST_DIR/bundle
}

teardown() {
	teardown_runk
}

# private_bundle DIR ARGS...: like make_bundle, with a private copy of the
# rootfs (mount points get created in it, and the test plants symlinks).
private_bundle() {
	local dir=$1
	make_bundle "$@"
	rm "$dir/rootfs"
	cp -a "$(busybox_rootfs)" "$dir/rootfs"
}

# The checks of the first test, run by the container's init.
INIT_CHECKS='
grep -E "^Cap(Eff|Bnd):" /proc/self/status
echo "nofile=$(ulimit -n)"
echo "umask=$(umask)"
echo "hostname=$(hostname)"
echo "shmmax=$(cat /proc/sys/kernel/shmmax)"
echo "memory.max=$(cat /sys/fs/cgroup/memory.max)"
echo "lo=$(cat /sys/class/net/lo/flags)"
touch /rootfs-write 2>&1
echo "secret=[$(cat /etc/secret)]"
echo "kcore=[$(cat /proc/kcore | wc -c)]"
(echo 1 >/proc/sys/kernel/shmmax) 2>&1
mkdir /dev/shm/x 2>&1
rmdir /vol/d 2>&1
touch /dev/shm/f && chmod 777 /dev/shm/f 2>&1
chmod 750 /dev/shm/f && echo "chmod 750 ok"
echo "hostfile=$(cat /etc/hostfile)"
echo "relfile=$(cat /etc/relfile)"
(echo x >/etc/hostfile) 2>&1
echo "written through the bind" >/vol/new && echo "vol write ok"
touch /vol/ro/x 2>&1
echo "escaped-mounts=$(awk "\$5 == \"/etc/escaped\"" /proc/self/mountinfo | wc -l)"
echo "hostfile-esc=$(cat /etc/hostfile-esc)"
stat -c "device=%F %t:%T %a" /dev/runk-full
for f in null zero full random urandom tty; do [ -c /dev/$f ] || echo "no /dev/$f"; done
for f in fd stdin stdout stderr ptmx; do [ -L /dev/$f ] || echo "no /dev/$f link"; done
awk "\$5 == \"/dev/shm\" || \$5 == \"/dev/mqueue\" { print \"mounted \" \$5 }" /proc/self/mountinfo
echo DONE
exec sleep 600
'

@test "container: caps, seccomp, read-only root, masked/readonly paths, rlimits, umask, hostname, sysctl, binds, no escape, devices, memory limit; exec gets caps, seccomp, user" {
	require_vm
	private_bundle "$BUNDLE" sh -c "$INIT_CHECKS"
	local rootfs=$BUNDLE/rootfs
	echo "top secret" >"$rootfs/etc/secret"
	# Symlinks in the image that point out of the rootfs if resolved on the guest's side.
	ln -s /etc "$rootfs/evil"
	ln -s ../../../../../../../../etc "$rootfs/evil2"
	echo "from the host" >"$TEST_DIR/hostfile"
	# A relative bind source is relative to the bundle (the runtime spec).
	echo "from the bundle" >"$BUNDLE/relfile"
	mkdir -p "$TEST_DIR/vol/d" "$TEST_DIR/vol/ro"
	jq --arg t "$TEST_DIR" '
		["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"] as $caps
		| .root.readonly = true
		| .hostname = "runk-ctr"
		| .process.user = {uid: 0, gid: 0, umask: 23}
		| .process.rlimits = [{type: "RLIMIT_NOFILE", hard: 1234, soft: 1234}]
		| .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps,
			inheritable: $caps, ambient: $caps}
		| .linux.sysctl = {"kernel.shmmax": "123456789"}
		| .linux.maskedPaths += ["/etc/secret"]
		| .linux.readonlyPaths += ["/vol/ro"]
		| .linux.resources.memory.limit = 67108864
		| .linux.devices = [{path: "/dev/runk-full", type: "c", major: 1, minor: 7,
			fileMode: 432, uid: 0, gid: 0}]
		| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
			architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
			syscalls: [
				{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"},
				{names: ["rmdir"], action: "SCMP_ACT_ERRNO", errnoRet: 38},
				{names: ["unlinkat"], action: "SCMP_ACT_ERRNO", errnoRet: 38,
					args: [{index: 2, value: 512, valueTwo: 512, op: "SCMP_CMP_MASKED_EQ"}]},
				{names: ["chmod"], action: "SCMP_ACT_ERRNO",
					args: [{index: 1, value: 511, op: "SCMP_CMP_EQ"}]},
				{names: ["fchmodat"], action: "SCMP_ACT_ERRNO",
					args: [{index: 2, value: 511, op: "SCMP_CMP_EQ"}]},
				{names: ["no_such_syscall_anywhere"], action: "SCMP_ACT_KILL"},
				{names: ["getpid"], action: "SCMP_ACT_ALLOW"}]}
		| .mounts += [
			{destination: "/etc/hostfile", type: "bind", source: ($t + "/hostfile"),
				options: ["rbind", "ro"]},
			{destination: "/etc/relfile", type: "bind", source: "relfile",
				options: ["bind", "ro"]},
			{destination: "/vol", type: "bind", source: ($t + "/vol"),
				options: ["rbind", "rw", "rprivate"]},
			{destination: "/evil/escaped", type: "tmpfs", source: "tmpfs",
				options: ["nosuid", "nodev", "mode=755"]},
			{destination: "/evil2/hostfile-esc", type: "none", source: ($t + "/hostfile"),
				options: ["bind", "ro", "nosuid", "nodev", "noexec"]}]' \
		"$BUNDLE/config.json" >"$BUNDLE/config.json.new"
	mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"

	runk create --bundle "$BUNDLE" c1 </dev/null >"$TEST_DIR/out" 2>&1 ||
		fail "create: $(cat "$TEST_DIR/out")"
	runk start c1
	wait_until_text "$TEST_DIR/out" DONE
	local out
	out=$(cat "$TEST_DIR/out")
	echo "$out"
	# CAP_CHOWN (0) + CAP_KILL (5) + CAP_NET_BIND_SERVICE (10) = 0x421
	grep -qx $'CapEff:\t0000000000000421' <<<"$out" || fail "CapEff"
	grep -qx $'CapBnd:\t0000000000000421' <<<"$out" || fail "CapBnd"
	grep -qx 'nofile=1234' <<<"$out" || fail "rlimit"
	grep -qx 'umask=0027' <<<"$out" || fail "umask"
	grep -qx 'hostname=runk-ctr' <<<"$out" || fail "hostname"
	grep -qx 'shmmax=123456789' <<<"$out" || fail "sysctl"
	grep -qx 'memory.max=67108864' <<<"$out" || fail "memory limit"
	grep -qx 'lo=0x9' <<<"$out" || fail "loopback up in the new network namespace"
	grep -q "touch: /rootfs-write: Read-only file system" <<<"$out" || fail "readonly root"
	grep -qx 'secret=\[\]' <<<"$out" || fail "masked file"
	grep -qx 'kcore=\[0\]' <<<"$out" || fail "masked /proc/kcore"
	grep -q "can't create /proc/sys/kernel/shmmax: Read-only file system" <<<"$out" ||
		fail "readonly /proc/sys"
	grep -q "mkdir: can't create directory '/dev/shm/x': Operation not permitted" <<<"$out" ||
		fail "seccomp EPERM"
	grep -q "rmdir: '/vol/d': Function not implemented" <<<"$out" || fail "seccomp errnoRet"
	grep -q "chmod: /dev/shm/f: Operation not permitted" <<<"$out" || fail "seccomp args EQ"
	grep -qx "chmod 750 ok" <<<"$out" || fail "seccomp args: other modes allowed"
	grep -qx 'hostfile=from the host' <<<"$out" || fail "bind file"
	grep -qx 'relfile=from the bundle' <<<"$out" || fail "relative bind source"
	grep -q "can't create /etc/hostfile: Read-only file system" <<<"$out" || fail "ro bind"
	grep -qx 'vol write ok' <<<"$out" || fail "rw bind"
	[ "$(cat "$TEST_DIR/vol/new")" = "written through the bind" ] || fail "write not on the host"
	grep -q "touch: /vol/ro/x: Read-only file system" <<<"$out" || fail "readonlyPaths"
	[ -d "$TEST_DIR/vol/d" ] || fail "rmdir went through"
	# The symlinks resolved inside the rootfs: the mounts are at the rootfs's /etc.
	grep -qx 'escaped-mounts=1' <<<"$out" || fail "tmpfs through /evil not at /etc/escaped"
	grep -qx 'hostfile-esc=from the host' <<<"$out" || fail "bind through /evil2"
	[ -d "$rootfs/etc/escaped" ] || fail "mount point not made in the rootfs"
	[ -f "$rootfs/etc/hostfile-esc" ] || fail "file mount point not made in the rootfs"
	grep -qx 'device=character special file 1:7 660' <<<"$out" || fail "linux.devices"
	! grep -q '^no /dev' <<<"$out" || fail "default /dev"
	grep -qx 'mounted /dev/shm' <<<"$out" || fail "/dev/shm"
	grep -qx 'mounted /dev/mqueue' <<<"$out" || fail "/dev/mqueue"

	# exec: its own user, groups, umask, rlimits and capabilities; the container's seccomp.
	jq -n '{args: ["sh", "-c", "id; umask; ulimit -n; grep ^CapEff /proc/self/status; mkdir /dev/shm/y"],
		cwd: "/", env: ["PATH=/bin"], noNewPrivileges: true,
		user: {uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 63},
		rlimits: [{type: "RLIMIT_NOFILE", hard: 321, soft: 321}],
		capabilities: {bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"],
			inheritable: ["CAP_KILL"], ambient: ["CAP_KILL"]}}' >"$TEST_DIR/process.json"
	run runk exec --process "$TEST_DIR/process.json" c1
	echo "$output"
	assert_line 'uid=1000 gid=1000 groups=10,20'
	assert_line '0077'
	assert_line '321'
	assert_line $'CapEff:\t0000000000000020'
	assert_line "mkdir: can't create directory '/dev/shm/y': Operation not permitted"
	runk delete --force c1
	assert_nothing_left
}

@test "container: user namespace with uid/gid mappings" {
	require_vm
	make_bundle "$BUNDLE" sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; grep ^CapEff /proc/self/status; echo ok >/dev/null && echo dev-ok'
	bundle_jq "$BUNDLE" '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
	run runk run --bundle "$BUNDLE" u1
	echo "$output"
	assert_success
	[[ "${lines[0]}" =~ ^[[:space:]]*0[[:space:]]+100000[[:space:]]+65536$ ]] || fail "uid_map"
	[[ "${lines[1]}" =~ ^[[:space:]]*0[[:space:]]+200000[[:space:]]+65536$ ]] || fail "gid_map"
	assert_line --index 2 0
	assert_line 'dev-ok'
	assert_nothing_left
}

@test "container: malformed configs fail create with the field named, leaving nothing" {
	require_vm
	make_bundle "$BUNDLE" true
	cp "$BUNDLE/config.json" "$TEST_DIR/good.json"
	local n=0 filter want
	while IFS='|' read -r filter want; do
		n=$((n + 1))
		cp "$TEST_DIR/good.json" "$BUNDLE/config.json"
		bundle_jq "$BUNDLE" "$filter"
		run runk create --bundle "$BUNDLE" "bad$n"
		[ "$status" -ne 0 ] || fail "create succeeded with $filter"
		[[ "$output" == *"$want"* ]] || fail "for $filter: wanted '$want', got: $output"
		assert_nothing_left
	done <<-'CASES'
		.mounts += [{destination: "/data", type: "bind", source: "/nonexistent/runk-src", options: ["rbind"]}]|mounts[7].source `/nonexistent/runk-src`: No such file or directory
		.process.capabilities.bounding += ["CAP_BOGUS"]|process.capabilities.bounding[3]: unknown capability `CAP_BOGUS`
		.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir"], action: "SCMP_ACT_BOGUS"}]}|linux.seccomp.syscalls[0].action: unknown seccomp action `SCMP_ACT_BOGUS`
		.linux.seccomp = {defaultAction: "SCMP_ACT_NOTIFY"}|SCMP_ACT_NOTIFY is not supported
		.linux.namespaces[2].path = "/proc/1/ns/ipc"|linux.namespaces[2].path: the ipc namespace `/proc/1/ns/ipc` cannot be joined inside the VM
	CASES
}
