#!/usr/bin/env bats
# The man pages match the commands: every long flag that `runk <cmd> --help`
# prints is in man/runk-<cmd>.8.md, the page's SYNOPSIS names the command, and
# `make` built the roff pages (go-md2man) into the build dir.

load helpers

COMMANDS="create start state kill delete run exec ps list pause resume events update spec features check factory"

@test "every subcommand's --help flags are in its man page" {
	local cmd page flag missing=""
	for cmd in $COMMANDS; do
		page=$SRCDIR/man/runk-$cmd.8.md
		[ -f "$page" ] || { missing+=" $cmd:no-page"; continue; }
		run "$RUNK_BIN" "$cmd" --help
		[ "$status" -eq 0 ] || fail "runk $cmd --help: status $status"
		[[ "${lines[0]}" == "usage: runk $cmd "* ]] || fail "runk $cmd --help: ${lines[0]}"
		for flag in $(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$output" | sort -u); do
			grep -qF -- "**$flag**" "$page" || missing+=" $cmd:$flag"
		done
		grep -qE -- "^\*\*runk\*\* .*\*\*$cmd\*\*" "$page" || missing+=" $cmd:synopsis"
		for section in NAME SYNOPSIS DESCRIPTION 'EXIT STATUS'; do
			grep -qx "# $section" "$page" || missing+=" $cmd:section-${section// /_}"
		done
	done
	[ -z "$missing" ] || fail "missing from the man pages:$missing"
}

@test "every subcommand in runk --help has a man page" {
	local cmd
	run "$RUNK_BIN" --help
	assert_success
	for cmd in $(awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' <<<"$output"); do
		[ -f "$SRCDIR/man/runk-$cmd.8.md" ] || fail "no man/runk-$cmd.8.md"
	done
}

@test "make built the man pages with go-md2man" {
	command -v go-md2man >/dev/null || skip "go-md2man is not installed: configure skips the man pages"
	local cmd
	for cmd in $COMMANDS monitor; do
		[ -s "$BUILDDIR/man/runk-$cmd.8" ] || fail "no $BUILDDIR/man/runk-$cmd.8 (run make)"
		grep -q "^\.TH \"\?runk-$cmd" "$BUILDDIR/man/runk-$cmd.8" || fail "runk-$cmd.8: no .TH line"
	done
	[ -s "$BUILDDIR/man/runk.8" ] || fail "no runk.8"
	[ -s "$BUILDDIR/man/runk.conf.5" ] || fail "no runk.conf.5"
}
