/* runk pause: pause every process of a container (stops its VM) */
#include "config.h"

#include "cleanup.h"
#include "commands.h"
#include "context.h"

static int cmd_pause(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};

	if (runk_session_open(g, &session, err) < 0)
		return -1;
	return container_pause(&session.ctx, p->argv[0], true, err);
}

const struct cli_command runk_cmd_pause = {
	.name = "pause",
	.usage = "<container-id>",
	.summary = "pause every process of a container (stops its VM)",
	.min_args = 1,
	.max_args = 1,
	.run = cmd_pause,
};
