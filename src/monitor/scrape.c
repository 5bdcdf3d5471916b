/*
 * One sandbox's figures.  The host part comes from /proc (the shim, and
 * QEMU, the shim's child) and the host cgroups QEMU's threads are in; the
 * guest part from the shim's control socket (status, stats, guest), never
 * from the agent channel, which the shim owns.
 *
 * Each collection runs in a thread of its own with a deadline: scrapes of
 * many sandboxes run side by side, a scrape waits for a sandbox at most its
 * timeout, and concurrent scrapes of one sandbox share one collection.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "monitor.h"
#include "proto.h"
#include "shimctl.h"
#include "state.h"
#include "util.h"

struct histogram scrape_duration;

/* ---- /proc ---- */

/* A small text file (under /proc or /sys) into buf, NUL-terminated. */
static int read_text(const char *path, char *buf, size_t size)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -1;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return 0;
}

/* "Key:   123 kB" in a status-like file: the number, times 1024 when in kB. */
static bool find_field(const char *text, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		unsigned long long v;
		char *end;

		if (strncmp(line, key, klen) != 0 || line[klen] != ':')
			continue;
		errno = 0;
		v = strtoull(line + klen + 1, &end, 10);
		if (errno || end == line + klen + 1)
			return false;
		while (*end == ' ' || *end == '\t')
			end++;
		if (strncmp(end, "kB", 2) == 0)
			v *= 1024;
		*out = v;
		return true;
	}
	return false;
}

static void proc_status(pid_t pid, const char *key, struct sample *s, enum figure fig)
{
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_text(path, buf, sizeof(buf)) == 0 && find_field(buf, key, &s->value[fig]))
		s->have[fig] = true;
}

/* utime + stime (fields 14 and 15 of /proc/PID/stat), in nanoseconds. */
static void proc_cpu(pid_t pid, struct sample *s)
{
	char path[64], buf[1024];
	unsigned long long utime, stime;
	long ticks = sysconf(_SC_CLK_TCK);
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (ticks <= 0 || read_text(path, buf, sizeof(buf)) < 0)
		return;
	/* comm may hold spaces and parentheses: fields count from the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				&utime, &stime) != 2)
		return;
	s->value[FIG_HV_CPU] = (utime + stime) * (1000000000ULL / (unsigned long long)ticks);
	s->have[FIG_HV_CPU] = true;
}

static void proc_fds(pid_t pid, struct sample *s)
{
	char path[64];
	cleanup_dir DIR *d = NULL;
	struct dirent *e;
	uint64_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (d == NULL)
		return;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	s->value[FIG_HV_FDS] = n;
	s->have[FIG_HV_FDS] = true;
}

static bool comm_is(pid_t pid, pid_t tid, const char *prefix)
{
	char path[96], comm[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	return read_text(path, comm, sizeof(comm)) == 0 &&
	       strncmp(comm, prefix, strlen(prefix)) == 0;
}

/* A pooled VM is not the shim's child: the shim watches it through a pidfd. */
static pid_t find_adopted_qemu(pid_t shim)
{
	char path[96];
	struct dirent *e;
	DIR *d;
	pid_t found = 0;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", shim);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while (found == 0 && (e = readdir(d))) {
		char info[512], *pid_line;
		char file[96 + 256];
		long v;

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		if (read_text(file, info, sizeof(info)) < 0 ||
		    (pid_line = strstr(info, "\nPid:")) == NULL)
			continue;
		v = strtol(pid_line + 5, NULL, 10);
		if (v > 0 && v <= INT_MAX && comm_is((pid_t)v, (pid_t)v, "qemu"))
			found = (pid_t)v;
	}
	closedir(d);
	return found;
}

