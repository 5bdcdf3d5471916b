# (unit tests)

# --- librunk (ids, signals, runk.conf, logs, CLI flags) ---
check_PROGRAMS += tests/test-librunk
TESTS += tests/test-librunk
tests_test_librunk_SOURCES = tests/test-librunk.c tests/testlib.h src/cli.c src/cli.h
tests_test_librunk_LDADD = src/librunk/librunk.a libocispec/libocispec.a src/proto/libproto.a \
	$(YAJL_LIBS) $(INIH_LIBS) $(MNL_LIBS)

check_PROGRAMS += tests/test-sizing
TESTS += tests/test-sizing
tests_test_sizing_SOURCES = tests/test-sizing.c tests/testlib.h
tests_test_sizing_LDADD = src/librunk/librunk.a $(YAJL_LIBS)

check_PROGRAMS += tests/test-network
TESTS += tests/test-network
tests_test_network_SOURCES = tests/test-network.c tests/testlib.h
tests_test_network_LDADD = src/librunk/librunk.a libocispec/libocispec.a $(YAJL_LIBS) $(MNL_LIBS)
# --- end librunk ---

# --- proto (host <-> guest frames) ---
check_PROGRAMS += tests/test-proto
TESTS += tests/test-proto
tests_test_proto_SOURCES = tests/test-proto.c tests/testlib.h
tests_test_proto_LDADD = src/proto/libproto.a src/librunk/librunk.a $(YAJL_LIBS)

# libFuzzer target for the frame decoder, built with clang straight from the
# sources (not part of `all`): `make fuzz-proto`, `make fuzz-proto-run`.
EXTRA_DIST += tests/fuzz/fuzz-proto.c tests/fuzz/corpus-proto
CLEANFILES += tests/fuzz/fuzz-proto
PHONY += fuzz-proto fuzz-proto-run
FUZZ_CC = clang
fuzz_proto_srcs = $(srcdir)/tests/fuzz/fuzz-proto.c $(srcdir)/src/proto/proto.c \
	$(srcdir)/src/proto/proto-json.c $(srcdir)/src/librunk/error.c
FUZZ_PROTO_SECONDS = $(FUZZ_SECONDS)
tests/fuzz/fuzz-proto: $(fuzz_proto_srcs) $(srcdir)/src/proto/proto.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -I$(top_builddir) -I$(srcdir)/src/librunk \
		-I$(srcdir)/src/proto $(YAJL_CFLAGS) -o $@ $(fuzz_proto_srcs) $(YAJL_LIBS)
fuzz-proto: tests/fuzz/fuzz-proto
fuzz-proto-run: tests/fuzz/fuzz-proto
	@$(MKDIR_P) tests/fuzz/corpus-proto.run
	tests/fuzz/fuzz-proto -max_total_time=$(FUZZ_PROTO_SECONDS) -max_len=4096 \
		tests/fuzz/corpus-proto.run $(srcdir)/tests/fuzz/corpus-proto
# --- end proto ---

# --- hypervisor (QMP client, QEMU command line) ---
check_PROGRAMS += tests/test-qmp tests/test-qemu-cmdline
TESTS += tests/test-qmp tests/test-qemu-cmdline
tests_test_qmp_SOURCES = tests/test-qmp.c tests/testlib.h
tests_test_qmp_LDADD = src/librunk/librunk.a $(YAJL_LIBS)
tests_test_qemu_cmdline_SOURCES = tests/test-qemu-cmdline.c tests/testlib.h
tests_test_qemu_cmdline_LDADD = src/librunk/librunk.a $(YAJL_LIBS) $(LIBCAP_LIBS) $(SECCOMP_LIBS)
# --- end hypervisor ---

# --- libocispec (OCI runtime-spec documents) ---
check_PROGRAMS += tests/test-ocispec
TESTS += tests/test-ocispec
tests_test_ocispec_SOURCES = tests/test-ocispec.c tests/testlib.h
tests_test_ocispec_CPPFLAGS = $(AM_CPPFLAGS) -DOCISPEC_TESTDATA='"$(abs_top_srcdir)/tests/ocispec"'
tests_test_ocispec_LDADD = libocispec/libocispec.a $(YAJL_LIBS)
EXTRA_DIST += tests/ocispec

