/*
 * The shim: one process per container, forked by `runk create`/`run`.  Its
 * PID is the container's PID on the host.  It starts the VM (QEMU is its
 * child), owns the agent channel, relays the container's stdio to the fds it
 * inherited, forwards the signals it receives, serves runk's commands on a
 * control socket, and exits with the container's status: code N → exit N,
 * killed by signal S → it kills itself with S.
 */
#ifndef RUNK_SHIM_H
#define RUNK_SHIM_H

#include <stdbool.h>

#include "cgroups/cgroup.h"
#include "runkconf.h"
#include "sizing.h"

struct shim_options {
	const char *id;
	const char *state_dir;
	/*
	 * config.json as create read and parsed it (the shim is its fork); its
	 * copy in the state dir is the same text.
	 */
	const struct oci_config *config;
	const char *config_text;
	size_t config_len;
	const char *bind_base; /* relative bind mount sources are relative to it */
	const char *rootfs;    /* absolute host path */
	const struct runk_conf *conf;
	bool debug;
	unsigned int vcpus; /* the VM's size (vmsize.h) */
	unsigned int memory_mib;
	bool pod_sandbox; /* a pod's sandbox: members join its VM (shim-pod.c) */
	/*
	 * A pod's VM whose vCPUs follow its members: max_vcpus present, and
	 * ceil(pod_cpus + the members' quotas) online.  0 for every other VM.
	 */
	unsigned int max_vcpus;
	struct cpu_amount pod_cpus;
	const char *kernel_params;
	bool terminal;	/* process.terminal: the init's stdio is a terminal */
	bool no_pivot;	/* --no-pivot: the agent moves the root instead of pivot_root */
	int console_fd; /* the slave of the --console-socket pty, or -1 */
	int sync_fd;	/* reports "created" (or why not) to the runk process that forked us */
	const struct cgroup_plan *cgroups;	     /* where the shim and QEMU go */
	const struct oci_linux_resources *resources; /* the sandbox cgroup's limits */
};

/* Stream id of the container's init process on the agent channel. */
#define SHIM_INIT_STREAM 1

/* shim.pid in state_dir: "PID START_TIME" of the calling process, so delete can end it. */
void shim_record_pid(const char *state_dir);

/* Tell runk create (sync_fd, then closed) the container is created (err NULL) or why not. */
void shim_report(int sync_fd, const runk_error_t err);

/* Runs in the forked child; never returns. */
__attribute__((noreturn)) void shim_main(const struct shim_options *opts);

/*
 * The runk side of the sync pipe: waits for the shim's report.  Returns 0 once
 * the container is created, or the shim's error.
 */
int shim_wait_created(int sync_fd, runk_error_t *err);

#endif
