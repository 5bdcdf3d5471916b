/* Fault injection (only with --enable-fault-injection).  See fault.h. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"

#ifdef RUNK_FAULT_INJECTION
void fault_point(const char *point)
{
	const char *wanted = getenv("RUNK_FAULT");
	char line[160];
	int len;

	if (wanted == NULL || strcmp(wanted, point) != 0)
		return;
	/* stderr may be the caller's: say why we die, then die like kill -9 would do it. */
	len = snprintf(line, sizeof(line), "runk[%d]: RUNK_FAULT: killed at `%s`\n", getpid(),
		       point);
	if (len > 0 && write(STDERR_FILENO, line, (size_t)len) < 0) {
		/* nothing to do: we die either way */
	}
	kill(getpid(), SIGKILL);
	_exit(137);
}
#endif
