/*
 * The shim's control socket, <state>/shim.sock (SOCK_SEQPACKET: one message
 * per send).  runk commands send one JSON request per connection and get a
 * reply, {"ok":true,...} or {"ok":false,"error":"..."}.  An exec keeps its
 * connection: the shim later sends {"event":"exit",...} on it, and the client
 * may send {"op":"resize",...} or {"op":"signal",...} for its process.  Both
 * ends are runk on the host.
 *
 * A pod's member shim (member.c) keeps its connection the same way: its
 * {"op":"pod-add","container":ID,"join":[...],"terminal":B,"no_pivot":B,
 * "cpu_quota":Q,"cpu_period":P} carries stdin, stdout, stderr, a listening
 * socket bound at the member's own <state>/shim.sock and its share (a
 * detached mount tree); the sandbox's shim serves the member's commands on
 * that socket from then on (shim-pod.c).
 */
#ifndef RUNK_SHIMCTL_H
#define RUNK_SHIMCTL_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "error.h"

#define SHIMCTL_MAX_MESSAGE 65536
/* stdin, stdout, stderr; a pod member adds its control socket and its share. */
#define SHIMCTL_MAX_FDS 5

/* How long a command waits for a shim before calling it stuck. */
#define SHIMCTL_TIMEOUT_MS 120000

/* Listen on <dir>/shim.sock. */
int shimctl_listen(const char *dir, runk_error_t *err);

/* Connect to the shim of the container whose state directory is dir; returns the fd. */
int shimctl_connect(const char *dir, runk_error_t *err);

/* Send one message, with up to SHIMCTL_MAX_FDS descriptors attached (SCM_RIGHTS). */
int shimctl_send(int fd, const char *message, const int *fds, size_t n_fds, runk_error_t *err);

/*
 * Receive one message (timeout_ms < 0: wait forever) and parse it.  With
 * check_ok, {"ok":false,"error":E} becomes the error E.  Returns 1 with *msg,
 * 0 if the peer closed the connection.
 */
int shimctl_recv(int fd, int timeout_ms, bool check_ok, yajl_val *msg, runk_error_t *err);

/* Receive one message and any descriptors sent with it (*n_fds in: room, out: count). */
int shimctl_recv_fds(int fd, char *buf, size_t len, int *fds, size_t *n_fds, runk_error_t *err);

/* connect + send + recv: one request and its reply (NULL reply: discard it). */
int shimctl_call(const char *dir, const char *request, int timeout_ms, yajl_val *reply,
		 runk_error_t *err);

#endif
