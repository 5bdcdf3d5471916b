/* Turning the global flags into what librunk needs. */
#ifndef RUNK_CONTEXT_H
#define RUNK_CONTEXT_H

#include "cli.h"
#include "container.h"
#include "runkconf.h"

struct runk_session {
	struct runk_conf conf;
	struct runk_context ctx;
};

/* Load runk.conf and fill the context; release with runk_session_release. */
int runk_session_open(struct runk_globals *g, struct runk_session *session, runk_error_t *err);
void runk_session_release(struct runk_session *session);

#define cleanup_session __attribute__((cleanup(runk_session_release)))

#endif
