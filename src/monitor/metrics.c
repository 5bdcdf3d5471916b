/*
 * The Prometheus text exposition format (version 0.0.4): each family once,
 * its # HELP and # TYPE lines first and all its samples after them; label
 * values escaped; integers printed without floating point.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "monitor.h"

const struct figure_info figure_table[FIG_COUNT] = {
	[FIG_VM_VCPUS] = {"runk_vm_vcpus", "gauge", UNIT_NONE, "vCPUs the VM was sized with."},
	[FIG_VM_MEMORY] = {"runk_vm_memory_bytes", "gauge", UNIT_NONE,
			   "Memory the VM was sized with, in bytes."},
	[FIG_HV_RSS] = {"runk_hypervisor_rss_bytes", "gauge", UNIT_NONE,
			"Resident set size of the VM's QEMU process."},
	[FIG_HV_PSS] = {"runk_hypervisor_pss_bytes", "gauge", UNIT_NONE,
			"Proportional set size of the VM's QEMU process (shared pages split)."},
	[FIG_HV_THREADS] = {"runk_hypervisor_threads", "gauge", UNIT_NONE,
			    "Threads of the VM's QEMU process."},
	[FIG_HV_CPU] = {"runk_hypervisor_cpu_seconds_total", "counter", UNIT_NS,
			"CPU time (user + system) the VM's QEMU process used."},
	[FIG_HV_FDS] = {"runk_hypervisor_fds", "gauge", UNIT_NONE,
			"Open file descriptors of the VM's QEMU process."},
	[FIG_SHIM_RSS] = {"runk_shim_rss_bytes", "gauge", UNIT_NONE,
			  "Resident set size of the sandbox's runk shim."},
	[FIG_SANDBOX_CG_CPU] = {"runk_sandbox_cgroup_cpu_usage_seconds_total", "counter", UNIT_NS,
				"CPU time charged to the sandbox's host cgroup."},
	[FIG_SANDBOX_CG_MEM] = {"runk_sandbox_cgroup_memory_usage_bytes", "gauge", UNIT_NONE,
				"Memory charged to the sandbox's host cgroup."},
	[FIG_OVERHEAD_CG_CPU] = {"runk_overhead_cgroup_cpu_usage_seconds_total", "counter", UNIT_NS,
				 "CPU time charged to the sandbox's host overhead cgroup."},
	[FIG_OVERHEAD_CG_MEM] = {"runk_overhead_cgroup_memory_usage_bytes", "gauge", UNIT_NONE,
				 "Memory charged to the sandbox's host overhead cgroup."},
	[FIG_GUEST_MEM_TOTAL] = {"runk_guest_memory_total_bytes", "gauge", UNIT_NONE,
				 "MemTotal of the guest's /proc/meminfo."},
	[FIG_GUEST_MEM_FREE] = {"runk_guest_memory_free_bytes", "gauge", UNIT_NONE,
				"MemFree of the guest's /proc/meminfo."},
	[FIG_GUEST_MEM_AVAILABLE] = {"runk_guest_memory_available_bytes", "gauge", UNIT_NONE,
				     "MemAvailable of the guest's /proc/meminfo."},
	[FIG_GUEST_LOAD1] = {"runk_guest_load1", "gauge", UNIT_MILLI,
			     "The guest's 1-minute load average."},
	[FIG_GUEST_TASKS] = {"runk_guest_tasks", "gauge", UNIT_NONE,
			     "Scheduling entities (threads) in the guest."},
	[FIG_GUEST_CT_MEM] = {"runk_guest_container_memory_usage_bytes", "gauge", UNIT_NONE,
			      "memory.current of the container's cgroup in the guest."},
	[FIG_GUEST_CT_MEM_LIMIT] = {"runk_guest_container_memory_limit_bytes", "gauge", UNIT_NONE,
				    "memory.max of the container's cgroup in the guest (0: none)."},
	[FIG_GUEST_CT_CPU] = {"runk_guest_container_cpu_usage_seconds_total", "counter", UNIT_NS,
			      "CPU time of the container's cgroup in the guest."},
	[FIG_GUEST_CT_PIDS] = {"runk_guest_container_pids", "gauge", UNIT_NONE,
			       "pids.current of the container's cgroup in the guest."},
};

const char *const sandbox_statuses[] = {"created", "running", "paused", "stopped", "unknown", NULL};

void escape_label_value(const char *in, char *out)
{
	for (; *in; in++) {
		if (*in == '\\' || *in == '"') {
			*out++ = '\\';
			*out++ = *in;
		} else if (*in == '\n') {
			*out++ = '\\';
			*out++ = 'n';
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
}

void escape_help(const char *in, char *out)
{
	for (; *in; in++) {
		if (*in == '\\') {
			*out++ = '\\';
			*out++ = '\\';
		} else if (*in == '\n') {
			*out++ = '\\';
			*out++ = 'n';
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
}

void format_value(uint64_t raw, enum unit unit, char *buf, size_t len)
{
	switch (unit) {
	case UNIT_NS:
		snprintf(buf, len, "%" PRIu64 ".%09" PRIu64, raw / 1000000000, raw % 1000000000);
		break;
	case UNIT_MILLI:
		snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, raw / 1000, raw % 1000);
		break;
	case UNIT_NONE:
		snprintf(buf, len, "%" PRIu64, raw);
		break;
	}
}

void expo_init(struct expo *e)
{
	memset(e, 0, sizeof(*e));
	e->f = open_memstream(&e->buf, &e->len);
	if (e->f == NULL)
		abort();
}

char *expo_finish(struct expo *e, size_t *len)
{
	for (size_t i = 0; i < e->n_families; i++)
		free(e->families[i]);
	free(e->families);
	fclose(e->f);
	if (e->failed) {
		free(e->buf);
		return NULL;
	}
	*len = e->len;
	return e->buf;
}

void expo_family(struct expo *e, const char *name, const char *type, const char *help)
{
	cleanup_free char *escaped = malloc(2 * strlen(help) + 1);

	if (escaped == NULL)
		abort();
	for (size_t i = 0; i < e->n_families; i++)
		if (strcmp(e->families[i], name) == 0)
			e->failed = true;
	e->families = realloc(e->families, (e->n_families + 1) * sizeof(char *));
	if (e->families == NULL)
		abort();
	e->families[e->n_families++] = strdup(name);
	escape_help(help, escaped);
	fprintf(e->f, "# HELP %s %s\n# TYPE %s %s\n", name, escaped, name, type);
}

void expo_sample(struct expo *e, const char *name, const struct label *labels, size_t n_labels,
		 const char *value)
{
	bool first = true;

	fputs(name, e->f);
	for (size_t i = 0; i < n_labels; i++) {
		cleanup_free char *escaped = NULL;

		if (labels[i].value == NULL || labels[i].value[0] == '\0')
			continue;
		escaped = malloc(2 * strlen(labels[i].value) + 1);
		if (escaped == NULL)
			abort();
		escape_label_value(labels[i].value, escaped);
		fprintf(e->f, "%s%s=\"%s\"", first ? "{" : ",", labels[i].name, escaped);
		first = false;
	}
	fprintf(e->f, "%s %s\n", first ? "" : "}", value);
}

/* Scrape durations: 5 ms to 10 s. */
static const uint64_t default_bounds_ms[HISTOGRAM_BUCKETS] = {5,   10,	 25,   50,   100,   250,
							      500, 1000, 2500, 5000, 10000, 30000};

