/*
 * The VMM jail (jail.c), after Firecracker's jailer: QEMU runs in its own
 * mount namespace, pivoted into a per-VM directory that holds only what it
 * needs (the kernel, the initrd, its sockets, the share, the template's RAM
 * file, /dev/null and /dev/urandom, and /usr read-only for its own libraries,
 * firmware and modules), with a bounding set cut down to what the 9p share
 * needs, or as an unprivileged user with no capabilities at all.
 *
 * Inside the jail QEMU sees fixed names (/vmlinux, /initrd, /share, /mem,
 * /run/qmp.sock, /run/agent.sock, /console.log); the host keeps using the
 * paths of its vm_config: each socket path becomes a symlink into
 * <jail>/run, so connect() reaches QEMU's socket.
 *
 * The jail directory is plain directories and empty files on the host: the
 * mounts exist only in QEMU's namespace and vanish with it, so removing
 * the directory (the state dir's removal does) leaves nothing behind.
 */
#ifndef RUNK_JAIL_H
#define RUNK_JAIL_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct vm_config;
struct vm_jail;

/*
 * In the parent: create cfg->jail_dir afresh (mount points, /run), the
 * socket symlinks, and *jailed, a copy of cfg with the paths QEMU sees (valid
 * while *jail lives).  Nothing is mounted yet.
 */
int vm_jail_prepare(const struct vm_config *cfg, struct vm_config *jailed, struct vm_jail **jail,
		    runk_error_t *err);

/*
 * In the child, between fork and exec (single-threaded parent: the memory
 * it uses was allocated before the fork): unshare the mount namespace,
 * mount, pivot_root, drop capabilities or switch user.  0, or -errno with
 * *step naming what failed.
 */
int vm_jail_enter(const struct vm_jail *jail, const char **step);

/* The absolute path to execute inside the jail. */
const char *vm_jail_qemu(const struct vm_jail *jail);

void vm_jail_free(struct vm_jail *jail);

/* [hypervisor] user: "" (root with the share's capabilities), a name, "uid" or "uid:gid". */
int vm_jail_parse_user(const char *user, uid_t *uid, gid_t *gid, runk_error_t *err);

/* The capabilities a jailed QEMU keeps as root, for runk check: "cap_chown,...". */
const char *vm_jail_root_caps(void);

#define cleanup_vm_jail __attribute__((cleanup(vm_jail_freep)))
static inline void vm_jail_freep(struct vm_jail **jail)
{
	vm_jail_free(*jail);
}

#endif
