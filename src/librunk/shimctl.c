#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
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
#include "util.h"

/* *dir_fd: see unix_sockaddr (a long state directory). */
static int socket_address(const char *dir, struct sockaddr_un *addr, int *dir_fd, runk_error_t *err)
{
	cleanup_free char *path = NULL;

	if (asprintf(&path, "%s/%s", dir, SHIM_SOCKET) < 0)
		abort();
	return unix_sockaddr(path, addr, dir_fd, err);
}

int shimctl_listen(const char *dir, runk_error_t *err)
{
	struct sockaddr_un addr;
	cleanup_close int fd = -1, dir_fd = -1;

	if (socket_address(dir, &addr, &dir_fd, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return runk_error_errno(err, errno, "socket");
	unlink(addr.sun_path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return runk_error_errno(err, errno, "bind `%s/%s`", dir, SHIM_SOCKET);
	if (listen(fd, 16) < 0)
		return runk_error_errno(err, errno, "listen on `%s/%s`", dir, SHIM_SOCKET);
	return steal_fd(&fd);
}

int shimctl_connect(const char *dir, runk_error_t *err)
{
	struct sockaddr_un addr;
	cleanup_close int fd = -1, dir_fd = -1;

	if (socket_address(dir, &addr, &dir_fd, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return runk_error_errno(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return runk_error_errno(err, errno, "connect to the container's shim `%s/%s`", dir,
					SHIM_SOCKET);
	return steal_fd(&fd);
}

int shimctl_send(int fd, const char *message, const int *fds, size_t n_fds, runk_error_t *err)
{
	char control[CMSG_SPACE(sizeof(int) * SHIMCTL_MAX_FDS)] = {0};
	struct iovec iov = {.iov_base = (void *)message, .iov_len = strlen(message)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (n_fds > SHIMCTL_MAX_FDS)
		return runk_error(err, "too many descriptors for the shim");
	if (n_fds > 0) {
		struct cmsghdr *cmsg;

		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
	}
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		return runk_error_errno(err, errno, "send to the container's shim");
	return 0;
}

int shimctl_recv_fds(int fd, char *buf, size_t len, int *fds, size_t *n_fds, runk_error_t *err)
{
	char control[CMSG_SPACE(sizeof(int) * SHIMCTL_MAX_FDS)];
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	size_t room = n_fds ? *n_fds : 0, got = 0;
	ssize_t n;

	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return runk_error_errno(err, errno, "receive from the shim's control socket");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t count;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int received;

			memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (got < room)
				fds[got++] = received;
			else
				close(received); /* more than asked for: never leak them */
		}
	}
	if (n_fds)
		*n_fds = got;
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		for (size_t i = 0; i < got; i++)
			close(fds[i]);
		return runk_error(err, "message on the shim's control socket is too large");
	}
	return (int)n;
}

int shimctl_recv(int fd, int timeout_ms, bool check_ok, yajl_val *msg, runk_error_t *err)
{
	cleanup_free char *buf = malloc(SHIMCTL_MAX_MESSAGE + 1);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	yajl_val obj;
	bool ok = false;
	int n, ready;

	if (buf == NULL)
		abort();
	do
		ready = poll(&pfd, 1, timeout_ms);
	while (ready < 0 && errno == EINTR);
	if (ready == 0)
		return runk_error(err, "the container's shim did not answer within %d s",
				  timeout_ms / 1000);
	n = shimctl_recv_fds(fd, buf, SHIMCTL_MAX_MESSAGE, NULL, NULL, err);
	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	obj = proto_json_parse(buf, (size_t)n, err);
	if (obj == NULL)
		return runk_error_prefix(err, "bad message from the container's shim");
	if (check_ok) {
		if (proto_json_get_bool(obj, "ok", &ok, err) < 0) {
			yajl_tree_free(obj);
			return -1;
		}
		if (!ok) {
			const char *text = "unknown error";

			proto_json_get_string(obj, "error", &text, NULL);
			runk_error(err, "%s", text);
			yajl_tree_free(obj);
			return -1;
		}
	}
	*msg = obj;
	return 1;
}

int shimctl_call(const char *dir, const char *request, int timeout_ms, yajl_val *reply,
		 runk_error_t *err)
{
	cleanup_close int fd = shimctl_connect(dir, err);
	yajl_val msg = NULL;
	int ret;

	if (fd < 0 || shimctl_send(fd, request, NULL, 0, err) < 0)
		return -1;
	ret = shimctl_recv(fd, timeout_ms, true, &msg, err);
	if (ret < 0)
		return -1;
	if (ret == 0)
		return runk_error(err,
				  "the container's shim closed the connection without answering");
	if (reply)
		*reply = msg;
	else
		yajl_tree_free(msg);
	return 0;
}
