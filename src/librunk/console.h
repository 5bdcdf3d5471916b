/* The console of a container with process.terminal: a pty whose master goes to --console-socket. */
#ifndef RUNK_CONSOLE_H
#define RUNK_CONSOLE_H

#include <stdbool.h>

#include "error.h"

/*
 * Open a pty pair, send the master to the unix socket at path (SCM_RIGHTS,
 * as runc does) and return the slave.  The master is closed here: whoever
 * listens on the socket owns it now.
 */
int console_send_master(const char *socket_path, runk_error_t *err);

/*
 * With the caller's own terminal (runk run/exec -t without a console socket)
 * the terminal goes raw: the guest's pty does the line discipline.  Returns
 * true if fd was a terminal and is now raw; console_restore undoes it.
 */
bool console_make_raw(int fd);
void console_restore(void);

#endif
