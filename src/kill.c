/* runk kill: send a signal to the container's init process (default SIGTERM) */
#include "config.h"

#include <signal.h>

#include "util.h"
#include "cleanup.h"
#include "commands.h"
#include "context.h"

static const struct cli_option kill_options[] = {
	{"all", 'a', CLI_BOOL, "send the signal to every process of the container"},
	{0},
};

static int cmd_kill(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};
	int signo = SIGTERM;

	if (p->argc > 1 && signal_parse(p->argv[1], &signo, err) < 0)
		return -1;
	if (runk_session_open(g, &session, err) < 0)
		return -1;
	return container_kill(&session.ctx, p->argv[0], signo, cli_bool(p, "all"), err);
}

const struct cli_command runk_cmd_kill = {
	.name = "kill",
	.usage = "<container-id> [signal]",
	.summary = "send a signal to the container's init process (default SIGTERM)",
	.options = kill_options,
	.min_args = 1,
	.max_args = 2,
	.run = cmd_kill,
};
