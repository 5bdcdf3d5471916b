/* runk ps: the processes of a container, as its VM's guest sees them */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "context.h"
#include "proto.h"

static int cmd_ps(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};
	const char *format = cli_string(p, "format");
	bool json = format && strcmp(format, "json") == 0;
	yajl_val reply = NULL, pids, cmds;

	if (format && !json && strcmp(format, "table") != 0)
		return runk_error(err, "invalid format `%s`: expected table or json", format);
	if (runk_session_open(g, &session, err) < 0 ||
	    container_query(&session.ctx, p->argv[0], "ps", &reply, err) < 0)
		return -1;
	/* The shim checked the guest's answer: pids are integers >= 1, cmds as many strings. */
	pids = proto_json_find(reply, "pids");
	cmds = proto_json_find(reply, "cmds");
	/* The processes live in the guest, where a host ps cannot see: the guest lists them. */
	printf(json ? "[" : "%8s %s\n", "PID", "CMD");
	for (size_t i = 0; pids && i < pids->u.array.len; i++) {
		long long pid = YAJL_GET_INTEGER(pids->u.array.values[i]);

		if (json)
			printf("%s%lld", i ? "," : "", pid);
		else
			printf("%8lld %s\n", pid, cmds ? cmds->u.array.values[i]->u.string : "");
	}
	if (json)
		printf("]\n");
	yajl_tree_free(reply);
	return 0;
}

static const struct cli_option ps_options[] = {
	{"format", 'f', CLI_STRING, "table or json"},
	{0},
};

const struct cli_command runk_cmd_ps = {
	.name = "ps",
	.usage = "<container-id> [ps options]",
	.summary = "list the processes of a container",
	.options = ps_options,
	.min_args = 1,
	.max_args = -1,
	.run = cmd_ps,
};
