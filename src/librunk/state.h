/*
 * A container's state directory, <root>/<id>/: state.json (written
 * atomically), the shim's control socket, the VM's sockets and the 9p share.
 * Every command that changes a container holds the directory's flock.
 */
#ifndef RUNK_STATE_H
#define RUNK_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct runk_state {
	char *id;
	char *bundle;  /* absolute */
	char *rootfs;  /* absolute */
	char *created; /* RFC 3339 */
	char *owner;
	pid_t pid;	    /* the shim's PID: the container's PID on the host */
	unsigned int vcpus; /* the VM size, as sized at create */
	unsigned int memory_mib;
	uint64_t pid_start_time;  /* the shim's start time, to tell a reused PID apart */
	char **annotation_keys;	  /* from config.json, echoed by `state` */
	char **annotation_values; /* parallel to annotation_keys, NULL-terminated */
	size_t n_annotations;
};

/* Paths inside a state directory. */
#define STATE_FILE    "state.json"
#define SHIM_SOCKET   "shim.sock"
#define AGENT_SOCKET  "agent.sock"
#define QMP_SOCKET    "qmp.sock"
#define SHARE_DIR     "share"
#define JAIL_DIR      "jail" /* QEMU's root (hypervisor/jail.h) */
#define QEMU_LOG      "qemu.log"
#define CONSOLE_LOG   "console.log"
#define SHIM_PID_FILE "shim.pid" /* "PID START_TIME", written by the shim as it starts */

/* <root>/<id>, after validating id.  Caller frees. */
int state_dir_path(const char *root, const char *id, char **path, runk_error_t *err);

/* Create <root>/<id> (and root); fails naming the id if it already exists. */
int state_dir_create(const char *root, const char *id, char **path, runk_error_t *err);

/* Remove the whole state directory. */
int state_dir_remove(const char *dir, runk_error_t *err);

/* Take the directory's exclusive lock; returns the fd holding it. */
int state_dir_lock(const char *dir, runk_error_t *err);

int state_write(const char *dir, const struct runk_state *st, runk_error_t *err);

/* Load <root>/<id>/state.json; "container `id` does not exist" when there is none. */
int state_load(const char *root, const char *id, struct runk_state *st, char **dir,
	       runk_error_t *err);

void state_release(struct runk_state *st);

/* True while the container's shim is alive (same PID and start time). */
bool state_shim_alive(const struct runk_state *st);

#endif
