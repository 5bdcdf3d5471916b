# A private systemd 252 for the systemd cgroup manager's tests: the recipe of
# ../shared/FACTS.md as a bats helper.
#
# systemd runs as PID 1 of new pid+mount+cgroup+uts+ipc namespaces, inside a
# dedicated cgroup (runk-sd-<random>) of every hierarchy, with private tmpfs
# on /tmp, /var/tmp and /run, a units dir over /etc/systemd/system in which
# every unit it could start is masked, a read-only /proc/sys and /sys (but
# for the cgroup mounts), and only minimal.target to reach.
#
# DANGER (FACTS.md): one unmasked start once emptied a host's /tmp and applied
# systemd's sysctl defaults to the host.  So the masks come FIRST, and the
# start script checks every mask and every private mount in the namespace
# right before it execs systemd, and refuses to start it when any is missing.
#
#   systemd_start        sets SD_PID (systemd's host PID), SD_DIR; fails or skips
#   sd_exec CMD...       run CMD in systemd's namespaces (nsenter -a)
#   systemd_stop         kills the namespace (by SD_PID), removes its cgroups

SD_HIERARCHIES="cpu cpuacct cpuset memory devices freezer blkio pids systemd unified"

# Units FACTS.md names; each must be a symlink to /dev/null before systemd starts.
SD_REQUIRED_MASKS="sysinit.target basic.target local-fs.target sockets.target paths.target
timers.target tmp.mount dbus.service dbus.socket ldconfig.service systemd-sysctl.service
systemd-sysusers.service systemd-random-seed.service systemd-remount-fs.service
systemd-modules-load.service"

sd_unit_dirs() {
	echo /lib/systemd/system /usr/lib/systemd/system /etc/systemd/system
}

# Every unit in the system's unit dirs but slices (system.slice and friends must load).
sd_units_to_mask() {
	local d f
	for d in $(sd_unit_dirs); do
		[ -d "$d" ] || continue
		for f in "$d"/*; do
			f=${f##*/}
			case $f in
			*.slice | *.wants | *.requires | *.d) ;;
			*.service | *.socket | *.target | *.mount | *.automount | *.swap | *.path | *.timer | *.device | *.scope)
				echo "$f" ;;
			esac
		done
	done | sort -u
	echo "$SD_REQUIRED_MASKS" | tr ' ' '\n' | grep .
}

sd_write_units() {
	local units=$1 u
	mkdir -p "$units"
	for u in $(sd_units_to_mask); do
		ln -sfn /dev/null "$units/$u"
	done
	cat >"$units/minimal.target" <<-'EOF'
		[Unit]
		Description=runk tests: nothing but this target
		DefaultDependencies=no
	EOF
}

# The script unshare runs: private mounts, then the checks, then exec systemd.
sd_write_start_script() {
	local script=$1
	cat >"$script" <<-'EOF'
		#!/bin/bash
		# Runs as PID 1 of the new namespaces.  Any failure before exec: systemd never starts.
		set -eu
		refuse() { echo "REFUSING to start systemd: $*" >&2; exit 1; }
		mounted_tmpfs() { awk -v m="$1" '$5 == m { t = $0 } END { if (t == "") exit 1; split(t, a, " - "); split(a[2], b, " "); exit b[1] != "tmpfs" }' /proc/self/mountinfo; }

		[ "$(readlink /proc/self/ns/mnt)" != "$SD_HOST_MNTNS" ] || refuse "still in the host's mount namespace"
		mount -t tmpfs -o mode=1777 tmpfs /tmp
		mount -t tmpfs -o mode=1777 tmpfs /var/tmp
		mount -t tmpfs -o mode=755 tmpfs /run
		mount --bind "$SD_UNITS" /etc/systemd/system
		mount --bind /proc/sys /proc/sys
		mount -o remount,bind,ro /proc/sys
		mount --bind /sys /sys
		mount -o remount,bind,ro /sys
		mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup
		for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
			mkdir /sys/fs/cgroup/$c
			mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c
		done
		mkdir /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
		mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
		mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified

		# The checks, right before the exec.
		for m in /tmp /var/tmp /run; do
			mounted_tmpfs "$m" || refuse "$m is not a private tmpfs"
		done
		# Fresh: nothing but mount(8)'s own /run/mount/utab.
		[ -z "$(find /tmp /var/tmp /run -mindepth 1 ! -path '/run/mount*' | head -n 1)" ] ||
			refuse "/tmp, /var/tmp or /run is not a fresh tmpfs"
		for m in /proc/sys /sys; do
			awk -v m="$m" '$5 == m { o = $6 } END { exit !(o ~ /(^|,)ro(,|$)/) }' /proc/self/mountinfo ||
				refuse "$m is not read-only"
		done
		[ "$(stat -c %i /etc/systemd/system)" = "$(stat -c %i "$SD_UNITS")" ] || refuse "/etc/systemd/system is not the masks dir"
		for u in $SD_MASKS; do
			[ "$(readlink "/etc/systemd/system/$u")" = /dev/null ] || refuse "$u is not masked"
		done
		[ -f /etc/systemd/system/minimal.target ] || refuse "no minimal.target"
		exec env -i container=runk-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			/lib/systemd/systemd --system --unit=minimal.target --log-target=console
	EOF
	chmod +x "$script"
}

