/*
 * The guest agent's container-setup helpers that need no VM: seccomp
 * action/operator/architecture/flag names, capability names, mount options
 * and propagation, mount destinations, rlimit and personality names, and the
 * checks process_plan_make makes before a process exists.
 */
#include "config.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>

#include "agent.h"
#include "ocispec.h"
#include "testlib.h"

static void test_seccomp_names(void)
{
	runk_error_t err = NULL;
	uint32_t a;
	int op, attr;

	ok(seccomp_action_parse("SCMP_ACT_ERRNO", false, 0, &a, NULL) == 0 &&
		   a == SCMP_ACT_ERRNO(EPERM),
	   "SCMP_ACT_ERRNO without errnoRet is EPERM");
	ok(seccomp_action_parse("SCMP_ACT_ERRNO", true, 38, &a, NULL) == 0 &&
		   a == SCMP_ACT_ERRNO(ENOSYS),
	   "SCMP_ACT_ERRNO with errnoRet 38 is ENOSYS");
	ok(seccomp_action_parse("SCMP_ACT_TRACE", false, 0, &a, NULL) == 0 &&
		   a == SCMP_ACT_TRACE(EPERM),
	   "SCMP_ACT_TRACE");
	ok(seccomp_action_parse("SCMP_ACT_KILL", false, 0, &a, NULL) == 0 &&
		   a == SCMP_ACT_KILL_THREAD,
	   "SCMP_ACT_KILL kills the thread");
	ok(seccomp_action_parse("SCMP_ACT_KILL_PROCESS", false, 0, &a, NULL) == 0 &&
		   a == SCMP_ACT_KILL_PROCESS,
	   "SCMP_ACT_KILL_PROCESS");
	ok(seccomp_action_parse("SCMP_ACT_ALLOW", false, 0, &a, NULL) == 0 && a == SCMP_ACT_ALLOW,
	   "SCMP_ACT_ALLOW");
	ok(seccomp_action_parse("SCMP_ACT_LOG", false, 0, &a, NULL) == 0 && a == SCMP_ACT_LOG,
	   "SCMP_ACT_LOG");
	ok(seccomp_action_parse("SCMP_ACT_TRAP", false, 0, &a, NULL) == 0 && a == SCMP_ACT_TRAP,
	   "SCMP_ACT_TRAP");
	ok(seccomp_action_parse("SCMP_ACT_NOTIFY", false, 0, &a, &err) < 0 && err &&
		   strstr(err->msg, "SCMP_ACT_NOTIFY is not supported"),
	   "SCMP_ACT_NOTIFY refused with a clear error");
	runk_error_free(&err);
	ok(seccomp_action_parse("SCMP_ACT_BOGUS", false, 0, &a, &err) < 0 && err &&
		   strstr(err->msg, "unknown seccomp action `SCMP_ACT_BOGUS`"),
	   "an unknown action is named");
	runk_error_free(&err);
	ok(seccomp_action_parse("SCMP_ACT_ERRNO", true, 70000, &a, NULL) < 0,
	   "errnoRet beyond 16 bits is refused");

	ok(seccomp_op_parse("SCMP_CMP_NE", &op) == 0 && op == SCMP_CMP_NE, "SCMP_CMP_NE");
	ok(seccomp_op_parse("SCMP_CMP_LT", &op) == 0 && op == SCMP_CMP_LT, "SCMP_CMP_LT");
	ok(seccomp_op_parse("SCMP_CMP_LE", &op) == 0 && op == SCMP_CMP_LE, "SCMP_CMP_LE");
	ok(seccomp_op_parse("SCMP_CMP_EQ", &op) == 0 && op == SCMP_CMP_EQ, "SCMP_CMP_EQ");
	ok(seccomp_op_parse("SCMP_CMP_GE", &op) == 0 && op == SCMP_CMP_GE, "SCMP_CMP_GE");
	ok(seccomp_op_parse("SCMP_CMP_GT", &op) == 0 && op == SCMP_CMP_GT, "SCMP_CMP_GT");
	ok(seccomp_op_parse("SCMP_CMP_MASKED_EQ", &op) == 0 && op == SCMP_CMP_MASKED_EQ,
	   "SCMP_CMP_MASKED_EQ");
	ok(seccomp_op_parse("SCMP_CMP_XX", &op) < 0, "an unknown operator");

	ok(seccomp_arch_parse("SCMP_ARCH_X86_64") == SCMP_ARCH_X86_64, "SCMP_ARCH_X86_64");
	ok(seccomp_arch_parse("SCMP_ARCH_X86") == SCMP_ARCH_X86, "SCMP_ARCH_X86");
	ok(seccomp_arch_parse("SCMP_ARCH_X32") == SCMP_ARCH_X32, "SCMP_ARCH_X32");
	ok(seccomp_arch_parse("SCMP_ARCH_AARCH64") == SCMP_ARCH_AARCH64, "SCMP_ARCH_AARCH64");
	ok(seccomp_arch_parse("SCMP_ARCH_PDP11") == 0, "an unknown architecture");
	ok(seccomp_arch_parse("x86_64") == 0, "a name without the prefix");

	ok(seccomp_flag_parse("SECCOMP_FILTER_FLAG_TSYNC", &attr) == 0 &&
		   attr == SCMP_FLTATR_CTL_TSYNC,
	   "SECCOMP_FILTER_FLAG_TSYNC");
	ok(seccomp_flag_parse("SECCOMP_FILTER_FLAG_LOG", &attr) == 0 && attr == SCMP_FLTATR_CTL_LOG,
	   "SECCOMP_FILTER_FLAG_LOG");
	ok(seccomp_flag_parse("SECCOMP_FILTER_FLAG_SPEC_ALLOW", &attr) == 0 &&
		   attr == SCMP_FLTATR_CTL_SSB,
	   "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
	ok(seccomp_flag_parse("SECCOMP_FILTER_FLAG_NEW_LISTENER", &attr) < 0,
	   "the listener flag is not accepted");
}

static void test_caps(void)
{
	int v;

	ok(cap_parse_name("CAP_CHOWN", &v) == 0 && v == 0, "CAP_CHOWN is 0");
	ok(cap_parse_name("CAP_SYS_ADMIN", &v) == 0 && v == 21, "CAP_SYS_ADMIN is 21");
	ok(cap_parse_name("cap_net_bind_service", &v) == 0 && v == 10, "lower case is accepted");
	ok(cap_parse_name("CAP_BOGUS", &v) < 0, "CAP_BOGUS is unknown");
	ok(cap_parse_name("SYS_ADMIN", &v) < 0, "a name without CAP_ is unknown");
	ok(cap_parse_name("CAP_21", &v) < 0, "a number is not a name");
	ok(cap_parse_name("", &v) < 0, "the empty name");
}

static struct oci_config *parse(const char *json)
{
	char *perr = NULL;
	struct oci_config *cfg = oci_config_parse_data(json, strlen(json), &perr);

	free(perr);
	return cfg;
}

/* Flags, propagation and data of mounts[0] in a config with that one mount. */
static int opts_of(const char *options, struct mount_opts *o)
{
	char json[1024];
	struct oci_config *cfg;
	runk_error_t err = NULL;
	int r;

	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":"
		 "\"/m\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[%s]}]}",
		 options);
	cfg = parse(json);
	if (cfg == NULL)
		return -2;
	r = mount_opts_parse(cfg->mounts[0], o, &err);
	runk_error_free(&err);
	oci_config_free(cfg);
	return r;
}

