/*
 * The systemd manager: transient scope units over sd-bus.  systemd is
 * reached on the system bus when there is one, else on its private socket
 * (/run/systemd/private), as runc does.  Every job is waited for (JobRemoved).
 *
 * Which properties exist depends on the hierarchy systemd runs: v1/hybrid
 * take CPUShares, MemoryLimit, BlockIOAccounting; cgroup2 takes CPUWeight,
 * MemoryMax, MemoryLow, MemorySwapMax, AllowedCPUs/AllowedMemoryNodes,
 * IOAccounting.  systemd has no cpuset on v1: a cpuset there is left to the
 * guest (a warning says so).
 *
 * A scope cannot start without a process, so the sandbox scope starts with
 * QEMU's PID once QEMU exists (the overhead scope, or with
 * sandbox_cgroup_only the sandbox scope, with the shim's): there is no later
 * placement for AttachProcessesToUnit to do.  A scope that exists already
 * belongs to another container's live processes and is not shared (as with
 * the fs manager): UnitExists is an error.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "log.h"

#define SYSTEMD_DEST	  "org.freedesktop.systemd1"
#define SYSTEMD_PATH	  "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER	  "org.freedesktop.systemd1.Manager"
#define SYSTEMD_PRIVATE	  "unix:path=/run/systemd/private"
#define SYSTEM_BUS_SOCKET "/run/dbus/system_bus_socket"
#define JOB_TIMEOUT_USEC  (30ULL * 1000000)
#define cleanup_bus	  __attribute__((cleanup(sd_bus_flush_close_unrefp)))
#define cleanup_bus_msg	  __attribute__((cleanup(sd_bus_message_unrefp)))
#define cleanup_bus_error __attribute__((cleanup(sd_bus_error_free)))
#define cleanup_bus_slot  __attribute__((cleanup(sd_bus_slot_unrefp)))

/* Jobs systemd reported finished, so a JobRemoved that arrives before its job path is kept. */
struct jobs_done {
	char *paths[32];
	char *results[32];
	size_t n;
};

static int bus_fail(runk_error_t *err, int r, const sd_bus_error *e, const char *what,
		    const char *unit)
{
	if (e && sd_bus_error_is_set(e))
		return runk_error(err, "systemd: %s `%s`: %s", what, unit, e->message);
	return runk_error_errno(err, -r, "systemd: %s `%s`", what, unit);
}

static int bus_open(sd_bus **bus, runk_error_t *err)
{
	int r;

	if (access(SYSTEM_BUS_SOCKET, F_OK) == 0 && sd_bus_open_system(bus) >= 0)
		return 0;
	r = sd_bus_new(bus);
	if (r >= 0)
		r = sd_bus_set_address(*bus, SYSTEMD_PRIVATE);
	if (r >= 0)
		r = sd_bus_start(*bus);
	if (r < 0) {
		*bus = sd_bus_flush_close_unref(*bus);
		return runk_error_errno(err, -r,
					"connect to systemd (no system bus, and its private "
					"socket /run/systemd/private)");
	}
	return 0;
}

static int on_job_removed(sd_bus_message *m, void *user, sd_bus_error *ret_error)
{
	struct jobs_done *done = user;
	const char *path = NULL, *unit = NULL, *result = NULL;
	uint32_t id;

	(void)ret_error;
	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0 ||
	    done->n == sizeof(done->paths) / sizeof(done->paths[0]))
		return 0;
	done->paths[done->n] = strdup(path);
	done->results[done->n++] = strdup(result);
	return 0;
}

static void jobs_done_release(struct jobs_done *done)
{
	for (size_t i = 0; i < done->n; i++) {
		free(done->paths[i]);
		free(done->results[i]);
	}
}

