/* share.c: the host half of bind mounts, placed in the container's share dir. */
#ifndef RUNK_SHARE_H
#define RUNK_SHARE_H

#include <stdbool.h>

#include "error.h"

struct oci_mount;

/* type "bind", or a bind/rbind option. */
bool share_mount_is_bind(const struct oci_mount *m);
/* Bind every bind mount's source on DIR/mounts/<index> (in the caller's mount namespace). */
int share_bind_mounts(const char *config_path, const char *dir, runk_error_t *err);

#endif
