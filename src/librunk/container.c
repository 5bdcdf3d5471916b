#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "cgroups/cgroup.h"
#include "cleanup.h"
#include "console.h"
#include "container.h"
#include "fault.h"
#include "hooks.h"
#include "id.h"
#include "log.h"
#include "member.h"
#include "network/network.h"
#include "ocispec.h"
#include "proto.h"
#include "shim.h"
#include "shimctl.h"
#include "state.h"
#include "status.h"
#include "util.h"
#include "vmsize.h"

/* A SIGKILL is delivered even when the guest does not answer within this time: the VM dies. */
#define KILL_TIMEOUT_MS 10000

/* What create needs from the bundle, checked before anything is made. */
struct bundle_info {
	char *bundle;
	char *config_path;
	char *rootfs;
	char *config_text;
	size_t config_len;
	struct oci_config *config;
	struct vm_size size;
	struct cgroup_plan cgroups;
	struct pod_info pod;
	/* A pod's member: its sandbox, and what it shares with it. */
	char *sandbox_dir;
	struct pod_member_plan member;
};

static void bundle_info_release(struct bundle_info *b)
{
	free(b->bundle);
	free(b->config_path);
	free(b->rootfs);
	free(b->config_text);
	oci_config_free(b->config);
	vm_size_release(&b->size);
	cgroup_plan_release(&b->cgroups);
	free(b->sandbox_dir);
	pod_member_plan_release(&b->member);
}

static const struct oci_linux_resources *bundle_resources(const struct bundle_info *b)
{
	return b->config->linux ? b->config->linux->resources : NULL;
}

static int bundle_load(const char *bundle, const char *id, const struct runk_conf *conf,
		       struct bundle_info *b, runk_error_t *err)
{
	cleanup_free char *parse_error = NULL;
	cleanup_free char *root = NULL;
	struct stat st;

