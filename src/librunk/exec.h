/* runk exec on the host: a new process in a running container, through its shim. */
#ifndef RUNK_EXEC_H
#define RUNK_EXEC_H

#include <stdbool.h>

#include "container.h"

struct exec_options {
	const char *id;
	const char *process_json; /* the OCI process, as JSON text */
	bool tty;
	const char *console_socket;
	bool detach;
	const char *pid_file;
	bool ignore_paused;
};

/*
 * Run the process.  Without detach, wait for it and return its exit status
 * (128 + signal when killed).  With detach, a small exec-shim process waits
 * for it instead and exits with its status; its PID goes to pid_file.
 */
int container_exec(const struct runk_context *ctx, const struct exec_options *o, runk_error_t *err);

/*
 * Wait on a shim connection for the exit of its process, passing on the
 * signals runc would (and, with tty_fd, the terminal's size).  Fills the
 * exit code and signal; an error if the connection closes first.
 */
int exec_wait_exit(int conn, int tty_fd, int *code, int *signo, runk_error_t *err);

#endif
