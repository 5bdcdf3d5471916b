/*
 * The container's root, set up by its init in its own mount namespace:
 * bind the rootfs from the share, mount /proc, /dev (tmpfs: 9p refuses
 * device nodes), /dev/pts, /sys and the config's mounts of kernel
 * filesystems inside it, then pivot_root into it.
 *
 * Mount targets are resolved with openat2(RESOLVE_IN_ROOT), so neither ".."
 * nor a symlink in the rootfs can point a mount outside it; the mount then
 * goes onto /proc/self/fd/N of the resolved directory.
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
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "ocispec.h"

struct mount_entry {
	const char *destination;
	const char *type;
	const char *source;
	unsigned long flags;
	char *data; /* owned */
};

/* Mounted when config.json does not mount something at the same place. */
static const struct {
	const char *destination, *type;
	unsigned long flags;
	const char *data;
} default_mounts[] = {
	{"/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
	{"/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"},
	{"/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL},
};

/*
 * Only kernel filesystems for now; bind mounts come with a later issue.  A
 * cgroup mount (v1 or v2 in the config) is the guest's cgroup2, seen through
 * the container's cgroup namespace when it has one.
 */
static bool type_supported(const char *type)
{
	static const char *const types[] = {"proc",   "tmpfs",	"devpts", "sysfs",
					    "mqueue", "cgroup", "cgroup2"};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flags[] = {
	{"ro", false, MS_RDONLY},
	{"rw", true, MS_RDONLY},
	{"nosuid", false, MS_NOSUID},
	{"suid", true, MS_NOSUID},
	{"nodev", false, MS_NODEV},
	{"dev", true, MS_NODEV},
	{"noexec", false, MS_NOEXEC},
	{"exec", true, MS_NOEXEC},
	{"sync", false, MS_SYNCHRONOUS},
	{"async", true, MS_SYNCHRONOUS},
	{"noatime", false, MS_NOATIME},
	{"atime", true, MS_NOATIME},
	{"nodiratime", false, MS_NODIRATIME},
	{"diratime", true, MS_NODIRATIME},
	{"relatime", false, MS_RELATIME},
	{"norelatime", true, MS_RELATIME},
	{"strictatime", false, MS_STRICTATIME},
	{"nostrictatime", true, MS_STRICTATIME},
	{"dirsync", false, MS_DIRSYNC},
	{"mand", false, MS_MANDLOCK},
	{"nomand", true, MS_MANDLOCK},
};

/* Split OCI mount options into mount(2) flags and the filesystem's data string. */
static void options_parse(const struct oci_mount *m, unsigned long *flags, char **data)
{
	size_t len = 1;
	char *out;

	*flags = 0;
	for (size_t i = 0; i < m->options_len; i++)
		len += strlen(m->options[i]) + 1;
	out = calloc(1, len);
	if (out == NULL)
		abort();
	for (size_t i = 0; i < m->options_len; i++) {
		const char *opt = m->options[i];
		bool known = false;

		for (size_t j = 0; j < sizeof(mount_flags) / sizeof(mount_flags[0]); j++) {
			if (strcmp(opt, mount_flags[j].name) == 0) {
				if (mount_flags[j].clear)
					*flags &= ~mount_flags[j].flag;
				else
					*flags |= mount_flags[j].flag;
				known = true;
				break;
			}
		}
		if (known)
			continue;
		if (out[0])
			strcat(out, ",");
		strcat(out, opt);
	}
	*data = out;
}

/* "/dev/pts" -> 2: a parent is always mounted before its children. */
static int path_depth(const char *path)
{
	int depth = 0;

	for (const char *p = path; *p; p++)
		if (*p != '/' && (p == path || p[-1] == '/'))
			depth++;
	return depth;
}

static int destination_check(const char *dest, runk_error_t *err)
{
	const char *p = dest;

	if (dest == NULL || dest[0] != '/')
		return runk_error(err, "mount destination `%s` is not absolute", dest ? dest : "");
	while (*p) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return runk_error(err, "mount destination `%s` contains `..`", dest);
		p += n;
	}
	return 0;
}

static bool config_mounts_at(const struct oci_config *cfg, const char *dest)
{
	for (size_t i = 0; i < cfg->mounts_len; i++)
		if (strcmp(cfg->mounts[i]->destination, dest) == 0)
			return true;
	return false;
}

/* Defaults and supported config mounts, parents first, config order kept otherwise. */
static int mounts_collect(const struct oci_config *cfg, struct mount_entry **out, size_t *count,
			  runk_error_t *err)
{
	size_t n = 0, max = cfg->mounts_len + sizeof(default_mounts) / sizeof(default_mounts[0]);
	struct mount_entry *list = calloc(max ? max : 1, sizeof(*list));

	if (list == NULL)
		abort();
	for (size_t i = 0; i < sizeof(default_mounts) / sizeof(default_mounts[0]); i++) {
		if (config_mounts_at(cfg, default_mounts[i].destination))
			continue;
		list[n].destination = default_mounts[i].destination;
		list[n].type = default_mounts[i].type;
		list[n].source = default_mounts[i].type;
		list[n].flags = default_mounts[i].flags;
		list[n].data = default_mounts[i].data ? strdup(default_mounts[i].data) : NULL;
		n++;
	}
	for (size_t i = 0; i < cfg->mounts_len; i++) {
		const struct oci_mount *m = cfg->mounts[i];

		if (destination_check(m->destination, err) < 0) {
			*out = list, *count = n;
			return -1;
		}
		if (m->type == NULL || !type_supported(m->type)) {
			log_info("mount of %s (type %s) is not supported yet, skipped",
				 m->destination, m->type ? m->type : "none");
			continue;
		}
		list[n].destination = m->destination;
		list[n].type = m->type;
		list[n].source = m->source ? m->source : m->type;
		options_parse(m, &list[n].flags, &list[n].data);
		n++;
	}
	/* Insertion sort: stable, and the lists are short. */
	for (size_t i = 1; i < n; i++) {
		struct mount_entry e = list[i];
		size_t j = i;

		while (j > 0 && path_depth(list[j - 1].destination) > path_depth(e.destination)) {
			list[j] = list[j - 1];
			j--;
		}
		list[j] = e;
	}
	*out = list, *count = n;
	return 0;
}

static void mounts_free(struct mount_entry *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i].data);
	free(list);
}

