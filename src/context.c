#include "config.h"

#include <string.h>

#include "context.h"

int runk_session_open(struct runk_globals *g, struct runk_session *session, runk_error_t *err)
{
	memset(session, 0, sizeof(*session));
	if (runk_conf_load(g->config_path, &session->conf, err) < 0)
		return -1;
	session->ctx.root = g->root;
	session->ctx.conf = &session->conf;
	session->ctx.debug = g->debug || session->conf.debug;
	session->ctx.systemd_cgroup = g->systemd_cgroup;
	return 0;
}

void runk_session_release(struct runk_session *session)
{
	runk_conf_release(&session->conf);
}
