/* runk state: print the state of a container as JSON */
#include "config.h"

#include "commands.h"

const struct cli_command runk_cmd_state = {
	.name = "state",
	.usage = "<container-id>",
	.summary = "print the state of a container as JSON",
	.min_args = 1,
	.max_args = 1,
	.run = runk_not_implemented,
};
