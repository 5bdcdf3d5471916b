#!/bin/sh
# extract-vmlinux.sh BZIMAGE OUT
#
# Write the uncompressed ELF kernel hidden in an x86 bzImage to OUT, so QEMU
# can boot it through its PVH entry point instead of paying for the
# decompressor under TCG.
#
# Where the payload starts: the boot protocol's setup header says so
# (payload_offset, relative to the protected-mode code that follows the
# setup sectors).  If that header is missing or points at something we do
# not recognise, fall back to scanning the file for a known compression magic
# and trying each hit until one decompresses to an ELF image.
set -eu

die() {
	echo "extract-vmlinux: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: extract-vmlinux.sh BZIMAGE OUT"
in=$1
out=$2
[ -r "$in" ] || die "cannot read $in"

# u8/u32 little-endian reads at a byte offset.
read_u8() {
	od -An -tu1 -j "$2" -N1 "$1" | tr -d ' \n'
}
read_u32() {
	od -An -tu4 -j "$2" -N4 "$1" | tr -d ' \n'
}
read_hex() { # read_hex FILE OFFSET COUNT → lowercase hex string, no spaces
	od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'
}

is_elf() {
	[ -s "$1" ] && [ "$(read_hex "$1" 0 4)" = 7f454c46 ]
}

# The decompressor for a payload, chosen by the payload's first bytes.
decompressor_for() { # FILE OFFSET
	magic=$(read_hex "$1" "$2" 6)
	case $magic in
	fd377a585a00) echo "xz -dc --single-stream" ;;
	1f8b08*) echo "gzip -dc" ;;
	28b52ffd*) echo "zstd -dcq" ;;
	*) return 1 ;;
	esac
}

# Decompress the payload at OFFSET into $out.  The payload is followed by
# other data (its size, the rest of the image), so the decompressor may
# complain about trailing garbage: judge by the output, not the exit status.
try_offset() { # OFFSET
	cmd=$(decompressor_for "$in" "$1") || return 1
	tail -c +"$(($1 + 1))" "$in" | $cmd >"$out.tmp" 2>/dev/null || true
	if is_elf "$out.tmp"; then
		mv "$out.tmp" "$out"
		return 0
	fi
	rm -f "$out.tmp"
	return 1
}

if is_elf "$in"; then
	cp "$in" "$out"
	exit 0
fi

# 1. The setup header ("HdrS" at 0x202, protocol >= 2.08 has payload_offset).
if [ "$(read_hex "$in" $((0x202)) 4)" = 48647253 ]; then
	setup_sects=$(read_u8 "$in" $((0x1f1)))
	[ "$setup_sects" -eq 0 ] && setup_sects=4
	payload_offset=$(read_u32 "$in" $((0x248)))
	start=$(((setup_sects + 1) * 512 + payload_offset))
	if [ "$payload_offset" -gt 0 ] && try_offset "$start"; then
		exit 0
	fi
fi

# 2. Scan for magics.  grep -b reports byte offsets of matches in binary data.
for pattern in '\xfd\x37\x7a\x58\x5a\x00' '\x28\xb5\x2f\xfd' '\x1f\x8b\x08'; do
	for off in $(LC_ALL=C grep -obUaP "$pattern" "$in" 2>/dev/null | cut -d: -f1); do
		try_offset "$off" && exit 0
	done
done

die "no xz/gzip/zstd payload in $in decompresses to an ELF kernel"
