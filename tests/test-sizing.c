/* Unit tests for exact VM sizing: vCPUs from quota/period, memory from the limit. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "cleanup.h"
#include "sizing.h"
#include "testlib.h"

struct quota {
	int64_t quota;
	uint64_t period;
};

static const struct vcpu_case {
	const char *name;
	const char *default_vcpus;
	struct quota quotas[12];
	size_t n;
	unsigned int max;
	unsigned int expected;
} vcpu_cases[] = {
	{"no limits: the default", "1", {{0}}, 0, 8, 1},
	{"10 x 0.1 CPU is exactly 1 more",
	 "0",
	 {{10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000}},
	 10,
	 8,
	 1},
	{"10 x 0.1 CPU with default 1 is 2",
	 "1",
	 {{10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000},
	  {10000, 100000}},
	 10,
	 8,
	 2},
	{"1.5 CPUs with default 1 is 3", "1", {{150000, 100000}}, 1, 8, 3},
	{"1.5 CPUs with default 0.5 is 2", "0.5", {{150000, 100000}}, 1, 8, 2},
	{"default 0.5 + 0.25 is 1", "0.5", {{25000, 100000}}, 1, 8, 1},
	{"(1e6,1e6) + (1e6,5e5) with default 3 is 6",
	 "3",
	 {{1000000, 1000000}, {1000000, 500000}},
	 2,
	 16,
	 6},
	{"900000/299999 with default 0 is 4", "0", {{900000, 299999}}, 1, 16, 4},
	{"period 0 adds nothing", "1", {{50000, 0}}, 1, 8, 1},
	{"quota -1 adds nothing", "1", {{-1, 100000}}, 1, 8, 1},
	{"quota 0 adds nothing", "1.25", {{0, 100000}}, 1, 8, 2},
	{"clamped to the maximum", "1", {{800000, 100000}}, 1, 4, 4},
	{"clamped up to one", "0", {{0}}, 0, 4, 1},
	{"distinct periods sum exactly", "0", {{1, 3}, {1, 3}, {1, 3}}, 3, 8, 1},
	{"1/3 + 1/3 + 1/3 + a hair is 2", "0", {{1, 3}, {1, 3}, {1, 3}, {1, 1000000007}}, 4, 8, 2},
};

static void test_vcpus(void)
{
	for (size_t i = 0; i < sizeof(vcpu_cases) / sizeof(vcpu_cases[0]); i++) {
		const struct vcpu_case *c = &vcpu_cases[i];
		cleanup_error runk_error_t err = NULL;
		struct cpu_amount sum;
		bool clamped;
		int ret = sizing_parse_cpus(c->default_vcpus, &sum, &err);

		for (size_t q = 0; ret == 0 && q < c->n; q++)
			ret = sizing_add_quota(&sum, c->quotas[q].quota, c->quotas[q].period, &err);
		ok(ret == 0 && sizing_vcpus(&sum, c->max, &clamped) == c->expected, "%s", c->name);
	}
}

static void test_overflow(void)
{
	cleanup_error runk_error_t err = NULL;
	struct cpu_amount sum;
	int ret = sizing_parse_cpus("1", &sum, &err);
	/* Coprime huge periods make the common denominator grow past 128 bits: an error. */
	static const uint64_t periods[] = {18446744073709551557ULL, 18446744073709551533ULL,
					   18446744073709551521ULL};

	for (size_t i = 0; ret == 0 && i < sizeof(periods) / sizeof(periods[0]); i++)
		ret = sizing_add_quota(&sum, INT64_MAX, periods[i], &err);
	ok(ret < 0 && err != NULL, "sums past 128 bits are an error, never a wraparound");

	{
		cleanup_error runk_error_t e2 = NULL;
		struct cpu_amount big;
		bool clamped;

		ok(sizing_parse_cpus("0", &big, &e2) == 0 &&
			   sizing_add_quota(&big, INT64_MAX, 1, &e2) == 0 &&
			   sizing_vcpus(&big, 64, &clamped) == 64 && clamped,
		   "a huge quota is clamped, not wrapped");
	}
}

static void test_parse_cpus(void)
{
	static const char *const bad[] = {"",	 ".",	"-1",		"1.2.3",
					  "abc", "1e3", "0.1234567891", "1 "};
	struct cpu_amount a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cleanup_error runk_error_t err = NULL;

		ok(sizing_parse_cpus(bad[i], &a, &err) < 0, "CPU amount `%s` is refused", bad[i]);
	}
	{
		cleanup_error runk_error_t err = NULL;

		ok(sizing_parse_cpus("1.25", &a, &err) == 0 && a.num == 5 && a.den == 4,
		   "1.25 is 5/4");
	}
}

static void test_cpuset(void)
{
	static const struct {
		const char *set;
		unsigned int count;
	} good[] = {{"0", 1}, {"0-3", 4}, {"0-3,6", 5}, {"1,3,5", 3}, {"0-1,4-7", 6}};
	static const char *const bad[] = {"3-1", "a", "0-", ",", "0,,1", "-1", "1-2-3"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cleanup_error runk_error_t err = NULL;
		unsigned int n = 0;

		ok(sizing_count_cpuset(good[i].set, &n, &err) == 0 && n == good[i].count,
		   "cpuset `%s` has %u CPUs", good[i].set, good[i].count);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cleanup_error runk_error_t err = NULL;
		unsigned int n = 0;

		ok(sizing_count_cpuset(bad[i], &n, &err) < 0, "cpuset `%s` is refused", bad[i]);
	}
}

static void test_memory(void)
{
	static const struct {
		const char *name;
		unsigned int def;
		int64_t limit;
		unsigned int max;
		unsigned int expected;
		bool clamped;
	} cases[] = {
		{"no limit: the default", 256, 0, 0, 256, false},
		{"limit -1 is no limit", 256, -1, 0, 256, false},
		{"512 MiB limit adds 512", 256, 512LL << 20, 0, 768, false},
		{"a partial MiB rounds up, then to even", 256, (100LL << 20) + 1, 0, 358, false},
		{"odd default rounds up to even", 255, 0, 0, 256, false},
		{"clamped to the maximum", 256, 8LL << 30, 1024, 1024, true},
		{"a huge limit is clamped", 256, INT64_MAX, 4096, 4096, true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_error runk_error_t err = NULL;
		unsigned int mib = 0;
		bool clamped = false;

		ok(sizing_memory_mib(cases[i].def, cases[i].limit, cases[i].max, &mib, &clamped,
				     &err) == 0 &&
			   mib == cases[i].expected && clamped == cases[i].clamped,
		   "%s", cases[i].name);
	}
	{
		cleanup_error runk_error_t err = NULL;
		unsigned int mib = 0;
		bool clamped;

		ok(sizing_memory_mib(16, 1 << 20, 0, &mib, &clamped, &err) < 0 && err &&
			   strstr(err->msg, "too small") != NULL,
		   "a VM too small to boot is an error that says so");
	}
}

int main(void)
{
	test_vcpus();
	test_overflow();
	test_parse_cpus();
	test_cpuset();
	test_memory();
	return test_done();
}
