/* The VMM jail: see jail.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/jail.h"
#include "util.h"

/*
 * What QEMU keeps as root.  The share is 9p with security_model=none: QEMU
 * does every file operation of the guest with its own credentials, so a
 * root guest expects root's file powers over its rootfs and bind mounts:
 *   CAP_CHOWN        chown/chgrp in the guest is fchownat on the host
 *   CAP_DAC_OVERRIDE read/write/search files the guest owns as other users
 *   CAP_FOWNER       chmod, utimes, xattrs on files QEMU does not own
 *   CAP_FSETID       keep setgid bits on chmod of files of foreign groups
 * Deliberately not CAP_DAC_READ_SEARCH (open_by_handle_at reaches any inode
 * of a mounted file system, the classic container escape), nor CAP_MKNOD
 * (QEMU's 9p refuses special files anyway), nor anything of SYS_ADMIN,
 * SYS_PTRACE, NET_ADMIN, SETUID/SETGID: with the jail's mounts made, QEMU
 * can neither mount, nor enter other processes, nor change identity.
 */
static const cap_value_t root_caps[] = {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID};

enum bind_flags {
	BIND_RO = 1 << 0,
	BIND_REC = 1 << 1,   /* the share: the rootfs and bind mounts are mounts under it */
	BIND_DEV = 1 << 2,   /* a device node: no nodev */
	BIND_EXEC = 1 << 3,  /* /usr: QEMU, its libraries and modules */
	BIND_NOFAIL = 1 << 4 /* optional (/dev/kvm under TCG is not bound at all) */
};

struct bind {
	char *source;
	char *target; /* host path of the mount point inside the jail dir */
	unsigned int flags;
};

#define MAX_BINDS 24

struct vm_jail {
	char *root;
	char *run;
	char *qemu;
	struct bind binds[MAX_BINDS];
	size_t n_binds;
	bool switch_user;
	uid_t uid;
	gid_t gid;
	cap_t keep; /* the root QEMU's sets: permitted = effective = root_caps */
};

const char *vm_jail_root_caps(void)
{
	return "cap_chown,cap_dac_override,cap_fowner,cap_fsetid";
}

int vm_jail_parse_user(const char *user, uid_t *uid, gid_t *gid, runk_error_t *err)
{
	struct passwd *pw;
	char *end;
	unsigned long u, g;

	if (user == NULL || *user == '\0')
		return runk_error(err, "[hypervisor] user: empty");
	if (*user >= '0' && *user <= '9') {
		errno = 0;
		u = strtoul(user, &end, 10);
		g = u;
		if (*end == ':')
			g = strtoul(end + 1, &end, 10);
		if (errno || *end || u >= UINT_MAX || g >= UINT_MAX)
			return runk_error(err, "[hypervisor] user `%s`: not uid or uid:gid", user);
	} else {
		errno = 0;
		pw = getpwnam(user);
		if (pw == NULL)
			return runk_error(err, "[hypervisor] user `%s`: no such user", user);
		u = pw->pw_uid;
		g = pw->pw_gid;
	}
	if (u == 0 || g == 0)
		return runk_error(err,
				  "[hypervisor] user `%s`: must be unprivileged (leave it empty "
				  "for root with only the share's capabilities)",
				  user);
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

void vm_jail_free(struct vm_jail *jail)
{
	if (jail == NULL)
		return;
	for (size_t i = 0; i < jail->n_binds; i++) {
		free(jail->binds[i].source);
		free(jail->binds[i].target);
	}
	if (jail->keep)
		cap_free(jail->keep);
	free(jail->root);
	free(jail->run);
	free(jail->qemu);
	free(jail);
}

static char *join(const char *a, const char *b)
{
	char *path;

	if (asprintf(&path, "%s%s", a, b) < 0)
		abort();
	return path;
}

/* A mount point in the jail: an empty file or directory like the source, parents made. */
static int add_bind(struct vm_jail *jail, const char *source, const char *inside,
		    unsigned int flags, runk_error_t *err)
{
	cleanup_free char *target = join(jail->root, inside);
	cleanup_free char *parent = strdup(target);
	struct stat st;
	int fd;

	if (parent == NULL)
		abort();
	if (jail->n_binds == MAX_BINDS)
		return runk_error(err, "jail: too many mounts");
	if (stat(source, &st) < 0) {
		if (flags & BIND_NOFAIL)
			return 0;
		return runk_error_errno(err, errno, "jail: `%s`", source);
	}
	*strrchr(parent, '/') = '\0';
	if (*parent && mkdir_p(parent, 0755, err) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(target, 0755) < 0 && errno != EEXIST)
			return runk_error_errno(err, errno, "jail: mkdir `%s`", target);
	} else {
		fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return runk_error_errno(err, errno, "jail: create `%s`", target);
		close(fd);
	}
	jail->binds[jail->n_binds++] = (struct bind){
		.source = strdup(source),
		.target = steal_pointer(&target),
		.flags = flags,
	};
	if (jail->binds[jail->n_binds - 1].source == NULL)
		abort();
	return 0;
}

