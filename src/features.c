/* runk features: print the features runk supports, as OCI features.json */
#include "config.h"

#include "commands.h"

const struct cli_command runk_cmd_features = {
	.name = "features",
	.usage = "",
	.summary = "print the features runk supports, as OCI features.json",
	.min_args = 0,
	.max_args = 0,
	.run = runk_not_implemented,
};
