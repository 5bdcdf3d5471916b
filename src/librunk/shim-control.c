/* The shim's control socket: what runk commands ask of a running container. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "fault.h"
#include "log.h"
#include "shim-internal.h"
#include "shimctl.h"

void shim_reply_text(int fd, const char *text)
{
	send(fd, text, strlen(text), MSG_NOSIGNAL);
}

static void reply_ok(int fd, const char *key, const char *value)
{
	struct proto_json *json = proto_json_new();
	cleanup_free char *text = NULL;
	size_t len;

	proto_json_add_bool(json, "ok", true);
	if (key)
		proto_json_add_string(json, key, value);
	if (proto_json_finish(json, &text, &len, NULL) == 0)
		shim_reply_text(fd, text);
}

void shim_reply_error(int fd, runk_error_t err)
{
	struct proto_json *json = proto_json_new();
	cleanup_free char *message = runk_error_text(err);
	cleanup_free char *text = NULL;
	size_t len;

	proto_json_add_bool(json, "ok", false);
	proto_json_add_string(json, "error", message);
	if (proto_json_finish(json, &text, &len, NULL) == 0)
		shim_reply_text(fd, text);
}

static int require_live(struct shim *s, runk_error_t *err)
{
	if (s->exited)
		return runk_error(err, "container `%s` is not running", s->opts->id);
	if (s->status == SHIM_PAUSED)
		return runk_error(err, "container `%s` is paused", s->opts->id);
	return 0;
}

static int op_start(struct shim *s, runk_error_t *err)
{
	if (s->status != SHIM_CREATED)
		return runk_error(err, "cannot start a container that is %s",
				  shim_status_names[s->status]);
	if (shim_request_send(s, shim_request_new(s, "start"), NULL, true, err) < 0)
		return -1;
	fault_point(FAULT_MID_START); /* the guest runs the process; nobody was told */
	/* An exit event may have arrived while we waited: that status stands. */
	if (s->status == SHIM_CREATED)
		s->status = SHIM_RUNNING;
	return shim_stream_watch_input(s, 0, err);
}

static int op_kill(struct shim *s, yajl_val req, runk_error_t *err)
{
	long long signo = SIGTERM;
	bool all = false;

	if (proto_json_get_int(req, "signal", 1, NSIG - 1, &signo, err) < 0 ||
	    proto_json_opt_bool(req, "all", &all, err) < 0)
		return -1;
	if (s->exited)
		return all ? 0 : runk_error(err, "container `%s` is not running", s->opts->id);
	if (s->status == SHIM_PAUSED) {
		/* A frozen guest cannot deliver anything; SIGKILL still ends it, with the VM. */
		if (signo != SIGKILL)
			return runk_error(err, "container `%s` is paused: resume it first",
					  s->opts->id);
		log_debug("SIGKILL for paused container %s: stopping its VM", s->opts->id);
		s->exited = true;
		s->exit_code = 128 + SIGKILL;
		s->exit_signal = SIGKILL;
		s->status = SHIM_STOPPED;
		return 0;
	}
	if (shim_signal_stream(s, SHIM_INIT_STREAM, (int)signo, all, true, err) < 0)
		return -1;
	fault_point(FAULT_MID_KILL); /* the guest has the signal; the caller has no reply */
	return 0;
}

static void exec_start_deferred(struct shim *s);

static int op_pause(struct shim *s, bool pause, runk_error_t *err)
{
	if (s->exited)
		return runk_error(err, "container `%s` is not running", s->opts->id);
	if (pause && s->status != SHIM_RUNNING && s->status != SHIM_CREATED)
		return runk_error(err, "container `%s` is not running", s->opts->id);
	if (!pause && s->status != SHIM_PAUSED)
		return runk_error(err, "container `%s` is not paused", s->opts->id);
	if ((pause ? vm_pause : vm_resume)(s->vm, err) < 0)
		return -1;
	s->status = pause ? SHIM_PAUSED : SHIM_RUNNING;
	if (!pause)
		exec_start_deferred(s);
	return 0;
}

/* ps's command lines: as many strings as pids, each of a sane length. */
static bool cmds_valid(yajl_val cmds, yajl_val pids)
{
	if (!YAJL_IS_ARRAY(cmds) || pids == NULL || !YAJL_IS_ARRAY(pids) ||
	    cmds->u.array.len != pids->u.array.len)
		return false;
	for (size_t i = 0; i < cmds->u.array.len; i++) {
		yajl_val c = cmds->u.array.values[i];

		if (!YAJL_IS_STRING(c) || strlen(c->u.string) > 4096)
			return false;
	}
	return true;
}

