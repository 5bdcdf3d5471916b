/*
 * Clones: a VM started from its template instead of booted.  QEMU starts
 * with the template's command line, its RAM file mapped private
 * (share=off: copy-on-write, the template is never written) and
 * -incoming defer; the device state comes from devstate; then the host
 * speaks first (the template was saved with the host disconnected): ping,
 * settime, reseed, cpus, mount-share in one batch (factory_greet).
 * Anything that goes wrong kills the clone
 * and the shim boots cold.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "cleanup.h"
#include "factory/factory.h"
#include "log.h"
#include "shim-internal.h"
#include "state.h"

#define CLONE_TIMEOUT_MS 15000 /* restore + first answers; a cold boot is the fallback */
#define RESEED_BYTES	 64

int factory_migrate_caps(struct vm *vm, runk_error_t *err);
bool factory_path_safe(const char *path);

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int query_running(struct vm *vm, bool *running, runk_error_t *err)
{
	yajl_val reply = NULL;
	const char *path[] = {"running", NULL};
	yajl_val v;

	if (qmp_execute(vm_qmp(vm), "query-status", NULL, &reply, err) < 0)
		return -1;
	v = yajl_tree_get(qmp_return(reply), path, yajl_t_any);
	*running = v && YAJL_IS_TRUE(v);
	yajl_tree_free(reply);
	return 0;
}

/* migrate-incoming from a descriptor (getfd), then wait until the VM runs (QEMU exits if the stream
 * is bad). */
int factory_restore(struct vm *vm, const char *devstate, runk_error_t *err)
{
	cleanup_close int fd = open(devstate, O_RDONLY | O_CLOEXEC);
	long long deadline = now_ms() + CLONE_TIMEOUT_MS;
	bool running = false;

	if (fd < 0)
		return runk_error_errno(err, errno, "open `%s`", devstate);
	if (factory_migrate_caps(vm, err) < 0 || qmp_getfd(vm_qmp(vm), "devstate", fd, err) < 0 ||
	    qmp_execute(vm_qmp(vm), "migrate-incoming", "{\"uri\":\"fd:devstate\"}", NULL, err) < 0)
		return -1;
	for (;;) {
		if (vm_wait(vm, 0, NULL, NULL) == 1) {
			cleanup_free char *tail = vm_output_tail(vm, 300);

			return runk_error(err, "QEMU exited while restoring%s%s", *tail ? ": " : "",
					  tail);
		}
		if (query_running(vm, &running, err) < 0)
			return -1;
		if (running)
			return 0;
		if (now_ms() > deadline)
			return runk_error(err, "the clone was not running after %d s",
					  CLONE_TIMEOUT_MS / 1000);
		usleep(2000);
	}
}

#define BATCH_MAX 8

/*
 * Requests sent together and answered in order (the agent serves one
 * connection's requests one after the other), and what else is awaited.
 */
struct batch {
	size_t n;
	uint32_t ids[BATCH_MAX];
	yajl_val replies[BATCH_MAX];
	uint32_t exit_stream; /* the exit EVENT awaited, 0 for none */
	bool exited;
};

static void batch_release(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		yajl_tree_free(b->replies[i]);
	b->n = 0;
}

static int on_exit_event(struct batch *b, const struct proto_frame *frame, runk_error_t *err)
{
	yajl_val event = proto_json_parse(frame->payload, frame->len, err);
	const char *name = NULL;

	if (event == NULL)
		return -1;
	b->exited = proto_json_get_string(event, "event", &name, NULL) == 0 &&
		    strcmp(name, "exit") == 0;
	yajl_tree_free(event);
	return 0;
}

/* A clone says nothing unasked; a warm-up container's stream may also carry output and its exit. */
static int on_frame(void *user, struct proto_frame *frame, runk_error_t *err)
{
	struct batch *b = user;

	for (size_t i = 0; frame->type == PROTO_RESPONSE && i < b->n; i++) {
		if (frame->id != b->ids[i] || b->replies[i])
			continue;
		b->replies[i] = proto_json_parse(frame->payload, frame->len, err);
		return b->replies[i] ? 0 : -1;
	}
	if (b->exit_stream && frame->id == b->exit_stream) {
		if (frame->type == PROTO_EVENT)
			return on_exit_event(b, frame, err);
		if (frame->type == PROTO_STDOUT || frame->type == PROTO_STDERR)
			return 0;
	}
	return runk_error(err, "unexpected %s frame from a clone", proto_type_name(frame->type));
}