static void test_mount_options(void)
{
	struct mount_opts o;

	ok(opts_of("\"ro\",\"nosuid\",\"nodev\",\"noexec\",\"mode=755\",\"size=1m\"", &o) == 0 &&
		   o.flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) && !o.bind &&
		   strcmp(o.data, "mode=755,size=1m") == 0,
	   "flags apart from the filesystem's data");
	mount_opts_free(&o);
	ok(opts_of("\"ro\",\"rw\",\"relatime\",\"norelatime\",\"strictatime\"", &o) == 0 &&
		   o.flags == MS_STRICTATIME && o.data[0] == '\0',
	   "a later option clears an earlier one");
	mount_opts_free(&o);
	ok(opts_of("\"rbind\",\"rslave\"", &o) == 0 && o.bind && o.recursive &&
		   o.propagation == (MS_SLAVE | MS_REC),
	   "rbind + rslave");
	mount_opts_free(&o);
	ok(opts_of("\"bind\",\"private\"", &o) == 0 && o.bind && !o.recursive &&
		   o.propagation == MS_PRIVATE,
	   "bind + private");
	mount_opts_free(&o);
	ok(opts_of("\"idmap\"", &o) < 0, "idmap is refused");
	ok(opts_of("\"tmpcopyup\",\"nosuid\"", &o) == 0 && o.tmpcopyup && o.flags == MS_NOSUID &&
		   o.data[0] == '\0',
	   "tmpcopyup on a tmpfs is a flag, not tmpfs data");
	mount_opts_free(&o);
	ok(propagation_parse("rshared") == (MS_SHARED | MS_REC), "rshared");
	ok(propagation_parse("runbindable") == (MS_UNBINDABLE | MS_REC), "runbindable");
	ok(propagation_parse("slave") == MS_SLAVE, "slave");
	ok(propagation_parse("rw") == 0, "rw is not a propagation");

	ok(destination_check("/etc/hosts", NULL) == 0, "an absolute destination");
	ok(destination_check("etc/hosts", NULL) < 0, "a relative destination");
	ok(destination_check("/a/../../etc", NULL) < 0, "a destination with ..");
	ok(destination_check("/a/..b/c", NULL) == 0, "..b is a name");
}

