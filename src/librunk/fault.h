/*
 * Fault injection for tests.  Built with ./configure --enable-fault-injection,
 * RUNK_FAULT=<point> makes the process that reaches the named point die at
 * once with SIGKILL, as a crash would: nothing is cleaned up.  In release
 * builds the points compile to nothing (no getenv).  docs/testing.md lists
 * the points.
 */
#ifndef RUNK_FAULT_H
#define RUNK_FAULT_H

#include <stdbool.h>

#define FAULT_STATE_DIR_CREATED "state-dir-created"
#define FAULT_CGROUPS_CREATED	"cgroups-created"
#define FAULT_QEMU_STARTED	"qemu-started"
#define FAULT_AGENT_READY	"agent-ready"
#define FAULT_CONTAINER_CREATED "container-created"
#define FAULT_MID_START		"mid-start"
#define FAULT_MID_KILL		"mid-kill"
#define FAULT_MID_DELETE	"mid-delete"

#ifdef RUNK_FAULT_INJECTION
void fault_point(const char *point);
#else
static inline void fault_point(const char *point)
{
	(void)point;
}
#endif

/* Whether this build has fault injection (runk --version says so). */
static inline bool fault_injection_built(void)
{
#ifdef RUNK_FAULT_INJECTION
	return true;
#else
	return false;
#endif
}

#endif
