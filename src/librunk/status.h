/* A container's status as runc reports it: state, list. */
#ifndef RUNK_STATUS_H
#define RUNK_STATUS_H

#include <stdbool.h>
#include <yajl/yajl_gen.h>

#include "container.h"
#include "state.h"

struct container_status {
	struct runk_state state;
	char *dir;
	const char *status; /* created | running | paused | stopped */
	pid_t pid;	    /* 0 once stopped */
};

/* Load a container and ask its shim how it is. */
int container_status_load(const struct runk_context *ctx, const char *id,
			  struct container_status *cs, runk_error_t *err);
void container_status_release(struct container_status *cs);

/* Add runc's state object for cs to g (ociVersion, id, pid, status, bundle, ...). */
void container_status_gen(yajl_gen g, const struct container_status *cs, const char *owner);

/* runc's `state` JSON, indented by two spaces, caller frees. */
char *container_status_json(const struct container_status *cs);

#endif
