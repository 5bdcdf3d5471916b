/* runk features: print what runk supports, as the OCI features.json */
#include "config.h"

#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "ocispec.h"

/*
 * Only what the guest agent really applies is listed: when a feature lands,
 * it is added here.  Namespaces are the ones the agent creates in the VM;
 * cgroups are the host's (src/librunk/cgroups/: fs on v1 and v2, systemd);
 * capabilities (the guest kernel's, 6.1: up to CAP_CHECKPOINT_RESTORE),
 * seccomp and mount options are what the agent applies (src/agent/caps.c,
 * seccomp.c, mounts.c).
 */
#define FEATURES_TEMPLATE                                                                          \
	"{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.2.0\","                                \
	"\"hooks\":[\"prestart\",\"createRuntime\",\"poststart\",\"poststop\"],"                   \
	"\"mountOptions\":[\"ro\",\"rw\",\"nosuid\",\"suid\",\"nodev\",\"dev\",\"noexec\","        \
	"\"exec\",\"relatime\",\"norelatime\",\"strictatime\",\"nostrictatime\",\"noatime\","      \
	"\"atime\",\"nodiratime\",\"diratime\",\"sync\",\"async\",\"dirsync\",\"mand\","           \
	"\"nomand\",\"lazytime\",\"nolazytime\",\"silent\",\"loud\",\"nosymfollow\","              \
	"\"symfollow\",\"bind\",\"rbind\",\"private\",\"rprivate\",\"shared\",\"rshared\","        \
	"\"slave\",\"rslave\",\"unbindable\",\"runbindable\"],"                                    \
	"\"linux\":{\"namespaces\":[\"mount\",\"pid\",\"uts\",\"ipc\",\"network\",\"cgroup\","     \
	"\"user\"],"                                                                               \
	"\"capabilities\":[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_DAC_READ_SEARCH\","            \
	"\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_KILL\",\"CAP_SETGID\",\"CAP_SETUID\","                \
	"\"CAP_SETPCAP\",\"CAP_LINUX_IMMUTABLE\",\"CAP_NET_BIND_SERVICE\","                        \
	"\"CAP_NET_BROADCAST\",\"CAP_NET_ADMIN\",\"CAP_NET_RAW\",\"CAP_IPC_LOCK\","                \
	"\"CAP_IPC_OWNER\",\"CAP_SYS_MODULE\",\"CAP_SYS_RAWIO\",\"CAP_SYS_CHROOT\","               \
	"\"CAP_SYS_PTRACE\",\"CAP_SYS_PACCT\",\"CAP_SYS_ADMIN\",\"CAP_SYS_BOOT\","                 \
	"\"CAP_SYS_NICE\",\"CAP_SYS_RESOURCE\",\"CAP_SYS_TIME\",\"CAP_SYS_TTY_CONFIG\","           \
	"\"CAP_MKNOD\",\"CAP_LEASE\",\"CAP_AUDIT_WRITE\",\"CAP_AUDIT_CONTROL\","                   \
	"\"CAP_SETFCAP\",\"CAP_MAC_OVERRIDE\",\"CAP_MAC_ADMIN\",\"CAP_SYSLOG\","                   \
	"\"CAP_WAKE_ALARM\",\"CAP_BLOCK_SUSPEND\",\"CAP_AUDIT_READ\",\"CAP_PERFMON\","             \
	"\"CAP_BPF\",\"CAP_CHECKPOINT_RESTORE\"],"                                                 \
	"\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":true,\"systemdUser\":false,"              \
	"\"rdma\":false},"                                                                         \
	"\"seccomp\":{\"enabled\":true,\"actions\":[\"SCMP_ACT_ALLOW\",\"SCMP_ACT_ERRNO\","        \
	"\"SCMP_ACT_KILL\",\"SCMP_ACT_KILL_PROCESS\",\"SCMP_ACT_KILL_THREAD\",\"SCMP_ACT_LOG\","   \
	"\"SCMP_ACT_TRACE\",\"SCMP_ACT_TRAP\"],"                                                   \
	"\"operators\":[\"SCMP_CMP_EQ\",\"SCMP_CMP_GE\",\"SCMP_CMP_GT\",\"SCMP_CMP_LE\","          \
	"\"SCMP_CMP_LT\",\"SCMP_CMP_MASKED_EQ\",\"SCMP_CMP_NE\"],"                                 \
	"\"archs\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X32\"],"                    \
	"\"knownFlags\":[\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_LOG\","               \
	"\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],"                                                     \
	"\"supportedFlags\":[\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_LOG\","           \
	"\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"]},"                                                    \
	"\"apparmor\":{\"enabled\":false},\"selinux\":{\"enabled\":false},"                        \
	"\"intelRdt\":{\"enabled\":false},"                                                        \
	"\"mountExtensions\":{\"idmap\":{\"enabled\":false}}},"                                    \
	"\"annotations\":{\"io.github.seccomp.libseccomp.version\":\"%u.%u.%u\","                  \
	"\"org.runk.version\":\"%s\",\"org.runk.commit\":\"%s\","                                  \
	"\"org.runk.hypervisor\":\"qemu-microvm\"}}"

static int cmd_features(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	const struct scmp_version *v = seccomp_version();
	cleanup_free char *text = NULL;
	cleanup_free char *error = NULL;
	cleanup_free char *generated = NULL;
	struct oci_features *features;

	(void)g;
	(void)p;
	if (asprintf(&text, FEATURES_TEMPLATE, v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0,
		     PACKAGE_VERSION, GIT_COMMIT) < 0)
		abort();
	features = oci_features_parse_data(text, strlen(text), &error);
	if (features == NULL)
		return runk_error(err, "internal error: features: %s", error);
	generated = oci_features_generate_pretty(features, &error);
	oci_features_free(features);
	if (generated == NULL)
		return runk_error(err, "internal error: generate features: %s", error);
	printf("%s\n", generated);
	return 0;
}

const struct cli_command runk_cmd_features = {
	.name = "features",
	.usage = "",
	.summary = "print the features runk supports, as OCI features.json",
	.min_args = 0,
	.max_args = 0,
	.run = cmd_features,
};