/* ps and stats: the guest's answer, checked, goes to the client as it came. */
static int op_query(struct shim *s, int fd, const char *op, runk_error_t *err)
{
	if (require_live(s, err) < 0)
		return -1;
	return shim_control_query(s, fd, s->opts->id, op, err);
}

int shim_control_query(struct shim *s, int fd, const char *id, const char *op, runk_error_t *err)
{
	struct proto_json *json = shim_request_for(id, op);
	yajl_val reply = NULL;
	yajl_val pids;
	cleanup_free char *text = NULL;

	if (shim_request_send(s, json, &reply, true, err) < 0)
		return -1;
	pids = proto_json_find(reply, "pids");
	if (strcmp(op, "ps") == 0 && (pids == NULL || !YAJL_IS_ARRAY(pids))) {
		yajl_tree_free(reply);
		return runk_error(err, "the agent's ps reply has no pids array");
	}
	for (size_t i = 0; pids && YAJL_IS_ARRAY(pids) && i < pids->u.array.len; i++) {
		yajl_val v = pids->u.array.values[i];

		if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 1 ||
		    YAJL_GET_INTEGER(v) > INT_MAX) {
			yajl_tree_free(reply);
			return runk_error(err, "the agent's ps reply has a bad pid");
		}
	}
	for (size_t i = 0; i < reply->u.object.len; i++) {
		yajl_val v = reply->u.object.values[i];

		if (strcmp(reply->u.object.keys[i], "pids") == 0 ||
		    strcmp(reply->u.object.keys[i], "ok") == 0)
			continue;
		if (strcmp(reply->u.object.keys[i], "cmds") == 0 && cmds_valid(v, pids))
			continue;
		if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0) {
			runk_error(err, "the agent's %s reply has a bad `%s`", op,
				   reply->u.object.keys[i]);
			yajl_tree_free(reply);
			return -1;
		}
	}
	yajl_tree_free(reply);
	/* Validated above: forward the guest's text itself, nothing re-encoded. */
	text = strndup((const char *)s->last_reply_text, s->last_reply_len);
	shim_reply_text(fd, text);
	return 1;
}

/*
 * guest: the whole guest's memory, load and task count (runk-monitor).  Every
 * field must be there as an integer in range; the reply is rebuilt from them
 * alone, nothing else from the guest is passed on.
 */
int shim_control_guest(struct shim *s, int fd, runk_error_t *err)
{
	static const char *const fields[] = {"mem_total", "mem_available", "mem_free",
					     "load1_milli", "tasks"};
	struct proto_json *json;
	cleanup_free char *text = NULL;
	yajl_val reply = NULL;
	size_t len;

	if (require_live(s, err) < 0)
		return -1;
	if (shim_request_send(s, shim_request_new(s, "guest"), &reply, true, err) < 0)
		return -1;
	json = proto_json_new();
	proto_json_add_bool(json, "ok", true);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		long long v;

		if (proto_json_get_int(reply, fields[i], 0, LLONG_MAX, &v, err) < 0) {
			proto_json_free(json);
			yajl_tree_free(reply);
			return runk_error_prefix(err, "the agent's guest reply");
		}
		proto_json_add_int(json, fields[i], v);
	}
	yajl_tree_free(reply);
	if (proto_json_finish(json, &text, &len, err) < 0)
		return -1;
	shim_reply_text(fd, text);
	return 1;
}

int shim_control_update(struct shim *s, const char *id, const char *resources, runk_error_t *err)
{
	cleanup_free char *request = NULL;
	yajl_val parsed = proto_json_parse(resources, strlen(resources), err);

	if (parsed == NULL)
		return runk_error_prefix(err, "resources");
	yajl_tree_free(parsed);
	if (asprintf(&request, "{\"op\":\"update\",\"id\":\"%s\",\"resources\":%s}", id,
		     resources) < 0)
		abort();
	return shim_agent_call(s, request, strlen(request), NULL, err);
}

static int op_update(struct shim *s, yajl_val req, runk_error_t *err)
{
	const char *resources = NULL;

	if (proto_json_get_string(req, "resources", &resources, err) < 0 ||
	    require_live(s, err) < 0)
		return -1;
	return shim_control_update(s, s->opts->id, resources, err);
}

