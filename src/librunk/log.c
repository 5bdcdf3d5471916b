#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "util.h"

static int log_fd = STDERR_FILENO;
static enum runk_log_format log_format = RUNK_LOG_TEXT;
static enum runk_log_level log_max_level = RUNK_LOG_INFO;

static const char *const level_names[] = {
	[RUNK_LOG_ERROR] = "error",
	[RUNK_LOG_WARNING] = "warning",
	[RUNK_LOG_INFO] = "info",
	[RUNK_LOG_DEBUG] = "debug",
};

int runk_log_parse_format(const char *name, enum runk_log_format *format, runk_error_t *err)
{
	if (strcmp(name, "text") == 0)
		*format = RUNK_LOG_TEXT;
	else if (strcmp(name, "json") == 0)
		*format = RUNK_LOG_JSON;
	else
		return runk_error(err, "invalid log format `%s`: expected `text` or `json`", name);
	return 0;
}

int runk_log_init(const char *path, enum runk_log_format format, bool debug, runk_error_t *err)
{
	log_format = format;
	log_max_level = debug ? RUNK_LOG_DEBUG : RUNK_LOG_INFO;
	if (path == NULL || *path == '\0')
		return 0;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return runk_error_errno(err, errno, "open log file `%s`", path);
	log_fd = fd;
	return 0;
}

bool runk_log_debug_enabled(void)
{
	return log_max_level >= RUNK_LOG_DEBUG;
}

int runk_log_fd(void)
{
	return log_fd;
}

/* Append s to buf as the body of a JSON string (no quotes), escaping as JSON requires. */
static void json_escape(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
}

void runk_log(enum runk_log_level level, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	cleanup_free char *line = NULL;
	size_t line_len = 0;
	char when[64];
	va_list ap;
	int saved_errno = errno;

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return;
	format_rfc3339_now(when, sizeof(when));

	/* Build the whole line first: one write(2) keeps lines from concurrent runk processes
	 * whole. */
	FILE *out = open_memstream(&line, &line_len);
	if (out == NULL)
		return;
	if (log_format == RUNK_LOG_JSON) {
		fprintf(out, "{\"level\":\"%s\",\"msg\":\"", level_names[level]);
		json_escape(out, msg);
		fprintf(out, "\",\"time\":\"%s\"}\n", when);
	} else {
		fprintf(out, "time=\"%s\" level=%s msg=\"", when, level_names[level]);
		json_escape(out, msg);
		fputs("\"\n", out);
	}
	fclose(out);
	if (write(log_fd, line, line_len) < 0) {
		/* Nowhere left to report a failed log write. */
	}
	errno = saved_errno;
}
