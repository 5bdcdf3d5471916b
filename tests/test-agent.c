/*
 * The guest agent's pure helpers: OCI linux.resources -> cgroup2 files (the
 * conversions runc's v2 manager makes), the resources parser wrapper, and
 * the proto JSON helpers the new requests use (arrays, nested values).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "ocispec.h"
#include "testlib.h"

/* The cgroup2 files a resources object turns into, as "file=value;..." (NULL on error). */
static char *convert(const char *json, long long current_limit)
{
	runk_error_t err = NULL;
	struct oci_linux_resources *cfg = resources_parse(json, strlen(json), &err);
	struct cgroup_setting *list;
	size_t count, len = 1;
	char *out;

	if (cfg == NULL) {
		runk_error_free(&err);
		return NULL;
	}
	if (resources_to_cgroup2(cfg, current_limit, &list, &count, &err) < 0) {
		runk_error_free(&err);
		oci_linux_resources_free(cfg);
		return NULL;
	}
	for (size_t i = 0; i < count; i++)
		len += strlen(list[i].file) + strlen(list[i].value) + 2;
	out = calloc(1, len);
	for (size_t i = 0; i < count; i++) {
		strcat(out, list[i].file);
		strcat(out, "=");
		strcat(out, list[i].value);
		strcat(out, ";");
	}
	cgroup_settings_free(list, count);
	oci_linux_resources_free(cfg);
	return out;
}

static void check(const char *json, long long current, const char *expected, const char *name)
{
	char *got = convert(json, current);

	is_str(got, expected, "%s", name);
	free(got);
}

static void test_shares(void)
{
	ok(cpu_shares_to_weight(2) == 1, "shares 2 -> weight 1");
	ok(cpu_shares_to_weight(1024) == 39, "shares 1024 -> weight 39");
	ok(cpu_shares_to_weight(262144) == 10000, "shares 262144 -> weight 10000");
	ok(cpu_shares_to_weight(1) == 1, "shares 1 -> weight 1 (truncated toward zero)");
}

static void test_swap(void)
{
	runk_error_t err = NULL;
	long long v = 42;

	ok(memory_swap_to_v2(0, -1, &v, &err) == 0 && v == -1, "unlimited memory, swap unset: max");
	ok(memory_swap_to_v2(-1, 100, &v, &err) == 0 && v == -1, "swap -1: max");
	ok(memory_swap_to_v2(0, 100, &v, &err) == 0 && v == 0, "swap 0: unset");
	ok(memory_swap_to_v2(300, 100, &v, &err) == 0 && v == 200, "swap 300 limit 100: 200");
	ok(memory_swap_to_v2(50, 100, &v, &err) < 0, "swap below the limit refused");
	runk_error_free(&err);
	ok(memory_swap_to_v2(50, 0, &v, &err) < 0, "swap without a limit refused");
	runk_error_free(&err);
}

static void test_convert(void)
{
	check("{}", 0, "", "empty resources");
	check("{\"memory\":{\"limit\":33554432,\"reservation\":1048576}}", 0,
	      "memory.max=33554432;memory.low=1048576;", "memory limit and reservation");
	check("{\"memory\":{\"limit\":-1}}", 0, "memory.max=max;memory.swap.max=max;",
	      "unlimited memory: swap unlimited too");
	check("{\"memory\":{\"limit\":100,\"swap\":300}}", 0, "memory.max=100;memory.swap.max=200;",
	      "swap is memory+swap");
	check("{\"memory\":{\"limit\":100,\"swap\":100}}", 0, "memory.max=100;memory.swap.max=0;",
	      "swap equal to the limit: no swap");
	check("{\"memory\":{\"swap\":300}}", 100, "memory.swap.max=200;",
	      "update of swap alone uses the limit in force");
	check("{\"memory\":{\"swap\":300}}", 0, NULL, "swap without any limit refused");
	check("{\"memory\":{\"limit\":0}}", 0, "", "memory limit 0 is unset");
	check("{\"cpu\":{\"quota\":50000,\"period\":100000}}", 0, "cpu.max=50000 100000;",
	      "cpu quota and period");
	check("{\"cpu\":{\"quota\":-1,\"period\":100000}}", 0, "cpu.max=max 100000;",
	      "negative quota: max");
	check("{\"cpu\":{\"quota\":20000}}", 0, "cpu.max=20000;", "quota without period");
	check("{\"cpu\":{\"shares\":1024,\"cpus\":\"0-1\",\"mems\":\"0\"}}", 0,
	      "cpu.weight=39;cpuset.cpus=0-1;cpuset.mems=0;", "shares and cpuset");
	check("{\"pids\":{\"limit\":0}}", 0, "pids.max=max;", "pids limit 0: max");
	check("{\"pids\":{\"limit\":-1}}", 0, "pids.max=max;", "pids limit -1: max");
	check("{\"pids\":{\"limit\":64}}", 0, "pids.max=64;", "pids limit");
	check("{\"unified\":{\"memory.high\":\"1000000\",\"io.weight\":\"default 100\"}}", 0,
	      "memory.high=1000000;io.weight=default 100;", "unified written verbatim");
	check("{\"unified\":{\"../cgroup.procs\":\"1\"}}", 0, NULL, "unified key with .. refused");
	check("{\"unified\":{\"a/b\":\"1\"}}", 0, NULL, "unified key with / refused");
	check("{\"unified\":{\"\":\"1\"}}", 0, NULL, "empty unified key refused");
	check("{\"memory\":{\"limit\":\"x\"}}", 0, NULL, "bad type refused by the parser");
	check("{\"memory\":", 0, NULL, "truncated JSON refused");
}

static void test_proto_helpers(void)
{
	runk_error_t err = NULL;
	struct proto_json *json = proto_json_new();
	long long pids[] = {1, 5, 42};
	const char *text = "{\"args\":[\"sh\",\"-c\",\"x\"],\"n\":1.5e3,\"t\":true,\"z\":null,"
			   "\"o\":{\"k\":-7}}";
	yajl_val v = proto_json_parse(text, strlen(text), &err);
	char *out = NULL;
	size_t len;

	ok(v != NULL, "parse a nested object");
	ok(proto_json_value_text(v, &out, &len, &err) == 0, "regenerate it");
	is_str(out, text, "regenerated text is identical");
	free(out);
	proto_json_add_int_array(json, "pids", pids, 3);
	proto_json_add_int_array(json, "none", NULL, 0);
	proto_json_add_value(json, "process", v);
	ok(proto_json_finish(json, &out, &len, &err) == 0,
	   "build an object with arrays and values");
	is_str(out,
	       "{\"pids\":[1,5,42],\"none\":[],\"process\":{\"args\":[\"sh\",\"-c\",\"x\"],"
	       "\"n\":1.5e3,\"t\":true,\"z\":null,\"o\":{\"k\":-7}}}",
	       "arrays and nested values as JSON");
	free(out);
	yajl_tree_free(v);
}

int main(void)
{
	test_shares();
	test_swap();
	test_convert();
	test_proto_helpers();
	return test_done();
}
