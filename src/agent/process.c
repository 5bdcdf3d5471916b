/*
 * The container's process (its init, or an exec'd one) once its root is set
 * up: oom_score_adj, rlimits, personality, seccomp, capabilities and user,
 * then exec.  What can be checked is checked first, in the agent, by
 * process_plan_make: the child only applies the plan.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
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

static int set_user(const struct oci_process *process, runk_error_t *err)
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

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{"RLIMIT_AS", RLIMIT_AS},
	{"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},
	{"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},
	{"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
	{"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_STACK", RLIMIT_STACK},
};

int rlimit_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++)
		if (strcmp(name, rlimit_names[i].name) == 0)
			return rlimit_names[i].resource;
	return -1;
}

int personality_parse(const char *domain, unsigned long *out)
{
	if (strcmp(domain, "LINUX") == 0)
		*out = PER_LINUX;
	else if (strcmp(domain, "LINUX32") == 0)
		*out = PER_LINUX32;
	else
		return -1;
	return 0;
}

static int rlimits_parse(const struct oci_process *p, struct process_plan *plan, runk_error_t *err)
{
	if (p->rlimits_len == 0)
		return 0;
	plan->rlimits = calloc(p->rlimits_len, sizeof(*plan->rlimits));
	if (plan->rlimits == NULL)
		abort();
	for (size_t i = 0; i < p->rlimits_len; i++) {
		const struct oci_posix_rlimit *r = p->rlimits[i];
		int res = r->type ? rlimit_parse(r->type) : -1;

		if (res < 0)
			return runk_error(err, "process.rlimits[%zu].type: unknown rlimit `%s`", i,
					  r->type ? r->type : "");
		if (r->soft > r->hard)
			return runk_error(err,
					  "process.rlimits[%zu]: soft limit %llu above the hard "
					  "limit %llu",
					  i, (unsigned long long)r->soft,
					  (unsigned long long)r->hard);
		plan->rlimits[i] = (struct rlimit_setting){res, r->soft, r->hard};
	}
	plan->rlimits_len = p->rlimits_len;
	return 0;
}

int process_plan_make(const struct oci_process *p, const struct oci_linux *linux,
		      struct process_plan *plan, runk_error_t *err)
{
	*plan = (struct process_plan){0};
	if (p->capabilities && caps_parse(p->capabilities, &plan->caps, err) < 0)
		goto fail;
	if (rlimits_parse(p, plan, err) < 0)
		goto fail;
	if (p->has_oom_score_adj) {
		if (p->oom_score_adj < -1000 || p->oom_score_adj > 1000) {
			runk_error(err, "process.oomScoreAdj: %lld is not in -1000..1000",
				   (long long)p->oom_score_adj);
			goto fail;
		}
		plan->has_oom = true;
		plan->oom_score_adj = (int)p->oom_score_adj;
	}
	/* The guest has neither: accepted, as on a host without them. */
	if (p->apparmor_profile && p->apparmor_profile[0])
		log_info("process.apparmorProfile `%s` ignored: no AppArmor in the guest",
			 p->apparmor_profile);
	if (p->selinux_label && p->selinux_label[0])
		log_info("process.selinuxLabel `%s` ignored: no SELinux in the guest",
			 p->selinux_label);
	if (linux && linux->personality) {
		const struct oci_linux_personality *per = linux->personality;

		if (per->domain == NULL || personality_parse(per->domain, &plan->personality) < 0) {
			runk_error(err, "linux.personality.domain: unknown domain `%s`",
				   per->domain ? per->domain : "");
			goto fail;
		}
		if (per->flags_len > 0) {
			runk_error(err, "linux.personality.flags: no flag is supported");
			goto fail;
		}
		plan->has_personality = true;
	}
	if (linux && linux->seccomp) {
		plan->seccomp = seccomp_build(linux->seccomp, err);
		if (plan->seccomp == NULL)
			goto fail;
	}
	return 0;
fail:
	process_plan_free(plan);
	return -1;
}

void process_plan_free(struct process_plan *plan)
{
	free(plan->rlimits);
	seccomp_free(plan->seccomp);
	*plan = (struct process_plan){0};
}

static int oom_score_set(int value, runk_error_t *err)
{
	char text[16];
	cleanup_close int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	int len = snprintf(text, sizeof(text), "%d", value);

	if (fd < 0 || write(fd, text, (size_t)len) != len)
		return runk_error_errno(err, errno, "process.oomScoreAdj: write %d", value);
	return 0;
}

int process_setup(const struct oci_process *process, const struct process_plan *plan,
		  runk_error_t *err)
{
	if (plan->has_oom && oom_score_set(plan->oom_score_adj, err) < 0)
		return -1;
	for (size_t i = 0; i < plan->rlimits_len; i++) {
		const struct rlimit_setting *r = &plan->rlimits[i];
		struct rlimit lim = {.rlim_cur = r->soft, .rlim_max = r->hard};

		if (setrlimit((__rlimit_resource_t)r->resource, &lim) < 0)
			return runk_error_errno(err, errno, "process.rlimits[%zu]: setrlimit", i);
	}
	if (plan->has_personality && personality(plan->personality) < 0)
		return runk_error_errno(err, errno, "linux.personality");
	/* Without no_new_privs, loading a filter takes CAP_SYS_ADMIN: load it while we have it. */
	if (!process->no_new_privileges && seccomp_apply(plan->seccomp, err) < 0)
		return -1;
	if (caps_drop_bounding(&plan->caps, err) < 0)
		return -1;
	/* Keep the permitted set across setuid, then set exactly the spec's sets. */
	if (plan->caps.set && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return runk_error_errno(err, errno, "PR_SET_KEEPCAPS");
	if (set_user(process, err) < 0)
		return -1;
	if (plan->caps.set) {
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		if (caps_apply(&plan->caps, err) < 0)
			return -1;
	}
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

void process_exec(const struct oci_process *process, const struct process_plan *plan)
{
	runk_error_t err = NULL;
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
	if (process->no_new_privileges && seccomp_apply(plan->seccomp, &err) < 0) {
		char *text = runk_error_text(err);

		fprintf(stderr, "runk: %s\n", text);
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
