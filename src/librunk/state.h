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

/*
 * A create makes its state directory whole or not at all: state_dir_begin
 * makes a locked temp directory in root (returns the lock's fd), the caller
 * fills it, and state_dir_commit renames it to <root>/<id> unless that
 * exists ("container `id` already exists"; the temp directory is removed).
 * Temp names start with a dot, which no id can: list and state never see them.
 */
int state_dir_begin(const char *root, const char *id, char **tmp, runk_error_t *err);
int state_dir_commit(const char *root, const char *id, const char *tmp, char **path,
		     runk_error_t *err);

/* Remove temp directories in root left by a create or delete that died. */
void state_dir_sweep(const char *root);

/* Remove the whole state directory (renamed away first); hold its lock. */
int state_dir_remove(const char *dir, runk_error_t *err);

/*
 * Take the directory's exclusive lock; returns the fd holding it.  Fails with
 * "container `id` does not exist" when the directory is gone, also when it was
 * removed (or replaced) while we waited.  Without wait, a lock held by another
 * returns STATE_DIR_BUSY and sets no error.
 */
#define STATE_DIR_BUSY (-2)
int state_dir_lock(const char *dir, bool wait, runk_error_t *err);

int state_write(const char *dir, const struct runk_state *st, runk_error_t *err);

/* Load <root>/<id>/state.json; "container `id` does not exist" when there is none. */
int state_load(const char *root, const char *id, struct runk_state *st, char **dir,
	       runk_error_t *err);

void state_release(struct runk_state *st);

/* True while the container's shim is alive (same PID and start time). */
bool state_shim_alive(const struct runk_state *st);

#endif
