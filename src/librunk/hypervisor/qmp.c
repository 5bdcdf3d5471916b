#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cleanup.h"
#include "util.h"
#include "hypervisor/qmp.h"

struct qmp {
	int fd;
	int timeout_ms;
	bool closed;
	char *buf; /* bytes read but not yet consumed as lines */
	size_t len, cap;
	long long next_id;
	int version[3];
	yajl_val events[QMP_MAX_EVENTS]; /* FIFO, oldest first */
	size_t nevents;
};

static void cleanup_yajl_fn(yajl_val *v)
{
	if (*v)
		yajl_tree_free(*v);
}
#define cleanup_yajl __attribute__((cleanup(cleanup_yajl_fn)))

static yajl_val object_get(yajl_val obj, const char *key)
{
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Remaining time to a deadline as a poll() timeout; -1 deadline = forever. */
static int remaining_ms(long long deadline)
{
	long long left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static int check_greeting(yajl_val qmp, runk_error_t *err)
{
	yajl_val version = object_get(qmp, "version");
	yajl_val qemu = object_get(version, "qemu");
	static const char *const parts[] = {"major", "minor", "micro"};

	if (!YAJL_IS_OBJECT(qmp) || !YAJL_IS_OBJECT(qemu))
		return runk_error(err, "QMP greeting lacks QMP.version.qemu");
	for (size_t i = 0; i < 3; i++) {
		yajl_val v = object_get(qemu, parts[i]);
		if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0)
			return runk_error(err, "QMP greeting: version.qemu.%s is not a number",
					  parts[i]);
	}
	if (!YAJL_IS_ARRAY(object_get(qmp, "capabilities")))
		return runk_error(err, "QMP greeting lacks QMP.capabilities");
	return 0;
}

static int check_error(yajl_val error, runk_error_t *err)
{
	if (!YAJL_IS_OBJECT(error))
		return runk_error(err, "QMP error reply: \"error\" is not an object");
	if (!YAJL_IS_STRING(object_get(error, "class")) ||
	    !YAJL_IS_STRING(object_get(error, "desc")))
		return runk_error(err, "QMP error reply lacks a string class or desc");
	return 0;
}

static int check_event(yajl_val root, runk_error_t *err)
{
	yajl_val name = object_get(root, "event");
	yajl_val data = object_get(root, "data");

	if (!YAJL_IS_STRING(name) || name->u.string[0] == '\0')
		return runk_error(err, "QMP event: \"event\" is not a name");
	if (data != NULL && !YAJL_IS_OBJECT(data))
		return runk_error(err, "QMP event %s: \"data\" is not an object", name->u.string);
	if (!YAJL_IS_OBJECT(object_get(root, "timestamp")))
		return runk_error(err, "QMP event %s lacks a timestamp", name->u.string);
	return 0;
}

int qmp_parse_message(const char *line, yajl_val *root_out, enum qmp_msg_kind *kind,
		      runk_error_t *err)
{
	cleanup_yajl yajl_val root = NULL;
	static const char *const keys[] = {"QMP", "return", "error", "event"};
	static const enum qmp_msg_kind kinds[] = {QMP_MSG_GREETING, QMP_MSG_RETURN, QMP_MSG_ERROR,
						  QMP_MSG_EVENT};
	char errbuf[256] = "";
	int found = -1;
	int ret = 0;

	root = yajl_tree_parse(line, errbuf, sizeof(errbuf));
	if (root == NULL) {
		errbuf[strcspn(errbuf, "\n")] = '\0';
		return runk_error(err, "QMP sent malformed JSON: %s", errbuf);
	}
	if (!YAJL_IS_OBJECT(root))
		return runk_error(err, "QMP sent a JSON value that is not an object");
	for (size_t i = 0; i < 4; i++) {
		if (object_get(root, keys[i]) == NULL)
			continue;
		if (found >= 0)
			return runk_error(err, "QMP message has both \"%s\" and \"%s\"",
					  keys[found], keys[i]);
		found = (int)i;
	}
	if (found < 0)
		return runk_error(err, "QMP message is neither greeting, reply nor event");

	switch (kinds[found]) {
	case QMP_MSG_GREETING:
		ret = check_greeting(object_get(root, "QMP"), err);
		break;
	case QMP_MSG_ERROR:
		ret = check_error(object_get(root, "error"), err);
		break;
	case QMP_MSG_EVENT:
		ret = check_event(root, err);
		break;
	case QMP_MSG_RETURN:
		break;
	}
	if (ret < 0)
		return ret;
	*kind = kinds[found];
	*root_out = steal_pointer(&root);
	return 0;
}

/* Read the next complete line into a NUL-terminated string (caller frees). */
static int read_line(struct qmp *q, long long deadline, char **line, runk_error_t *err)
{
	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		struct pollfd pfd = {.fd = q->fd, .events = POLLIN};
		ssize_t n;
		int r;

		if (nl != NULL) {
			size_t linelen = (size_t)(nl - q->buf);
			char *out = malloc(linelen + 1);

			if (out == NULL)
				abort();
			memcpy(out, q->buf, linelen);
			out[linelen] = '\0';
			if (linelen && out[linelen - 1] == '\r')
				out[linelen - 1] = '\0';
			q->len -= linelen + 1;
			memmove(q->buf, nl + 1, q->len);
			*line = out;
			return 0;
		}
		if (q->closed)
			return runk_error(err, "QMP connection closed by QEMU");
		if (q->len >= QMP_MAX_LINE)
			return runk_error(err, "QMP sent a line longer than %d bytes",
					  QMP_MAX_LINE);
		if (q->cap - q->len < 4096) {
			size_t cap = q->cap ? q->cap * 2 : 8192;
			char *buf = realloc(q->buf, cap);

			if (buf == NULL)
				abort();
			q->buf = buf;
			q->cap = cap;
		}
		r = poll(&pfd, 1, remaining_ms(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return runk_error_errno(err, errno, "poll on the QMP socket");
		if (r == 0)
			return runk_error_errno(err, ETIMEDOUT, "no answer from QMP");
		n = read(q->fd, q->buf + q->len, q->cap - q->len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return runk_error_errno(err, errno, "read from the QMP socket");
		if (n == 0)
			q->closed = true;
		q->len += (size_t)n;
	}
}

static int read_message(struct qmp *q, long long deadline, yajl_val *root, enum qmp_msg_kind *kind,
			runk_error_t *err)
{
	for (;;) {
		cleanup_free char *line = NULL;

		if (read_line(q, deadline, &line, err) < 0)
			return -1;
		if (line[0] == '\0')
			continue;
		return qmp_parse_message(line, root, kind, err);
	}
}

static void queue_event(struct qmp *q, yajl_val event)
{
	if (q->nevents == QMP_MAX_EVENTS) {
		yajl_tree_free(q->events[0]);
		memmove(q->events, q->events + 1, (QMP_MAX_EVENTS - 1) * sizeof(q->events[0]));
		q->nevents--;
	}
	q->events[q->nevents++] = event;
}

/* 0 or -errno. */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static bool valid_command_name(const char *command)
{
	if (command == NULL || *command == '\0')
		return false;
	for (const char *c = command; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
			return false;
	return true;
}

/* send_all with fd attached to the first byte (SCM_RIGHTS). */
static int send_with_fd(int sock, const char *buf, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = {0};
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return send_all(sock, buf + n, len - (size_t)n);
}

static int execute(struct qmp *q, const char *command, const char *arguments, int fd,
		   yajl_val *reply, runk_error_t *err);

int qmp_execute(struct qmp *q, const char *command, const char *arguments, yajl_val *reply,
		runk_error_t *err)
{
	return execute(q, command, arguments, -1, reply, err);
}

int qmp_getfd(struct qmp *q, const char *name, int fd, runk_error_t *err)
{
	cleanup_free char *quoted = qmp_quote(name), *args = NULL;

	if (asprintf(&args, "{\"fdname\":%s}", quoted) < 0)
		abort();
	return execute(q, "getfd", args, fd, NULL, err);
}

static int execute(struct qmp *q, const char *command, const char *arguments, int fd,
		   yajl_val *reply, runk_error_t *err)
{
	cleanup_free char *msg = NULL;
	long long id = ++q->next_id;
	long long deadline = now_ms() + q->timeout_ms;
	int len, r;

	if (!valid_command_name(command))
		return runk_error(err, "invalid QMP command name");
	if (arguments)
		len = asprintf(&msg, "{\"execute\":\"%s\",\"arguments\":%s,\"id\":%lld}\n", command,
			       arguments, id);
	else
		len = asprintf(&msg, "{\"execute\":\"%s\",\"id\":%lld}\n", command, id);
	if (len < 0)
		abort();
	r = fd >= 0 ? send_with_fd(q->fd, msg, (size_t)len, fd) : send_all(q->fd, msg, (size_t)len);
	if (r < 0) {
		if (r == -EPIPE || r == -ECONNRESET)
			q->closed = true;
		return runk_error_errno(err, -r, "QMP %s: write to the socket", command);
	}

	for (;;) {
		cleanup_yajl yajl_val root = NULL;
		enum qmp_msg_kind kind;
		yajl_val rid;

		if (read_message(q, deadline, &root, &kind, err) < 0)
			return runk_error_prefix(err, "QMP %s", command);
		if (kind == QMP_MSG_EVENT) {
			queue_event(q, steal_pointer(&root));
			continue;
		}
		if (kind == QMP_MSG_GREETING)
			return runk_error(err, "QMP %s: unexpected second greeting", command);
		rid = object_get(root, "id");
		if (!YAJL_IS_INTEGER(rid) || YAJL_GET_INTEGER(rid) != id)
			return runk_error(err, "QMP %s: reply carries the wrong id", command);
		if (kind == QMP_MSG_ERROR) {
			yajl_val e = object_get(root, "error");
			return runk_error(err, "QMP %s failed: %s: %s", command,
					  YAJL_GET_STRING(object_get(e, "class")),
					  YAJL_GET_STRING(object_get(e, "desc")));
		}
		if (reply)
			*reply = steal_pointer(&root);
		return 0;
	}
}

yajl_val qmp_return(yajl_val reply)
{
	return object_get(reply, "return");
}

int qmp_pop_event(struct qmp *q, yajl_val *event)
{
	if (q->nevents == 0)
		return 0;
	*event = q->events[0];
	memmove(q->events, q->events + 1, (q->nevents - 1) * sizeof(q->events[0]));
	q->nevents--;
	return 1;
}

const char *qmp_event_name(yajl_val event)
{
	return YAJL_GET_STRING(object_get(event, "event"));
}

static int take_queued_event(struct qmp *q, const char *name, yajl_val *event)
{
	for (size_t i = 0; i < q->nevents; i++) {
		yajl_val e = q->events[i];

		if (strcmp(qmp_event_name(e), name) != 0)
			continue;
		memmove(q->events + i, q->events + i + 1,
			(q->nevents - i - 1) * sizeof(q->events[0]));
		q->nevents--;
		if (event)
			*event = e;
		else
			yajl_tree_free(e);
		return 1;
	}
	return 0;
}

int qmp_wait_event(struct qmp *q, const char *name, int timeout_ms, yajl_val *event,
		   runk_error_t *err)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	if (take_queued_event(q, name, event))
		return 1;
	for (;;) {
		cleanup_yajl yajl_val root = NULL;
		enum qmp_msg_kind kind;
		cleanup_error runk_error_t local = NULL;

		if (read_message(q, deadline, &root, &kind, &local) < 0) {
			if (local->errnum == ETIMEDOUT)
				return 0;
			if (err && *err == NULL)
				*err = steal_pointer(&local);
			return runk_error_prefix(err, "waiting for QMP event %s", name);
		}
		if (kind != QMP_MSG_EVENT)
			return runk_error(err, "QMP sent a reply while no command was running");
		if (strcmp(qmp_event_name(root), name) == 0) {
			if (event)
				*event = steal_pointer(&root);
			return 1;
		}
		queue_event(q, steal_pointer(&root));
	}
}

void qmp_set_timeout(struct qmp *q, int timeout_ms)
{
	q->timeout_ms = timeout_ms > 0 ? timeout_ms : QMP_TIMEOUT_MS;
}

bool qmp_closed(const struct qmp *q)
{
	return q->closed;
}

int qmp_fd(const struct qmp *q)
{
	return q->fd;
}

void qmp_version(const struct qmp *q, int *major, int *minor, int *micro)
{
	*major = q->version[0];
	*minor = q->version[1];
	*micro = q->version[2];
}

void qmp_close(struct qmp *q)
{
	if (q == NULL)
		return;
	while (q->nevents)
		yajl_tree_free(q->events[--q->nevents]);
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	free(q);
}

static void cleanup_qmp_fn(struct qmp **q)
{
	qmp_close(*q);
}

int qmp_open(int fd, int timeout_ms, struct qmp **out, runk_error_t *err)
{
	__attribute__((cleanup(cleanup_qmp_fn))) struct qmp *q = NULL;
	cleanup_yajl yajl_val root = NULL;
	enum qmp_msg_kind kind;
	yajl_val qemu;

	q = calloc(1, sizeof(*q));
	if (q == NULL)
		abort();
	q->fd = fd;
	q->timeout_ms = timeout_ms > 0 ? timeout_ms : QMP_TIMEOUT_MS;

	if (read_message(q, now_ms() + q->timeout_ms, &root, &kind, err) < 0)
		return runk_error_prefix(err, "QMP greeting");
	if (kind != QMP_MSG_GREETING)
		return runk_error(err, "QMP did not start with a greeting");
	qemu = object_get(object_get(object_get(root, "QMP"), "version"), "qemu");
	for (size_t i = 0; i < 3; i++) {
		static const char *const parts[] = {"major", "minor", "micro"};
		long long v = YAJL_GET_INTEGER(object_get(qemu, parts[i]));

		q->version[i] = v > INT_MAX ? INT_MAX : (int)v;
	}
	if (qmp_execute(q, "qmp_capabilities", NULL, NULL, err) < 0)
		return -1;
	*out = steal_pointer(&q);
	return 0;
}

int qmp_connect(const char *path, int timeout_ms, struct qmp **out, runk_error_t *err)
{
	struct sockaddr_un addr;
	cleanup_close int fd = -1, dir_fd = -1;

	if (unix_sockaddr(path, &addr, &dir_fd, err) < 0)
		return runk_error_prefix(err, "the QMP socket");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return runk_error_errno(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return runk_error_errno(err, errno, "connect to QMP socket `%s`", path);
	return qmp_open(steal_fd(&fd), timeout_ms, out, err);
}

char *qmp_quote(const char *text)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	char *out;

	if (g == NULL)
		abort();
	if (yajl_gen_string(g, (const unsigned char *)text, strlen(text)) != yajl_gen_status_ok)
		abort();
	yajl_gen_get_buf(g, &buf, &len);
	out = strndup((const char *)buf, len);
	yajl_gen_free(g);
	if (out == NULL)
		abort();
	return out;
}
