/* runk delete: delete a container and everything runk holds for it */
#include "config.h"

#include "commands.h"

static const struct cli_option delete_options[] = {
	{"force", 'f', CLI_BOOL, "kill the container first if it is still running"},
	{0},
};

const struct cli_command runk_cmd_delete = {
	.name = "delete",
	.usage = "<container-id>",
	.summary = "delete a container and everything runk holds for it",
	.options = delete_options,
	.min_args = 1,
	.max_args = 1,
	.run = runk_not_implemented,
};