/* The shim's QEMU: the child called qemu-*, or its only child, or the pooled VM it adopted. */
static pid_t find_qemu(pid_t shim)
{
	char path[96], buf[1024];
	pid_t first = 0;
	char *p, *end;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", shim, shim);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return 0;
	for (p = buf;; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p || v <= 0 || v > INT_MAX)
			break;
		if (comm_is((pid_t)v, (pid_t)v, "qemu"))
			return (pid_t)v;
		if (first == 0)
			first = (pid_t)v;
	}
	return first ? first : find_adopted_qemu(shim);
}

/* ---- host cgroups ---- */

struct cgroup_mounts {
	char *cpuacct; /* v1 hierarchy with cpuacct */
	char *memory;  /* v1 hierarchy with memory */
	char *unified; /* cgroup2 */
};

static struct cgroup_mounts mounts;
static pthread_once_t mounts_once = PTHREAD_ONCE_INIT;

static bool has_option(const char *options, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = options; p; p = strchr(p, ','), p += !!p)
		if (strncmp(p, want, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* Only hierarchies mounted at their root: a path from /proc/PID/cgroup is relative to it. */
static void find_mounts(void)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	while (f && fgets(line, sizeof(line), f)) {
		char root[1024], point[1024], fstype[64], options[1024];
		const char *dash = strstr(line, " - ");

		if (dash == NULL || sscanf(line, "%*s %*s %*s %1023s %1023s", root, point) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, options) != 2 || strcmp(root, "/"))
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && mounts.unified == NULL)
			mounts.unified = strdup(point);
		if (strcmp(fstype, "cgroup") != 0)
			continue;
		if (has_option(options, "cpuacct") && mounts.cpuacct == NULL)
			mounts.cpuacct = strdup(point);
		if (has_option(options, "memory") && mounts.memory == NULL)
			mounts.memory = strdup(point);
	}
}

/* Where one task is: its v1 cpuacct and memory cgroups and its v2 cgroup. */
struct task_cgroups {
	char cpuacct[512];
	char memory[512];
	char unified[512];
};

static bool task_cgroups(pid_t pid, pid_t tid, struct task_cgroups *t)
{
	char path[96], buf[4096];

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", pid, tid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return false;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *controllers = strchr(line, ':'), *cgroup;

		if (controllers == NULL || (cgroup = strchr(controllers + 1, ':')) == NULL)
			continue;
		*cgroup++ = '\0';
		controllers++;
		if (strcmp(line, "0") == 0 && *controllers == '\0')
			snprintf(t->unified, sizeof(t->unified), "%s", cgroup);
		if (has_option(controllers, "cpuacct"))
			snprintf(t->cpuacct, sizeof(t->cpuacct), "%s", cgroup);
		if (has_option(controllers, "memory"))
			snprintf(t->memory, sizeof(t->memory), "%s", cgroup);
	}
	return true;
}

/*
 * Is this cgroup runk's for the sandbox?  Every engine and runk's defaults
 * name the cgroup after the container (/runk/ID, /runk_overhead/ID,
 * runk-ID.scope, libpod-ID.scope, cri-containerd:ID ...): the last path
 * component names the id.  Anything else (the cgroup runk was started in)
 * is not the sandbox's, and is not reported.
 */
static bool names_sandbox(const char *cgroup, const char *id, bool overhead)
{
	const char *last = strrchr(cgroup, '/');

	if (last == NULL || strstr(last, id) == NULL)
		return false;
	return (strstr(cgroup, "overhead") != NULL) == overhead;
}

static bool read_u64(const char *path, const char *key, uint64_t *out)
{
	char buf[4096];
	char *end;

	if (read_text(path, buf, sizeof(buf)) < 0)
		return false;
	if (key) {
		/* "usage_usec 123" lines of cpu.stat */
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			size_t n = strlen(key);

			if (strncmp(line, key, n) == 0 && line[n] == ' ') {
				*out = strtoull(line + n + 1, &end, 10);
				return end != line + n + 1;
			}
		}
		return false;
	}
	*out = strtoull(buf, &end, 10);
	return end != buf;
}

static void cgroup_figures(const struct task_cgroups *t, const char *id, bool overhead,
			   struct sample *s, enum figure cpu, enum figure mem)
{
	char path[1100];
	uint64_t v;

