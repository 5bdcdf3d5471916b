/*
 * VM sizing from the bundle, exactly: no floating point anywhere.
 *
 *   vcpus      = ceil(default_vcpus + sum(quota_i / period_i)), clamped to [1, max]
 *   memory_mib = default_memory + ceil(limit / MiB), rounded up to even, clamped
 *
 * CPU amounts are fractions kept over a common denominator with 128-bit
 * intermediates; a sum that does not fit is an error, never a wraparound.
 */
#ifndef RUNK_SIZING_H
#define RUNK_SIZING_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* An exact non-negative amount of CPUs: num / den, den > 0. */
struct cpu_amount {
	unsigned __int128 num;
	unsigned __int128 den;
};

/* "1", "0.5", "1.25" (at most 9 decimals) as an exact fraction. */
int sizing_parse_cpus(const char *text, struct cpu_amount *out, runk_error_t *err);

/* Add quota/period to *sum.  quota <= 0 or period == 0 adds nothing (no limit). */
int sizing_add_quota(struct cpu_amount *sum, int64_t quota, uint64_t period, runk_error_t *err);

/* Add a whole number of CPUs (a cpuset's size) to *sum. */
int sizing_add_cpus(struct cpu_amount *sum, unsigned int cpus, runk_error_t *err);

/* The number of CPUs in a cpuset list ("0-3,6"); an error for a malformed one. */
int sizing_count_cpuset(const char *cpuset, unsigned int *count, runk_error_t *err);

/* ceil(sum) clamped to [1, max_vcpus]; *clamped says whether the clamp changed it. */
unsigned int sizing_vcpus(const struct cpu_amount *sum, unsigned int max_vcpus, bool *clamped);

/*
 * Guest memory in MiB for a container memory limit in bytes (<= 0: none):
 * default_mib + ceil(limit / MiB), rounded up to an even MiB, clamped to
 * max_mib (0: no clamp).  Fails when the result is too small to boot.
 */
int sizing_memory_mib(unsigned int default_mib, int64_t limit, unsigned int max_mib,
		      unsigned int *out, bool *clamped, runk_error_t *err);

/* The smallest guest runk boots. */
#define SIZING_MIN_MEMORY_MIB 64

#endif
