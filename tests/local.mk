# (unit tests)

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
FUZZ_PROTO_SECONDS = 60
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
tests_test_qemu_cmdline_LDADD = src/librunk/librunk.a $(YAJL_LIBS)
# --- end hypervisor ---
