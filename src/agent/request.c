/*
 * REQUEST frames: {"op":"...", ...} -> RESPONSE {"ok":true, ...} or
 * {"ok":false,"error":"..."}.  Every field is checked here, at the edge,
 * before anything acts on it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "factory.h"
#include "network.h"
#include "ocispec.h"

typedef int (*request_fn)(struct agent *agent, yajl_val req, struct proto_json *reply,
			  runk_error_t *err);

static int get_container(struct agent *agent, yajl_val req, struct container **c, runk_error_t *err)
{
	const char *id;

	if (proto_json_get_string(req, "id", &id, err) < 0)
		return -1;
	if (!proto_container_id_valid(id))
		return runk_error(err, "invalid container id");
	*c = container_find(agent, id);
	if (*c == NULL)
		return runk_error(err, "container `%s` does not exist", id);
	return 0;
}

static int op_ping(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	return 0;
}

/* Stream ids: 1 .. 2^31. */
#define STREAM_MAX (1LL << 31)

static int get_stream(yajl_val req, long long *stream, runk_error_t *err)
{
	return proto_json_get_int(req, "stream", 1, STREAM_MAX, stream, err);
}

/* The process on a stream, which must belong to container c. */
static int get_proc(struct agent *agent, struct container *c, long long stream, struct proc **p,
		    runk_error_t *err)
{
	*p = proc_find_stream(agent, (uint32_t)stream);
	if (*p == NULL || (*p)->container != c)
		return runk_error(err, "container `%s` has no process on stream %lld", c->id,
				  stream);
	return 0;
}

/* A member that must be a JSON object, as text for libocispec. */
static int get_object_text(yajl_val req, const char *key, char **text, size_t *len,
			   runk_error_t *err)
{
	yajl_val v = proto_json_find(req, key);

	if (v == NULL)
		return runk_error(err, "missing \"%s\"", key);
	if (!YAJL_IS_OBJECT(v))
		return runk_error(err, "\"%s\" is not an object", key);
	return proto_json_value_text(v, text, len, err);
}

static int op_create(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	struct create_request cr = {0};
	const char *sandbox;
	long long stream;
	pid_t pid;

	if (proto_json_get_string(req, "id", &cr.id, err) < 0 ||
	    get_stream(req, &stream, err) < 0 ||
	    proto_json_opt_bool(req, "no_pivot", &cr.no_pivot, err) < 0)
		return -1;
	if (!proto_container_id_valid(cr.id))
		return runk_error(err, "invalid container id");
	cr.stream = (uint32_t)stream;
	/* A pod member: the sandbox's init must be alive to have namespaces to join. */
	if (ns_join_request(req, &sandbox, &cr.join, err) < 0)
		return -1;
	if (sandbox) {
		cr.sandbox = container_find(agent, sandbox);
		if (cr.sandbox == NULL)
			return runk_error(err, "sandbox `%s` does not exist", sandbox);
		if (!container_running(cr.sandbox))
			return runk_error(err, "sandbox `%s` is not running", sandbox);
	}
	if (container_create(agent, &cr, &pid, err) < 0)
		return -1;
	proto_json_add_int(reply, "pid", pid);
	return 0;
}

static int op_start(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	struct container *c;

	if (get_container(agent, req, &c, err) < 0)
		return -1;
	return container_start(agent, c, err);
}

static int op_signal(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	struct container *c;
	struct proc *p = NULL;
	long long sig, stream = 0;
	bool all = false;

	if (get_container(agent, req, &c, err) < 0 ||
	    proto_json_get_int(req, "signal", 1, SIGRTMAX, &sig, err) < 0 ||
	    proto_json_opt_bool(req, "all", &all, err) < 0 ||
	    proto_json_opt_int(req, "stream", 1, STREAM_MAX, &stream, err) < 0)
		return -1;
	if (stream && get_proc(agent, c, stream, &p, err) < 0)
		return -1;
	return container_signal(agent, c, p, (int)sig, all, err);
}

static int op_exec(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	cleanup_free char *process = NULL;
	struct container *c;
	long long stream;
	size_t len;
	pid_t pid;

	if (get_container(agent, req, &c, err) < 0 || get_stream(req, &stream, err) < 0 ||
	    get_object_text(req, "process", &process, &len, err) < 0)
		return -1;
	if (exec_process(agent, c, (uint32_t)stream, process, len, &pid, err) < 0)
		return -1;
	proto_json_add_int(reply, "pid", pid);
	return 0;
}

static int op_resize(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	struct container *c;
	struct proc *p;
	long long stream, rows, cols;

	if (get_container(agent, req, &c, err) < 0 || get_stream(req, &stream, err) < 0 ||
	    proto_json_get_int(req, "rows", 1, 65535, &rows, err) < 0 ||
	    proto_json_get_int(req, "cols", 1, 65535, &cols, err) < 0 ||
	    get_proc(agent, c, stream, &p, err) < 0)
		return -1;
	if (p->tty_fd < 0)
		return runk_error(err, "stream %lld has no terminal", stream);
	return tty_resize(p->tty_fd, (unsigned int)rows, (unsigned int)cols, err);
}

/* /proc/PID/cmdline with spaces for NULs, at most 256 bytes; "" if the process is gone. */
static char *proc_cmdline(pid_t pid)
{
	char path[64], buf[257];
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n < 0)
		n = 0;
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return strdup(buf);
}

