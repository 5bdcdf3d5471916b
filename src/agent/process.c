/* The container's process (its init, or an exec'd one) once set up: user ids, then exec. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "ocispec.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int compare_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void close_fds_except(const int *keep, size_t count)
{
	int sorted[8];
	unsigned int from = 3;

	if (count > sizeof(sorted) / sizeof(sorted[0]))
		abort();
	memcpy(sorted, keep, count * sizeof(*keep));
	qsort(sorted, count, sizeof(*sorted), compare_int);
	for (size_t i = 0; i < count; i++) {
		if (sorted[i] < (int)from)
			continue;
		if ((unsigned int)sorted[i] > from)
			close_range(from, (unsigned int)sorted[i] - 1, 0);
		from = (unsigned int)sorted[i] + 1;
	}
	close_range(from, UINT_MAX, 0);
}

int process_set_user(const struct oci_process *process, runk_error_t *err)
{
	const struct oci_user *u = process->user;
	cleanup_free gid_t *gids = NULL;
	size_t ngids = u ? u->additional_gids_len : 0;

	if (ngids > 0) {
		gids = calloc(ngids, sizeof(*gids));
		if (gids == NULL)
			abort();
		for (size_t i = 0; i < ngids; i++)
			gids[i] = u->additional_gids[i];
	}
	/* setgroups first: after setuid the process may no longer change groups. */
	if (setgroups(ngids, gids) < 0)
		return runk_error_errno(err, errno, "setgroups");
	if (setgid(u ? u->gid : 0) < 0)
		return runk_error_errno(err, errno, "setgid %u", u ? u->gid : 0);
	if (setuid(u ? u->uid : 0) < 0)
		return runk_error_errno(err, errno, "setuid %u", u ? u->uid : 0);
	umask(u && u->has_umask ? (mode_t)u->umask : 022);
	return 0;
}

/* execvpe searches the PATH of the agent's environment: use the container's. */
static void path_from_env(char *const *env)
{
	const char *path = DEFAULT_PATH;

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], "PATH=", 5) == 0)
			path = env[i] + 5;
	setenv("PATH", path, 1);
}

void process_exec(const struct oci_process *process)
{
	static char *const empty_env[] = {NULL};
	char *const *args = process->args;
	char *const *env = process->env ? process->env : empty_env;
	int e;

	path_from_env(env);
	/* Last, so nothing the agent still does here is limited by it. */
	if (process->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "runk: set no_new_privs: %s\n", strerror(errno));
		_exit(126);
	}
	execvpe(args[0], args, env);
	e = errno;
	/* Worded like runc, so callers and tests that match its message keep working. */
	if (e == ENOENT && strchr(args[0], '/') == NULL)
		fprintf(stderr, "runk: exec: \"%s\": executable file not found in $PATH\n",
			args[0]);
	else
		fprintf(stderr, "runk: exec: \"%s\": %s\n", args[0], strerror(e));
	fflush(stderr);
	_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}
