/*
 * Host cgroups of a container: the sandbox cgroup (linux.cgroupsPath, with
 * linux.resources) and, unless runk.conf's sandbox_cgroup_only, an overhead
 * cgroup without limits for the shim and QEMU's own threads.
 *
 *   cgroupsPath "slice:prefix:name"  → systemd manager (systemd.c, sd-bus)
 *   any other path                   → fs manager (fs.c, libcgroup)
 *
 * Life of a container's cgroups:
 *   cgroup_plan_make()    runk create: choose the manager, resolve the paths
 *   cgroup_create()       runk create: fs cgroups made and limited (systemd: nothing yet,
 *                         a scope needs a PID)
 *   cgroup_plan_save()    into the state dir, for update and delete
 *   cgroup_enter()        the shim, before it starts QEMU: itself into the overhead
 *                         cgroup, or the sandbox one when sandbox_cgroup_only
 *   cgroup_place_vm()     the shim, once QMP gave the vCPU TIDs: v1 fs moves each vCPU
 *                         thread to the sandbox; v2 and systemd move the whole QEMU
 *   cgroup_update()       runk update: new limits on the sandbox cgroup
 *   cgroup_destroy()      runk delete: stragglers to the parent, rmdir; StopUnit
 */
#ifndef RUNK_CGROUP_H
#define RUNK_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "ocispec.h"

enum cgroup_manager {
	CGROUP_MANAGER_FS,
	CGROUP_MANAGER_SYSTEMD,
};

/* How the host mounts cgroups (detected at run time). */
enum cgroup_mode {
	CGROUP_MODE_LEGACY,  /* v1 only */
	CGROUP_MODE_HYBRID,  /* v1 controllers + an (empty) cgroup2 at /sys/fs/cgroup/unified */
	CGROUP_MODE_UNIFIED, /* cgroup2 at /sys/fs/cgroup */
};

/* A parsed linux.cgroupsPath. */
struct cgroup_path {
	enum cgroup_manager manager;
	char *path;    /* fs: cleaned ("/a/b", or "a/b" when relative) */
	bool relative; /* fs: taken relative to runk's own cgroup */
	char *slice;   /* systemd: "system.slice" */
	char *unit;    /* systemd: "prefix-name.scope", or "name.slice" */
};

/*
 * Parse cgroupsPath (NULL or "" = the default for id: "/runk/<id>", or
 * "system.slice:runk:<id>" when systemd is asked for).  systemd: the global
 * --systemd-cgroup / --cgroup-manager=systemd; a path not in the systemd form
 * is then an error.
 */
int cgroup_path_parse(const char *cgroups_path, const char *id, bool systemd,
		      struct cgroup_path *out, runk_error_t *err);
void cgroup_path_release(struct cgroup_path *p);

/* The overhead cgroup of id for a manager: "/runk_overhead/<id>" or runk-overhead.slice's. */
int cgroup_overhead_path(enum cgroup_manager manager, const char *id, struct cgroup_path *out,
			 runk_error_t *err);

/* own (runk's cgroup in one hierarchy) joined with a relative path; for tests too. */
char *cgroup_path_join(const char *own, const char *relative);

/* CPUQuotaPerSecUSec for quota/period: quota·1e6/period rounded up to 10 ms; 0 = no quota. */
uint64_t cgroup_quota_per_sec_usec(int64_t quota, uint64_t period);

/* One hierarchy the fs manager works in. */
struct cgroup_hier {
	char *controller; /* v1 controller, or "" for the cgroup2 hierarchy */
	char *mount;	  /* where it is mounted */
	char *sandbox;	  /* the sandbox cgroup, from the hierarchy's root */
	char *overhead;	  /* the overhead cgroup, or NULL */
};

/* Everything runk decided about a container's cgroups: saved in its state dir. */
struct cgroup_plan {
	enum cgroup_manager manager;
	enum cgroup_mode mode;
	bool sandbox_only;
	uint64_t memory_limit; /* bytes the host allows the VM when a limit is set (0 = none) */
	/* fs */
	struct cgroup_hier *hiers;
	size_t n_hiers;
	/* systemd */
	char *sandbox_slice, *sandbox_unit;
	char *overhead_slice, *overhead_unit; /* NULL when sandbox_only */
};

struct cgroup_plan_options {
	const char *id;
	const char *cgroups_path; /* linux.cgroupsPath, may be NULL */
	bool systemd;		  /* asked for by the global flags */
	bool sandbox_only;	  /* runk.conf [runtime] sandbox_cgroup_only */
	unsigned int vm_memory_mib;
	unsigned int memory_overhead_mib;
	bool has_memory_limit;
};

