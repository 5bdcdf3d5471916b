/*
 * The host end of the agent channel (a virtio-serial port that QEMU exposes
 * as a unix socket).  Everything read here comes from the guest and is
 * checked by the proto decoder before use.
 */
#ifndef RUNK_AGENT_H
#define RUNK_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "proto.h"

struct agent_conn {
	int fd;
	struct proto_decoder decoder;
	struct proto_pending pending;
};

typedef int (*agent_frame_fn)(void *user, struct proto_frame *frame, runk_error_t *err);

/* Connect to QEMU's socket for the agent port, retrying while QEMU creates it. */
int agent_connect(const char *path, int timeout_ms, struct agent_conn *conn, runk_error_t *err);

/*
 * Read what is available (at most 1 MiB a call, so a flooding guest cannot
 * starve the caller's other work) and hand every complete frame to fn.  A RESPONSE
 * whose id was never requested is rejected before fn sees it.  Returns 1 when
 * the guest closed the channel, 0 otherwise.
 */
int agent_read(struct agent_conn *conn, agent_frame_fn fn, void *user, runk_error_t *err);

/* Send a REQUEST; *id is what its RESPONSE will carry. */
int agent_request(struct agent_conn *conn, const char *json, size_t len, uint32_t *id,
		  runk_error_t *err);

/* Send bytes for a process's stdin; len 0 is EOF. */
int agent_send_stdin(struct agent_conn *conn, uint32_t stream, const void *data, size_t len,
		     runk_error_t *err);

void agent_close(struct agent_conn *conn);

#endif
