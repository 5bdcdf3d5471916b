/* runk delete: delete a container and everything runk holds for it */
#include "config.h"

#include "cleanup.h"
#include "commands.h"
#include "context.h"

static const struct cli_option delete_options[] = {
	{"force", 'f', CLI_BOOL, "kill the container first if it is still running"},
	{0},
};

static int cmd_delete(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};

	if (runk_session_open(g, &session, err) < 0)
		return -1;
	return container_delete(&session.ctx, p->argv[0], cli_bool(p, "force"), err);
}

const struct cli_command runk_cmd_delete = {
	.name = "delete",
	.usage = "<container-id>",
	.summary = "delete a container and everything runk holds for it",
	.options = delete_options,
	.min_args = 1,
	.max_args = 1,
	.run = cmd_delete,
};
