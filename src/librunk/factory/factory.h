/*
 * VM templates (the "factory"): boot a VM once, save it with its RAM in a
 * file, and start later VMs of the same shape from that file, mapped
 * copy-on-write, instead of booting them.  The guest's side is in
 * docs/protocol.md ("Templates").
 *
 *   <template_dir>/<key>/mem        the template's RAM (memory-backend-file)
 *   <template_dir>/<key>/devstate   device state (migrate with x-ignore-shared)
 *   <template_dir>/<key>/meta       what it is, for `runk factory status`
 *   <template_dir>/<key>/used       its mtime: last clone (LRU, template_ttl)
 *   <template_dir>/.build-<key>-*   a template being built (renamed into place)
 *   <template_dir>/<key>.lock       flock: one builder per key
 *   <template_dir>/<key>.failures   failed clones since the last good build
 *   <template_dir>/<key>.stats      starts counted: pool, template, cold (flock)
 *   <template_dir>/<key>.pool/      pre-started clones (pool.c)
 *
 * The key hashes everything a clone must share with its template: the QEMU
 * command line (with per-VM paths replaced), the identity (device, inode,
 * size, mtime) of the QEMU binary, kernel and initrd, and FACTORY_FORMAT.
 * A template is never changed in place; a bad one is removed and rebuilt.
 */
#ifndef RUNK_FACTORY_H
#define RUNK_FACTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "hypervisor/hypervisor.h"
#include "runkconf.h"

#define FACTORY_FORMAT	2
#define FACTORY_KEY_LEN 32
#define FACTORY_PARAM	"runk.template=1"
/* A template boots one vCPU of all its present ones; clones bring up what they need. */
#define FACTORY_CPU_PARAM    "maxcpus=1"
#define FACTORY_MAX_FAILURES 3
/*
 * TCG translation buffer of a template's VMs, in MiB.  A pooled VM is warmed
 * (warm.c) before it is claimed: restoring and one container's life make
 * ~17 MB of translated code under TCG, and the claiming container's create
 * adds <1 MB.  A buffer that holds it all keeps that code; with the cold
 * boot's 16 it fills during the warm-up, is flushed, and the claim
 * translates its paths again.  Measured (pooled `runk run true`, median of
 * 7, replacement off): 16 MiB 388 ms, 24 MiB 191 ms; without the warm-up
 * 595 ms.  An idle clone then holds ~19 MiB of code instead of ~14.
 */
#define FACTORY_TCG_TB_MIB 24

struct shim;

/*
 * The shim's hook (start_vm): start the VM for cfg as a clone of its
 * template.  0: s->vm, s->qemu_fd and s->agent are set up, the guest's clock,
 * entropy and share are done and s->hello is set.  -1: nothing was left
 * behind and the caller boots cold; a missing template is then built in the
 * background and a bad one removed (and rebuilt).  Never an error.
 */
int factory_try_clone(struct shim *s, const struct vm_config *cfg);

/*
 * vCPUs of every template: the most a container may get (default_maxvcpus,
 * at most the host's).  One template serves every vCPU count of a memory size.
 */
unsigned int factory_template_vcpus(const struct runk_conf *conf);

/*
 * The template's own config for a VM config: runk.template=1 maxcpus=1,
 * vcpus present, shared RAM at mem_path.
 */
void factory_template_config(const struct vm_config *base, const char *params, unsigned int vcpus,
			     struct vm_config *out);

/* The template key of a VM config (the template's form of it). */
int factory_key(const struct vm_config *base, const struct runk_conf *conf,
		char key[FACTORY_KEY_LEN + 1], runk_error_t *err);

/* Kernel parameters of a template: base's, runk.template=1 and maxcpus=1.  Caller frees. */
char *factory_params(const struct vm_config *base);

/* Path of <template_dir>/<key>[/name].  Caller frees. */
char *factory_path(const struct runk_conf *conf, const char *key, const char *name);

/*
 * Build the template for base now (the VM boots, is saved, quits).  0 also
 * when it exists already or another process is building it (*built false).
 */
int factory_build(const struct vm_config *base, const struct runk_conf *conf, bool *built,
		  runk_error_t *err);

/* Fork a detached process that builds the template once the shim's container is created. */
void factory_build_background(const struct vm_config *base, const struct runk_conf *conf,
			      const char *state_dir);

/* A clone of key failed: remove the template and count the failure. */
void factory_template_bad(const struct runk_conf *conf, const char *key, const char *why);

