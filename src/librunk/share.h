/* share.c: the host half of bind mounts, placed in the container's share dir. */
#ifndef RUNK_SHARE_H
#define RUNK_SHARE_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct oci_config;
struct oci_mount;

/* type "bind", or a bind/rbind option. */
bool share_mount_is_bind(const struct oci_mount *m);
/*
 * In a mount namespace of the caller's own (a slave of the host's: nothing
 * it mounts outlives it), <state_dir>/share/<id>: the rootfs bind-mounted at
 * rootfs/ and every bind mount's source under mounts/ (share_bind_mounts).
 * *dir is that directory (caller frees); config.json is the caller's to
 * write there.
 */
int share_container_dir(const char *state_dir, const char *id, const char *rootfs,
			const struct oci_config *cfg, const char *base, char **dir,
			runk_error_t *err);

/*
 * Bind every bind mount's source in cfg on DIR/mounts/<index> (in the
 * caller's mount namespace); a relative source is relative to base.
 */
int share_bind_mounts(const struct oci_config *cfg, const char *base, const char *dir,
		      runk_error_t *err);

/*
 * QEMU in its own mount namespace (jailed, or a pooled VM) sees no mount the
 * shim makes later: attach a copy of the tree at source (with its submounts)
 * at target, a path in QEMU's namespace whose directory exists.  The caller
 * stays in its own namespace.
 */
int share_attach(pid_t qemu, const char *source, const char *target, runk_error_t *err);
/* A detached copy of source and its submounts (open_tree), for share_attach_tree; an fd. */
int share_open_tree(const char *source, runk_error_t *err);
/* Attach such a copy (made by any process: a pod member's shim) at target in QEMU's namespace. */
int share_attach_tree(pid_t qemu, int tree, const char *target, runk_error_t *err);
/* Detach what share_attach put at target in QEMU's namespace. */
int share_detach(pid_t qemu, const char *target, runk_error_t *err);
/* Does QEMU live in the caller's mount namespace? */
bool share_same_namespace(pid_t qemu);

#endif
