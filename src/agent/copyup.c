/*
 * tmpcopyup (podman's `--tmpfs`, crun's extension to the OCI mount options):
 * a tmpfs mounted over a directory of the image starts with a copy of what
 * that directory held, so `--tmpfs /etc` does not hide the image's /etc.
 * rootfs.c keeps a descriptor of the directory before it mounts the tmpfs
 * on it, then calls tmpfs_copy_up() to copy the shadowed tree into the new
 * mount: files, directories and symlinks with their mode, owner and times.
 * Device nodes, FIFOs and sockets cannot be on the 9p root; they are skipped.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"

/* Deep enough for any image; a deeper tree is refused, not copied in part. */
#define COPY_UP_MAX_DEPTH 64

static int copy_attributes(int dirfd, const char *name, int fd, const struct stat *st,
			   runk_error_t *err)
{
	const struct timespec times[2] = {st->st_atim, st->st_mtim};

	if (fd >= 0 ? fchown(fd, st->st_uid, st->st_gid)
		    : fchownat(dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW))
		return runk_error_errno(err, errno, "chown %s", name);
	if (fd >= 0 && fchmod(fd, st->st_mode & 07777) < 0)
		return runk_error_errno(err, errno, "chmod %s", name);
	if (fd >= 0 ? futimens(fd, times) : utimensat(dirfd, name, times, AT_SYMLINK_NOFOLLOW))
		return runk_error_errno(err, errno, "set the times of %s", name);
	return 0;
}

static int copy_file(int from_dir, int to_dir, const char *name, const struct stat *st,
		     runk_error_t *err)
{
	cleanup_close int in = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	cleanup_close int out = -1;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return runk_error_errno(err, errno, "open %s", name);
	out = openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return runk_error_errno(err, errno, "create %s", name);
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return runk_error_errno(err, errno, "read %s", name);
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return runk_error_errno(err, errno, "write %s", name);
			done += w;
		}
	}
	return copy_attributes(to_dir, name, out, st, err);
}

static int copy_symlink(int from_dir, int to_dir, const char *name, const struct stat *st,
			runk_error_t *err)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(from_dir, name, target, sizeof(target) - 1);

	if (n < 0)
		return runk_error_errno(err, errno, "readlink %s", name);
	target[n] = '\0';
	if (symlinkat(target, to_dir, name) < 0)
		return runk_error_errno(err, errno, "symlink %s", name);
	return copy_attributes(to_dir, name, -1, st, err);
}

static int copy_tree(int from_dir, int to_dir, int depth, runk_error_t *err);

static int copy_directory(int from_dir, int to_dir, const char *name, const struct stat *st,
			  int depth, runk_error_t *err)
{
	cleanup_close int from = -1, to = -1;

	if (mkdirat(to_dir, name, 0700) < 0)
		return runk_error_errno(err, errno, "mkdir %s", name);
	from = openat(from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	to = openat(to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (from < 0 || to < 0)
		return runk_error_errno(err, errno, "open the directory %s", name);
	if (copy_tree(from, to, depth + 1, err) < 0)
		return runk_error_prefix(err, "%s", name);
	/* Attributes last: a read-only mode would stop the copy into it. */
	return copy_attributes(to_dir, name, to, st, err);
}

static int copy_tree(int from_dir, int to_dir, int depth, runk_error_t *err)
{
	cleanup_dir DIR *dir = NULL;
	int fd = openat(from_dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;

	if (depth > COPY_UP_MAX_DEPTH)
		return runk_error(err, "more than %d directories deep", COPY_UP_MAX_DEPTH);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return runk_error_errno(err, errno, "read the directory");
	}
	while ((errno = 0, de = readdir(dir)) != NULL) {
		struct stat st;
		int r = 0;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(from_dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return runk_error_errno(err, errno, "stat %s", de->d_name);
		if (S_ISREG(st.st_mode))
			r = copy_file(from_dir, to_dir, de->d_name, &st, err);
		else if (S_ISDIR(st.st_mode))
			r = copy_directory(from_dir, to_dir, de->d_name, &st, depth, err);
		else if (S_ISLNK(st.st_mode))
			r = copy_symlink(from_dir, to_dir, de->d_name, &st, err);
		if (r < 0)
			return r;
	}
	if (errno != 0)
		return runk_error_errno(err, errno, "read the directory");
	return 0;
}

int tmpfs_copy_up(int shadowed_dir, int tmpfs_root, runk_error_t *err)
{
	/* The tmpfs root keeps its own mode (mode=, else 1777), as with runc and crun. */
	if (copy_tree(shadowed_dir, tmpfs_root, 0, err) < 0)
		return runk_error_prefix(err, "tmpcopyup");
	return 0;
}
