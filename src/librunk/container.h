/*
 * Container lifecycle on the host: what create/start/kill/delete/pause/
 * resume/ps/events/update do, on top of the state directory and the shim.
 */
#ifndef RUNK_CONTAINER_H
#define RUNK_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

#include "error.h"
#include "runkconf.h"

struct runk_context {
	const char *root; /* state root, e.g. /run/runk */
	const struct runk_conf *conf;
	bool debug;
	bool systemd_cgroup; /* --systemd-cgroup / --cgroup-manager=systemd */
};

struct container_create_options {
	const char *id;
	const char *bundle; /* NULL = current directory */
	const char *pid_file;
	const char *console_socket;
	bool detach; /* the shim leaves the caller's session (create, run -d) */
	bool no_pivot;
};

/* Boot the VM and create the container; *shim_pid is the container's PID. */
int container_create(const struct runk_context *ctx, const struct container_create_options *o,
		     pid_t *shim_pid, runk_error_t *err);

int container_start(const struct runk_context *ctx, const char *id, runk_error_t *err);

int container_kill(const struct runk_context *ctx, const char *id, int signo, bool all,
		   runk_error_t *err);

/* Remove a container whose shim is gone (or, with force, kill it first). */
int container_delete(const struct runk_context *ctx, const char *id, bool force, runk_error_t *err);

int container_pause(const struct runk_context *ctx, const char *id, bool pause, runk_error_t *err);

/* Ask the shim of a live container: op "ps" or "stats"; *reply is the guest's checked answer. */
int container_query(const struct runk_context *ctx, const char *id, const char *op, yajl_val *reply,
		    runk_error_t *err);

/* Apply linux.resources (JSON object text) to the container's cgroup in the guest. */
int container_update(const struct runk_context *ctx, const char *id, const char *resources,
		     runk_error_t *err);

/* The bundle's config.json as create saw it, kept in the state directory. */
#define CONFIG_COPY "config.json"

#endif
