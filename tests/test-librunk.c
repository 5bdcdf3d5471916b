/* Unit tests for librunk's small pieces: ids, signals, runk.conf, the log format, CLI flags,
 * the guest's config.json without host namespace paths. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "id.h"
#include "log.h"
#include "network/network.h"
#include "pod.h"
#include "runkconf.h"
#include "vmsize.h"
#include "testlib.h"
#include "util.h"

static void test_ids(void)
{
	static const char *const good[] = {"a",	  "abc", "A1",	"0",   "a.b",
					   "a_b", "a+b", "a-b", "x..y"};
	static const char *const bad[] = {"",	".",  "..",  "/",    "a/b", "../x", "-a",
					  "_a", ".a", "a b", "a\tb", "a:b", "a*",   "é"};
	char long_id[RUNK_ID_MAX + 2];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cleanup_error runk_error_t err = NULL;

		ok(runk_id_validate(good[i], &err) == 0, "id `%s` is accepted", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cleanup_error runk_error_t err = NULL;

		ok(runk_id_validate(bad[i], &err) < 0 && err != NULL, "id `%s` is refused", bad[i]);
	}
	memset(long_id, 'a', sizeof(long_id));
	long_id[RUNK_ID_MAX] = '\0';
	{
		cleanup_error runk_error_t err = NULL;

		ok(runk_id_validate(long_id, &err) == 0, "an id of exactly 1024 bytes is accepted");
	}
	long_id[RUNK_ID_MAX] = 'a';
	long_id[RUNK_ID_MAX + 1] = '\0';
	{
		cleanup_error runk_error_t err = NULL;

		ok(runk_id_validate(long_id, &err) < 0, "an id of 1025 bytes is refused");
		is_str(err ? err->msg : NULL, "container id is longer than 1024 bytes",
		       "the message says why");
	}
	{
		cleanup_error runk_error_t err = NULL;

		runk_id_validate("a/b", &err);
		is_str(err ? err->msg : NULL, "invalid character `/` in the container id `a/b`",
		       "the message names the character and the id");
	}
}

static void test_signals(void)
{
	static const struct {
		const char *text;
		int signo;
	} cases[] = {{"KILL", SIGKILL}, {"SIGKILL", SIGKILL},  {"9", SIGKILL},
		     {"term", SIGTERM}, {"SIGTERM", SIGTERM},  {"15", SIGTERM},
		     {"USR1", SIGUSR1}, {"sigwinch", SIGWINCH}};
	static const char *const bad[] = {"", "0", "-1", "65", "SIGNOPE", "9x", "KILLL"};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_error runk_error_t err = NULL;
		int signo = 0;

		ok(signal_parse(cases[i].text, &signo, &err) == 0 && signo == cases[i].signo,
		   "signal `%s` is %d", cases[i].text, cases[i].signo);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cleanup_error runk_error_t err = NULL;
		int signo = 0;

		ok(signal_parse(bad[i], &signo, &err) < 0, "signal `%s` is refused", bad[i]);
	}
}

static void test_start_time(void)
{
	cleanup_error runk_error_t err = NULL;
	uint64_t first = 0, second = 0;

	ok(proc_start_time(getpid(), &first, &err) == 0 && first > 0, "our own start time is read");
	usleep(20000);
	ok(proc_start_time(getpid(), &second, &err) == 0 && first == second,
	   "the start time does not change while we run");
	ok(proc_is_same(getpid(), first), "proc_is_same knows us");
	ok(!proc_is_same(getpid(), first + 1), "a different start time is another process");
	ok(!proc_is_same(0, first), "pid 0 is never alive");
}

/* Write text to a temp runk.conf and load it. */
static int load_conf(const char *text, struct runk_conf *conf, runk_error_t *err, char *path,
		     size_t path_len)
{
	int fd;

	snprintf(path, path_len, "/tmp/runk-test-conf.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0)
		abort();
	close(fd);
	return runk_conf_load(path, conf, err);
}

static void test_conf(void)
{
	static const struct {
		const char *text;
		const char *error; /* after "<path>:" */
	} bad[] = {
		{"[hypervisor]\nbogus = 1\n", "2: [hypervisor] bogus: unknown key"},
		{"[nosuch]\npath = x\n", "2: [nosuch] path: unknown key"},
		{"[hypervisor]\n\n\ndefault_vcpus = -1\n",
		 "4: [hypervisor] default_vcpus: expected a decimal number of CPUs such as 1 or "
		 "0.5"},
		{"[hypervisor]\ndefault_vcpus = 1.2.3\n",
		 "2: [hypervisor] default_vcpus: expected a decimal number of CPUs such as 1 or "
		 "0.5"},
		{"[hypervisor]\ndefault_maxvcpus = many\n",
		 "2: [hypervisor] default_maxvcpus: expected a non-negative integer"},
		{"[agent]\ndebug_console = 2\n",
		 "2: [agent] debug_console: expected true or false"},
		{"[hypervisor]\ndefault_memory = 12MB\n",
		 "2: [hypervisor] default_memory: expected a non-negative integer"},
		{"[runtime]\ndebug = maybe\n", "2: [runtime] debug: expected true or false"},
	};
	char path[64];

	{
		struct runk_conf conf;
		cleanup_error runk_error_t err = NULL;

		ok(load_conf("[hypervisor]\nkernel = /k\naccel = tcg\ndefault_memory = 512\n"
			     "[agent]\ntimeout = 9\n",
			     &conf, &err, path, sizeof(path)) == 0,
		   "a good runk.conf loads");
		is_str(conf.kernel, "/k", "kernel is read");
		is_str(conf.accel, "tcg", "accel is read");
		ok(conf.default_memory_mib == 512, "default_memory is read");
		ok(conf.agent_timeout_s == 9, "agent timeout is read");
		is_str(conf.default_vcpus, "1", "unset keys keep their defaults");
		runk_conf_release(&conf);
		unlink(path);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct runk_conf conf;
		cleanup_error runk_error_t err = NULL;
		cleanup_free char *expected = NULL;

		ok(load_conf(bad[i].text, &conf, &err, path, sizeof(path)) < 0,
		   "bad runk.conf %zu is refused", i);
		if (asprintf(&expected, "%s:%s", path, bad[i].error) < 0)
			abort();
		is_str(err ? err->msg : NULL, expected, "and the error names file, line and key");
		runk_conf_release(&conf);
		unlink(path);
	}
	{
		struct runk_conf conf;
		cleanup_error runk_error_t err = NULL;

		ok(load_conf("[hypervisor]\naccel = xen\n", &conf, &err, path, sizeof(path)) < 0,
		   "an unknown accelerator is refused");
		runk_conf_release(&conf);
		unlink(path);
	}
}

static void test_log_json(void)
{
	char path[] = "/tmp/runk-test-log.XXXXXX";
	int fd = mkstemp(path);
	cleanup_error runk_error_t err = NULL;
	cleanup_free char *text = NULL;

	close(fd);
	ok(runk_log_init(path, RUNK_LOG_JSON, false, &err) == 0, "the log opens");
	log_error("quote \" backslash \\ newline \n tab \t end");
	log_debug("not shown without --debug");
	ok(read_file(path, 4096, &text, NULL, &err) == 0, "the log is read back");
	ok(text && strncmp(text,
			   "{\"level\":\"error\",\"msg\":\"quote \\\" backslash \\\\ newline "
			   "\\n tab \\t end\",\"time\":\"",
			   strlen("{\"level\":\"error\",\"msg\":\"quote \\\" backslash \\\\ "
				  "newline "
				  "\\n tab \\t end\",\"time\":\"")) == 0,
	   "a JSON log line is level, msg, time with JSON escapes");
	ok(text && strchr(text, '\n') == strrchr(text, '\n'), "one line only: debug was filtered");
	unlink(path);
}

static const struct cli_option test_options[] = {
	{"bundle", 'b', CLI_STRING, ""},
	{"detach", 'd', CLI_BOOL, ""},
	{"env", 'e', CLI_LIST, ""},
	{0},
};

static const struct cli_command test_command = {
	.name = "test",
	.usage = "<id> [args]",
	.summary = "",
	.options = test_options,
	.min_args = 1,
	.max_args = -1,
};

static void test_cli(void)
{
	char *argv[] = {"test", "-b", "B",  "--env", "A=1", "-e",
			"B=2",	"-d", "id", "ls",    "-l",  NULL};
	char *argv_eq[] = {"test", "--bundle=X", "id", NULL};
	char *argv_none[] = {"test", "-d", NULL};
	struct cli_parsed p;
	cleanup_error runk_error_t err = NULL;
	size_t n = 0;
	const char *const *env;

	ok(cli_parse(&test_command, 11, argv, &p, &err) == 0, "flags parse");
	is_str(cli_string(&p, "bundle"), "B", "-b value");
	ok(cli_bool(&p, "detach"), "-d");
	env = cli_list(&p, "env", &n);
	ok(n == 2 && strcmp(env[0], "A=1") == 0 && strcmp(env[1], "B=2") == 0,
	   "a repeated flag keeps every value");
	ok(p.argc == 3 && strcmp(p.argv[0], "id") == 0 && strcmp(p.argv[2], "-l") == 0,
	   "parsing stops at the first argument: -l goes to the workload");
	cli_parsed_release(&p);

	ok(cli_parse(&test_command, 3, argv_eq, &p, &err) == 0, "--flag=value parses");
	is_str(cli_string(&p, "bundle"), "X", "--bundle=X");
	cli_parsed_release(&p);

	ok(cli_parse(&test_command, 2, argv_none, &p, &err) < 0, "a missing argument is refused");
	is_str(err ? err->msg : NULL, "test: expects <id> [args]", "and the usage is shown");
	cli_parsed_release(&p);
}

static void test_guest_config_paths(void)
{
	static const char in[] =
		"{\"hostname\":\"h\",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},"
		"{\"type\":\"network\",\"path\":\"/proc/9/ns/net\"},{\"type\":\"ipc\","
		"\"path\":\"/proc/9/ns/ipc\"},{\"type\":\"uts\",\"path\":\"/proc/9/ns/uts\"}],"
		"\"path\":\"kept\"}}";
	static const char *const pod[] = {"ipc", "uts", NULL};
	cleanup_free char *net = NULL, *both = NULL;
	size_t len;

	ok(network_guest_config(in, strlen(in), &net, &len, NULL) == 0 &&
		   strstr(net, "/proc/9/ns/net") == NULL && strstr(net, "/proc/9/ns/ipc") &&
		   strstr(net, "/proc/9/ns/uts") && len == strlen(net),
	   "the guest config loses the network namespace's path only");
	ok(guest_config_without_paths(net, strlen(net), pod, &both, &len, NULL) == 0 &&
		   strstr(both, "/proc/9/ns/") == NULL && strstr(both, "\"type\":\"ipc\"") &&
		   strstr(both, "\"path\":\"kept\"") && strstr(both, "\"hostname\":\"h\""),
	   "ipc and uts lose their paths; the types and other keys stay");
}

static struct oci_config *config_of(const char *annotations, const char *namespaces,
				    const char *resources)
{
	cleanup_free char *json = NULL, *perr = NULL;
	struct oci_config *cfg;

	if (asprintf(&json,
		     "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
		     "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},\"annotations\":{%s},"
		     "\"linux\":{\"namespaces\":[%s],\"resources\":{%s}}}",
		     annotations, namespaces, resources) < 0)
		abort();
	cfg = oci_config_parse_data(json, strlen(json), &perr);
	if (cfg == NULL)
		printf("# %s: %s\n", json, perr);
	return cfg;
}

static void test_pod_roles(void)
{
	static const struct {
		const char *annotations;
		enum pod_role role;
		const char *sandbox;
		const char *error;
	} cases[] = {
		{"", POD_NONE, NULL, NULL},
		{"\"io.kubernetes.cri.container-type\":\"sandbox\"", POD_SANDBOX, NULL, NULL},
		{"\"io.kubernetes.cri-o.ContainerType\":\"sandbox\"", POD_SANDBOX, NULL, NULL},
		{"\"io.kubernetes.cri.container-type\":\"container\","
		 "\"io.kubernetes.cri.sandbox-id\":\"sb1\"",
		 POD_MEMBER, "sb1", NULL},
		{"\"io.kubernetes.cri-o.ContainerType\":\"container\","
		 "\"io.kubernetes.cri-o.SandboxID\":\"sb2\"",
		 POD_MEMBER, "sb2", NULL},
		/* containerd's sandbox names itself: it is the sandbox, not a member. */
		{"\"io.kubernetes.cri.container-type\":\"container\","
		 "\"io.kubernetes.cri.sandbox-id\":\"me\"",
		 POD_SANDBOX, NULL, NULL},
		{"\"io.kubernetes.cri.container-type\":\"container\"", POD_NONE, NULL,
		 "annotation `io.kubernetes.cri.sandbox-id`: missing for a pod's container"},
		{"\"io.kubernetes.cri.container-type\":\"podling\"", POD_NONE, NULL,
		 "annotation `io.kubernetes.cri.container-type`: unknown container type `podling`"},
		{"\"io.kubernetes.cri.container-type\":\"container\","
		 "\"io.kubernetes.cri.sandbox-id\":\"../x\"",
		 POD_NONE, NULL, "annotation `io.kubernetes.cri.sandbox-id`"},
		/* podman's pods: CRI-O's keys, but each container stays a VM of its own. */
		{"\"io.kubernetes.cri-o.ContainerType\":\"container\","
		 "\"io.kubernetes.cri-o.SandboxID\":\"infra\",\"io.container.manager\":\"libpod\"",
		 POD_NONE, NULL, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct oci_config *cfg = config_of(cases[i].annotations, "", "");
		cleanup_error runk_error_t err = NULL;
		struct pod_info pod;
		int ret = cfg ? pod_info_of(cfg, "me", &pod, &err) : -1;

		if (cases[i].error) {
			ok(ret < 0 && err &&
				   strncmp(err->msg, cases[i].error, strlen(cases[i].error)) == 0,
			   "pod annotations %zu refused: %s", i, err ? err->msg : "(no error)");
		} else {
			ok(ret == 0 && pod.role == cases[i].role, "pod annotations %zu: role %d", i,
			   cases[i].role);
			is_str(ret == 0 ? pod.sandbox_id : NULL, cases[i].sandbox,
			       "pod annotations %zu: sandbox id", i);
		}
		oci_config_free(cfg);
	}
}

static void test_pod_member_plan(void)
{
	struct oci_config *sandbox = config_of(
		"", "{\"type\":\"ipc\",\"path\":\"/run/ipcns/p1\"},{\"type\":\"uts\"}", "");
	static const struct {
		const char *namespaces;
		const char *join; /* space-separated, or the start of the error */
		bool good;
	} cases[] = {
		{"{\"type\":\"pid\"},{\"type\":\"mount\"}", "", true},
		/* containerd: the sandbox's PID is its shim's; CRI-O: the pinned path. */
		{"{\"type\":\"network\",\"path\":\"/proc/42/ns/net\"},{\"type\":\"ipc\","
		 "\"path\":\"/run/ipcns/p1\"},{\"type\":\"uts\",\"path\":\"/proc/42/ns/uts\"},"
		 "{\"type\":\"pid\",\"path\":\"/proc/42/ns/pid\"}",
		 "network ipc uts pid", true},
		{"{\"type\":\"ipc\",\"path\":\"/proc/43/ns/ipc\"}",
		 "linux.namespaces[0].path: `/proc/43/ns/ipc` is not the ipc namespace of the pod "
		 "sandbox `sb`",
		 false},
		{"{\"type\":\"uts\",\"path\":\"/proc/42/ns/ipc\"}",
		 "linux.namespaces[0].path: `/proc/42/ns/ipc` is not the uts namespace", false},
		{"{\"type\":\"mount\",\"path\":\"/proc/42/ns/mnt\"}",
		 "linux.namespaces[0].path: a pod's container shares only", false},
		{"{\"type\":\"ipc\",\"path\":\"/proc/42/ns/ipc\"},{\"type\":\"ipc\",\"path\":"
		 "\"/run/ipcns/p1\"}",
		 "linux.namespaces[1]: `ipc` listed twice", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct oci_config *member = config_of("", cases[i].namespaces, "");
		cleanup_error runk_error_t err = NULL;
		cleanup_free char *json = NULL, *joined = NULL;
		struct pod_member_plan plan;
		size_t len = 0;
		FILE *f = open_memstream(&joined, &len);
		int ret;

		if (asprintf(&json, "{\"linux\":{\"namespaces\":[%s]}}", cases[i].namespaces) < 0)
			abort();
		ret = member && sandbox ? pod_member_plan_make(json, strlen(json), member, sandbox,
							       42, "sb", &plan, &err)
					: -1;
		for (size_t j = 0; ret == 0 && j < plan.n_join; j++)
			fprintf(f, "%s%s", j ? " " : "", plan.join[j]);
		fclose(f);
		if (cases[i].good) {
			is_str(ret == 0 ? joined : err->msg, cases[i].join,
			       "member namespaces %zu: joined", i);
			ok(ret == 0 && strstr(plan.guest_config, "/proc/42") == NULL &&
				   strstr(plan.guest_config, "/run/ipcns") == NULL &&
				   plan.join[plan.n_join] == NULL,
			   "member namespaces %zu: the guest config has no host path", i);
		} else {
			ok(ret < 0 && strncmp(err->msg, cases[i].join, strlen(cases[i].join)) == 0,
			   "member namespaces %zu refused: %s", i,
			   ret < 0 ? err->msg : "(accepted)");
		}
		if (ret == 0)
			pod_member_plan_release(&plan);
		oci_config_free(member);
	}
	oci_config_free(sandbox);
}

/* A pod sandbox's VM, sized exactly from containerd's annotations or left to its members. */
static void test_pod_sizing(void)
{
	struct runk_conf conf;
	cleanup_error runk_error_t err = NULL;
	char path[64];
	static const char sized[] = "\"io.kubernetes.cri.container-type\":\"sandbox\","
				    "\"io.kubernetes.cri.sandbox-cpu-quota\":\"150000\","
				    "\"io.kubernetes.cri.sandbox-cpu-period\":\"100000\","
				    "\"io.kubernetes.cri.sandbox-memory\":\"536870912\"";
	struct oci_config *cfg;
	struct vm_size size;
	struct pod_info pod;

	if (load_conf("[hypervisor]\ndefault_vcpus = 0.25\ndefault_maxvcpus = 8\n"
		      "default_memory = 256\npod_memory = 1024\n",
		      &conf, &err, path, sizeof(path)) < 0) {
		ok(0, "runk.conf for pod sizing loads");
		return;
	}
	unlink(path);
	cfg = config_of(sized, "", "");
	ok(cfg && pod_info_of(cfg, "sb", &pod, &err) == 0 &&
		   vm_size_compute(cfg, &conf, &pod, &size, &err) == 0,
	   "a sized pod's VM is computed");
	/* ceil(0.25 + 1.5) = 2, clamped to the host's CPUs. */
	ok(cfg && size.vcpus == (sysconf(_SC_NPROCESSORS_ONLN) < 2 ? 1u : 2u) &&
		   size.max_vcpus == 0,
	   "sized pod: ceil(0.25 + 150000/100000) vCPUs, none to come (%u, %u)", size.vcpus,
	   size.max_vcpus);
	ok(size.memory_mib == 256 + 512, "sized pod: default_memory + the pod's memory (%u MiB)",
	   size.memory_mib);
	vm_size_release(&size);
	oci_config_free(cfg);

	cfg = config_of("\"io.kubernetes.cri-o.ContainerType\":\"sandbox\"", "", "");
	ok(cfg && pod_info_of(cfg, "sb", &pod, &err) == 0 &&
		   vm_size_compute(cfg, &conf, &pod, &size, &err) == 0,
	   "a pod of unknown size is computed");
	ok(size.vcpus == 1 && (sysconf(_SC_NPROCESSORS_ONLN) < 2 || size.max_vcpus >= 2),
	   "unknown size: ceil(0.25) online, more present (%u of %u)", size.vcpus, size.max_vcpus);
	ok(size.memory_mib == 256 + 1024, "unknown size: default_memory + pod_memory (%u MiB)",
	   size.memory_mib);
	vm_size_release(&size);
	oci_config_free(cfg);

	cfg = config_of("\"io.kubernetes.cri.container-type\":\"sandbox\","
			"\"io.kubernetes.cri.sandbox-memory\":\"-5\"",
			"", "");
	{
		bool refused = cfg && pod_info_of(cfg, "sb", &pod, &err) == 0 &&
			       vm_size_compute(cfg, &conf, &pod, &size, &err) < 0;

		ok(refused && err && strstr(err->msg, "io.kubernetes.cri.sandbox-memory"),
		   "a bad pod memory annotation is named: %s", err ? err->msg : "(accepted)");
	}
	oci_config_free(cfg);
	runk_conf_release(&conf);
}

int main(void)
{
	test_ids();
	test_signals();
	test_start_time();
	test_conf();
	test_log_json();
	test_cli();
	test_guest_config_paths();
	test_pod_roles();
	test_pod_member_plan();
	test_pod_sizing();
	return test_done();
}