# libFuzzer target for the config parser/generator, built with clang straight
# from the libocispec sources (the automake library is built with gcc):
# `make fuzz`, `make fuzz-run FUZZ_SECONDS=60`.
EXTRA_DIST += tests/fuzz/fuzz-config.c tests/fuzz/corpus-config
CLEANFILES += tests/fuzz/fuzz-config
PHONY += fuzz fuzz-run
FUZZ_SECONDS = 45
FUZZ_CONFIG_CC = clang
fuzz_config_srcs = $(srcdir)/tests/fuzz/fuzz-config.c $(srcdir)/libocispec/table.c \
	$(srcdir)/libocispec/config.c $(srcdir)/libocispec/state.c $(srcdir)/libocispec/features.c
tests/fuzz/fuzz-config: $(fuzz_config_srcs) $(srcdir)/libocispec/ocispec.h $(srcdir)/libocispec/table.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CONFIG_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -D_GNU_SOURCE -I$(srcdir)/libocispec $(YAJL_CFLAGS) \
		-o $@ $(fuzz_config_srcs) $(YAJL_LIBS)
fuzz: tests/fuzz/fuzz-config fuzz-proto
fuzz-run: tests/fuzz/fuzz-config fuzz-proto-run
	rm -rf tests/fuzz/corpus-config.run
	@$(MKDIR_P) tests/fuzz
	cp -R $(srcdir)/tests/fuzz/corpus-config tests/fuzz/corpus-config.run
	chmod -R u+w tests/fuzz/corpus-config.run
	tests/fuzz/fuzz-config -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
		tests/fuzz/corpus-config.run
# --- end libocispec ---

# --- console-receiver (bats helper: the --console-socket end, receives the pty master) ---
noinst_PROGRAMS += tests/console-receiver
tests_console_receiver_SOURCES = tests/console-receiver.c
# --- end console-receiver ---

# --- agent (pure helpers of the guest agent: resources -> cgroup2, namespaces) ---
check_PROGRAMS += tests/test-agent
TESTS += tests/test-agent
tests_test_agent_SOURCES = tests/test-agent.c tests/testlib.h \
	src/agent/resources.c src/agent/namespaces.c src/agent/agent.h
# src/agent first: librunk has an agent.h of its own (the host side).
tests_test_agent_CPPFLAGS = -I$(top_srcdir)/src/agent $(AM_CPPFLAGS)
tests_test_agent_LDADD = src/proto/libproto.a src/librunk/librunk.a libocispec/libocispec.a \
	$(YAJL_LIBS)
# --- end agent ---

# --- agent-driver (bats/agent-pod.bats: a host for the agent without the shim; not installed) ---
check_PROGRAMS += tests/agent-driver
tests_agent_driver_SOURCES = tests/agent-driver.c
tests_agent_driver_LDADD = src/librunk/librunk.a src/proto/libproto.a $(YAJL_LIBS) $(LIBCAP_LIBS) $(SECCOMP_LIBS)
# --- end agent-driver ---

# --- cgroups (cgroupsPath parsing, quota -> CPUQuotaPerSecUSec, v1/v2 limit files) ---
check_PROGRAMS += tests/test-cgroup
TESTS += tests/test-cgroup
tests_test_cgroup_SOURCES = tests/test-cgroup.c tests/testlib.h
tests_test_cgroup_LDADD = src/librunk/librunk.a libocispec/libocispec.a $(YAJL_LIBS) \
	$(CGROUP_LIBS) $(SYSTEMD_LIBS)
# --- end cgroups ---

# --- agent container setup (seccomp/caps/mount-option/rlimit parsing, process plans) ---
check_PROGRAMS += tests/test-agent-setup
TESTS += tests/test-agent-setup
tests_test_agent_setup_SOURCES = tests/test-agent-setup.c tests/testlib.h \
	src/agent/caps.c src/agent/seccomp.c src/agent/mounts.c src/agent/process.c \
	src/agent/log.c src/agent/agent.h
tests_test_agent_setup_CPPFLAGS = -I$(top_srcdir)/src/agent $(AM_CPPFLAGS)
tests_test_agent_setup_LDADD = src/proto/libproto.a src/librunk/librunk.a libocispec/libocispec.a \
	$(YAJL_LIBS) -lseccomp -lcap
