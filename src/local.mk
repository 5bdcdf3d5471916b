bin_PROGRAMS += src/runk
src_runk_SOURCES = \
	src/runk.c src/cli.c src/cli.h src/commands.h src/context.c src/context.h \
	src/create.c src/start.c src/state.c src/kill.c src/delete.c src/run.c \
	src/exec.c src/ps.c src/list.c src/pause.c src/resume.c src/events.c \
	src/update.c src/spec.c src/features.c src/check.c src/factory.c
src_runk_CFLAGS = $(AM_CFLAGS) $(SECCOMP_CFLAGS)
src_runk_LDADD = src/librunk/librunk.a src/proto/libproto.a libocispec/libocispec.a $(YAJL_LIBS) $(SECCOMP_LIBS) $(INIH_LIBS) $(CGROUP_LIBS) $(SYSTEMD_LIBS) $(MNL_LIBS) $(LIBCAP_LIBS)
