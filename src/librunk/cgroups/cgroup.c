/* The plan of a container's cgroups and the rules that pick a manager.  See cgroup.h. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "util.h"

static const char *const mode_names[] = {
	[CGROUP_MODE_LEGACY] = "legacy",
	[CGROUP_MODE_HYBRID] = "hybrid",
	[CGROUP_MODE_UNIFIED] = "unified",
};

void cgroup_plan_release(struct cgroup_plan *plan)
{
	for (size_t i = 0; i < plan->n_hiers; i++) {
		free(plan->hiers[i].controller);
		free(plan->hiers[i].mount);
		free(plan->hiers[i].sandbox);
		free(plan->hiers[i].overhead);
	}
	free(plan->hiers);
	free(plan->sandbox_slice);
	free(plan->sandbox_unit);
	free(plan->overhead_slice);
	free(plan->overhead_unit);
	memset(plan, 0, sizeof(*plan));
}

/* The most containers of one id runk's own default cgroup names tell apart (id, id-2, ...). */
#define CGROUP_NAME_TRIES 100

static void release_hiers(struct cgroup_plan *plan)
{
	struct cgroup_plan hiers_only = {.hiers = plan->hiers, .n_hiers = plan->n_hiers};

	cgroup_plan_release(&hiers_only);
	plan->hiers = NULL;
	plan->n_hiers = 0;
}

/*
 * fs: the hierarchies' paths, and no cgroup another container's processes
 * are in: the same id from another --root would share /runk/<id> (its limits
 * would bind both VMs, either delete would empty it).  A taken cgroupsPath
 * the bundle names is an error; runk's own names (the default /runk/<id>,
 * /runk_overhead/<id>) go on to <id>-2, <id>-3 ...
 */
static int plan_fs(const struct cgroup_plan_options *o, struct cgroup_plan *plan, runk_error_t *err)
{
	bool defaulted = o->cgroups_path == NULL || *o->cgroups_path == '\0';

	for (unsigned int n = 1; n <= CGROUP_NAME_TRIES; n++) {
		struct cgroup_path sandbox __attribute__((cleanup(cgroup_path_release))) = {0};
		struct cgroup_path overhead __attribute__((cleanup(cgroup_path_release))) = {0};
		cleanup_free char *name = NULL;
		const char *busy = NULL;
		bool busy_sandbox = false;

		if (n == 1)
			name = strdup(o->id);
		else if (asprintf(&name, "%s-%u", o->id, n) < 0)
			abort();
		if (cgroup_path_parse(defaulted ? NULL : o->cgroups_path, name, false, &sandbox,
				      err) < 0 ||
		    (!o->sandbox_only &&
		     cgroup_overhead_path(CGROUP_MANAGER_FS, name, &overhead, err) < 0) ||
		    cgroup_fs_hiers(&sandbox, o->sandbox_only ? NULL : &overhead, plan->mode, plan,
				    err) < 0)
			return -1;
		if (cgroup_fs_check_free(plan, &busy, &busy_sandbox) == 0)
			return 0;
		if (busy_sandbox && !defaulted)
			return runk_error(err, "cgroup `%s` is in use by other processes", busy);
		release_hiers(plan);
	}
	return runk_error(err, "the cgroups of `%s` to `%s-%d` are all in use", o->id, o->id,
			  CGROUP_NAME_TRIES);
}

int cgroup_plan_make(const struct cgroup_plan_options *o, struct cgroup_plan *plan,
		     runk_error_t *err)
{
	struct cgroup_path sandbox __attribute__((cleanup(cgroup_path_release))) = {0};
	struct cgroup_path overhead __attribute__((cleanup(cgroup_path_release))) = {0};

	memset(plan, 0, sizeof(*plan));
	if (cgroup_path_parse(o->cgroups_path, o->id, o->systemd, &sandbox, err) < 0)
		return -1;
	if (!o->sandbox_only && cgroup_overhead_path(sandbox.manager, o->id, &overhead, err) < 0)
		return -1;
	plan->manager = sandbox.manager;
	plan->mode = cgroup_detect_mode();
	plan->sandbox_only = o->sandbox_only;
	plan->memory_limit =
		((uint64_t)o->vm_memory_mib + o->memory_overhead_mib) * (uint64_t)(1024 * 1024);
	if (plan->manager == CGROUP_MANAGER_SYSTEMD) {
		plan->sandbox_slice = steal_pointer(&sandbox.slice);
		plan->sandbox_unit = steal_pointer(&sandbox.unit);
		plan->overhead_slice = steal_pointer(&overhead.slice);
		plan->overhead_unit = steal_pointer(&overhead.unit);
		return 0;
	}
	if (plan_fs(o, plan, err) < 0) {
		cgroup_plan_release(plan);
		return -1;
	}
	return 0;
}

/* ---- the plan file: one fact per line, fields separated by tabs ("-" = none) ---- */

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static char *from_dash(const char *s)
{
	return strdup(strcmp(s, "-") == 0 ? "" : s);
}

static char *from_dash_null(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : strdup(s);
}

