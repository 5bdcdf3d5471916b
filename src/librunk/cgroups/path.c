/* linux.cgroupsPath → manager and paths, with runc's rules.  See cgroup.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "cleanup.h"

void cgroup_path_release(struct cgroup_path *p)
{
	free(p->path);
	free(p->slice);
	free(p->unit);
	memset(p, 0, sizeof(*p));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "slice:prefix:name" with the slice empty or ending in .slice. */
static bool is_systemd_form(const char *path)
{
	const char *first = strchr(path, ':');
	const char *second = first ? strchr(first + 1, ':') : NULL;
	cleanup_free char *slice = NULL;

	if (second == NULL || strchr(second + 1, ':'))
		return false;
	slice = strndup(path, (size_t)(first - path));
	return *slice == '\0' || ends_with(slice, ".slice");
}

/* A unit name part: no '/', no control characters, no whitespace. */
static bool unit_part_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '/' || (unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static int parse_systemd(const char *text, struct cgroup_path *out, runk_error_t *err)
{
	const char *first = strchr(text, ':');
	const char *second = strchr(first + 1, ':');
	cleanup_free char *slice = strndup(text, (size_t)(first - text));
	cleanup_free char *prefix = strndup(first + 1, (size_t)(second - first - 1));
	const char *name = second + 1;

	if (*name == '\0')
		return runk_error(err, "invalid cgroupsPath `%s`: the name part is empty", text);
	if (!unit_part_ok(slice) || !unit_part_ok(prefix) || !unit_part_ok(name) ||
	    strcmp(slice, ".slice") == 0)
		return runk_error(err, "invalid cgroupsPath `%s`: not a valid systemd unit name",
				  text);
	out->manager = CGROUP_MANAGER_SYSTEMD;
	out->slice = strdup(*slice ? slice : "system.slice");
	if (ends_with(name, ".slice"))
		out->unit = strdup(name);
	else if (asprintf(&out->unit, "%s%s%s.scope", prefix, *prefix ? "-" : "", name) < 0)
		abort();
	return 0;
}

/* Collapse "//", drop "." and trailing '/'; ".." and the root itself are refused. */
static int parse_fs(const char *text, struct cgroup_path *out, runk_error_t *err)
{
	char *clean = malloc(strlen(text) + 2);
	size_t len = 0;

	out->manager = CGROUP_MANAGER_FS;
	out->relative = text[0] != '/';
	for (const char *p = text; *p;) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (n == 2 && strncmp(p, "..", 2) == 0) {
			free(clean);
			return runk_error(err, "invalid cgroupsPath `%s`: `..` is not allowed",
					  text);
		}
		if (!(n == 1 && *p == '.')) {
			if (len > 0 || !out->relative)
				clean[len++] = '/';
			memcpy(clean + len, p, n);
			len += n;
		}
		p += n;
	}
	clean[len] = '\0';
	out->path = clean;
	if (len == 0)
		return runk_error(err, "invalid cgroupsPath `%s`: it names no cgroup", text);
	if (strchr(text, '\n') || strchr(text, '\t'))
		return runk_error(err, "invalid cgroupsPath: control characters in `%s`", text);
	return 0;
}

int cgroup_path_parse(const char *cgroups_path, const char *id, bool systemd,
		      struct cgroup_path *out, runk_error_t *err)
{
	cleanup_free char *def = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (cgroups_path == NULL || *cgroups_path == '\0') {
		if (asprintf(&def, systemd ? "system.slice:runk:%s" : "/runk/%s", id) < 0)
			abort();
		cgroups_path = def;
	}
	if (is_systemd_form(cgroups_path))
		ret = parse_systemd(cgroups_path, out, err);
	else if (systemd)
		ret = runk_error(err,
				 "invalid cgroupsPath `%s` for the systemd cgroup manager: "
				 "expected `slice:prefix:name`",
				 cgroups_path);
	else
		ret = parse_fs(cgroups_path, out, err);
	if (ret < 0)
		cgroup_path_release(out);
	return ret;
}

int cgroup_overhead_path(enum cgroup_manager manager, const char *id, struct cgroup_path *out,
			 runk_error_t *err)
{
	cleanup_free char *text = NULL;

	if (asprintf(&text,
		     manager == CGROUP_MANAGER_SYSTEMD ? "runk-overhead.slice:runk:%s"
						       : "/runk_overhead/%s",
		     id) < 0)
		abort();
	return cgroup_path_parse(text, id, manager == CGROUP_MANAGER_SYSTEMD, out, err);
}

char *cgroup_path_join(const char *own, const char *relative)
{
	char *joined;
	size_t n = strlen(own);

	while (n > 0 && own[n - 1] == '/')
		n--;
	if (asprintf(&joined, "%.*s/%s", (int)n, own, relative) < 0)
		abort();
	return joined;
}

uint64_t cgroup_quota_per_sec_usec(int64_t quota, uint64_t period)
{
	const unsigned __int128 step = 10000; /* systemd rounds CPUQuota to 10 ms per second */
	unsigned __int128 usec;

	if (quota <= 0 || period == 0)
		return 0;
	usec = ((unsigned __int128)quota * 1000000 + period - 1) / period;
	usec = (usec + step - 1) / step * step;
	return usec > UINT64_MAX ? UINT64_MAX : (uint64_t)usec;
}
