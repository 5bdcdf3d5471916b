/*
 * A process's stdio: STDIN frames -> its stdin pipe; its stdout/stderr
 * pipes -> STDOUT/STDERR frames, each ended by an empty frame at EOF.  The
 * exit EVENT waits for both EOFs so no output follows it.  With a terminal
 * both directions go through the pty master and there is no stderr; EOF on
 * stdin becomes the terminal's EOF character (closing the master would hang
 * the terminal up and lose the output).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"

#define OUTPUT_READ_SIZE (64 * 1024)
/* Input the process has not read yet; past this the host is flooding us. */
#define STDIN_QUEUE_MAX (16 * 1024 * 1024)

void io_close_stdin(struct agent *agent, struct proc *p)
{
	if (p->in.fd < 0)
		return;
	if (p->in.watching)
		agent_unwatch(agent, p->in.fd);
	close(p->in.fd);
	p->in.fd = -1;
	p->in.watching = false;
	free(p->in.buf);
	p->in.buf = NULL;
	p->in.len = 0;
}

/* The EOF character, which a reader in canonical mode sees as the end of its input. */
static void tty_send_eof(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0 || !(t.c_lflag & ICANON) || t.c_cc[VEOF] == _POSIX_VDISABLE)
		return;
	if (write(fd, &t.c_cc[VEOF], 1) < 0)
		log_info("pty: EOF character not written: %s", strerror(errno));
}

/* Write what the pipe takes now; watch for room if some is left. */
static void stdin_flush(struct agent *agent, struct proc *p)
{
	struct in_stream *in = &p->in;
	cleanup_error runk_error_t err = NULL;

	while (in->len > 0) {
		ssize_t n = write(in->fd, in->buf, in->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* EPIPE: the process closed its stdin; what is left has no reader. */
			io_close_stdin(agent, p);
			return;
		}
		memmove(in->buf, in->buf + n, in->len - (size_t)n);
		in->len -= (size_t)n;
	}
	if (in->len == 0 && in->eof) {
		if (p->tty_fd >= 0)
			tty_send_eof(p->tty_fd);
		io_close_stdin(agent, p);
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
	struct proc *p = proc_find_stream(agent, frame->id);
	struct in_stream *in;
	uint8_t *buf;

	if (p == NULL) {
		log_error("STDIN for unknown stream %u dropped", frame->id);
		return;
	}
	in = &p->in;
	if (in->fd < 0 || in->eof)
		return; /* stdin already closed: nothing will read it */
	if (frame->len == 0) {
		in->eof = true;
		stdin_flush(agent, p);
		return;
	}
	if (in->len + frame->len > STDIN_QUEUE_MAX) {
		log_error("stdin of stream %u: queue full, %u bytes dropped", p->stream,
			  frame->len);
		return;
	}
	buf = realloc(in->buf, in->len + frame->len);
	if (buf == NULL) {
		log_error("stdin of stream %u: out of memory, %u bytes dropped", p->stream,
			  frame->len);
		return;
	}
	memcpy(buf + in->len, frame->payload, frame->len);
	in->buf = buf;
	in->len += frame->len;
	stdin_flush(agent, p);
}

void io_stdin_writable(struct agent *agent, struct proc *p)
{
	if (p->in.fd >= 0)
		stdin_flush(agent, p);
}

void io_output_ready(struct agent *agent, struct proc *p, struct out_stream *s, unsigned int type)
{
	static uint8_t buf[OUTPUT_READ_SIZE];
	ssize_t n;

	if (s->fd < 0)
		return;
	n = read(s->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		agent_send(agent, type, p->stream, buf, (size_t)n);
		return;
	}
	/* EOF (or a broken pipe): tell the host, then maybe the exit. */
	agent_unwatch(agent, s->fd);
	close(s->fd);
	s->fd = -1;
	agent_send(agent, type, p->stream, NULL, 0);
	proc_maybe_report_exit(agent, p);
}
