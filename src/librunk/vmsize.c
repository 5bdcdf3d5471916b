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
static int add_bundle_cpus(const struct oci_config *config, const struct pod_info *pod,
			   struct cpu_amount *sum, runk_error_t *err)
{
	const struct oci_linux_resources *res = config->linux ? config->linux->resources : NULL;
	const struct oci_linux_cpu *cpu = res ? res->cpu : NULL;

	/* A CRI pod sandbox carries the pod's summed limits in annotations. */
	if (pod->role == POD_SANDBOX) {
		const char *q = oci_string_map_get(config->annotations, POD_ANNOTATION_CPU_QUOTA);
		const char *p = oci_string_map_get(config->annotations, POD_ANNOTATION_CPU_PERIOD);
		int64_t quota = 0, period = 0;

		if (q && p &&
		    (parse_uint_value(POD_ANNOTATION_CPU_QUOTA, q, &quota, err) < 0 ||
		     parse_uint_value(POD_ANNOTATION_CPU_PERIOD, p, &period, err) < 0))
			return -1;
		if (quota > 0 && period > 0 &&
		    sizing_add_quota(sum, quota, (uint64_t)period, err) < 0)
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

unsigned int vm_size_max_vcpus(const struct runk_conf *conf)
{
	unsigned int max = conf->default_maxvcpus, host = host_cpus();

	return max == 0 || max > host ? host : max;
}

static int size_vcpus(const struct oci_config *config, const struct runk_conf *conf,
		      const struct pod_info *pod, unsigned int *vcpus, struct cpu_amount *cpus,
		      runk_error_t *err)
{
	const char *value = NULL;
	unsigned int max = vm_size_max_vcpus(conf);
	struct cpu_amount sum;
	bool clamped;

	if (override(config, conf, "default_vcpus", &value, err) < 0)
		return -1;
	if (sizing_parse_cpus(value ? value : conf->default_vcpus, &sum, err) < 0)
		return value ? runk_error_prefix(err, RUNK_ANNOTATION_PREFIX "default_vcpus") : -1;
	if (add_bundle_cpus(config, pod, &sum, err) < 0)
		return -1;
	*vcpus = sizing_vcpus(&sum, max, &clamped);
	*cpus = sum;
	if (clamped)
		log_debug("vCPUs clamped to %u (the range is 1 to %u)", *vcpus, max);
	return 0;
}

/*
 * What a pod sandbox adds to its VM's memory: the pod's summed limits as
 * containerd writes them, else (CRI-O) runk.conf's pod_memory.
 */
static int pod_memory(const struct oci_config *config, const struct runk_conf *conf,
		      const struct pod_info *pod, int64_t *limit, runk_error_t *err)
{
	const char *text = oci_string_map_get(config->annotations, POD_ANNOTATION_MEMORY);
	int64_t v = 0;

	if (pod->role != POD_SANDBOX)
		return 0;
	if (!pod->sized) {
		v = (int64_t)conf->pod_memory_mib << 20;
	} else if (text) {
		if (parse_uint_value(POD_ANNOTATION_MEMORY, text, &v, err) < 0)
			return -1;
		if (v < 0)
			return runk_error(err, "annotation `%s`: %lld is negative",
					  POD_ANNOTATION_MEMORY, (long long)v);
	}
	if (v == 0)
		return 0;
	if (*limit < 0) /* -1: no limit of its own */
		*limit = 0;
	if (v > INT64_MAX - *limit)
		return runk_error(err, "annotation `%s`: too large", POD_ANNOTATION_MEMORY);
	*limit += v;
	return 0;
}

static int size_memory(const struct oci_config *config, const struct runk_conf *conf,
		       const struct pod_info *pod, unsigned int *memory_mib, runk_error_t *err)
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
	if (pod_memory(config, conf, pod, &limit, err) < 0)
		return -1;
	if (sizing_memory_mib(base, limit, max, memory_mib, &clamped, err) < 0)
		return -1;
	if (clamped)
		log_debug("VM memory clamped to %u MiB", *memory_mib);
	return 0;
}

int vm_size_compute(const struct oci_config *config, const struct runk_conf *conf,
		    const struct pod_info *pod, struct vm_size *size, runk_error_t *err)
{
	const char *params = NULL;

	memset(size, 0, sizeof(*size));
	if (size_vcpus(config, conf, pod, &size->vcpus, &size->cpus, err) < 0 ||
	    size_memory(config, conf, pod, &size->memory_mib, err) < 0 ||
	    override(config, conf, "kernel_params", &params, err) < 0)
		return -1;
	if (asprintf(&size->kernel_params, "%s%s%s", conf->kernel_params ? conf->kernel_params : "",
		     params && conf->kernel_params && *conf->kernel_params ? " " : "",
		     params ? params : "") < 0)
		abort();
	/* The pod's containers bring vCPUs online as they join (shim-pod.c). */
	if (pod->role == POD_SANDBOX && !pod->sized && vm_size_max_vcpus(conf) > size->vcpus)
		size->max_vcpus = vm_size_max_vcpus(conf);
	log_debug("VM size: %u vCPUs (of %u), %u MiB", size->vcpus,
		  size->max_vcpus ? size->max_vcpus : size->vcpus, size->memory_mib);
	return 0;
}

void vm_size_release(struct vm_size *size)
{
	free(size->kernel_params);
	memset(size, 0, sizeof(*size));
}
