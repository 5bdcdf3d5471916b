/*
 * Unit tests for host cgroups: cgroupsPath parsing (every form, bad forms),
 * quota/period → CPUQuotaPerSecUSec, and the limit files of linux.resources
 * for v1 and v2, the v2 ones written into a temp directory laid out like a
 * cgroup2 cgroup (this host's cgroup2 has no controllers, so v2 limits cannot
 * be set on a real one here).
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "cleanup.h"
#include "testlib.h"
#include "util.h"

static const struct path_case {
	const char *input;
	bool systemd_flag;
	bool ok;
	enum cgroup_manager manager;
	const char *path; /* fs */
	bool relative;
	const char *slice; /* systemd */
	const char *unit;
} path_cases[] = {
	{NULL, false, true, CGROUP_MANAGER_FS, "/runk/c1", false, NULL, NULL},
	{"", false, true, CGROUP_MANAGER_FS, "/runk/c1", false, NULL, NULL},
	{NULL, true, true, CGROUP_MANAGER_SYSTEMD, NULL, false, "system.slice", "runk-c1.scope"},
	{"", true, true, CGROUP_MANAGER_SYSTEMD, NULL, false, "system.slice", "runk-c1.scope"},
	{"/a/b", false, true, CGROUP_MANAGER_FS, "/a/b", false, NULL, NULL},
	{"//a///b/", false, true, CGROUP_MANAGER_FS, "/a/b", false, NULL, NULL},
	{"/a/./b", false, true, CGROUP_MANAGER_FS, "/a/b", false, NULL, NULL},
	{"a/b", false, true, CGROUP_MANAGER_FS, "a/b", true, NULL, NULL},
	{"./a", false, true, CGROUP_MANAGER_FS, "a", true, NULL, NULL},
	{"/kubepods/pod1/c1", false, true, CGROUP_MANAGER_FS, "/kubepods/pod1/c1", false, NULL,
	 NULL},
	/* three parts but the first is no slice: a plain fs path */
	{"/a:b:c", false, true, CGROUP_MANAGER_FS, "/a:b:c", false, NULL, NULL},
	{"a:b", false, true, CGROUP_MANAGER_FS, "a:b", true, NULL, NULL},
	{"system.slice:runk:test", false, true, CGROUP_MANAGER_SYSTEMD, NULL, false, "system.slice",
	 "runk-test.scope"},
	{"system.slice:runk:test", true, true, CGROUP_MANAGER_SYSTEMD, NULL, false, "system.slice",
	 "runk-test.scope"},
	{":runk:test", true, true, CGROUP_MANAGER_SYSTEMD, NULL, false, "system.slice",
	 "runk-test.scope"},
	{"machine.slice::test", true, true, CGROUP_MANAGER_SYSTEMD, NULL, false, "machine.slice",
	 "test.scope"},
	{"kubepods.slice:cri:pod-x.slice", true, true, CGROUP_MANAGER_SYSTEMD, NULL, false,
	 "kubepods.slice", "pod-x.slice"},
	/* bad forms */
	{"/a/b", true, false, 0, NULL, false, NULL, NULL},
	{"a:b:c", true, false, 0, NULL, false, NULL, NULL},
	{"a.slice:b", true, false, 0, NULL, false, NULL, NULL},
	{"a.slice:b:c:d", true, false, 0, NULL, false, NULL, NULL},
	{"system.slice:runk:", false, false, 0, NULL, false, NULL, NULL},
	{"system.slice:ru/nk:x", false, false, 0, NULL, false, NULL, NULL},
	{"system.slice:runk:a b", false, false, 0, NULL, false, NULL, NULL},
	{".slice:runk:x", false, false, 0, NULL, false, NULL, NULL},
	{"/a/../b", false, false, 0, NULL, false, NULL, NULL},
	{"../b", false, false, 0, NULL, false, NULL, NULL},
	{"/", false, false, 0, NULL, false, NULL, NULL},
	{"//.", false, false, 0, NULL, false, NULL, NULL},
	{"/a\tb", false, false, 0, NULL, false, NULL, NULL},
};

