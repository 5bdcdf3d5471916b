/*
 * The container's network, ipc and uts namespaces on the host, for engines
 * that hand /proc/<pid>/ns/... of one container to another (podman pods).
 * See shim-namespaces.c.
 */
#ifndef RUNK_SHIM_NAMESPACES_H
#define RUNK_SHIM_NAMESPACES_H

#include <stddef.h>

#include "error.h"

struct oci_config;

/* In the shim, before QEMU starts: unshare each of them config.json wants new. */
int shim_namespaces_unshare(const struct oci_config *config, runk_error_t *err);

/*
 * The namespace types (at most max, into types) whose path names an ipc or
 * uts namespace of another live runk container under the same root: the
 * guest gets its own instead (logged).  Returns how many.  *hostname: that
 * container's hostname for a shared uts namespace when config.json has none
 * (caller frees), else NULL.
 */
int shim_namespaces_unshareable(const struct oci_config *config, const char *state_dir,
				const char **types, size_t max, char **hostname);

/*
 * A pod's sandbox: the ipc, uts and pid namespaces it names by path (CRI-O
 * pins them on the host) are the pod's, and the pod lives in the VM: the
 * sandbox gets new ones there, which its members join.  Their types (at most
 * max, into types); returns how many.
 */
int shim_namespaces_pod_sandbox(const struct oci_config *config, const char **types, size_t max);

#endif
