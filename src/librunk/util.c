#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void fsync_dir(const char *dir)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		fsync(fd);
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      runk_error_t *err)
{
	cleanup_free char *tmp = NULL;
	cleanup_close int fd = -1;
	const char *slash;

	if (asprintf(&tmp, "%s.tmp.%d", path, getpid()) < 0)
		abort();
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return runk_error_errno(err, errno, "create `%s`", tmp);
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int saved = errno;

		unlink(tmp);
		return runk_error_errno(err, saved, "write `%s`", tmp);
	}
	if (rename(tmp, path) < 0) {
		int saved = errno;

		unlink(tmp);
		return runk_error_errno(err, saved, "rename `%s` to `%s`", tmp, path);
	}
	/* The rename itself must reach the disk too. */
	slash = strrchr(path, '/');
	if (slash && slash != path) {
		cleanup_free char *dir = strndup(path, (size_t)(slash - path));

		if (dir)
			fsync_dir(dir);
	}
	return 0;
}

int read_file(const char *path, size_t max_len, char **data, size_t *len, runk_error_t *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t used = 0, cap = 0;

	if (fd < 0)
		return runk_error_errno(err, errno, "open `%s`", path);
	for (;;) {
		ssize_t n;

		if (cap - used < 4096) {
			cap = cap ? cap * 2 : 8192;
			char *grown = realloc(buf, cap + 1);
			if (grown == NULL)
				abort();
			buf = grown;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return runk_error_errno(err, errno, "read `%s`", path);
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max_len)
			return runk_error(err, "`%s` is larger than %zu bytes", path, max_len);
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		abort();
	buf[used] = '\0';
	*data = steal_pointer(&buf);
	if (len)
		*len = used;
	return 0;
}

int mkdir_p(const char *path, mode_t mode, runk_error_t *err)
{
	cleanup_free char *copy = strdup(path);

	if (copy == NULL)
		abort();
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return runk_error_errno(err, errno, "mkdir `%s`", copy);
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return runk_error_errno(err, errno, "mkdir `%s`", copy);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int remove_tree(const char *path, runk_error_t *err)
{
	/*
	 * FTW_MOUNT: a mount left inside the tree is never descended into and emptied.
	 * Two descriptors at most: cleanup must work when a low fd limit is why it runs.
	 */
	if (nftw(path, remove_entry, 2, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
		return runk_error_errno(err, errno, "remove `%s`", path);
	return 0;
}

int proc_start_time(pid_t pid, uint64_t *start_time, runk_error_t *err)
{
	char path[64];
	cleanup_free char *stat = NULL;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, 4096, &stat, NULL, err) < 0)
		return -1;
	/* comm (field 2) may hold spaces and parentheses: fields resume after the last ')'. */
	p = strrchr(stat, ')');
	if (p == NULL)
		return runk_error(err, "malformed `%s`", path);
	p++;
	/* p is at the space before field 3; field 22 follows the 19th space from here. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return runk_error(err, "malformed `%s`", path);
	}
	errno = 0;
	*start_time = strtoull(p + 1, NULL, 10);
	if (errno)
		return runk_error_errno(err, errno, "malformed `%s`", path);
	return 0;
}

bool proc_is_same(pid_t pid, uint64_t start_time)
{
	cleanup_error runk_error_t err = NULL;
	uint64_t now;

	if (pid <= 0 || proc_start_time(pid, &now, &err) < 0)
		return false;
	return now == start_time;
}

int signal_parse(const char *text, int *signo, runk_error_t *err)
{
	const char *name = text;
	char *end = NULL;
	long n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (end != text && *end == '\0') {
		if (errno || n <= 0 || n >= NSIG)
			return runk_error(err, "invalid signal `%s`", text);
		*signo = (int)n;
		return 0;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (int s = 1; s < NSIG; s++) {
		const char *abbrev = sigabbrev_np(s);

		if (abbrev && strcasecmp(abbrev, name) == 0) {
			*signo = s;
			return 0;
		}
	}
	return runk_error(err, "invalid signal `%s`", text);
}

void format_rfc3339_now(char *buf, size_t len)
{
	struct timespec now;
	struct tm tm;
	char secs[32];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", secs, now.tv_nsec);
}

void exit_like(int code, int signo)
{
	if (signo > 0) {
		sigset_t set;

		signal(signo, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, signo);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		prctl(PR_SET_DUMPABLE, 0); /* the guest's process dumped core, not us */
		kill(getpid(), signo);
		code = 128 + signo;
	}
	_exit(code);
}

/* Alive and not a zombie: a zombie's memory and cgroup membership are already gone. */
static bool proc_running(pid_t pid, uint64_t start_time)
{
	cleanup_free char *stat = NULL;
	char path[64];
	const char *p;

	if (!proc_is_same(pid, start_time))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, 4096, &stat, NULL, NULL) < 0 || (p = strrchr(stat, ')')) == NULL)
		return false;
	return p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

int kill_process_tree(pid_t pid, int timeout_ms)
{
	cleanup_free char *children = NULL;
	pid_t pids[64];
	uint64_t starts[64];
	size_t n = 0;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	read_file(path, 4096, &children, NULL, NULL);
	if (proc_start_time(pid, &starts[n], NULL) == 0)
		pids[n++] = pid;
	for (char *tok = children ? strtok(children, " \n") : NULL; tok && n < 64;
	     tok = strtok(NULL, " \n")) {
		pid_t child = (pid_t)strtol(tok, NULL, 10);

		if (child > 0 && proc_start_time(child, &starts[n], NULL) == 0)
			pids[n++] = child;
	}
	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		bool any = false;

		/* Reap it if it is ours (runk run, or a create that failed). */
		waitpid(pid, NULL, WNOHANG);
		for (size_t i = 0; i < n; i++)
			any |= proc_running(pids[i], starts[i]);
		if (!any)
			return 0;
		usleep(10000);
	}
	return -1;
}

int unix_sockaddr(const char *path, struct sockaddr_un *addr, int *dir_fd, runk_error_t *err)
{
	cleanup_free char *dir = strdup(path);
	const char *name = strrchr(path, '/');
	int n;

	if (dir == NULL)
		abort();
	*dir_fd = -1;
	*addr = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (strlen(path) < sizeof(addr->sun_path)) {
		strcpy(addr->sun_path, path);
		return 0;
	}
	if (name == NULL || name == path)
		return runk_error(err, "unix socket path `%s` is too long", path);
	dir[name - path] = '\0';
	*dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dir_fd < 0)
		return runk_error_errno(err, errno, "`%s`", dir);
	n = snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/self/fd/%d%s", *dir_fd, name);
	if (n < 0 || (size_t)n >= sizeof(addr->sun_path)) {
		close(*dir_fd);
		*dir_fd = -1;
		return runk_error(err, "unix socket name in `%s` is too long", path);
	}
	return 0;
}

void stdio_to_dev_null(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i <= STDERR_FILENO; i++)
		dup2(fd, i);
	close(fd);
}

void forwarded_signals_set(sigset_t *set)
{
	static const int forwarded[] = {SIGTERM, SIGINT,   SIGHUP,  SIGQUIT, SIGUSR1,
					SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIGPWR};

	sigemptyset(set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
}
