/* runk ps: list the processes of a container */
#include "config.h"

#include "commands.h"

static const struct cli_option ps_options[] = {
	{"format", 'f', CLI_STRING, "table or json"},
	{0},
};

const struct cli_command runk_cmd_ps = {
	.name = "ps",
	.usage = "<container-id> [ps options]",
	.summary = "list the processes of a container",
	.options = ps_options,
	.min_args = 1,
	.max_args = -1,
	.run = runk_not_implemented,
};