static int op_ps(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	cleanup_free long long *pids = NULL;
	char **cmds;
	struct container *c;
	size_t count;

	if (get_container(agent, req, &c, err) < 0 ||
	    cgroup_pids(c->cgroup, &pids, &count, err) < 0)
		return -1;
	proto_json_add_int_array(reply, "pids", pids, count);
	cmds = calloc(count + 1, sizeof(char *));
	if (cmds == NULL)
		return runk_error_errno(err, ENOMEM, "ps");
	/* What ps would show as CMD: the command line, or [comm] for a kernel-less empty one. */
	for (size_t i = 0; i < count; i++)
		cmds[i] = proc_cmdline((pid_t)pids[i]);
	proto_json_add_string_array(reply, "cmds", (const char *const *)cmds, count);
	for (size_t i = 0; i < count; i++)
		free(cmds[i]);
	free(cmds);
	return 0;
}

static int op_stats(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	struct container *c;

	if (get_container(agent, req, &c, err) < 0)
		return -1;
	return cgroup_stats(c->cgroup, reply, err);
}

static void oci_linux_resources_freep(struct oci_linux_resources **resources)
{
	oci_linux_resources_free(*resources);
}

static int op_update(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	__attribute__((cleanup(oci_linux_resources_freep))) struct oci_linux_resources *parsed =
		NULL;
	cleanup_free char *resources = NULL;
	struct container *c;
	size_t len;

	if (get_container(agent, req, &c, err) < 0 ||
	    get_object_text(req, "resources", &resources, &len, err) < 0)
		return -1;
	parsed = resources_parse(resources, len, err);
	if (parsed == NULL)
		return -1;
	return cgroup_apply(c->cgroup, parsed, err);
}

static int op_freeze(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	struct container *c;
	bool frozen;

	if (get_container(agent, req, &c, err) < 0 ||
	    proto_json_get_bool(req, "frozen", &frozen, err) < 0)
		return -1;
	if (cgroup_freeze(c->cgroup, frozen, err) < 0)
		return runk_error_prefix(err, "container `%s`", c->id);
	c->frozen = frozen;
	return 0;
}

static int op_delete(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	struct container *c;

	if (get_container(agent, req, &c, err) < 0)
		return -1;
	return container_delete(agent, c, err);
}

/* The guest has no RTC (and a template clone is behind): the host sends its time. */
static int op_settime(struct agent *agent, yajl_val req, struct proto_json *reply,
		      runk_error_t *err)
{
	struct timespec ts;
	long long sec, nsec;

	if (proto_json_get_int(req, "sec", 0, LLONG_MAX, &sec, err) < 0 ||
	    proto_json_get_int(req, "nsec", 0, 999999999, &nsec, err) < 0)
		return -1;
	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)nsec;
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		return runk_error_errno(err, errno, "clock_settime");
	return 0;
}

/*
 * The VM's own hostname: a pod on the node's uts namespace (hostNetwork)
 * runs its containers in the VM's, and they see the node's name, as with
 * runc.  Letters, digits, '-' and '.', 1 to 64 of them.
 */
static int op_hostname(struct agent *agent, yajl_val req, struct proto_json *reply,
		       runk_error_t *err)
{
	const char *name;
	size_t len;

	if (proto_json_get_string(req, "name", &name, err) < 0)
		return -1;
	len = strlen(name);
	if (len == 0 || len > 64 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != len)
		return runk_error(err, "\"name\": not a hostname");
	if (sethostname(name, len) < 0)
		return runk_error_errno(err, errno, "sethostname");
	return 0;
}

static int op_shutdown(struct agent *agent, yajl_val req, struct proto_json *reply,
		       runk_error_t *err)
{
	sync();
	return 0;
}

static const struct {
	const char *name;
	request_fn fn;
} ops[] = {
	{"ping", op_ping},     {"settime", op_settime}, {"create", op_create},
	{"start", op_start},   {"signal", op_signal},	{"exec", op_exec},
	{"resize", op_resize}, {"ps", op_ps},		{"stats", op_stats},
	{"update", op_update}, {"delete", op_delete},	{"shutdown", op_shutdown},
	{"guest", op_guest},   {"network", op_network}, {"mount-share", op_mount_share},
	{"reseed", op_reseed}, {"cpus", op_cpus},	{"hostname", op_hostname},
	{"freeze", op_freeze},
};

static int request_run(struct agent *agent, const struct proto_frame *frame,
		       struct proto_json *reply, const char **op, runk_error_t *err)
{
	yajl_val req = proto_json_parse(frame->payload, frame->len, err);
	int ret = -1;

	*op = NULL;
	if (req == NULL)
		return -1;
	if (proto_json_get_string(req, "op", op, err) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(*op, ops[i].name) == 0) {
			*op = ops[i].name; /* outlives the parsed request */
			ret = ops[i].fn(agent, req, reply, err);
			if (ret < 0)
				runk_error_prefix(err, "%s", ops[i].name);
			goto out;
		}
	}
	*op = NULL;
	runk_error(err, "unknown op");
out:
	yajl_tree_free(req);
	return ret;
}

void request_handle(struct agent *agent, const struct proto_frame *frame)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_free char *text = NULL;
	struct proto_json *reply = proto_json_new();
	const char *op;
	size_t len;

	proto_json_add_bool(reply, "ok", true);
	if (request_run(agent, frame, reply, &op, &err) < 0) {
		cleanup_free char *msg = runk_error_text(err);

		log_info("request %u failed: %s", frame->id, msg);
		proto_json_free(reply);
		reply = proto_json_new();
		proto_json_add_bool(reply, "ok", false);
		proto_json_add_string(reply, "error", msg);
		op = NULL;
	}
	runk_error_free(&err);
	if (proto_json_finish(reply, &text, &len, &err) < 0) {
		agent_log_err("building a response", err);
		return;
	}
	agent_send(agent, PROTO_RESPONSE, frame->id, text, len);
	if (op && strcmp(op, "shutdown") == 0) {
		log_info("shutdown requested");
		agent_power_off();
	}
}
