/* The shim's stdio relay: host descriptors <-> STDIN/STDOUT/STDERR frames, one stream per process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "shim-internal.h"
#include "util.h"

struct shim_stream *shim_stream_alloc(struct shim *s, size_t *slot, runk_error_t *err)
{
	/* Slot 0 is the init's; execs take the others. */
	for (size_t i = 1; i < SHIM_MAX_STREAMS; i++) {
		struct shim_stream *st = &s->streams[i];

		if (st->used)
			continue;
		*st = (struct shim_stream){
			.used = true,
			.id = s->next_stream_id++,
			.in_fd = -1,
			.out_fd = -1,
			.err_fd = -1,
			.conn_fd = -1,
			.member = -1,
		};
		*slot = i;
		return st;
	}
	runk_error(err, "too many processes being executed in the container (at most %d)",
		   SHIM_MAX_STREAMS - 1);
	return NULL;
}

struct shim_stream *shim_stream_by_id(struct shim *s, uint32_t id, size_t *slot)
{
	for (size_t i = 0; i < SHIM_MAX_STREAMS; i++) {
		if (s->streams[i].used && s->streams[i].id == id) {
			if (slot)
				*slot = i;
			return &s->streams[i];
		}
	}
	return NULL;
}

int shim_stream_output(struct shim *s, const struct proto_frame *frame, runk_error_t *err)
{
	struct shim_stream *st = shim_stream_by_id(s, frame->id, NULL);
	int fd;

	if (st == NULL) {
		/* Ids we never handed out are a hostile guest; a finished exec's late bytes are
		 * not. */
		if (frame->id >= s->next_stream_id)
			return runk_error(err, "output for unknown stream %u", frame->id);
		return 0;
	}
	if (frame->len == 0)
		return 0; /* EOF: the exit event that follows ends the stream */
	fd = frame->type == PROTO_STDOUT ? st->out_fd : st->err_fd;
	/* A reader that went away (EPIPE) loses the output, as it would with runc. */
	if (fd >= 0)
		write_all(fd, frame->payload, frame->len);
	return 0;
}

int shim_stream_relay_input(struct shim *s, size_t slot, runk_error_t *err)
{
	struct shim_stream *st = &s->streams[slot];
	char buf[65536];
	ssize_t n = read(st->in_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n > 0)
		return agent_send_stdin(&s->agent, st->id, buf, (size_t)n, err);
	/* EOF, or a terminal whose other side closed (EIO): the process's stdin ends. */
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, st->in_fd, NULL);
	/* The init's stdin is the shim's own; a tty's is also its output: keep those open. */
	if (slot != 0 && st->in_fd != st->out_fd)
		close(st->in_fd);
	st->in_fd = -1;
	/* A terminal's stdin has no EOF of its own: the pty stays open for output. */
	if (st->tty)
		return 0;
	return agent_send_stdin(&s->agent, st->id, NULL, 0, err);
}

/*
 * Start relaying a stream's stdin.  What epoll refuses (/dev/null, a regular
 * file) is read to its end at once; anything else is relayed as it comes.
 */
int shim_stream_watch_input(struct shim *s, size_t slot, runk_error_t *err)
{
	struct shim_stream *st = &s->streams[slot];

	if (st->in_fd < 0 || fcntl(st->in_fd, F_GETFL) < 0) {
		st->in_fd = -1;
		return st->tty ? 0 : agent_send_stdin(&s->agent, st->id, NULL, 0, err);
	}
	if (shim_epoll_add(s, st->in_fd, SHIM_EVENT(SOURCE_STREAM_IN, slot), NULL) == 0)
		return 0;
	if (errno != EPERM)
		return runk_error_errno(err, errno, "watch the stdin of stream %u", st->id);
	while (st->in_fd >= 0) {
		char buf[65536];
		ssize_t n = read(st->in_fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* As at EOF in shim_stream_relay_input: an exec's own stdin is closed. */
			if (slot != 0 && st->in_fd != st->out_fd && st->in_fd != st->err_fd)
				close(st->in_fd);
			st->in_fd = -1;
			n = 0;
		}
		if (agent_send_stdin(&s->agent, st->id, buf, (size_t)n, err) < 0)
			return -1;
	}
	return 0;
}

int shim_stream_resize(struct shim *s, size_t slot, unsigned int rows, unsigned int cols, bool wait,
		       runk_error_t *err)
{
	struct proto_json *json =
		shim_request_for(shim_stream_container(s, &s->streams[slot]), "resize");

	proto_json_add_int(json, "stream", s->streams[slot].id);
	proto_json_add_int(json, "rows", rows);
	proto_json_add_int(json, "cols", cols);
	return shim_request_send(s, json, NULL, wait, err);
}

void shim_stream_follow_size(struct shim *s, size_t slot)
{
	struct shim_stream *st = &s->streams[slot];
	cleanup_error runk_error_t err = NULL;
	struct winsize ws;

	if (!st->used || !st->tty || ioctl(st->out_fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 ||
	    ws.ws_col == 0)
		return;
	if (shim_stream_resize(s, slot, ws.ws_row, ws.ws_col, false, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_warning("resize the terminal of stream %u: %s", st->id, text);
	}
}

void shim_send_exit(int fd, int code, int signo)
{
	char event[96];

	if (fd < 0)
		return;
	snprintf(event, sizeof(event), "{\"event\":\"exit\",\"status\":%d,\"signal\":%d}", code,
		 signo);
	send(fd, event, strlen(event), MSG_NOSIGNAL);
}

void shim_stream_exited(struct shim *s, size_t slot, int code, int signo)
{
	struct shim_stream *st = &s->streams[slot];

	if (st->member_init)
		shim_pod_member_exited(s, slot, code, signo);
	shim_send_exit(st->conn_fd, code, signo);
	shim_stream_release(s, slot);
}

void shim_stream_release(struct shim *s, size_t slot)
{
	struct shim_stream *st = &s->streams[slot];
	int fds[] = {st->in_fd, st->out_fd, st->err_fd, st->conn_fd};

	/* The init's descriptors are the shim's own stdio: only an exec's are closed. */
	if (slot != 0) {
		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
			if (fds[i] < 0)
				continue;
			epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, fds[i], NULL);
			/* in, out and err may be one descriptor (a pty): close it once. */
			for (size_t j = i + 1; j < sizeof(fds) / sizeof(fds[0]); j++)
				if (fds[j] == fds[i])
					fds[j] = -1;
			close(fds[i]);
		}
	}
	free(st->deferred);
	memset(st, 0, sizeof(*st));
}
