/* runk state: print the state of a container as JSON, as runc does */
#include "config.h"

#include <stdio.h>

#include "cleanup.h"
#include "commands.h"
#include "context.h"
#include "status.h"

static int cmd_state(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};
	struct container_status cs __attribute__((cleanup(container_status_release))) = {0};
	cleanup_free char *text = NULL;

	if (runk_session_open(g, &session, err) < 0 ||
	    container_status_load(&session.ctx, p->argv[0], &cs, err) < 0)
		return -1;
	text = container_status_json(&cs);
	printf("%s\n", text);
	return 0;
}

const struct cli_command runk_cmd_state = {
	.name = "state",
	.usage = "<container-id>",
	.summary = "print the state of a container as JSON",
	.min_args = 1,
	.max_args = 1,
	.run = cmd_state,
};
