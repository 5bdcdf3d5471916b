/* runk spec: write a default config.json into the bundle */
#include "config.h"

#include "commands.h"

static const struct cli_option spec_options[] = {
	{"bundle", 'b', CLI_STRING, "directory to write config.json into"},
	{"rootless", 0, CLI_BOOL, "write a spec for a rootless container"},
	{0},
};

const struct cli_command runk_cmd_spec = {
	.name = "spec",
	.usage = "",
	.summary = "write a default config.json into the bundle",
	.options = spec_options,
	.min_args = 0,
	.max_args = 0,
	.run = runk_not_implemented,
};
