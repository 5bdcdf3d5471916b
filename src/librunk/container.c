#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "cleanup.h"
#include "container.h"
#include "log.h"
#include "ocispec.h"
#include "shim.h"
#include "shimctl.h"
#include "state.h"
#include "util.h"

/* What create needs from the bundle, checked before anything is made. */
struct bundle_info {
	char *bundle;
	char *config_path;
	char *rootfs;
	struct oci_config *config;
};

static void bundle_info_release(struct bundle_info *b)
{
	free(b->bundle);
	free(b->config_path);
	free(b->rootfs);
	oci_config_free(b->config);
}

static int bundle_load(const char *bundle, struct bundle_info *b, runk_error_t *err)
{
	cleanup_free char *parse_error = NULL;
	cleanup_free char *root = NULL;
	struct stat st;

	b->bundle = realpath(bundle ? bundle : ".", NULL);
	if (b->bundle == NULL)
		return runk_error_errno(err, errno, "bundle `%s`", bundle ? bundle : ".");
	if (asprintf(&b->config_path, "%s/config.json", b->bundle) < 0)
		abort();
	if (access(b->config_path, R_OK) < 0)
		return runk_error_errno(err, errno, "read `%s`", b->config_path);
	b->config = oci_config_parse_file(b->config_path, &parse_error);
	if (b->config == NULL)
		return runk_error(err, "invalid `%s`: %s", b->config_path,
				  parse_error ? parse_error : "cannot parse");
	if (b->config->root == NULL || b->config->root->path == NULL)
		return runk_error(err, "invalid `%s`: root.path: missing", b->config_path);
	if (b->config->process == NULL || b->config->process->args_len == 0)
		return runk_error(err, "invalid `%s`: process.args: missing", b->config_path);
	if (b->config->root->path[0] == '/')
		root = strdup(b->config->root->path);
	else if (asprintf(&root, "%s/%s", b->bundle, b->config->root->path) < 0)
		abort();
	b->rootfs = realpath(root, NULL);
	if (b->rootfs == NULL || stat(b->rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
		return runk_error(err, "rootfs `%s` does not exist or is not a directory", root);
	return 0;
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

/* Undo a create that failed after the state directory was made. */
static void abandon(const char *dir, pid_t shim)
{
	cleanup_error runk_error_t err = NULL;

	if (shim > 0) {
		kill(shim, SIGKILL);
		waitpid(shim, NULL, 0);
	}
	if (state_dir_remove(dir, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_warning("cleanup: %s", text);
	}
}

int container_create(const struct runk_context *ctx, const struct container_create_options *o,
		     pid_t *shim_pid, runk_error_t *err)
{
	struct bundle_info b __attribute__((cleanup(bundle_info_release))) = {0};
	cleanup_free char *dir = NULL;
	cleanup_close int lock = -1;
	int sync[2];
	pid_t pid;

	if (o->console_socket)
		return runk_error(err, "--console-socket is not implemented yet");
	if (bundle_load(o->bundle, &b, err) < 0)
		return -1;
	if (state_dir_create(ctx->root, o->id, &dir, err) < 0)
		return -1;
	lock = state_dir_lock(dir, err);
	if (lock < 0 || pipe2(sync, O_CLOEXEC) < 0) {
		if (lock >= 0)
			runk_error_errno(err, errno, "pipe");
		abandon(dir, 0);
		return -1;
	}

	pid = fork();
	if (pid < 0) {
		runk_error_errno(err, errno, "fork the shim");
		abandon(dir, 0);
		return -1;
	}
	if (pid == 0) {
		struct shim_options so = {
			.id = o->id,
			.state_dir = dir,
			.config_path = b.config_path,
			.rootfs = b.rootfs,
			.conf = ctx->conf,
			.debug = ctx->debug,
			.sync_fd = sync[1],
		};

		close(sync[0]);
		close(lock);
		if (o->detach)
			setsid();
		shim_main(&so);
	}
	close(sync[1]);
	if (shim_wait_created(sync[0], err) < 0) {
		close(sync[0]);
		abandon(dir, pid);
		return -1;
	}
	close(sync[0]);
	if (record_state(dir, o->id, &b, pid, err) < 0 ||
	    (o->pid_file && write_pid_file(o->pid_file, pid, err) < 0)) {
		abandon(dir, pid);
		return -1;
	}
	*shim_pid = pid;
	return 0;
}

/* Load the state of a container whose shim must still be alive. */
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
	yajl_val reply = NULL;
	bool alive;

	if (load_live(ctx, id, &st, &dir, &alive, err) < 0)
		return -1;
	if (!alive)
		return runk_error(err, "cannot start a container that has stopped");
	if (shimctl_call(dir, "{\"op\":\"start\"}", &reply, err) < 0)
		return -1;
	yajl_tree_free(reply);
	return 0;
}

int container_kill(const struct runk_context *ctx, const char *id, int signo, bool all,
		   runk_error_t *err)
{
	struct runk_state st __attribute__((cleanup(state_release))) = {0};
	cleanup_free char *dir = NULL;
	char request[96];
	yajl_val reply = NULL;
	bool alive;

	if (load_live(ctx, id, &st, &dir, &alive, err) < 0)
		return -1;
	if (!alive)
		/* Engines send `kill --all ID 9` to containers that already exited; that is fine.
		 */
		return all ? 0 : runk_error(err, "container `%s` is not running", id);
	snprintf(request, sizeof(request), "{\"op\":\"kill\",\"signal\":%d,\"all\":%s}", signo,
		 all ? "true" : "false");
	if (shimctl_call(dir, request, &reply, err) < 0)
		return -1;
	yajl_tree_free(reply);
	return 0;
}

int container_delete(const struct runk_context *ctx, const char *id, bool force, runk_error_t *err)
{
	struct runk_state st __attribute__((cleanup(state_release))) = {0};
	cleanup_free char *dir = NULL;
	cleanup_close int lock = -1;
	bool alive;

	if (load_live(ctx, id, &st, &dir, &alive, err) < 0)
		return -1;
	lock = state_dir_lock(dir, err);
	if (lock < 0)
		return -1;
	if (alive && !force)
		return runk_error(
			err, "cannot delete container `%s` that is not stopped: use --force", id);
	if (alive) {
		/* The shim's QEMU dies with it (PR_SET_PDEATHSIG); its mounts die with its
		 * namespace. */
		kill(st.pid, SIGKILL);
		for (int i = 0; i < 500 && state_shim_alive(&st); i++)
			usleep(10000);
	}
	return state_dir_remove(dir, err);
}