/* Remove templates unused for template_ttl, then the least recently used beyond max_templates. */
void factory_evict(const struct runk_conf *conf);

/* Remove every template, build and lock of template_dir, and the directory if empty. */
int factory_destroy(const struct runk_conf *conf, runk_error_t *err);

/* Print the templates (key, size, age, last use, RAM resident) to stdout. */
int factory_status(const struct runk_conf *conf, runk_error_t *err);

/* The VM config runk would use for a container of this size with no annotations. */
int factory_default_config(const struct runk_conf *conf, unsigned int vcpus,
			   unsigned int memory_mib, bool debug, struct vm_config *cfg,
			   runk_error_t *err);

/* ---- the pool (pool.c) ---- */

/* What a shim tells its pooled VM's keeper (on keeper_fd) once its container is created. */
#define FACTORY_CLAIM_CREATED "created\n"

/* A pooled VM a shim claimed; its keeper kills it once keeper_fd closes. */
struct factory_claim {
	char *dir; /* <template_dir>/<key>.pool/claimed-* */
	pid_t qemu;
	int keeper_fd;
	int agent_fd; /* the agent connection, handed over by the keeper */
	bool jailed;  /* QEMU runs in <dir>/jail (hypervisor/jail.c): the share goes to /share */
};

char *factory_pool_dir(const struct runk_conf *conf, const char *key);

/*
 * Start keepers (detached) until key has [factory] pool live entries.  With
 * state_dir (a shim), each waits until that shim's container is created.
 */
void factory_pool_fill(const struct vm_config *base, const struct runk_conf *conf, const char *key,
		       const char *state_dir);

/* 0: a ready pooled VM of key is ours; -1: none. */
int factory_pool_claim(const struct runk_conf *conf, const char *key, struct factory_claim *claim);

/* A claimed QEMU was prepared at a low priority: give its threads the caller's. */
void factory_claim_priority(pid_t qemu);

/* Tell the keeper the claiming shim's container exists: it starts the replacement (fd -1: none). */
void factory_claim_created(int keeper_fd);

/* Hang up on the keeper (it kills the VM if it still runs) and free claim. */
void factory_claim_release(struct factory_claim *claim);

/* Mount a copy of source (the container's share, with its mounts) at <claim>/share/<id> for QEMU.
 */
int factory_pool_share(const struct factory_claim *claim, const char *source, const char *id,
		       runk_error_t *err);

struct agent_conn;
struct proto_json;

/* One request to a clone's agent with the clone's short timeout; json is consumed (clone.c). */
int factory_agent_call(struct agent_conn *agent, struct proto_json *json, runk_error_t *err);
/* A request with only an op ("ping", "mount-share"). */
int factory_agent_simple(struct agent_conn *agent, const char *op, runk_error_t *err);
/* Read frames until the exit EVENT of stream (its output is dropped). */
int factory_agent_wait_exit(struct agent_conn *agent, uint32_t stream, runk_error_t *err);
/* What factory_greet says besides fresh entropy (always) and the vCPUs to bring up (if > 1). */
#define FACTORY_GREET_PING  1u /* first: the agent is there */
#define FACTORY_GREET_CLOCK 2u /* the host's time */
#define FACTORY_GREET_SHARE 4u /* last: mount the share */
#define FACTORY_GREET_ALL   (FACTORY_GREET_PING | FACTORY_GREET_CLOCK | FACTORY_GREET_SHARE)
/*
 * The host's first words to a restored VM, as one batch of requests:
 * nothing reaches the guest before its clock and its own entropy (clone.c).
 */
int factory_greet(struct agent_conn *agent, unsigned int what, unsigned int vcpus,
		  runk_error_t *err);

/*
 * Run one throw-away container in a restored VM whose share is the host
 * directory share, so that TCG has translated what a container's life takes
 * before the VM is parked in the pool (warm.c).
 */
int factory_warm(struct agent_conn *agent, const char *share, runk_error_t *err);

/* migrate-incoming from devstate and wait until the VM runs (clone.c). */
int factory_restore(struct vm *vm, const char *devstate, runk_error_t *err);

/* ---- counters (housekeeping.c) ---- */

enum factory_start { FACTORY_START_POOL, FACTORY_START_TEMPLATE, FACTORY_START_COLD };

/* Count one VM start of key's size (flocked read-modify-write of <key>.stats). */
void factory_count(const struct runk_conf *conf, const char *key, enum factory_start how);

/* One line for runk check: template dir, templates, pool entries ready/claimed. */
char *factory_summary(const struct runk_conf *conf);

#endif
