# kernel-runk.sh — sourced by build.sh: runk's own minimal guest kernel, built
# from Debian's linux-source-6.1 with guest/kernel/runk-guest.config on top of
# tinyconfig.  Everything is built in: no modules, so the initramfs holds only
# the agent.  (The contract every kernel-*.sh meets is in kernel-debian.sh.)
#
# Environment:
#   RUNK_KERNEL_SOURCE   the kernel tarball (default /usr/src/linux-source-6.1.tar.xz,
#                        from the Debian package linux-source-6.1)
#   RUNK_KERNEL_CACHE    where built kernels are kept (default /var/cache/runk/kernel)
#   RUNK_KERNEL_FRAGMENT the config fragment (default guest/kernel/runk-guest.config)
#
# The cache:
#   CACHE/runk-VERSION-KEY/  one built kernel (vmlinux, config, complete),
#       KEY a hash of what decides its bytes: the source package version, the
#       fragment, this script and the toolchain versions.  Written in a temp
#       dir and renamed into place; never changed afterwards.
#   CACHE/tree-VERSION/      the unpacked source and its objects, reused so a
#       changed fragment rebuilds only what it touches.  Safe to delete.

runk_kernel_package=linux-source-6.1
runk_kernel_arch=x86_64

# The source's version: the Debian package's when the tarball is the
# package's own, else a hash of the tarball itself.
runk_source_version() { # TARBALL
	local owner
	owner=$(dpkg-query -S "$1" 2>/dev/null | cut -d: -f1) || true
	if [ "$owner" = "$runk_kernel_package" ]; then
		dpkg-query -W -f '${Version}' "$runk_kernel_package"
	else
		echo "file-$(sha256sum <"$1" | cut -c1-16)"
	fi
}

runk_toolchain() {
	gcc --version | head -n 1
	ld --version | head -n 1
}

