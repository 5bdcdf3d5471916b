/*
 * The "guest" request: what the whole guest looks like, for runk-monitor
 * (through the shim's "guest" control op).  Integers only: bytes from
 * /proc/meminfo, the 1-minute load average in thousandths and the number of
 * scheduling entities from /proc/loadavg.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "cleanup.h"

/* "MemTotal:  123 kB" lines: the value in bytes of each key asked for. */
static int read_meminfo(const char *const *keys, long long *values, size_t n, runk_error_t *err)
{
	cleanup_fclose FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	size_t found = 0;

	if (f == NULL)
		return runk_error_errno(err, errno, "open /proc/meminfo");
	while (found < n && fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < n; i++) {
			size_t klen = strlen(keys[i]);
			long long kib;

			if (strncmp(line, keys[i], klen) != 0 || line[klen] != ':')
				continue;
			if (sscanf(line + klen + 1, "%lld", &kib) != 1 || kib < 0 ||
			    kib > LLONG_MAX / 1024)
				return runk_error(err, "/proc/meminfo: bad %s", keys[i]);
			values[i] = kib * 1024;
			found++;
		}
	}
	return 0;
}

/* "0.42 0.10 0.03 2/57 123": load1 as thousandths without floating point, and 57. */
static int read_loadavg(long long *load1_milli, long long *tasks, runk_error_t *err)
{
	cleanup_fclose FILE *f = fopen("/proc/loadavg", "re");
	unsigned long long whole, frac, running, total;
	char frac_text[8];

	if (f == NULL)
		return runk_error_errno(err, errno, "open /proc/loadavg");
	if (fscanf(f, "%llu.%7[0-9] %*s %*s %llu/%llu", &whole, frac_text, &running, &total) != 4)
		return runk_error(err, "/proc/loadavg: unexpected format");
	/* The kernel prints two decimals; scale whatever came to three. */
	frac = 0;
	for (size_t i = 0; i < 3; i++)
		frac = frac * 10 + (i < strlen(frac_text) ? (unsigned)(frac_text[i] - '0') : 0);
	if (whole > (unsigned long long)LLONG_MAX / 1000 - 1 || total > LLONG_MAX)
		return runk_error(err, "/proc/loadavg: value out of range");
	*load1_milli = (long long)(whole * 1000 + frac);
	*tasks = (long long)total;
	return 0;
}

int op_guest(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	static const char *const keys[] = {"MemTotal", "MemFree", "MemAvailable"};
	static const char *const names[] = {"mem_total", "mem_free", "mem_available"};
	long long mem[3] = {0, 0, 0};
	long long load1_milli = 0, tasks = 0;

	if (read_meminfo(keys, mem, 3, err) < 0 || read_loadavg(&load1_milli, &tasks, err) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++)
		proto_json_add_int(reply, names[i], mem[i]);
	proto_json_add_int(reply, "load1_milli", load1_milli);
	proto_json_add_int(reply, "tasks", tasks);
	return 0;
}