	if (mounts.cpuacct && names_sandbox(t->cpuacct, id, overhead)) {
		snprintf(path, sizeof(path), "%s%s/cpuacct.usage", mounts.cpuacct, t->cpuacct);
		if ((s->have[cpu] = read_u64(path, NULL, &v)))
			s->value[cpu] = v;
	} else if (mounts.unified && names_sandbox(t->unified, id, overhead)) {
		snprintf(path, sizeof(path), "%s%s/cpu.stat", mounts.unified, t->unified);
		if ((s->have[cpu] = read_u64(path, "usage_usec", &v)))
			s->value[cpu] = v * 1000;
	}
	if (mounts.memory && names_sandbox(t->memory, id, overhead)) {
		snprintf(path, sizeof(path), "%s%s/memory.usage_in_bytes", mounts.memory,
			 t->memory);
		if ((s->have[mem] = read_u64(path, NULL, &v)))
			s->value[mem] = v;
	} else if (mounts.unified && names_sandbox(t->unified, id, overhead)) {
		snprintf(path, sizeof(path), "%s%s/memory.current", mounts.unified, t->unified);
		if ((s->have[mem] = read_u64(path, NULL, &v)))
			s->value[mem] = v;
	}
}

static bool cgroups_name(const struct task_cgroups *t, const char *id, bool overhead)
{
	return names_sandbox(t->cpuacct, id, overhead) || names_sandbox(t->memory, id, overhead) ||
	       names_sandbox(t->unified, id, overhead);
}

/*
 * The sandbox cgroup is where the vCPU threads are ("CPU n/KVM", "CPU
 * n/TCG"), the overhead cgroup where QEMU's main thread or the shim is.
 */
static void host_cgroups(pid_t shim, pid_t qemu, const char *id, struct sample *s)
{
	struct task_cgroups t;
	bool sandbox_done = false, overhead_done = false;
	char path[64];
	cleanup_dir DIR *d = NULL;
	struct dirent *e;

	pthread_once(&mounts_once, find_mounts);
	snprintf(path, sizeof(path), "/proc/%d/task", qemu);
	d = opendir(path);
	while (d && (e = readdir(d)) && !sandbox_done) {
		long tid = strtol(e->d_name, NULL, 10);

		if (tid <= 0 || !comm_is(qemu, (pid_t)tid, "CPU ") ||
		    !task_cgroups(qemu, (pid_t)tid, &t) || !cgroups_name(&t, id, false))
			continue;
		cgroup_figures(&t, id, false, s, FIG_SANDBOX_CG_CPU, FIG_SANDBOX_CG_MEM);
		sandbox_done = true;
	}
	if (!sandbox_done && task_cgroups(qemu, qemu, &t) && cgroups_name(&t, id, false)) {
		cgroup_figures(&t, id, false, s, FIG_SANDBOX_CG_CPU, FIG_SANDBOX_CG_MEM);
		sandbox_done = true;
	}
	if (task_cgroups(qemu, qemu, &t) && cgroups_name(&t, id, true)) {
		cgroup_figures(&t, id, true, s, FIG_OVERHEAD_CG_CPU, FIG_OVERHEAD_CG_MEM);
		overhead_done = true;
	}
	if (!overhead_done && task_cgroups(shim, shim, &t) && cgroups_name(&t, id, true))
		cgroup_figures(&t, id, true, s, FIG_OVERHEAD_CG_CPU, FIG_OVERHEAD_CG_MEM);
}

int host_collect(pid_t shim, const char *id, struct sample *s)
{
	char path[64], buf[8192];
	pid_t qemu;

	proc_status(shim, "VmRSS", s, FIG_SHIM_RSS);
	qemu = find_qemu(shim);
	if (qemu <= 0)
		return -1;
	proc_status(qemu, "VmRSS", s, FIG_HV_RSS);
	proc_status(qemu, "Threads", s, FIG_HV_THREADS);
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", qemu);
	if (read_text(path, buf, sizeof(buf)) == 0 && find_field(buf, "Pss", &s->value[FIG_HV_PSS]))
		s->have[FIG_HV_PSS] = true;
	proc_cpu(qemu, s);
	proc_fds(qemu, s);
	host_cgroups(shim, qemu, id, s);
	return 0;
}

