#!/usr/bin/env bats
# contrib/completions/bash/runk: subcommands, flags and container ids (from
# `runk list -q` under the --root on the command line), by calling the
# completion function with COMP_WORDS/COMP_CWORD set as bash would.

load helpers

COMPLETION=$SRCDIR/contrib/completions/bash/runk

# complete WORD...: COMPREPLY for the last word, one per line, sorted.
complete_words() {
	bash -c '
		source "$1"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_runk
		printf "%s\n" "${COMPREPLY[@]}" | sort
	' complete "$COMPLETION" "$@"
}

setup() {
	setup_runk
}

teardown() {
	teardown_runk
}

@test "completion: subcommands" {
	run complete_words runk ki
	assert_success
	assert_output kill
	run complete_words runk ""
	assert_success
	local cmd
	for cmd in create start state kill delete run exec ps list pause resume events update spec features check; do
		assert_line "$cmd"
	done
	# After global flags and their values too.
	run complete_words runk --root /tmp/x --debug de
	assert_output delete
}

@test "completion: each subcommand's flags match its --help" {
	run complete_words runk kill --
	assert_success
	assert_output $'--all\n--help'
	run complete_words runk --root /x run --de
	assert_output --detach
	run complete_words runk exec --ignore
	assert_output --ignore-paused
	local cmd flag got
	for cmd in create start state kill delete run exec ps list pause resume events update spec features check factory; do
		got=$(complete_words runk "$cmd" --)
		for flag in $("$RUNK_BIN" "$cmd" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
			grep -qx -- "$flag" <<<"$got" || fail "runk $cmd --<TAB> lacks $flag: $got"
		done
	done
	run complete_words runk --con
	assert_output --config
	run complete_words runk ps --format j
	assert_output json
	run complete_words runk list -f t
	assert_output table
}

@test "completion: container ids from runk list -q under --root" {
	require_vm
	make_bundle "$TEST_DIR/b" sleep 600
	runk create --bundle "$TEST_DIR/b" comp-one
	runk create --bundle "$TEST_DIR/b" comp-two
	run complete_words "$RUNK_BIN" --root "$ROOT" kill comp-
	assert_success
	assert_output $'comp-one\ncomp-two'
	run complete_words "$RUNK_BIN" "--root=$ROOT" delete -f comp-t
	assert_output comp-two
	# The signal after the id.
	run complete_words "$RUNK_BIN" --root "$ROOT" kill comp-one KI
	assert_output KILL
	# Another root: none of these ids.
	run complete_words "$RUNK_BIN" --root "$TEST_DIR/empty" state comp-
	assert_output ""
	runk delete -f comp-one
	runk delete -f comp-two
	assert_nothing_left
}
