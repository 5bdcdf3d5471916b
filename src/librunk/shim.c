#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "hypervisor/hypervisor.h"
#include "log.h"
#include "shim.h"
#include "shimctl.h"
#include "state.h"
#include "util.h"

enum shim_status {
	SHIM_BOOTING,
	SHIM_CREATED,
	SHIM_RUNNING,
	SHIM_STOPPED,
};

static const char *const status_names[] = {
	[SHIM_BOOTING] = "creating",
	[SHIM_CREATED] = "created",
	[SHIM_RUNNING] = "running",
	[SHIM_STOPPED] = "stopped",
};

/* What an epoll event is about. */
enum source {
	SOURCE_AGENT = 1,
	SOURCE_QEMU,
	SOURCE_SIGNAL,
	SOURCE_CONTROL,
	SOURCE_STDIN,
};

/* Signals a shim passes on to the container, as runc's init would receive them. */
static const int forwarded_signals[] = {SIGTERM, SIGINT,   SIGHUP,  SIGQUIT, SIGUSR1,
					SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIGPWR};

struct shim {
	const struct shim_options *opts;
	struct vm *vm;
	struct agent_conn agent;
	int epoll_fd;
	int qemu_fd; /* pidfd of QEMU */
	int signal_fd;
	int control_fd;
	int stdin_fd;
	enum shim_status status;
	bool hello;
	bool qemu_gone;
	/* The one request a caller is waiting for, and its reply when it came. */
	uint32_t awaited_id;
	yajl_val awaited_reply;
	/* The container's init process. */
	bool exited;
	int exit_code;
	int exit_signal;
	bool stdout_eof;
	bool stderr_eof;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Frames from the guest.  The decoder validated the header; payload fields are checked here. */
static int on_exit_event(struct shim *s, struct proto_frame *frame, runk_error_t *err)
{
	yajl_val obj = proto_json_parse(frame->payload, frame->len, err);
	const char *event = NULL;
	long long code = 0, sig = 0;
	int ret = -1;

	if (obj == NULL)
		return -1;
	if (proto_json_get_string(obj, "event", &event, err) < 0)
		goto out;
	if (strcmp(event, "exit") != 0) {
		log_debug("agent event `%s` ignored", event);
		ret = 0;
		goto out;
	}
	if (proto_json_get_int(obj, "status", 0, 255, &code, err) < 0 ||
	    proto_json_get_int(obj, "signal", 0, NSIG - 1, &sig, err) < 0)
		goto out;
	s->exited = true;
	s->exit_code = (int)code;
	s->exit_signal = (int)sig;
	s->status = SHIM_STOPPED;
	log_debug("container %s exited: status %lld signal %lld", s->opts->id, code, sig);
	ret = 0;
out:
	yajl_tree_free(obj);
	return ret;
}

static int on_frame(void *user, struct proto_frame *frame, runk_error_t *err)
{
	struct shim *s = user;

	switch (frame->type) {
	case PROTO_HELLO:
		s->hello = true;
		log_debug("agent hello: %.*s", (int)frame->len, (const char *)frame->payload);
		return 0;
	case PROTO_RESPONSE:
		if (frame->id != s->awaited_id) {
			/* Fire-and-forget requests (forwarded signals): only failures matter. */
			log_debug("agent response %u: %.*s", frame->id, (int)frame->len,
				  (const char *)frame->payload);
			return 0;
		}
		s->awaited_reply = proto_json_parse(frame->payload, frame->len, err);
		return s->awaited_reply ? 0 : -1;
	case PROTO_STDOUT:
	case PROTO_STDERR:
		if (frame->id != SHIM_INIT_STREAM)
			return runk_error(err, "output for unknown stream %u", frame->id);
		if (frame->len == 0) {
			*(frame->type == PROTO_STDOUT ? &s->stdout_eof : &s->stderr_eof) = true;
			return 0;
		}
		/* A reader that went away (EPIPE) loses the output, as it would with runc. */
		write_all(frame->type == PROTO_STDOUT ? STDOUT_FILENO : STDERR_FILENO,
			  frame->payload, frame->len);
		return 0;
	case PROTO_EVENT:
		if (frame->id != SHIM_INIT_STREAM)
			return runk_error(err, "event for unknown stream %u", frame->id);
		return on_exit_event(s, frame, err);
	default:
		return runk_error(err, "unexpected %s frame from the guest",
				  proto_type_name(frame->type));
	}
}

/* QEMU exited (or will within timeout_ms): an error unless the container had already exited. */
static int handle_qemu_exit(struct shim *s, int timeout_ms, runk_error_t *err)
{
	int status = 0;
	cleanup_free char *tail = NULL;
	int ret = vm_wait(s->vm, timeout_ms, &status, err);

	if (ret < 0)
		return -1;
	if (ret == 0)
		return runk_error(err, "the guest closed the agent channel");
	s->qemu_gone = true;
	if (s->exited)
		return 0;
	tail = vm_output_tail(s->vm, 512);
	return runk_error(err, "the VM exited unexpectedly (QEMU status %d)%s%s", status,
			  tail && *tail ? ": " : "", tail ? tail : "");
}

static int handle_agent(struct shim *s, runk_error_t *err)
{
	int ret = agent_read(&s->agent, on_frame, s, err);

	if (ret < 0)
		return -1;
	/* QEMU closes the channel when it dies: report its death, the real cause, if it is dying.
	 */
	if (ret == 1)
		return handle_qemu_exit(s, 2000, err);
	return 0;
}

/*
 * Run the event sources that matter while waiting for the agent (the agent
 * channel and QEMU's death) until done() holds or the timeout passes.
 */
static int pump_agent(struct shim *s, bool (*done)(struct shim *), int timeout_ms, const char *what,
		      runk_error_t *err)
{
	long long deadline = now_ms() + timeout_ms;

	while (!done(s)) {
		struct pollfd fds[2] = {
			{.fd = s->agent.fd, .events = POLLIN},
			{.fd = s->qemu_fd, .events = POLLIN},
		};
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return runk_error(err, "timed out after %d s waiting for %s",
					  timeout_ms / 1000, what);
		n = poll(fds, 2, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return runk_error_errno(err, errno, "poll");
		if (fds[1].revents && handle_qemu_exit(s, 0, err) < 0)
			return -1;
		if (fds[0].revents && handle_agent(s, err) < 0)
			return -1;
	}
	return 0;
}

static bool got_hello(struct shim *s)
{
	return s->hello;
}

static bool got_reply(struct shim *s)
{
	return s->awaited_reply != NULL;
}

/* Send a request and wait for its reply; fails with the guest's error message if it refused. */
static int agent_call(struct shim *s, const char *json, size_t len, yajl_val *reply,
		      runk_error_t *err)
{
	uint32_t id;
	bool ok = false;
	const char *op_error = "unknown error";

	if (agent_request(&s->agent, json, len, &id, err) < 0)
		return -1;
	s->awaited_id = id;
	s->awaited_reply = NULL;
	if (pump_agent(s, got_reply, (int)s->opts->conf->agent_timeout_s * 1000,
		       "the agent's reply", err) < 0) {
		s->awaited_id = 0;
		return -1;
	}
	s->awaited_id = 0;
	if (proto_json_get_bool(s->awaited_reply, "ok", &ok, err) < 0)
		return runk_error_prefix(err, "bad reply from the agent");
	if (!ok) {
		proto_json_get_string(s->awaited_reply, "error", &op_error, NULL);
		runk_error(err, "%s", op_error);
		yajl_tree_free(s->awaited_reply);
		s->awaited_reply = NULL;
		return -1;
	}
	if (reply)
		*reply = s->awaited_reply;
	else
		yajl_tree_free(s->awaited_reply);
	s->awaited_reply = NULL;
	return 0;
}

/* Build a request object with op and the container id; more members may follow. */
static struct proto_json *request_new(struct shim *s, const char *op)
{
	struct proto_json *json = proto_json_new();

	proto_json_add_string(json, "op", op);
	proto_json_add_string(json, "id", s->opts->id);
	return json;
}

static int request_send(struct shim *s, struct proto_json *json, yajl_val *reply, bool wait,
			runk_error_t *err)
{
	cleanup_free char *text = NULL;
	uint32_t id;
	size_t len;

	if (proto_json_finish(json, &text, &len, err) < 0)
		return -1;
	if (wait)
		return agent_call(s, text, len, reply, err);
	return agent_request(&s->agent, text, len, &id, err);
}

static int send_settime(struct shim *s, runk_error_t *err)
{
	struct proto_json *json = proto_json_new();
	struct timespec now;

	/* The guest may start its clock at 1970 (microvm under TCG); give it ours. */
	clock_gettime(CLOCK_REALTIME, &now);
	proto_json_add_string(json, "op", "settime");
	proto_json_add_int(json, "sec", now.tv_sec);
	proto_json_add_int(json, "nsec", now.tv_nsec);
	return request_send(s, json, NULL, true, err);
}

static int signal_container(struct shim *s, int signo, bool all, bool wait, runk_error_t *err)
{
	struct proto_json *json = request_new(s, "signal");

	proto_json_add_int(json, "signal", signo);
	proto_json_add_bool(json, "all", all);
	return request_send(s, json, NULL, wait, err);
}

/*
 * The share holds <id>/config.json and <id>/rootfs, a bind mount of the
 * bundle's rootfs.  It stays writable even for root.readonly: as with runc,
 * missing mount points are created first and the agent makes the container's
 * root read-only afterwards.
 */
static int prepare_share(struct shim *s, runk_error_t *err)
{
	const struct shim_options *o = s->opts;
	cleanup_free char *dir = NULL, *rootfs = NULL, *config = NULL, *data = NULL;
	size_t len;

	/* Mounts made here live in the shim's own namespace and vanish with it and QEMU. */
	if (unshare(CLONE_NEWNS) < 0)
		return runk_error_errno(err, errno, "unshare the mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return runk_error_errno(err, errno, "make / a slave mount");
	if (asprintf(&dir, "%s/%s/%s", o->state_dir, SHARE_DIR, o->id) < 0 ||
	    asprintf(&rootfs, "%s/rootfs", dir) < 0 || asprintf(&config, "%s/config.json", dir) < 0)
		abort();
	if (mkdir_p(rootfs, 0755, err) < 0)
		return -1;
	if (mount(o->rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return runk_error_errno(err, errno, "bind-mount the rootfs `%s`", o->rootfs);
	if (read_file(o->config_path, 16 * 1024 * 1024, &data, &len, err) < 0)
		return -1;
	return write_file_atomic(config, data, len, 0644, err);
}

static int start_vm(struct shim *s, runk_error_t *err)
{
	const struct shim_options *o = s->opts;
	const struct runk_conf *conf = o->conf;
	cleanup_free char *agent = NULL, *qmp = NULL, *share = NULL, *qlog = NULL, *clog = NULL;
	struct vm_config cfg = {0};
	const char *why = NULL;
	enum vm_accel requested;

	if (asprintf(&agent, "%s/%s", o->state_dir, AGENT_SOCKET) < 0 ||
	    asprintf(&qmp, "%s/%s", o->state_dir, QMP_SOCKET) < 0 ||
	    asprintf(&share, "%s/%s", o->state_dir, SHARE_DIR) < 0 ||
	    asprintf(&qlog, "%s/%s", o->state_dir, QEMU_LOG) < 0 ||
	    asprintf(&clog, "%s/%s", o->state_dir, CONSOLE_LOG) < 0)
		abort();
	if (vm_accel_parse(conf->accel, &requested, err) < 0 ||
	    vm_accel_resolve(requested, &cfg.accel, &why, err) < 0)
		return -1;
	log_debug("accelerator: %s (%s)", vm_accel_name(cfg.accel), why ? why : "configured");
	cfg.qemu_path = conf->qemu_path;
	cfg.kernel = conf->kernel;
	cfg.initrd = conf->initrd;
	cfg.kernel_params = conf->kernel_params;
	cfg.name = o->id;
	cfg.vcpus = conf->default_vcpus;
	cfg.memory_mib = conf->default_memory_mib;
	cfg.agent_socket = agent;
	cfg.qmp_socket = qmp;
	cfg.share_dir = share;
	cfg.qemu_log = qlog;
	cfg.console_log = o->debug ? clog : NULL;
	cfg.debug = o->debug;
	cfg.start_timeout_ms = (int)conf->boot_timeout_s * 1000;
	if (access(cfg.kernel, R_OK) < 0)
		return runk_error_errno(err, errno, "guest kernel `%s`", cfg.kernel);
	if (access(cfg.initrd, R_OK) < 0)
		return runk_error_errno(err, errno, "guest initrd `%s`", cfg.initrd);
	if (vm_start(&cfg, &s->vm, err) < 0)
		return -1;
	s->qemu_fd = (int)syscall(SYS_pidfd_open, vm_pid(s->vm), 0);
	if (s->qemu_fd < 0)
		return runk_error_errno(err, errno, "pidfd_open QEMU");
	return agent_connect(agent, 5000, &s->agent, err);
}

static int create_container(struct shim *s, runk_error_t *err)
{
	long long boot_started = now_ms();
	struct proto_json *json;
	yajl_val reply = NULL;
	long long guest_pid = 0;

	if (prepare_share(s, err) < 0 || start_vm(s, err) < 0)
		return -1;
	if (pump_agent(s, got_hello, (int)s->opts->conf->boot_timeout_s * 1000,
		       "the guest agent to start", err) < 0)
		return -1;
	log_debug("VM for %s ready in %lld ms", s->opts->id, now_ms() - boot_started);
	if (send_settime(s, err) < 0)
		return runk_error_prefix(err, "set the guest clock");
	json = request_new(s, "create");
	proto_json_add_int(json, "stream", SHIM_INIT_STREAM);
	if (request_send(s, json, &reply, true, err) < 0)
		return runk_error_prefix(err, "create the container in the VM");
	proto_json_opt_int(reply, "pid", 1, INT_MAX, &guest_pid, NULL);
	yajl_tree_free(reply);
	log_debug("container %s created: guest pid %lld", s->opts->id, guest_pid);
	s->status = SHIM_CREATED;
	return 0;
}

static int epoll_add(struct shim *s, int fd, enum source source, runk_error_t *err)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = source};

	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return runk_error_errno(err, errno, "epoll_ctl");
	return 0;
}

/* Relay the caller's stdin to the container; an empty frame tells the guest it ended. */
static int handle_stdin(struct shim *s, runk_error_t *err)
{
	char buf[65536];
	ssize_t n = read(s->stdin_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, s->stdin_fd, NULL);
		s->stdin_fd = -1;
		return agent_send_stdin(&s->agent, SHIM_INIT_STREAM, NULL, 0, err);
	}
	return agent_send_stdin(&s->agent, SHIM_INIT_STREAM, buf, (size_t)n, err);
}

/*
 * stdin that epoll refuses (/dev/null, a regular file) is read to its end at
 * once; anything else is relayed as it comes.
 */
static int setup_stdin(struct shim *s, runk_error_t *err)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = SOURCE_STDIN};