static void test_paths(void)
{
	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *c = &path_cases[i];
		struct cgroup_path p __attribute__((cleanup(cgroup_path_release))) = {0};
		cleanup_error runk_error_t err = NULL;
		const char *in = c->input ? c->input : "(null)";
		int ret = cgroup_path_parse(c->input, "c1", c->systemd_flag, &p, &err);

		ok((ret == 0) == c->ok, "`%s` (systemd %d) %s", in, c->systemd_flag,
		   c->ok ? "parses" : "is refused");
		if (ret < 0 || !c->ok) {
			if (ret < 0)
				ok(err != NULL && strstr(err->msg, "cgroupsPath") != NULL,
				   "`%s`: the error names cgroupsPath", in);
			continue;
		}
		ok(p.manager == c->manager, "`%s`: manager", in);
		is_str(p.path, c->path, "`%s`: fs path", in);
		ok(p.relative == c->relative, "`%s`: relative", in);
		is_str(p.slice, c->slice, "`%s`: slice", in);
		is_str(p.unit, c->unit, "`%s`: unit", in);
	}
}

static void test_overhead_and_join(void)
{
	struct cgroup_path p __attribute__((cleanup(cgroup_path_release))) = {0};
	struct cgroup_path q __attribute__((cleanup(cgroup_path_release))) = {0};
	cleanup_free char *a = cgroup_path_join("/process_api/x", "a/b");
	cleanup_free char *b = cgroup_path_join("/", "a");
	cleanup_free char *c = cgroup_path_join("/user.slice/", "a");

	ok(cgroup_overhead_path(CGROUP_MANAGER_FS, "c1", &p, NULL) == 0, "fs overhead path");
	is_str(p.path, "/runk_overhead/c1", "fs overhead is /runk_overhead/<id>");
	ok(cgroup_overhead_path(CGROUP_MANAGER_SYSTEMD, "c1", &q, NULL) == 0,
	   "systemd overhead path");
	is_str(q.slice, "runk-overhead.slice", "systemd overhead slice");
	is_str(q.unit, "runk-c1.scope", "systemd overhead unit");
	is_str(a, "/process_api/x/a/b", "relative joined to runk's own cgroup");
	is_str(b, "/a", "relative joined to the root cgroup");
	is_str(c, "/user.slice/a", "trailing slash of the own cgroup");
}

static void test_quota(void)
{
	static const struct {
		int64_t quota;
		uint64_t period;
		uint64_t expected;
	} cases[] = {
		{50000, 100000, 500000},
		{100000, 100000, 1000000},
		{200000, 100000, 2000000},
		{1000, 100000, 10000},
		{1, 100000, 10000},
		{12345, 100000, 130000},
		{33333, 100000, 340000},
		{10000, 50000, 200000},
		{0, 100000, 0},
		{-1, 100000, 0},
		{50000, 0, 0},
		{INT64_MAX, 1, UINT64_MAX},
		{150000, 1000000, 150000},
		{155000, 1000000, 160000},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(cgroup_quota_per_sec_usec(cases[i].quota, cases[i].period) == cases[i].expected,
		   "quota %lld period %llu -> CPUQuotaPerSecUSec %llu (got %llu)",
		   (long long)cases[i].quota, (unsigned long long)cases[i].period,
		   (unsigned long long)cases[i].expected,
		   (unsigned long long)cgroup_quota_per_sec_usec(cases[i].quota, cases[i].period));
}

static const char resources_json[] =
	"{\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"cpus\":\"0-1\",\"mems\":"
	"\"0\"},\"memory\":{\"limit\":134217728,\"reservation\":67108864,\"swap\":268435456},"
	"\"pids\":{\"limit\":100},\"blockIO\":{\"weight\":500,\"throttleReadBpsDevice\":[{"
	"\"major\":8,\"minor\":0,\"rate\":1048576}]},\"hugepageLimits\":[{\"pageSize\":\"2MB\","
	"\"limit\":0}],\"unified\":{\"memory.high\":\"100000000\"}}";

/* The VM of a 128 MiB container: 256 + 128 MiB of RAM, 64 MiB overhead. */
#define VM_LIMIT ((256ULL + 128 + 64) * 1024 * 1024)

static const char *find(const struct cgroup_settings *s, const char *file)
{
	const char *value = NULL;

	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->items[i].file, file) == 0)
			value = s->items[i].value;
	return value;
}