/* Start an exec stream in the guest and answer its client (whose connection the stream owns). */
int shim_control_stream_start(struct shim *s, size_t slot, const char *request, runk_error_t *err)
{
	struct shim_stream *st = &s->streams[slot];
	yajl_val reply = NULL;
	long long pid = 0;
	char answer[64];

	st->starting = true;
	if (shim_agent_call(s, request, strlen(request), &reply, err) < 0)
		return -1;
	proto_json_opt_int(reply, "pid", 1, INT_MAX, &pid, NULL);
	yajl_tree_free(reply);
	if (shim_epoll_add(s, st->conn_fd, SHIM_EVENT(SOURCE_STREAM_CONN, slot), err) < 0 ||
	    shim_stream_watch_input(s, slot, err) < 0) {
		shim_signal_stream(s, st->id, SIGKILL, false, false, NULL);
		return -1;
	}
	if (st->tty)
		shim_stream_follow_size(s, slot);
	snprintf(answer, sizeof(answer), "{\"ok\":true,\"pid\":%lld}", pid);
	shim_reply_text(st->conn_fd, answer);
	/* The reply first, then an exit that came while we waited for it. */
	st->starting = false;
	if (st->exit_pending)
		shim_stream_exited(s, slot, st->exit_code, st->exit_signal);
	return 0;
}

/* A stream whose start failed: its client hears why, then it is gone. */
static void exec_fail(struct shim *s, size_t slot, runk_error_t err)
{
	shim_reply_error(s->streams[slot].conn_fd, err);
	shim_stream_release(s, slot);
}

/* The VM runs again: start the execs that waited for it (runk exec --ignore-paused). */
static void exec_start_deferred(struct shim *s)
{
	for (size_t i = 1; i < SHIM_MAX_STREAMS; i++) {
		cleanup_error runk_error_t err = NULL;
		cleanup_free char *request = NULL;

		if (!s->streams[i].used || s->streams[i].deferred == NULL)
			continue;
		request = steal_pointer(&s->streams[i].deferred);
		if (shim_control_stream_start(s, i, request, &err) < 0)
			exec_fail(s, i, err);
	}
}

/*
 * exec: the client passes its stdin, stdout and stderr (SCM_RIGHTS) and the
 * OCI process as JSON text; the shim starts it in the guest, replies with
 * its guest pid and keeps the connection to report the exit.  Into a paused
 * container only with ignore_paused, and then once the VM is resumed: a
 * frozen guest cannot start anything.
 */
static int op_exec(struct shim *s, int *conn, yajl_val req, int *fds, size_t n_fds,
		   runk_error_t *err)
{
	return shim_control_exec(s, conn, req, fds, n_fds, s->opts->id, -1, err);
}

int shim_control_exec(struct shim *s, int *conn, yajl_val req, int *fds, size_t n_fds,
		      const char *id, int member, runk_error_t *err)
{
	cleanup_free char *request = NULL;
	const char *process = NULL;
	bool tty = false, ignore_paused = false;
	struct shim_stream *st;
	yajl_val parsed;
	size_t slot;

	if (proto_json_get_string(req, "process", &process, err) < 0 ||
	    proto_json_opt_bool(req, "tty", &tty, err) < 0 ||
	    proto_json_opt_bool(req, "ignore_paused", &ignore_paused, err) < 0)
		return -1;
	if (n_fds != 3)
		return runk_error(err, "exec needs stdin, stdout and stderr descriptors");
	/* As runc: a created container takes execs; its init waits for start meanwhile. */
	if (s->exited || (member >= 0 && (s->members[member].status == SHIM_STOPPED || s->vm_gone)))
		return runk_error(err, "cannot exec in a stopped container");
	if (s->status == SHIM_PAUSED && !ignore_paused)
		return runk_error(err, "container `%s` is paused (use --ignore-paused)", id);
	parsed = proto_json_parse(process, strlen(process), err);
	if (parsed == NULL)
		return runk_error_prefix(err, "process");
	yajl_tree_free(parsed);

	st = shim_stream_alloc(s, &slot, err);
	if (st == NULL)
		return -1;
	st->in_fd = fds[0];
	st->out_fd = fds[1];
	st->err_fd = fds[2];
	st->tty = tty;
	st->conn_fd = *conn;
	st->member = member;
	fds[0] = fds[1] = fds[2] = -1;
	*conn = -1;
	if (asprintf(&request, "{\"op\":\"exec\",\"id\":\"%s\",\"stream\":%u,\"process\":%s}", id,
		     st->id, process) < 0)
		abort();
	if (s->status == SHIM_PAUSED) {
		st->deferred = steal_pointer(&request);
		return 1;
	}
	if (shim_control_stream_start(s, slot, request, err) < 0) {
		exec_fail(s, slot, *err);
		runk_error_free(err);
	}
	return 1;
}