void histogram_init(struct histogram *h)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++)
		h->bounds_ns[i] = default_bounds_ms[i] * 1000000;
}

void histogram_observe(struct histogram *h, uint64_t ns)
{
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++) {
		if (ns <= h->bounds_ns[i]) {
			h->counts[i]++;
			break;
		}
	}
	h->count++;
	h->sum_ns += ns;
	pthread_mutex_unlock(&h->lock);
}

void histogram_write(struct expo *e, struct histogram *h, const char *name, const char *help)
{
	cleanup_free char *bucket = NULL, *sum = NULL, *count = NULL;
	uint64_t counts[HISTOGRAM_BUCKETS], total, sum_ns, cumulative = 0;
	char le[32], value[32];

	pthread_mutex_lock(&h->lock);
	memcpy(counts, h->counts, sizeof(counts));
	total = h->count;
	sum_ns = h->sum_ns;
	pthread_mutex_unlock(&h->lock);

	if (asprintf(&bucket, "%s_bucket", name) < 0 || asprintf(&sum, "%s_sum", name) < 0 ||
	    asprintf(&count, "%s_count", name) < 0)
		abort();
	expo_family(e, name, "histogram", help);
	for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++) {
		struct label l = {"le", le};

		cumulative += counts[i];
		format_value(h->bounds_ns[i], UNIT_NS, le, sizeof(le));
		/* "0.005000000" reads better as "0.005". */
		for (size_t n = strlen(le); n > 0 && le[n - 1] == '0' && le[n - 2] != '.'; n--)
			le[n - 1] = '\0';
		snprintf(value, sizeof(value), "%" PRIu64, cumulative);
		expo_sample(e, bucket, &l, 1, value);
	}
	snprintf(value, sizeof(value), "%" PRIu64, total);
	expo_sample(e, bucket, &(struct label){"le", "+Inf"}, 1, value);
	format_value(sum_ns, UNIT_NS, value, sizeof(value));
	expo_sample(e, sum, NULL, 0, value);
	snprintf(value, sizeof(value), "%" PRIu64, total);
	expo_sample(e, count, NULL, 0, value);
}
