/*
 * REQUEST frames: {"op":"...", ...} -> RESPONSE {"ok":true, ...} or
 * {"ok":false,"error":"..."}.  Every field is checked here, at the edge,
 * before anything acts on it.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"

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

static int op_create(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	const char *id;
	long long stream;
	pid_t pid;

	if (proto_json_get_string(req, "id", &id, err) < 0 ||
	    proto_json_get_int(req, "stream", 1, UINT32_MAX, &stream, err) < 0)
		return -1;
	if (!proto_container_id_valid(id))
		return runk_error(err, "invalid container id");
	if (container_create(agent, id, (uint32_t)stream, &pid, err) < 0)
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
	long long sig;
	bool all = false;

	if (get_container(agent, req, &c, err) < 0 ||
	    proto_json_get_int(req, "signal", 1, SIGRTMAX, &sig, err) < 0 ||
	    proto_json_opt_bool(req, "all", &all, err) < 0)
		return -1;
	return container_signal(agent, c, (int)sig, all, err);
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
	{"ping", op_ping},     {"create", op_create},	{"start", op_start},
	{"signal", op_signal}, {"settime", op_settime}, {"shutdown", op_shutdown},
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
