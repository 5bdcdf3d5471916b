/* runk update: change the resource limits of a container (its cgroup in the guest) */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "cleanup.h"
#include "commands.h"
#include "cgroups/cgroup.h"
#include "context.h"
#include "ocispec.h"
#include "util.h"

enum value_kind {
	VALUE_INT,   /* plain integer */
	VALUE_BYTES, /* integer with an optional k/m/g suffix, as runc's --memory */
	VALUE_TEXT,  /* a string, e.g. a cpuset */
};

/* Each flag and where it lands in linux.resources: update reads as this list. */
static const struct update_flag {
	const char *flag;
	const char *section;
	const char *key;
	enum value_kind kind;
} update_flags[] = {
	{"memory", "memory", "limit", VALUE_BYTES},
	{"memory-reservation", "memory", "reservation", VALUE_BYTES},
	{"memory-swap", "memory", "swap", VALUE_BYTES},
	{"cpu-share", "cpu", "shares", VALUE_INT},
	{"cpu-quota", "cpu", "quota", VALUE_INT},
	{"cpu-period", "cpu", "period", VALUE_INT},
	{"cpu-rt-runtime", "cpu", "realtimeRuntime", VALUE_INT},
	{"cpu-rt-period", "cpu", "realtimePeriod", VALUE_INT},
	{"cpuset-cpus", "cpu", "cpus", VALUE_TEXT},
	{"cpuset-mems", "cpu", "mems", VALUE_TEXT},
	{"pids-limit", "pids", "limit", VALUE_INT},
	{"blkio-weight", "blockIO", "weight", VALUE_INT},
};

static int parse_value(const struct update_flag *f, const char *text, long long *out,
		       runk_error_t *err)
{
	char *end = NULL;
	long long v, scale = 1;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (f->kind == VALUE_BYTES && end && *end && end[1] == '\0') {
		switch (*end | 0x20) {
		case 'k':
			scale = 1024;
			break;
		case 'm':
			scale = 1024 * 1024;
			break;
		case 'g':
			scale = 1024 * 1024 * 1024;
			break;
		default:
			scale = 0;
		}
		end += scale ? 1 : 0;
	}
	if (errno || end == text || *end || scale == 0 || (v > 0 && v > INT64_MAX / scale))
		return runk_error(err, "invalid value `%s` for --%s", text, f->flag);
	*out = v * scale;
	return 0;
}

/* linux.resources from the flags, grouped by section. */
static int resources_from_flags(const struct cli_parsed *p, char **json, runk_error_t *err)
{
	static const char *const sections[] = {"memory", "cpu", "pids", "blockIO"};
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	int ret = 0;

	if (g == NULL)
		abort();
	yajl_gen_map_open(g);
	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]) && ret == 0; s++) {
		bool opened = false;

		for (size_t i = 0; i < sizeof(update_flags) / sizeof(update_flags[0]); i++) {
			const struct update_flag *f = &update_flags[i];
			const char *value = cli_string(p, f->flag);
			long long n = 0;

			if (value == NULL || strcmp(f->section, sections[s]) != 0)
				continue;
			if (f->kind != VALUE_TEXT && (ret = parse_value(f, value, &n, err)) < 0)
				break;
			if (!opened) {
				yajl_gen_string(g, (const unsigned char *)f->section,
						strlen(f->section));
				yajl_gen_map_open(g);
				opened = true;
			}
			yajl_gen_string(g, (const unsigned char *)f->key, strlen(f->key));
			if (f->kind == VALUE_TEXT)
				yajl_gen_string(g, (const unsigned char *)value, strlen(value));
			else
				yajl_gen_integer(g, n);
		}
		if (opened)
			yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	if (ret == 0 && (*json = strndup((const char *)buf, len)) == NULL)
		abort();
	yajl_gen_free(g);
	return ret;
}

/* Check resources JSON with libocispec, so a bad field is named by its path. */
static int validate_resources(const char *resources, runk_error_t *err)
{
	struct oci_linux_resources *parsed = cgroup_resources_parse(resources, err);

	if (parsed == NULL)
		return -1;
	oci_linux_resources_free(parsed);
	return 0;
}

static int cmd_update(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};
	const char *file = cli_string(p, "resources");
	cleanup_free char *resources = NULL;
	bool any_flag = false;

	for (size_t i = 0; i < sizeof(update_flags) / sizeof(update_flags[0]); i++)
		any_flag |= cli_string(p, update_flags[i].flag) != NULL;
	if (file && any_flag)
		return runk_error(err, "update: use either --resources or the limit flags");
	if (file && read_file(strcmp(file, "-") == 0 ? "/dev/stdin" : file, 1024 * 1024, &resources,
			      NULL, err) < 0)
		return -1;
	if (!file && resources_from_flags(p, &resources, err) < 0)
		return -1;
	if (validate_resources(resources, err) < 0)
		return -1;
	if (runk_session_open(g, &session, err) < 0)
		return -1;
	return container_update(&session.ctx, p->argv[0], resources, err);
}

static const struct cli_option update_options[] = {
	{"resources", 'r', CLI_STRING, "path to a JSON file of linux.resources, or - for stdin"},
	{"blkio-weight", 0, CLI_STRING, "block IO weight (10-1000)"},
	{"cpu-period", 0, CLI_STRING, "CPU CFS period in microseconds"},
	{"cpu-quota", 0, CLI_STRING, "CPU CFS quota in microseconds"},
	{"cpu-share", 0, CLI_STRING, "CPU shares"},
	{"cpu-rt-period", 0, CLI_STRING, "CPU realtime period"},
	{"cpu-rt-runtime", 0, CLI_STRING, "CPU realtime runtime"},
	{"cpuset-cpus", 0, CLI_STRING, "CPUs allowed"},
	{"cpuset-mems", 0, CLI_STRING, "memory nodes allowed"},
	{"kernel-memory", 0, CLI_STRING, "kernel memory limit (ignored, as runc)"},
	{"kernel-memory-tcp", 0, CLI_STRING, "kernel TCP memory limit (ignored, as runc)"},
	{"memory", 0, CLI_STRING, "memory limit in bytes (k, m, g suffixes)"},
	{"memory-reservation", 0, CLI_STRING, "memory reservation in bytes"},
	{"memory-swap", 0, CLI_STRING, "memory plus swap limit in bytes"},
	{"pids-limit", 0, CLI_STRING, "maximum number of pids"},
	{"l3-cache-schema", 0, CLI_STRING, "Intel RDT L3 cache schema"},
	{"mem-bw-schema", 0, CLI_STRING, "Intel RDT memory bandwidth schema"},
	{0},
};

const struct cli_command runk_cmd_update = {
	.name = "update",
	.usage = "<container-id>",
	.summary = "change the resource limits of a container",
	.options = update_options,
	.min_args = 1,
	.max_args = 1,
	.run = cmd_update,
};
