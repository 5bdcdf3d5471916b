/* The default config.json, runc's, as `runk spec` writes it (and the pool's warm-up uses it). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "spec.h"

/*
 * runc's default container: a terminal running sh, three capabilities, a
 * read-only rootfs, the usual pseudo-filesystems and masked /proc paths.
 * The four %s are where the rootless variant differs.  The text goes through
 * libocispec, so what runk spec prints is exactly what runk parses.
 */
#define SPEC_TEMPLATE                                                                              \
	"{\"ociVersion\":\"1.2.0\","                                                               \
	"\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"         \
	"\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","          \
	"\"TERM=xterm\"],\"cwd\":\"/\","                                                           \
	"\"capabilities\":{"                                                                       \
	"\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"                \
	"\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"               \
	"\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"               \
	"\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"                \
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"                  \
	"\"noNewPrivileges\":true},"                                                               \
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},"                                        \
	"\"hostname\":\"runk\","                                                                   \
	"\"mounts\":["                                                                             \
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"                       \
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","                       \
	"\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"                  \
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","                 \
	"\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"%s]},"  \
	"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","                     \
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"            \
	"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","              \
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"                                          \
	"%s%s],"                                                                                   \
	"\"linux\":{%s,"                                                                           \
	"\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","         \
	"\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\","                      \
	"\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"                                 \
	"\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","               \
	"\"/proc/sysrq-trigger\"]}}"

static const char devpts_gid[] = ",\"gid=5\"";

static const char sys_mount[] = "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
				"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}";

static const char cgroup_mount[] =
	",{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\","
	"\"source\":\"cgroup\","
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}";

static const char linux_default[] =
	"\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
	"{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}]";

/* runc spec --rootless: the host's /sys, no cgroup mount, and a user namespace for the caller. */
static const char sys_mount_rootless[] =
	"{\"destination\":\"/sys\",\"type\":\"none\",\"source\":\"/sys\","
	"\"options\":[\"rbind\",\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}";

#define LINUX_ROOTLESS                                                                             \
	"\"uidMappings\":[{\"containerID\":0,\"hostID\":%u,\"size\":1}],"                          \
	"\"gidMappings\":[{\"containerID\":0,\"hostID\":%u,\"size\":1}],"                          \
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"                \
	"{\"type\":\"mount\"},{\"type\":\"cgroup\"},{\"type\":\"user\"}]"

char *spec_default_text(bool rootless)
{
	cleanup_free char *linux_part = NULL;
	char *text = NULL;
	int ret;

	if (rootless)
		ret = asprintf(&linux_part, LINUX_ROOTLESS, getuid(), getgid());
	else
		ret = asprintf(&linux_part, "%s", linux_default);
	if (ret < 0)
		abort();
	if (rootless)
		ret = asprintf(&text, SPEC_TEMPLATE, "", sys_mount_rootless, "", linux_part);
	else
		ret = asprintf(&text, SPEC_TEMPLATE, devpts_gid, sys_mount, cgroup_mount,
			       linux_part);
	if (ret < 0)
		abort();
	return text;
}
