#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "cleanup.h"
#include "id.h"
#include "state.h"
#include "util.h"

/* Above config.json's 16 MiB: state.json carries its annotations, and must stay readable. */
#define STATE_MAX_SIZE (32 * 1024 * 1024)

int state_dir_path(const char *root, const char *id, char **path, runk_error_t *err)
{
	if (runk_id_validate(id, err) < 0)
		return -1;
	if (asprintf(path, "%s/%s", root, id) < 0)
		abort();
	return 0;
}

int state_dir_create(const char *root, const char *id, char **path, runk_error_t *err)
{
	cleanup_free char *dir = NULL;

	if (state_dir_path(root, id, &dir, err) < 0)
		return -1;
	if (mkdir_p(root, 0711, err) < 0)
		return -1;
	if (mkdir(dir, 0711) < 0) {
		if (errno == EEXIST)
			return runk_error(err, "container `%s` already exists", id);
		return runk_error_errno(err, errno, "create state directory `%s`", dir);
	}
	*path = steal_pointer(&dir);
	return 0;
}

int state_dir_remove(const char *dir, runk_error_t *err)
{
	return remove_tree(dir, err);
}

int state_dir_lock(const char *dir, runk_error_t *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return runk_error_errno(err, errno, "open state directory `%s`", dir);
	if (flock(fd, LOCK_EX) < 0) {
		int saved = errno;

		close(fd);
		return runk_error_errno(err, saved, "lock state directory `%s`", dir);
	}
	return fd;
}

static void gen_string(yajl_gen g, const char *key, const char *value)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
	yajl_gen_string(g, (const unsigned char *)(value ? value : ""), value ? strlen(value) : 0);
}

static void gen_integer(yajl_gen g, const char *key, long long value)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
	yajl_gen_integer(g, value);
}

int state_write(const char *dir, const struct runk_state *st, runk_error_t *err)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	cleanup_free char *path = NULL;
	const unsigned char *buf;
	size_t len;
	int ret;

	if (g == NULL)
		abort();
	yajl_gen_map_open(g);
	gen_string(g, "id", st->id);
	gen_integer(g, "pid", st->pid);
	gen_integer(g, "pidStartTime", (long long)st->pid_start_time);
	gen_integer(g, "vcpus", st->vcpus);
	gen_integer(g, "memoryMiB", st->memory_mib);
	gen_string(g, "bundle", st->bundle);
	gen_string(g, "rootfs", st->rootfs);
	gen_string(g, "created", st->created);
	gen_string(g, "owner", st->owner);
	yajl_gen_string(g, (const unsigned char *)"annotations", strlen("annotations"));
	yajl_gen_map_open(g);
	for (size_t i = 0; i < st->n_annotations; i++)
		gen_string(g, st->annotation_keys[i], st->annotation_values[i]);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);

	if (asprintf(&path, "%s/%s", dir, STATE_FILE) < 0)
		abort();
	ret = write_file_atomic(path, buf, len, 0600, err);
	yajl_gen_free(g);
	return ret;
}

static char *tree_string(yajl_val root, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);

	return strdup(v ? v->u.string : "");
}

static int tree_integer(yajl_val root, const char *key, long long *out)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(root, path, yajl_t_number);

	if (v == NULL || !YAJL_IS_INTEGER(v))
		return -1;
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

static void load_annotations(yajl_val root, struct runk_state *st)
{
	const char *path[] = {"annotations", NULL};
	yajl_val map = yajl_tree_get(root, path, yajl_t_object);
	size_t n = map ? YAJL_GET_OBJECT(map)->len : 0, kept = 0;

	st->annotation_keys = calloc(n + 1, sizeof(char *));
	st->annotation_values = calloc(n + 1, sizeof(char *));
	if (st->annotation_keys == NULL || st->annotation_values == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		yajl_val v = YAJL_GET_OBJECT(map)->values[i];

		if (!YAJL_IS_STRING(v))
			continue;
		st->annotation_keys[kept] = strdup(YAJL_GET_OBJECT(map)->keys[i]);
		st->annotation_values[kept] = strdup(v->u.string);
		kept++;
	}
	st->n_annotations = kept;
}

int state_load(const char *root, const char *id, struct runk_state *st, char **dir,
	       runk_error_t *err)
{
	cleanup_free char *path = NULL;
	cleanup_free char *state_dir = NULL;
	cleanup_free char *data = NULL;
	char parse_error[256];
	long long pid, start_time, vcpus = 0, memory = 0;
	yajl_val tree;

	memset(st, 0, sizeof(*st));
	if (state_dir_path(root, id, &state_dir, err) < 0)
		return -1;
	if (asprintf(&path, "%s/%s", state_dir, STATE_FILE) < 0)
		abort();
	if (access(state_dir, F_OK) < 0 || access(path, F_OK) < 0)
		return runk_error(err, "container `%s` does not exist", id);
	if (read_file(path, STATE_MAX_SIZE, &data, NULL, err) < 0)
		return -1;
	tree = yajl_tree_parse(data, parse_error, sizeof(parse_error));
	if (tree == NULL)
		return runk_error(err, "`%s` is corrupt: %s", path, parse_error);
	if (tree_integer(tree, "pid", &pid) < 0 ||
	    tree_integer(tree, "pidStartTime", &start_time) < 0) {
		yajl_tree_free(tree);
		return runk_error(err, "`%s` is corrupt: no pid", path);
	}
	if (tree_integer(tree, "vcpus", &vcpus) == 0 && vcpus > 0 && vcpus <= UINT32_MAX)
		st->vcpus = (unsigned int)vcpus;
	if (tree_integer(tree, "memoryMiB", &memory) == 0 && memory > 0 && memory <= UINT32_MAX)
		st->memory_mib = (unsigned int)memory;
	st->id = strdup(id);
	st->pid = (pid_t)pid;
	st->pid_start_time = (uint64_t)start_time;
	st->bundle = tree_string(tree, "bundle");
	st->rootfs = tree_string(tree, "rootfs");
	st->created = tree_string(tree, "created");
	st->owner = tree_string(tree, "owner");
	load_annotations(tree, st);
	yajl_tree_free(tree);
	if (dir)
		*dir = steal_pointer(&state_dir);
	return 0;
}

void state_release(struct runk_state *st)
{
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->owner);
	for (size_t i = 0; i < st->n_annotations; i++) {
		free(st->annotation_keys[i]);
		free(st->annotation_values[i]);
	}
	free(st->annotation_keys);
	free(st->annotation_values);
	memset(st, 0, sizeof(*st));
}

bool state_shim_alive(const struct runk_state *st)
{
	return proc_is_same(st->pid, st->pid_start_time);
}
