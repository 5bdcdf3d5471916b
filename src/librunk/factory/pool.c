/*
 * The pool: QEMUs already restored from a template, warmed (warm.c) and
 * stopped, waiting for a container.  Starting QEMU is about half of a
 * clone's time; a pooled one only needs `cont` and the host's first words
 * (clock, entropy, share).
 *
 *   <template_dir>/<key>.pool/.lock          flock: one filler at a time
 *   <template_dir>/<key>.pool/new-XXXXXX     an entry whose QEMU is starting
 *   <template_dir>/<key>.pool/ready-XXXXXX   an entry a create may claim
 *   <template_dir>/<key>.pool/claimed-XXXXXX an entry a shim uses
 *
 * An entry holds hard links to the template's mem and devstate (the pair
 * its QEMU was started from, whatever happens to the template later), the
 * QEMU's sockets, its log and the 9p share root.  Each entry has a keeper:
 * a small detached process that is QEMU's parent (QEMU dies with it:
 * PR_SET_PDEATHSIG) and holds a flock on the entry (a filler removes
 * entries whose keeper is gone).  There is no daemon: fillers fork keepers.
 *
 * Claiming is the keeper's decision, so it is atomic: a shim connects to
 * keeper.sock and sends "claim"; the first one gets "ok <QEMU pid>", the
 * entry is renamed claimed-*, and from then on the keeper kills QEMU as soon
 * as that connection closes — kill -9 of the shim leaves no QEMU.  An
 * unclaimed keeper ends its QEMU after template_ttl, or when its entry is
 * removed (factory destroy, a bad template).
 *
 * The keeper runs in its own mount namespace, which QEMU shares; the claiming
 * shim moves a copy of the container's share into it (open_tree +
 * move_mount) at share/<id>, where the guest looks for it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "factory/factory.h"
#include "log.h"
#include "share.h"
#include "util.h"

#define KEEPER_SOCKET	   "keeper.sock"
#define KEEPER_CREATED	   FACTORY_CLAIM_CREATED
#define KEEPER_TICK_MS	   1000
#define CLAIM_TIMEOUT_MS   2000
#define POOL_START_TIMEOUT 30000
#define POOL_NICE	   19

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *factory_pool_dir(const struct runk_conf *conf, const char *key)
{
	char *path;

	if (asprintf(&path, "%s/%s.pool", conf->template_dir, key) < 0)
		abort();
	return path;
}

static char *join(const char *dir, const char *name)
{
	char *path;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	return path;
}

/* ---- the keeper ---- */

struct keeper {
	const struct vm_config *base;
	const char *key;
	const struct runk_conf *conf;
	char *pool;	 /* <template_dir>/<key>.pool */
	char *entry;	 /* its current path (renamed on claim) */
	char suffix[32]; /* the XXXXXX of the entry's name */
	int dir_fd;	 /* the entry, flocked */
	int listen_fd;
	int conn_fd; /* the claiming shim's connection */
	bool refill; /* claimed: a replacement is due once the shim's container is created */
	pid_t qemu;
	int qemu_pidfd;
	struct agent_conn agent; /* handed to the claiming shim */
};

