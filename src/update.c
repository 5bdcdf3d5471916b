/* runk update: change the resource limits of a container */
#include "config.h"

#include "commands.h"

static const struct cli_option update_options[] = {
	{"resources", 'r', CLI_STRING, "path to a JSON file of linux.resources, or - for stdin"},
	{"blkio-weight", 0, CLI_STRING, "block IO weight (10-1000)"},
	{"cpu-period", 0, CLI_STRING, "CPU CFS period in microseconds"},
	{"cpu-quota", 0, CLI_STRING, "CPU CFS quota in microseconds"},
	{"cpu-share", 0, CLI_STRING, "CPU shares"},
	{"cpu-rt-period", 0, CLI_STRING, "CPU realtime period"},
	{"cpu-rt-runtime", 0, CLI_STRING, "CPU realtime runtime"},
	{"cpuset-cpus", 0, CLI_STRING, "CPUs allowed"},
	{"cpuset-mems", 0, CLI_STRING, "memory nodes allowed"},
	{"kernel-memory", 0, CLI_STRING, "kernel memory limit (ignored, as runc)"},
	{"kernel-memory-tcp", 0, CLI_STRING, "kernel TCP memory limit (ignored, as runc)"},
	{"memory", 0, CLI_STRING, "memory limit in bytes"},
	{"memory-reservation", 0, CLI_STRING, "memory reservation in bytes"},
	{"memory-swap", 0, CLI_STRING, "memory plus swap limit in bytes"},
	{"pids-limit", 0, CLI_STRING, "maximum number of pids"},
	{"l3-cache-schema", 0, CLI_STRING, "Intel RDT L3 cache schema"},
	{"mem-bw-schema", 0, CLI_STRING, "Intel RDT memory bandwidth schema"},
	{0},
};

const struct cli_command runk_cmd_update = {
	.name = "update",
	.usage = "<container-id>",
	.summary = "change the resource limits of a container",
	.options = update_options,
	.min_args = 1,
	.max_args = 1,
	.run = runk_not_implemented,
};
