/* runk start: start the program of a created container */
#include "config.h"

#include "commands.h"

const struct cli_command runk_cmd_start = {
	.name = "start",
	.usage = "<container-id>",
	.summary = "start the program of a created container",
	.min_args = 1,
	.max_args = 1,
	.run = runk_not_implemented,
};
