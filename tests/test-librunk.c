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
#include "runkconf.h"
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

int main(void)
{
	test_ids();
	test_signals();
	test_start_time();
	test_conf();
	test_log_json();
	test_cli();
	test_guest_config_paths();
	return test_done();
}
