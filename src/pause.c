/* runk pause: pause every process of a container (stops its VM) */
#include "config.h"

#include "commands.h"

const struct cli_command runk_cmd_pause = {
	.name = "pause",
	.usage = "<container-id>",
	.summary = "pause every process of a container (stops its VM)",
	.min_args = 1,
	.max_args = 1,
	.run = runk_not_implemented,
};