static int open_in_root(int rootfd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* mkdir -p DEST inside the root; returns an O_PATH fd of the directory. */
static int mkdir_in_root(int rootfd, const char *dest, runk_error_t *err)
{
	cleanup_free char *prefix = strdup(dest);
	int parent = open_in_root(rootfd, "/");
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
		fd = open_in_root(rootfd, prefix);
		if (fd < 0 && errno == ENOENT) {
			if (mkdirat(parent, comp, 0755) < 0 && errno != EEXIST) {
				int e = errno;

				close(parent);
				return runk_error_errno(err, e, "mkdir %s in the rootfs", prefix);
			}
			fd = open_in_root(rootfd, prefix);
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

static int mount_one(int rootfd, const struct mount_entry *m, runk_error_t *err)
{
	cleanup_close int fd = mkdir_in_root(rootfd, m->destination, err);
	char target[64];

	if (fd < 0)
		return runk_error_prefix(err, "mount %s", m->destination);
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0) {
		/* cgroup2 takes no v1 options (controller names): drop them. */
		if (mount("cgroup2", target, "cgroup2", m->flags, NULL) < 0)
			return runk_error_errno(err, errno, "mount cgroup2 on %s", m->destination);
		return 0;
	}
	if (mount(m->source, target, m->type, m->flags, m->data) < 0)
		return runk_error_errno(err, errno, "mount %s on %s", m->type, m->destination);
	return 0;
}

static const struct {
	const char *name;
	unsigned int major, minor;
} dev_nodes[] = {
	{"null", 1, 3},	  {"zero", 1, 5},    {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
	const char *name, *target;
} dev_links[] = {
	{"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
};

/* The basic device nodes, on the container's /dev tmpfs. */
static int dev_populate(int rootfd, runk_error_t *err)
{
	cleanup_close int dev = open_in_root(rootfd, "/dev");

	if (dev < 0)
		return runk_error_errno(err, errno, "open /dev in the rootfs");
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		if (mknodat(dev, dev_nodes[i].name, S_IFCHR | 0666,
			    makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0 &&
		    errno != EEXIST)
			return runk_error_errno(err, errno, "mknod /dev/%s", dev_nodes[i].name);
	}
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++) {
		if (symlinkat(dev_links[i].target, dev, dev_links[i].name) < 0 && errno != EEXIST)
			return runk_error_errno(err, errno, "symlink /dev/%s", dev_links[i].name);
	}
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
static int root_pivot(const char *rootfs, runk_error_t *err)
{
	if (chdir(rootfs) < 0)
		return runk_error_errno(err, errno, "chdir %s", rootfs);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return runk_error_errno(err, errno, "pivot_root %s", rootfs);
	if (umount2(".", MNT_DETACH) < 0)
		return runk_error_errno(err, errno, "detach the old root");
	if (chdir("/") < 0)
		return runk_error_errno(err, errno, "chdir /");
	return 0;
}

int rootfs_setup(const struct oci_config *cfg, const char *rootfs, int clone_flags,
		 runk_error_t *err)
{
	struct mount_entry *list = NULL;
	size_t count = 0;
	int rootfd, ret = -1;

	umask(0);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return runk_error_errno(err, errno, "make / private");
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return runk_error_errno(err, errno, "bind the rootfs %s", rootfs);
	rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return runk_error_errno(err, errno, "open the rootfs %s", rootfs);
	if (mounts_collect(cfg, &list, &count, err) < 0)
		goto out;
	for (size_t i = 0; i < count; i++)
		if (mount_one(rootfd, &list[i], err) < 0)
			goto out;
	if (dev_is_tmpfs(list, count) && dev_populate(rootfd, err) < 0)
		goto out;
	if (root_pivot(rootfs, err) < 0)
		goto out;
	if (cfg->root->readonly &&
	    mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
		runk_error_errno(err, errno, "remount / read-only");
		goto out;
	}
	if (cfg->hostname && (clone_flags & CLONE_NEWUTS) &&
	    sethostname(cfg->hostname, strlen(cfg->hostname)) < 0) {
		runk_error_errno(err, errno, "sethostname %s", cfg->hostname);
		goto out;
	}
	ret = 0;
out:
	umask(022);
	close(rootfd);
	mounts_free(list, count);
	return ret;
}
