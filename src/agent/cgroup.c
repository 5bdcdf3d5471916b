/*
 * Each container's cgroup in the guest: AGENT_CGROUP_ROOT/<id> on the
 * cgroup2 hierarchy the agent mounted at boot.  The container's init and
 * every process exec'd into it live there, so it carries the container's
 * resource limits, its process list (ps, signal --all), its statistics and
 * its OOM kills.  The agent itself stays in the root cgroup.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "ocispec.h"

/* How long delete waits for killed processes to leave the cgroup. */
#define DESTROY_TIMEOUT_MS 5000
/* How long freeze waits for every process to be frozen (or thawed). */
#define FREEZE_TIMEOUT_MS 5000

static int file_write(const char *dir, const char *file, const char *value, runk_error_t *err)
{
	char path[PATH_MAX];
	cleanup_close int fd = -1;
	size_t len = strlen(value);

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return runk_error_errno(err, errno, "open %s", path);
	if (write(fd, value, len) != (ssize_t)len)
		return runk_error_errno(err, errno, "write `%s` to %s", value, path);
	return 0;
}

/* The whole (small) file, NUL-terminated; NULL if it cannot be read. */
static char *file_read(const char *dir, const char *file)
{
	char path[PATH_MAX];
	cleanup_close int fd = -1;
	size_t len = 0, cap = 4096;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (buf == NULL)
		abort();
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap - 1) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
	}
	buf[len] = '\0';
	return buf;
}

/* A file holding one number or "max" (-1); `missing` when absent or unreadable. */
static long long file_read_number(const char *dir, const char *file, long long missing)
{
	cleanup_free char *text = file_read(dir, file);
	long long v;

	if (text == NULL)
		return missing;
	if (strncmp(text, "max", 3) == 0)
		return -1;
	if (sscanf(text, "%lld", &v) != 1)
		return missing;
	return v;
}

/* "key value" lines (cpu.stat, memory.events): the value of key, or 0. */
static long long keyed_value(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n')) {
		long long v;

		if (*line == '\n')
			line++;
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ' &&
		    sscanf(line + klen + 1, "%lld", &v) == 1)
			return v;
	}
	return 0;
}

void cgroup_enable_controllers(void)
{
	static const char *const controllers[] = {"+cpu", "+cpuset", "+io", "+memory", "+pids"};
	cleanup_error runk_error_t err = NULL;

	/* One at a time: a kernel without one of them refuses only that one. */
	for (size_t i = 0; i < sizeof(controllers) / sizeof(controllers[0]); i++) {
		if (file_write(AGENT_CGROUP_ROOT, "cgroup.subtree_control", controllers[i], &err) <
		    0) {
			log_info("cgroup controller %s not enabled", controllers[i] + 1);
			runk_error_free(&err);
		}
	}
}

int cgroup_create(struct container *c, runk_error_t *err)
{
	if (strlen(c->id) > NAME_MAX)
		return runk_error(err,
				  "container id longer than %d characters cannot name a cgroup",
				  NAME_MAX);
	if (asprintf(&c->cgroup, "%s/%s", AGENT_CGROUP_ROOT, c->id) < 0)
		abort();
	if (mkdir(c->cgroup, 0755) < 0)
		return runk_error_errno(err, errno, "create the cgroup %s", c->cgroup);
	return 0;
}

int cgroup_enter(const char *cgroup, runk_error_t *err)
{
	return file_write(cgroup, "cgroup.procs", "0", err);
}

int cgroup_add(const char *cgroup, const char *pid, runk_error_t *err)
{
	return file_write(cgroup, "cgroup.procs", pid, err);
}

int cgroup_apply(const char *cgroup, const struct oci_linux_resources *r, runk_error_t *err)
{
	struct cgroup_setting *list;
	size_t count;
	long long current = file_read_number(cgroup, "memory.max", 0);
	int ret = 0;

	if (resources_to_cgroup2(r, current, &list, &count, err) < 0)
		return runk_error_prefix(err, "linux.resources");
	for (size_t i = 0; i < count && ret == 0; i++) {
		ret = file_write(cgroup, list[i].file, list[i].value, err);
		if (ret < 0)
			runk_error_prefix(err, "linux.resources.%s", list[i].field);
	}
	cgroup_settings_free(list, count);
	return ret;
}

static int compare_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int cgroup_pids(const char *cgroup, long long **pids, size_t *count, runk_error_t *err)
{
	cleanup_free char *text = file_read(cgroup, "cgroup.procs");
	size_t n = 0, cap = 16;
	long long *list;

	if (text == NULL)
		return runk_error_errno(err, errno, "read %s/cgroup.procs", cgroup);
	list = malloc(cap * sizeof(*list));
	if (list == NULL)
		abort();
	for (char *p = text, *end; *p; p = end) {
		long long pid = strtoll(p, &end, 10);

		if (end == p)
			break;
		if (n == cap) {
			cap *= 2;
			list = realloc(list, cap * sizeof(*list));
			if (list == NULL)
				abort();
		}
		list[n++] = pid;
	}
	qsort(list, n, sizeof(*list), compare_ll);
	*pids = list;
	*count = n;
	return 0;
}