# --- end agent container setup ---

# --- more fuzz targets (issue 14): QMP replies, process.json, runk.conf ---
# Built with clang from the sources like the two above; `make fuzz-run` runs
# them too, `make fuzz-long` runs every target FUZZ_LONG_SECONDS (10 min).
EXTRA_DIST += tests/fuzz/fuzz-qmp.c tests/fuzz/fuzz-process.c tests/fuzz/fuzz-runkconf.c \
	tests/fuzz/corpus-qmp tests/fuzz/corpus-process tests/fuzz/corpus-runkconf
CLEANFILES += tests/fuzz/fuzz-qmp tests/fuzz/fuzz-process tests/fuzz/fuzz-runkconf
PHONY += fuzz-more fuzz-more-run fuzz-long
FUZZ_LONG_SECONDS = 600
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -I$(top_builddir) -I$(srcdir)/src/librunk -I$(srcdir)/src/proto \
	-I$(srcdir)/libocispec $(YAJL_CFLAGS) $(INIH_CFLAGS)
fuzz_qmp_srcs = $(srcdir)/tests/fuzz/fuzz-qmp.c $(srcdir)/src/librunk/hypervisor/qmp.c \
	$(srcdir)/src/librunk/error.c $(srcdir)/src/librunk/util.c
fuzz_process_srcs = $(srcdir)/tests/fuzz/fuzz-process.c $(srcdir)/libocispec/table.c \
	$(srcdir)/libocispec/config.c $(srcdir)/src/proto/proto.c $(srcdir)/src/proto/proto-json.c \
	$(srcdir)/src/librunk/error.c
fuzz_runkconf_srcs = $(srcdir)/tests/fuzz/fuzz-runkconf.c $(srcdir)/src/librunk/runkconf.c \
	$(srcdir)/src/librunk/sizing.c $(srcdir)/src/librunk/error.c
tests/fuzz/fuzz-qmp: $(fuzz_qmp_srcs) $(srcdir)/src/librunk/hypervisor/qmp.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(fuzz_qmp_srcs) $(YAJL_LIBS)
tests/fuzz/fuzz-process: $(fuzz_process_srcs) $(srcdir)/libocispec/ocispec.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(fuzz_process_srcs) $(YAJL_LIBS)
tests/fuzz/fuzz-runkconf: $(fuzz_runkconf_srcs) $(srcdir)/src/librunk/runkconf.h
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_FLAGS) -DRUNK_DATADIR='"$(pkgdatadir)"' \
		-DRUNK_SYSCONFDIR='"$(sysconfdir)"' -o $@ $(fuzz_runkconf_srcs) $(YAJL_LIBS) $(INIH_LIBS)
fuzz-more: tests/fuzz/fuzz-qmp tests/fuzz/fuzz-process tests/fuzz/fuzz-runkconf
fuzz: fuzz-more
# Each runs on a scratch copy of its seed corpus (what it finds stays in the build tree).
fuzz-more-run: fuzz-more
	@for t in qmp process runkconf; do \
		rm -rf tests/fuzz/corpus-$$t.run && $(MKDIR_P) tests/fuzz/corpus-$$t.run && \
		cp $(srcdir)/tests/fuzz/corpus-$$t/* tests/fuzz/corpus-$$t.run/ && \
		chmod -R u+w tests/fuzz/corpus-$$t.run && \
		echo "fuzz-$$t: $(FUZZ_SECONDS) s" && \
		tests/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 \
			-print_final_stats=1 tests/fuzz/corpus-$$t.run >tests/fuzz/fuzz-$$t.log 2>&1; \
		rc=$$?; grep -E '^#[0-9]+[[:space:]]+DONE|^(stat::|SUMMARY|==[0-9]+==ERROR)' tests/fuzz/fuzz-$$t.log; \
		if test $$rc != 0; then tail -n 60 tests/fuzz/fuzz-$$t.log; exit 1; fi; \
	done
fuzz-run: fuzz-more-run
fuzz-long:
	$(MAKE) $(AM_MAKEFLAGS) fuzz-run FUZZ_SECONDS=$(FUZZ_LONG_SECONDS)
# --- end more fuzz targets ---
