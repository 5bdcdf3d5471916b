/*
 * A QMP (QEMU Machine Protocol) client over a connected stream socket.
 *
 * QEMU sends one JSON object per line: a greeting {"QMP": {...}} on connect,
 * then for each command we send either {"return": X, "id": N} or
 * {"error": {"class": C, "desc": D}, "id": N}, with asynchronous
 * {"event": NAME, "data": {...}, "timestamp": {...}} lines interleaved
 * anywhere.  Every line is checked strictly: a message of the wrong shape is
 * a protocol error, never guessed at.  Events that arrive while a command
 * waits for its reply are queued (the newest QMP_MAX_EVENTS are kept) for
 * qmp_pop_event()/qmp_wait_event().
 */
#ifndef RUNK_QMP_H
#define RUNK_QMP_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>

#include "error.h"

#define QMP_MAX_EVENTS 64
#define QMP_MAX_LINE   (1024 * 1024)
#define QMP_TIMEOUT_MS 30000 /* default per-command timeout: TCG hosts are slow under load */

struct qmp;

enum qmp_msg_kind {
	QMP_MSG_GREETING,
	QMP_MSG_RETURN,
	QMP_MSG_ERROR,
	QMP_MSG_EVENT,
};

/*
 * Take ownership of fd (a connected socket), read the greeting and negotiate
 * capabilities (qmp_capabilities).  timeout_ms bounds each exchange (0 =
 * QMP_TIMEOUT_MS).  On failure fd is closed.
 */
int qmp_open(int fd, int timeout_ms, struct qmp **out, runk_error_t *err);

/* As qmp_open, after connecting to the unix socket at path (one attempt). */
int qmp_connect(const char *path, int timeout_ms, struct qmp **out, runk_error_t *err);

void qmp_close(struct qmp *q);

/* Change the per-command timeout (0 = QMP_TIMEOUT_MS). */
void qmp_set_timeout(struct qmp *q, int timeout_ms);

/* The QEMU version from the greeting. */
void qmp_version(const struct qmp *q, int *major, int *minor, int *micro);

/* The socket, e.g. to poll it for events.  Still owned by q. */
int qmp_fd(const struct qmp *q);

/*
 * Run command with arguments (a JSON object as text, or NULL) and wait for
 * its reply.  On success *reply (if not NULL) is the whole reply object, to
 * be freed with yajl_tree_free(); qmp_return() gives its "return" member.
 * An {"error": ...} reply fails with a message naming the command, the
 * error class and QEMU's description.
 */
int qmp_execute(struct qmp *q, const char *command, const char *arguments, yajl_val *reply,
		runk_error_t *err);

/*
 * Pass fd to QEMU under name (QMP getfd, the descriptor rides on the
 * command with SCM_RIGHTS): "fd:<name>" migration URIs then use it, so
 * QEMU needs neither to spawn a helper nor to open a path.
 */
int qmp_getfd(struct qmp *q, const char *name, int fd, runk_error_t *err);

/* The "return" member of a reply from qmp_execute (never NULL for a valid reply). */
yajl_val qmp_return(yajl_val reply);

/* Pop the oldest queued event without blocking: 1 and *event (free with yajl_tree_free), or 0. */
int qmp_pop_event(struct qmp *q, yajl_val *event);

/*
 * Wait up to timeout_ms (-1 = forever) for the event called name, queued or
 * new; events of other names stay queued.  1 with *event (NULL allowed) on
 * success, 0 on timeout, <0 on error (including the connection closing).
 */
int qmp_wait_event(struct qmp *q, const char *name, int timeout_ms, yajl_val *event,
		   runk_error_t *err);

/* The name of an event object from qmp_pop_event/qmp_wait_event. */
const char *qmp_event_name(yajl_val event);

/* True once QEMU has closed the connection (it does after "quit"). */
bool qmp_closed(const struct qmp *q);

/*
 * Parse and validate one QMP line (NUL-terminated, no newline).  On success
 * *root is the message (free with yajl_tree_free) and *kind says which one.
 * Exposed for unit tests.
 */
int qmp_parse_message(const char *line, yajl_val *root, enum qmp_msg_kind *kind, runk_error_t *err);

/* A JSON string literal (quoted, escaped) for text, to build arguments.  Caller frees. */
char *qmp_quote(const char *text);

#endif
