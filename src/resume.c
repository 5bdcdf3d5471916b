/* runk resume: resume a paused container */
#include "config.h"

#include "commands.h"

const struct cli_command runk_cmd_resume = {
	.name = "resume",
	.usage = "<container-id>",
	.summary = "resume a paused container",
	.min_args = 1,
	.max_args = 1,
	.run = runk_not_implemented,
};