/* Wait for job's JobRemoved; its result must be "done". */
static int wait_job(sd_bus *bus, struct jobs_done *done, const char *job, const char *unit,
		    runk_error_t *err)
{
	struct timespec now;
	uint64_t deadline;

	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000 + JOB_TIMEOUT_USEC;
	for (;;) {
		uint64_t t;
		int r;

		for (size_t i = 0; i < done->n; i++) {
			if (strcmp(done->paths[i], job) != 0)
				continue;
			if (strcmp(done->results[i], "done") != 0)
				return runk_error(err, "systemd: job for `%s` ended `%s`", unit,
						  done->results[i]);
			return 0;
		}
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			return bus_fail(err, r, NULL, "wait for the job of", unit);
		if (r > 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		t = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
		if (t >= deadline)
			return runk_error(err, "systemd: timed out waiting for the job of `%s`",
					  unit);
		r = sd_bus_wait(bus, deadline - t);
		if (r < 0)
			return bus_fail(err, r, NULL, "wait for the job of", unit);
	}
}

/* Subscribe and watch JobRemoved before any job is queued. */
static int watch_jobs(sd_bus *bus, struct jobs_done *done, sd_bus_slot **slot, runk_error_t *err)
{
	cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = sd_bus_match_signal(bus, slot, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
				    "JobRemoved", on_job_removed, done);

	if (r < 0)
		return bus_fail(err, r, NULL, "watch", "JobRemoved");
	r = sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe", &e,
			       NULL, "");
	if (r < 0 && !sd_bus_error_has_name(&e, "org.freedesktop.systemd1.AlreadySubscribed"))
		return bus_fail(err, r, &e, "subscribe to", "systemd");
	return 0;
}

/* A cpuset list ("0-3,6") as the byte mask AllowedCPUs takes. */
static int cpuset_mask(const char *list, uint8_t *mask, size_t *len, runk_error_t *err)
{
	const char *p = list;

	*len = 0;
	memset(mask, 0, 1024);
	while (*p) {
		char *end;
		unsigned long first = strtoul(p, &end, 10), last = first;

		if (end == p)
			return runk_error(err, "invalid cpuset `%s`", list);
		if (*end == '-') {
			p = end + 1;
			last = strtoul(p, &end, 10);
			if (end == p)
				return runk_error(err, "invalid cpuset `%s`", list);
		}
		if (last < first || last >= 8192)
			return runk_error(err, "invalid cpuset `%s`", list);
		for (unsigned long b = first; b <= last; b++)
			mask[b / 8] |= (uint8_t)(1u << (b % 8));
		if (last / 8 + 1 > *len)
			*len = last / 8 + 1;
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return runk_error(err, "invalid cpuset `%s`", list);
	}
	return 0;
}

static int append_mask(sd_bus_message *m, const char *name, const char *list, runk_error_t *err)
{
	uint8_t mask[1024];
	size_t len;

	if (cpuset_mask(list, mask, &len, err) < 0)
		return -1;
	if (sd_bus_message_open_container(m, 'r', "sv") < 0 ||
	    sd_bus_message_append(m, "s", name) < 0 ||
	    sd_bus_message_open_container(m, 'v', "ay") < 0 ||
	    sd_bus_message_append_array(m, 'y', mask, len) < 0 ||
	    sd_bus_message_close_container(m) < 0 || sd_bus_message_close_container(m) < 0)
		return runk_error(err, "systemd: build %s", name);
	return 0;
}

static uint64_t limit_or_infinity(int64_t v)
{
	return v < 0 ? UINT64_MAX : (uint64_t)v;
}

