#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sizing.h"

typedef unsigned __int128 u128;

static u128 gcd(u128 a, u128 b)
{
	while (b != 0) {
		u128 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static bool mul_overflows(u128 a, u128 b, u128 *out)
{
	return __builtin_mul_overflow(a, b, out);
}

static void reduce(struct cpu_amount *a)
{
	u128 g = gcd(a->num, a->den);

	if (g > 1) {
		a->num /= g;
		a->den /= g;
	}
}

/* *sum += num / den, exactly. */
static int add_fraction(struct cpu_amount *sum, u128 num, u128 den, runk_error_t *err)
{
	u128 g = gcd(sum->den, den);
	u128 scale_sum = den / g, scale_new = sum->den / g;
	u128 a, b, total, common;

	/* Over the least common denominator, so sums of like periods never grow it. */
	if (mul_overflows(sum->num, scale_sum, &a) || mul_overflows(num, scale_new, &b) ||
	    __builtin_add_overflow(a, b, &total) || mul_overflows(sum->den, scale_sum, &common))
		return runk_error(err, "the CPU amounts are too large to add up exactly");
	sum->num = total;
	sum->den = common;
	reduce(sum);
	return 0;
}

int sizing_parse_cpus(const char *text, struct cpu_amount *out, runk_error_t *err)
{
	u128 num = 0, den = 1;
	const char *p = text;
	bool digits = false, point = false;
	int decimals = 0;

	for (; *p; p++) {
		if (*p == '.' && !point) {
			point = true;
			continue;
		}
		if (*p < '0' || *p > '9' || (point && ++decimals > 9) || num > UINT64_MAX)
			return runk_error(err,
					  "invalid CPU amount `%s`: expected a decimal such as "
					  "1, 0.5 or 1.25",
					  text);
		num = num * 10 + (u128)(*p - '0');
		if (point)
			den *= 10;
		digits = true;
	}
	if (!digits)
		return runk_error(err,
				  "invalid CPU amount `%s`: expected a decimal such as 1, 0.5 "
				  "or 1.25",
				  text);
	out->num = num;
	out->den = den;
	reduce(out);
	return 0;
}

int sizing_add_quota(struct cpu_amount *sum, int64_t quota, uint64_t period, runk_error_t *err)
{
	if (quota <= 0 || period == 0)
		return 0;
	return add_fraction(sum, (u128)quota, (u128)period, err);
}

int sizing_add_cpus(struct cpu_amount *sum, unsigned int cpus, runk_error_t *err)
{
	return add_fraction(sum, cpus, 1, err);
}

int sizing_count_cpuset(const char *cpuset, unsigned int *count, runk_error_t *err)
{
	const char *p = cpuset;
	unsigned long total = 0;

	while (*p) {
		char *end = NULL;
		unsigned long first, last;

		errno = 0;
		first = strtoul(p, &end, 10);
		if (errno || end == p || *p == '-' || *p == '+')
			goto bad;
		last = first;
		p = end;
		if (*p == '-') {
			p++;
			last = strtoul(p, &end, 10);
			if (errno || end == p || *p == '-' || *p == '+' || last < first)
				goto bad;
			p = end;
		}
		if (last >= 65536)
			goto bad;
		total += last - first + 1;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			goto bad;
	}
	*count = (unsigned int)total;
	return 0;
bad:
	return runk_error(err, "invalid cpuset `%s`", cpuset);
}

unsigned int sizing_vcpus(const struct cpu_amount *sum, unsigned int max_vcpus, bool *clamped)
{
	u128 ceil = sum->num / sum->den + (sum->num % sum->den != 0);
	unsigned int vcpus;

	*clamped = false;
	if (max_vcpus == 0)
		max_vcpus = 1;
	if (ceil < 1) {
		vcpus = 1;
		*clamped = true;
	} else if (ceil > max_vcpus) {
		vcpus = max_vcpus;
		*clamped = true;
	} else {
		vcpus = (unsigned int)ceil;
	}
	return vcpus;
}

int sizing_memory_mib(unsigned int default_mib, int64_t limit, unsigned int max_mib,
		      unsigned int *out, bool *clamped, runk_error_t *err)
{
	const uint64_t mib = 1024 * 1024;
	uint64_t total = default_mib;

	*clamped = false;
	if (limit > 0)
		total += ((uint64_t)limit + mib - 1) / mib;
	total += total % 2;
	if (max_mib > 0 && total > max_mib) {
		total = max_mib;
		*clamped = true;
	}
	if (total < SIZING_MIN_MEMORY_MIB)
		return runk_error(err,
				  "a VM of %llu MiB is too small for the guest to boot (at "
				  "least %d MiB): raise default_memory or the memory limit",
				  (unsigned long long)total, SIZING_MIN_MEMORY_MIB);
	if (total > UINT32_MAX)
		return runk_error(err, "a VM of %llu MiB is too large", (unsigned long long)total);
	*out = (unsigned int)total;
	return 0;
}