static bool batch_done(const struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->replies[i] == NULL)
			return false;
	return b->exit_stream == 0 || b->exited;
}

/* Read frames until b is done, with the clone's own short timeout (the shim's is for real work). */
static int batch_wait(struct agent_conn *agent, struct batch *b, runk_error_t *err)
{
	long long deadline = now_ms() + CLONE_TIMEOUT_MS;

	while (!batch_done(b)) {
		struct pollfd pfd = {.fd = agent->fd, .events = POLLIN};
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return runk_error(err, "no answer from the clone's agent");
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return runk_error_errno(err, errno, "poll");
		if (r <= 0)
			continue;
		r = agent_read(agent, on_frame, b, err);
		if (r < 0)
			return -1;
		if (r == 1 && !batch_done(b))
			return runk_error(err, "the clone closed the agent channel");
	}
	return 0;
}

/* The first failed reply's error (the agent names the op in it). */
static int batch_check(const struct batch *b, runk_error_t *err)
{
	for (size_t i = 0; i < b->n; i++) {
		const char *msg = "unknown error";
		bool ok = false;

		if (proto_json_get_bool(b->replies[i], "ok", &ok, err) < 0)
			return -1;
		if (!ok) {
			proto_json_get_string(b->replies[i], "error", &msg, NULL);
			return runk_error(err, "%s", msg);
		}
	}
	return 0;
}

/* Send n requests at once (each json is consumed), then wait for every answer. */
static int agent_batch(struct agent_conn *agent, struct proto_json **jsons, size_t n,
		       runk_error_t *err)
{
	struct batch b = {0};
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		cleanup_free char *text = NULL;
		size_t len;

		if (ret == 0 && (proto_json_finish(jsons[i], &text, &len, err) < 0 ||
				 agent_request(agent, text, len, &b.ids[b.n], err) < 0))
			ret = -1;
		else if (ret == 0)
			b.n++;
		else
			proto_json_free(jsons[i]);
	}
	if (ret == 0 && (batch_wait(agent, &b, err) < 0 || batch_check(&b, err) < 0))
		ret = -1;
	batch_release(&b);
	return ret;
}

int factory_agent_call(struct agent_conn *agent, struct proto_json *json, runk_error_t *err)
{
	return agent_batch(agent, &json, 1, err);
}

int factory_agent_wait_exit(struct agent_conn *agent, uint32_t stream, runk_error_t *err)
{
	struct batch b = {.exit_stream = stream};

	if (batch_wait(agent, &b, err) < 0)
		return runk_error_prefix(err, "the exit of stream %u", stream);
	return 0;
}

static struct proto_json *op_request(const char *op)
{
	struct proto_json *json = proto_json_new();

	proto_json_add_string(json, "op", op);
	return json;
}

int factory_agent_simple(struct agent_conn *agent, const char *op, runk_error_t *err)
{
	return factory_agent_call(agent, op_request(op), err);
}

/* Host entropy for the guest to add and reseed its CRNG from at once. */
static struct proto_json *reseed_request(runk_error_t *err)
{
	unsigned char bytes[RESEED_BYTES];
	char hex[2 * RESEED_BYTES + 1];
	struct proto_json *json;

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
		runk_error_errno(err, errno, "getrandom");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
	explicit_bzero(bytes, sizeof(bytes));
	json = op_request("reseed");
	proto_json_add_string(json, "entropy", hex);
	explicit_bzero(hex, sizeof(hex));
	return json;
}

int factory_greet(struct agent_conn *agent, unsigned int what, unsigned int vcpus,
		  runk_error_t *err)
{
	struct proto_json *reqs[BATCH_MAX];
	struct proto_json *reseed = reseed_request(err);
	size_t n = 0;

	if (reseed == NULL)
		return -1;
	/*
	 * The order matters: the clock (the template's is behind) and the
	 * clone's own entropy (its CRNG state is the template's) come before
	 * anything of the container.  One batch keeps that order: the agent
	 * answers each request before it reads the next.
	 */
	if (what & FACTORY_GREET_PING)
		reqs[n++] = op_request("ping");
	if (what & FACTORY_GREET_CLOCK)
		reqs[n++] = shim_settime_request();
	reqs[n++] = reseed;
	if (vcpus > 1) {
		reqs[n] = op_request("cpus");
		proto_json_add_int(reqs[n++], "online", vcpus);
	}
	if (what & FACTORY_GREET_SHARE)
		reqs[n++] = op_request("mount-share");
	return agent_batch(agent, reqs, n, err);
}

