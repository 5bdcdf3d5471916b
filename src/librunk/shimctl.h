/*
 * The shim's control socket, <state>/shim.sock: runk commands send one JSON
 * request per connection ({"op":"start"}, {"op":"kill","signal":N,"all":B},
 * {"op":"status"}) and get one reply ({"ok":true,...} or
 * {"ok":false,"error":"..."}).  Both ends are runk on the host.
 */
#ifndef RUNK_SHIMCTL_H
#define RUNK_SHIMCTL_H

#include <yajl/yajl_tree.h>

#include "error.h"

#define SHIMCTL_MAX_MESSAGE 65536

/* Send request to the shim of the container whose state directory is dir; *reply on success. */
int shimctl_call(const char *dir, const char *request, yajl_val *reply, runk_error_t *err);

/* Listen on <dir>/shim.sock (SOCK_SEQPACKET). */
int shimctl_listen(const char *dir, runk_error_t *err);

#endif
