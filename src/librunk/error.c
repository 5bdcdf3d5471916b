#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "cleanup.h"

static int error_fill(runk_error_t *err, int errnum, const char *fmt, va_list ap)
{
	struct runk_error *e;

	/* The first failure is the cause; later ones on the unwind path are consequences. */
	if (err == NULL || *err != NULL)
		return -1;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		abort();
	if (vasprintf(&e->msg, fmt, ap) < 0)
		abort();
	e->errnum = errnum;
	*err = e;
	return -1;
}

int runk_error(runk_error_t *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_fill(err, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int runk_error_errno(runk_error_t *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_fill(err, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int runk_error_prefix(runk_error_t *err, const char *fmt, ...)
{
	cleanup_free char *prefix = NULL;
	char *joined;
	va_list ap;

	if (err == NULL || *err == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&prefix, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (asprintf(&joined, "%s: %s", prefix, (*err)->msg) < 0)
		abort();
	free((*err)->msg);
	(*err)->msg = joined;
	return -1;
}

char *runk_error_text(const runk_error_t err)
{
	char *text = NULL;
	int ret;

	if (err == NULL)
		ret = asprintf(&text, "unknown error");
	else if (err->errnum)
		ret = asprintf(&text, "%s: %s", err->msg, strerror(err->errnum));
	else
		ret = asprintf(&text, "%s", err->msg);
	if (ret < 0)
		abort();
	return text;
}

void runk_error_free(runk_error_t *err)
{
	if (err == NULL || *err == NULL)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}
