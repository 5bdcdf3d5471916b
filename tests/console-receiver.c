/* console-receiver: the other end of a runc-style --console-socket, for the bats tests.
 *
 *   console-receiver SOCKET [--output FILE] [--timeout SECONDS]
 *                    [--expect TEXT | --send TEXT | --resize ROWS COLS]...
 *
 * Listens on the unix socket SOCKET, accepts one connection and receives one
 * file descriptor with SCM_RIGHTS (the pty master a runtime sends).  Everything
 * read from the master is copied to FILE (or stdout) as it arrives.  The
 * --expect/--send/--resize steps run in the order given: --expect waits until
 * TEXT appears in the output after the previous match, --send writes TEXT to
 * the master (the terminal's input), --resize sets the master's window size
 * with TIOCSWINSZ.  After the last step it copies until the slave side is
 * closed (EIO or EOF on the master).
 *
 * Exit status: 0 when every step ran and the terminal closed; 2 for a usage or
 * system error; 3 on timeout (default 60 s, for the whole run); 4 when the
 * terminal closed before every --expect matched.  The socket file is removed
 * on exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum step_kind { STEP_EXPECT, STEP_SEND, STEP_RESIZE };

struct step {
	enum step_kind kind;
	const char *text;
	unsigned short rows, cols;
};

static const char *socket_path;
static char *seen;
static size_t seen_len, seen_cap;

static void die(const char *what)
{
	fprintf(stderr, "console-receiver: %s: %s\n", what, strerror(errno));
	if (socket_path)
		unlink(socket_path);
	exit(2);
}

static void usage(void)
{
	fprintf(stderr, "usage: console-receiver SOCKET [--output FILE] [--timeout SECONDS]\n"
			"       [--expect TEXT | --send TEXT | --resize ROWS COLS]...\n");
	exit(2);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for POLLIN on fd until the deadline; 0 on timeout. */
static int wait_readable(int fd, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n;

		if (left <= 0)
			return 0;
		n = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("poll");
		if (n > 0)
			return 1;
	}
}

static void write_all(int fd, const char *buf, size_t len, const char *what)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(what);
		buf += n;
		len -= (size_t)n;
	}
}

static int receive_fd(int conn)
{
	char name[256];
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *cmsg;
	int fd = -1;

	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0)
		die("recvmsg");
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
		    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	}
	if (fd < 0) {
		fprintf(stderr, "console-receiver: no file descriptor in the message\n");
		unlink(socket_path);
		exit(2);
	}
	if (!isatty(fd)) {
		fprintf(stderr, "console-receiver: the descriptor received is not a terminal\n");
		unlink(socket_path);
		exit(2);
	}
	return fd;
}

static void remember(const char *buf, size_t len)
{
	if (seen_len + len + 1 > seen_cap) {
		seen_cap = (seen_len + len + 1) * 2;
		seen = realloc(seen, seen_cap);
		if (!seen)
			die("realloc");
	}
	memcpy(seen + seen_len, buf, len);
	seen_len += len;
	seen[seen_len] = '\0';
}

int main(int argc, char **argv)
{
	struct step *steps;
	size_t nsteps = 0, cur = 0, mark = 0;
	const char *output = NULL;
	long timeout = 60;
	long long deadline;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int lsock, conn, master, out = STDOUT_FILENO;
	int i;

	if (argc < 2 || argv[1][0] == '-')
		usage();
	steps = calloc((size_t)argc, sizeof(*steps));
	if (!steps)
		die("calloc");
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--output") && i + 1 < argc) {
			output = argv[++i];
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			timeout = strtol(argv[++i], NULL, 10);
			if (timeout <= 0)
				usage();
		} else if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
			steps[nsteps++] = (struct step){.kind = STEP_EXPECT, .text = argv[++i]};
		} else if (!strcmp(argv[i], "--send") && i + 1 < argc) {
			steps[nsteps++] = (struct step){.kind = STEP_SEND, .text = argv[++i]};
		} else if (!strcmp(argv[i], "--resize") && i + 2 < argc) {
			long rows = strtol(argv[i + 1], NULL, 10),
			     cols = strtol(argv[i + 2], NULL, 10);

			if (rows <= 0 || rows > 65535 || cols <= 0 || cols > 65535)
				usage();
			steps[nsteps++] = (struct step){.kind = STEP_RESIZE,
							.rows = (unsigned short)rows,
							.cols = (unsigned short)cols};
			i += 2;
		} else {
			usage();
		}
	}
	deadline = now_ms() + timeout * 1000;

	if (strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "console-receiver: socket path too long\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0)
		die("socket");
	if (bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die(argv[1]);
	socket_path = argv[1];
	if (listen(lsock, 1) < 0)
		die("listen");
	if (output) {
		out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out < 0)
			die(output);
	}

	if (!wait_readable(lsock, deadline)) {
		fprintf(stderr, "console-receiver: timed out waiting for a connection\n");
		unlink(socket_path);
		return 3;
	}
	conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		die("accept");
	master = receive_fd(conn);
	close(conn);
	close(lsock);
	unlink(socket_path);

	for (;;) {
		char buf[4096];
		ssize_t n;

		while (cur < nsteps) {
			struct step *s = &steps[cur];

			if (s->kind == STEP_SEND) {
				write_all(master, s->text, strlen(s->text), "write to the master");
			} else if (s->kind == STEP_RESIZE) {
				struct winsize ws = {.ws_row = s->rows, .ws_col = s->cols};

				if (ioctl(master, TIOCSWINSZ, &ws) < 0)
					die("TIOCSWINSZ");
			} else {
				char *hit = seen ? strstr(seen + mark, s->text) : NULL;

				if (!hit)
					break;
				mark = (size_t)(hit - seen) + strlen(s->text);
			}
			cur++;
		}
		if (!wait_readable(master, deadline)) {
			fprintf(stderr, "console-receiver: timed out%s%s; output so far:\n%s\n",
				cur < nsteps ? " waiting for: " : "",
				cur < nsteps ? steps[cur].text : "", seen ? seen : "");
			return 3;
		}
		n = read(master, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && errno == EIO))
			break;
		if (n < 0)
			die("read from the master");
		/* NUL bytes would hide later text from strstr: store them as '.'. */
		for (ssize_t j = 0; j < n; j++)
			if (buf[j] == '\0')
				buf[j] = '.';
		remember(buf, (size_t)n);
		write_all(out, buf, (size_t)n, "write the output");
	}
	if (cur < nsteps) {
		fprintf(stderr, "console-receiver: the terminal closed before: %s; output:\n%s\n",
			steps[cur].text, seen ? seen : "");
		return 4;
	}
	return 0;
}