static void test_v1_settings(void)
{
	struct cgroup_settings s __attribute__((cleanup(cgroup_settings_release))) = {0};
	cleanup_error runk_error_t err = NULL;
	struct oci_linux_resources *res = cgroup_resources_parse(resources_json, &err);
	size_t period = 0, quota = 0;

	ok(res != NULL, "resources parse");
	if (res == NULL)
		return;
	/* v1 has no unified keys: refused, as runc does. */
	ok(cgroup_settings_from_resources(res, false, VM_LIMIT, &s, &err) < 0,
	   "v1 refuses linux.resources.unified");
	oci_string_map_free(res->unified);
	res->unified = NULL;
	ok(cgroup_settings_from_resources(res, false, VM_LIMIT, &s, NULL) == 0, "v1 settings");
	is_str(find(&s, "cpu.shares"), "1024", "v1 cpu.shares");
	is_str(find(&s, "cpu.cfs_quota_us"), "50000", "v1 cpu.cfs_quota_us");
	is_str(find(&s, "cpu.cfs_period_us"), "100000", "v1 cpu.cfs_period_us");
	for (size_t i = 0; i < s.n; i++) {
		if (strcmp(s.items[i].file, "cpu.cfs_period_us") == 0)
			period = i;
		if (strcmp(s.items[i].file, "cpu.cfs_quota_us") == 0)
			quota = i;
	}
	ok(period < quota, "v1: the period is written before the quota");
	is_str(find(&s, "cpuset.cpus"), "0-1", "v1 cpuset.cpus");
	is_str(find(&s, "memory.limit_in_bytes"), "469762048",
	       "v1 memory.limit_in_bytes is the VM's RAM + memory_overhead");
	is_str(find(&s, "memory.soft_limit_in_bytes"), "67108864", "v1 reservation");
	is_str(find(&s, "memory.memsw.limit_in_bytes"), "603979776",
	       "v1 memsw = host limit + the container's swap beyond its limit");
	is_str(find(&s, "pids.max"), "100", "v1 pids.max");
	is_str(find(&s, "blkio.weight"), "500", "v1 blkio.weight");
	is_str(find(&s, "blkio.throttle.read_bps_device"), "8:0 1048576", "v1 throttle");
	is_str(find(&s, "hugetlb.2MB.limit_in_bytes"), "0", "v1 hugetlb");
	oci_linux_resources_free(res);
}

/* A temp dir with the files a cgroup2 cgroup has (empty), written as runk would. */
static void test_v2_dir(void)
{
	static const char *const files[] = {
		"cgroup.procs", "cpu.weight", "cpu.max",	 "cpuset.cpus", "cpuset.mems",
		"memory.max",	"memory.low", "memory.swap.max", "memory.high", "pids.max",
		"io.weight",	"io.max",     "hugetlb.2MB.max",
	};
	struct cgroup_settings s __attribute__((cleanup(cgroup_settings_release))) = {0};
	cleanup_error runk_error_t err = NULL;
	struct oci_linux_resources *config = cgroup_resources_parse(resources_json, &err);
	char dir[] = "/tmp/runk-test-cgroup2.XXXXXX";
	static const char *const expected[][2] = {
		{"cpu.weight", "39"},
		{"cpu.max", "50000 100000"},
		{"cpuset.cpus", "0-1"},
		{"cpuset.mems", "0"},
		{"memory.max", "469762048"},
		{"memory.low", "67108864"},
		{"memory.swap.max", "134217728"},
		{"memory.high", "100000000"},
		{"pids.max", "100"},
		{"io.weight", "4950"},
		{"io.max", "8:0 rbps=1048576"},
		{"hugetlb.2MB.max", "0"},
	};

	ok(config != NULL && mkdtemp(dir) != NULL, "a cgroup2-like temp dir");
	if (config == NULL)
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		cleanup_free char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, files[i]) < 0)
			abort();
		close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	}
	ok(cgroup_settings_from_resources(config, true, VM_LIMIT, &s, &err) == 0, "v2 settings");
	ok(cgroup_settings_write_dir(&s, dir, &err) == 0, "v2 settings written to %s", dir);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		cleanup_free char *path = NULL, *text = NULL;

		if (asprintf(&path, "%s/%s", dir, expected[i][0]) < 0)
			abort();
		read_file(path, 4096, &text, NULL, NULL);
		is_str(text, expected[i][1], "v2 %s", expected[i][0]);
	}
	/* A file cgroup2 does not have is an error, not a new file. */
	{
		struct cgroup_settings bad = {0};
		struct cgroup_setting item = {(char *)"memory", (char *)"memory.nonesuch",
					      (char *)"1"};
		cleanup_error runk_error_t e2 = NULL;

		bad.items = &item;
		bad.n = 1;
		ok(cgroup_settings_write_dir(&bad, dir, &e2) < 0,
		   "a file the cgroup lacks is not created");
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		cleanup_free char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, files[i]) < 0)
			abort();
		unlink(path);
	}
	rmdir(dir);
	oci_linux_resources_free(config);
}

