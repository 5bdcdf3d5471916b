/*
 * runk's log: text or JSON lines to --log (or stderr).  The JSON form is
 * exactly what runc writes, {"level":..,"msg":..,"time":..} with the keys in
 * that order, because conmon and containerd's runc shim parse it.
 */
#ifndef RUNK_LOG_H
#define RUNK_LOG_H

#include <stdbool.h>

#include "error.h"

enum runk_log_level {
	RUNK_LOG_ERROR,
	RUNK_LOG_WARNING,
	RUNK_LOG_INFO,
	RUNK_LOG_DEBUG,
};

enum runk_log_format {
	RUNK_LOG_TEXT,
	RUNK_LOG_JSON,
};

/* path NULL: log to stderr.  Opens the file for appending (created 0600). */
int runk_log_init(const char *path, enum runk_log_format format, bool debug, runk_error_t *err);

/* Parse "text" or "json". */
int runk_log_parse_format(const char *name, enum runk_log_format *format, runk_error_t *err);

void runk_log(enum runk_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

bool runk_log_debug_enabled(void);

/* The fd log lines go to, so a forked shim can keep logging after exec. */
int runk_log_fd(void);

#define log_debug(...)	 runk_log(RUNK_LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	 runk_log(RUNK_LOG_INFO, __VA_ARGS__)
#define log_warning(...) runk_log(RUNK_LOG_WARNING, __VA_ARGS__)
#define log_error(...)	 runk_log(RUNK_LOG_ERROR, __VA_ARGS__)

#endif
