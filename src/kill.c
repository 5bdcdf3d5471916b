/* runk kill: send a signal to the container's init process (default SIGTERM) */
#include "config.h"

#include "commands.h"

static const struct cli_option kill_options[] = {
	{"all", 'a', CLI_BOOL, "send the signal to every process of the container"},
	{0},
};

const struct cli_command runk_cmd_kill = {
	.name = "kill",
	.usage = "<container-id> [signal]",
	.summary = "send a signal to the container's init process (default SIGTERM)",
	.options = kill_options,
	.min_args = 1,
	.max_args = 2,
	.run = runk_not_implemented,
};
