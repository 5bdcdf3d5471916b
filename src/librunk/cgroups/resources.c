/*
 * linux.resources → cgroup files, for v1 and v2.  Pure: the fs manager
 * applies the list with libcgroup, the unit tests write it into a directory.
 *
 * The host memory limit is not the container's: the VM is sized to
 * default_memory + the limit, and QEMU needs memory_overhead on top, so the
 * sandbox cgroup gets memory_limit (the VM's RAM + memory_overhead) whenever
 * the container has a limit; the container's own limit is enforced by the
 * guest's cgroup (docs/ARCHITECTURE.md, "Host cgroups").
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "util.h"

static void add(struct cgroup_settings *s, const char *controller, const char *file,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add(struct cgroup_settings *s, const char *controller, const char *file,
		const char *fmt, ...)
{
	struct cgroup_setting *item;
	va_list ap;

	s->items = realloc(s->items, (s->n + 1) * sizeof(*s->items));
	if (s->items == NULL)
		abort();
	item = &s->items[s->n++];
	item->controller = strdup(controller);
	item->file = strdup(file);
	va_start(ap, fmt);
	if (vasprintf(&item->value, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (item->controller == NULL || item->file == NULL)
		abort();
}

void cgroup_settings_release(struct cgroup_settings *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->items[i].controller);
		free(s->items[i].file);
		free(s->items[i].value);
	}
	free(s->items);
	memset(s, 0, sizeof(*s));
}

/* "max" for -1 (unlimited) on v2, the number otherwise. */
static void add_limit(struct cgroup_settings *s, bool v2, const char *controller, const char *file,
		      int64_t value)
{
	if (v2 && value < 0)
		add(s, controller, file, "max");
	else
		add(s, controller, file, "%lld", (long long)value);
}

static void cpu_settings(struct cgroup_settings *s, const struct oci_linux_cpu *c, bool v2)
{
	if (c->has_shares && c->shares != 0) {
		if (v2)
			add(s, "cpu", "cpu.weight", "%llu",
			    1 + ((unsigned long long)c->shares - 2) * 9999 / 262142);
		else
			add(s, "cpu", "cpu.shares", "%llu", (unsigned long long)c->shares);
	}
	if (v2 && ((c->has_quota && c->quota != 0) || (c->has_period && c->period != 0))) {
		uint64_t period = c->has_period && c->period ? c->period : 100000;

		if (c->has_quota && c->quota > 0)
			add(s, "cpu", "cpu.max", "%lld %llu", (long long)c->quota,
			    (unsigned long long)period);
		else
			add(s, "cpu", "cpu.max", "max %llu", (unsigned long long)period);
	} else if (!v2) {
		/* The period first: a quota is checked against the period in force. */
		if (c->has_period && c->period != 0)
			add(s, "cpu", "cpu.cfs_period_us", "%llu", (unsigned long long)c->period);
		if (c->has_quota && c->quota != 0)
			add(s, "cpu", "cpu.cfs_quota_us", "%lld", (long long)c->quota);
		if (c->has_realtime_period && c->realtime_period != 0)
			add(s, "cpu", "cpu.rt_period_us", "%llu",
			    (unsigned long long)c->realtime_period);
		if (c->has_realtime_runtime && c->realtime_runtime != 0)
			add(s, "cpu", "cpu.rt_runtime_us", "%lld", (long long)c->realtime_runtime);
	}
	if (c->cpus && *c->cpus)
		add(s, "cpuset", "cpuset.cpus", "%s", c->cpus);
	if (c->mems && *c->mems)
		add(s, "cpuset", "cpuset.mems", "%s", c->mems);
}

static int memory_settings(struct cgroup_settings *s, const struct oci_linux_memory *m, bool v2,
			   uint64_t memory_limit, runk_error_t *err)
{
	int64_t limit = m->has_limit ? m->limit : 0;
	int64_t host = limit > 0 && memory_limit > 0 ? (int64_t)memory_limit : limit;

	if (limit != 0)
		add_limit(s, v2, "memory", v2 ? "memory.max" : "memory.limit_in_bytes", host);
	if (m->has_reservation && m->reservation != 0)
		add_limit(s, v2, "memory", v2 ? "memory.low" : "memory.soft_limit_in_bytes",
			  m->reservation);
	if (m->has_swap && m->swap != 0) {
		/* OCI's swap is memory + swap; the VM's share of it is what exceeds the limit. */
		int64_t extra = 0;

		if (m->swap > 0 && limit <= 0)
			return runk_error(err, "memory.swap: a swap limit needs a memory limit");
		if (m->swap > 0 && m->swap < limit)
			return runk_error(err, "memory.swap: %lld is below memory.limit %lld",
					  (long long)m->swap, (long long)limit);
		if (m->swap > 0)
			extra = m->swap - limit;
		if (v2)
			add_limit(s, v2, "memory", "memory.swap.max", m->swap < 0 ? -1 : extra);
		else
			add_limit(s, v2, "memory", "memory.memsw.limit_in_bytes",
				  m->swap < 0 ? -1 : host + extra);
	}
	if (!v2 && m->has_swappiness && m->swappiness <= 100)
		add(s, "memory", "memory.swappiness", "%llu", (unsigned long long)m->swappiness);
	return 0;
}

