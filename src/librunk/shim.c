/* The shim: the VM, the agent channel and the event loop.  See shim.h. */
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
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "cleanup.h"
#include "factory/factory.h"
#include "fault.h"
#include "log.h"
#include "network/network.h"
#include "ocispec.h"
#include "share.h"
#include "shim-internal.h"
#include "shim-namespaces.h"
#include "shim-network.h"
#include "shimctl.h"
#include "state.h"
#include "util.h"

const char *const shim_status_names[] = {
	[SHIM_CREATING] = "creating", [SHIM_CREATED] = "created", [SHIM_RUNNING] = "running",
	[SHIM_PAUSED] = "paused",     [SHIM_STOPPED] = "stopped",
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Frames from the guest.  The decoder validated the header; payload fields are checked here. */
static int on_event(struct shim *s, struct proto_frame *frame, runk_error_t *err)
{
	yajl_val obj = proto_json_parse(frame->payload, frame->len, err);
	const char *event = NULL;
	long long code = 0, sig = 0;
	size_t slot;
	int ret = -1;

	if (obj == NULL)
		return -1;
	if (shim_stream_by_id(s, frame->id, &slot) == NULL) {
		if (frame->id >= s->next_stream_id)
			runk_error(err, "event for unknown stream %u", frame->id);
		else
			ret = 0; /* a stream we already closed */
		goto out;
	}
	if (proto_json_get_string(obj, "event", &event, err) < 0)
		goto out;
	if (strcmp(event, "oom") == 0) {
		log_warning("container %s: the guest killed a process for lack of memory",
			    s->opts->id);
		ret = 0;
		goto out;
	}
	if (strcmp(event, "exit") != 0) {
		log_debug("agent event `%.64s` ignored", event);
		ret = 0;
		goto out;
	}
	if (proto_json_get_int(obj, "status", 0, 255, &code, err) < 0 ||
	    proto_json_get_int(obj, "signal", 0, NSIG - 1, &sig, err) < 0)
		goto out;
	log_debug("container %s stream %u exited: status %lld signal %lld", s->opts->id, frame->id,
		  code, sig);
	if (slot != 0 && s->streams[slot].starting) {
		s->streams[slot].exit_pending = true;
		s->streams[slot].exit_code = (int)code;
		s->streams[slot].exit_signal = (int)sig;
	} else if (slot != 0) {
		shim_stream_exited(s, slot, (int)code, (int)sig);
	} else {
		s->exited = true;
		s->exit_code = (int)code;
		s->exit_signal = (int)sig;
		s->status = SHIM_STOPPED;
	}
	ret = 0;
out:
	yajl_tree_free(obj);
	return ret;
}

/* How much of a payload a debug line shows: the guest must not grow the log by megabytes a line. */
static int logged_len(const struct proto_frame *frame)
{
	return frame->len > 256 ? 256 : (int)frame->len;
}

static int on_frame(void *user, struct proto_frame *frame, runk_error_t *err)
{
	struct shim *s = user;

	switch (frame->type) {
	case PROTO_HELLO:
		s->hello = true;
		log_debug("agent hello: %.*s", logged_len(frame), (const char *)frame->payload);
		return 0;
	case PROTO_RESPONSE:
		if (frame->id != s->awaited_id) {
			/* Fire-and-forget requests (forwarded signals, resizes): only failures
			 * matter. */
			log_debug("agent response %u: %.*s", frame->id, logged_len(frame),
				  (const char *)frame->payload);
			return 0;
		}
		s->awaited_reply = proto_json_parse(frame->payload, frame->len, err);
		free(s->last_reply_text);
		s->last_reply_text = strndup((const char *)frame->payload, frame->len);
		s->last_reply_len = frame->len;
		return s->awaited_reply ? 0 : -1;
	case PROTO_STDOUT:
	case PROTO_STDERR:
		return shim_stream_output(s, frame, err);
	case PROTO_EVENT:
		return on_event(s, frame, err);
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
	s->vm_gone = true;
	if (s->exited)
		return 0;
	if (s->status != SHIM_CREATING && WIFSIGNALED(status)) {
		/* The container died with its VM: reported killed (137), as conmon and containerd
		 * expect of a killed container, not as a runtime error. */
		log_error("container %s: QEMU was killed by signal %d: the container is killed",
			  s->opts->id, WTERMSIG(status));
		s->exited = true;
		s->exit_code = 128 + SIGKILL;
		s->exit_signal = SIGKILL;
		s->status = SHIM_STOPPED;
		return 0;
	}
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
 * The channel failed under a waiting request: once the container exists, the
 * failure outlives the request, and the event loop ends on it (create has
 * its own way out, and a failed template clone is retried with a cold boot).
 */
static int agent_failed(struct shim *s, runk_error_t *err)
{
	if (s->status != SHIM_CREATING && s->agent_failure == NULL && err && *err)
		s->agent_failure = runk_error_text(*err);
	return -1;
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

		if (left <= 0) {
			runk_error(err, "timed out after %d s waiting for %s", timeout_ms / 1000,
				   what);
			return agent_failed(s, err);
		}
		n = poll(fds, 2, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return runk_error_errno(err, errno, "poll");
		if (fds[1].revents && handle_qemu_exit(s, 0, err) < 0)
			return agent_failed(s, err);
		if (fds[0].revents && handle_agent(s, err) < 0)
			return agent_failed(s, err);
		if (s->vm_gone && !done(s))
			return runk_error(err, "the VM exited while waiting for %s", what);
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

int shim_agent_call(struct shim *s, const char *json, size_t len, yajl_val *reply,
		    runk_error_t *err)
{
	uint32_t id;
	bool ok = false;
	const char *op_error = "unknown error";
	int ret = 0;

	if (agent_request(&s->agent, json, len, &id, err) < 0)
		return -1;
	s->awaited_id = id;
	s->awaited_reply = NULL;
	ret = pump_agent(s, got_reply, (int)s->opts->conf->agent_timeout_s * 1000,
			 "the agent's reply", err);
	s->awaited_id = 0;
	if (ret < 0)
		return -1;
	if (proto_json_get_bool(s->awaited_reply, "ok", &ok, err) < 0) {
		ret = runk_error_prefix(err, "bad reply from the agent");
	} else if (!ok) {
		proto_json_get_string(s->awaited_reply, "error", &op_error, NULL);
		ret = runk_error(err, "%s", op_error);
	} else if (reply) {
		*reply = steal_pointer(&s->awaited_reply);
	}
	yajl_tree_free(s->awaited_reply);
	s->awaited_reply = NULL;
	return ret;
}

/* A request object with op and the container id; more members may follow. */
struct proto_json *shim_request_for(const char *id, const char *op)
{
	struct proto_json *json = proto_json_new();

	proto_json_add_string(json, "op", op);
	proto_json_add_string(json, "id", id);
	return json;
}

struct proto_json *shim_request_new(struct shim *s, const char *op)
{
	return shim_request_for(s->opts->id, op);
}

const char *shim_stream_container(const struct shim *s, const struct shim_stream *st)
{
	return st && st->member >= 0 ? s->members[st->member].id : s->opts->id;
}

int shim_request_send(struct shim *s, struct proto_json *json, yajl_val *reply, bool wait,
		      runk_error_t *err)
{
	cleanup_free char *text = NULL;
	uint32_t id;
	size_t len;

	if (proto_json_finish(json, &text, &len, err) < 0)
		return -1;
	if (wait)
		return shim_agent_call(s, text, len, reply, err);
	return agent_request(&s->agent, text, len, &id, err);
}

int shim_signal_stream(struct shim *s, uint32_t stream, int signo, bool all, bool wait,
		       runk_error_t *err)
{
	const struct shim_stream *st =
		stream == SHIM_INIT_STREAM ? NULL : shim_stream_by_id(s, stream, NULL);
	struct proto_json *json = shim_request_for(shim_stream_container(s, st), "signal");

	proto_json_add_int(json, "signal", signo);
	proto_json_add_bool(json, "all", all);
	if (stream != SHIM_INIT_STREAM)
		proto_json_add_int(json, "stream", stream);
	return shim_request_send(s, json, NULL, wait, err);
}

int shim_epoll_add(struct shim *s, int fd, uint64_t data, runk_error_t *err)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = data};

	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return runk_error_errno(err, errno, "epoll_ctl");
	return 0;
}

struct proto_json *shim_settime_request(void)
{
	struct proto_json *json = proto_json_new();
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	proto_json_add_string(json, "op", "settime");
	proto_json_add_int(json, "sec", now.tv_sec);
	proto_json_add_int(json, "nsec", now.tv_nsec);
	return json;
}

static int send_settime(struct shim *s, runk_error_t *err)
{
	/* The guest may start its clock at 1970 (microvm under TCG); give it ours. */
	return shim_request_send(s, shim_settime_request(), NULL, true, err);
}

/*
 * The container's namespaces on the host, as runc would make them (a pod's
 * other containers name them); then, for the guest, the paths of those it
 * names that no two VMs can share (shim-namespaces.c).
 */
static int unshare_host_namespaces(struct shim *s, runk_error_t *err)
{
	return shim_namespaces_unshare(s->opts->config, err);
}

static int guest_config_for_pod(struct shim *s, char **data, size_t *len, runk_error_t *err)
{
	cleanup_free char *out = NULL, *hostname = NULL, *named = NULL;
	const struct oci_config *config = s->opts->config;
	const char *types[4] = {NULL};
	size_t out_len;
	int n;

	if (s->opts->pod_sandbox)
		n = shim_namespaces_pod_sandbox(config, types, 3);
	else
		n = shim_namespaces_unshareable(config, s->opts->state_dir, types, 3, &hostname);
	if (n > 0 && guest_config_without_paths(*data, *len, types, &out, &out_len, err) < 0)
		return -1;
	if (n == 0)
		return 0;
	/* yajl wrote an object: the hostname (checked: no quoting needed) goes first in it. */
	if (hostname && out[0] == '{') {
		if (asprintf(&named, "{\"hostname\":\"%s\"%s%s", hostname,
			     strcmp(out, "{}") == 0 ? "" : ",", out + 1) < 0)
			abort();
		free(out);
		out = steal_pointer(&named);
		out_len = strlen(out);
	}
	free(*data);
	*data = steal_pointer(&out);
	*len = out_len;
	return 0;
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
	cleanup_free char *dir = NULL, *config = NULL, *data = NULL;
	size_t len;

	/* Mounts made here live in the shim's own namespace and vanish with it and QEMU. */
	if (share_container_dir(o->state_dir, o->id, o->rootfs, o->config, o->bind_base, &dir,
				err) < 0)
		return -1;
	if (asprintf(&config, "%s/config.json", dir) < 0)
		abort();
	data = strndup(o->config_text, o->config_len);
	if (data == NULL)
		abort();
	len = o->config_len;
	if (shim_network_guest_config(&data, &len, err) < 0 ||
	    guest_config_for_pod(s, &data, &len, err) < 0)
		return -1;
	return write_file_atomic(config, data, len, 0644, err);
}

static int start_vm(struct shim *s, runk_error_t *err)
{
	const struct shim_options *o = s->opts;
	const struct runk_conf *conf = o->conf;
	cleanup_free char *agent = NULL, *qmp = NULL, *share = NULL, *qlog = NULL, *clog = NULL;
	cleanup_free char *jail = NULL, *params = NULL;
	struct vm_config cfg = {0};
	const char *why = NULL;
	enum vm_accel requested;

	if (asprintf(&agent, "%s/%s", o->state_dir, AGENT_SOCKET) < 0 ||
	    asprintf(&qmp, "%s/%s", o->state_dir, QMP_SOCKET) < 0 ||
	    asprintf(&share, "%s/%s", o->state_dir, SHARE_DIR) < 0 ||
	    asprintf(&qlog, "%s/%s", o->state_dir, QEMU_LOG) < 0 ||
	    asprintf(&clog, "%s/%s", o->state_dir, CONSOLE_LOG) < 0 ||
	    asprintf(&jail, "%s/%s", o->state_dir, JAIL_DIR) < 0)
		abort();
	if (vm_accel_parse(conf->accel, &requested, err) < 0 ||
	    vm_accel_resolve(requested, &cfg.accel, &why, err) < 0)
		return -1;
	log_debug("accelerator: %s (%s)", vm_accel_name(cfg.accel), why ? why : "configured");
	cfg.qemu_path = conf->qemu_path;
	cfg.kernel = conf->kernel;
	cfg.initrd = conf->initrd;
	cfg.kernel_params = o->kernel_params;
	cfg.name = o->id;
	cfg.vcpus = o->vcpus;
	cfg.memory_mib = o->memory_mib;
	cfg.agent_socket = agent;
	cfg.qmp_socket = qmp;
	cfg.share_dir = share;
	cfg.qemu_log = qlog;
	cfg.console_log = o->debug ? clog : NULL;
	cfg.debug = o->debug;
	cfg.start_timeout_ms = (int)conf->boot_timeout_s * 1000;
	/* Inside the state dir: delete removes it with everything else. */
	cfg.jail_dir = conf->jail ? jail : NULL;
	cfg.jail_user = conf->jail_user;
	if (access(cfg.kernel, R_OK) < 0)
		return runk_error_errno(err, errno, "guest kernel `%s`", cfg.kernel);
	if (access(cfg.initrd, R_OK) < 0)
		return runk_error_errno(err, errno, "guest initrd `%s`", cfg.initrd);
	if (shim_network_prepare(s, &cfg, err) < 0)
		return -1;
	/* Where a pod member's share goes: QEMU sees the share at /share in its jail. */
	s->share_root = strdup(share);
	s->vm_share_root = strdup(cfg.jail_dir ? "/share" : share);
	s->online_vcpus = o->vcpus;
	/* A clone of this VM's template when there is a good one; else a cold boot. */
	if (factory_try_clone(s, &cfg) == 0)
		return 0;
	/* A pod VM sized as it goes: every vCPU present, the sandbox's online (shim-pod.c). */
	if (o->max_vcpus > o->vcpus) {
		if (asprintf(&params, "%s%smaxcpus=%u", o->kernel_params ? o->kernel_params : "",
			     o->kernel_params && *o->kernel_params ? " " : "", o->vcpus) < 0)
			abort();
		cfg.kernel_params = params;
		cfg.vcpus = o->max_vcpus;
	}
	if (vm_start(&cfg, &s->vm, err) < 0)
		return -1;
	s->qemu_fd = (int)syscall(SYS_pidfd_open, vm_pid(s->vm), 0);
	if (s->qemu_fd < 0)
		return runk_error_errno(err, errno, "pidfd_open QEMU");
	return agent_connect(agent, 5000, &s->agent, err);
}

/* The init's stdio: the console's pty slave when there is one, else what the shim inherited. */
static void init_stream_setup(struct shim *s)
{
	struct shim_stream *init = &s->streams[0];
	int console = s->opts->console_fd;

	*init = (struct shim_stream){
		.used = true,
		.id = SHIM_INIT_STREAM,
		.in_fd = console >= 0 ? console : STDIN_FILENO,
		.out_fd = console >= 0 ? console : STDOUT_FILENO,
		.err_fd = console >= 0 ? console : STDERR_FILENO,
		.conn_fd = -1,
		.tty = s->opts->terminal,
		.member = -1,
	};
	s->next_stream_id = SHIM_INIT_STREAM + 1;
	/* Holding the console as controlling terminal brings SIGWINCH when its size changes. */
	if (console >= 0)
		ioctl(console, TIOCSCTTY, 0);
}

static int create_container(struct shim *s, runk_error_t *err)
{
	const struct shim_options *o = s->opts;
	long long boot_started = now_ms();
	struct proto_json *json;
	yajl_val reply = NULL;
	long long guest_pid = 0;

	init_stream_setup(s);
	/* The shim enters its cgroup first: QEMU and its threads are born there. */
	if (cgroup_enter(o->cgroups, getpid(), o->resources, err) < 0 ||
	    unshare_host_namespaces(s, err) < 0 || prepare_share(s, err) < 0 ||
	    start_vm(s, err) < 0 ||
	    cgroup_place_vm_wait(o->cgroups, s->vm, o->vcpus, o->resources, err) < 0)
		return -1;
	fault_point(FAULT_QEMU_STARTED);
	if (pump_agent(s, got_hello, (int)s->opts->conf->boot_timeout_s * 1000,
		       "the guest agent to start", err) < 0)
		return -1;
	fault_point(FAULT_AGENT_READY);
	log_debug("VM for %s ready in %lld ms", s->opts->id, now_ms() - boot_started);
	if (!s->clock_set && send_settime(s, err) < 0)
		return runk_error_prefix(err, "set the guest clock");
	if (shim_pod_vm_hostname(s, err) < 0)
		return runk_error_prefix(err, "set the VM's hostname");
	json = shim_request_new(s, "create");
	proto_json_add_int(json, "stream", SHIM_INIT_STREAM);
	if (s->opts->no_pivot)
		proto_json_add_bool(json, "no_pivot", true);
	if (shim_request_send(s, json, &reply, true, err) < 0)
		return runk_error_prefix(err, "create the container in the VM");
	proto_json_opt_int(reply, "pid", 1, INT_MAX, &guest_pid, NULL);
	yajl_tree_free(reply);
	log_debug("container %s created: guest pid %lld", s->opts->id, guest_pid);
	if (shim_network_configure_guest(s, err) < 0)
		return -1;
	fault_point(FAULT_CONTAINER_CREATED);
	s->status = SHIM_CREATED;
	factory_claim_created(s->keeper_fd);
	if (s->streams[0].tty)
		shim_stream_follow_size(s, 0);
	return 0;
}

static void handle_signal(struct shim *s)
{
	struct signalfd_siginfo info;
	cleanup_error runk_error_t err = NULL;

	if (read(s->signal_fd, &info, sizeof(info)) != sizeof(info))
		return;
	if (s->exited || s->status == SHIM_CREATING || s->status == SHIM_PAUSED)
		return;
	/* With a terminal, a size change is a resize of the guest's pty, not a signal. */
	if (info.ssi_signo == SIGWINCH && s->streams[0].tty) {
		shim_stream_follow_size(s, 0);
		return;
	}
	log_debug("forwarding signal %u to container %s", info.ssi_signo, s->opts->id);
	if (shim_signal_stream(s, SHIM_INIT_STREAM, (int)info.ssi_signo, false, false, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_warning("forward signal %u: %s", info.ssi_signo, text);
	}
}

static int setup_loop(struct shim *s, runk_error_t *err)
{
	sigset_t set;

	forwarded_signals_set(&set);
	s->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->signal_fd < 0)
		return runk_error_errno(err, errno, "signalfd");
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0)
		return runk_error_errno(err, errno, "epoll_create1");
	s->control_fd = shimctl_listen(s->opts->state_dir, err);
	if (s->control_fd < 0)
		return -1;
	if (shim_epoll_add(s, s->agent.fd, SHIM_EVENT(SOURCE_AGENT, 0), err) < 0 ||
	    shim_epoll_add(s, s->qemu_fd, SHIM_EVENT(SOURCE_QEMU, 0), err) < 0 ||
	    shim_epoll_add(s, s->signal_fd, SHIM_EVENT(SOURCE_SIGNAL, 0), err) < 0 ||
	    shim_epoll_add(s, s->control_fd, SHIM_EVENT(SOURCE_CONTROL, 0), err) < 0)
		return -1;
	return 0;
}

static int handle_event(struct shim *s, uint64_t data, runk_error_t *err)
{
	size_t slot = (uint32_t)data;

	switch ((enum shim_source)(data >> 32)) {
	case SOURCE_AGENT:
		return handle_agent(s, err);
	case SOURCE_QEMU:
		return handle_qemu_exit(s, 0, err);
	case SOURCE_SIGNAL:
		handle_signal(s);
		return 0;
	case SOURCE_CONTROL:
		shim_control_accept(s, s->control_fd, -1);
		return 0;
	case SOURCE_MEMBER_CONTROL:
		if (slot < SHIM_MAX_MEMBERS && s->members[slot].used)
			shim_control_accept(s, s->members[slot].control_fd, (int)slot);
		return 0;
	case SOURCE_MEMBER_CONN:
		if (slot < SHIM_MAX_MEMBERS && s->members[slot].used)
			shim_pod_member_message(s, (int)slot);
		return 0;
	case SOURCE_STREAM_IN:
		if (slot < SHIM_MAX_STREAMS && s->streams[slot].used && s->streams[slot].in_fd >= 0)
			return shim_stream_relay_input(s, slot, err);
		return 0;
	case SOURCE_STREAM_CONN:
		if (slot < SHIM_MAX_STREAMS && s->streams[slot].used &&
		    s->streams[slot].conn_fd >= 0)
			shim_control_exec_message(s, slot);
		return 0;
	}
	return 0;
}

/* The exit event comes after the guest drained stdout and stderr, so output is complete. */
static int run_loop(struct shim *s, runk_error_t *err)
{
	while (!s->exited) {
		struct epoll_event events[16];
		int n = epoll_wait(s->epoll_fd, events, 16, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return runk_error_errno(err, errno, "epoll_wait");
		for (int i = 0; i < n && !s->exited; i++) {
			if (handle_event(s, events[i].data.u64, err) < 0)
				return -1;
			if (s->agent_failure)
				return runk_error(err, "%s", s->agent_failure);
		}
	}
	return 0;
}

void shim_report(int sync_fd, const runk_error_t err)
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

/*
 * Every exec still running dies with the VM: tell its client it was killed.
 * A pod member's init is a stream too: its member shim hears the same.
 */
static void end_execs(struct shim *s)
{
	for (size_t i = 1; i < SHIM_MAX_STREAMS; i++)
		if (s->streams[i].used)
			shim_stream_exited(s, i, 128 + SIGKILL, SIGKILL);
}

void shim_record_pid(const char *state_dir)
{
	cleanup_free char *path = NULL;
	char text[64];
	uint64_t start = 0;
	int len;

	if (proc_start_time(getpid(), &start, NULL) < 0 ||
	    asprintf(&path, "%s/%s", state_dir, SHIM_PID_FILE) < 0)
		return;
	len = snprintf(text, sizeof(text), "%d %llu", getpid(), (unsigned long long)start);
	write_file_atomic(path, text, (size_t)len, 0600, NULL);
}

/* The shim's peak RSS, for the tests that check a hostile guest cannot make it grow. */
static void log_peak_memory(const char *id)
{
	cleanup_fclose FILE *f = fopen("/proc/self/status", "re");
	char line[128];

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "VmHWM:", 6) == 0) {
			line[strcspn(line, "\n")] = '\0';
			log_debug("shim of %s exits: peak RSS %s", id,
				  line + 6 + strspn(line + 6, " \t"));
			return;
		}
	}
}

