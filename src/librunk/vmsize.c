#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "sizing.h"
#include "vmsize.h"

/* Is key (without the prefix) among the space- or comma-separated allowed ones? */
static bool annotation_allowed(const struct runk_conf *conf, const char *key)
{
	size_t len = strlen(key);

	for (const char *p = conf->allowed_annotations; p && *p;) {
		size_t word = strcspn(p, " ,\t");

		if (word == len && strncmp(p, key, len) == 0)
			return true;
		p += word;
		p += strspn(p, " ,\t");
	}
	return false;
}

/* An org.runk.hypervisor.* annotation's value, or NULL; refused unless the operator allows it. */
static int override(const struct oci_config *config, const struct runk_conf *conf, const char *key,
		    const char **value, runk_error_t *err)
{
	cleanup_free char *name = NULL;

	if (asprintf(&name, RUNK_ANNOTATION_PREFIX "%s", key) < 0)
		abort();
	*value = oci_string_map_get(config->annotations, name);
	if (*value && !annotation_allowed(conf, key))
		return runk_error(
			err,
			"annotation `%s` is not allowed: list `%s` in runk.conf [runtime] "
			"allowed_annotations to let bundles set it",
			name, key);
	return 0;
}

static int parse_uint_value(const char *name, const char *text, int64_t *out, runk_error_t *err)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end)
		return runk_error(err, "annotation `%s`: expected an integer, got `%s`", name,
				  text);
	*out = v;
	return 0;
}

/* The CPUs this bundle asks for on top of the default: quota/period, else its cpuset. */
static int add_bundle_cpus(const struct oci_config *config, struct cpu_amount *sum,
			   runk_error_t *err)
{
	const struct oci_linux_resources *res = config->linux ? config->linux->resources : NULL;
	const struct oci_linux_cpu *cpu = res ? res->cpu : NULL;
	const char *type =
		oci_string_map_get(config->annotations, "io.kubernetes.cri.container-type");

	/* A CRI pod sandbox carries the pod's summed limits in annotations. */
	if (type && strcmp(type, "sandbox") == 0) {
		const char *q = oci_string_map_get(config->annotations,
						   "io.kubernetes.cri.sandbox-cpu-quota");
		const char *p = oci_string_map_get(config->annotations,
						   "io.kubernetes.cri.sandbox-cpu-period");
		int64_t quota = 0, period = 0;

		if (q && p &&
		    (parse_uint_value("io.kubernetes.cri.sandbox-cpu-quota", q, &quota, err) < 0 ||
		     parse_uint_value("io.kubernetes.cri.sandbox-cpu-period", p, &period, err) < 0))
			return -1;
		if (period > 0 && sizing_add_quota(sum, quota, (uint64_t)period, err) < 0)
			return -1;
	}
	if (cpu == NULL)
		return 0;
	if (cpu->has_quota && cpu->quota > 0 && cpu->has_period && cpu->period > 0)
		return sizing_add_quota(sum, cpu->quota, cpu->period, err);
	if (cpu->cpus && *cpu->cpus) {
		unsigned int n;

		if (sizing_count_cpuset(cpu->cpus, &n, err) < 0)
			return runk_error_prefix(err, "linux.resources.cpu.cpus");
		return sizing_add_cpus(sum, n, err);
	}
	return 0;
}

static unsigned int host_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned int)n : 1;
}

static unsigned int host_memory_mib(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || page <= 0)
		return 0;
	return (unsigned int)((unsigned long long)pages * (unsigned long long)page >> 20);
}

static int size_vcpus(const struct oci_config *config, const struct runk_conf *conf,
		      unsigned int *vcpus, runk_error_t *err)
{
	const char *value = NULL;
	unsigned int max = conf->default_maxvcpus, host = host_cpus();
	struct cpu_amount sum;
	bool clamped;

	if (override(config, conf, "default_vcpus", &value, err) < 0)
		return -1;
	if (sizing_parse_cpus(value ? value : conf->default_vcpus, &sum, err) < 0)
		return value ? runk_error_prefix(err, RUNK_ANNOTATION_PREFIX "default_vcpus") : -1;
	if (add_bundle_cpus(config, &sum, err) < 0)
		return -1;
	if (max == 0 || max > host)
		max = host;
	*vcpus = sizing_vcpus(&sum, max, &clamped);
	if (clamped)
		log_debug("vCPUs clamped to %u (the range is 1 to %u)", *vcpus, max);
	return 0;
}

static int size_memory(const struct oci_config *config, const struct runk_conf *conf,
		       unsigned int *memory_mib, runk_error_t *err)
{
	const struct oci_linux_resources *res = config->linux ? config->linux->resources : NULL;
	const struct oci_linux_memory *mem = res ? res->memory : NULL;
	unsigned int base = conf->default_memory_mib, max = conf->default_maxmemory_mib;
	unsigned int host = host_memory_mib();
	const char *value = NULL;
	int64_t limit = mem && mem->has_limit ? mem->limit : 0;
	bool clamped;

	if (override(config, conf, "default_memory", &value, err) < 0)
		return -1;
	if (value) {
		int64_t v;

		if (parse_uint_value(RUNK_ANNOTATION_PREFIX "default_memory", value, &v, err) < 0)
			return -1;
		if (v <= 0 || v > UINT32_MAX)
			return runk_error(err,
					  "annotation `" RUNK_ANNOTATION_PREFIX
					  "default_memory`: %lld MiB is out of range",
					  (long long)v);
		base = (unsigned int)v;
	}
	if (max == 0 || (host > 0 && max > host))
		max = host;
	if (sizing_memory_mib(base, limit, max, memory_mib, &clamped, err) < 0)
		return -1;
	if (clamped)
		log_debug("VM memory clamped to %u MiB", *memory_mib);
	return 0;
}

int vm_size_compute(const struct oci_config *config, const struct runk_conf *conf,
		    struct vm_size *size, runk_error_t *err)
{
	const char *params = NULL;

	memset(size, 0, sizeof(*size));
	if (size_vcpus(config, conf, &size->vcpus, err) < 0 ||
	    size_memory(config, conf, &size->memory_mib, err) < 0 ||
	    override(config, conf, "kernel_params", &params, err) < 0)
		return -1;
	if (asprintf(&size->kernel_params, "%s%s%s", conf->kernel_params ? conf->kernel_params : "",
		     params && conf->kernel_params && *conf->kernel_params ? " " : "",
		     params ? params : "") < 0)
		abort();
	log_debug("VM size: %u vCPUs, %u MiB", size->vcpus, size->memory_mib);
	return 0;
}

void vm_size_release(struct vm_size *size)
{
	free(size->kernel_params);
	memset(size, 0, sizeof(*size));
}
