/*
 * The guest agent's pure helpers: OCI linux.resources -> cgroup2 files (the
 * conversions runc's v2 manager makes), the resources parser wrapper, and
 * the proto JSON helpers the new requests use (arrays, nested values), and
 * a container's namespaces: config.json's, and a pod member's "join".
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

/* The create request's "sandbox" and "join": NULL if accepted, else the error's text. */
static char *join_error(const char *json, const char **sandbox, int *join)
{
	runk_error_t err = NULL;
	yajl_val req = proto_json_parse(json, strlen(json), &err);
	char *text = NULL;
	static char id[64];

	*sandbox = NULL;
	*join = -1;
	if (req == NULL || ns_join_request(req, sandbox, join, &err) < 0)
		text = runk_error_text(err);
	/* *sandbox points into req: keep a copy past its free. */
	if (*sandbox) {
		snprintf(id, sizeof(id), "%s", *sandbox);
		*sandbox = id;
	}
	runk_error_free(&err);
	yajl_tree_free(req);
	return text;
}

static void check_join_refused(const char *json, const char *expected, const char *name)
{
	const char *sandbox;
	int join;
	char *got = join_error(json, &sandbox, &join);

	is_str(got, expected, "%s", name);
	free(got);
}

static void test_join_request(void)
{
	const char *sandbox;
	int join;
	char *e;

	e = join_error("{\"op\":\"create\",\"id\":\"c1\"}", &sandbox, &join);
	ok(e == NULL && sandbox == NULL && join == 0, "no sandbox: a standalone container");
	free(e);
	e = join_error("{\"sandbox\":\"sb\",\"join\":[\"network\",\"ipc\",\"uts\",\"pid\"]}",
		       &sandbox, &join);
	ok(e == NULL && sandbox && strcmp(sandbox, "sb") == 0 &&
		   join == (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID),
	   "all four joinable types");
	free(e);
	e = join_error("{\"sandbox\":\"sb\",\"join\":[\"uts\"]}", &sandbox, &join);
	ok(e == NULL && join == CLONE_NEWUTS, "one type");
	free(e);
	e = join_error("{\"sandbox\":\"sb\",\"join\":[]}", &sandbox, &join);
	ok(e == NULL && sandbox && join == 0, "an empty join: a member that joins nothing");
	free(e);
	e = join_error("{\"sandbox\":\"sb\"}", &sandbox, &join);
	ok(e == NULL && sandbox && join == 0, "sandbox without join");
	free(e);

	check_join_refused("{\"join\":[\"network\"]}", "\"join\" needs \"sandbox\"",
			   "join without sandbox");
	check_join_refused("{\"sandbox\":\"sb\",\"join\":\"network\"}", "\"join\" is not an array",
			   "join as a string");
	check_join_refused("{\"sandbox\":\"sb\",\"join\":{\"network\":true}}",
			   "\"join\" is not an array", "join as an object");
	check_join_refused("{\"sandbox\":\"sb\",\"join\":[\"network\",7]}",
			   "join[1] is not a string", "a number in join");
	check_join_refused("{\"sandbox\":\"sb\",\"join\":[\"mount\"]}",
			   "join[0]: `mount` is not network, ipc, uts or pid",
			   "mount cannot be joined");
	check_join_refused("{\"sandbox\":\"sb\",\"join\":[\"user\"]}",
			   "join[0]: `user` is not network, ipc, uts or pid",
			   "user cannot be joined");
	check_join_refused("{\"sandbox\":\"sb\",\"join\":[\"net\"]}",
			   "join[0]: `net` is not network, ipc, uts or pid",
			   "the /proc name is not the OCI type");
	check_join_refused("{\"sandbox\":\"sb\",\"join\":[\"ipc\",\"uts\",\"ipc\"]}",
			   "join[2]: `ipc` listed twice", "a duplicate");
	check_join_refused("{\"sandbox\":7,\"join\":[]}", "\"sandbox\" is not a string",
			   "sandbox as a number");
	check_join_refused("{\"sandbox\":\"../sb\"}", "sandbox: invalid container id",
			   "sandbox with a slash");
	check_join_refused("{\"sandbox\":\"\"}", "sandbox: invalid container id", "empty sandbox");
}

/* ns_config_flags of a config.json text: the flags, or -1 with *error set. */
static int config_flags(const char *json, int join, char **error)
{
	runk_error_t err = NULL;
	char *parse_err = NULL;
	struct oci_config *cfg = oci_config_parse_data(json, strlen(json), &parse_err);
	int flags = -1;

	*error = NULL;
	if (cfg == NULL) {
		*error = parse_err;
		return -1;
	}
	if (ns_config_flags(cfg, join, &flags, &err) < 0) {
		*error = runk_error_text(err);
		flags = -1;
	}
	runk_error_free(&err);
	oci_config_free(cfg);
	return flags;
}

#define NS_CONFIG(types) "{\"ociVersion\":\"1.0.2\",\"linux\":{\"namespaces\":[" types "]}}"

static void test_config_flags(void)
{
	const char *pod = NS_CONFIG("{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
				    "{\"type\":\"uts\"},{\"type\":\"mount\"}");
	int all = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
	char *e;

	ok(config_flags(pod, 0, &e) == all && e == NULL, "a standalone container's namespaces");
	ok(config_flags(pod, CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID, &e) ==
			   all &&
		   e == NULL,
	   "a member joining all four still has them (joined, not made)");
	ok(config_flags(NS_CONFIG(""), 0, &e) == CLONE_NEWNS, "always a mount namespace");
	ok(config_flags(NS_CONFIG("{\"type\":\"pid\"}"), CLONE_NEWIPC, &e) < 0,
	   "join of an unlisted type");
	is_str(e, "join: linux.namespaces has no `ipc` namespace", "names the type");
	free(e);
	ok(config_flags(NS_CONFIG("{\"type\":\"network\"},{\"type\":\"user\"}"), CLONE_NEWNET, &e) <
		   0,
	   "join with a user namespace of its own");
	is_str(e,
	       "join: a pod member with its own user namespace cannot join the sandbox's "
	       "namespaces",
	       "says why");
	free(e);
	ok(config_flags(NS_CONFIG("{\"type\":\"user\"}"), 0, &e) == (CLONE_NEWNS | CLONE_NEWUSER),
	   "a user namespace without join is fine");
	ok(config_flags(NS_CONFIG("{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}"),
			CLONE_NEWNET, &e) < 0,
	   "a path is refused, joined or not");
	is_str(e,
	       "linux.namespaces[0].path: the network namespace `/proc/1/ns/net` cannot be "
	       "joined inside the VM",
	       "names the path");
	free(e);
	ok(config_flags(NS_CONFIG("{\"type\":\"ipc\"},{\"type\":\"ipc\"}"), 0, &e) < 0,
	   "a type listed twice");
	is_str(e, "linux.namespaces[1]: `ipc` listed twice", "names the index");
	free(e);
	ok(config_flags(NS_CONFIG("{\"type\":\"time\"}"), 0, &e) < 0, "an unknown type");
	is_str(e, "linux.namespaces[0]: unknown namespace type `time`", "names it");
	free(e);
	ok(ns_flag("network") == CLONE_NEWNET && ns_flag("mount") == CLONE_NEWNS &&
		   ns_flag("net") == 0 && ns_flag("") == 0,
	   "OCI type names");
}

int main(void)
{
	test_shares();
	test_swap();
	test_convert();
	test_proto_helpers();
	test_join_request();
	test_config_flags();
	return test_done();
}