/* Returns 1 if the op replied itself, 0 for a plain ok, <0 on error. */
static int dispatch(struct shim *s, int *conn, yajl_val req, int *fds, size_t n_fds,
		    runk_error_t *err)
{
	const char *op = NULL;

	if (proto_json_get_string(req, "op", &op, err) < 0)
		return -1;
	if (strcmp(op, "status") == 0) {
		reply_ok(*conn, "status", shim_status_names[s->status]);
		return 1;
	}
	if (strcmp(op, "start") == 0)
		return op_start(s, err);
	if (strcmp(op, "kill") == 0)
		return op_kill(s, req, err);
	if (strcmp(op, "pause") == 0 || strcmp(op, "resume") == 0)
		return op_pause(s, strcmp(op, "pause") == 0, err);
	if (strcmp(op, "ps") == 0 || strcmp(op, "stats") == 0)
		return op_query(s, *conn, op, err);
	if (strcmp(op, "update") == 0)
		return op_update(s, req, err);
	if (strcmp(op, "guest") == 0)
		return shim_control_guest(s, *conn, err);
	if (strcmp(op, "exec") == 0)
		return op_exec(s, conn, req, fds, n_fds, err);
	if (strcmp(op, "pod-add") == 0)
		return shim_pod_add(s, conn, req, fds, n_fds, err);
	return runk_error(err, "unknown shim operation `%s`", op);
}

void shim_control_accept(struct shim *s, int listen_fd, int member)
{
	cleanup_close int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	cleanup_error runk_error_t err = NULL;
	cleanup_free char *buf = malloc(SHIMCTL_MAX_MESSAGE + 1);
	struct pollfd pfd = {.fd = conn, .events = POLLIN};
	int fds[SHIMCTL_MAX_FDS];
	size_t n_fds = SHIMCTL_MAX_FDS;
	yajl_val req = NULL;
	int n, ret = -1;

	for (size_t i = 0; i < SHIMCTL_MAX_FDS; i++)
		fds[i] = -1;
	if (conn < 0 || buf == NULL)
		return;
	/* The client sends its request right after connecting; don't let a silent one stall us. */
	if (poll(&pfd, 1, 1000) <= 0)
		return;
	n = shimctl_recv_fds(conn, buf, SHIMCTL_MAX_MESSAGE, fds, &n_fds, &err);
	if (n > 0) {
		req = proto_json_parse(buf, (size_t)n, &err);
		if (req != NULL && member >= 0)
			ret = shim_pod_dispatch(s, member, &conn, req, fds, n_fds, &err);
		else if (req != NULL)
			ret = dispatch(s, &conn, req, fds, n_fds, &err);
	}
	yajl_tree_free(req);
	for (size_t i = 0; i < n_fds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (conn < 0 || n <= 0)
		return;
	if (ret == 0)
		reply_ok(conn, NULL, NULL);
	else if (ret < 0)
		shim_reply_error(conn, err);
}

/* A message from a `runk exec` client about its process: resize or signal; or it went away. */
void shim_stream_client_message(struct shim *s, size_t slot, const char *buf, size_t len,
				bool signals)
{
	cleanup_error runk_error_t err = NULL;
	const char *op = NULL;
	long long rows = 0, cols = 0, signo = 0;
	yajl_val msg = proto_json_parse(buf, len, &err);

	if (msg == NULL || proto_json_get_string(msg, "op", &op, &err) < 0) {
		yajl_tree_free(msg);
		return;
	}
	if (strcmp(op, "resize") == 0 &&
	    proto_json_get_int(msg, "rows", 1, 65535, &rows, &err) == 0 &&
	    proto_json_get_int(msg, "cols", 1, 65535, &cols, &err) == 0)
		shim_stream_resize(s, slot, (unsigned int)rows, (unsigned int)cols, false, &err);
	else if (strcmp(op, "signal") == 0 && signals &&
		 proto_json_get_int(msg, "signal", 1, NSIG - 1, &signo, &err) == 0)
		shim_signal_stream(s, s->streams[slot].id, (int)signo, false, false, &err);
	yajl_tree_free(msg);
}

void shim_control_exec_message(struct shim *s, size_t slot)
{
	struct shim_stream *st = &s->streams[slot];
	char buf[1024];
	ssize_t n = recv(st->conn_fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The client is gone; the process runs on, as with runc. */
		epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, st->conn_fd, NULL);
		close(st->conn_fd);
		st->conn_fd = -1;
		return;
	}
	shim_stream_client_message(s, slot, buf, (size_t)n, true);
}
