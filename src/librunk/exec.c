#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cleanup.h"
#include "console.h"
#include "exec.h"
#include "log.h"
#include "proto.h"
#include "shimctl.h"
#include "state.h"
#include "util.h"

static void send_resize(int conn, int tty_fd)
{
	struct winsize ws;
	char msg[96];

	if (tty_fd < 0 || ioctl(tty_fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
		return;
	snprintf(msg, sizeof(msg), "{\"op\":\"resize\",\"rows\":%u,\"cols\":%u}", ws.ws_row,
		 ws.ws_col);
	shimctl_send(conn, msg, NULL, 0, NULL);
}

int exec_wait_exit(int conn, int tty_fd, int *code, int *signo, runk_error_t *err)
{
	cleanup_close int sfd = -1;
	sigset_t set;

	forwarded_signals_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return runk_error_errno(err, errno, "signalfd");
	send_resize(conn, tty_fd);
	for (;;) {
		struct pollfd fds[2] = {{.fd = conn, .events = POLLIN},
					{.fd = sfd, .events = POLLIN}};
		struct signalfd_siginfo info;
		yajl_val msg = NULL;
		const char *event = NULL;
		long long c = 0, s = 0;
		int ret;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return runk_error_errno(err, errno, "poll");
		}
		if (fds[1].revents && read(sfd, &info, sizeof(info)) == sizeof(info)) {
			char request[64];

			if (info.ssi_signo == SIGWINCH && tty_fd >= 0) {
				send_resize(conn, tty_fd);
				continue;
			}
			snprintf(request, sizeof(request), "{\"op\":\"signal\",\"signal\":%u}",
				 info.ssi_signo);
			shimctl_send(conn, request, NULL, 0, NULL);
			continue;
		}
		if (!fds[0].revents)
			continue;
		ret = shimctl_recv(conn, -1, false, &msg, err);
		if (ret < 0)
			return -1;
		if (ret == 0)
			return runk_error(err, "the container's shim went away before the process "
					       "exited");
		if (proto_json_get_string(msg, "event", &event, NULL) == 0 &&
		    strcmp(event, "exit") == 0 &&
		    proto_json_get_int(msg, "status", 0, 255, &c, err) == 0 &&
		    proto_json_get_int(msg, "signal", 0, NSIG - 1, &s, err) == 0) {
			yajl_tree_free(msg);
			*code = (int)c;
			*signo = (int)s;
			return 0;
		}
		yajl_tree_free(msg);
	}
}

/* The detached exec-shim: waits for the process and dies the way it did. */
__attribute__((noreturn)) static void exec_shim(int conn, int console)
{
	cleanup_error runk_error_t err = NULL;
	int code = 255, signo = 0;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	prctl(PR_SET_NAME, "runk-exec");
	setsid();
	/* Holding the console as controlling terminal brings SIGWINCH when it is resized. */
	if (console >= 0)
		ioctl(console, TIOCSCTTY, 0);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	if (exec_wait_exit(conn, console, &code, &signo, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_error("exec: %s", text);
	}
	exit_like(code, signo);
}

static int send_exec(int conn, const struct exec_options *o, const int fds[3], runk_error_t *err)
{
	struct proto_json *json = proto_json_new();
	cleanup_free char *request = NULL;
	size_t len;
	yajl_val reply = NULL;
	int ret;

	proto_json_add_string(json, "op", "exec");
	proto_json_add_string(json, "process", o->process_json);
	proto_json_add_bool(json, "tty", o->tty);
	proto_json_add_bool(json, "ignore_paused", o->ignore_paused);
	if (proto_json_finish(json, &request, &len, err) < 0)
		return -1;
	if (len > SHIMCTL_MAX_MESSAGE)
		return runk_error(err, "the process description is too large");
	if (shimctl_send(conn, request, fds, 3, err) < 0)
		return -1;
	ret = shimctl_recv(conn, SHIMCTL_TIMEOUT_MS, true, &reply, err);
	if (ret == 0)
		return runk_error(err, "the container's shim closed the connection");
	yajl_tree_free(reply);
	return ret < 0 ? -1 : 0;
}

int container_exec(const struct runk_context *ctx, const struct exec_options *o, runk_error_t *err)
{
	struct runk_state st __attribute__((cleanup(state_release))) = {0};
	cleanup_free char *dir = NULL;
	cleanup_close int conn = -1, console = -1;
	int fds[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
	int code = 0, signo = 0, ret;
	pid_t child;

	if (state_load(ctx->root, o->id, &st, &dir, err) < 0)
		return -1;
	if (!state_shim_alive(&st))
		return runk_error(err, "cannot exec in a stopped container");
	if (o->tty && o->console_socket) {
		console = console_send_master(o->console_socket, err);
		if (console < 0)
			return -1;
		fds[0] = fds[1] = fds[2] = console;
	} else if (o->tty && o->detach) {
		return runk_error(err, "cannot allocate a terminal for a detached exec without "
				       "--console-socket");
	}
	conn = shimctl_connect(dir, err);
	if (conn < 0 || send_exec(conn, o, fds, err) < 0)
		return -1;

	if (o->detach) {
		child = fork();
		if (child < 0)
			return runk_error_errno(err, errno, "fork the exec shim");
		if (child == 0)
			exec_shim(conn, console);
		if (o->pid_file) {
			char text[32];
			int len = snprintf(text, sizeof(text), "%d", child);

			return write_file_atomic(o->pid_file, text, (size_t)len, 0644, err);
		}
		return 0;
	}
	if (o->tty && console < 0)
		console_make_raw(STDIN_FILENO);
	/*
	 * A resize of the console's master sends SIGWINCH only to the terminal's
	 * session: become it, as the detached exec-shim does.  (setsid fails for a
	 * process group leader; then resizes after the first are not followed.)
	 */
	if (console >= 0 && setsid() >= 0)
		ioctl(console, TIOCSCTTY, 0);
	ret = exec_wait_exit(conn, console >= 0 ? console : (o->tty ? STDIN_FILENO : -1), &code,
			     &signo, err);
	console_restore();
	if (ret < 0)
		return -1;
	return signo > 0 ? 128 + signo : code;
}