int cgroup_plan_save(const struct cgroup_plan *plan, const char *state_dir, runk_error_t *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		abort();
	fprintf(f, "manager\t%s\nmode\t%s\nsandbox_only\t%d\nmemory_limit\t%" PRIu64 "\n",
		plan->manager == CGROUP_MANAGER_SYSTEMD ? "systemd" : "fs", mode_names[plan->mode],
		plan->sandbox_only, plan->memory_limit);
	for (size_t i = 0; i < plan->n_hiers; i++) {
		const struct cgroup_hier *h = &plan->hiers[i];

		fprintf(f, "hier\t%s\t%s\t%s\t%s\n", or_dash(h->controller), h->mount, h->sandbox,
			or_dash(h->overhead));
	}
	if (plan->manager == CGROUP_MANAGER_SYSTEMD)
		fprintf(f, "systemd\t%s\t%s\t%s\t%s\n", plan->sandbox_slice, plan->sandbox_unit,
			or_dash(plan->overhead_slice), or_dash(plan->overhead_unit));
	fclose(f);
	if (asprintf(&path, "%s/%s", state_dir, CGROUP_PLAN_FILE) < 0)
		abort();
	return write_file_atomic(path, text, len, 0600, err);
}

/* Split a line at tabs into at most max fields; returns the count. */
static size_t split_tabs(char *line, char **fields, size_t max)
{
	size_t n = 0;

	for (char *p = line; p && n < max;) {
		fields[n++] = p;
		p = strchr(p, '\t');
		if (p)
			*p++ = '\0';
	}
	return n;
}

static int load_line(struct cgroup_plan *plan, char *line)
{
	char *f[6];
	size_t n = split_tabs(line, f, 6);

	if (n == 2 && strcmp(f[0], "manager") == 0) {
		plan->manager =
			strcmp(f[1], "systemd") == 0 ? CGROUP_MANAGER_SYSTEMD : CGROUP_MANAGER_FS;
	} else if (n == 2 && strcmp(f[0], "mode") == 0) {
		for (size_t m = 0; m < sizeof(mode_names) / sizeof(mode_names[0]); m++)
			if (strcmp(f[1], mode_names[m]) == 0)
				plan->mode = (enum cgroup_mode)m;
	} else if (n == 2 && strcmp(f[0], "sandbox_only") == 0) {
		plan->sandbox_only = strcmp(f[1], "1") == 0;
	} else if (n == 2 && strcmp(f[0], "memory_limit") == 0) {
		plan->memory_limit = strtoull(f[1], NULL, 10);
	} else if (n == 5 && strcmp(f[0], "hier") == 0) {
		struct cgroup_hier *h;

		plan->hiers = realloc(plan->hiers, (plan->n_hiers + 1) * sizeof(*plan->hiers));
		if (plan->hiers == NULL)
			abort();
		h = &plan->hiers[plan->n_hiers++];
		h->controller = from_dash(f[1]);
		h->mount = strdup(f[2]);
		h->sandbox = strdup(f[3]);
		h->overhead = from_dash_null(f[4]);
	} else if (n == 5 && strcmp(f[0], "systemd") == 0) {
		plan->sandbox_slice = strdup(f[1]);
		plan->sandbox_unit = strdup(f[2]);
		plan->overhead_slice = from_dash_null(f[3]);
		plan->overhead_unit = from_dash_null(f[4]);
	} else {
		return -1;
	}
	return 0;
}

int cgroup_plan_load(const char *state_dir, struct cgroup_plan *plan, bool *found,
		     runk_error_t *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	char *save = NULL;

	memset(plan, 0, sizeof(*plan));
	*found = false;
	if (asprintf(&path, "%s/%s", state_dir, CGROUP_PLAN_FILE) < 0)
		abort();
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (read_file(path, 1 << 20, &text, NULL, err) < 0)
		return -1;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (load_line(plan, line) < 0) {
			cgroup_plan_release(plan);
			return runk_error(err, "`%s`: bad line", path);
		}
	if (plan->manager == CGROUP_MANAGER_SYSTEMD && plan->sandbox_unit == NULL) {
		cgroup_plan_release(plan);
		return runk_error(err, "`%s`: no systemd unit", path);
	}
	*found = true;
	return 0;
}

/* ---- what runk and the shim call ---- */

int cgroup_create(const struct cgroup_plan *plan, const struct oci_linux_resources *res,
		  runk_error_t *err)
{
	/* systemd: a scope cannot exist without a process; the shim starts it (cgroup_enter). */
	if (plan->manager == CGROUP_MANAGER_SYSTEMD)
		return 0;
	return cgroup_fs_create(plan, res, err);
}

int cgroup_enter(const struct cgroup_plan *plan, pid_t self, const struct oci_linux_resources *res,
		 runk_error_t *err)
{
	if (plan == NULL)
		return 0;
	if (plan->manager == CGROUP_MANAGER_SYSTEMD)
		return cgroup_systemd_enter(plan, self, res, err);
	return cgroup_fs_enter(plan, self, err);
}

int cgroup_place_vm(const struct cgroup_plan *plan, pid_t qemu, const pid_t *vcpus, size_t n,
		    const struct oci_linux_resources *res, runk_error_t *err)
{
	if (plan->manager == CGROUP_MANAGER_SYSTEMD)
		return cgroup_systemd_place_vm(plan, qemu, res, err);
	return cgroup_fs_place_vm(plan, qemu, vcpus, n, err);
}

int cgroup_update(const struct cgroup_plan *plan, const struct oci_linux_resources *res,
		  runk_error_t *err)
{
	if (plan->manager == CGROUP_MANAGER_SYSTEMD)
		return cgroup_systemd_update(plan, res, err);
	return cgroup_fs_update(plan, res, err);
}

int cgroup_destroy(const struct cgroup_plan *plan, runk_error_t *err)
{
	if (plan->manager == CGROUP_MANAGER_SYSTEMD)
		return cgroup_systemd_destroy(plan, err);
	return cgroup_fs_destroy(plan, err);
}
