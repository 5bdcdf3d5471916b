noinst_LIBRARIES += src/librunk/librunk.a
src_librunk_librunk_a_SOURCES = \
	src/librunk/cleanup.h \
	src/librunk/error.c src/librunk/error.h \
	src/librunk/log.c src/librunk/log.h \
	src/librunk/id.c src/librunk/id.h \
	src/librunk/util.c src/librunk/util.h \
	src/librunk/state.c src/librunk/state.h \
	src/librunk/fault.c src/librunk/fault.h \
	src/librunk/runkconf.c src/librunk/runkconf.h \
	src/librunk/sizing.c src/librunk/sizing.h \
	src/librunk/vmsize.c src/librunk/vmsize.h \
	src/librunk/spec.c src/librunk/spec.h

# --- hypervisor (QEMU microvm driver + QMP client) ---
src_librunk_librunk_a_SOURCES += \
	src/librunk/hypervisor/hypervisor.h \
	src/librunk/hypervisor/accel.c \
	src/librunk/hypervisor/qemu.c \
	src/librunk/hypervisor/jail.c src/librunk/hypervisor/jail.h \
	src/librunk/hypervisor/qmp.c src/librunk/hypervisor/qmp.h
# --- end hypervisor ---
src_librunk_librunk_a_SOURCES += \
	src/librunk/agent.c src/librunk/agent.h \
	src/librunk/shim.c src/librunk/shim.h src/librunk/shim-internal.h \
	src/librunk/shim-streams.c src/librunk/shim-control.c \
	src/librunk/shim-pod.c src/librunk/pod.c src/librunk/pod.h \
	src/librunk/member.c src/librunk/member.h \
	src/librunk/shim-network.c src/librunk/shim-network.h \
	src/librunk/shim-namespaces.c src/librunk/shim-namespaces.h \
	src/librunk/network/network.c src/librunk/network/network.h \
	src/librunk/share.c src/librunk/share.h \
	src/librunk/shimctl.c src/librunk/shimctl.h \
	src/librunk/container.c src/librunk/container.h \
	src/librunk/status.c src/librunk/status.h \
	src/librunk/hooks.c src/librunk/hooks.h \
	src/librunk/console.c src/librunk/console.h \
	src/librunk/exec.c src/librunk/exec.h
# --- factory (VM templates) ---
src_librunk_librunk_a_SOURCES += \
	src/librunk/factory/factory.h src/librunk/factory/template.c \
	src/librunk/factory/clone.c src/librunk/factory/housekeeping.c \
	src/librunk/factory/pool.c src/librunk/factory/warm.c
# --- end factory ---
# --- cgroups (host cgroups: fs manager on libcgroup, systemd manager on sd-bus) ---
src_librunk_librunk_a_SOURCES += \
	src/librunk/cgroups/cgroup.h src/librunk/cgroups/cgroup.c \
	src/librunk/cgroups/path.c src/librunk/cgroups/resources.c \
	src/librunk/cgroups/fs.c src/librunk/cgroups/systemd.c \
	src/librunk/cgroups/placement.c
# --- end cgroups ---