static void test_v2_edge_cases(void)
{
	static const struct {
		const char *json;
		const char *file;
		const char *value;
	} cases[] = {
		{"{\"memory\":{\"limit\":-1}}", "memory.max", "max"},
		{"{\"memory\":{\"limit\":134217728,\"swap\":-1}}", "memory.swap.max", "max"},
		{"{\"memory\":{\"limit\":134217728,\"swap\":134217728}}", "memory.swap.max", "0"},
		{"{\"cpu\":{\"quota\":-1,\"period\":100000}}", "cpu.max", "max 100000"},
		{"{\"cpu\":{\"quota\":20000}}", "cpu.max", "20000 100000"},
		{"{\"cpu\":{\"shares\":2}}", "cpu.weight", "1"},
		{"{\"cpu\":{\"shares\":262144}}", "cpu.weight", "10000"},
		{"{\"pids\":{\"limit\":-1}}", "pids.max", "max"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cgroup_settings s __attribute__((cleanup(cgroup_settings_release))) = {0};
		struct oci_linux_resources *config = cgroup_resources_parse(cases[i].json, NULL);

		ok(config && cgroup_settings_from_resources(config, true, 0, &s, NULL) == 0,
		   "v2 %s", cases[i].json);
		is_str(find(&s, cases[i].file), cases[i].value, "v2 %s: %s", cases[i].json,
		       cases[i].file);
		oci_linux_resources_free(config);
	}
	{
		struct oci_linux_resources *config =
			cgroup_resources_parse("{\"memory\":{\"swap\":1000}}", NULL);
		struct cgroup_settings s = {0};

		ok(config && cgroup_settings_from_resources(config, true, 0, &s, NULL) < 0,
		   "a swap limit without a memory limit is refused");
		oci_linux_resources_free(config);
	}
}

static void test_plan_file(void)
{
	struct cgroup_plan plan = {0}, back = {0};
	struct cgroup_hier hier = {(char *)"memory", (char *)"/sys/fs/cgroup/memory",
				   (char *)"/a/b", (char *)"/runk_overhead/c1"};
	struct cgroup_hier unified = {(char *)"", (char *)"/sys/fs/cgroup/unified", (char *)"/a/b",
				      NULL};
	struct cgroup_hier both[2] = {hier, unified};
	char dir[] = "/tmp/runk-test-plan.XXXXXX";
	cleanup_free char *file = NULL;
	bool found = false;

	ok(mkdtemp(dir) != NULL, "temp dir for the plan file");
	plan.manager = CGROUP_MANAGER_FS;
	plan.mode = CGROUP_MODE_HYBRID;
	plan.memory_limit = VM_LIMIT;
	plan.hiers = both;
	plan.n_hiers = 2;
	ok(cgroup_plan_save(&plan, dir, NULL) == 0, "plan saved");
	ok(cgroup_plan_load(dir, &back, &found, NULL) == 0 && found, "plan loaded");
	ok(back.manager == CGROUP_MANAGER_FS && back.mode == CGROUP_MODE_HYBRID &&
		   back.memory_limit == VM_LIMIT && !back.sandbox_only && back.n_hiers == 2,
	   "plan fields survive");
	if (back.n_hiers == 2) {
		is_str(back.hiers[0].controller, "memory", "hier controller");
		is_str(back.hiers[0].overhead, "/runk_overhead/c1", "hier overhead");
		is_str(back.hiers[1].controller, "", "cgroup2 hier");
		ok(back.hiers[1].overhead == NULL, "no overhead survives as none");
	}
	cgroup_plan_release(&back);
	if (asprintf(&file, "%s/%s", dir, CGROUP_PLAN_FILE) < 0)
		abort();
	unlink(file);
	ok(cgroup_plan_load(dir, &back, &found, NULL) == 0 && !found, "no plan file: none");
	rmdir(dir);
}

int main(void)
{
	test_paths();
	test_overhead_and_join();
	test_quota();
	test_v1_settings();
	test_v2_dir();
	test_v2_edge_cases();
	test_plan_file();
	return test_done();
}
