/*
 * The member shim: the host process of a container that joins its pod's VM
 * (docs/pods.md).  Its PID is the container's PID, as a shim's is: conmon
 * and containerd's shim wait on it.  It prepares the container's share in
 * a mount namespace of its own, hands it with its stdio and a control
 * socket to the pod sandbox's shim (pod-add, shim-pod.c), reports the
 * container created, and then waits on that connection for the container's
 * exit, passing on signals and terminal resizes, and exits the same way.
 */
#ifndef RUNK_MEMBER_H
#define RUNK_MEMBER_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroups/cgroup.h"
#include "pod.h"

struct member_options {
	const char *id;
	const char *state_dir;		 /* the member's own */
	const struct oci_config *config; /* its config.json (bind mount sources) */
	const char *bind_base;		 /* relative bind mount sources are relative to it */
	const char *rootfs;		 /* absolute host path */
	const char *sandbox_dir;	 /* the pod sandbox's state dir: its shim's socket */
	const struct pod_member_plan *plan;
	bool terminal;
	bool no_pivot;
	int console_fd; /* the slave of the --console-socket pty, or -1 */
	int sync_fd;	/* reports "created" (or why not) to runk create */
	int64_t cpu_quota;
	uint64_t cpu_period;
	const struct cgroup_plan *cgroups; /* the member's own cgroups: it goes there */
	const struct oci_linux_resources *resources;
};

/* Runs in the forked child; never returns. */
__attribute__((noreturn)) void member_main(const struct member_options *opts);

#endif