/* ---- the shim ---- */

/* One request to the shim, bounded by deadline_ns from connect to reply. */
static int shim_ask(const char *dir, const char *request, uint64_t deadline_ns, yajl_val *reply,
		    runk_error_t *err)
{
	struct sockaddr_un addr;
	cleanup_close int fd = -1, dir_fd = -1;
	cleanup_free char *path = NULL;
	uint64_t now;
	int n;

	if (asprintf(&path, "%s/%s", dir, SHIM_SOCKET) < 0)
		abort();
	if (unix_sockaddr(path, &addr, &dir_fd, err) < 0)
		return -1;
	/* Non-blocking: a shim whose backlog is full must not hold us in connect(). */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return runk_error_errno(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return runk_error_errno(err, errno, "connect to `%s`", path);
	if (shimctl_send(fd, request, NULL, 0, err) < 0)
		return -1;
	now = monotonic_ns();
	if (now >= deadline_ns)
		return runk_error(err, "timed out");
	n = shimctl_recv(fd, (int)((deadline_ns - now + 999999) / 1000000), true, reply, err);
	if (n == 0)
		return runk_error(err, "the shim closed the connection");
	return n < 0 ? -1 : 0;
}

static const char *known_status(const char *status)
{
	for (size_t i = 0; sandbox_statuses[i]; i++)
		if (strcmp(status, sandbox_statuses[i]) == 0)
			return sandbox_statuses[i];
	return "unknown";
}

struct field_map {
	const char *key;
	enum figure fig;
};

static int take_fields(yajl_val reply, const struct field_map *map, size_t n, struct sample *s,
		       runk_error_t *err)
{
	for (size_t i = 0; i < n; i++) {
		long long v;

		if (proto_json_get_int(reply, map[i].key, 0, LLONG_MAX, &v, err) < 0)
			return -1;
		s->value[map[i].fig] = (uint64_t)v;
		s->have[map[i].fig] = true;
	}
	return 0;
}

static const struct field_map stats_fields[] = {
	{"memory_usage", FIG_GUEST_CT_MEM},
	{"memory_limit", FIG_GUEST_CT_MEM_LIMIT},
	{"cpu_usage_ns", FIG_GUEST_CT_CPU},
	{"pids_current", FIG_GUEST_CT_PIDS},
};

static const struct field_map guest_fields[] = {
	{"mem_total", FIG_GUEST_MEM_TOTAL},
	{"mem_free", FIG_GUEST_MEM_FREE},
	{"mem_available", FIG_GUEST_MEM_AVAILABLE},
	{"load1_milli", FIG_GUEST_LOAD1},
	{"tasks", FIG_GUEST_TASKS},
};

/* status, stats and guest from the shim; fails if any of them does. */
static int guest_collect(struct sandbox *sb, uint64_t deadline_ns, struct sample *s,
			 runk_error_t *err)
{
	yajl_val reply = NULL;
	const char *status = NULL;
	int ret;

	if (shim_ask(sb->dir, "{\"op\":\"status\"}", deadline_ns, &reply, err) < 0)
		return runk_error_prefix(err, "status");
	ret = proto_json_get_string(reply, "status", &status, err);
	if (ret == 0)
		s->status = known_status(status);
	yajl_tree_free(reply);
	if (ret < 0 || strcmp(s->status, "stopped") == 0)
		return ret;

	reply = NULL;
	if (shim_ask(sb->dir, "{\"op\":\"stats\"}", deadline_ns, &reply, err) < 0)
		return runk_error_prefix(err, "stats");
	ret = take_fields(reply, stats_fields, sizeof(stats_fields) / sizeof(stats_fields[0]), s,
			  err);
	yajl_tree_free(reply);
	if (ret < 0)
		return runk_error_prefix(err, "stats");

	reply = NULL;
	if (shim_ask(sb->dir, "{\"op\":\"guest\"}", deadline_ns, &reply, err) < 0)
		return runk_error_prefix(err, "guest");
	ret = take_fields(reply, guest_fields, sizeof(guest_fields) / sizeof(guest_fields[0]), s,
			  err);
	yajl_tree_free(reply);
	return ret < 0 ? runk_error_prefix(err, "guest") : 0;
}

static void *collect_thread(void *arg)
{
	struct sandbox *sb = arg;
	cleanup_error runk_error_t err = NULL;
	uint64_t start = monotonic_ns(), end;
	struct sample s = {.status = "unknown"};
	bool failed = false;

	s.value[FIG_VM_VCPUS] = sb->vcpus;
	s.have[FIG_VM_VCPUS] = sb->vcpus > 0;
	s.value[FIG_VM_MEMORY] = (uint64_t)sb->memory_mib << 20;
	s.have[FIG_VM_MEMORY] = sb->memory_mib > 0;
	if (!proc_is_same(sb->shim_pid, sb->shim_start_time)) {
		s.status = "stopped";
	} else {
		if (host_collect(sb->shim_pid, sb->id, &s) < 0)
			monitor_debug("%s: no hypervisor process under shim %d", sb->id,
				      sb->shim_pid);
		pthread_mutex_lock(&sb->lock);
		sb->partial = s;
		sb->have_partial = true;
		pthread_mutex_unlock(&sb->lock);
		if (guest_collect(sb, start + monitor_opts.scrape_timeout_ns, &s, &err) < 0) {
			cleanup_free char *text = runk_error_text(err);

			monitor_debug("%s: %s", sb->id, text);
			failed = true;
		}
	}
	end = monotonic_ns();
	histogram_observe(&scrape_duration, end - start);
	pthread_mutex_lock(&sb->lock);
	sb->sample = s;
	sb->have_sample = true;
	sb->have_partial = false;
	sb->sample_ns = end;
	sb->scrapes++;
	sb->failures += failed;
	sb->collecting = false;
	sb->generation++;
	pthread_cond_broadcast(&sb->done);
	pthread_mutex_unlock(&sb->lock);
	sandbox_put(sb);
	return NULL;
}

/* Under sb->lock. */
static void start_collection(struct sandbox *sb)
{
	pthread_attr_t attr;
	pthread_t thread;

	sandbox_get(sb);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&thread, &attr, collect_thread, sb) != 0) {
		monitor_log("%s: cannot start a collection thread", sb->id);
		sandbox_put(sb);
	} else {
		sb->collecting = true;
	}
	pthread_attr_destroy(&attr);
}

void scrape_begin(struct sandbox *sb)
{
	pthread_mutex_lock(&sb->lock);
	if (!sb->collecting &&
	    (!sb->have_sample || monotonic_ns() - sb->sample_ns >= monitor_opts.min_interval_ns))
		start_collection(sb);
	pthread_mutex_unlock(&sb->lock);
}

void scrape_wait(struct sandbox *sb, uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000),
		.tv_nsec = (long)(deadline_ns % 1000000000),
	};

	pthread_mutex_lock(&sb->lock);
	while (sb->collecting)
		if (pthread_cond_timedwait(&sb->done, &sb->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&sb->lock);
}

void sandbox_current(struct sandbox *sb, struct sample *out, uint64_t *scrapes, uint64_t *failures)
{
	pthread_mutex_lock(&sb->lock);
	/* A collection still running past the deadline: its host part is the newest there is. */
	if (sb->have_partial)
		*out = sb->partial;
	else if (sb->have_sample)
		*out = sb->sample;
	else
		*out = (struct sample){.status = "unknown"};
	*scrapes = sb->scrapes;
	*failures = sb->failures;
	pthread_mutex_unlock(&sb->lock);
}
