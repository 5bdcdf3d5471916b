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
 * seccomp, capabilities and hooks come with later work.
 */
#define FEATURES_TEMPLATE                                                                          \
	"{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.2.0\","                                \
	"\"hooks\":[\"prestart\",\"createRuntime\",\"poststart\",\"poststop\"],"                   \
	"\"mountOptions\":[\"ro\",\"rw\",\"nosuid\",\"suid\",\"nodev\",\"dev\",\"noexec\","        \
	"\"exec\",\"relatime\",\"norelatime\",\"strictatime\",\"nostrictatime\",\"noatime\","      \
	"\"atime\",\"bind\",\"rbind\"],"                                                           \
	"\"linux\":{\"namespaces\":[\"mount\",\"pid\",\"uts\",\"ipc\"],"                           \
	"\"capabilities\":[],"                                                                     \
	"\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":true,\"systemdUser\":false,"              \
	"\"rdma\":false},"                                                                         \
	"\"seccomp\":{\"enabled\":false},"                                                         \
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