static void undo(struct shim *s)
{
	agent_close(&s->agent);
	if (s->qemu_fd >= 0)
		close(s->qemu_fd);
	s->qemu_fd = -1;
	vm_destroy(s->vm);
	s->vm = NULL;
}

static int start_clone(struct shim *s, const struct vm_config *base, const char *key,
		       runk_error_t *err)
{
	const struct runk_conf *conf = s->opts->conf;
	cleanup_free char *params = factory_params(base);
	cleanup_free char *mem = factory_path(conf, key, "mem");
	cleanup_free char *devstate = factory_path(conf, key, "devstate");
	struct vm_config cfg;

	factory_template_config(base, params, factory_template_vcpus(conf), &cfg);
	/* Per VM, not part of the key: */
	cfg.name = base->name;
	cfg.agent_socket = base->agent_socket;
	cfg.qmp_socket = base->qmp_socket;
	cfg.share_dir = base->share_dir;
	cfg.qemu_log = base->qemu_log;
	cfg.console_log = base->console_log;
	cfg.mem_path = mem;
	cfg.mem_shared = false; /* share=on would write the clone's memory into the template */
	cfg.incoming = true;
	if (vm_start(&cfg, &s->vm, err) < 0)
		return -1;
	s->qemu_fd = (int)syscall(SYS_pidfd_open, vm_pid(s->vm), 0);
	if (s->qemu_fd < 0)
		return runk_error_errno(err, errno, "pidfd_open QEMU");
	if (factory_restore(s->vm, devstate, err) < 0 ||
	    agent_connect(base->agent_socket, 5000, &s->agent, err) < 0)
		return -1;
	return factory_greet(&s->agent, FACTORY_GREET_ALL, base->vcpus, err);
}

/*
 * A pooled VM: already restored and stopped in its own mount namespace.  It
 * gets the container's share, its cgroups, then runs and hears the host.
 */
static int start_pooled(struct shim *s, const struct factory_claim *claim, runk_error_t *err)
{
	const struct shim_options *o = s->opts;
	cleanup_free char *share = NULL, *qmp = NULL, *log = NULL;

	if (asprintf(&share, "%s/%s/%s", o->state_dir, SHARE_DIR, o->id) < 0 ||
	    asprintf(&qmp, "%s/qmp.sock", claim->dir) < 0 ||
	    asprintf(&log, "%s/qemu.log", claim->dir) < 0)
		abort();
	if (vm_adopt(claim->qemu, qmp, log, 5000, &s->vm, err) < 0)
		return -1;
	s->qemu_fd = (int)syscall(SYS_pidfd_open, claim->qemu, 0);
	if (s->qemu_fd < 0)
		return runk_error_errno(err, errno, "pidfd_open QEMU");
	/* The keeper's agent connection, already past the first ping and a reseed. */
	s->agent.fd = dup(claim->agent_fd);
	if (s->agent.fd < 0)
		return runk_error_errno(err, errno, "dup");
	fcntl(s->agent.fd, F_SETFD, FD_CLOEXEC);
	proto_decoder_init(&s->agent.decoder, PROTO_PEER_GUEST);
	proto_pending_init(&s->agent.pending);
	if (factory_pool_share(claim, share, o->id, err) < 0)
		return -1;
	/* A pod member's share goes where this one went (shim-pod.c). */
	free(s->share_root);
	free(s->vm_share_root);
	if (asprintf(&s->share_root, "%s/share", claim->dir) < 0)
		abort();
	s->vm_share_root = strdup(claim->jailed ? "/share" : s->share_root);
	/*
	 * Born in the keeper's cgroups: QEMU joins the shim's as a QEMU it started
	 * would be (systemd and cgroup2 placement moves the whole QEMU later anyway).
	 */
	if (o->cgroups && o->cgroups->manager == CGROUP_MANAGER_FS &&
	    cgroup_enter(o->cgroups, claim->qemu, o->resources, err) < 0)
		return -1;
	factory_claim_priority(claim->qemu);
	if (qmp_execute(vm_qmp(s->vm), "cont", NULL, NULL, err) < 0)
		return -1;
	/* Time passed while it waited; its own entropy again, then the share. */
	return factory_greet(&s->agent, FACTORY_GREET_CLOCK | FACTORY_GREET_SHARE, o->vcpus, err);
}

