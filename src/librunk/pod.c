#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "id.h"
#include "network/network.h"
#include "pod.h"

static const struct {
	const char *type_key;
	const char *sandbox_key;
} dialects[] = {
	{"io.kubernetes.cri.container-type", "io.kubernetes.cri.sandbox-id"},
	{"io.kubernetes.cri-o.ContainerType", "io.kubernetes.cri-o.SandboxID"},
};

int pod_info_of(const struct oci_config *config, const char *id, struct pod_info *pod,
		runk_error_t *err)
{
	const char *manager;

	*pod = (struct pod_info){.role = POD_NONE};
	/*
	 * podman writes CRI-O's SandboxID on its own pods' containers too, but
	 * its infra container is no sandbox and each container is its own VM
	 * (README: podman pods); it says so in io.container.manager.
	 */
	manager = oci_string_map_get(config->annotations, "io.container.manager");
	if (manager && strcmp(manager, "libpod") == 0)
		return 0;
	for (size_t i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++) {
		const char *type = oci_string_map_get(config->annotations, dialects[i].type_key);
		const char *sandbox;

		if (type == NULL)
			continue;
		if (strcmp(type, "sandbox") == 0) {
			pod->role = POD_SANDBOX;
			pod->sized = oci_string_map_get(config->annotations,
							POD_ANNOTATION_CPU_PERIOD) != NULL ||
				     oci_string_map_get(config->annotations,
							POD_ANNOTATION_MEMORY) != NULL;
			return 0;
		}
		if (strcmp(type, "container") != 0)
			return runk_error(err, "annotation `%s`: unknown container type `%.64s`",
					  dialects[i].type_key, type);
		sandbox = oci_string_map_get(config->annotations, dialects[i].sandbox_key);
		if (sandbox == NULL || *sandbox == '\0')
			return runk_error(err, "annotation `%s`: missing for a pod's container",
					  dialects[i].sandbox_key);
		if (runk_id_validate(sandbox, err) < 0)
			return runk_error_prefix(err, "annotation `%s`", dialects[i].sandbox_key);
		/* A bundle naming itself as its sandbox cannot join itself: it is the sandbox. */
		if (id && strcmp(sandbox, id) == 0) {
			pod->role = POD_SANDBOX;
			return 0;
		}
		pod->role = POD_MEMBER;
		pod->sandbox_id = sandbox;
		return 0;
	}
	return 0;
}

/* The namespaces a pod shares, as config.json and /proc/<pid>/ns/ name them. */
static const struct {
	const char *type;
	const char *proc;
} pod_namespaces[] = {
	{"network", "net"},
	{"ipc", "ipc"},
	{"uts", "uts"},
	{"pid", "pid"},
};

#define NR_POD_NAMESPACES (sizeof(pod_namespaces) / sizeof(pod_namespaces[0]))

const char *pod_shared_namespace(const char *type)
{
	for (size_t k = 0; type && k < NR_POD_NAMESPACES; k++)
		if (strcmp(type, pod_namespaces[k].type) == 0)
			return pod_namespaces[k].type;
	return NULL;
}

/* Is path the sandbox's namespace of pod_namespaces[k]? */
static bool is_sandbox_namespace(const char *path, size_t k, const struct oci_config *sandbox,
				 pid_t sandbox_pid)
{
	const struct oci_linux_namespace *ns =
		oci_config_namespace(sandbox, pod_namespaces[k].type);
	const char *pinned = ns && ns->path && ns->path[0] ? ns->path : NULL;
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/%d/ns/%s", (int)sandbox_pid, pod_namespaces[k].proc);
	return strcmp(path, proc) == 0 || (pinned && strcmp(path, pinned) == 0);
}

int pod_member_plan_make(const char *config_text, size_t len, const struct oci_config *member,
			 const struct oci_config *sandbox, pid_t sandbox_pid,
			 const char *sandbox_id, struct pod_member_plan *plan, runk_error_t *err)
{
	const struct oci_linux *l = member->linux;

	memset(plan, 0, sizeof(*plan));
	for (size_t i = 0; l && i < l->namespaces_len; i++) {
		const struct oci_linux_namespace *ns = l->namespaces[i];
		size_t k;

		if (ns->type == NULL || ns->path == NULL || ns->path[0] == '\0')
			continue;
		for (k = 0; k < NR_POD_NAMESPACES; k++)
			if (strcmp(ns->type, pod_namespaces[k].type) == 0)
				break;
		if (k == NR_POD_NAMESPACES)
			return runk_error(
				err,
				"linux.namespaces[%zu].path: a pod's container shares only "
				"the network, ipc, uts and pid namespaces of its sandbox",
				i);
		if (!is_sandbox_namespace(ns->path, k, sandbox, sandbox_pid))
			return runk_error(
				err,
				"linux.namespaces[%zu].path: `%s` is not the %s namespace "
				"of the pod sandbox `%s`",
				i, ns->path, ns->type, sandbox_id);
		for (size_t j = 0; j < plan->n_join; j++)
			if (plan->join[j] == pod_namespaces[k].type)
				return runk_error(err, "linux.namespaces[%zu]: `%s` listed twice",
						  i, ns->type);
		plan->join[plan->n_join++] = pod_namespaces[k].type;
	}
	plan->join[plan->n_join] = NULL;
	return guest_config_without_paths(config_text, len, plan->join, &plan->guest_config,
					  &plan->guest_config_len, err);
}

void pod_member_plan_release(struct pod_member_plan *plan)
{
	free(plan->guest_config);
	memset(plan, 0, sizeof(*plan));
}