static void test_process_plan(void)
{
	static const char head[] = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},";
	struct {
		const char *json, *error;
	} cases[] = {
		{"\"process\":{\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":10,"
		 "\"soft\":5}],\"capabilities\":{\"bounding\":[\"CAP_KILL\"]}}}",
		 NULL},
		{"\"process\":{\"cwd\":\"/\",\"capabilities\":{\"effective\":[\"CAP_KILL\","
		 "\"CAP_NOPE\"]}}}",
		 "process.capabilities.effective[1]: unknown capability `CAP_NOPE`"},
		{"\"process\":{\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"hard\":1,"
		 "\"soft\":1}]}}",
		 "process.rlimits[0].type: unknown rlimit `RLIMIT_FOO`"},
		{"\"process\":{\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,"
		 "\"soft\":2}]}}",
		 "process.rlimits[0]: soft limit 2 above the hard limit 1"},
		{"\"process\":{\"cwd\":\"/\",\"oomScoreAdj\":1001}}",
		 "process.oomScoreAdj: 1001 is not in -1000..1000"},
		{"\"process\":{\"cwd\":\"/\"},\"linux\":{\"personality\":{\"domain\":\"BSD\"}}}",
		 "linux.personality.domain: unknown domain `BSD`"},
		{"\"process\":{\"cwd\":\"/\"},\"linux\":{\"seccomp\":{\"defaultAction\":"
		 "\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}}}",
		 "linux.seccomp.architectures[0]: unknown `SCMP_ARCH_VAX`"},
		{"\"process\":{\"cwd\":\"/\"},\"linux\":{\"seccomp\":{\"defaultAction\":"
		 "\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":"
		 "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}"
		 "}}",
		 "linux.seccomp.syscalls[0].args[0].index: 6 is not an argument index (0-5)"},
		{"\"process\":{\"cwd\":\"/\"},\"linux\":{\"seccomp\":{\"defaultAction\":"
		 "\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":"
		 "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XX\"}]}]}"
		 "}}",
		 "linux.seccomp.syscalls[0].args[0].op: unknown operator `SCMP_CMP_XX`"},
		{"\"process\":{\"cwd\":\"/\"},\"linux\":{\"seccomp\":{\"defaultAction\":"
		 "\"SCMP_ACT_ERRNO\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],\"syscalls\":[{"
		 "\"names\":"
		 "[\"read\",\"no_such_call\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
		 "\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":2,\"op\":"
		 "\"SCMP_CMP_EQ\"}]},{\"names\":[\"write\"],\"action\":\"SCMP_ACT_ERRNO\"}]}}}",
		 NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char json[2048];
		struct oci_config *cfg;
		struct process_plan plan;
		runk_error_t err = NULL;
		int r;

		snprintf(json, sizeof(json), "%s%s", head, cases[i].json);
		cfg = parse(json);
		if (cfg == NULL) {
			ok(0, "case %zu parses", i);
			continue;
		}
		r = process_plan_make(cfg->process, cfg->linux, &plan, &err);
		if (cases[i].error == NULL) {
			ok(r == 0, "case %zu is accepted%s%s", i, err ? ": " : "",
			   err ? err->msg : "");
			process_plan_free(&plan);
		} else {
			ok(r < 0 && err && strcmp(err->msg, cases[i].error) == 0,
			   "case %zu: %s (got: %s)", i, cases[i].error, err ? err->msg : "success");
		}
		runk_error_free(&err);
		oci_config_free(cfg);
	}
	ok(rlimit_parse("RLIMIT_NOFILE") == RLIMIT_NOFILE, "RLIMIT_NOFILE");
	ok(rlimit_parse("RLIMIT_RTTIME") == RLIMIT_RTTIME, "RLIMIT_RTTIME");
	ok(rlimit_parse("NOFILE") < 0, "a name without RLIMIT_");
	{
		unsigned long per;

		ok(personality_parse("LINUX32", &per) == 0 && per == PER_LINUX32, "LINUX32");
		ok(personality_parse("LINUX", &per) == 0 && per == PER_LINUX, "LINUX");
	}
}

int main(void)
{
	test_seccomp_names();
	test_caps();
	test_mount_options();
	test_process_plan();
	return test_done();
}
