/*
 * A new process's stdio: three pipes, or a pty.  The pty is made by the
 * process itself once it is inside the container's mounts, from the
 * container's /dev/pts/ptmx, so the slave is /dev/pts/N of the container's
 * own devpts instance (`tty` names it, as under runc).  The process makes it
 * its controlling terminal and sends the master to the agent over a socket
 * pair (SCM_RIGHTS), as runc sends one to a console socket.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"
#include "ocispec.h"

static void fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void stdio_close_child(struct stdio_fds *s)
{
	for (int i = 0; i < 3; i++)
		fd_close(&s->child[i]);
	fd_close(&s->sock[1]);
}

void stdio_close(struct stdio_fds *s)
{
	stdio_close_child(s);
	fd_close(&s->sock[0]);
	fd_close(&s->in);
	fd_close(&s->out);
	fd_close(&s->err);
	fd_close(&s->tty);
}

int tty_resize(int fd, unsigned int rows, unsigned int cols, runk_error_t *err)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};

	if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
		return runk_error_errno(err, errno, "TIOCSWINSZ");
	return 0;
}

static int pipes_open(struct stdio_fds *s, runk_error_t *err)
{
	int fds[2];

	for (int i = 0; i < 3; i++) {
		if (pipe2(fds, O_CLOEXEC) < 0)
			return runk_error_errno(err, errno, "pipe");
		/* stdin: the child reads; stdout, stderr: the agent reads. */
		s->child[i] = i == 0 ? fds[0] : fds[1];
		*(i == 0 ? &s->in : i == 1 ? &s->out : &s->err) = i == 0 ? fds[1] : fds[0];
	}
	return 0;
}

static unsigned int clamp_size(uint64_t v)
{
	return v > 65535 ? 65535 : (unsigned int)v;
}

int stdio_open(struct stdio_fds *s, const struct oci_process *process, runk_error_t *err)
{
	const struct oci_box *size = process->console_size;

	*s = (struct stdio_fds){.child = {-1, -1, -1},
				.sock = {-1, -1},
				.in = -1,
				.out = -1,
				.err = -1,
				.tty = -1,
				.terminal = process->terminal};
	if (!process->terminal) {
		if (pipes_open(s, err) < 0) {
			stdio_close(s);
			return -1;
		}
		return 0;
	}
	if (size && size->height > 0 && size->width > 0) {
		s->rows = clamp_size(size->height);
		s->cols = clamp_size(size->width);
	}
	if (process->user) {
		s->uid = process->user->uid;
		s->gid = process->user->gid;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->sock) < 0)
		return runk_error_errno(err, errno, "socketpair");
	return 0;
}

int stdio_receive(struct stdio_fds *s, runk_error_t *err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;

	if (!s->terminal)
		return 0;
	/* The child sent it before it reported success: it is queued, never waited for. */
	if (recvmsg(s->sock[0], &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
		return runk_error_errno(err, errno, "receive the pty master");
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
		return runk_error(err, "no pty master in the message");
	memcpy(&s->tty, CMSG_DATA(cmsg), sizeof(int));
	fd_close(&s->sock[0]);
	/* epoll takes one registration per fd: one dup to write into, one to read from. */
	s->in = fcntl(s->tty, F_DUPFD_CLOEXEC, 3);
	s->out = fcntl(s->tty, F_DUPFD_CLOEXEC, 3);
	if (s->in < 0 || s->out < 0)
		return runk_error_errno(err, errno, "dup the pty master");
	return 0;
}

void stdio_give(struct stdio_fds *s, struct proc *p)
{
	p->in.fd = s->in;
	p->out.fd = s->out;
	p->err.fd = s->err;
	p->tty_fd = s->tty;
	s->in = s->out = s->err = s->tty = -1;
}

static int send_fd(int sock, int fd, runk_error_t *err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	char byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;

	memset(&control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != 1)
		return runk_error_errno(err, errno, "send the pty master");
	return 0;
}

/* The pty, from the container's devpts; the slave becomes fds 0-2 and the controlling tty. */
static int child_pty(const struct stdio_fds *s, runk_error_t *err)
{
	int master, slave;

	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return runk_error_errno(err, errno,
					"terminal: open /dev/pts/ptmx in the container");
	if (unlockpt(master) < 0)
		return runk_error_errno(err, errno, "terminal: unlockpt");
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0)
		return runk_error_errno(err, errno, "terminal: open the pty slave");
	/* The process's user owns its terminal, as with runc. */
	if (fchown(slave, s->uid, s->gid) < 0)
		return runk_error_errno(err, errno, "terminal: chown the pty slave");
	if (s->rows && tty_resize(master, s->rows, s->cols, err) < 0)
		return -1;
	/* The init's terminal is also the container's /dev/console, as with runc. */
	if (s->console) {
		char source[64];

		snprintf(source, sizeof(source), "/proc/self/fd/%d", slave);
		if (mount(source, "/dev/console", NULL, MS_BIND, NULL) < 0 && errno != ENOENT)
			return runk_error_errno(err, errno, "terminal: bind it on /dev/console");
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return runk_error_errno(err, errno, "terminal: make it the controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return runk_error_errno(err, errno, "dup2 the pty slave");
	if (slave > 2)
		close(slave);
	if (send_fd(s->sock[1], master, err) < 0)
		return -1;
	close(master);
	return 0;
}

int stdio_child_setup(const struct stdio_fds *s, runk_error_t *err)
{
	if (setsid() < 0)
		return runk_error_errno(err, errno, "setsid");
	if (s->terminal)
		return child_pty(s, err);
	for (int i = 0; i < 3; i++)
		if (dup2(s->child[i], i) < 0)
			return runk_error_errno(err, errno, "dup2 stdio");
	return 0;
}
