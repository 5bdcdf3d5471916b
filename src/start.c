/* runk start: start the program of a created container */
#include "config.h"

#include "cleanup.h"
#include "commands.h"
#include "context.h"

static int cmd_start(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};

	if (runk_session_open(g, &session, err) < 0)
		return -1;
	return container_start(&session.ctx, p->argv[0], err);
}

const struct cli_command runk_cmd_start = {
	.name = "start",
	.usage = "<container-id>",
	.summary = "start the program of a created container",
	.min_args = 1,
	.max_args = 1,
	.run = cmd_start,
};