	s->stdin_fd = STDIN_FILENO;
	if (fcntl(STDIN_FILENO, F_GETFL) < 0) {
		s->stdin_fd = -1;
		return agent_send_stdin(&s->agent, SHIM_INIT_STREAM, NULL, 0, err);
	}
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == 0)
		return 0;
	if (errno != EPERM)
		return runk_error_errno(err, errno, "watch stdin");
	while (s->stdin_fd >= 0) {
		char buf[65536];
		ssize_t n = read(s->stdin_fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			s->stdin_fd = -1;
		if (agent_send_stdin(&s->agent, SHIM_INIT_STREAM, buf, n > 0 ? (size_t)n : 0, err) <
		    0)
			return -1;
	}
	return 0;
}

static void control_reply(int fd, bool ok, const char *key, const char *value)
{
	struct proto_json *json = proto_json_new();
	cleanup_free char *text = NULL;
	size_t len;

	proto_json_add_bool(json, "ok", ok);
	if (key)
		proto_json_add_string(json, key, value);
	if (proto_json_finish(json, &text, &len, NULL) == 0)
		send(fd, text, len, MSG_NOSIGNAL);
}

static int control_start(struct shim *s, runk_error_t *err)
{
	if (s->status != SHIM_CREATED)
		return runk_error(err, "cannot start a container that is %s",
				  status_names[s->status]);
	if (request_send(s, request_new(s, "start"), NULL, true, err) < 0)
		return -1;
	/* An exit event may have arrived while we waited: that status stands. */
	if (s->status == SHIM_CREATED)
		s->status = SHIM_RUNNING;
	return setup_stdin(s, err);
}

