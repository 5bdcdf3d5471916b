/* runk run: create and start a container, and wait for it */
#include "config.h"

#include "commands.h"

static const struct cli_option run_options[] = {
	{"bundle", 'b', CLI_STRING, "path to the bundle directory (default: current directory)"},
	{"console-socket", 0, CLI_STRING, "unix socket that receives the console pty master"},
	{"detach", 'd', CLI_BOOL, "detach from the container process"},
	{"keep", 0, CLI_BOOL, "keep the container state after it exits"},
	{"pid-file", 0, CLI_STRING, "file to write the container PID to"},
	{"no-subreaper", 0, CLI_BOOL, "accepted for runc compatibility"},
	{"no-pivot", 0, CLI_BOOL, "do not use pivot_root to jail the process in its rootfs"},
	{"no-new-keyring", 0, CLI_BOOL, "do not create a new session keyring"},
	{"preserve-fds", 0, CLI_STRING, "pass N additional file descriptors to the container"},
	{0},
};

const struct cli_command runk_cmd_run = {
	.name = "run",
	.usage = "<container-id>",
	.summary = "create and start a container, and wait for it",
	.options = run_options,
	.min_args = 1,
	.max_args = 1,
	.run = runk_not_implemented,
};
