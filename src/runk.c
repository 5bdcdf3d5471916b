/* runk: the entry point.  Global flags, then one subcommand from commands.h. */
#include "config.h"

#include <getopt.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_version.h>

#include "cleanup.h"
#include "commands.h"
#include "error.h"
#include "fault.h"
#include "log.h"

#define OCI_SPEC_VERSION "1.2.0"

static const struct cli_command *const commands[] = {
	&runk_cmd_create, &runk_cmd_start,   &runk_cmd_state,  &runk_cmd_kill, &runk_cmd_delete,
	&runk_cmd_run,	  &runk_cmd_exec,    &runk_cmd_ps,     &runk_cmd_list, &runk_cmd_pause,
	&runk_cmd_resume, &runk_cmd_events,  &runk_cmd_update, &runk_cmd_spec, &runk_cmd_features,
	&runk_cmd_check,  &runk_cmd_factory,
};

static void print_version(void)
{
	const struct scmp_version *seccomp = seccomp_version();

	printf("runk version %s\n", PACKAGE_VERSION);
	printf("commit: %s\n", GIT_COMMIT);
	printf("spec: %s\n", OCI_SPEC_VERSION);
	printf("yajl: %d.%d.%d\n", YAJL_MAJOR, YAJL_MINOR, YAJL_MICRO);
	if (seccomp)
		printf("libseccomp: %u.%u.%u\n", seccomp->major, seccomp->minor, seccomp->micro);
	if (fault_injection_built())
		printf("fault-injection: RUNK_FAULT\n"); /* a test build: never ship it */
}

static void print_help(void)
{
	printf("usage: runk [global flags] COMMAND [flags] [arguments]\n\n"
	       "runk runs OCI containers, each in its own lightweight virtual machine.\n\n"
	       "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("   %-10s %s\n", commands[i]->name, commands[i]->summary);
	printf("\nglobal flags:\n"
	       "   --root value            state directory (default: /run/runk)\n"
	       "   --log value             log file (default: stderr)\n"
	       "   --log-format value      log format: text or json (default: text)\n"
	       "   --debug                 log debug messages\n"
	       "   --systemd-cgroup        manage cgroups with systemd\n"
	       "   --cgroup-manager value  cgroupfs or systemd\n"
	       "   --rootless value        accepted for runc compatibility\n"
	       "   --config value          runk.conf to read\n"
	       "   --criu value            accepted for runc compatibility (no checkpointing)\n"
	       "   -h, --help              show help\n"
	       "   -v, --version           print the version\n");
}

enum {
	OPT_ROOT = 256,
	OPT_LOG,
	OPT_LOG_FORMAT,
	OPT_DEBUG,
	OPT_SYSTEMD_CGROUP,
	OPT_CGROUP_MANAGER,
	OPT_ROOTLESS,
	OPT_CONFIG,
	OPT_CRIU,
};

static const struct option global_options[] = {
	{"root", required_argument, NULL, OPT_ROOT},
	{"log", required_argument, NULL, OPT_LOG},
	{"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	{"debug", no_argument, NULL, OPT_DEBUG},
	{"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP},
	{"cgroup-manager", required_argument, NULL, OPT_CGROUP_MANAGER},
	{"rootless", required_argument, NULL, OPT_ROOTLESS},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"criu", required_argument, NULL, OPT_CRIU},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'v'},
	{0},
};

/* Returns the index of the subcommand in argv, or exits for --help/--version. */
static int parse_globals(int argc, char **argv, struct runk_globals *g, runk_error_t *err)
{
	const char *log_format = "text";
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hv", global_options, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			g->root = optarg;
			break;
		case OPT_LOG:
			g->log_path = optarg;
			break;
		case OPT_LOG_FORMAT:
			log_format = optarg;
			break;
		case OPT_DEBUG:
			g->debug = true;
			break;
		case OPT_SYSTEMD_CGROUP:
			g->systemd_cgroup = true;
			g->cgroup_manager = "systemd";
			break;
		case OPT_CGROUP_MANAGER:
			if (strcmp(optarg, "cgroupfs") != 0 && strcmp(optarg, "systemd") != 0)
				return runk_error(err,
						  "invalid --cgroup-manager `%s`: expected "
						  "`cgroupfs` or `systemd`",
						  optarg);
			g->cgroup_manager = optarg;
			g->systemd_cgroup = strcmp(optarg, "systemd") == 0;
			break;
		case OPT_ROOTLESS:
			g->rootless = strcmp(optarg, "true") == 0;
			break;
		case OPT_CONFIG:
			g->config_path = optarg;
			break;
		case OPT_CRIU:
			break;
		case 'h':
			print_help();
			exit(EXIT_SUCCESS);
		case 'v':
			print_version();
			exit(EXIT_SUCCESS);
		case ':':
			return runk_error(err, "flag `%s` needs a value", argv[optind - 1]);
		default:
			return runk_error(err, "unknown global flag `%s`", argv[optind - 1]);
		}
	}
	if (runk_log_parse_format(log_format, &g->log_format, err) < 0)
		return -1;
	return optind;
}

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

/* Report the error once: to the log (conmon and the runc shim read it there) and to stderr. */
static int fail(const struct runk_globals *g, runk_error_t *err)
{
	cleanup_free char *text = runk_error_text(*err);

	if (g->log_path != NULL)
		log_error("%s", text);
	fprintf(stderr, "runk: %s\n", text);
	runk_error_free(err);
	return EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	struct runk_globals g = {.root = "/run/runk", .cgroup_manager = "cgroupfs"};
	cleanup_error runk_error_t err = NULL;
	struct cli_parsed parsed;
	const struct cli_command *cmd;
	int first, ret;

	first = parse_globals(argc, argv, &g, &err);
	if (first < 0)
		return fail(&g, &err);
	if (runk_log_init(g.log_path, g.log_format, g.debug, &err) < 0) {
		g.log_path = NULL;
		return fail(&g, &err);
	}
	if (first >= argc) {
		print_help();
		return EXIT_FAILURE;
	}
	cmd = find_command(argv[first]);
	if (cmd == NULL) {
		runk_error(&err, "unknown command `%s` (see runk --help)", argv[first]);
		return fail(&g, &err);
	}
	log_debug("runk %s: command %s", PACKAGE_VERSION, cmd->name);

	ret = cli_parse(cmd, argc - first, argv + first, &parsed, &err);
	if (ret == 0)
		ret = cmd->run(&g, &parsed, &err);
	cli_parsed_release(&parsed);
	if (ret < 0)
		return fail(&g, &err);
	/* A positive return is an exit status the command wants passed on (run, exec). */
	return ret;
}
