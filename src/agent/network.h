/*
 * The "network" request (docs/protocol.md): the interfaces the host mirrored
 * from the container's network namespace, configured in the container's own
 * network namespace in the guest.
 */
#ifndef RUNK_AGENT_NETWORK_H
#define RUNK_AGENT_NETWORK_H

#include "agent.h"

int op_network(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err);

#endif