static int control_kill(struct shim *s, yajl_val req, runk_error_t *err)
{
	long long signo = SIGTERM;
	bool all = false;

	if (proto_json_get_int(req, "signal", 1, NSIG - 1, &signo, err) < 0 ||
	    proto_json_opt_bool(req, "all", &all, err) < 0)
		return -1;
	if (s->exited)
		return all ? 0 : runk_error(err, "container is not running");
	return signal_container(s, (int)signo, all, true, err);
}

static void handle_control(struct shim *s)
{
	cleanup_close int fd = accept4(s->control_fd, NULL, NULL, SOCK_CLOEXEC);
	cleanup_error runk_error_t err = NULL;
	char buf[SHIMCTL_MAX_MESSAGE];
	const char *op = NULL;
	yajl_val req = NULL;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t n;
	int ret = -1;

	if (fd < 0)
		return;
	/* The client sends its request right after connecting; don't let a silent one stall us. */
	if (poll(&pfd, 1, 1000) <= 0)
		return;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return;
	req = proto_json_parse(buf, (size_t)n, &err);
	if (req != NULL && proto_json_get_string(req, "op", &op, &err) == 0) {
		if (strcmp(op, "status") == 0) {
			control_reply(fd, true, "status", status_names[s->status]);
			yajl_tree_free(req);
			return;
		}
		if (strcmp(op, "start") == 0)
			ret = control_start(s, &err);
		else if (strcmp(op, "kill") == 0)
			ret = control_kill(s, req, &err);
		else
			runk_error(&err, "unknown shim operation `%s`", op);
	}
	yajl_tree_free(req);
	if (ret == 0) {
		control_reply(fd, true, NULL, NULL);
	} else {
		cleanup_free char *text = runk_error_text(err);

		control_reply(fd, false, "error", text);
	}
}

