/*
 * The host half of config.json's bind mounts: each source goes into the
 * share as <share>/<id>/mounts/<index in config.mounts> (a file or a
 * directory, like the source), bind-mounted in the shim's own mount
 * namespace, so the guest finds it at /run/runk/share/<id>/mounts/<index>
 * and binds it to the destination with the requested options (agent,
 * rootfs.c).  A read-only bind is read-only here already: the guest is not
 * trusted to honour "ro".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "ocispec.h"
#include "share.h"
#include "state.h"
#include "util.h"

/* Older headers lack the new mount API's flags. */
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

static bool has_option(const struct oci_mount *m, const char *opt)
{
	for (size_t i = 0; i < m->options_len; i++)
		if (strcmp(m->options[i], opt) == 0)
			return true;
	return false;
}

bool share_mount_is_bind(const struct oci_mount *m)
{
	return (m->type && strcmp(m->type, "bind") == 0) || has_option(m, "bind") ||
	       has_option(m, "rbind");
}

static int bind_one(const struct oci_mount *m, size_t i, const char *bundle, const char *mounts,
		    runk_error_t *err)
{
	cleanup_free char *source = NULL, *target = NULL;
	cleanup_close int fd = -1;
	bool ro = false;
	struct stat st;

	if (m->source == NULL || m->source[0] == '\0')
		return runk_error(err, "mounts[%zu].source: missing for a bind mount", i);
	/* A relative source is relative to the bundle, as runc takes it. */
	if (m->source[0] == '/')
		source = strdup(m->source);
	else if (asprintf(&source, "%s/%s", bundle, m->source) < 0)
		source = NULL;
	if (source == NULL || asprintf(&target, "%s/%zu", mounts, i) < 0)
		abort();
	if (stat(source, &st) < 0)
		return runk_error_errno(err, errno, "mounts[%zu].source `%s`", i, m->source);
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(target, 0755) < 0)
			return runk_error_errno(err, errno, "mkdir %s", target);
	} else {
		fd = open(target, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			return runk_error_errno(err, errno, "create %s", target);
	}
	if (mount(source, target, NULL, MS_BIND | (has_option(m, "rbind") ? MS_REC : 0), NULL) < 0)
		return runk_error_errno(err, errno, "mounts[%zu].source: bind `%s`", i, m->source);
	for (size_t j = 0; j < m->options_len; j++) {
		if (strcmp(m->options[j], "ro") == 0)
			ro = true;
		else if (strcmp(m->options[j], "rw") == 0)
			ro = false;
	}
	if (ro && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return runk_error_errno(err, errno, "mounts[%zu]: make `%s` read-only", i,
					m->source);
	return 0;
}

int share_bind_mounts(const struct oci_config *cfg, const char *base, const char *dir,
		      runk_error_t *err)
{
	cleanup_free char *mounts = NULL;
	int ret = 0;

	if (asprintf(&mounts, "%s/mounts", dir) < 0)
		abort();
	for (size_t i = 0; i < cfg->mounts_len && ret == 0; i++) {
		if (!share_mount_is_bind(cfg->mounts[i]))
			continue;
		if (access(mounts, F_OK) < 0 && mkdir_p(mounts, 0755, err) < 0)
			ret = -1;
		else
			ret = bind_one(cfg->mounts[i], i, base, mounts, err);
	}
	return ret;
}

int share_container_dir(const char *state_dir, const char *id, const char *rootfs,
			const struct oci_config *cfg, const char *base, char **dir,
			runk_error_t *err)
{
	cleanup_free char *path = NULL, *root = NULL;

	if (unshare(CLONE_NEWNS) < 0)
		return runk_error_errno(err, errno, "unshare the mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return runk_error_errno(err, errno, "make / a slave mount");
	if (asprintf(&path, "%s/%s/%s", state_dir, SHARE_DIR, id) < 0 ||
	    asprintf(&root, "%s/rootfs", path) < 0)
		abort();
	if (mkdir_p(root, 0755, err) < 0)
		return -1;
	if (mount(rootfs, root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return runk_error_errno(err, errno, "bind-mount the rootfs `%s`", rootfs);
	if (share_bind_mounts(cfg, base, path, err) < 0)
		return -1;
	*dir = steal_pointer(&path);
	return 0;
}

bool share_same_namespace(pid_t qemu)
{
	cleanup_free char *path = NULL;
	struct stat own, other;

	if (asprintf(&path, "/proc/%d/ns/mnt", (int)qemu) < 0)
		abort();
	return stat("/proc/self/ns/mnt", &own) == 0 && stat(path, &other) == 0 &&
	       own.st_dev == other.st_dev && own.st_ino == other.st_ino;
}

/* Run fn in QEMU's mount namespace and come back, whatever happened. */
static int in_namespace_of(pid_t qemu, int (*fn)(const void *arg, runk_error_t *err),
			   const void *arg, runk_error_t *err)
{
	cleanup_free char *ns_path = NULL;
	cleanup_close int own_ns = -1, vm_ns = -1, cwd = -1;
	int ret;

	if (asprintf(&ns_path, "/proc/%d/ns/mnt", (int)qemu) < 0)
		abort();
	own_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	vm_ns = open(ns_path, O_RDONLY | O_CLOEXEC);
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (own_ns < 0 || vm_ns < 0)
		return runk_error_errno(err, errno, "open the mount namespaces");
	if (setns(vm_ns, CLONE_NEWNS) < 0)
		return runk_error_errno(err, errno, "enter QEMU's mount namespace");
	ret = fn(arg, err);
	/* The shim's own mounts are in its namespace: it cannot go on elsewhere. */
	if (setns(own_ns, CLONE_NEWNS) < 0) {
		log_error("cannot return to the shim's mount namespace: %s", strerror(errno));
		_exit(1);
	}
	if (cwd >= 0 && fchdir(cwd) < 0) {
		/* absolute paths only from here */
	}
	return ret;
}

struct attach {
	int tree;
	const char *target;
};

static int do_attach(const void *arg, runk_error_t *err)
{
	const struct attach *a = arg;

	if (syscall(SYS_move_mount, a->tree, "", AT_FDCWD, a->target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return runk_error_errno(err, errno, "move_mount the share to `%s`", a->target);
	return 0;
}

int share_open_tree(const char *source, runk_error_t *err)
{
	/* A detached copy of the tree with its submounts: it can be attached anywhere. */
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source,
				OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);

	if (tree < 0)
		return runk_error_errno(err, errno, "open_tree `%s`", source);
	return tree;
}

int share_attach_tree(pid_t qemu, int tree, const char *target, runk_error_t *err)
{
	struct attach a = {.tree = tree, .target = target};

	if (share_same_namespace(qemu))
		return do_attach(&a, err);
	return in_namespace_of(qemu, do_attach, &a, err);
}

int share_attach(pid_t qemu, const char *source, const char *target, runk_error_t *err)
{
	cleanup_close int tree = share_open_tree(source, err);

	if (tree < 0)
		return -1;
	return share_attach_tree(qemu, tree, target, err);
}

static int do_detach(const void *arg, runk_error_t *err)
{
	const char *target = arg;

	if (umount2(target, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return runk_error_errno(err, errno, "detach `%s`", target);
	return 0;
}

int share_detach(pid_t qemu, const char *target, runk_error_t *err)
{
	if (share_same_namespace(qemu))
		return do_detach(target, err);
	return in_namespace_of(qemu, do_detach, target, err);
}