/* Link the template's mem and devstate into the entry, from one directory: a matching pair. */
static int link_template(const struct runk_conf *conf, const char *key, const char *entry,
			 runk_error_t *err)
{
	cleanup_free char *tdir = factory_path(conf, key, NULL);
	cleanup_close int tfd = open(tdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	static const char *const names[] = {"mem", "devstate"};

	if (tfd < 0)
		return runk_error_errno(err, errno, "open template `%s`", tdir);
	for (size_t i = 0; i < 2; i++) {
		cleanup_free char *to = join(entry, names[i]);

		if (linkat(tfd, names[i], AT_FDCWD, to, 0) < 0)
			return runk_error_errno(err, errno, "link the template's %s", names[i]);
	}
	return 0;
}

static int keeper_listen(struct keeper *k, runk_error_t *err)
{
	cleanup_free char *path = join(k->entry, KEEPER_SOCKET);
	cleanup_close int dir_fd = -1;
	struct sockaddr_un addr;

	if (unix_sockaddr(path, &addr, &dir_fd, err) < 0)
		return -1;
	k->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (k->listen_fd < 0 || bind(k->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(k->listen_fd, 8) < 0)
		return runk_error_errno(err, errno, "listen on `%s`", path);
	return 0;
}

/* Start QEMU in the entry, restore the template into it and stop it there. */
static int keeper_start_vm(struct keeper *k, const struct vm_config *base, runk_error_t *err)
{
	cleanup_free char *params = factory_params(base);
	cleanup_free char *agent = join(k->entry, "agent.sock"), *qmp = join(k->entry, "qmp.sock");
	cleanup_free char *share = join(k->entry, "share"), *log = join(k->entry, "qemu.log");
	cleanup_free char *mem = join(k->entry, "mem"), *devstate = join(k->entry, "devstate");
	cleanup_free char *jail = join(k->entry, "jail");
	struct vm *vm = NULL;
	struct vm_config cfg;

	if (mkdir(share, 0755) < 0)
		return runk_error_errno(err, errno, "mkdir `%s`", share);
	factory_template_config(base, params, factory_template_vcpus(k->conf), &cfg);
	cfg.name = "runk-pool";
	cfg.agent_socket = agent;
	cfg.qmp_socket = qmp;
	cfg.share_dir = share;
	cfg.qemu_log = log;
	cfg.mem_path = mem;
	cfg.mem_shared = false; /* copy-on-write: the template is never written */
	cfg.incoming = true;
	/* Jailed like every other QEMU: a pooled VM is a container's VM once claimed. */
	cfg.jail_dir = k->conf->jail ? jail : NULL;
	cfg.jail_user = k->conf->jail_user;
	if (vm_start(&cfg, &vm, err) < 0)
		return -1;
	k->qemu = vm_pid(vm);
	k->qemu_pidfd = (int)syscall(SYS_pidfd_open, k->qemu, 0);
	/*
	 * Restored now, past the agent's first answer with its own host
	 * entropy, warmed by a throw-away container (under TCG its paths are
	 * then translated), then stopped until claimed: a waiting VM costs no
	 * CPU.  The share stays mounted: the claiming shim adds its own below.
	 */
	if (factory_restore(vm, devstate, err) < 0 ||
	    agent_connect(agent, 5000, &k->agent, err) < 0 ||
	    factory_greet(&k->agent, FACTORY_GREET_PING, 1, err) < 0 ||
	    factory_warm(&k->agent, share, err) < 0 ||
	    qmp_execute(vm_qmp(vm), "stop", NULL, NULL, err) < 0) {
		vm_destroy(vm);
		k->qemu = -1;
		return -1;
	}
	/* QMP serves one client: the claiming shim's. */
	vm_release(vm);
	return 0;
}

static bool entry_removed(const struct keeper *k)
{
	struct stat st;

	return fstat(k->dir_fd, &st) < 0 || st.st_nlink == 0;
}

static int send_with_fd(int sock, const char *text, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = {0};
	struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)iov.iov_len ? 0 : -1;
}

/* Read a short text and at most one fd (*fd -1 if none came). */
static ssize_t recv_with_fd(int sock, char *buf, size_t size, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = {0};
	struct iovec iov = {.iov_base = buf, .iov_len = size};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *cmsg;
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);

	*fd = -1;
	for (cmsg = CMSG_FIRSTHDR(&msg); n >= 0 && cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
		    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
	return n;
}

/* One connection on keeper.sock: "claim" → "ok <pid>" to the first, "no" to the others. */
static void keeper_accept(struct keeper *k)
{
	struct timeval tv = {.tv_sec = CLAIM_TIMEOUT_MS / 1000};
	cleanup_free char *claimed = NULL, *sock = NULL;
	char buf[16] = "", reply[32];
	int fd = accept4(k->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0 || strncmp(buf, "claim\n", 6) != 0 || k->conn_fd >= 0 || entry_removed(k)) {
		if (write(fd, "no\n", 3) < 0) {
			/* it hung up: nothing to tell */
		}
		close(fd);
		return;
	}
	if (asprintf(&claimed, "%s/claimed-%s", k->pool, k->suffix) < 0)
		abort();
	sock = join(k->entry, KEEPER_SOCKET);
	unlink(sock);
	if (rename(k->entry, claimed) < 0) {
		close(fd);
		return;
	}
	free(k->entry);
	k->entry = steal_pointer(&claimed);
	k->refill = true;
	snprintf(reply, sizeof(reply), "ok %d\n", (int)k->qemu);
	if (send_with_fd(fd, reply, k->agent.fd) < 0) {
		close(fd);
		k->conn_fd = -2; /* claimed by a shim that is gone already */
		return;
	}
	agent_close(&k->agent); /* the shim's now */
	k->conn_fd = fd;
	close(k->listen_fd);
	k->listen_fd = -1;
}

/*
 * The replacement comes from us, not from the claiming shim: under an
 * engine's subreaper (conmon, a containerd shim) a keeper would be adopted
 * by it and keep it alive.  It starts once the claiming shim's container is
 * created (or the claim ended without one): preparing a VM (QEMU's start,
 * the restore, the warm-up) takes far more CPU than a claim, and the
 * container that claimed goes first.  The new keeper drops the share mounts
 * it copies from our namespace.
 */
static void keeper_refill(struct keeper *k)
{
	if (!k->refill)
		return;
	k->refill = false;
	factory_pool_fill(k->base, k->conf, k->key, NULL);
}

/* Until QEMU exits, its shim hangs up, or (unclaimed) the TTL passes or the entry is removed. */
static void keeper_loop(struct keeper *k)
{
	long long expires = now_ms() + (long long)k->conf->template_ttl_s * 1000;

	while (k->conn_fd != -2) {
		struct pollfd fds[3] = {
			{.fd = k->qemu_pidfd, .events = POLLIN},
			{.fd = k->listen_fd, .events = POLLIN},
			{.fd = k->conn_fd, .events = POLLIN},
		};
		int n = poll(fds, 3, KEEPER_TICK_MS);

		if (n < 0 && errno != EINTR)
			return;
		if (fds[0].revents)
			return; /* QEMU is gone */
		if (fds[2].revents) {
			char buf[64];
			ssize_t len = read(k->conn_fd, buf, sizeof(buf));

			if (len <= 0)
				return; /* the shim is gone: so is its VM */
			if ((size_t)len >= strlen(KEEPER_CREATED) &&
			    memcmp(buf, KEEPER_CREATED, strlen(KEEPER_CREATED)) == 0)
				keeper_refill(k);
		}
		if (fds[1].revents)
			keeper_accept(k);
		if (k->conn_fd < 0 &&
		    (entry_removed(k) || (k->conf->template_ttl_s && now_ms() > expires)))
			return;
	}
}

/* The shares a shim mounted in our namespace: mountpoints cannot be removed. */
static void keeper_unmount_shares(const struct keeper *k)
{
	cleanup_free char *share = join(k->entry, "share");
	cleanup_dir DIR *dir = opendir(share);
	struct dirent *de;

	while (dir && (de = readdir(dir)) != NULL) {
		cleanup_free char *path = NULL;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		path = join(share, de->d_name);
		umount2(path, MNT_DETACH);
	}
}

static void keeper_end(struct keeper *k)
{
	agent_close(&k->agent);
	if (k->qemu > 0) {
		/* Our child, not reaped yet: the pid is still its own. */
		kill(k->qemu, SIGKILL);
		while (waitpid(k->qemu, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (!entry_removed(k)) {
		keeper_unmount_shares(k);
		remove_tree(k->entry, NULL);
	}
}

/* Title, stdio, cgroups and mounts of a detached helper process (template.c). */
void factory_detach_process(const char *title, const struct runk_conf *conf, const char *state_dir,
			    int keep_fd);
/* Wait until a shim reported its container created or is gone (template.c). */
bool factory_wait_created(pid_t shim, const char *state_dir, int timeout_ms);

/*
 * Orphans go to init, or to the nearest subreaper among our ancestors (conmon,
 * a containerd shim), which would wait for a keeper that lives for hours.
 */
static bool adopted_by_init(pid_t intermediate)
{
	for (int i = 0; i < 1000 && getppid() == intermediate; i++)
		usleep(1000);
	return getppid() == 1;
}

static __attribute__((noreturn)) void keeper_run(const struct vm_config *base,
						 const struct runk_conf *conf, const char *key,
						 char *entry, int dir_fd, pid_t shim,
						 const char *state_dir, pid_t intermediate)
{
	cleanup_error runk_error_t err = NULL;
	struct keeper k = {.base = base,
			   .key = key,
			   .conf = conf,
			   .pool = factory_pool_dir(conf, key),
			   .entry = entry,
			   .dir_fd = dir_fd,
			   .listen_fd = -1,
			   .conn_fd = -1,
			   .qemu = -1,
			   .qemu_pidfd = -1,
			   .agent = {.fd = -1}};
	cleanup_free char *ready = NULL, *shares = NULL;

	snprintf(k.suffix, sizeof(k.suffix), "%s", strrchr(entry, '-') + 1);
	/* A shim's container share, or (spawned by a claimed keeper) the shares in the pool. */
	if (state_dir ? asprintf(&shares, "%s/share/", state_dir) < 0
		      : asprintf(&shares, "%s/", k.pool) < 0)
		abort();
	factory_detach_process("runk-pool-keeper", conf, shares, dir_fd);
	if (!adopted_by_init(intermediate)) {
		log_debug(
			"no pooled VM started from under a subreaper (an engine's monitor "
			"would wait for it): the pool refills from keepers and runk factory init");
		remove_tree(entry, NULL);
		_exit(0);
	}
	/* Let the container that asked for us boot first: two cores go far. */
	if (state_dir)
		factory_wait_created(shim, state_dir, (int)conf->boot_timeout_s * 1000);
	/* Preparing a VM for later yields to containers running now; a claim undoes this. */
	if (setpriority(PRIO_PROCESS, 0, POOL_NICE) < 0) {
		/* a keeper at normal priority is still correct */
	}
	if (link_template(conf, key, entry, &err) < 0 || keeper_listen(&k, &err) < 0 ||
	    keeper_start_vm(&k, base, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_warning("pool entry for template %s: %s", key, text);
		keeper_end(&k);
		_exit(1);
	}
	if (asprintf(&ready, "%s/ready-%s", k.pool, k.suffix) < 0)
		abort();
	if (entry_removed(&k) || rename(k.entry, ready) < 0) {
		keeper_end(&k);
		_exit(0);
	}
	free(k.entry);
	k.entry = steal_pointer(&ready);
	keeper_loop(&k);
	keeper_refill(&k); /* claimed, but the container was never created */
	keeper_end(&k);
	_exit(0);
}

/* ---- filling ---- */

/* An entry whose keeper is gone (its flock is free) is removed; true if it lives. */
static bool entry_alive(const char *path)
{
	cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		remove_tree(path, NULL);
		return false;
	}
	return true;
}

static void spawn_keeper(const struct vm_config *base, const struct runk_conf *conf,
			 const char *key, const char *pool, const char *state_dir)
{
	cleanup_free char *entry = NULL;
	cleanup_close int dir_fd = -1;
	pid_t shim = getpid(), pid;

	if (asprintf(&entry, "%s/new-XXXXXX", pool) < 0)
		abort();
	if (mkdtemp(entry) == NULL) {
		log_warning("pool: mkdtemp `%s`: %s", entry, strerror(errno));
		return;
	}
	/* Locked before the keeper exists, so no filler takes the entry for a dead one. */
	dir_fd = open(entry, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0 || flock(dir_fd, LOCK_EX | LOCK_NB) < 0) {
		remove_tree(entry, NULL);
		return;
	}
	pid = fork();
	if (pid < 0) {
		log_warning("pool: fork: %s", strerror(errno));
		remove_tree(entry, NULL);
		return;
	}
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return;
	}
	setsid();
	pid = getpid();
	if (fork() != 0)
		_exit(0);
	keeper_run(base, conf, key, steal_pointer(&entry), dir_fd, shim, state_dir, pid);
}

void factory_pool_fill(const struct vm_config *base, const struct runk_conf *conf, const char *key,
		       const char *state_dir)
{
	cleanup_free char *pool = NULL, *lock_path = NULL;
	cleanup_close int lock = -1;
	cleanup_dir DIR *dir = NULL;
	struct dirent *de;
	unsigned int alive = 0;

	if (conf->pool == 0 || !conf->template_enabled)
		return;
	pool = factory_pool_dir(conf, key);
	lock_path = join(pool, ".lock");
	if (mkdir(pool, 0700) < 0 && errno != EEXIST)
		return;
	lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return;
	dir = opendir(pool);
	while (dir && (de = readdir(dir)) != NULL) {
		cleanup_free char *path = NULL;

		if (strncmp(de->d_name, "new-", 4) != 0 && strncmp(de->d_name, "ready-", 6) != 0 &&
		    strncmp(de->d_name, "claimed-", 8) != 0)
			continue;
		path = join(pool, de->d_name);
		if (entry_alive(path) && de->d_name[0] != 'c')
			alive++;
	}
	for (; alive < conf->pool; alive++)
		spawn_keeper(base, conf, key, pool, state_dir);
}

/* ---- claiming ---- */

/* Ask one entry's keeper: 0 and the claim if we got it. */
static int claim_entry(const char *pool, const char *name, struct factory_claim *claim)
{
	cleanup_free char *entry = join(pool, name), *sock = join(entry, KEEPER_SOCKET);
	struct timeval tv = {.tv_sec = CLAIM_TIMEOUT_MS / 1000};
	struct sockaddr_un addr;
	cleanup_close int dir_fd = -1;
	char reply[32] = "";
	int fd, pid = 0, agent_fd = -1;

	if (unix_sockaddr(sock, &addr, &dir_fd, NULL) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    write_all(fd, "claim\n", 6) < 0 ||
	    recv_with_fd(fd, reply, sizeof(reply) - 1, &agent_fd) <= 0 ||
	    sscanf(reply, "ok %d", &pid) != 1 || pid <= 1 || agent_fd < 0) {
		if (agent_fd >= 0)
			close(agent_fd);
		close(fd);
		return -1;
	}
	claim->keeper_fd = fd;
	claim->agent_fd = agent_fd;
	claim->qemu = pid;
	if (asprintf(&claim->dir, "%s/claimed-%s", pool, strchr(name, '-') + 1) < 0)
		abort();
	return 0;
}

int factory_pool_claim(const struct runk_conf *conf, const char *key, struct factory_claim *claim)
{
	cleanup_free char *pool = factory_pool_dir(conf, key);
	cleanup_dir DIR *dir = NULL;
	struct dirent *de;

	*claim = (struct factory_claim){.keeper_fd = -1, .agent_fd = -1, .qemu = -1};
	if (conf->pool == 0)
		return -1;
	dir = opendir(pool);
	while (dir && (de = readdir(dir)) != NULL) {
		cleanup_free char *jail = NULL;

		if (strncmp(de->d_name, "ready-", 6) != 0)
			continue;
		/* A VM started under another [hypervisor] jail setting is not this one's. */
		if (asprintf(&jail, "%s/%s/jail", pool, de->d_name) < 0)
			abort();
		if ((access(jail, F_OK) == 0) != conf->jail)
			continue;
		if (claim_entry(pool, de->d_name, claim) == 0) {
			claim->jailed = conf->jail;
			return 0;
		}
	}
	return -1;
}

void factory_claim_priority(pid_t qemu)
{
	cleanup_free char *path = NULL;
	cleanup_dir DIR *dir = NULL;
	struct dirent *de;
	int nice;

	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (nice == -1 && errno)
		return;
	if (asprintf(&path, "/proc/%d/task", (int)qemu) < 0)
		abort();
	dir = opendir(path);
	/* Per thread: setpriority(PRIO_PROCESS) sets one thread's nice value. */
	while (dir && (de = readdir(dir)) != NULL) {
		int tid = atoi(de->d_name);

		if (tid > 0 && setpriority(PRIO_PROCESS, (id_t)tid, nice) < 0)
			log_debug("nice value of QEMU thread %d: %s", tid, strerror(errno));
	}
}

void factory_claim_created(int keeper_fd)
{
	if (keeper_fd >= 0 && write(keeper_fd, KEEPER_CREATED, strlen(KEEPER_CREATED)) < 0)
		log_debug("the pooled VM's keeper is gone: %s", strerror(errno));
}

void factory_claim_release(struct factory_claim *claim)
{
	/* The keeper kills the QEMU when we hang up. */
	if (claim->keeper_fd >= 0)
		close(claim->keeper_fd);
	claim->keeper_fd = -1;
	if (claim->agent_fd >= 0)
		close(claim->agent_fd);
	claim->agent_fd = -1;
	free(claim->dir);
	claim->dir = NULL;
}

int factory_pool_share(const struct factory_claim *claim, const char *source, const char *id,
		       runk_error_t *err)
{
	cleanup_free char *share = join(claim->dir, "share"), *target = join(share, id);
	cleanup_free char *jailed_target = NULL;

	if (mkdir(target, 0755) < 0)
		return runk_error_errno(err, errno, "mkdir `%s`", target);
	/* In a jailed QEMU's namespace the share root is /share (the same directory). */
	if (claim->jailed && asprintf(&jailed_target, "/share/%s", id) < 0)
		abort();
	return share_attach(claim->qemu, source, jailed_target ? jailed_target : target, err);
}
