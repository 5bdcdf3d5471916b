/* runk create: create a container (boots its VM; the program waits for start) */
#include "config.h"

#include "cleanup.h"
#include "commands.h"
#include "context.h"

static const struct cli_option create_options[] = {
	{"bundle", 'b', CLI_STRING, "path to the bundle directory (default: current directory)"},
	{"console-socket", 0, CLI_STRING, "unix socket that receives the console pty master"},
	{"pid-file", 0, CLI_STRING, "file to write the container PID to"},
	{"no-pivot", 0, CLI_BOOL, "do not use pivot_root to jail the process in its rootfs"},
	{"no-new-keyring", 0, CLI_BOOL, "do not create a new session keyring"},
	{"preserve-fds", 0, CLI_STRING, "pass N additional file descriptors to the container"},
	{0},
};

static int cmd_create(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};
	struct container_create_options o = {
		.id = p->argv[0],
		.bundle = cli_string(p, "bundle"),
		.pid_file = cli_string(p, "pid-file"),
		.console_socket = cli_string(p, "console-socket"),
		.no_pivot = cli_bool(p, "no-pivot"),
		.detach = true,
	};
	pid_t pid;

	if (cli_check_preserve_fds(p, err) < 0 || runk_session_open(g, &session, err) < 0)
		return -1;
	return container_create(&session.ctx, &o, &pid, err);
}

const struct cli_command runk_cmd_create = {
	.name = "create",
	.usage = "<container-id>",
	.summary = "create a container (boots its VM; the program waits for start)",
	.options = create_options,
	.min_args = 1,
	.max_args = 1,
	.run = cmd_create,
};
