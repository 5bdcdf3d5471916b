#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "util.h"

#define AGENT_READS_PER_CALL 16

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int agent_connect(const char *path, int timeout_ms, struct agent_conn *conn, runk_error_t *err)
{
	struct sockaddr_un addr;
	long long deadline = now_ms() + timeout_ms;
	cleanup_close int fd = -1, dir_fd = -1;

	if (unix_sockaddr(path, &addr, &dir_fd, err) < 0)
		return runk_error_prefix(err, "the agent socket");
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return runk_error_errno(err, errno, "socket");
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			break;
		if ((errno != ENOENT && errno != ECONNREFUSED) || now_ms() > deadline)
			return runk_error_errno(err, errno, "connect to the agent socket `%s`",
						path);
		close(steal_fd(&fd));
		usleep(10000);
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return runk_error_errno(err, errno, "set the agent socket non-blocking");
	conn->fd = steal_fd(&fd);
	proto_decoder_init(&conn->decoder, PROTO_PEER_GUEST);
	proto_pending_init(&conn->pending);
	return 0;
}

static int dispatch(struct agent_conn *conn, agent_frame_fn fn, void *user, runk_error_t *err)
{
	for (;;) {
		struct proto_frame frame = {0};
		int ret = proto_decoder_next(&conn->decoder, &frame, err);

		if (ret <= 0)
			return ret;
		if (frame.type == PROTO_RESPONSE &&
		    proto_pending_take(&conn->pending, frame.id, err) < 0) {
			proto_frame_clear(&frame);
			return -1;
		}
		ret = fn(user, &frame, err);
		proto_frame_clear(&frame);
		if (ret < 0)
			return ret;
	}
}

int agent_read(struct agent_conn *conn, agent_frame_fn fn, void *user, runk_error_t *err)
{
	char buf[65536];

	/*
	 * At most AGENT_READS_PER_CALL reads, then back to the caller's loop
	 * (epoll and poll are level-triggered): a guest that floods the channel
	 * must not starve the control socket, signals or QEMU's death.
	 */
	for (int reads = 0; reads < AGENT_READS_PER_CALL; reads++) {
		ssize_t n = read(conn->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return runk_error_errno(err, errno, "read from the agent");
		if (n == 0) {
			if (proto_decoder_finish(&conn->decoder, err) < 0)
				return -1;
			return 1;
		}
		if (proto_decoder_feed(&conn->decoder, buf, (size_t)n, err) < 0 ||
		    dispatch(conn, fn, user, err) < 0)
			return runk_error_prefix(err, "agent sent a bad frame");
	}
	return 0;
}

/* The socket is non-blocking for reads; a frame is written whole, waiting for room. */
static int write_frame(struct agent_conn *conn, unsigned int type, uint32_t id, const void *data,
		       size_t len, runk_error_t *err)
{
	uint8_t header[PROTO_HEADER_SIZE];
	const uint8_t *parts[2] = {header, data};
	size_t sizes[2] = {PROTO_HEADER_SIZE, len};

	if (proto_header_encode(header, type, id, len, err) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		size_t done = 0;

		while (done < sizes[i]) {
			ssize_t n = write(conn->fd, parts[i] + done, sizes[i] - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				struct pollfd pfd = {.fd = conn->fd, .events = POLLOUT};

				poll(&pfd, 1, 1000);
				continue;
			}
			if (n < 0)
				return runk_error_errno(err, errno, "write to the agent");
			done += (size_t)n;
		}
	}
	return 0;
}

int agent_request(struct agent_conn *conn, const char *json, size_t len, uint32_t *id,
		  runk_error_t *err)
{
	if (proto_pending_add(&conn->pending, id, err) < 0)
		return -1;
	if (write_frame(conn, PROTO_REQUEST, *id, json, len, err) < 0) {
		runk_error_t ignored = NULL;

		proto_pending_take(&conn->pending, *id, &ignored);
		runk_error_free(&ignored);
		return -1;
	}
	return 0;
}

int agent_send_stdin(struct agent_conn *conn, uint32_t stream, const void *data, size_t len,
		     runk_error_t *err)
{
	return write_frame(conn, PROTO_STDIN, stream, data, len, err);
}

void agent_close(struct agent_conn *conn)
{
	if (conn->fd >= 0)
		close(conn->fd);
	conn->fd = -1;
	proto_decoder_free(&conn->decoder);
}