/*
 * QEMU is dynamically linked and loads firmware and modules (accel-tcg)
 * at run time: /usr read-only, and /bin, /lib... as the host has them
 * (symlinks into /usr on a merged-/usr system, else read-only binds).
 */
static int add_system(struct vm_jail *jail, runk_error_t *err)
{
	static const char *const top[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};

	if (add_bind(jail, "/usr", "/usr", BIND_RO | BIND_EXEC, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		cleanup_free char *target = join(jail->root, top[i]);
		char link[PATH_MAX];
		struct stat st;
		ssize_t n;

		if (lstat(top[i], &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (add_bind(jail, top[i], top[i], BIND_RO | BIND_EXEC, err) < 0)
				return -1;
			continue;
		}
		if (!S_ISLNK(st.st_mode))
			continue;
		n = readlink(top[i], link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (symlink(link, target) < 0)
			return runk_error_errno(err, errno, "jail: symlink `%s`", target);
	}
	return 0;
}

/* The QEMU binary as execvp would find it, made absolute. */
static char *qemu_absolute(const char *qemu)
{
	const char *path = getenv("PATH");

	if (strchr(qemu, '/'))
		return realpath(qemu, NULL);
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		cleanup_free char *candidate = NULL;

		if (asprintf(&candidate, "%.*s/%s", (int)n, p, qemu) < 0)
			abort();
		if (access(candidate, X_OK) == 0)
			return realpath(candidate, NULL);
		p += n;
		if (*p == ':')
			p++;
	}
	return NULL;
}

static int add_qemu(struct vm_jail *jail, const char *qemu_path, runk_error_t *err)
{
	const char *wanted = qemu_path ? qemu_path : DEFAULT_QEMU_PATH;
	cleanup_free char *qemu = qemu_absolute(wanted);

	if (qemu == NULL)
		return runk_error(err, "jail: QEMU `%s` not found", wanted);
	/* Under /usr it is there already; anywhere else it gets a read-only bind of its own. */
	if (strncmp(qemu, "/usr/", 5) == 0) {
		jail->qemu = steal_pointer(&qemu);
		return 0;
	}
	if (add_bind(jail, qemu, "/qemu", BIND_RO | BIND_EXEC, err) < 0)
		return -1;
	jail->qemu = strdup("/qemu");
	if (jail->qemu == NULL)
		abort();
	return 0;
}

/* A file QEMU opens or creates by name: made here first, so a user QEMU can open it. */
static int add_owned_file(struct vm_jail *jail, const char *source, const char *inside,
			  runk_error_t *err)
{
	int fd = open(source, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0)
		return runk_error_errno(err, errno, "jail: create `%s`", source);
	if (jail->switch_user && fchown(fd, jail->uid, jail->gid) < 0) {
		int saved = errno;

		close(fd);
		return runk_error_errno(err, saved, "jail: chown `%s`", source);
	}
	close(fd);
	return add_bind(jail, source, inside, 0, err);
}

/* cfg's socket path on the host → a symlink to where QEMU makes it in <jail>/run. */
static int link_socket(struct vm_jail *jail, const char *host_path, const char *name,
		       runk_error_t *err)
{
	cleanup_free char *target = NULL;
	const char *slash = strrchr(host_path, '/');
	size_t dir_len = slash ? (size_t)(slash - host_path) : 0;

	if (asprintf(&target, "%s/%s", jail->run, name) < 0)
		abort();
	/*
	 * Relative when the jail is below the socket's directory: a pool entry is
	 * renamed (new- → ready- → claimed-) with its QEMU running.
	 */
	if (slash && strncmp(target, host_path, dir_len) == 0 && target[dir_len] == '/')
		memmove(target, target + dir_len + 1, strlen(target + dir_len + 1) + 1);
	if (unlink(host_path) < 0 && errno != ENOENT)
		return runk_error_errno(err, errno, "remove stale socket `%s`", host_path);
	if (symlink(target, host_path) < 0)
		return runk_error_errno(err, errno, "symlink `%s`", host_path);
	return 0;
}

static int fill(struct vm_jail *jail, const struct vm_config *cfg, struct vm_config *jailed,
		runk_error_t *err)
{
	enum vm_accel accel = cfg->accel;

	/* A jail left by an earlier QEMU of this VM (a failed clone): its mounts died with it. */
	remove_tree(jail->root, NULL);
	if (mkdir_p(jail->root, 0755, err) < 0 || mkdir_p(jail->run, 0700, err) < 0)
		return -1;
	if (jail->switch_user && chown(jail->run, jail->uid, jail->gid) < 0)
		return runk_error_errno(err, errno, "jail: chown `%s`", jail->run);
	if (add_system(jail, err) < 0 || add_qemu(jail, cfg->qemu_path, err) < 0)
		return -1;
	/*
	 * QEMU's 9p changes modes through /proc/self/fd/N (there is no
	 * lchmod).  Not procfs itself (other processes, /proc/sys): only the
	 * fd directory of the child, which becomes QEMU's at exec; "self" is
	 * resolved in the child, when it mounts.
	 */
	if (add_bind(jail, "/proc/self/fd", "/proc/self/fd", BIND_RO, err) < 0)
		return -1;
	if (add_bind(jail, "/dev/null", "/dev/null", BIND_DEV, err) < 0 ||
	    add_bind(jail, "/dev/urandom", "/dev/urandom", BIND_DEV | BIND_RO, err) < 0)
		return -1;
	if (accel == VM_ACCEL_AUTO && vm_accel_resolve(accel, &accel, NULL, err) < 0)
		return -1;
	if (accel == VM_ACCEL_KVM && add_bind(jail, "/dev/kvm", "/dev/kvm", BIND_DEV, err) < 0)
		return -1;

	if (add_bind(jail, cfg->kernel, "/vmlinux", BIND_RO, err) < 0)
		return -1;
	jailed->kernel = "/vmlinux";
	if (cfg->initrd) {
		if (add_bind(jail, cfg->initrd, "/initrd", BIND_RO, err) < 0)
			return -1;
		jailed->initrd = "/initrd";
	}
	if (cfg->share_dir) {
		if (add_bind(jail, cfg->share_dir, "/share", BIND_REC, err) < 0)
			return -1;
		jailed->share_dir = "/share";
	}
	if (cfg->mem_path) {
		/*
		 * A clone maps the template's file private, but QEMU 7.2 opens it
		 * read-write all the same (readonly=on would map it read-only):
		 * SECURITY.md says what that exposes.
		 */
		if (add_owned_file(jail, cfg->mem_path, "/mem", err) < 0)
			return -1;
		jailed->mem_path = "/mem";
	}
	if (cfg->console_log) {
		if (add_owned_file(jail, cfg->console_log, "/console.log", err) < 0)
			return -1;
		jailed->console_log = "/console.log";
	}
	jailed->qemu_path = jail->qemu;
	jailed->qmp_socket = "/run/qmp.sock";
	jailed->agent_socket = "/run/agent.sock";
	if (link_socket(jail, cfg->qmp_socket, "qmp.sock", err) < 0 ||
	    link_socket(jail, cfg->agent_socket, "agent.sock", err) < 0)
		return -1;
	jailed->jail_dir = NULL;
	return 0;
}

int vm_jail_prepare(const struct vm_config *cfg, struct vm_config *jailed, struct vm_jail **out,
		    runk_error_t *err)
{
	struct vm_jail *jail = calloc(1, sizeof(*jail));
	cleanup_vm_jail struct vm_jail *owned = jail;

	if (jail == NULL)
		abort();
	*jailed = *cfg;
	jail->root = strdup(cfg->jail_dir);
	jail->run = join(cfg->jail_dir, "/run");
	if (jail->root == NULL || cfg->jail_dir[0] != '/')
		return runk_error(err, "jail: `%s` is not an absolute path", cfg->jail_dir);
	if (cfg->jail_user && *cfg->jail_user) {
		if (vm_jail_parse_user(cfg->jail_user, &jail->uid, &jail->gid, err) < 0)
			return -1;
		jail->switch_user = true;
	}
	jail->keep = cap_init();
	if (jail->keep == NULL)
		abort();
	if (!jail->switch_user &&
	    (cap_set_flag(jail->keep, CAP_PERMITTED, sizeof(root_caps) / sizeof(root_caps[0]),
			  root_caps, CAP_SET) < 0 ||
	     cap_set_flag(jail->keep, CAP_EFFECTIVE, sizeof(root_caps) / sizeof(root_caps[0]),
			  root_caps, CAP_SET) < 0))
		return runk_error_errno(err, errno, "cap_set_flag");
	if (fill(jail, cfg, jailed, err) < 0) {
		remove_tree(jail->root, NULL);
		return runk_error_prefix(err, "prepare the VMM jail `%s`", cfg->jail_dir);
	}
	*out = steal_pointer(&owned);
	return 0;
}

const char *vm_jail_qemu(const struct vm_jail *jail)
{
	return jail->qemu;
}

/* ---- in the child ---- */

static int remount(const char *target, unsigned long flags)
{
	return mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL);
}

static unsigned long bind_mount_flags(unsigned int flags)
{
	unsigned long mf = MS_NOSUID;

	if (flags & BIND_RO)
		mf |= MS_RDONLY;
	if (!(flags & BIND_DEV))
		mf |= MS_NODEV;
	if (!(flags & BIND_EXEC))
		mf |= MS_NOEXEC;
	return mf;
}

static int make_mounts(const struct vm_jail *jail, const char **step)
{
	*step = "make the mount namespace private";
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	/* pivot_root wants the new root to be a mount point. */
	*step = "bind the jail onto itself";
	if (mount(jail->root, jail->root, NULL, MS_BIND, NULL) < 0)
		return -errno;
	for (size_t i = 0; i < jail->n_binds; i++) {
		const struct bind *b = &jail->binds[i];

		*step = b->source;
		if (mount(b->source, b->target, NULL, MS_BIND | (b->flags & BIND_REC ? MS_REC : 0),
			  NULL) < 0 ||
		    remount(b->target, bind_mount_flags(b->flags)) < 0)
			return -errno;
	}
	/* The one writable place besides the share and the RAM file: QEMU's sockets. */
	*step = "mount the jail's /run";
	if (mount(jail->run, jail->run, NULL, MS_BIND, NULL) < 0 ||
	    remount(jail->run, MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0)
		return -errno;
	return 0;
}

static int pivot(const struct vm_jail *jail, const char **step)
{
	/*
	 * pivot_root(".", ".") stacks the old root on the new one; detaching
	 * it leaves the jail as the only tree QEMU can name.
	 */
	*step = "pivot_root into the jail";
	if (chdir(jail->root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return -errno;
	*step = "make the jail's root read-only";
	if (remount("/", MS_RDONLY | MS_NOSUID | MS_NODEV) < 0)
		return -errno;
	return 0;
}

static int drop_privileges(const struct vm_jail *jail, const char **step)
{
	cap_value_t last = CAP_LAST_CAP;

	*step = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/*
	 * A root process gets its bounding set as permitted at exec: cut the
	 * bounding set to what it may keep (all of it for a user QEMU, which
	 * keeps nothing).  The kernel may know more capabilities than libcap.
	 */
	*step = "drop capabilities from the bounding set";
	while (prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
		last++;
	for (cap_value_t c = 0; c <= last; c++) {
		bool keep = false;

		for (size_t i = 0;
		     !jail->switch_user && i < sizeof(root_caps) / sizeof(root_caps[0]); i++)
			keep = keep || root_caps[i] == c;
		if (!keep && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return -errno;
	}
	*step = "clear the ambient capabilities";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	if (jail->switch_user) {
		/*
		 * QEMU 7.2's own -runas calls setuid after its seccomp filter
		 * (elevateprivileges=deny) is in place and dies of SIGSYS, so the
		 * user is switched here, before exec: QEMU never holds root.
		 */
		*step = "switch to [hypervisor] user";
		if (setgroups(1, &jail->gid) < 0 ||
		    setresgid(jail->gid, jail->gid, jail->gid) < 0 ||
		    setresuid(jail->uid, jail->uid, jail->uid) < 0)
			return -errno;
	}
	*step = "set the capabilities";
	if (cap_set_proc(jail->keep) < 0)
		return -errno;
	return 0;
}

/*
 * QEMU's own -sandbox is a deny list of whole features (spawn, setuid,
 * obsolete and resource-control calls); it lets a process reach its peers.
 * Every jailed QEMU has the same uid and capabilities, and the host's root
 * processes the same uid, so without this a QEMU taken over by its guest
 * could ptrace or read the memory of another VM's QEMU, or kill(-1) every
 * root process.  QEMU signals only itself (its threads, abort).
 */
static int confine_to_self(const char **step)
{
	static const int peer_calls[] = {
		SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
		SCMP_SYS(kcmp),	  SCMP_SYS(pidfd_getfd),      SCMP_SYS(pidfd_send_signal),
		SCMP_SYS(tkill),
	};
	static const int signal_calls[] = {SCMP_SYS(kill), SCMP_SYS(tgkill),
					   SCMP_SYS(rt_sigqueueinfo), SCMP_SYS(rt_tgsigqueueinfo)};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	scmp_datum_t self = (scmp_datum_t)getpid();
	int r = 0;

	*step = "install the syscall filter against other processes";
	if (ctx == NULL)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < sizeof(peer_calls) / sizeof(peer_calls[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), peer_calls[i], 0);
	for (size_t i = 0; r == 0 && i < sizeof(signal_calls) / sizeof(signal_calls[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), signal_calls[i], 1,
				     SCMP_A0(SCMP_CMP_NE, self));
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

int vm_jail_enter(const struct vm_jail *jail, const char **step)
{
	int r = make_mounts(jail, step);

	if (r == 0)
		r = pivot(jail, step);
	if (r == 0)
		r = drop_privileges(jail, step);
	if (r == 0)
		r = confine_to_self(step);
	return r;
}
