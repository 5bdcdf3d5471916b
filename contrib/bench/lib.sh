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