	b->bundle = realpath(bundle ? bundle : ".", NULL);
	if (b->bundle == NULL)
		return runk_error_errno(err, errno, "bundle `%s`", bundle ? bundle : ".");
	if (asprintf(&b->config_path, "%s/config.json", b->bundle) < 0)
		abort();
	if (read_file(b->config_path, 16 * 1024 * 1024, &b->config_text, &b->config_len, err) < 0)
		return -1;
	b->config = oci_config_parse_data(b->config_text, b->config_len, &parse_error);
	if (b->config == NULL)
		return runk_error(err, "invalid `%s`: %s", b->config_path,
				  parse_error ? parse_error : "cannot parse");
	if (b->config->root == NULL || b->config->root->path == NULL)
		return runk_error(err, "invalid `%s`: root.path: missing", b->config_path);
	if (b->config->process == NULL || b->config->process->args_len == 0)
		return runk_error(err, "invalid `%s`: process.args: missing", b->config_path);
	if (hooks_check_paths(b->config->hooks, b->config_path, err) < 0)
		return -1;
	if (b->config->root->path[0] == '/')
		root = strdup(b->config->root->path);
	else if (asprintf(&root, "%s/%s", b->bundle, b->config->root->path) < 0)
		abort();
	b->rootfs = realpath(root, NULL);
	if (b->rootfs == NULL || stat(b->rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
		return runk_error(err, "rootfs `%s` does not exist or is not a directory", root);
	if (pod_info_of(b->config, id, &b->pod, err) < 0)
		return runk_error_prefix(err, "invalid `%s`", b->config_path);
	/* A pod's member has no VM of its own to size: it joins its sandbox's. */
	if (b->pod.role == POD_MEMBER)
		return 0;
	return vm_size_compute(b->config, conf, &b->pod, &b->size, err);
}

/*
 * A pod's member: its sandbox must be a live pod sandbox under the same
 * root; the namespaces the member names must be the sandbox's.
 */
static int member_load(const struct runk_context *ctx, const char *id, struct bundle_info *b,
		       runk_error_t *err)
{
	struct runk_state sandbox __attribute__((cleanup(state_release))) = {0};
	cleanup_free char *path = NULL, *parse_error = NULL;
	const char *sandbox_id = b->pod.sandbox_id;
	struct oci_config *config;
	struct pod_info pod;
	int ret;

	if (state_load(ctx->root, sandbox_id, &sandbox, &b->sandbox_dir, err) < 0)
		return runk_error_prefix(err, "the pod sandbox of container `%s`", id);
	if (!state_shim_alive(&sandbox))
		return runk_error(err, "the pod sandbox `%s` of container `%s` has stopped",
				  sandbox_id, id);
	if (asprintf(&path, "%s/%s", b->sandbox_dir, CONFIG_COPY) < 0)
		abort();
	config = oci_config_parse_file(path, &parse_error);
	if (config == NULL)
		return runk_error(err, "`%s`: %s", path,
				  parse_error ? parse_error : "cannot parse");
	ret = pod_info_of(config, sandbox_id, &pod, err);
	if (ret == 0 && pod.role != POD_SANDBOX)
		ret = runk_error(err, "container `%s` is not a pod sandbox: `%s` cannot join it",
				 sandbox_id, id);
	if (ret == 0)
		ret = pod_member_plan_make(b->config_text, b->config_len, b->config, config,
					   sandbox.pid, sandbox_id, &b->member, err);
	oci_config_free(config);
	return ret < 0 ? runk_error_prefix(err, "invalid `%s`", b->config_path) : 0;
}

/* The config.json kept in the state directory (hooks at start and delete come from it). */
static struct oci_config *config_load_copy(const char *dir, runk_error_t *err)
{
	cleanup_free char *path = NULL;
	cleanup_free char *parse_error = NULL;
	struct oci_config *config;

	if (asprintf(&path, "%s/%s", dir, CONFIG_COPY) < 0)
		abort();
	config = oci_config_parse_file(path, &parse_error);
	if (config == NULL)
		runk_error(err, "`%s`: %s", path, parse_error ? parse_error : "cannot parse");
	return config;
}

static int write_pid_file(const char *path, pid_t pid, runk_error_t *err)
{
	char text[32];
	int len = snprintf(text, sizeof(text), "%d", pid);

	return write_file_atomic(path, text, (size_t)len, 0644, err);
}

static int record_state(const char *dir, const char *id, const struct bundle_info *b, pid_t pid,
			runk_error_t *err)
{
	struct oci_string_map *annotations = b->config->annotations;
	struct runk_state st = {
		.id = (char *)id,
		.bundle = b->bundle,
		.rootfs = b->rootfs,
		.owner = (char *)"",
		.pid = pid,
		.vcpus = b->size.vcpus,
		.memory_mib = b->size.memory_mib,
		.annotation_keys = annotations ? annotations->keys : NULL,
		.annotation_values = annotations ? annotations->values : NULL,
		.n_annotations = annotations ? annotations->len : 0,
	};
	char created[64];

	format_rfc3339_now(created, sizeof(created));
	st.created = created;
	if (proc_start_time(pid, &st.pid_start_time, err) < 0)
		return -1;
	return state_write(dir, &st, err);
}

/* The OCI state a hook reads on its stdin. */
static char *hook_state(const struct runk_context *ctx, const char *id, const char *status,
			runk_error_t *err)
{
	struct container_status cs __attribute__((cleanup(container_status_release))) = {0};
	char *text;

	if (container_status_load(ctx, id, &cs, err) < 0)
		return NULL;
	cs.status = status;
	text = container_status_json(&cs);
	return text;
}

static int run_hooks(const struct runk_context *ctx, const char *id, const char *kind,
		     struct oci_hook **hooks, size_t n, const char *status, runk_error_t *err)
{
	cleanup_free char *state = NULL;

	if (n == 0)
		return 0;
	state = hook_state(ctx, id, status, err);
	if (state == NULL)
		return -1;
	return hooks_run(kind, hooks, n, state, err);
}

/* Remove the host cgroups recorded in a state dir (cgroups/cgroup.h). */
static int remove_cgroups(const char *dir, runk_error_t *err)
{
	struct cgroup_plan plan __attribute__((cleanup(cgroup_plan_release))) = {0};
	bool found;

	if (cgroup_plan_load(dir, &plan, &found, err) < 0)
		return -1;
	return found ? cgroup_destroy(&plan, err) : 0;
}

/* Undo a create that failed after the state directory was made. */
static void abandon(const char *dir, pid_t shim)
{
	cleanup_error runk_error_t err = NULL;

	/* QEMU must be gone too before its cgroups can be removed. */
	if (shim > 0 && kill_process_tree(shim, 5000) < 0)
		log_warning("cleanup: the shim (pid %d) or its VM did not die", shim);
	/* Each step is tried even when another failed: leave as little as possible. */
	if (remove_cgroups(dir, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_warning("cleanup: %s", text);
		runk_error_free(&err);
	}
	if (state_dir_remove(dir, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_warning("cleanup: %s", text);
	}
}

static int save_config_copy(const char *dir, const struct bundle_info *b, runk_error_t *err)
{
	cleanup_free char *path = NULL;

	if (asprintf(&path, "%s/%s", dir, CONFIG_COPY) < 0)
		abort();
	return write_file_atomic(path, b->config_text, b->config_len, 0600, err);
}

/* In the forked child: a pod's member gets a member shim instead of a VM (member.h). */
__attribute__((noreturn)) static void member_main_for(const struct shim_options *so,
						      const struct bundle_info *b)
{
	const struct oci_linux_resources *res = bundle_resources(b);
	struct member_options mo = {
		.id = so->id,
		.state_dir = so->state_dir,
		.config = so->config,
		.bind_base = so->bind_base,
		.rootfs = so->rootfs,
		.sandbox_dir = b->sandbox_dir,
		.plan = &b->member,
		.terminal = so->terminal,
		.no_pivot = so->no_pivot,
		.console_fd = so->console_fd,
		.sync_fd = so->sync_fd,
		.cgroups = so->cgroups,
		.resources = res,
	};

	if (res && res->cpu && res->cpu->has_quota && res->cpu->has_period) {
		mo.cpu_quota = res->cpu->quota;
		mo.cpu_period = res->cpu->period;
	}
	member_main(&mo);
}

/* Fork the shim and wait until it reports the container created (or why not). */
static int spawn_shim(const struct runk_context *ctx, const struct container_create_options *o,
		      const struct bundle_info *b, const char *dir, int lock, pid_t *shim,
		      runk_error_t *err)
{
	bool terminal = b->config->process->terminal;
	cleanup_close int console = -1;
	int sync[2];
	pid_t pid;

	if (terminal && o->console_socket) {
		console = console_send_master(o->console_socket, err);
		if (console < 0)
			return -1;
	} else if (terminal && o->detach) {
		return runk_error(err,
				  "cannot allocate a terminal for a detached container without "
				  "--console-socket");
	} else if (terminal) {
		/* runk run in the caller's terminal: runk run restores it when the container ends.
		 */
		console_make_raw(STDIN_FILENO);
	}
	if (pipe2(sync, O_CLOEXEC) < 0)
		return runk_error_errno(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(sync[0]);
		close(sync[1]);
		return runk_error_errno(err, errno, "fork the shim");
	}
	if (pid == 0) {
		struct shim_options so = {
			.id = o->id,
			.state_dir = dir,
			.rootfs = b->rootfs,
			.config = b->config,
			.config_text = b->config_text,
			.config_len = b->config_len,
			/* The runtime spec: a relative bind source is relative to the bundle. */
			.bind_base = b->bundle,
			.conf = ctx->conf,
			.debug = ctx->debug,
			.vcpus = b->size.vcpus,
			.memory_mib = b->size.memory_mib,
			.pod_sandbox = b->pod.role == POD_SANDBOX,
			.max_vcpus = b->size.max_vcpus,
			.pod_cpus = b->size.cpus,
			.kernel_params = b->size.kernel_params,
			.terminal = terminal,
			.no_pivot = o->no_pivot,
			.console_fd = console,
			.sync_fd = sync[1],
			.cgroups = &b->cgroups,
			.resources = bundle_resources(b),
		};

		close(sync[0]);
		close(lock);
		if (o->detach)
			setsid();
		if (b->pod.role == POD_MEMBER)
			member_main_for(&so, b);
		/* With a console socket the init's stdio is the pty.  Like runc's init, the
		 * shim must not hold the caller's stdio: containerd's shim reads create's
		 * output until EOF, and would wait as long as the container runs. */
		if (console >= 0)
			stdio_to_dev_null();
		shim_main(&so);
	}
	close(sync[1]);
	*shim = pid;
	if (shim_wait_created(sync[0], err) < 0) {
		close(sync[0]);
		return -1;
	}
	close(sync[0]);
	return 0;
}

/* Where the container's cgroups go (checked before anything is made). */
static int plan_cgroups(const struct runk_context *ctx, const char *id, struct bundle_info *b,
			runk_error_t *err)
{
	struct cgroup_plan_options po = {
		.id = id,
		.cgroups_path = b->config->linux ? b->config->linux->cgroups_path : NULL,
		.systemd = ctx->systemd_cgroup,
		.sandbox_only = ctx->conf->sandbox_cgroup_only,
		.vm_memory_mib = b->size.memory_mib,
		.memory_overhead_mib = ctx->conf->memory_overhead_mib,
	};

	/*
	 * A pod's member holds only its member shim on the host: its own
	 * cgroup, with its own limits (engines read its figures there).
	 */
	if (b->pod.role == POD_MEMBER) {
		po.sandbox_only = true;
		po.vm_memory_mib = 0;
		po.memory_overhead_mib = 0;
	}
	return cgroup_plan_make(&po, &b->cgroups, err);
}

int container_create(const struct runk_context *ctx, const struct container_create_options *o,
		     pid_t *shim_pid, runk_error_t *err)
{
	struct bundle_info b __attribute__((cleanup(bundle_info_release))) = {0};
	struct oci_hooks *hooks;
	cleanup_free char *dir = NULL;
	cleanup_free char *tmp = NULL;
	cleanup_close int lock = -1;
	pid_t pid = 0;

	/* The id first: a bad id is named as such, not by what it would have made. */
	if (runk_id_validate(o->id, err) < 0)
		return -1;
	if (bundle_load(o->bundle, o->id, ctx->conf, &b, err) < 0 ||
	    (b.pod.role == POD_MEMBER && member_load(ctx, o->id, &b, err) < 0) ||
	    plan_cgroups(ctx, o->id, &b, err) < 0)
		return -1;
	/*
	 * The state directory appears under its name already locked and holding what delete
	 * needs (the cgroup plan): a delete or create racing on the same id either finds
	 * nothing or waits for our lock.
	 */
	lock = state_dir_begin(ctx->root, o->id, &tmp, err);
	if (lock < 0)
		return -1;
	if (save_config_copy(tmp, &b, err) < 0 || cgroup_plan_save(&b.cgroups, tmp, err) < 0) {
		remove_tree(tmp, NULL);
		return -1;
	}
	if (state_dir_commit(ctx->root, o->id, tmp, &dir, err) < 0)
		return -1;
	fault_point(FAULT_STATE_DIR_CREATED);
	if (cgroup_create(&b.cgroups, bundle_resources(&b), err) < 0) {
		abandon(dir, pid);
		return -1;
	}
	fault_point(FAULT_CGROUPS_CREATED);
	if (spawn_shim(ctx, o, &b, dir, lock, &pid, err) < 0 ||
	    record_state(dir, o->id, &b, pid, err) < 0) {
		abandon(dir, pid);
		return -1;
	}
	/* The VM exists and the container is created: the host-side hooks of creation run now. */
	hooks = b.config->hooks;
	if (hooks && (run_hooks(ctx, o->id, "prestart", hooks->prestart, hooks->prestart_len,
				"created", err) < 0 ||
		      run_hooks(ctx, o->id, "createRuntime", hooks->create_runtime,
				hooks->create_runtime_len, "created", err) < 0)) {
		abandon(dir, pid);
		return -1;
	}
	if (o->pid_file && write_pid_file(o->pid_file, pid, err) < 0) {
		abandon(dir, pid);
		return -1;
	}
	*shim_pid = pid;
	return 0;
}

/*
 * Lock a container's state directory.  A create in progress (locked, no
 * state.json yet) is refused at once rather than waited for (a VM boot); a
 * locked container is waited for.
 */
static int lock_container(const char *dir, const char *id, runk_error_t *err)
{
	cleanup_free char *state_path = NULL;
	int lock = state_dir_lock(dir, false, err);

	if (lock != STATE_DIR_BUSY)
		return lock;
	if (asprintf(&state_path, "%s/%s", dir, STATE_FILE) < 0)
		abort();
	if (access(state_path, F_OK) < 0)
		return runk_error(err, "container `%s` is being created", id);
	return state_dir_lock(dir, true, err);
}

/* Load the state of a container and whether its shim still lives. */
static int load_live(const struct runk_context *ctx, const char *id, struct runk_state *st,
		     char **dir, bool *alive, runk_error_t *err)
{
	if (state_load(ctx->root, id, st, dir, err) < 0)
		return -1;
	*alive = state_shim_alive(st);
	return 0;
}

int container_start(const struct runk_context *ctx, const char *id, runk_error_t *err)
{
	struct runk_state st __attribute__((cleanup(state_release))) = {0};
	cleanup_free char *dir = NULL;
	cleanup_close int lock = -1;
	struct oci_config *config;
	bool alive;
	int ret = 0;

	if (state_dir_path(ctx->root, id, &dir, err) < 0)
		return -1;
	lock = lock_container(dir, id, err);
	if (lock < 0)
		return -1;
	free(steal_pointer(&dir));
	if (load_live(ctx, id, &st, &dir, &alive, err) < 0)
		return -1;
	if (!alive)
		return runk_error(err, "cannot start a container that has stopped");
	if (shimctl_call(dir, "{\"op\":\"start\"}", SHIMCTL_TIMEOUT_MS, NULL, err) < 0)
		return -1;
	config = config_load_copy(dir, err);
	if (config == NULL)
		return -1;
	if (config->hooks)
		ret = run_hooks(ctx, id, "poststart", config->hooks->poststart,
				config->hooks->poststart_len, "running", err);
	oci_config_free(config);
	return ret;
}

int container_kill(const struct runk_context *ctx, const char *id, int signo, bool all,
		   runk_error_t *err)
{
	struct runk_state st __attribute__((cleanup(state_release))) = {0};
	cleanup_free char *dir = NULL;
	char request[96];
	bool alive;

	if (load_live(ctx, id, &st, &dir, &alive, err) < 0)
		return -1;
	if (!alive)
		/* Engines send `kill --all ID 9` to containers that already exited; that is fine.
		 */
		return all ? 0 : runk_error(err, "container `%s` is not running", id);
	snprintf(request, sizeof(request), "{\"op\":\"kill\",\"signal\":%d,\"all\":%s}", signo,
		 all ? "true" : "false");
	if (signo != SIGKILL)
		return shimctl_call(dir, request, SHIMCTL_TIMEOUT_MS, NULL, err);
	if (shimctl_call(dir, request, KILL_TIMEOUT_MS, NULL, err) < 0) {
		cleanup_free char *text = runk_error_text(*err);

		/* SIGKILL always works: a stuck guest dies with its VM, which dies with the shim.
		 */
		log_warning("kill %s through its agent: %s; killing its VM", id, text);
		runk_error_free(err);
		kill_process_tree(st.pid, 5000);
	}
	return 0;
}

/* A state directory without state.json is a create that died half-way, or one in progress. */
/* The runk create that started this shim died before recording it: end the shim and its VM. */
static void kill_orphaned_shim(const char *dir)
{
	cleanup_free char *path = NULL, *text = NULL;
	unsigned long long start = 0;
	int pid = 0;

	if (asprintf(&path, "%s/%s", dir, SHIM_PID_FILE) < 0)
		abort();
	if (read_file(path, 64, &text, NULL, NULL) < 0 ||
	    sscanf(text, "%d %llu", &pid, &start) != 2)
		return;
	if (pid > 0 && proc_is_same(pid, start))
		kill_process_tree(pid, 5000);
}

/* dir has no state.json and we hold its lock: its create died (the lock died with it). */
static int delete_half_created(const char *id, const char *dir, runk_error_t *err)
{
	kill_orphaned_shim(dir);
	network_delete_leftovers(id, dir);
	if (remove_cgroups(dir, err) < 0)
		return -1;
	return state_dir_remove(dir, err);
}

int container_delete(const struct runk_context *ctx, const char *id, bool force, runk_error_t *err)
{
	struct runk_state st __attribute__((cleanup(state_release))) = {0};
	cleanup_free char *dir = NULL;
	cleanup_free char *state_path = NULL;
	cleanup_close int lock = -1;
	struct oci_config *config;
	bool alive;

	if (state_dir_path(ctx->root, id, &dir, err) < 0)
		return -1;
	if (asprintf(&state_path, "%s/%s", dir, STATE_FILE) < 0)
		abort();
	/* What a create or delete killed half-way left under a temp name goes too. */
	state_dir_sweep(ctx->root);
	/* As with runc and crun: engines delete --force after a failed create,
	 * and a container that is not there is deleted already. */
	if (force && access(dir, F_OK) < 0 && errno == ENOENT)
		return 0;
	/* Everything below holds the lock, to the removal of the directory. */
	lock = lock_container(dir, id, err);
	if (lock < 0)
		return -1;
	if (access(state_path, F_OK) < 0)
		return delete_half_created(id, dir, err);
	free(steal_pointer(&dir));
	if (load_live(ctx, id, &st, &dir, &alive, err) < 0)
		return -1;
	if (alive && !force) {
		cleanup_error runk_error_t ignored = NULL;
		yajl_val reply = NULL;
		const char *status = NULL;
		bool stopped = false;

		/* A shim that reports its container stopped is on its way out: wait for it. */
		if (shimctl_call(dir, "{\"op\":\"status\"}", 5000, &reply, &ignored) == 0 &&
		    proto_json_get_string(reply, "status", &status, NULL) == 0)
			stopped = strcmp(status, "stopped") == 0;
		yajl_tree_free(reply);
		if (!stopped)
			return runk_error(err,
					  "cannot delete container `%s` that is not stopped: "
					  "use --force",
					  id);
	}
	if (alive) {
		/* The shim's QEMU dies with it (PR_SET_PDEATHSIG); its mounts die with its
		 * namespace. */
		if (force)
			kill_process_tree(st.pid, 5000);
		for (int i = 0; i < 1000 && state_shim_alive(&st); i++)
			usleep(10000);
		if (state_shim_alive(&st))
			return runk_error(err, "the shim of container `%s` (pid %d) did not exit",
					  id, st.pid);
	}
	fault_point(FAULT_MID_DELETE);
	config = config_load_copy(dir, NULL);
	if (config && config->hooks && config->hooks->poststop_len > 0) {
		cleanup_error runk_error_t hook_err = NULL;

		if (run_hooks(ctx, id, "poststop", config->hooks->poststop,
			      config->hooks->poststop_len, "stopped", &hook_err) < 0) {
			cleanup_free char *text = runk_error_text(hook_err);

			log_warning("%s", text);
		}
	}
	oci_config_free(config);
	/* A shim killed by SIGKILL left its taps and tc filters in the namespace. */
	network_delete_leftovers(id, dir);
	if (remove_cgroups(dir, err) < 0) {
		cleanup_free char *text = runk_error_text(*err);

		/* delete --force always succeeds (engines rely on it): the cgroups are left. */
		if (!force)
			return -1;
		log_warning("delete %s: %s", id, text);
		runk_error_free(err);
	}
	return state_dir_remove(dir, err);
}

/* Call a live container's shim; "not running" when it is gone. */
static int call_live(const struct runk_context *ctx, const char *id, const char *request,
		     yajl_val *reply, runk_error_t *err)
{
	struct runk_state st __attribute__((cleanup(state_release))) = {0};
	cleanup_free char *dir = NULL;
	bool alive;

	if (load_live(ctx, id, &st, &dir, &alive, err) < 0)
		return -1;
	if (!alive)
		return runk_error(err, "container `%s` is not running", id);
	return shimctl_call(dir, request, SHIMCTL_TIMEOUT_MS, reply, err);
}

int container_pause(const struct runk_context *ctx, const char *id, bool pause, runk_error_t *err)
{
	return call_live(ctx, id, pause ? "{\"op\":\"pause\"}" : "{\"op\":\"resume\"}", NULL, err);
}

int container_query(const struct runk_context *ctx, const char *id, const char *op, yajl_val *reply,
		    runk_error_t *err)
{
	char request[64];

	snprintf(request, sizeof(request), "{\"op\":\"%s\"}", op);
	return call_live(ctx, id, request, reply, err);
}

/* The guest took the new limits; the host's sandbox cgroup takes them too. */
static int update_cgroups(const struct runk_context *ctx, const char *id, const char *resources,
			  runk_error_t *err)
{
	struct cgroup_plan plan __attribute__((cleanup(cgroup_plan_release))) = {0};
	cleanup_free char *dir = NULL;
	struct oci_linux_resources *parsed;
	bool found;
	int ret;

	if (state_dir_path(ctx->root, id, &dir, err) < 0 ||
	    cgroup_plan_load(dir, &plan, &found, err) < 0)
		return -1;
	if (!found)
		return 0;
	parsed = cgroup_resources_parse(resources, err);
	if (parsed == NULL)
		return -1;
	ret = cgroup_update(&plan, parsed, err);
	oci_linux_resources_free(parsed);
	return ret < 0 ? runk_error_prefix(err, "update the host cgroups of `%s`", id) : 0;
}

int container_update(const struct runk_context *ctx, const char *id, const char *resources,
		     runk_error_t *err)
{
	struct proto_json *json = proto_json_new();
	cleanup_free char *request = NULL;
	size_t len;

	proto_json_add_string(json, "op", "update");
	proto_json_add_string(json, "resources", resources);
	if (proto_json_finish(json, &request, &len, err) < 0)
		return -1;
	if (call_live(ctx, id, request, NULL, err) < 0)
		return -1;
	return update_cgroups(ctx, id, resources, err);
}
