# Shared by the contrib/bench scripts (sourced).

# busybox_rootfs DIR: a rootfs from Debian's busybox-static with every applet
# as a relative link (busybox --install -s would write absolute host paths)
# and a root user.
busybox_rootfs() {
	local dir=$1 applet
	mkdir -p "$dir"/{bin,etc,proc,sys,dev,tmp,root}
	cp /bin/busybox "$dir/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
}

now_ns() { date +%s%N; }

# stats KEY LABEL [UNIT DIV]: min and median of the samples in $WORK/KEY
# (nanoseconds, shown in ms, by default); the median goes to $WORK/KEY.median.
stats() {
	[ -s "$WORK/$1" ] || return 0
	sort -n "$WORK/$1" | awk -v label="$2" -v unit="${3:-ms}" -v div="${4:-1000000}" '
		{ v[NR] = $1 } END {
		med = (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)
		printf "%-40s min %6d %s   median %6d %s   (n=%d)\n", label, v[1] / div, unit, med / div, unit, NR
		print med > "/dev/stderr" }' 2>"$WORK/$1.median"
}

# ratio LABEL A B: A/B of two medians (skipped if either is missing).
ratio() {
	[ -s "$WORK/$2.median" ] && [ -s "$WORK/$3.median" ] || return 0
	awk -v l="$1" -v a="$(cat "$WORK/$2.median")" -v b="$(cat "$WORK/$3.median")" \
		'BEGIN { printf "%-40s %.2f\n", l, a / b }'
}

mem_available_kib() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }

# processes_of_state ROOT: every runk container's process under the state
# root (a shim or a pod member's shim) and its QEMU (a pooled QEMU is not the
# shim's child: the shim's pidfd names it).
processes_of_state() {
	local pid
	for pid in $(jq -r .pid "$1"/*/state.json 2>/dev/null); do
		echo "$pid"
		pgrep -P "$pid" || true
		cat /proc/"$pid"/fdinfo/* 2>/dev/null | awk '$1 == "Pid:" {print $2}'
	done | sort -un
}

# pss_of_state ROOT: the total PSS (KiB) of processes_of_state.
pss_of_state() {
	local total=0 pid
	for pid in $(processes_of_state "$1"); do
		total=$((total + $(awk '/^Pss:/ {print $2}' /proc/"$pid"/smaps_rollup 2>/dev/null || echo 0)))
	done
	echo "$total"
}
