/*
 * The one error type of runk.  A fallible function takes `runk_error_t *err`,
 * returns a negative value on failure and fills *err; callers pass it up
 * unchanged (optionally prefixing context) and only main() prints it.
 */
#ifndef RUNK_ERROR_H
#define RUNK_ERROR_H

#include <stdarg.h>

struct runk_error {
	int errnum; /* errno at the failure, 0 if none applies */
	char *msg;  /* what failed, naming the thing it failed on */
};

typedef struct runk_error *runk_error_t;

/* Fill *err (if it is still empty) and return -1.  The message is formatted like printf. */
int runk_error(runk_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As runk_error, and record errnum: the printed message ends with ": strerror(errnum)". */
int runk_error_errno(runk_error_t *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put context in front of an existing error: "CONTEXT: old message".  Returns -1. */
int runk_error_prefix(runk_error_t *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The full text of the error (message plus strerror), owned by the caller. */
char *runk_error_text(const runk_error_t err);

void runk_error_free(runk_error_t *err);

#define cleanup_error __attribute__((cleanup(runk_error_free)))

#endif
