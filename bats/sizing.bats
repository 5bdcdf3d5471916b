#!/usr/bin/env bats
# VM sizing: vCPUs from cpu quota/period + default_vcpus, memory from the limit, as the guest sees them.

load helpers

setup() {
	setup_runk
	BUNDLE=$TEST_DIR/bundle
	HOST_CPUS=$(nproc)
}

teardown() {
	teardown_runk
}

# conf_add SECTION LINE: append a line to a section of the test's runk.conf.
conf_add() {
	printf '[%s]\n%s\n' "$1" "$2" >>"$RUNK_CONF"
}

min() { echo $(($1 < $2 ? $1 : $2)); }

# The guest's view: nproc, then MemTotal in MiB.
sizing_bundle() {
	make_bundle "$BUNDLE" sh -c 'nproc; echo $(($(sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo) / 1024))'
}

@test "sizing: quota 150000/period 100000 + default 1 gives 3 vCPUs (clamped to the host); 512 MiB limit adds 512 MiB" {
	require_vm
	sizing_bundle
	bundle_jq "$BUNDLE" '.linux.resources.cpu = {"quota": 150000, "period": 100000} | .linux.resources.memory = {"limit": 536870912}'
	run runk run --bundle "$BUNDLE" s1
	assert_success
	[ "${lines[0]}" -eq "$(min 3 "$HOST_CPUS")" ] || fail "nproc ${lines[0]}, host $HOST_CPUS"
	# 256 + 512 MiB of RAM; the kernel keeps some for itself.
	[ "${lines[1]}" -gt 700 ] && [ "${lines[1]}" -le 768 ] || fail "MemTotal ${lines[1]} MiB"
	assert_nothing_left
}

@test "sizing: default_vcpus 0.5 + 1.5 CPUs gives 2 vCPUs; no limit gives default_memory" {
	require_vm
	conf_add hypervisor 'default_vcpus = 0.5'
	conf_add hypervisor 'default_memory = 320'
	sizing_bundle
	bundle_jq "$BUNDLE" '.linux.resources.cpu = {"quota": 150000, "period": 100000}'
	run runk run --bundle "$BUNDLE" s2
	assert_success
	[ "${lines[0]}" -eq "$(min 2 "$HOST_CPUS")" ] || fail "nproc ${lines[0]}"
	[ "${lines[1]}" -gt 260 ] && [ "${lines[1]}" -le 320 ] || fail "MemTotal ${lines[1]} MiB"
	assert_nothing_left
}

@test "sizing: an annotation cannot pick the VM size unless runk.conf allows it" {
	make_bundle "$BUNDLE" true
	bundle_jq "$BUNDLE" '.annotations = {"org.runk.hypervisor.default_memory": "384"}'
	run runk run --bundle "$BUNDLE" s3
	assert_failure
	assert_output --partial 'annotation `org.runk.hypervisor.default_memory` is not allowed'
	assert_nothing_left
	bundle_jq "$BUNDLE" '.annotations = {"org.runk.hypervisor.kernel_params": "init=/bin/sh"}'
	run runk run --bundle "$BUNDLE" s4
	assert_failure
	assert_output --partial 'annotation `org.runk.hypervisor.kernel_params` is not allowed'
	assert_nothing_left
}

@test "sizing: an allowed default_memory annotation sizes the VM" {
	require_vm
	conf_add runtime 'allowed_annotations = default_memory default_vcpus'
	sizing_bundle
	bundle_jq "$BUNDLE" '.annotations = {"org.runk.hypervisor.default_memory": "384"}'
	run runk run --bundle "$BUNDLE" s5
	assert_success
	[ "${lines[1]}" -gt 320 ] && [ "${lines[1]}" -le 384 ] || fail "MemTotal ${lines[1]} MiB"
	assert_nothing_left
}

@test "sizing: a VM too small to boot is refused before anything starts" {
	conf_add hypervisor 'default_memory = 16'
	make_bundle "$BUNDLE" true
	run runk run --bundle "$BUNDLE" s6
	assert_failure
	assert_output --partial 'too small for the guest to boot'
	assert_nothing_left
}

@test "runk.conf: a bad value names the file, line and key" {
	printf '[hypervisor]\ndefault_vcpus = lots\n' >"$RUNK_CONF"
	run runk check
	assert_failure
	assert_output --partial "$RUNK_CONF:2: [hypervisor] default_vcpus: expected a decimal number of CPUs"
}

@test "runk check reports QEMU, the guest, the accelerator and cgroups" {
	run runk check
	if [ -f "$GUEST_KERNEL" ] && [ -x /usr/bin/qemu-system-x86_64 ]; then
		assert_success
	fi
	assert_line --regexp '^(ok|fail) +qemu '
	assert_line --regexp '^(ok|fail) +kernel '
	assert_line --regexp '^ok +accelerator +(kvm|tcg) \(.+\)$'
	assert_line --regexp '^ok +cgroups +v[12]'
	assert_line --regexp "^ok +runk.conf +$RUNK_CONF\$"
}
