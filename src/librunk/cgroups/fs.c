/*
 * The fs manager (cgroupfs) on libcgroup: one hierarchy at a time, each v1
 * controller with its own paths (a relative cgroupsPath is relative to
 * runk's cgroup in *that* hierarchy, as runc does), plus the cgroup2
 * hierarchy.
 *
 * libcgroup 2.0 knows a cgroup2 mount only through the controllers it lists;
 * the empty cgroup2 of a hybrid host (/sys/fs/cgroup/unified) has none, so
 * there the few file operations placement needs are done directly
 * (unified_*() below).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

#define CGROUP_ROOT	   "/sys/fs/cgroup"
#define CGROUP_UNIFIED_DIR CGROUP_ROOT "/unified"
#define CGROUP_V1_MAGIC	   0x27e0eb
#define CGROUP_V2_MAGIC	   0x63677270
#define cleanup_cgroup	   __attribute__((cleanup(cgroup_free)))
#define DELETE_TRIES	   100
#define DELETE_DELAY_US	   20000

static bool fs_magic(const char *path, long magic)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (long)st.f_type == magic;
}

enum cgroup_mode cgroup_detect_mode(void)
{
	if (fs_magic(CGROUP_ROOT, CGROUP_V2_MAGIC))
		return CGROUP_MODE_UNIFIED;
	if (fs_magic(CGROUP_UNIFIED_DIR, CGROUP_V2_MAGIC))
		return CGROUP_MODE_HYBRID;
	return CGROUP_MODE_LEGACY;
}

static int lib_init(runk_error_t *err)
{
	static bool done;
	int ret;

	if (done)
		return 0;
	ret = cgroup_init();
	if (ret != 0)
		return runk_error(err, "libcgroup: %s", cgroup_strerror(ret));
	done = true;
	return 0;
}

static int lib_error(runk_error_t *err, int ret, const char *what, const char *controller,
		     const char *path)
{
	int errnum = ret == ECGOTHER ? cgroup_get_last_errno() : 0;

	if (errnum)
		return runk_error_errno(err, errnum, "%s cgroup `%s` (%s)", what, path,
					*controller ? controller : "cgroup2");
	return runk_error(err, "%s cgroup `%s` (%s): %s", what, path,
			  *controller ? controller : "cgroup2", cgroup_strerror(ret));
}

/* The cgroup2 line of /proc/self/cgroup ("0::/path"). */
static char *own_unified_cgroup(void)
{
	cleanup_free char *text = NULL;
	char *line;

	if (read_file("/proc/self/cgroup", 1 << 20, &text, NULL, NULL) < 0)
		return strdup("/");
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, "0::", 3) == 0)
			return strdup(line + 3);
	return strdup("/");
}

static void hier_add(struct cgroup_plan *plan, const char *controller, const char *mount,
		     const struct cgroup_path *sandbox, const struct cgroup_path *overhead)
{
	struct cgroup_hier *h;
	cleanup_free char *own = NULL;

	plan->hiers = realloc(plan->hiers, (plan->n_hiers + 1) * sizeof(*plan->hiers));
	if (plan->hiers == NULL)
		abort();
	h = &plan->hiers[plan->n_hiers++];
	h->controller = strdup(controller);
	h->mount = strdup(mount);
	if (sandbox->relative) {
		if (*controller == '\0')
			own = own_unified_cgroup();
		else if (cgroup_get_current_controller_path(getpid(), controller, &own) != 0)
			own = strdup("/");
		h->sandbox = cgroup_path_join(own, sandbox->path);
	} else {
		h->sandbox = strdup(sandbox->path);
	}
	h->overhead = overhead ? strdup(overhead->path) : NULL;
}

int cgroup_fs_hiers(const struct cgroup_path *sandbox, const struct cgroup_path *overhead,
		    enum cgroup_mode mode, struct cgroup_plan *plan, runk_error_t *err)
{
	struct cgroup_mount_point mp;
	void *handle = NULL;
	int ret;

