/* runk resume: resume a paused container */
#include "config.h"

#include "cleanup.h"
#include "commands.h"
#include "context.h"

static int cmd_resume(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};

	if (runk_session_open(g, &session, err) < 0)
		return -1;
	return container_pause(&session.ctx, p->argv[0], false, err);
}

const struct cli_command runk_cmd_resume = {
	.name = "resume",
	.usage = "<container-id>",
	.summary = "resume a paused container",
	.min_args = 1,
	.max_args = 1,
	.run = cmd_resume,
};
