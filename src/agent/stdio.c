/*
 * A new process's stdio: three pipes, or a pty allocated in the guest's
 * /dev/pts whose slave becomes the process's controlling terminal.  The
 * process only inherits the slave fd, so the container's own devpts
 * instance does not matter.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
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
	/* With a tty the three are the same fd: close it once. */
	if (s->tty >= 0) {
		fd_close(&s->child[0]);
		s->child[1] = s->child[2] = -1;
		return;
	}
	for (int i = 0; i < 3; i++)
		fd_close(&s->child[i]);
}

void stdio_close(struct stdio_fds *s)
{
	stdio_close_child(s);
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

static int pty_open(struct stdio_fds *s, const struct oci_box *size, runk_error_t *err)
{
	char name[64];

	s->tty = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->tty < 0)
		return runk_error_errno(err, errno, "posix_openpt");
	if (grantpt(s->tty) < 0 || unlockpt(s->tty) < 0 || ptsname_r(s->tty, name, sizeof(name)))
		return runk_error_errno(err, errno, "unlock the pty");
	s->child[0] = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->child[0] < 0)
		return runk_error_errno(err, errno, "open the pty slave %s", name);
	s->child[1] = s->child[2] = s->child[0];
	/* epoll takes one registration per fd: one dup to write into, one to read from. */
	s->in = fcntl(s->tty, F_DUPFD_CLOEXEC, 3);
	s->out = fcntl(s->tty, F_DUPFD_CLOEXEC, 3);
	if (s->in < 0 || s->out < 0)
		return runk_error_errno(err, errno, "dup the pty master");
	if (size && size->height > 0 && size->width > 0 &&
	    tty_resize(s->tty, size->height > 65535 ? 65535 : (unsigned int)size->height,
		       size->width > 65535 ? 65535 : (unsigned int)size->width, err) < 0)
		return -1;
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

int stdio_open(struct stdio_fds *s, bool terminal, const struct oci_box *size, runk_error_t *err)
{
	int ret;

	*s = (struct stdio_fds){.child = {-1, -1, -1}, .in = -1, .out = -1, .err = -1, .tty = -1};
	ret = terminal ? pty_open(s, size, err) : pipes_open(s, err);
	if (ret < 0)
		stdio_close(s);
	return ret;
}

void stdio_give(struct stdio_fds *s, struct proc *p)
{
	p->in.fd = s->in;
	p->out.fd = s->out;
	p->err.fd = s->err;
	p->tty_fd = s->tty;
	s->in = s->out = s->err = s->tty = -1;
}

int stdio_child_setup(const struct stdio_fds *s, runk_error_t *err)
{
	if (setsid() < 0)
		return runk_error_errno(err, errno, "setsid");
	if (s->tty >= 0 && ioctl(s->child[0], TIOCSCTTY, 0) < 0)
		return runk_error_errno(err, errno, "make the pty the controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(s->child[i], i) < 0)
			return runk_error_errno(err, errno, "dup2 stdio");
	return 0;
}
