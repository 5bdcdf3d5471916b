/*
 * A container's stdio: STDIN frames -> its stdin pipe; its stdout/stderr
 * pipes -> STDOUT/STDERR frames, each ended by an empty frame at EOF.  The
 * exit EVENT waits for both EOFs so no output follows it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "agent.h"

#define OUTPUT_READ_SIZE (64 * 1024)
/* Input the process has not read yet; past this the host is flooding us. */
#define STDIN_QUEUE_MAX (16 * 1024 * 1024)

void io_close_stdin(struct agent *agent, struct container *c)
{
	if (c->in.fd < 0)
		return;
	if (c->in.watching)
		agent_unwatch(agent, c->in.fd);
	close(c->in.fd);
	c->in.fd = -1;
	c->in.watching = false;
	free(c->in.buf);
	c->in.buf = NULL;
	c->in.len = 0;
}

/* Write what the pipe takes now; watch for room if some is left. */
static void stdin_flush(struct agent *agent, struct container *c)
{
	struct in_stream *in = &c->in;
	cleanup_error runk_error_t err = NULL;

	while (in->len > 0) {
		ssize_t n = write(in->fd, in->buf, in->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* EPIPE: the process closed its stdin; what is left has no reader. */
			io_close_stdin(agent, c);
			return;
		}
		memmove(in->buf, in->buf + n, in->len - (size_t)n);
		in->len -= (size_t)n;
	}
	if (in->len == 0 && in->eof) {
		io_close_stdin(agent, c);
		return;
	}
	if (in->len > 0 && !in->watching) {
		if (agent_watch(agent, in->fd, EPOLLOUT, &in->watch, &err) < 0)
			agent_log_err("stdin", err);
		else
			in->watching = true;
	} else if (in->len == 0 && in->watching) {
		agent_unwatch(agent, in->fd);
		in->watching = false;
	}
}

void io_stdin_frame(struct agent *agent, const struct proto_frame *frame)
{
	struct container *c = container_find_stream(agent, frame->id);
	struct in_stream *in;
	uint8_t *buf;

	if (c == NULL) {
		log_error("STDIN for unknown stream %u dropped", frame->id);
		return;
	}
	in = &c->in;
	if (in->fd < 0 || in->eof)
		return; /* stdin already closed: nothing will read it */
	if (frame->len == 0) {
		in->eof = true;
		stdin_flush(agent, c);
		return;
	}
	if (in->len + frame->len > STDIN_QUEUE_MAX) {
		log_error("stdin of %s: queue full, %u bytes dropped", c->id, frame->len);
		return;
	}
	buf = realloc(in->buf, in->len + frame->len);
	if (buf == NULL) {
		log_error("stdin of %s: out of memory, %u bytes dropped", c->id, frame->len);
		return;
	}
	memcpy(buf + in->len, frame->payload, frame->len);
	in->buf = buf;
	in->len += frame->len;
	stdin_flush(agent, c);
}

void io_stdin_writable(struct agent *agent, struct container *c)
{
	if (c->in.fd >= 0)
		stdin_flush(agent, c);
}

void io_output_ready(struct agent *agent, struct container *c, struct out_stream *s,
		     unsigned int type)
{
	static uint8_t buf[OUTPUT_READ_SIZE];
	ssize_t n;

	if (s->fd < 0)
		return;
	n = read(s->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		agent_send(agent, type, c->stream, buf, (size_t)n);
		return;
	}
	/* EOF (or a broken pipe): tell the host, then maybe the exit. */
	agent_unwatch(agent, s->fd);
	close(s->fd);
	s->fd = -1;
	agent_send(agent, type, c->stream, NULL, 0);
	container_maybe_report_exit(agent, c);
}