# Unpack TARBALL into CACHE/tree-VERSION once (in a temp dir, then renamed).
runk_unpack() { # TARBALL TREE
	local tarball=$1 tree=$2 tmp top
	[ -f "$tree/Makefile" ] && return 0
	echo "guest: unpacking $tarball" >&2
	tmp=$(mktemp -d "$(dirname "$tree")/.unpack.XXXXXX")
	tar -C "$tmp" -xJf "$tarball" || {
		rm -rf "$tmp"
		die "cannot unpack $tarball"
	}
	top=$(echo "$tmp"/*/)
	[ -f "$top/Makefile" ] || {
		rm -rf "$tmp"
		die "$tarball holds no kernel source tree"
	}
	mv -T "$top" "$tree"
	rm -rf "$tmp"
}

# make in the tree, its chatter in a log; show a line every 250 objects and
# the end of the log when it fails.  The kernel's make must not inherit the
# calling make's flags (-s would hide the progress, -w adds chatter).
runk_make() { # TREE LOG TARGET...
	local tree=$1 log=$2
	shift 2
	local start=$SECONDS
	if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		make -C "$tree" ARCH=$runk_kernel_arch "$@" 2>&1 |
		awk -v start="$start" -v logf="$log" '
			{ print > logf }
			/^  [A-Z][A-Z0-9_]* / { n++; if (n % 250 == 0) { printf "guest: kernel build: %d steps\n", n; fflush() } }
			END { if (n) printf "guest: kernel build: %d steps done\n", n }' >&2; then
		tail -n 40 "$log" >&2
		die "kernel make $* failed (full log: $log)"
	fi
}

# Configure and build TREE; leave vmlinux and .config there.
runk_build_tree() { # TREE FRAGMENT
	local tree=$1 fragment=$2 log=$1/runk-build.log jobs
	jobs=$(nproc 2>/dev/null || echo 1)
	: >"$log"
	runk_make "$tree" "$log" tinyconfig
	# merge_config.sh -m only merges; olddefconfig resolves dependencies.
	(cd "$tree" && ARCH=$runk_kernel_arch scripts/kconfig/merge_config.sh -m .config "$fragment") \
		>>"$log" 2>&1 || die "merge_config.sh failed (log: $log)"
	runk_make "$tree" "$log" olddefconfig
	"$GUEST_SRCDIR/verify-config.sh" "$fragment" "$tree/.config" ||
		die "the kernel config lost options of $fragment (see above): fix their dependencies in the fragment"
	echo "guest: building vmlinux with $jobs jobs (10-25 minutes from scratch on 2 cores)" >&2
	runk_make "$tree" "$log" -j"$jobs" vmlinux
}

kernel_prepare() { # CACHE (unused: the runk kernel keeps its own cache)
	local tarball=${RUNK_KERNEL_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
	local cache=${RUNK_KERNEL_CACHE:-/var/cache/runk/kernel}
	local fragment=${RUNK_KERNEL_FRAGMENT:-$GUEST_SRCDIR/kernel/runk-guest.config}
	local version key tree work lockfd start kver

	[ -f "$tarball" ] ||
		die "kernel source $tarball is missing: install the Debian package $runk_kernel_package (contrib/install-deps.sh), or set RUNK_KERNEL_SOURCE"
	[ -r "$fragment" ] || die "kernel config fragment $fragment is missing"
	mkdir -p "$cache" 2>/dev/null ||
		die "cannot create the kernel cache $cache: run as root, or pick another with RUNK_KERNEL_CACHE or configure --with-kernel-cache"

	version=$(runk_source_version "$tarball")
	key=$( {
		echo "source $version"
		cat "$fragment"
		cat "$GUEST_SRCDIR/kernel-runk.sh"
		runk_toolchain
	} | sha256sum | cut -c1-16)
	KERNEL_DIR="$cache/runk-$version-$key"
	KERNEL_ID="runk kernel from $runk_kernel_package $version ($key)"
	KERNEL_SOURCE="$runk_kernel_package $version"
	if [ -f "$KERNEL_DIR/complete" ]; then
		echo "guest: $KERNEL_ID from the cache" >&2
		return 0
	fi

	# Only a build needs the tools (a cache hit needs gcc and ld for the key).
	for tool in make gcc ld bc bison flex perl xz; do
		command -v "$tool" >/dev/null ||
			die "$tool is needed to build the kernel (contrib/install-deps.sh installs it)"
	done
	[ -f /usr/include/libelf.h ] || [ -f /usr/include/gelf.h ] ||
		die "libelf-dev is needed to build the kernel (contrib/install-deps.sh installs it)"
	[ -w "$cache" ] ||
		die "the kernel cache $cache is not writable: run as root, or pick another with RUNK_KERNEL_CACHE or configure --with-kernel-cache"
	# One build per source tree at a time; another build may finish ours.
	exec {lockfd}>"$cache/tree-$version.lock"
	flock "$lockfd"
	if [ -f "$KERNEL_DIR/complete" ]; then
		exec {lockfd}>&-
		echo "guest: $KERNEL_ID from the cache" >&2
		return 0
	fi

	start=$SECONDS
	tree="$cache/tree-$version"
	runk_unpack "$tarball" "$tree"
	# A fixed build stamp: the same inputs give the same version string.
	export KBUILD_BUILD_USER=runk KBUILD_BUILD_HOST=runk
	KBUILD_BUILD_TIMESTAMP="$(date -u -r "$tarball" '+%Y-%m-%d')"
	export KBUILD_BUILD_TIMESTAMP
	runk_build_tree "$tree" "$fragment"

	work=$(mktemp -d "$cache/.work.XXXXXX")
	chmod 0755 "$work"
	# shellcheck disable=SC2064
	trap "rm -rf '$work'" EXIT
	cp "$tree/vmlinux" "$work/vmlinux"
	cp "$tree/.config" "$work/config"
	mkdir "$work/modules"
	: >"$work/modules.order"
	kver=$(cat "$tree/include/config/kernel.release")
	echo "$KERNEL_ID $kver, built in $((SECONDS - start)) s" >"$work/complete"
	if ! mv -T "$work" "$KERNEL_DIR" 2>/dev/null; then
		[ -f "$KERNEL_DIR/complete" ] || die "cannot create cache entry $KERNEL_DIR"
		rm -rf "$work"
	fi
	trap - EXIT
	exec {lockfd}>&-
	echo "guest: built $KERNEL_ID ($kver) in $((SECONDS - start)) s" >&2
}
