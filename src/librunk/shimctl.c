#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "proto.h"
#include "shimctl.h"
#include "state.h"

/* A shim that does not answer in this time is stuck; the caller gets an error, not a hang. */
#define SHIMCTL_TIMEOUT_MS 120000

static int socket_address(const char *dir, struct sockaddr_un *addr, runk_error_t *err)
{
	int n;

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	n = snprintf(addr->sun_path, sizeof(addr->sun_path), "%s/%s", dir, SHIM_SOCKET);
	if (n < 0 || (size_t)n >= sizeof(addr->sun_path))
		return runk_error(err, "state directory `%s` is too long for a unix socket path",
				  dir);
	return 0;
}

int shimctl_listen(const char *dir, runk_error_t *err)
{
	struct sockaddr_un addr;
	cleanup_close int fd = -1;

	if (socket_address(dir, &addr, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return runk_error_errno(err, errno, "socket");
	unlink(addr.sun_path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return runk_error_errno(err, errno, "bind `%s`", addr.sun_path);
	if (listen(fd, 16) < 0)
		return runk_error_errno(err, errno, "listen on `%s`", addr.sun_path);
	return steal_fd(&fd);
}

int shimctl_call(const char *dir, const char *request, yajl_val *reply, runk_error_t *err)
{
	struct sockaddr_un addr;
	cleanup_close int fd = -1;
	cleanup_free char *buf = malloc(SHIMCTL_MAX_MESSAGE + 1);
	struct pollfd pfd;
	yajl_val obj;
	bool ok = false;
	ssize_t n;

	if (buf == NULL)
		abort();
	if (socket_address(dir, &addr, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return runk_error_errno(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return runk_error_errno(err, errno, "connect to the container's shim `%s`",
					addr.sun_path);
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) < 0)
		return runk_error_errno(err, errno, "send to the container's shim");
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&pfd, 1, SHIMCTL_TIMEOUT_MS) == 0)
		return runk_error(err, "the container's shim did not answer within %d s",
				  SHIMCTL_TIMEOUT_MS / 1000);
	n = recv(fd, buf, SHIMCTL_MAX_MESSAGE, 0);
	if (n < 0)
		return runk_error_errno(err, errno, "receive from the container's shim");
	if (n == 0)
		return runk_error(err,
				  "the container's shim closed the connection without answering");
	obj = proto_json_parse(buf, (size_t)n, err);
	if (obj == NULL)
		return runk_error_prefix(err, "bad reply from the container's shim");
	if (proto_json_get_bool(obj, "ok", &ok, err) < 0) {
		yajl_tree_free(obj);
		return -1;
	}
	if (!ok) {
		const char *msg = "unknown error";

		proto_json_get_string(obj, "error", &msg, NULL);
		runk_error(err, "%s", msg);
		yajl_tree_free(obj);
		return -1;
	}
	*reply = obj;
	return 0;
}