# The cgroup each hierarchy's namespace root is in.
sd_cgroup_dir() {
	if [ "$1" = unified ]; then echo "/sys/fs/cgroup/unified/$SD_CGROUP"; else echo "/sys/fs/cgroup/$1/$SD_CGROUP"; fi
}

systemd_start() {
	[ -x /lib/systemd/systemd ] || skip "no /lib/systemd/systemd"
	command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "no unshare/nsenter"
	SD_DIR=$1
	SD_CGROUP=runk-sd-$$-$RANDOM
	mkdir -p "$SD_DIR"
	sd_write_units "$SD_DIR/units"
	sd_write_start_script "$SD_DIR/start.sh"
	# Masks first, and checked here too: nothing starts without them.
	local u h
	for u in $(sd_units_to_mask); do
		[ "$(readlink "$SD_DIR/units/$u")" = /dev/null ] || fail "mask of $u missing: not starting systemd"
	done
	for h in $SD_HIERARCHIES; do
		mkdir "$(sd_cgroup_dir "$h")"
	done
	# A new v1 cpuset cgroup has no CPUs and no memory nodes: nothing could join it.
	cat /sys/fs/cgroup/cpuset/cpuset.cpus >"$(sd_cgroup_dir cpuset)/cpuset.cpus"
	cat /sys/fs/cgroup/cpuset/cpuset.mems >"$(sd_cgroup_dir cpuset)/cpuset.mems"
	echo 1 >"$(sd_cgroup_dir cpuset)/cgroup.clone_children"
	(
		for h in $SD_HIERARCHIES; do
			echo "$BASHPID" >"$(sd_cgroup_dir "$h")/cgroup.procs"
		done
		export SD_UNITS=$SD_DIR/units SD_HOST_MNTNS SD_MASKS
		SD_HOST_MNTNS=$(readlink /proc/self/ns/mnt)
		SD_MASKS=$(sd_units_to_mask | tr '\n' ' ')
		exec unshare --cgroup --mount --propagation private --pid --fork --mount-proc --uts --ipc \
			"$SD_DIR/start.sh"
	) >"$SD_DIR/systemd.log" 2>&1 3>&- &
	SD_UNSHARE=$!
	local i
	SD_PID=
	for i in $(seq 100); do
		SD_PID=$(tr -d ' ' <"/proc/$SD_UNSHARE/task/$SD_UNSHARE/children" 2>/dev/null) || true
		[ -n "$SD_PID" ] && [ "$(cat "/proc/$SD_PID/comm" 2>/dev/null)" = systemd ] && break
		kill -0 "$SD_UNSHARE" 2>/dev/null || fail "systemd did not start: $(cat "$SD_DIR/systemd.log")"
		sleep 0.1
	done
	for i in $(seq 100); do
		sd_exec systemctl is-system-running 2>/dev/null | grep -qE 'running|degraded' && return 0
		sleep 0.1
	done
	fail "systemd is not running: $(sd_exec systemctl is-system-running 2>&1); $(cat "$SD_DIR/systemd.log")"
}

sd_exec() {
	nsenter -t "$SD_PID" -a "$@"
}

# Kill the namespace's PID 1 (everything in it dies with it), then remove its cgroups.
systemd_stop() {
	local h i d
	[ -n "${SD_UNSHARE:-}" ] || return 0
	[ -n "${SD_PID:-}" ] && kill -9 "$SD_PID" 2>/dev/null
	kill -9 "$SD_UNSHARE" 2>/dev/null
	wait "$SD_UNSHARE" 2>/dev/null
	for i in $(seq 50); do
		local left=0
		for h in $SD_HIERARCHIES; do
			d=$(sd_cgroup_dir "$h")
			[ -d "$d" ] || continue
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] && left=1
		done
		[ $left = 0 ] && break
		sleep 0.1
	done
	SD_UNSHARE=
	true
}
