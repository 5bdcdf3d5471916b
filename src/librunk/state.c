#include "config.h"

#include <dirent.h>
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

/*
 * Names in the root that are not containers (ids cannot start with a dot):
 * <prefix><id>-<pid>-<start time>-<suffix>, naming the runk that made it.
 */
#define NEW_PREFIX  ".new-"
#define GONE_PREFIX ".gone-"

static char *temp_name(const char *root, const char *prefix, const char *id, const char *suffix)
{
	uint64_t start = 0;
	char *name;

	proc_start_time(getpid(), &start, NULL);
	/* At most 64 bytes of the id (for people): a name is at most 255 bytes. */
	if (asprintf(&name, "%s/%s%.64s-%d-%llu-%s", root, prefix, id, getpid(),
		     (unsigned long long)start, suffix) < 0)
		abort();
	return name;
}

/* The runk that made a temp directory still runs: its directory is not debris. */
static bool temp_owner_alive(const char *name)
{
	cleanup_free char *copy = strdup(name);
	char *dash[3];

	if (copy == NULL)
		abort();
	for (int i = 0; i < 3; i++) {
		dash[i] = strrchr(copy, '-');
		if (dash[i] == NULL)
			return false;
		*dash[i] = '\0';
	}
	return proc_is_same((pid_t)strtol(dash[2] + 1, NULL, 10), strtoull(dash[1] + 1, NULL, 10));
}

void state_dir_sweep(const char *root)
{
	cleanup_dir DIR *d = opendir(root);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL) {
		cleanup_free char *path = NULL;
		cleanup_close int fd = -1;

		if ((strncmp(de->d_name, NEW_PREFIX, strlen(NEW_PREFIX)) != 0 &&
		     strncmp(de->d_name, GONE_PREFIX, strlen(GONE_PREFIX)) != 0) ||
		    temp_owner_alive(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", root, de->d_name) < 0)
			abort();
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
			remove_tree(path, NULL);
	}
}

int state_dir_begin(const char *root, const char *id, char **tmp, runk_error_t *err)
{
	cleanup_free char *dir = NULL;
	cleanup_free char *final = NULL;
	int fd;

	if (state_dir_path(root, id, &final, err) < 0)
		return -1;
	if (mkdir_p(root, 0711, err) < 0)
		return -1;
	/* Fail early and cheaply; the rename in state_dir_commit is what decides. */
	if (access(final, F_OK) == 0)
		return runk_error(err, "container `%s` already exists", id);
	state_dir_sweep(root);
	dir = temp_name(root, NEW_PREFIX, id, "XXXXXX");
	if (mkdtemp(dir) == NULL)
		return runk_error_errno(err, errno, "create a state directory in `%s`", root);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) < 0 || fchmod(fd, 0711) < 0) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		rmdir(dir);
		return runk_error_errno(err, saved, "lock state directory `%s`", dir);
	}
	*tmp = steal_pointer(&dir);
	return fd;
}

int state_dir_commit(const char *root, const char *id, const char *tmp, char **path,
		     runk_error_t *err)
{
	cleanup_free char *dir = NULL;

	if (state_dir_path(root, id, &dir, err) < 0)
		return -1;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE) < 0) {
		int saved = errno;

		remove_tree(tmp, NULL);
		if (saved == EEXIST)
			return runk_error(err, "container `%s` already exists", id);
		return runk_error_errno(err, saved, "rename `%s` to `%s`", tmp, dir);
	}
	/* The new name must survive a crash, or a shim could outlive its state directory. */
	fsync_dir(root);
	*path = steal_pointer(&dir);
	return 0;
}

int state_dir_remove(const char *dir, runk_error_t *err)
{
	cleanup_free char *gone = NULL;
	cleanup_free char *root = strdup(dir);
	char *slash = root ? strrchr(root, '/') : NULL;

	if (root == NULL)
		abort();
	/* Renamed away first, the directory vanishes at once for list and state. */
	if (slash) {
		*slash = '\0';
		gone = temp_name(root, GONE_PREFIX, slash + 1, "0");
	}
	if (gone && rename(dir, gone) == 0)
		return remove_tree(gone, err);
	return remove_tree(dir, err);
}

int state_dir_lock(const char *dir, bool wait, runk_error_t *err)
{
	const char *slash = strrchr(dir, '/');
	const char *id = slash ? slash + 1 : dir;
	struct stat locked, now;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return runk_error(err, "container `%s` does not exist", id);
	if (fd < 0)
		return runk_error_errno(err, errno, "open state directory `%s`", dir);
	if (flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;

		close(fd);
		if (saved == EWOULDBLOCK && !wait)
			return STATE_DIR_BUSY;
		return runk_error_errno(err, saved, "lock state directory `%s`", dir);
	}
	/* The holder we waited for may have deleted the container, and another create reused
	 * the name: what we locked must still be what the path names. */
	if (fstat(fd, &locked) < 0 || stat(dir, &now) < 0 || locked.st_nlink == 0 ||
	    locked.st_ino != now.st_ino || locked.st_dev != now.st_dev) {
		close(fd);
		return runk_error(err, "container `%s` does not exist", id);
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

/* A state directory without state.json: its create runs (and holds the lock) or died. */
static int half_created(const char *dir, const char *id, runk_error_t *err)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return runk_error(err, "container `%s` does not exist", id);
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		return runk_error(err, "container `%s` is being created", id);
	return runk_error(err,
			  "container `%s` was not fully created (its runk create died): "
			  "runk delete removes it",
			  id);
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
	if (access(state_dir, F_OK) < 0)
		return runk_error(err, "container `%s` does not exist", id);
	if (access(path, F_OK) < 0)
		return half_created(state_dir, id, err);
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
