/*
 * The container's /dev: a tmpfs (the 9p share refuses device nodes) with
 * the default nodes, the usual symlinks, /dev/console for a terminal, and
 * linux.devices made with mknod in the guest.  In a user namespace mknod is
 * not allowed: the guest's own nodes are bind-mounted instead, as runc does.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "ocispec.h"

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

/* In a user namespace: an empty file with the guest's node bind-mounted on it. */
static int node_bind(int rootfd, const char *path, const char *guest_path, runk_error_t *err)
{
	cleanup_close int fd = root_mkfile(rootfd, path, err);
	char target[64];

	if (fd < 0)
		return -1;
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	if (mount(guest_path, target, NULL, MS_BIND, NULL) < 0)
		return runk_error_errno(err, errno, "bind %s on %s", guest_path, path);
	return 0;
}

int dev_populate(int rootfd, bool userns, bool console, runk_error_t *err)
{
	cleanup_close int dev = root_open(rootfd, "/dev", O_PATH | O_DIRECTORY);

	if (dev < 0)
		return runk_error_errno(err, errno, "open /dev in the rootfs");
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		char path[32];

		snprintf(path, sizeof(path), "/dev/%s", dev_nodes[i].name);
		if (userns) {
			if (node_bind(rootfd, path, path, err) < 0)
				return -1;
			continue;
		}
		if (mknodat(dev, dev_nodes[i].name, S_IFCHR | 0666,
			    makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0 &&
		    errno != EEXIST)
			return runk_error_errno(err, errno, "mknod /dev/%s", dev_nodes[i].name);
	}
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++) {
		if (symlinkat(dev_links[i].target, dev, dev_links[i].name) < 0 && errno != EEXIST)
			return runk_error_errno(err, errno, "symlink /dev/%s", dev_links[i].name);
	}
	/* The init's pty is bound onto it once the process made it (stdio.c). */
	if (console) {
		cleanup_close int fd = root_mkfile(rootfd, "/dev/console", err);

		if (fd < 0)
			return -1;
	}
	return 0;
}

static int device_type(const char *type, mode_t *mode)
{
	if (strcmp(type, "c") == 0 || strcmp(type, "u") == 0)
		*mode = S_IFCHR;
	else if (strcmp(type, "b") == 0)
		*mode = S_IFBLK;
	else if (strcmp(type, "p") == 0)
		*mode = S_IFIFO;
	else
		return -1;
	return 0;
}

static int device_create(int rootfd, const struct oci_linux_device *d, bool userns,
			 runk_error_t *err)
{
	cleanup_free char *parent = NULL;
	cleanup_close int dir = -1;
	const char *base;
	mode_t type;
	char *slash;

	if (d->type == NULL || device_type(d->type, &type) < 0)
		return runk_error(err, "type: unknown device type `%s`", d->type ? d->type : "");
	if (destination_check(d->path, err) < 0)
		return runk_error_prefix(err, "path");
	if (d->major < 0 || d->major > 0xfff || d->minor < 0 || d->minor > 0xfffff)
		return runk_error(err, "major/minor %lld:%lld out of range", (long long)d->major,
				  (long long)d->minor);
	if (userns)
		return node_bind(rootfd, d->path, d->path, err);
	parent = strdup(d->path);
	if (parent == NULL)
		abort();
	slash = strrchr(parent, '/');
	base = d->path + (slash - parent) + 1;
	*slash = '\0';
	if (*base == '\0')
		return runk_error(err, "path: `%s` names no file", d->path);
	dir = root_mkdir_p(rootfd, parent[0] ? parent : "/", err);
	if (dir < 0)
		return -1;
	/* A node the default set made already (/dev/null...) is replaced with the spec's. */
	if (unlinkat(dir, base, 0) < 0 && errno != ENOENT)
		return runk_error_errno(err, errno, "remove the old %s", d->path);
	if (mknodat(dir, base, type | (d->has_file_mode ? d->file_mode & 07777 : 0666),
		    makedev((unsigned int)d->major, (unsigned int)d->minor)) < 0)
		return runk_error_errno(err, errno, "mknod %s", d->path);
	if (fchownat(dir, base, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0,
		     AT_SYMLINK_NOFOLLOW) < 0)
		return runk_error_errno(err, errno, "chown %s", d->path);
	return 0;
}

int devices_create(int rootfd, const struct oci_linux *linux, bool userns, runk_error_t *err)
{
	if (linux == NULL)
		return 0;
	for (size_t i = 0; i < linux->devices_len; i++)
		if (device_create(rootfd, linux->devices[i], userns, err) < 0)
			return runk_error_prefix(err, "linux.devices[%zu]", i);
	return 0;
}
