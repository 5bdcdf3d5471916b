/*
 * The container's namespaces on the host (shim-namespaces.h).
 *
 * With runc, /proc/<pid>/ns/{net,ipc,uts} of a container's PID are the
 * container's own namespaces, and engines hand them on: the containers of a
 * podman pod name /proc/<infra pid>/ns/net, ipc and uts in their config.json.
 * runk's PID is the shim, so the shim unshares, on the host, each of those
 * that config.json asks to be new.  QEMU is started afterwards and lives in
 * them too.  The VM sees none of it: the guest makes its own namespaces.
 *
 * A container that names such a namespace of a live runk container (a pod's
 * member naming the infra's) gets: the network namespace for real (its taps
 * are made there, network/); for ipc and uts, which no two VMs can share,
 * a namespace of its own in its VM, with a warning in the log; for uts, with
 * the other container's hostname (a pod's name) unless it has one.  Any other
 * path stays in config.json and the agent refuses it by name.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "ocispec.h"
#include "shim-internal.h"
#include "shim-namespaces.h"
#include "state.h"

static const struct {
	const char *type; /* in config.json */
	const char *proc; /* in /proc/<pid>/ns/ */
	int flag;
} host_namespaces[] = {
	{"network", "net", CLONE_NEWNET},
	{"ipc", "ipc", CLONE_NEWIPC},
	{"uts", "uts", CLONE_NEWUTS},
};

#define NR_HOST_NAMESPACES (sizeof(host_namespaces) / sizeof(host_namespaces[0]))

/* A name the agent would set: letters, digits, '-' and '.', 1 to 64 of them. */
static bool hostname_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= 64 &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") ==
		       n;
}

int shim_namespaces_unshare(const struct oci_config *config, runk_error_t *err)
{
	int flags = 0;

	for (size_t i = 0; config->linux && i < config->linux->namespaces_len; i++) {
		const struct oci_linux_namespace *ns = config->linux->namespaces[i];

		if (ns->type == NULL || (ns->path && ns->path[0]))
			continue;
		for (size_t j = 0; j < NR_HOST_NAMESPACES; j++)
			if (strcmp(ns->type, host_namespaces[j].type) == 0)
				flags |= host_namespaces[j].flag;
	}
	if (flags && unshare(flags) < 0)
		return runk_error_errno(err, errno,
					"unshare the container's namespaces on the host");
	return 0;
}

/* The id of the live runk container in root whose shim is pid, or NULL. */
static char *container_of_shim(const char *root, pid_t pid)
{
	cleanup_dir DIR *dir = opendir(root);
	struct dirent *de;

	if (dir == NULL)
		return NULL;
	while ((de = readdir(dir)) != NULL) {
		struct runk_state st = {0};
		runk_error_t err = NULL;
		char *id = NULL;

		if (de->d_name[0] == '.')
			continue;
		if (state_load(root, de->d_name, &st, NULL, &err) < 0) {
			runk_error_free(&err);
			continue;
		}
		if (st.pid == pid && state_shim_alive(&st))
			id = strdup(de->d_name);
		state_release(&st);
		if (id)
			return id;
	}
	return NULL;
}

/*
 * The hostname container id's config.json gives (its uts namespace's name,
 * which a member of its pod shares with runc), or NULL.
 */
static char *hostname_of(const char *root, const char *id)
{
	struct runk_state st = {0};
	runk_error_t err = NULL;
	cleanup_free char *path = NULL, *parse_error = NULL;
	struct oci_config *config;
	char *hostname = NULL;

	if (state_load(root, id, &st, NULL, &err) < 0) {
		runk_error_free(&err);
		return NULL;
	}
	if (asprintf(&path, "%s/config.json", st.bundle) < 0)
		abort();
	state_release(&st);
	config = oci_config_parse_file(path, &parse_error);
	if (config == NULL)
		return NULL;
	if (config->hostname && hostname_valid(config->hostname))
		hostname = strdup(config->hostname);
	oci_config_free(config);
	return hostname;
}

/* ipc or uts at /proc/<pid>/ns/<name> of a runk container of the same root. */
static char *sibling_namespace(const char *root, const char *type, const char *path)
{
	char name[16], tail;
	int pid;

	if (strcmp(type, "ipc") != 0 && strcmp(type, "uts") != 0)
		return NULL;
	if (sscanf(path, "/proc/%d/ns/%15[a-z]%c", &pid, name, &tail) != 2 || pid <= 0 ||
	    strcmp(name, type) != 0)
		return NULL;
	return container_of_shim(root, (pid_t)pid);
}

int shim_namespaces_unshareable(const struct oci_config *config, const char *state_dir,
				const char **types, size_t max, char **hostname)
{
	cleanup_free char *root = strdup(state_dir);
	size_t n = 0;

	if (root == NULL)
		abort();
	dirname(root);
	*hostname = NULL;

	for (size_t i = 0; config->linux && i < config->linux->namespaces_len; i++) {
		const struct oci_linux_namespace *ns = config->linux->namespaces[i];
		cleanup_free char *owner = NULL;

		if (ns->type == NULL || ns->path == NULL || ns->path[0] == '\0' || n == max)
			continue;
		owner = sibling_namespace(root, ns->type, ns->path);
		if (owner == NULL)
			continue;
		/* The pod's hostname, which a runc container sharing the namespace would see. */
		if (strcmp(ns->type, "uts") == 0 && config->hostname == NULL && *hostname == NULL)
			*hostname = hostname_of(root, owner);
		log_warning("the %s namespace `%s` is container %s's: a VM cannot share it, this "
			    "container gets its own",
			    ns->type, ns->path, owner);
		types[n++] = ns->type;
	}
	return (int)n;
}

int shim_namespaces_pod_sandbox(const struct oci_config *config, const char **types, size_t max)
{
	static const char *const pod_types[] = {"ipc", "uts", "pid"};
	size_t n = 0;

	for (size_t i = 0; config->linux && i < config->linux->namespaces_len; i++) {
		const struct oci_linux_namespace *ns = config->linux->namespaces[i];

		if (ns->type == NULL || ns->path == NULL || ns->path[0] == '\0' || n == max)
			continue;
		for (size_t j = 0; j < sizeof(pod_types) / sizeof(pod_types[0]); j++)
			if (strcmp(ns->type, pod_types[j]) == 0) {
				log_debug("pod sandbox: the %s namespace `%s` is made in the VM",
					  ns->type, ns->path);
				types[n++] = pod_types[j];
			}
	}
	return (int)n;
}