static void handle_signal(struct shim *s)
{
	struct signalfd_siginfo info;
	cleanup_error runk_error_t err = NULL;

	if (read(s->signal_fd, &info, sizeof(info)) != sizeof(info))
		return;
	if (s->exited || s->status == SHIM_BOOTING)
		return;
	log_debug("forwarding signal %u to container %s", info.ssi_signo, s->opts->id);
	if (signal_container(s, (int)info.ssi_signo, false, false, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_warning("forward signal %u: %s", info.ssi_signo, text);
	}
}

static int setup_loop(struct shim *s, runk_error_t *err)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaddset(&set, forwarded_signals[i]);
	s->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->signal_fd < 0)
		return runk_error_errno(err, errno, "signalfd");
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0)
		return runk_error_errno(err, errno, "epoll_create1");
	s->control_fd = shimctl_listen(s->opts->state_dir, err);
	if (s->control_fd < 0)
		return -1;
	if (epoll_add(s, s->agent.fd, SOURCE_AGENT, err) < 0 ||
	    epoll_add(s, s->qemu_fd, SOURCE_QEMU, err) < 0 ||
	    epoll_add(s, s->signal_fd, SOURCE_SIGNAL, err) < 0 ||
	    epoll_add(s, s->control_fd, SOURCE_CONTROL, err) < 0)
		return -1;
	return 0;
}