static unsigned int failures(const struct runk_conf *conf, const char *key)
{
	cleanup_free char *path = NULL;
	unsigned int count = 0;
	FILE *f;

	if (asprintf(&path, "%s/%s.failures", conf->template_dir, key) < 0)
		abort();
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%u", &count) != 1)
			count = 0;
		fclose(f);
	}
	return count;
}

static void mark_used(const struct runk_conf *conf, const char *key)
{
	cleanup_free char *used = factory_path(conf, key, "used");
	FILE *f = fopen(used, "we");

	if (f)
		fclose(f);
}

/* A pooled VM if one is ready: true once it answered; false leaves nothing behind. */
static bool try_pool(struct shim *s, const struct vm_config *cfg, const char *key,
		     long long started)
{
	const struct runk_conf *conf = s->opts->conf;
	cleanup_error runk_error_t err = NULL;
	const struct oci_linux_resources *res = s->opts->resources;
	struct factory_claim claim;

	/*
	 * A pids limit holds when a task is forked, not when one moves in: a
	 * pooled QEMU, started elsewhere and moved into the container's cgroups,
	 * would run past it.  Only a QEMU the shim starts under it is bound.
	 */
	if (res && res->pids && res->pids->has_limit && res->pids->limit > 0) {
		log_debug("no pooled VM for %s: its pids limit binds only a QEMU started under it",
			  s->opts->id);
		return false;
	}
	if (factory_pool_claim(conf, key, &claim) < 0) {
		log_debug("no pooled VM ready for template %s", key);
		return false;
	}
	if (start_pooled(s, &claim, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		undo(s);
		factory_claim_release(&claim);
		log_warning("starting %s from a pooled VM failed, trying the template: %s",
			    s->opts->id, text);
		return false;
	}
	/* keeper_fd stays open for the shim's life: the keeper kills the VM when it closes. */
	s->keeper_fd = claim.keeper_fd;
	close(claim.agent_fd);
	free(claim.dir);
	mark_used(conf, key);
	factory_count(conf, key, FACTORY_START_POOL);
	s->hello = true; /* the keeper started the replacement */
	s->clock_set = true;
	log_debug("VM for %s taken from the pool of template %s in %lld ms", s->opts->id, key,
		  now_ms() - started);
	return true;
}

int factory_try_clone(struct shim *s, const struct vm_config *cfg)
{
	const struct runk_conf *conf = s->opts->conf;
	cleanup_error runk_error_t err = NULL;
	cleanup_free char *dir = NULL;
	char key[FACTORY_KEY_LEN + 1];
	long long started = now_ms();
	struct stat st;

	if (!conf->template_enabled)
		return -1;
	if (!factory_path_safe(conf->template_dir)) {
		log_warning("templates off: [factory] template_dir `%s` must be an absolute path "
			    "of letters, digits and /._-+",
			    conf->template_dir);
		return -1;
	}
	if (factory_key(cfg, conf, key, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_debug("cold boot without a template: %s", text);
		return -1;
	}
	dir = factory_path(conf, key, NULL);
	if (stat(dir, &st) < 0) {
		if (failures(conf, key) >= FACTORY_MAX_FAILURES) {
			log_debug("template %s: not rebuilt after %d failed clones", key,
				  FACTORY_MAX_FAILURES);
			factory_count(conf, key, FACTORY_START_COLD);
			return -1;
		}
		log_debug("no template %s yet: cold boot, building one in the background", key);
		factory_count(conf, key, FACTORY_START_COLD);
		factory_build_background(cfg, conf, s->opts->state_dir);
		return -1;
	}
	if (try_pool(s, cfg, key, started))
		return 0;
	if (start_clone(s, cfg, key, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		undo(s);
		log_warning("starting %s from template %s failed, booting it cold: %s", s->opts->id,
			    key, text);
		factory_template_bad(conf, key, text);
		factory_count(conf, key, FACTORY_START_COLD);
		if (failures(conf, key) < FACTORY_MAX_FAILURES)
			factory_build_background(cfg, conf, s->opts->state_dir);
		return -1;
	}
	mark_used(conf, key);
	factory_count(conf, key, FACTORY_START_TEMPLATE);
	factory_pool_fill(cfg, conf, key, s->opts->state_dir);
	s->hello = true;
	s->clock_set = true;
	log_debug("VM for %s cloned from template %s in %lld ms", s->opts->id, key,
		  now_ms() - started);
	return 0;
}