void shim_main(const struct shim_options *opts)
{
	struct shim s = {.opts = opts,
			 .qemu_fd = -1,
			 .keeper_fd = -1,
			 .signal_fd = -1,
			 .control_fd = -1,
			 .epoll_fd = -1,
			 .agent = {.fd = -1}};
	cleanup_error runk_error_t err = NULL;
	sigset_t set;

	prctl(PR_SET_NAME, "runk-shim");
	/* Before anything else: if runk create dies now, delete can still find and end us. */
	shim_record_pid(opts->state_dir);
	signal(SIGPIPE, SIG_IGN);
	/* Block what we forward now, so nothing sent during boot kills the shim. */
	forwarded_signals_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);

	if (create_container(&s, &err) < 0 || setup_loop(&s, &err) < 0) {
		shim_network_teardown(&s); /* before the report: runk kills us once it has it */
		log_peak_memory(opts->id);
		shim_report(opts->sync_fd, err);
		vm_destroy(s.vm);
		_exit(1);
	}
	shim_report(opts->sync_fd, NULL);

	if (run_loop(&s, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_error("container %s: %s", opts->id, text);
		end_execs(&s);
		vm_destroy(s.vm);
		shim_network_teardown(&s);
		log_peak_memory(opts->id);
		_exit(255);
	}
	close(s.control_fd);
	end_execs(&s);
	vm_destroy(s.vm);
	shim_network_teardown(&s);
	log_peak_memory(opts->id);
#ifdef __SANITIZE_ADDRESS__
	/* exit_like ends with _exit, which skips LeakSanitizer: check the shim now. */
	__lsan_do_leak_check();
#endif
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
