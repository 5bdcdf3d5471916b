/*
 * The container's root, set up by its init in its own mount namespace:
 * bind the rootfs from the share, mount what config.json lists (in its
 * order; /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue and /sys are added
 * where the config has none), populate /dev (a tmpfs: 9p refuses device
 * nodes) and linux.devices, then pivot_root (or MS_MOVE + chroot), make the
 * root read-only if asked and apply rootfsPropagation.  rootfs_finish then
 * sets the hostname, sysctls, readonlyPaths and maskedPaths.
 *
 * Mount targets are resolved with openat2(RESOLVE_IN_ROOT), so neither ".."
 * nor a symlink in the rootfs can point a mount outside it; the mount then
 * goes onto /proc/self/fd/N of the resolved file.  A mount stacked there
 * is reached again by resolving the path anew (the old fd still names the
 * covered directory), for remounts and propagation.
 *
 * Bind mounts come from the share: the host placed each source at
 * <share>/<id>/mounts/<index in config.mounts> (shim.c, prepare_share).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "ocispec.h"

struct mount_entry {
	const struct oci_mount *config; /* NULL for a default */
	int index;			/* in config.mounts, -1 for a default */
	const char *destination, *type, *source;
	struct mount_opts opts;
};

/* Mounted when config.json does not mount something at the same place. */
static const struct {
	const char *destination, *type;
	unsigned long flags;
	const char *data;
	int needs; /* a namespace flag the mount needs, 0 for none */
} default_mounts[] = {
	{"/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0},
	{"/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", 0},
	{"/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620", 0},
	{"/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", 0},
	{"/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, CLONE_NEWIPC},
	{"/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL, 0},
};

#define NR_DEFAULTS (sizeof(default_mounts) / sizeof(default_mounts[0]))

int root_open(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

int root_mkdir_p(int rootfd, const char *dest, runk_error_t *err)
{
	cleanup_free char *prefix = strdup(dest);
	int parent = root_open(rootfd, "/", O_PATH | O_DIRECTORY);
	char *p = prefix;

	if (prefix == NULL)
		abort();
	if (parent < 0)
		return runk_error_errno(err, errno, "open the rootfs");
	while (*p) {
		char saved, *comp;
		int fd;

		p += strspn(p, "/");
		if (*p == '\0')
			break;
		comp = p;
		p += strcspn(p, "/");
		saved = *p;
		*p = '\0';
		fd = root_open(rootfd, prefix, O_PATH | O_DIRECTORY);
		if (fd < 0 && errno == ENOENT) {
			if (mkdirat(parent, comp, 0755) < 0 && errno != EEXIST) {
				int e = errno;

				close(parent);
				return runk_error_errno(err, e, "mkdir %s in the rootfs", prefix);
			}
			fd = root_open(rootfd, prefix, O_PATH | O_DIRECTORY);
		}
		if (fd < 0) {
			int e = errno;

			close(parent);
			return runk_error_errno(err, e, "open %s in the rootfs", prefix);
		}
		close(parent);
		parent = fd;
		*p = saved;
	}
	return parent;
}

int root_mkfile(int rootfd, const char *path, runk_error_t *err)
{
	cleanup_free char *parent = strdup(path);
	cleanup_close int dir = -1;
	char *slash;
	int fd = root_open(rootfd, path, O_PATH);

	if (fd >= 0)
		return fd;
	if (parent == NULL)
		abort();
	if (errno != ENOENT)
		return runk_error_errno(err, errno, "open %s in the rootfs", path);
	slash = strrchr(parent, '/');
	if (slash == NULL || slash[1] == '\0')
		return runk_error(err, "`%s` names no file", path);
	*slash = '\0';
	dir = root_mkdir_p(rootfd, parent[0] ? parent : "/", err);
	if (dir < 0)
		return -1;
	/* O_NOFOLLOW|O_EXCL: a dangling symlink is not followed out of the root. */
	fd = openat(dir, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return runk_error_errno(err, errno, "create %s in the rootfs", path);
	close(fd);
	fd = root_open(rootfd, path, O_PATH);
	if (fd < 0)
		return runk_error_errno(err, errno, "open %s in the rootfs", path);
	return fd;
}

int remount_bind(const char *target, unsigned long flags, runk_error_t *err)
{
	static const struct {
		unsigned long st, ms;
	} locked[] = {
		{ST_NOSUID, MS_NOSUID},		{ST_NODEV, MS_NODEV},
		{ST_NOEXEC, MS_NOEXEC},		{ST_NOATIME, MS_NOATIME},
		{ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
	};
	const unsigned long atime = MS_NOATIME | MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME;
	struct statvfs st;

	/* In a user namespace the flags of the mount's origin are locked: keep them set. */
	if (statvfs(target, &st) == 0)
		for (size_t i = 0; i < sizeof(locked) / sizeof(locked[0]); i++)
			if ((st.f_flag & locked[i].st) &&
			    !((locked[i].ms & atime) && (flags & atime)))
				flags |= locked[i].ms;
	if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		return runk_error_errno(err, errno, "remount");
	return 0;
}

static bool is_parent(const char *parent, const char *path)
{
	size_t n = strlen(parent);

	if (strcmp(parent, "/") == 0)
		return path[1] != '\0';
	return strncmp(parent, path, n) == 0 && path[n] == '/';
}

static bool config_mounts_at(const struct oci_config *cfg, const char *dest)
{
	for (size_t i = 0; i < cfg->mounts_len; i++)
		if (cfg->mounts[i]->destination && strcmp(cfg->mounts[i]->destination, dest) == 0)
			return true;
	return false;
}

static void mounts_free(struct mount_entry *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		mount_opts_free(&list[i].opts);
	free(list);
}

/* The config's mounts in order; each missing default right after its parent, else first. */
static int mounts_collect(const struct oci_config *cfg, int clone_flags, struct mount_entry **out,
			  size_t *count, runk_error_t *err)
{
	size_t n = 0, front = 0;
	struct mount_entry *list = calloc(cfg->mounts_len + NR_DEFAULTS + 1, sizeof(*list));

	if (list == NULL)
		abort();
	for (size_t i = 0; i < cfg->mounts_len; i++) {
		const struct oci_mount *m = cfg->mounts[i];
		struct mount_entry *e = &list[n];

		if (destination_check(m->destination, err) < 0 ||
		    mount_opts_parse(m, &e->opts, err) < 0) {
			mounts_free(list, n);
			return runk_error_prefix(err, "mounts[%zu]", i);
		}
		e->config = m;
		e->index = (int)i;
		e->destination = m->destination;
		e->type = m->type ? m->type : "none";
		e->source = m->source ? m->source : e->type;
		if (!e->opts.bind && m->type == NULL) {
			mounts_free(list, n + 1);
			return runk_error(err, "mounts[%zu].type: missing (and no bind option)", i);
		}
		n++;
	}
	for (size_t d = 0; d < NR_DEFAULTS; d++) {
		size_t at = front;
		struct mount_entry e = {.index = -1};

		if (config_mounts_at(cfg, default_mounts[d].destination))
			continue;
		if (default_mounts[d].needs && !(clone_flags & default_mounts[d].needs))
			continue;
		for (size_t i = 0; i < n; i++)
			if (is_parent(list[i].destination, default_mounts[d].destination))
				at = i + 1;
		e.destination = default_mounts[d].destination;
		e.type = default_mounts[d].type;
		e.source = default_mounts[d].type;
		e.opts.flags = default_mounts[d].flags;
		e.opts.data = strdup(default_mounts[d].data ? default_mounts[d].data : "");
		if (e.opts.data == NULL)
			abort();
		memmove(&list[at + 1], &list[at], (n - at) * sizeof(*list));
		list[at] = e;
		n++;
		if (at == front)
			front++;
	}
	*out = list;
	*count = n;
	return 0;
}

/* The file or directory to mount on; for a bind, of the source's kind. */
static int mount_target(int rootfd, const struct mount_entry *m, const char *source,
			runk_error_t *err)
{
	struct stat st;

	if (m->opts.bind && stat(source, &st) == 0 && !S_ISDIR(st.st_mode))
		return root_mkfile(rootfd, m->destination, err);
	return root_mkdir_p(rootfd, m->destination, err);
}

/* Flags that need a remount after a bind (MS_BIND ignores them). */
#define BIND_REMOUNT_FLAGS                                                                         \
	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | \
	 MS_STRICTATIME | 256)

static int mount_do(const struct mount_entry *m, const char *source, const char *target,
		    bool userns, runk_error_t *err)
{
	const char *type = m->type;
	/* A tmpfs to copy into is mounted writable, made read-only after the copy. */
	unsigned long flags = m->opts.flags & ~(m->opts.tmpcopyup ? MS_RDONLY : 0);
	const char *data = m->opts.data && m->opts.data[0] ? m->opts.data : NULL;

	if (m->opts.bind)
		return mount(source, target, NULL, MS_BIND | (m->opts.recursive ? MS_REC : 0),
			     NULL) < 0
			       ? runk_error_errno(err, errno, "bind %s", m->config->source)
			       : 0;
	/* The guest's cgroup2, seen through the cgroup namespace; v1 options dropped. */
	if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0)
		type = "cgroup2", source = "cgroup2", data = NULL;
	if (mount(source, target, type, flags, data) == 0)
		return 0;
	/* sysfs needs a network namespace of the user namespace: bind the guest's instead. */
	if (errno == EPERM && userns && strcmp(type, "sysfs") == 0 &&
	    mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) == 0)
		return 0;
	return runk_error_errno(err, errno, "mount %s", type);
}

/* Copy what the new tmpfs hides into it; a read-only tmpfs becomes so afterwards. */
static int tmpfs_copy_up_at(int rootfd, const struct mount_entry *m, int shadowed,
			    runk_error_t *err)
{
	cleanup_close int root = root_open(rootfd, m->destination, O_RDONLY | O_DIRECTORY);
	const char *data = m->opts.data ? m->opts.data : "";
	char path[64];

	if (root < 0)
		return runk_error_errno(err, errno, "open the new tmpfs");
	if (tmpfs_copy_up(shadowed, root, err) < 0)
		return -1;
	if (!(m->opts.flags & MS_RDONLY))
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", root);
	if (mount(NULL, path, NULL, MS_REMOUNT | m->opts.flags, data[0] ? data : NULL) < 0)
		return runk_error_errno(err, errno, "remount read-only");
	return 0;
}

static int mount_one(int rootfd, const struct mount_entry *m, const char *share, bool userns,
		     runk_error_t *err)
{
	cleanup_free char *source = NULL;
	cleanup_close int fd = -1, top = -1, shadowed = -1;
	char target[64];

	if (m->opts.bind) {
		if (asprintf(&source, "%s/mounts/%d", share, m->index) < 0)
			abort();
		if (access(source, F_OK) < 0)
			return runk_error_errno(err, errno,
						"source `%s` was not placed in the share by the "
						"host",
						m->config->source ? m->config->source : "");
	}
	fd = mount_target(rootfd, m, source, err);
	if (fd < 0)
		return runk_error_prefix(err, "destination `%s`", m->destination);
	/* tmpcopyup: hold the directory the tmpfs will hide, to copy from it. */
	if (m->opts.tmpcopyup) {
		shadowed = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (shadowed < 0)
			return runk_error_errno(err, errno, "open %s", m->destination);
	}
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	if (mount_do(m, source ? source : m->source, target, userns, err) < 0)
		return runk_error_prefix(err, "on %s", m->destination);
	if (m->opts.tmpcopyup && tmpfs_copy_up_at(rootfd, m, shadowed, err) < 0)
		return runk_error_prefix(err, "on %s", m->destination);
	if ((m->opts.bind && (m->opts.flags & BIND_REMOUNT_FLAGS)) || m->opts.propagation) {
		top = root_open(rootfd, m->destination, O_PATH);
		if (top < 0)
			return runk_error_errno(err, errno, "reopen %s", m->destination);
		snprintf(target, sizeof(target), "/proc/self/fd/%d", top);
	}
	if (m->opts.bind && (m->opts.flags & BIND_REMOUNT_FLAGS) &&
	    remount_bind(target, m->opts.flags & BIND_REMOUNT_FLAGS, err) < 0)
		return runk_error_prefix(err, "options of %s", m->destination);
	if (m->opts.propagation && mount(NULL, target, NULL, m->opts.propagation, NULL) < 0)
		return runk_error_errno(err, errno, "propagation of %s", m->destination);
	return 0;
}

static bool dev_is_tmpfs(const struct mount_entry *list, size_t count)
{
	bool tmpfs = false;

	for (size_t i = 0; i < count; i++)
		if (strcmp(list[i].destination, "/dev") == 0)
			tmpfs = strcmp(list[i].type, "tmpfs") == 0;
	return tmpfs;
}

/* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only ours. */
static int root_pivot(const char *rootfs, bool no_pivot, runk_error_t *err)
{
	if (chdir(rootfs) < 0)
		return runk_error_errno(err, errno, "chdir %s", rootfs);
	if (no_pivot) {
		/* --no-pivot: as runc, move the rootfs over / and chroot into it. */
		if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
			return runk_error_errno(err, errno, "move %s to /", rootfs);
		if (chroot(".") < 0)
			return runk_error_errno(err, errno, "chroot %s", rootfs);
	} else {
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return runk_error_errno(err, errno, "pivot_root %s", rootfs);
		if (umount2(".", MNT_DETACH) < 0)
			return runk_error_errno(err, errno, "detach the old root");
	}
	if (chdir("/") < 0)
		return runk_error_errno(err, errno, "chdir /");
	return 0;
}

static int mounts_apply(int rootfd, const struct oci_config *cfg, const struct rootfs_options *o,
			runk_error_t *err)
{
	struct mount_entry *list = NULL;
	size_t count = 0;
	bool userns = o->clone_flags & CLONE_NEWUSER;
	int ret = -1;

	if (mounts_collect(cfg, o->clone_flags, &list, &count, err) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		if (mount_one(rootfd, &list[i], o->share, userns, err) < 0) {
			if (list[i].index >= 0)
				runk_error_prefix(err, "mounts[%d]", list[i].index);
			goto out;
		}
	}
	if (dev_is_tmpfs(list, count) && dev_populate(rootfd, userns, o->terminal, err) < 0)
		goto out;
	if (devices_create(rootfd, cfg->linux, userns, err) < 0)
		goto out;
	/* process.cwd is created if missing, as runc does (before a read-only remount). */
	if (cfg->process && cfg->process->cwd) {
		int fd = root_mkdir_p(rootfd, cfg->process->cwd, err);

		if (fd < 0) {
			runk_error_prefix(err, "process.cwd");
			goto out;
		}
		close(fd);
	}
	ret = 0;
out:
	mounts_free(list, count);
	return ret;
}

int rootfs_setup(const struct oci_config *cfg, const struct rootfs_options *o, runk_error_t *err)
{
	const char *propagation = cfg->linux ? cfg->linux->rootfs_propagation : NULL;
	cleanup_close int rootfd = -1;
	int ret = -1;

	umask(0);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return runk_error_errno(err, errno, "make / private");
	if (mount(o->rootfs, o->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return runk_error_errno(err, errno, "bind the rootfs %s", o->rootfs);
	rootfd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return runk_error_errno(err, errno, "open the rootfs %s", o->rootfs);
	if (mounts_apply(rootfd, cfg, o, err) < 0 || root_pivot(o->rootfs, o->no_pivot, err) < 0)
		goto out;
	if (cfg->root->readonly && remount_bind("/", MS_RDONLY, err) < 0) {
		runk_error_prefix(err, "root.readonly");
		goto out;
	}
	if (propagation && propagation[0] &&
	    mount(NULL, "/", NULL, propagation_parse(propagation), NULL) < 0) {
		runk_error_errno(err, errno, "linux.rootfsPropagation `%s`", propagation);
		goto out;
	}
	ret = 0;
out:
	umask(022);
	return ret;
}

/* linux.sysctl: "net.ipv4.ip_forward" -> /proc/sys/net/ipv4/ip_forward. */
static int sysctl_write(const char *key, const char *value, runk_error_t *err)
{
	cleanup_free char *path = NULL;
	cleanup_close int fd = -1;
	size_t len = strlen(value);

	if (key[0] == '\0' || strstr(key, "..") || key[0] == '.' || key[0] == '/')
		return runk_error(err, "linux.sysctl: invalid key `%s`", key);
	if (asprintf(&path, "/proc/sys/%s", key) < 0)
		abort();
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || write(fd, value, len) != (ssize_t)len)
		return runk_error_errno(err, errno, "linux.sysctl: %s = `%s`", key, value);
	return 0;
}

static int path_readonly(const char *path, runk_error_t *err)
{
	cleanup_close int fd = open(path, O_PATH | O_CLOEXEC), top = -1;
	char target[64];

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return runk_error_errno(err, errno, "open");
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return runk_error_errno(err, errno, "bind");
	top = open(path, O_PATH | O_CLOEXEC);
	if (top < 0)
		return runk_error_errno(err, errno, "reopen");
	snprintf(target, sizeof(target), "/proc/self/fd/%d", top);
	return remount_bind(target, MS_RDONLY, err);
}

static int path_mask(const char *path, runk_error_t *err)
{
	cleanup_close int fd = open(path, O_PATH | O_CLOEXEC);
	char target[64];
	struct stat st;

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return runk_error_errno(err, errno, "open");
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", target, "tmpfs", MS_RDONLY, "size=0") < 0)
			return runk_error_errno(err, errno, "mount an empty tmpfs");
	} else if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0) {
		return runk_error_errno(err, errno, "bind /dev/null");
	}
	return 0;
}

int rootfs_finish(const struct oci_config *cfg, int made_flags, runk_error_t *err)
{
	const struct oci_linux *l = cfg->linux;
	/*
	 * A uts namespace joined from a pod's sandbox is the pod's: its names
	 * stay the sandbox's (Kubernetes gives members the pod's anyway).
	 * Without any uts namespace, create refused them before.
	 */
	bool own_uts = made_flags & CLONE_NEWUTS;

	if (own_uts && cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		return runk_error_errno(err, errno, "hostname `%s`", cfg->hostname);
	if (own_uts && cfg->domainname &&
	    setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
		return runk_error_errno(err, errno, "domainname `%s`", cfg->domainname);
	if (l == NULL)
		return 0;
	for (size_t i = 0; l->sysctl && i < l->sysctl->len; i++)
		if (sysctl_write(l->sysctl->keys[i], l->sysctl->values[i], err) < 0)
			return -1;
	for (size_t i = 0; i < l->readonly_paths_len; i++)
		if (path_readonly(l->readonly_paths[i], err) < 0)
			return runk_error_prefix(err, "linux.readonlyPaths[%zu] `%s`", i,
						 l->readonly_paths[i]);
	for (size_t i = 0; i < l->masked_paths_len; i++)
		if (path_mask(l->masked_paths[i], err) < 0)
			return runk_error_prefix(err, "linux.maskedPaths[%zu] `%s`", i,
						 l->masked_paths[i]);
	return 0;
}
