# kernel-debian.sh — sourced by build.sh: the guest kernel taken from Debian's
# generic linux-image package (not installed on the host, only downloaded).
#
# Contract for every kernel-*.sh: define kernel_prepare CACHE, which leaves in
# $KERNEL_DIR (an immutable cache entry)
#   vmlinux          the uncompressed, PVH-bootable kernel
#   modules/*.ko     the modules the agent must load (uncompressed)
#   modules.order    their file names, one a line, in load order (may be empty)
# and sets KERNEL_ID to a human-readable name of what was used.

# The modules the agent needs on top of what the kernel has built in, in the
# order it loads them.  Their own dependencies are added from the modules'
# metadata; built-in ones are skipped.
debian_wanted_modules="virtio_ring virtio virtio_mmio virtio_console 9pnet 9pnet_virtio netfs fscache 9p"

debian_apt_updated=no
debian_apt_update() {
	[ "$debian_apt_updated" = yes ] && return 0
	debian_apt_updated=yes
	echo "guest: apt lists look stale, running apt-get update" >&2
	apt-get update -qq >&2
}

# Which linux-image-6.1.0-NN-amd64 the meta package points at today.
debian_kernel_package() {
	if [ -n "${RUNK_GUEST_KERNEL_PKG:-}" ]; then
		echo "$RUNK_GUEST_KERNEL_PKG"
		return 0
	fi
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}

debian_package_version() { # PKG
	apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1
}

# Normalise a module name: the kernel treats - and _ alike.
modname() {
	basename "$1" | sed -e 's/\.ko\(\.[a-z]*\)\?$//' -e 's/-/_/g'
}

# Fill $work/modules and $work/modules.order from the unpacked package in $work/x.
debian_collect_modules() { # WORK
	local work=$1 moddir builtin
	moddir=$(echo "$work"/x/lib/modules/*)
	[ -d "$moddir/kernel" ] || die "no lib/modules/*/kernel in the package"
	builtin="$work/builtin.names"
	# Module names as the kernel sees them (- and _ alike); thousands of
	# them, so one sed/awk each rather than a process per file.
	if [ -f "$moddir/modules.builtin" ]; then
		sed -e 's|.*/||' -e 's/\.ko\(\.[a-z]*\)\?$//' -e 's/-/_/g' \
			"$moddir/modules.builtin" >"$builtin"
	else
		: >"$builtin"
	fi
	# name → file index of every loadable module in the package
	find "$moddir/kernel" \( -name '*.ko' -o -name '*.ko.*' \) -printf '%f %p\n' |
		awk '{ n = $1; sub(/\.ko(\.[a-z]+)?$/, "", n); gsub(/-/, "_", n); print n, $2 }' \
			>"$work/index"

	mkdir -p "$work/modules"
	: >"$work/modules.order"
	declare -A seen=()
	local m
	for m in $debian_wanted_modules; do
		debian_visit "$work" "$m" ""
	done
}

# Depth-first: a module's dependencies go into the order before it.
debian_visit() { # WORK NAME CHAIN
	local work=$1 name=$2 chain=$3 file deps dep
	[ -n "${seen[$name]:-}" ] && return 0
	case " $chain " in *" $name "*) die "module dependency cycle: $chain $name" ;; esac
	if grep -qx "$name" "$work/builtin.names"; then
		seen[$name]=builtin
		echo "guest: $name is built into the kernel" >&2
		return 0
	fi
	file=$(awk -v n="$name" '$1 == n { print $2; exit }' "$work/index")
	[ -n "$file" ] || die "module $name is neither built in nor in the package"
	deps=$(modinfo -F depends "$file" | tr ',' ' ')
	for dep in $deps; do
		debian_visit "$work" "$(modname "$dep")" "$chain $name"
	done
	seen[$name]=module
	case $file in
	*.ko.xz) xz -dc "$file" >"$work/modules/$name.ko" ;;
	*.ko.zst) zstd -dcq "$file" >"$work/modules/$name.ko" ;;
	*.ko.gz) gzip -dc "$file" >"$work/modules/$name.ko" ;;
	*) cp "$file" "$work/modules/$name.ko" ;;
	esac
	echo "$name.ko" >>"$work/modules.order"
}

# apt drops root to _apt for downloads, which cannot write into our cache
# dir; the download is a plain fetch of a signed-index-checked .deb, so stay root.
debian_download() { # DIR PKG=VERSION
	(cd "$1" && apt-get download -q -o APT::Sandbox::User=root "$2" >&2)
}

# The newest complete cache entry, for hosts without a working apt.
debian_newest_cached() { # CACHE
	ls -1dt "$1"/linux-image-*/ 2>/dev/null | while read -r d; do
		if [ -f "$d/complete" ]; then
			echo "${d%/}"
			break
		fi
	done
}

kernel_prepare() { # CACHE
	local cache=$1 pkg version key work deb
	mkdir -p "$cache"

	pkg=$(debian_kernel_package)
	if [ -z "$pkg" ]; then
		debian_apt_update || true
		pkg=$(debian_kernel_package)
	fi
	[ -n "$pkg" ] && version=$(debian_package_version "$pkg")
	if [ -z "$pkg" ] || [ -z "${version:-}" ]; then
		KERNEL_DIR=$(debian_newest_cached "$cache")
		[ -n "$KERNEL_DIR" ] || die "cannot find Debian's linux-image-amd64 (is apt configured?)"
		echo "guest: apt cannot tell the kernel package, using cached $KERNEL_DIR" >&2
		KERNEL_ID=$(basename "$KERNEL_DIR")
		return 0
	fi

	key="${pkg}_$(echo "$version" | tr ':~' '%-')"
	KERNEL_DIR="$cache/$key"
	KERNEL_ID="$pkg $version"
	if [ -f "$KERNEL_DIR/complete" ]; then
		echo "guest: kernel $KERNEL_ID from the cache" >&2
		return 0
	fi

	echo "guest: fetching kernel $KERNEL_ID" >&2
	work=$(mktemp -d "$cache/.work.XXXXXX")
	chmod 0755 "$work"
	# shellcheck disable=SC2064
	trap "rm -rf '$work'" EXIT
	if ! debian_download "$work" "$pkg=$version"; then
		debian_apt_update
		debian_download "$work" "$pkg=$version" ||
			die "apt-get download $pkg=$version failed"
	fi
	deb=$(echo "$work"/*.deb)
	[ -f "$deb" ] || die "apt-get download left no .deb"
	dpkg-deb -x "$deb" "$work/x"
	"$GUEST_SRCDIR/extract-vmlinux.sh" "$(echo "$work"/x/boot/vmlinuz-*)" "$work/vmlinux"
	debian_collect_modules "$work"
	rm -rf "$work/x" "$work/index" "$work/builtin.names"
	echo "$KERNEL_ID" >"$work/complete"

	# Publish atomically; a concurrent build may have won the race.
	if ! mv -T "$work" "$KERNEL_DIR" 2>/dev/null; then
		[ -f "$KERNEL_DIR/complete" ] || die "cannot create cache entry $KERNEL_DIR"
		rm -rf "$work"
	fi
	trap - EXIT
}
