/* The monitor's clock, log lines and duration parsing. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "monitor.h"

struct monitor_options monitor_opts = {
	.listen_address = DEFAULT_LISTEN_ADDRESS,
	.resync_delay_ns = 2000000000ULL,
	.scrape_timeout_ns = 2000000000ULL,
	.min_interval_ns = 1000000000ULL,
	.root_retry_ns = 1000000000ULL,
};

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void vlog(const char *fmt, va_list ap)
{
	char when[32];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ runk-monitor: ", when, ts.tv_nsec / 1000000);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void monitor_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void monitor_debug(const char *fmt, ...)
{
	va_list ap;

	if (!monitor_opts.debug)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

int parse_duration(const char *text, uint64_t *ns)
{
	uint64_t whole = 0, frac = 0, scale = 1000000000ULL, frac_scale = 1;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > UINT64_MAX / 10 - 10)
			return -1;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (frac_scale < 1000000000ULL) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_scale *= 10;
			}
		}
	}
	if (strcmp(p, "ms") == 0)
		scale = 1000000ULL;
	else if (strcmp(p, "s") != 0 && *p != '\0')
		return -1;
	if (whole > UINT64_MAX / scale / 2)
		return -1;
	*ns = whole * scale + frac * scale / frac_scale;
	return 0;
}
