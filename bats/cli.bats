#!/usr/bin/env bats
# The CLI frame: version, help, spec, features, logs, ids.  No VM needed.

load helpers

setup() {
	setup_runk
}

teardown() {
	teardown_runk
}

@test "--version names runk, the commit, the spec and library versions" {
	run runk --version
	assert_success
	assert_line --regexp '^runk version [0-9]+\.[0-9]+\.[0-9]+$'
	assert_line --regexp '^commit: .+'
	assert_line 'spec: 1.2.0'
	assert_line --regexp '^yajl: [0-9]+\.[0-9]+\.[0-9]+$'
	assert_line --regexp '^libseccomp: [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "--help lists every runc subcommand" {
	run runk --help
	assert_success
	for cmd in create start state kill delete run exec ps list pause resume events update spec features; do
		assert_line --regexp "^   $cmd "
	done
}

@test "a subcommand's --help lists its flags" {
	run runk create --help
	assert_success
	assert_output --partial '--bundle'
	assert_output --partial '--pid-file'
	assert_output --partial '--console-socket'
}

@test "an unknown command fails naming it" {
	run runk frobnicate
	assert_failure
	assert_output --partial 'unknown command `frobnicate`'
}

@test "an unknown flag fails naming it" {
	run runk kill --bogus x
	assert_failure
	assert_output --partial 'unknown flag `--bogus`'
}

@test "spec writes a config.json that jq reads and runc's shape" {
	run runk spec -b "$TEST_DIR"
	assert_success
	run jq -r '.ociVersion, .root.path, .process.args[0], (.linux.namespaces | length)' "$TEST_DIR/config.json"
	assert_success
	assert_output $'1.2.0\nrootfs\nsh\n6'
}

@test "spec refuses to overwrite an existing config.json" {
	echo '{}' >"$TEST_DIR/config.json"
	run runk spec -b "$TEST_DIR"
	assert_failure
	assert_output --partial 'exists'
	run cat "$TEST_DIR/config.json"
	assert_output '{}'
}

@test "spec --rootless maps the caller to root in a user namespace" {
	run runk spec --rootless -b "$TEST_DIR"
	assert_success
	run jq -c '[.linux.namespaces[].type] | index("user") != null, index("network") == null' "$TEST_DIR/config.json"
	assert_output $'true\ntrue'
	run jq -r ".linux.uidMappings[0].hostID" "$TEST_DIR/config.json"
	assert_output "$(id -u)"
}

@test "features prints valid OCI features JSON" {
	run runk features
	assert_success
	run jq -r '.ociVersionMax, (.linux.namespaces | index("pid") != null)' <<<"$output"
	assert_success
	assert_output $'1.2.0\ntrue'
}

@test "--log-format json writes runc's {level,msg,time} lines to --log" {
	run runk --log "$TEST_DIR/log.json" --log-format json state no-such-container
	assert_failure
	run jq -r 'keys_unsorted | join(",")' "$TEST_DIR/log.json"
	assert_output 'level,msg,time'
	run jq -r '.level + " " + .msg' "$TEST_DIR/log.json"
	assert_output --regexp '^error .+'
}

@test "--log-format=json with = form is accepted, a bad format is refused" {
	run runk --log-format=json --log "$TEST_DIR/l" features
	assert_success
	run runk --log-format=yaml features
	assert_failure
	assert_output --partial 'invalid log format `yaml`'
}

@test "bad container ids are refused before anything is touched" {
	for id in '..' '.' 'a/b' '-x' '' "$(printf 'a%.0s' {1..1025})"; do
		run runk delete "$id"
		assert_failure
	done
	[ ! -e "$ROOT" ]
}

@test "state of an unknown container names it" {
	run runk start no-such
	assert_failure
	assert_output --partial 'container `no-such` does not exist'
}

@test "delete --force of a container that is not there succeeds (as runc and crun); delete fails" {
	run runk delete --force no-such
	assert_success
	assert_output ""
	run runk delete no-such
	assert_failure
	assert_output --partial 'container `no-such` does not exist'
}

@test "flags refused before runk.conf is read fail cleanly, naming the value" {
	run runk kill some-id NOSUCHSIGNAL
	[ "$status" -eq 1 ] || fail "status $status: $output"
	assert_output --partial 'invalid signal `NOSUCHSIGNAL`'
	run runk update --memory lots some-id
	[ "$status" -eq 1 ] || fail "status $status: $output"
	assert_output --partial 'invalid value `lots` for --memory'
	run runk events --interval 5x some-id
	[ "$status" -eq 1 ] || fail "status $status: $output"
	assert_output --partial 'invalid --interval `5x`'
}

@test "--preserve-fds N>0 is refused: a host fd cannot cross into the VM" {
	run runk run --preserve-fds 2 some-id
	assert_failure
	assert_output --partial 'host file descriptors cannot be passed into the container'
	[ ! -e "$ROOT/some-id" ]
}
