# The guest agent: /init of the initramfs (guest/ packs it), so it is linked
# statically, against the static yajl.  It compiles the wire format and the
# error type from their sources and links libocispec for config.json.
noinst_PROGRAMS += src/agent/runk-agent
src_agent_runk_agent_SOURCES = \
	src/agent/agent.h \
	src/agent/init.c src/agent/log.c src/agent/modules.c src/agent/port.c \
	src/agent/server.c src/agent/request.c \
	src/agent/container.c src/agent/namespaces.c src/agent/rootfs.c src/agent/process.c src/agent/io.c \
	src/agent/proc.c src/agent/stdio.c src/agent/exec.c \
	src/agent/cgroup.c src/agent/resources.c src/agent/guest-stats.c \
	src/agent/network.c src/agent/network.h \
	src/agent/factory.c src/agent/factory.h \
	src/agent/caps.c src/agent/seccomp.c src/agent/mounts.c src/agent/copyup.c src/agent/devices.c \
	src/agent/userns.c \
	src/librunk/error.c \
	$(proto_sources)
src_agent_runk_agent_CFLAGS = $(AM_CFLAGS)
src_agent_runk_agent_LDFLAGS = -static
# libseccomp and libcap: Debian ships both as .a, linked in statically.
src_agent_runk_agent_LDADD = libocispec/libocispec.a $(YAJL_STATIC_LIB) \
	/usr/lib/x86_64-linux-gnu/libseccomp.a /usr/lib/x86_64-linux-gnu/libcap.a

# The hostile agent (tests only, not built by `make`): `make guest-hostile`
# packs it into guest/out-hostile/initrd.cpio for bats/hostile-guest.bats.
EXTRA_PROGRAMS = src/agent/runk-agent-hostile
src_agent_runk_agent_hostile_SOURCES = src/agent/agent.h src/agent/hostile.c src/agent/log.c \
	src/agent/modules.c src/agent/port.c src/librunk/error.c $(proto_sources)
src_agent_runk_agent_hostile_LDFLAGS = -static
src_agent_runk_agent_hostile_LDADD = $(YAJL_STATIC_LIB)
CLEANFILES += src/agent/runk-agent-hostile
