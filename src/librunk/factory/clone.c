/*
 * Clones: a VM started from its template instead of booted.  QEMU starts
 * with the template's command line, its RAM file mapped private
 * (share=off: copy-on-write, the template is never written) and
 * -incoming defer; the device state comes from devstate; then the host
 * speaks first (the template was saved with the host disconnected): ping,
 * settime, reseed, mount-share.  Anything that goes wrong kills the clone
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

struct call {
	uint32_t id;
	yajl_val reply;
};

static int on_frame(void *user, struct proto_frame *frame, runk_error_t *err)
{
	struct call *c = user;

	if (frame->type == PROTO_RESPONSE && frame->id == c->id && c->reply == NULL) {
		c->reply = proto_json_parse(frame->payload, frame->len, err);
		return c->reply ? 0 : -1;
	}
	return runk_error(err, "unexpected %s frame from a clone", proto_type_name(frame->type));
}

/* One request, with the clone's own short timeout (the shim's is for real work). */
int factory_agent_call(struct agent_conn *agent, struct proto_json *json, runk_error_t *err)
{
	cleanup_free char *text = NULL;
	long long deadline = now_ms() + CLONE_TIMEOUT_MS;
	struct call c = {0};
	bool ok = false;
	size_t len;
	int ret = 0;

	if (proto_json_finish(json, &text, &len, err) < 0 ||
	    agent_request(agent, text, len, &c.id, err) < 0)
		return -1;
	while (c.reply == NULL) {
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
		r = agent_read(agent, on_frame, &c, err);
		if (r < 0)
			return -1;
		if (r == 1 && c.reply == NULL)
			return runk_error(err, "the clone closed the agent channel");
	}
	if (proto_json_get_bool(c.reply, "ok", &ok, err) < 0)
		ret = -1;
	else if (!ok) {
		const char *msg = "unknown error";

		proto_json_get_string(c.reply, "error", &msg, NULL);
		ret = runk_error(err, "%s", msg);
	}
	yajl_tree_free(c.reply);
	return ret;
}

static int simple_op(struct agent_conn *agent, const char *op, runk_error_t *err)
{
	struct proto_json *json = proto_json_new();

	proto_json_add_string(json, "op", op);
	if (factory_agent_call(agent, json, err) < 0)
		return runk_error_prefix(err, "%s", op);
	return 0;
}

static int settime(struct agent_conn *agent, runk_error_t *err)
{
	/* The clone's clock is the template's, minutes or days behind. */
	if (factory_agent_call(agent, shim_settime_request(), err) < 0)
		return runk_error_prefix(err, "settime");
	return 0;
}

int factory_reseed(struct agent_conn *agent, runk_error_t *err)
{
	unsigned char bytes[RESEED_BYTES];
	char hex[2 * RESEED_BYTES + 1];
	struct proto_json *json;

	/* Every clone starts with the template's CRNG state: make it its own. */
	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		return runk_error_errno(err, errno, "getrandom");
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
	explicit_bzero(bytes, sizeof(bytes));
	json = proto_json_new();
	proto_json_add_string(json, "op", "reseed");
	proto_json_add_string(json, "entropy", hex);
	explicit_bzero(hex, sizeof(hex));
	if (factory_agent_call(agent, json, err) < 0)
		return runk_error_prefix(err, "reseed");
	return 0;
}

/* The host speaks first to a restored VM. */
static int first_words(struct shim *s, const char *agent_socket, unsigned int vcpus,
		       runk_error_t *err)
{
	if (agent_connect(agent_socket, 5000, &s->agent, err) < 0)
		return -1;
	/* The order matters: nothing container-specific before the clock and the entropy. */
	if (simple_op(&s->agent, "ping", err) < 0 || settime(&s->agent, err) < 0 ||
	    factory_reseed(&s->agent, err) < 0 || factory_online_cpus(&s->agent, vcpus, err) < 0 ||
	    simple_op(&s->agent, "mount-share", err) < 0)
		return -1;
	return 0;
}

int factory_online_cpus(struct agent_conn *agent, unsigned int vcpus, runk_error_t *err)
{
	struct proto_json *json;

	if (vcpus <= 1)
		return 0;
	json = proto_json_new();
	proto_json_add_string(json, "op", "cpus");
	proto_json_add_int(json, "online", vcpus);
	if (factory_agent_call(agent, json, err) < 0)
		return runk_error_prefix(err, "cpus");
	return 0;
}

int factory_agent_ping(struct agent_conn *agent, runk_error_t *err)
{
	return simple_op(agent, "ping", err);
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
	if (factory_restore(s->vm, devstate, err) < 0)
		return -1;
	return first_words(s, base->agent_socket, base->vcpus, err);
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
	if (qmp_execute(vm_qmp(s->vm), "cont", NULL, NULL, err) < 0)
		return -1;
	/* Time passed while it waited; its own entropy again, then the share. */
	if (settime(&s->agent, err) < 0 || factory_reseed(&s->agent, err) < 0 ||
	    factory_online_cpus(&s->agent, o->vcpus, err) < 0 ||
	    simple_op(&s->agent, "mount-share", err) < 0)
		return -1;
	return 0;
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
	struct factory_claim claim;

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
	close(claim.agent_fd);
	free(claim.dir);
	mark_used(conf, key);
	factory_count(conf, key, FACTORY_START_POOL);
	s->hello = true; /* the keeper started the replacement */
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
	log_debug("VM for %s cloned from template %s in %lld ms", s->opts->id, key,
		  now_ms() - started);
	return 0;
}