/* The limits of linux.resources as unit properties (inside an open a(sv)). */
static int append_limits(sd_bus_message *m, const struct cgroup_plan *plan,
			 const struct oci_linux_resources *res, runk_error_t *err)
{
	bool v2 = plan->mode == CGROUP_MODE_UNIFIED;
	const struct oci_linux_cpu *c = res ? res->cpu : NULL;
	const struct oci_linux_memory *mem = res ? res->memory : NULL;
	int r = 0;

	if (c && c->has_quota && c->quota > 0) {
		uint64_t period = c->has_period && c->period ? c->period : 100000;

		r |= sd_bus_message_append(m, "(sv)", "CPUQuotaPerSecUSec", "t",
					   cgroup_quota_per_sec_usec(c->quota, period));
		r |= sd_bus_message_append(m, "(sv)", "CPUQuotaPeriodUSec", "t", period);
	}
	if (c && c->has_shares && c->shares)
		r |= v2 ? sd_bus_message_append(m, "(sv)", "CPUWeight", "t",
						(uint64_t)(1 + (c->shares - 2) * 9999 / 262142))
			: sd_bus_message_append(m, "(sv)", "CPUShares", "t", c->shares);
	if (c && ((c->cpus && *c->cpus) || (c->mems && *c->mems)) && !v2)
		log_warning("systemd cannot set a cpuset on cgroup v1: only the guest applies it");
	if (c && c->cpus && *c->cpus && v2 && append_mask(m, "AllowedCPUs", c->cpus, err) < 0)
		return -1;
	if (c && c->mems && *c->mems && v2 &&
	    append_mask(m, "AllowedMemoryNodes", c->mems, err) < 0)
		return -1;
	if (mem && mem->has_limit && mem->limit != 0)
		r |= sd_bus_message_append(m, "(sv)", v2 ? "MemoryMax" : "MemoryLimit", "t",
					   mem->limit > 0 && plan->memory_limit
						   ? plan->memory_limit
						   : limit_or_infinity(mem->limit));
	if (mem && mem->has_reservation && mem->reservation > 0 && v2)
		r |= sd_bus_message_append(m, "(sv)", "MemoryLow", "t", (uint64_t)mem->reservation);
	if (mem && mem->has_swap && mem->swap != 0 && v2) {
		int64_t limit = mem->has_limit ? mem->limit : 0;

		r |= sd_bus_message_append(m, "(sv)", "MemorySwapMax", "t",
					   mem->swap < 0       ? UINT64_MAX
					   : mem->swap > limit ? (uint64_t)(mem->swap - limit)
							       : 0);
	}
	if (res && res->pids && res->pids->has_limit && res->pids->limit != 0)
		r |= sd_bus_message_append(m, "(sv)", "TasksMax", "t",
					   limit_or_infinity(res->pids->limit));
	if (r < 0)
		return runk_error(err, "systemd: build the unit's properties");
	return 0;
}

static bool ends_with_slice(const char *unit)
{
	size_t n = strlen(unit);

	return n > 6 && strcmp(unit + n - 6, ".slice") == 0;
}

static int start_unit(sd_bus *bus, const struct cgroup_plan *plan, const char *unit,
		      const char *slice, pid_t pid, const struct oci_linux_resources *res,
		      runk_error_t *err)
{
	cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
	cleanup_bus_msg sd_bus_message *m = NULL;
	cleanup_bus_msg sd_bus_message *reply = NULL;
	cleanup_bus_slot sd_bus_slot *slot = NULL;
	struct jobs_done done __attribute__((cleanup(jobs_done_release))) = {0};
	const char *accounting =
		plan->mode == CGROUP_MODE_UNIFIED ? "IOAccounting" : "BlockIOAccounting";
	const char *job = NULL;
	int r;

	if (watch_jobs(bus, &done, &slot, err) < 0)
		return -1;
	r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
					   "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", unit, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0 && !ends_with_slice(unit))
		r = sd_bus_message_append(m, "(sv)", "Slice", "s", slice);
	if (r >= 0)
		r = sd_bus_message_append(
			m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s", "runk container",
			"Delegate", "b", 1, "DefaultDependencies", "b", 0, "PIDs", "au", 1,
			(uint32_t)pid, "CPUAccounting", "b", 1, "MemoryAccounting", "b", 1,
			"TasksAccounting", "b", 1, accounting, "b", 1);
	if (r < 0)
		return bus_fail(err, r, NULL, "build the start of", unit);
	if (append_limits(m, plan, res, err) < 0)
		return -1;
	r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r < 0)
		return bus_fail(err, r, NULL, "build the start of", unit);
	r = sd_bus_call(bus, m, JOB_TIMEOUT_USEC, &e, &reply);
	if (r < 0 && sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists"))
		return runk_error(err, "systemd: unit `%s` already exists", unit);
	if (r < 0)
		return bus_fail(err, r, &e, "start", unit);
	if (sd_bus_message_read(reply, "o", &job) < 0)
		return runk_error(err, "systemd: bad reply to starting `%s`", unit);
	return wait_job(bus, &done, job, unit, err);
}