static void throttle(struct cgroup_settings *s, bool v2, const char *v1_file, const char *v2_key,
		     struct oci_linux_throttle_device **devs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v2)
			add(s, "io", "io.max", "%lld:%lld %s=%llu", (long long)devs[i]->major,
			    (long long)devs[i]->minor, v2_key, (unsigned long long)devs[i]->rate);
		else
			add(s, "blkio", v1_file, "%lld:%lld %llu", (long long)devs[i]->major,
			    (long long)devs[i]->minor, (unsigned long long)devs[i]->rate);
	}
}

static void blkio_settings(struct cgroup_settings *s, const struct oci_linux_block_io *b, bool v2)
{
	if (b->has_weight && b->weight != 0) {
		if (v2)
			add(s, "io", "io.weight", "%u",
			    1 + ((unsigned)b->weight - 10) * 9999 / 990);
		else
			add(s, "blkio", "blkio.weight", "%u", (unsigned)b->weight);
	}
	for (size_t i = 0; i < b->weight_device_len; i++) {
		const struct oci_linux_weight_device *d = b->weight_device[i];

		if (!d->has_weight)
			continue;
		add(s, v2 ? "io" : "blkio", v2 ? "io.weight" : "blkio.weight_device",
		    "%lld:%lld %u", (long long)d->major, (long long)d->minor,
		    v2 ? 1 + ((unsigned)d->weight - 10) * 9999 / 990 : (unsigned)d->weight);
	}
	throttle(s, v2, "blkio.throttle.read_bps_device", "rbps", b->throttle_read_bps_device,
		 b->throttle_read_bps_device_len);
	throttle(s, v2, "blkio.throttle.write_bps_device", "wbps", b->throttle_write_bps_device,
		 b->throttle_write_bps_device_len);
	throttle(s, v2, "blkio.throttle.read_iops_device", "riops", b->throttle_read_iops_device,
		 b->throttle_read_iops_device_len);
	throttle(s, v2, "blkio.throttle.write_iops_device", "wiops", b->throttle_write_iops_device,
		 b->throttle_write_iops_device_len);
}

/* A unified key names its own file: "memory.high" → controller "memory". */
static int unified_settings(struct cgroup_settings *s, const struct oci_string_map *u, bool v2,
			    runk_error_t *err)
{
	for (size_t i = 0; i < u->len; i++) {
		const char *key = u->keys[i], *dot = strchr(key, '.');
		cleanup_free char *controller = NULL;

		if (!v2)
			return runk_error(err, "linux.resources.unified needs cgroup v2");
		if (dot == NULL || dot == key || strchr(key, '/') || strcmp(key, "..") == 0)
			return runk_error(err, "linux.resources.unified: invalid key `%s`", key);
		controller = strndup(key, (size_t)(dot - key));
		add(s, controller, key, "%s", u->values[i]);
	}
	return 0;
}

int cgroup_settings_from_resources(const struct oci_linux_resources *res, bool v2,
				   uint64_t memory_limit, struct cgroup_settings *out,
				   runk_error_t *err)
{
	memset(out, 0, sizeof(*out));
	if (res == NULL)
		return 0;
	if (res->cpu)
		cpu_settings(out, res->cpu, v2);
	if (res->memory && memory_settings(out, res->memory, v2, memory_limit, err) < 0)
		goto fail;
	if (res->pids && res->pids->has_limit && res->pids->limit != 0)
		add_limit(out, true, "pids", "pids.max", res->pids->limit);
	if (res->block_io)
		blkio_settings(out, res->block_io, v2);
	for (size_t i = 0; i < res->hugepage_limits_len; i++) {
		const struct oci_linux_hugepage_limit *h = res->hugepage_limits[i];
		cleanup_free char *file = NULL;

		if (strchr(h->page_size, '/') || strchr(h->page_size, '.')) {
			runk_error(err, "hugepageLimits: invalid page size `%s`", h->page_size);
			goto fail;
		}
		if (asprintf(&file, v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes",
			     h->page_size) < 0)
			abort();
		add(out, "hugetlb", file, "%llu", (unsigned long long)h->limit);
	}
	if (res->unified && unified_settings(out, res->unified, v2, err) < 0)
		goto fail;
	return 0;
fail:
	cgroup_settings_release(out);
	return -1;
}

int cgroup_settings_write_dir(const struct cgroup_settings *s, const char *dir, runk_error_t *err)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *value = s->items[i].value;
		cleanup_free char *path = NULL;
		cleanup_close int fd = -1;
		ssize_t len = (ssize_t)strlen(value);

		if (asprintf(&path, "%s/%s", dir, s->items[i].file) < 0)
			abort();
		/* Like a cgroup file: it must exist already, it is never created. */
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0)
			return runk_error_errno(err, errno, "open `%s`", path);
		if (write(fd, value, (size_t)len) != len)
			return runk_error_errno(err, errno, "write `%s`", path);
	}
	return 0;
}

struct oci_linux_resources *cgroup_resources_parse(const char *json, runk_error_t *err)
{
	cleanup_free char *parse_error = NULL;
	struct oci_linux_resources *resources;

	resources = oci_linux_resources_parse_data(json, strlen(json), &parse_error);
	if (resources == NULL)
		runk_error(err, "invalid resources: %s", parse_error ? parse_error : "");
	return resources;
}