int cgroup_plan_make(const struct cgroup_plan_options *o, struct cgroup_plan *plan,
		     runk_error_t *err);
void cgroup_plan_release(struct cgroup_plan *plan);

/* The plan as a file in the state dir (CGROUP_PLAN_FILE), and back. */
#define CGROUP_PLAN_FILE "cgroups"
int cgroup_plan_save(const struct cgroup_plan *plan, const char *state_dir, runk_error_t *err);
/* 0 and *found = false when the container has no plan (made before cgroups existed). */
int cgroup_plan_load(const char *state_dir, struct cgroup_plan *plan, bool *found,
		     runk_error_t *err);

int cgroup_create(const struct cgroup_plan *plan, const struct oci_linux_resources *res,
		  runk_error_t *err);
int cgroup_enter(const struct cgroup_plan *plan, pid_t self, const struct oci_linux_resources *res,
		 runk_error_t *err);
int cgroup_place_vm(const struct cgroup_plan *plan, pid_t qemu, const pid_t *vcpus, size_t n,
		    const struct oci_linux_resources *res, runk_error_t *err);
/*
 * The shim's placement step: wait (bounded) until QMP reports all `vcpus`
 * vCPU threads of vm, each alive on the host, then cgroup_place_vm().
 */
struct vm;
int cgroup_place_vm_wait(const struct cgroup_plan *plan, struct vm *vm, unsigned int vcpus,
			 const struct oci_linux_resources *res, runk_error_t *err);

int cgroup_update(const struct cgroup_plan *plan, const struct oci_linux_resources *res,
		  runk_error_t *err);
int cgroup_destroy(const struct cgroup_plan *plan, runk_error_t *err);

/*
 * Limits as (controller, file, value) settings, for one cgroup version.  The
 * fs manager hands them to libcgroup; tests write them into a directory.
 */
struct cgroup_setting {
	char *controller;
	char *file;
	char *value;
};

struct cgroup_settings {
	struct cgroup_setting *items;
	size_t n;
};

int cgroup_settings_from_resources(const struct oci_linux_resources *res, bool v2,
				   uint64_t memory_limit, struct cgroup_settings *out,
				   runk_error_t *err);
void cgroup_settings_release(struct cgroup_settings *s);
/* Write each setting as <dir>/<file> (a cgroup directory): the tests' stand-in for libcgroup. */
int cgroup_settings_write_dir(const struct cgroup_settings *s, const char *dir, runk_error_t *err);

/* linux.resources from a JSON object's text (runk update's), checked by libocispec. */
struct oci_linux_resources *cgroup_resources_parse(const char *json, runk_error_t *err);

enum cgroup_mode cgroup_detect_mode(void);

/* Internal: the two managers. */
int cgroup_fs_create(const struct cgroup_plan *plan, const struct oci_linux_resources *res,
		     runk_error_t *err);
int cgroup_fs_enter(const struct cgroup_plan *plan, pid_t self, runk_error_t *err);
int cgroup_fs_place_vm(const struct cgroup_plan *plan, pid_t qemu, const pid_t *vcpus, size_t n,
		       runk_error_t *err);
int cgroup_fs_update(const struct cgroup_plan *plan, const struct oci_linux_resources *res,
		     runk_error_t *err);
int cgroup_fs_destroy(const struct cgroup_plan *plan, runk_error_t *err);
/* 0 when no process is in the plan's cgroups; else 1 and which one is taken. */
int cgroup_fs_check_free(const struct cgroup_plan *plan, const char **busy, bool *busy_sandbox);
int cgroup_fs_hiers(const struct cgroup_path *sandbox, const struct cgroup_path *overhead,
		    enum cgroup_mode mode, struct cgroup_plan *plan, runk_error_t *err);

int cgroup_systemd_enter(const struct cgroup_plan *plan, pid_t self,
			 const struct oci_linux_resources *res, runk_error_t *err);
int cgroup_systemd_place_vm(const struct cgroup_plan *plan, pid_t qemu,
			    const struct oci_linux_resources *res, runk_error_t *err);
int cgroup_systemd_update(const struct cgroup_plan *plan, const struct oci_linux_resources *res,
			  runk_error_t *err);
int cgroup_systemd_destroy(const struct cgroup_plan *plan, runk_error_t *err);

#endif
