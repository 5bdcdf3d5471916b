# kernel-prebuilt.sh — sourced by build.sh: a kernel built elsewhere
# (./configure --with-guest-kernel=PATH), given as RUNK_GUEST_VMLINUX.  An
# uncompressed vmlinux is used as is; a bzImage is uncompressed once.  It must
# have what the agent needs built in: this recipe ships no modules.

kernel_prepare() { # CACHE
	local cache=$1 image=${RUNK_GUEST_VMLINUX:-} sum work
	[ -n "$image" ] || die "RUNK_GUEST_VMLINUX is not set (configure --with-guest-kernel=PATH)"
	[ -f "$image" ] || die "guest kernel $image does not exist"
	mkdir -p "$cache"
	sum=$(sha256sum <"$image" | cut -c1-16)
	KERNEL_DIR="$cache/prebuilt-$sum"
	KERNEL_ID="prebuilt $image ($sum)"
	KERNEL_SOURCE="$image"
	[ -f "$KERNEL_DIR/complete" ] && return 0

	work=$(mktemp -d "$cache/.work.XXXXXX")
	chmod 0755 "$work"
	# shellcheck disable=SC2064
	trap "rm -rf '$work'" EXIT
	"$GUEST_SRCDIR/extract-vmlinux.sh" "$image" "$work/vmlinux"
	mkdir "$work/modules"
	: >"$work/modules.order"
	echo "$KERNEL_ID" >"$work/complete"
	if ! mv -T "$work" "$KERNEL_DIR" 2>/dev/null; then
		[ -f "$KERNEL_DIR/complete" ] || die "cannot create cache entry $KERNEL_DIR"
		rm -rf "$work"
	fi
	trap - EXIT
}
