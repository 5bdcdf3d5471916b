#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "console.h"
#include "util.h"

static int send_fd(int sock, int fd, const char *name, runk_error_t *err)
{
	char control[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return runk_error_errno(err, errno, "send the console to the console socket");
	return 0;
}

int console_send_master(const char *socket_path, runk_error_t *err)
{
	struct sockaddr_un addr;
	cleanup_close int master = -1, slave = -1, sock = -1, dir_fd = -1;
	struct termios tio;
	char *name;

	if (unix_sockaddr(socket_path, &addr, &dir_fd, err) < 0)
		return runk_error_prefix(err, "the console socket");
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return runk_error_errno(err, errno, "open a pty");
	if (grantpt(master) < 0 || unlockpt(master) < 0 || (name = ptsname(master)) == NULL)
		return runk_error_errno(err, errno, "set up the pty");
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return runk_error_errno(err, errno, "open the pty slave `%s`", name);
	/*
	 * The guest has its own pty with the line discipline (echo, ^C); this one
	 * only carries bytes, or everything would be echoed twice.
	 */
	if (tcgetattr(slave, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(slave, TCSANOW, &tio);
	}
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return runk_error_errno(err, errno, "socket");
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return runk_error_errno(err, errno, "connect to the console socket `%s`",
					socket_path);
	if (send_fd(sock, master, name, err) < 0)
		return -1;
	return steal_fd(&slave);
}

static struct termios raw_saved;
static int raw_fd = -1;

bool console_make_raw(int fd)
{
	struct termios raw;

	if (raw_fd >= 0 || !isatty(fd) || tcgetattr(fd, &raw_saved) < 0)
		return false;
	raw = raw_saved;
	cfmakeraw(&raw);
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return false;
	raw_fd = fd;
	return true;
}

void console_restore(void)
{
	if (raw_fd < 0)
		return;
	tcsetattr(raw_fd, TCSANOW, &raw_saved);
	raw_fd = -1;
}