int cgroup_signal(const char *cgroup, int sig, runk_error_t *err)
{
	cleanup_free long long *pids = NULL;
	size_t count;

	/* cgroup.kill (5.14+) also catches processes forking meanwhile. */
	if (sig == SIGKILL && file_write(cgroup, "cgroup.kill", "1", NULL) == 0)
		return 0;
	if (cgroup_pids(cgroup, &pids, &count, err) < 0)
		return -1;
	for (size_t i = 0; i < count; i++)
		if (kill((pid_t)pids[i], sig) < 0 && errno != ESRCH)
			return runk_error_errno(err, errno, "kill %lld", pids[i]);
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cgroup_destroy(const char *cgroup, runk_error_t *err)
{
	int last = 0;

	for (long waited = 0; waited <= DESTROY_TIMEOUT_MS; waited += 10) {
		cleanup_free char *events = NULL;

		if (rmdir(cgroup) == 0 || errno == ENOENT)
			return 0;
		last = errno;
		if (last != EBUSY)
			break;
		/* Killed processes leave the cgroup as they finish exiting. */
		events = file_read(cgroup, "cgroup.events");
		if (events == NULL || keyed_value(events, "populated") != 0)
			cgroup_signal(cgroup, SIGKILL, NULL);
		sleep_ms(10);
	}
	return runk_error_errno(err, last, "remove the cgroup %s", cgroup);
}

int cgroup_freeze(const char *cgroup, bool frozen, runk_error_t *err)
{
	const char *value = frozen ? "1" : "0";

	if (file_write(cgroup, "cgroup.freeze", value, err) < 0)
		return -1;
	/* The kernel reports "frozen 1" once every process in it stopped; thawing is as quick. */
	for (long waited = 0;; waited += 10) {
		cleanup_free char *events = file_read(cgroup, "cgroup.events");

		if (events == NULL)
			return runk_error_errno(err, errno, "read %s/cgroup.events", cgroup);
		if (keyed_value(events, "frozen") == frozen)
			return 0;
		if (waited >= FREEZE_TIMEOUT_MS)
			break;
		sleep_ms(10);
	}
	/* A failed request changes nothing: do not leave it half frozen. */
	if (frozen)
		file_write(cgroup, "cgroup.freeze", "0", NULL);
	return runk_error(err, "%s/cgroup.events did not say `frozen %s` within %d s", cgroup,
			  value, FREEZE_TIMEOUT_MS / 1000);
}

int cgroup_stats(const char *cgroup, struct proto_json *reply, runk_error_t *err)
{
	cleanup_free char *cpu = file_read(cgroup, "cpu.stat");
	cleanup_free char *events = file_read(cgroup, "memory.events");
	long long v;

	if (cpu == NULL)
		return runk_error_errno(err, errno, "read %s/cpu.stat", cgroup);
	proto_json_add_int(reply, "cpu_usage_ns", keyed_value(cpu, "usage_usec") * 1000);
	proto_json_add_int(reply, "cpu_user_ns", keyed_value(cpu, "user_usec") * 1000);
	proto_json_add_int(reply, "cpu_system_ns", keyed_value(cpu, "system_usec") * 1000);
	proto_json_add_int(reply, "memory_usage", file_read_number(cgroup, "memory.current", 0));
	v = file_read_number(cgroup, "memory.max", 0);
	proto_json_add_int(reply, "memory_limit", v < 0 ? 0 : v);
	proto_json_add_int(reply, "memory_max_usage", file_read_number(cgroup, "memory.peak", 0));
	proto_json_add_int(reply, "swap_usage", file_read_number(cgroup, "memory.swap.current", 0));
	proto_json_add_int(reply, "pids_current", file_read_number(cgroup, "pids.current", 0));
	v = file_read_number(cgroup, "pids.max", 0);
	proto_json_add_int(reply, "pids_limit", v < 0 ? 0 : v);
	proto_json_add_int(reply, "oom_kills", events ? keyed_value(events, "oom_kill") : 0);
	return 0;
}

long long cgroup_oom_kills(const char *cgroup)
{
	cleanup_free char *events = file_read(cgroup, "memory.events");

	return events ? keyed_value(events, "oom_kill") : 0;
}

void cgroup_oom_watch(struct agent *agent, struct container *c)
{
	char path[PATH_MAX];

	c->oom_wd = -1;
	c->oom_kills = cgroup_oom_kills(c->cgroup);
	if (agent->inotify_fd < 0)
		return;
	snprintf(path, sizeof(path), "%s/memory.events", c->cgroup);
	c->oom_wd = inotify_add_watch(agent->inotify_fd, path, IN_MODIFY);
	if (c->oom_wd < 0)
		log_info("no OOM events for %s: inotify on %s: %s", c->id, path, strerror(errno));
}

void cgroup_oom_check(struct agent *agent, struct container *c)
{
	static const char event[] = "{\"event\":\"oom\"}";
	long long kills = cgroup_oom_kills(c->cgroup);

	if (kills <= c->oom_kills)
		return;
	c->oom_kills = kills;
	/* After the init's exit event nothing more is sent on its stream. */
	if (c->init == NULL || c->init->event_sent || c->init->dead)
		return;
	log_info("container %s: OOM kill (%lld so far)", c->id, kills);
	agent_send(agent, PROTO_EVENT, c->init->stream, event, sizeof(event) - 1);
}

void cgroup_inotify_ready(struct agent *agent)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(agent->inotify_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			for (struct container *c = agent->containers; c; c = c->next)
				if (c->oom_wd == ev->wd)
					cgroup_oom_check(agent, c);
			p += sizeof(*ev) + ev->len;
		}
	}
}
