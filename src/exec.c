/* runk exec: run a new process in a running container */
#include "config.h"

#include "commands.h"

static const struct cli_option exec_options[] = {
	{"console-socket", 0, CLI_STRING, "unix socket that receives the console pty master"},
	{"cwd", 0, CLI_STRING, "working directory in the container"},
	{"env", 'e', CLI_LIST, "set an environment variable (repeatable)"},
	{"tty", 't', CLI_BOOL, "allocate a pseudo-TTY"},
	{"user", 'u', CLI_STRING, "UID[:GID] to run as"},
	{"additional-gids", 'g', CLI_LIST, "additional group id (repeatable)"},
	{"process", 'p', CLI_STRING, "path to a process.json"},
	{"detach", 'd', CLI_BOOL, "detach from the process"},
	{"pid-file", 0, CLI_STRING, "file to write the process PID to"},
	{"process-label", 0, CLI_STRING, "SELinux label of the process"},
	{"apparmor", 0, CLI_STRING, "AppArmor profile of the process"},
	{"no-new-privs", 0, CLI_BOOL, "set no_new_privs"},
	{"cap", 'c', CLI_LIST, "add a capability (repeatable)"},
	{"preserve-fds", 0, CLI_STRING, "pass N additional file descriptors"},
	{"cgroup", 0, CLI_LIST, "run in this sub-cgroup (repeatable)"},
	{"ignore-paused", 0, CLI_BOOL, "allow exec in a paused container"},
	{0},
};

const struct cli_command runk_cmd_exec = {
	.name = "exec",
	.usage = "<container-id> <command> [args...]",
	.summary = "run a new process in a running container",
	.options = exec_options,
	.min_args = 1,
	.max_args = -1,
	.run = runk_not_implemented,
};
