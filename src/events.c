/* runk events: print container events and statistics */
#include "config.h"

#include "commands.h"

static const struct cli_option events_options[] = {
	{"interval", 0, CLI_STRING, "statistics interval (default 5s)"},
	{"stats", 0, CLI_BOOL, "print statistics once and exit"},
	{0},
};

const struct cli_command runk_cmd_events = {
	.name = "events",
	.usage = "<container-id>",
	.summary = "print container events and statistics",
	.options = events_options,
	.min_args = 1,
	.max_args = 1,
	.run = runk_not_implemented,
};