	if (mode == CGROUP_MODE_UNIFIED) {
		hier_add(plan, "", CGROUP_ROOT, sandbox, overhead);
		return 0;
	}
	if (lib_init(err) < 0)
		return -1;
	for (ret = cgroup_get_controller_begin(&handle, &mp); ret == 0;
	     ret = cgroup_get_controller_next(&handle, &mp)) {
		bool seen = false;

		/* Only v1 hierarchies, each once (co-mounted controllers share one). */
		if (!fs_magic(mp.path, CGROUP_V1_MAGIC))
			continue;
		for (size_t i = 0; i < plan->n_hiers; i++)
			seen |= strcmp(plan->hiers[i].mount, mp.path) == 0;
		if (!seen)
			hier_add(plan, mp.name, mp.path, sandbox, overhead);
	}
	cgroup_get_controller_end(&handle);
	if (ret != ECGEOF)
		return runk_error(err, "libcgroup: list controllers: %s", cgroup_strerror(ret));
	if (mode == CGROUP_MODE_HYBRID)
		hier_add(plan, "", CGROUP_UNIFIED_DIR, sandbox, overhead);
	return 0;
}

/* ---- the cgroup2 hierarchy of a hybrid host: direct file operations ---- */

static bool unified_direct(const struct cgroup_plan *plan, const struct cgroup_hier *h)
{
	return *h->controller == '\0' && plan->mode != CGROUP_MODE_UNIFIED;
}

static char *hier_dir(const struct cgroup_hier *h, const char *path)
{
	char *dir;

	if (asprintf(&dir, "%s%s", h->mount, path) < 0)
		abort();
	return dir;
}

/* libcgroup cannot address a cgroup2 mount without controllers: write cgroup.procs here. */
static int unified_write_procs(const char *dir, pid_t pid, runk_error_t *err)
{
	cleanup_free char *file = NULL;
	cleanup_close int fd = -1;
	char text[32];
	int len = snprintf(text, sizeof(text), "%d", pid);

	if (asprintf(&file, "%s/cgroup.procs", dir) < 0)
		abort();
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, (size_t)len) != len)
		return runk_error_errno(err, errno, "move process %d into `%s`", pid, dir);
	return 0;
}

/* Move whatever is left in dir to its parent, then remove it. */
static int unified_remove(const char *dir, runk_error_t *err)
{
	cleanup_free char *procs = NULL, *parent = strdup(dir), *text = NULL;
	char *slash = strrchr(parent, '/');

	if (access(dir, F_OK) < 0)
		return 0;
	if (asprintf(&procs, "%s/cgroup.procs", dir) < 0)
		abort();
	*slash = '\0';
	if (read_file(procs, 1 << 20, &text, NULL, NULL) == 0)
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
			unified_write_procs(parent, (pid_t)atoi(line), NULL);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return runk_error_errno(err, errno, "remove cgroup `%s`", dir);
	return 0;
}

/* ---- libcgroup ---- */

static struct cgroup *lib_cgroup(const char *path, const char *controller)
{
	struct cgroup *cg = cgroup_new_cgroup(path);

	if (cg == NULL || cgroup_add_controller(cg, controller) == NULL)
		abort();
	return cg;
}

static int lib_set(const char *path, const char *controller, const char *file, const char *value,
		   runk_error_t *err)
{
	cleanup_cgroup struct cgroup *cg = lib_cgroup(path, controller);
	int ret;

	cgroup_add_value_string(cgroup_get_controller(cg, controller), file, value);
	ret = cgroup_modify_cgroup(cg);
	if (ret != 0) {
		lib_error(err, ret, "set", controller, path);
		return runk_error_prefix(err, "%s = %s", file, value);
	}
	return 0;
}