int cgroup_systemd_enter(const struct cgroup_plan *plan, pid_t self,
			 const struct oci_linux_resources *res, runk_error_t *err)
{
	cleanup_bus sd_bus *bus = NULL;

	if (bus_open(&bus, err) < 0)
		return -1;
	if (plan->sandbox_only)
		return start_unit(bus, plan, plan->sandbox_unit, plan->sandbox_slice, self, res,
				  err);
	return start_unit(bus, plan, plan->overhead_unit, plan->overhead_slice, self, NULL, err);
}

/* systemd places processes, not threads: the whole QEMU goes to the sandbox scope. */
int cgroup_systemd_place_vm(const struct cgroup_plan *plan, pid_t qemu,
			    const struct oci_linux_resources *res, runk_error_t *err)
{
	cleanup_bus sd_bus *bus = NULL;

	if (plan->sandbox_only)
		return 0; /* QEMU was born in the sandbox scope, with the shim */
	if (bus_open(&bus, err) < 0)
		return -1;
	return start_unit(bus, plan, plan->sandbox_unit, plan->sandbox_slice, qemu, res, err);
}

int cgroup_systemd_update(const struct cgroup_plan *plan, const struct oci_linux_resources *res,
			  runk_error_t *err)
{
	cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
	cleanup_bus_msg sd_bus_message *m = NULL;
	cleanup_bus sd_bus *bus = NULL;
	int r;

	if (bus_open(&bus, err) < 0)
		return -1;
	r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
					   "SetUnitProperties");
	if (r >= 0)
		r = sd_bus_message_append(m, "sb", plan->sandbox_unit, 1);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r < 0)
		return bus_fail(err, r, NULL, "build the update of", plan->sandbox_unit);
	if (append_limits(m, plan, res, err) < 0)
		return -1;
	r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_call(bus, m, JOB_TIMEOUT_USEC, &e, NULL);
	if (r < 0)
		return bus_fail(err, r, &e, "set the properties of", plan->sandbox_unit);
	return 0;
}

/* Stop a unit and wait; one that does not exist (any more) is fine. */
static int stop_unit(sd_bus *bus, const char *unit, runk_error_t *err)
{
	cleanup_bus_error sd_bus_error e = SD_BUS_ERROR_NULL;
	cleanup_bus_msg sd_bus_message *reply = NULL;
	cleanup_bus_slot sd_bus_slot *slot = NULL;
	struct jobs_done done __attribute__((cleanup(jobs_done_release))) = {0};
	const char *job = NULL;
	int r;

	if (watch_jobs(bus, &done, &slot, err) < 0)
		return -1;
	r = sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "StopUnit", &e,
			       &reply, "ss", unit, "replace");
	if (r < 0 && (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit") ||
		      sd_bus_error_has_name(&e, "org.freedesktop.systemd1.LoadFailed")))
		return 0;
	if (r < 0)
		return bus_fail(err, r, &e, "stop", unit);
	if (sd_bus_message_read(reply, "o", &job) < 0)
		return runk_error(err, "systemd: bad reply to stopping `%s`", unit);
	return wait_job(bus, &done, job, unit, err);
}

int cgroup_systemd_destroy(const struct cgroup_plan *plan, runk_error_t *err)
{
	cleanup_bus sd_bus *bus = NULL;
	int ret = 0;

	if (bus_open(&bus, err) < 0)
		return -1;
	if (stop_unit(bus, plan->sandbox_unit, err) < 0)
		ret = -1;
	if (plan->overhead_unit && stop_unit(bus, plan->overhead_unit, ret < 0 ? NULL : err) < 0)
		ret = -1;
	return ret;
}
