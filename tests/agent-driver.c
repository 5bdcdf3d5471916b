/*
 * agent-driver: a test-only host for the guest agent, without a shim, so a
 * test can send requests the host side does not make (yet), such as a pod
 * member's create (bats/agent-pod.bats).
 *
 *   agent-driver KERNEL INITRD SHARE VCPUS MEMORY_MIB [KERNEL_PARAMS]
 *
 * Boots the guest under QEMU (accel auto: TCG without KVM) with SHARE as
 * its 9p share, waits for HELLO, then sends each line of stdin as one
 * REQUEST and prints one JSON line per request:
 *
 *   {"ms":T,"reply":{...}}
 *
 * T is the time from sending to the RESPONSE.  For an `exec` that succeeded
 * the line is printed once the process exited, with its output and status:
 *
 *   {"ms":T,"reply":{...},"stdout":"...","stderr":"...","status":S,"signal":N}
 *
 * Frames of other streams are dropped.  At EOF the VM is stopped.  Exits 0
 * unless the VM or the channel failed (a reply with "ok":false is output,
 * not a failure).  Its sockets are in a temp dir under $TMPDIR (or /tmp).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "error.h"
#include "hypervisor/hypervisor.h"
#include "proto.h"

#define WAIT_MS (180 * 1000)

struct output {
	char *data;
	size_t len;
};

/* What the driver waits for: a RESPONSE, then maybe the exit of one stream. */
struct waiter {
	bool hello;
	uint32_t request;
	yajl_val reply;
	uint32_t stream; /* 0: no stream */
	struct output out, err;
	yajl_val exit;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void output_add(struct output *o, const struct proto_frame *frame)
{
	o->data = realloc(o->data, o->len + frame->len + 1);
	if (o->data == NULL)
		abort();
	memcpy(o->data + o->len, frame->payload, frame->len);
	o->len += frame->len;
	o->data[o->len] = '\0';
}

static int on_frame(void *user, struct proto_frame *frame, runk_error_t *err)
{
	struct waiter *w = user;

	switch (frame->type) {
	case PROTO_HELLO:
		w->hello = true;
		return 0;
	case PROTO_RESPONSE:
		if (frame->id != w->request)
			return runk_error(err, "a response to request %u", frame->id);
		w->reply = proto_json_parse(frame->payload, frame->len, err);
		return w->reply ? 0 : -1;
	case PROTO_STDOUT:
	case PROTO_STDERR:
		if (w->stream && frame->id == w->stream)
			output_add(frame->type == PROTO_STDOUT ? &w->out : &w->err, frame);
		return 0;
	case PROTO_EVENT:
		if (w->stream && frame->id == w->stream && w->exit == NULL) {
			yajl_val ev = proto_json_parse(frame->payload, frame->len, err);
			const char *name = NULL;

			if (ev == NULL)
				return -1;
			if (proto_json_get_string(ev, "event", &name, NULL) == 0 &&
			    strcmp(name, "exit") == 0)
				w->exit = ev;
			else
				yajl_tree_free(ev);
		}
		return 0;
	default:
		return runk_error(err, "unexpected %s frame", proto_type_name(frame->type));
	}
}

/* Read frames until done(w) or the deadline. */
static int wait_for(struct agent_conn *conn, struct waiter *w, bool (*done)(const struct waiter *),
		    const char *what, runk_error_t *err)
{
	long long deadline = now_ms() + WAIT_MS;

	while (!done(w)) {
		struct pollfd pfd = {.fd = conn->fd, .events = POLLIN};
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return runk_error(err, "no %s in %d s", what, WAIT_MS / 1000);
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return runk_error_errno(err, errno, "poll");
		if (r <= 0)
			continue;
		r = agent_read(conn, on_frame, w, err);
		if (r < 0)
			return -1;
		if (r == 1)
			return runk_error(err, "the agent closed the channel");
	}
	return 0;
}

static bool got_hello(const struct waiter *w)
{
	return w->hello;
}

static bool got_reply(const struct waiter *w)
{
	return w->reply != NULL;
}

static bool got_exit(const struct waiter *w)
{
	return w->exit != NULL;
}

static void waiter_clear(struct waiter *w)
{
	yajl_tree_free(w->reply);
	yajl_tree_free(w->exit);
	free(w->out.data);
	free(w->err.data);
	*w = (struct waiter){0};
}

/* One request line: send, wait, print. */
static int run_request(struct agent_conn *conn, const char *line, size_t len, runk_error_t *err)
{
	yajl_val req = proto_json_parse(line, len, err);
	struct waiter w = {0};
	struct proto_json *out;
	cleanup_free char *text = NULL;
	const char *op = "";
	long long stream = 0, started;
	bool ok = false;
	size_t text_len;

	if (req == NULL)
		return runk_error_prefix(err, "request `%s`", line);
	proto_json_get_string(req, "op", &op, NULL);
	if (strcmp(op, "exec") == 0)
		proto_json_get_int(req, "stream", 1, 1LL << 31, &stream, NULL);
	yajl_tree_free(req);
	w.stream = (uint32_t)stream;
	started = now_ms();
	if (agent_request(conn, line, len, &w.request, err) < 0 ||
	    wait_for(conn, &w, got_reply, "response", err) < 0) {
		waiter_clear(&w);
		return -1;
	}
	out = proto_json_new();
	proto_json_add_int(out, "ms", now_ms() - started);
	proto_json_add_value(out, "reply", w.reply);
	proto_json_get_bool(w.reply, "ok", &ok, NULL);
	if (stream && ok) {
		long long status = 0, sig = 0;

		if (wait_for(conn, &w, got_exit, "exit event", err) < 0) {
			proto_json_free(out);
			waiter_clear(&w);
			return -1;
		}
		proto_json_get_int(w.exit, "status", 0, 255, &status, NULL);
		proto_json_get_int(w.exit, "signal", 0, 64, &sig, NULL);
		proto_json_add_string(out, "stdout", w.out.data ? w.out.data : "");
		proto_json_add_string(out, "stderr", w.err.data ? w.err.data : "");
		proto_json_add_int(out, "status", status);
		proto_json_add_int(out, "signal", sig);
	}
	waiter_clear(&w);
	if (proto_json_finish(out, &text, &text_len, err) < 0)
		return -1;
	printf("%s\n", text);
	fflush(stdout);
	return 0;
}

static int run(char **argv, int argc, const char *dir, runk_error_t *err)
{
	cleanup_free char *agent_sock = NULL, *qmp_sock = NULL, *log = NULL, *line = NULL;
	struct vm_config cfg = {0};
	struct agent_conn conn = {.fd = -1};
	struct waiter w = {0};
	struct vm *vm = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = -1;

	if (asprintf(&agent_sock, "%s/agent.sock", dir) < 0 ||
	    asprintf(&qmp_sock, "%s/qmp.sock", dir) < 0 || asprintf(&log, "%s/qemu.log", dir) < 0)
		abort();
	cfg.kernel = argv[1];
	cfg.initrd = argv[2];
	cfg.share_dir = argv[3];
	cfg.vcpus = (unsigned int)atoi(argv[4]);
	cfg.memory_mib = (unsigned int)atoi(argv[5]);
	cfg.kernel_params = argc > 6 ? argv[6] : NULL;
	cfg.name = "agent-driver";
	cfg.agent_socket = agent_sock;
	cfg.qmp_socket = qmp_sock;
	cfg.qemu_log = log;
	cfg.start_timeout_ms = WAIT_MS;
	if (vm_accel_resolve(VM_ACCEL_AUTO, &cfg.accel, NULL, err) < 0 ||
	    vm_start(&cfg, &vm, err) < 0)
		return -1;
	if (agent_connect(agent_sock, 10000, &conn, err) < 0 ||
	    wait_for(&conn, &w, got_hello, "HELLO", err) < 0)
		goto out;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		while (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && run_request(&conn, line, (size_t)n, err) < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		cleanup_free char *tail = vm_output_tail(vm, 500);

		if (tail && *tail)
			fprintf(stderr, "agent-driver: QEMU said: %s\n", tail);
	}
	agent_close(&conn);
	vm_destroy(vm);
	return ret;
}

static void remove_dir(const char *dir)
{
	static const char *const files[] = {"agent.sock", "qmp.sock", "qemu.log"};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

int main(int argc, char **argv)
{
	cleanup_error runk_error_t err = NULL;
	const char *tmp = getenv("TMPDIR");
	cleanup_free char *text = NULL;
	char dir[64];
	int ret;

	if (argc < 6 || argc > 7) {
		fprintf(stderr, "usage: %s KERNEL INITRD SHARE VCPUS MEMORY_MIB [KERNEL_PARAMS]\n",
			argv[0]);
		return 2;
	}
	/* The sockets need a short path (sun_path). */
	snprintf(dir, sizeof(dir), "%s/agent-driver.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	ret = run(argv, argc, dir, &err);
	if (ret < 0) {
		text = runk_error_text(err);
		fprintf(stderr, "agent-driver: %s\n", text);
	}
	remove_dir(dir);
	return ret < 0 ? 1 : 0;
}