/* The first line of a cgroup file through libcgroup ("" when empty or unreadable). */
static void lib_read(const char *path, const char *controller, const char *file, char *buf,
		     int size)
{
	void *handle = NULL;

	buf[0] = '\0';
	if (cgroup_read_value_begin(controller, path, (char *)file, &handle, buf, size) == 0)
		cgroup_read_value_end(&handle);
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * A new v1 cpuset cgroup starts with no CPUs and no memory nodes, where no
 * task may enter: each level of the path that has none gets its parent's.
 */
static int cpuset_inherit(const char *path, runk_error_t *err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	size_t len = strlen(path);

	for (size_t end = 1; end <= len; end++) {
		cleanup_free char *level = NULL, *parent = NULL;
		char *slash;

		if (end < len && path[end] != '/')
			continue;
		level = strndup(path, end);
		parent = strdup(level);
		slash = strrchr(parent, '/');
		slash[slash == parent] = '\0';
		for (size_t i = 0; i < 2; i++) {
			char mine[4096], theirs[4096];

			lib_read(level, "cpuset", files[i], mine, sizeof(mine));
			if (mine[0] != '\0')
				continue;
			lib_read(parent, "cpuset", files[i], theirs, sizeof(theirs));
			if (lib_set(level, "cpuset", files[i], theirs, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int lib_create(const char *path, const char *controller, runk_error_t *err)
{
	cleanup_cgroup struct cgroup *cg = lib_cgroup(path, controller);
	int ret = cgroup_create_cgroup(cg, 0);

	if (ret != 0)
		return lib_error(err, ret, "create", controller, path);
	if (strcmp(controller, "cpuset") == 0)
		return cpuset_inherit(path, err);
	return 0;
}

/* All of pid's threads, in one v1 hierarchy (libcgroup walks /proc/PID/task). */
static int lib_attach_process(const char *path, const char *controller, pid_t pid,
			      runk_error_t *err)
{
	const char *controllers[] = {controller, NULL};
	int ret = cgroup_change_cgroup_path(path, pid, controllers);

	if (ret != 0)
		return lib_error(err, ret, "move process into", controller, path);
	return 0;
}

/* One thread: libcgroup writes the id to the v1 `tasks` file, which moves only that thread. */
static int lib_attach_thread(const char *path, const char *controller, pid_t tid, runk_error_t *err)
{
	cleanup_cgroup struct cgroup *cg = lib_cgroup(path, controller);
	int ret = cgroup_attach_task_pid(cg, tid);

	if (ret != 0)
		return lib_error(err, ret, "move thread into", controller, path);
	return 0;
}

static int lib_delete(const char *path, const char *controller, runk_error_t *err)
{
	cleanup_cgroup struct cgroup *cg = lib_cgroup(path, controller);
	cleanup_free char *dir = NULL;
	char *mount = NULL;
	int ret;

	/* Gone already (a second delete, or a create that failed early) is fine. */
	if (cgroup_get_subsys_mount_point(controller, &mount) == 0) {
		if (asprintf(&dir, "%s%s", mount, path) < 0)
			abort();
		free(mount);
		if (access(dir, F_OK) < 0)
			return 0;
	}
	/* Without IGNORE_MIGRATION, libcgroup moves the remaining tasks to the parent first. */
	ret = cgroup_delete_cgroup_ext(cg, 0);
	if (ret != 0 && ret != ECGROUPNOTEXIST)
		return lib_error(err, ret, "remove", controller, path);
	return 0;
}

/* ---- one hierarchy, whichever way it is driven ---- */

static int hier_create(const struct cgroup_plan *plan, const struct cgroup_hier *h,
		       const char *path, runk_error_t *err)
{
	if (unified_direct(plan, h)) {
		cleanup_free char *dir = hier_dir(h, path);

		return mkdir_p(dir, 0755, err);
	}
	if (*h->controller == '\0') {
		/* Pure v2: every controller libcgroup found there, enabled down the path. */
		cleanup_cgroup struct cgroup *cg = cgroup_new_cgroup(path);
		int ret;

		if (cg == NULL || cgroup_add_all_controllers(cg) != 0)
			return runk_error(err, "libcgroup: no controllers for `%s`", path);
		ret = cgroup_create_cgroup(cg, 0);
		return ret ? lib_error(err, ret, "create", "", path) : 0;
	}
	return lib_create(path, h->controller, err);
}

static int hier_attach_process(const struct cgroup_plan *plan, const struct cgroup_hier *h,
			       const char *path, pid_t pid, runk_error_t *err)
{
	if (unified_direct(plan, h)) {
		cleanup_free char *dir = hier_dir(h, path);

		return unified_write_procs(dir, pid, err);
	}
	if (*h->controller == '\0') {
		/* cgroup2: a process moves as a whole (cgroup.procs). */
		cleanup_cgroup struct cgroup *cg = cgroup_new_cgroup(path);
		int ret;

		if (cg == NULL || cgroup_add_all_controllers(cg) != 0)
			return runk_error(err, "libcgroup: no controllers for `%s`", path);
		ret = cgroup_attach_task_pid(cg, pid);
		return ret ? lib_error(err, ret, "move process into", "", path) : 0;
	}
	return lib_attach_process(path, h->controller, pid, err);
}

static int hier_delete_once(const struct cgroup_plan *plan, const struct cgroup_hier *h,
			    const char *path, runk_error_t *err)
{
	if (unified_direct(plan, h)) {
		cleanup_free char *dir = hier_dir(h, path);

		return unified_remove(dir, err);
	}
	if (*h->controller == '\0') {
		cleanup_cgroup struct cgroup *cg = cgroup_new_cgroup(path);
		cleanup_free char *dir = hier_dir(h, path);
		int ret;

		if (access(dir, F_OK) < 0)
			return 0;
		if (cg == NULL || cgroup_add_all_controllers(cg) != 0)
			return runk_error(err, "libcgroup: no controllers for `%s`", path);
		/* Without IGNORE_MIGRATION, libcgroup moves what is left to the parent first. */
		ret = cgroup_delete_cgroup_ext(cg, 0);
		return ret && ret != ECGROUPNOTEXIST ? lib_error(err, ret, "remove", "", path) : 0;
	}
	return lib_delete(path, h->controller, err);
}

/*
 * A process that is dying (QEMU after its shim was killed) can neither be
 * moved nor be gone yet: rmdir says EBUSY for a moment.  Retry a while.
 */
static int hier_delete(const struct cgroup_plan *plan, const struct cgroup_hier *h,
		       const char *path, runk_error_t *err)
{
	for (int try = 0;; try++) {
		cleanup_error runk_error_t busy = NULL;

		if (hier_delete_once(plan, h, path, &busy) == 0)
			return 0;
		if (try == DELETE_TRIES || busy->errnum != EBUSY) {
			if (err && *err == NULL)
				*err = steal_pointer(&busy);
			return -1;
		}
		usleep(DELETE_DELAY_US);
	}
}

static int hier_apply(const struct cgroup_plan *plan, const struct cgroup_hier *h,
		      const struct cgroup_settings *s, runk_error_t *err)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct cgroup_setting *set = &s->items[i];

		if (*h->controller ? strcmp(set->controller, h->controller) != 0
				   : unified_direct(plan, h))
			continue;
		if (lib_set(h->sandbox, set->controller, set->file, set->value, err) < 0)
			return -1;
	}
	return 0;
}

static int apply_resources(const struct cgroup_plan *plan, const struct oci_linux_resources *res,
			   runk_error_t *err)
{
	struct cgroup_settings s __attribute__((cleanup(cgroup_settings_release))) = {0};

	/* A hybrid host's cgroup2 has no controllers: the limits go to the v1 ones. */
	if (cgroup_settings_from_resources(res, plan->mode == CGROUP_MODE_UNIFIED,
					   plan->memory_limit, &s, err) < 0)
		return -1;
	for (size_t i = 0; i < plan->n_hiers; i++)
		if (hier_apply(plan, &plan->hiers[i], &s, err) < 0)
			return -1;
	return 0;
}

/* Does the cgroup exist with processes in it?  (cgroup.procs: the same file on v1 and v2.) */
static bool hier_in_use(const struct cgroup_hier *h, const char *path)
{
	cleanup_free char *dir = hier_dir(h, path), *procs = NULL, *text = NULL;

	if (asprintf(&procs, "%s/cgroup.procs", dir) < 0)
		abort();
	return read_file(procs, 1 << 20, &text, NULL, NULL) == 0 && text[0] != '\0';
}

/*
 * Another container's cgroup (the same cgroupsPath, or the same id under
 * the default /runk/<id> from another --root) is not shared: its limits
 * would bind both VMs, and either delete would empty it.
 */
int cgroup_fs_check_free(const struct cgroup_plan *plan, const char **busy, bool *busy_sandbox)
{
	for (size_t i = 0; i < plan->n_hiers; i++) {
		const struct cgroup_hier *h = &plan->hiers[i];

		*busy_sandbox = hier_in_use(h, h->sandbox);
		if (*busy_sandbox || (h->overhead && hier_in_use(h, h->overhead))) {
			*busy = *busy_sandbox ? h->sandbox : h->overhead;
			return 1;
		}
	}
	return 0;
}

int cgroup_fs_create(const struct cgroup_plan *plan, const struct oci_linux_resources *res,
		     runk_error_t *err)
{
	if (lib_init(err) < 0)
		return -1;
	for (size_t i = 0; i < plan->n_hiers; i++) {
		const struct cgroup_hier *h = &plan->hiers[i];

		if (hier_create(plan, h, h->sandbox, err) < 0 ||
		    (h->overhead && hier_create(plan, h, h->overhead, err) < 0))
			return -1;
	}
	return apply_resources(plan, res, err);
}

int cgroup_fs_enter(const struct cgroup_plan *plan, pid_t self, runk_error_t *err)
{
	if (lib_init(err) < 0)
		return -1;
	for (size_t i = 0; i < plan->n_hiers; i++) {
		const struct cgroup_hier *h = &plan->hiers[i];

		if (hier_attach_process(plan, h, h->overhead ? h->overhead : h->sandbox, self,
					err) < 0)
			return -1;
	}
	return 0;
}

int cgroup_fs_place_vm(const struct cgroup_plan *plan, pid_t qemu, const pid_t *vcpus, size_t n,
		       runk_error_t *err)
{
	if (plan->sandbox_only)
		return 0; /* QEMU was born in the sandbox cgroup, with the shim */
	for (size_t i = 0; i < plan->n_hiers; i++) {
		const struct cgroup_hier *h = &plan->hiers[i];

		if (*h->controller == '\0') {
			/* cgroup2 has no thread placement here: the whole QEMU goes. */
			if (hier_attach_process(plan, h, h->sandbox, qemu, err) < 0)
				return -1;
			continue;
		}
		for (size_t t = 0; t < n; t++)
			if (lib_attach_thread(h->sandbox, h->controller, vcpus[t], err) < 0)
				return -1;
	}
	return 0;
}

int cgroup_fs_update(const struct cgroup_plan *plan, const struct oci_linux_resources *res,
		     runk_error_t *err)
{
	if (lib_init(err) < 0)
		return -1;
	return apply_resources(plan, res, err);
}

int cgroup_fs_destroy(const struct cgroup_plan *plan, runk_error_t *err)
{
	int ret = 0;

	if (lib_init(err) < 0)
		return -1;
	/* Keep going: remove all that can be removed, report the first failure. */
	for (size_t i = 0; i < plan->n_hiers; i++) {
		const struct cgroup_hier *h = &plan->hiers[i];

		if (hier_delete(plan, h, h->sandbox, ret < 0 ? NULL : err) < 0)
			ret = -1;
		if (h->overhead && hier_delete(plan, h, h->overhead, ret < 0 ? NULL : err) < 0)
			ret = -1;
	}
	return ret;
}
