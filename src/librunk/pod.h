/*
 * Kubernetes pods: one VM per pod.  An engine tells a pod's bundles apart by
 * annotations, in two dialects: containerd's CRI writes
 * io.kubernetes.cri.container-type (sandbox | container) and
 * io.kubernetes.cri.sandbox-id; CRI-O writes io.kubernetes.cri-o.ContainerType
 * and io.kubernetes.cri-o.SandboxID.  The sandbox boots the pod's VM; every
 * other container of the pod joins it (docs/pods.md).
 */
#ifndef RUNK_POD_H
#define RUNK_POD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

enum pod_role {
	POD_NONE,    /* a container of its own, in a VM of its own */
	POD_SANDBOX, /* boots the pod's VM */
	POD_MEMBER,  /* joins its sandbox's VM */
};

struct pod_info {
	enum pod_role role;
	const char *sandbox_id; /* POD_MEMBER: the sandbox's id (points into the config) */
	/*
	 * POD_SANDBOX: the engine wrote the pod's summed limits
	 * (io.kubernetes.cri.sandbox-cpu-*, -memory): the VM is sized once.
	 * Without them (CRI-O) vCPUs follow the members as they come and go.
	 */
	bool sized;
};

/*
 * What the bundle is.  A member naming no sandbox, a member naming itself or
 * an unknown type is an error naming the annotation.
 */
int pod_info_of(const struct oci_config *config, const char *id, struct pod_info *pod,
		runk_error_t *err);

/*
 * A member's namespaces: those its config.json names by the path of its
 * sandbox's (/proc/<sandbox shim>/ns/<type>, as containerd writes it, or the
 * very path the sandbox's config.json gives, as CRI-O's pinned namespaces)
 * are joined in the VM; the guest's config.json has those paths removed.
 */
struct pod_member_plan {
	const char *join[5]; /* namespace types (static strings), NULL-terminated */
	size_t n_join;
	char *guest_config; /* config.json for the agent */
	size_t guest_config_len;
};

/* type as the one static string pod plans use, if a pod shares it (network, ipc, uts, pid). */
const char *pod_shared_namespace(const char *type);

/* Any other namespace path, or one of another type, is an error naming it. */
int pod_member_plan_make(const char *config_text, size_t len, const struct oci_config *member,
			 const struct oci_config *sandbox, pid_t sandbox_pid,
			 const char *sandbox_id, struct pod_member_plan *plan, runk_error_t *err);
void pod_member_plan_release(struct pod_member_plan *plan);

#define POD_ANNOTATION_CPU_QUOTA  "io.kubernetes.cri.sandbox-cpu-quota"
#define POD_ANNOTATION_CPU_PERIOD "io.kubernetes.cri.sandbox-cpu-period"
#define POD_ANNOTATION_MEMORY	  "io.kubernetes.cri.sandbox-memory"

#endif