/* The exit event comes after the guest drained stdout and stderr, so output is complete. */
static int run_loop(struct shim *s, runk_error_t *err)
{
	while (!s->exited) {
		struct epoll_event events[8];
		int n = epoll_wait(s->epoll_fd, events, 8, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return runk_error_errno(err, errno, "epoll_wait");
		for (int i = 0; i < n && !s->exited; i++) {
			int ret = 0;

			switch (events[i].data.u32) {
			case SOURCE_AGENT:
				ret = handle_agent(s, err);
				break;
			case SOURCE_QEMU:
				ret = handle_qemu_exit(s, 0, err);
				break;
			case SOURCE_SIGNAL:
				handle_signal(s);
				break;
			case SOURCE_CONTROL:
				handle_control(s);
				break;
			case SOURCE_STDIN:
				ret = handle_stdin(s, err);
				break;
			}
			if (ret < 0)
				return -1;
		}
	}
	return 0;
}

static void report(int sync_fd, const runk_error_t err)
{
	cleanup_free char *text = err ? runk_error_text(err) : NULL;
	char status = err ? 1 : 0;

	if (sync_fd < 0)
		return;
	write_all(sync_fd, &status, 1);
	if (text)
		write_all(sync_fd, text, strlen(text));
	close(sync_fd);
}

/* Die the way the container did, so whoever waits for us sees its status. */
__attribute__((noreturn)) static void exit_like(int code, int signo)
{
	if (signo > 0) {
		sigset_t set;

		signal(signo, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, signo);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		prctl(PR_SET_DUMPABLE, 0); /* the container dumped core, not us */
		kill(getpid(), signo);
		code = 128 + signo;
	}
	_exit(code);
}

void shim_main(const struct shim_options *opts)
{
	struct shim s = {.opts = opts,
			 .qemu_fd = -1,
			 .signal_fd = -1,
			 .control_fd = -1,
			 .epoll_fd = -1,
			 .stdin_fd = -1,
			 .agent = {.fd = -1}};
	cleanup_error runk_error_t err = NULL;
	sigset_t set;

	prctl(PR_SET_NAME, "runk-shim");
	signal(SIGPIPE, SIG_IGN);
	/* Block what we forward now, so nothing sent during boot kills the shim. */
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaddset(&set, forwarded_signals[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);

	if (create_container(&s, &err) < 0 || setup_loop(&s, &err) < 0) {
		report(opts->sync_fd, err);
		vm_destroy(s.vm);
		_exit(1);
	}
	report(opts->sync_fd, NULL);

	if (run_loop(&s, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_error("container %s: %s", opts->id, text);
		vm_destroy(s.vm);
		_exit(255);
	}
	close(s.control_fd);
	vm_destroy(s.vm);
	exit_like(s.exit_code, s.exit_signal);
}

int shim_wait_created(int sync_fd, runk_error_t *err)
{
	char buf[4096];
	size_t used = 0;

	for (;;) {
		ssize_t n = read(sync_fd, buf + used, sizeof(buf) - 1 - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
		if (used == sizeof(buf) - 1)
			break;
	}
	buf[used] = '\0';
	if (used == 0)
		return runk_error(err, "the shim exited before the container was created");
	if (buf[0] != 0)
		return runk_error(err, "%s", buf + 1);
	return 0;
}
