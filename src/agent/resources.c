/*
 * OCI linux.resources -> the cgroup2 files that carry them, as runc's v2
 * manager converts them (the host engines were tuned against runc):
 *
 *   memory.limit        memory.max        (-1: "max"; 0: unset)
 *   memory.swap         memory.swap.max   swap - limit (swap counts memory + swap in OCI;
 *                                         equal to the limit: "0", no swap)
 *   memory.reservation  memory.low
 *   cpu.quota/period    cpu.max           "QUOTA PERIOD", "max" for a quota <= 0
 *   cpu.shares          cpu.weight        1 + ((shares - 2) * 9999) / 262142
 *   cpu.cpus/mems       cpuset.cpus/mems
 *   pids.limit          pids.max          ("max" when <= 0)
 *   unified             key = file name, value verbatim
 *
 * Pure: no file is touched here, so the conversions are unit-tested.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "ocispec.h"

long long cpu_shares_to_weight(long long shares)
{
	/* Go's division truncates toward zero, as C's does: shares 1 gives weight 1 too. */
	return 1 + ((shares - 2) * 9999) / 262142;
}

int memory_swap_to_v2(long long swap, long long limit, long long *out, runk_error_t *err)
{
	/* An unlimited memory with swap unset means both unlimited (cgroup v1 compatibility). */
	if (limit == -1 && swap == 0) {
		*out = -1;
		return 0;
	}
	if (swap == -1 || swap == 0) {
		*out = swap;
		return 0;
	}
	if (limit == 0 || limit == -1)
		return runk_error(err, "memory.swap: a swap limit needs a memory limit");
	if (limit < 0)
		return runk_error(err, "memory.limit: invalid value %lld", limit);
	if (swap < limit)
		return runk_error(err,
				  "memory.swap: %lld is below memory.limit %lld (swap counts "
				  "memory plus swap)",
				  swap, limit);
	*out = swap - limit;
	return 0;
}

struct settings {
	struct cgroup_setting *list;
	size_t count;
};

static void add(struct settings *s, const char *field, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(struct settings *s, const char *field, const char *file, const char *fmt, ...)
{
	struct cgroup_setting *e;
	va_list ap;

	s->list = realloc(s->list, (s->count + 1) * sizeof(*s->list));
	if (s->list == NULL)
		abort();
	e = &s->list[s->count++];
	e->field = field;
	e->file = strdup(file);
	va_start(ap, fmt);
	if (e->file == NULL || vasprintf(&e->value, fmt, ap) < 0)
		abort();
	va_end(ap);
}

/* -1 (or below, for pids) is "max" in cgroup2. */
static void add_limit(struct settings *s, const char *field, const char *file, long long v)
{
	if (v < 0)
		add(s, field, file, "max");
	else
		add(s, field, file, "%lld", v);
}

static int memory_settings(struct settings *s, const struct oci_linux_memory *m,
			   long long current_limit, runk_error_t *err)
{
	long long limit = m->has_limit ? m->limit : 0, swap;

	if (limit != 0)
		add_limit(s, "memory.limit", "memory.max", limit);
	/* An update may set swap alone: it is relative to the limit in force. */
	if (memory_swap_to_v2(m->has_swap ? m->swap : 0,
			      limit == 0 && m->has_swap ? current_limit : limit, &swap, err) < 0)
		return -1;
	if (swap != 0)
		add_limit(s, "memory.swap", "memory.swap.max", swap);
	else if (m->has_swap && m->swap > 0)
		add(s, "memory.swap", "memory.swap.max", "0"); /* swap == limit: no swap at all */
	if (m->has_reservation && m->reservation != 0)
		add_limit(s, "memory.reservation", "memory.low", m->reservation);
	return 0;
}

static void cpu_settings(struct settings *s, const struct oci_linux_cpu *c)
{
	long long quota = c->has_quota ? c->quota : 0;
	unsigned long long period = c->has_period ? c->period : 0;

	if (c->has_shares && c->shares != 0)
		add(s, "cpu.shares", "cpu.weight", "%lld",
		    cpu_shares_to_weight((long long)c->shares));
	if (quota != 0 || period != 0) {
		char q[32] = "max";

		if (quota > 0)
			snprintf(q, sizeof(q), "%lld", quota);
		if (period != 0)
			add(s, "cpu.quota", "cpu.max", "%s %llu", q, period);
		else
			add(s, "cpu.quota", "cpu.max", "%s", q);
	}
	if (c->cpus && c->cpus[0])
		add(s, "cpu.cpus", "cpuset.cpus", "%s", c->cpus);
	if (c->mems && c->mems[0])
		add(s, "cpu.mems", "cpuset.mems", "%s", c->mems);
}

/* A unified key names a file in the container's own cgroup directory, nothing else. */
static int unified_key_check(const char *key, runk_error_t *err)
{
	if (key[0] == '\0' || strchr(key, '/') || strstr(key, "..") || strcmp(key, ".") == 0)
		return runk_error(err, "unified: invalid cgroup file name `%s`", key);
	return 0;
}

int resources_to_cgroup2(const struct oci_linux_resources *r, long long current_limit,
			 struct cgroup_setting **out, size_t *count, runk_error_t *err)
{
	struct settings s = {0};

	*out = NULL;
	*count = 0;
	if (r == NULL)
		return 0;
	if (r->memory && memory_settings(&s, r->memory, current_limit, err) < 0)
		goto fail;
	if (r->cpu)
		cpu_settings(&s, r->cpu);
	if (r->pids && r->pids->has_limit)
		add_limit(&s, "pids.limit", "pids.max", r->pids->limit <= 0 ? -1 : r->pids->limit);
	for (size_t i = 0; r->unified && i < r->unified->len; i++) {
		if (unified_key_check(r->unified->keys[i], err) < 0)
			goto fail;
		add(&s, "unified", r->unified->keys[i], "%s", r->unified->values[i]);
	}
	*out = s.list;
	*count = s.count;
	return 0;
fail:
	cgroup_settings_free(s.list, s.count);
	return -1;
}

void cgroup_settings_free(struct cgroup_setting *s, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(s[i].file);
		free(s[i].value);
	}
	free(s);
}

struct oci_linux_resources *resources_parse(const char *json, size_t len, runk_error_t *err)
{
	char *parse_err = NULL;
	struct oci_linux_resources *resources;

	resources = oci_linux_resources_parse_data(json, len, &parse_err);
	if (resources == NULL) {
		runk_error(err, "resources: %s", parse_err ? parse_err : "parse error");
		free(parse_err);
	}
	return resources;
}
