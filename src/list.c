/* runk list: list containers */
#include "config.h"

#include "commands.h"

static const struct cli_option list_options[] = {
	{"format", 'f', CLI_STRING, "table or json"},
	{"quiet", 'q', CLI_BOOL, "print only container ids"},
	{0},
};

const struct cli_command runk_cmd_list = {
	.name = "list",
	.usage = "",
	.summary = "list containers",
	.options = list_options,
	.min_args = 0,
	.max_args = 0,
	.run = runk_not_implemented,
};
