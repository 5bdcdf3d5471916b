/*
 * Containers, as the agent (parent) sees them: create makes the container's
 * cgroup with its limits and clones the container's init into its
 * namespaces, where it joins the cgroup, sets up its root and waits on a
 * pipe; start releases it; the SIGCHLD handler reaps it (and every process
 * exec'd into it) and reports its exit; delete kills what is left and
 * forgets the container.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "ocispec.h"

/* How long create waits for the child to finish setting up its root. */
#define SETUP_TIMEOUT_MS 30000

struct container *container_find(struct agent *agent, const char *id)
{
	for (struct container *c = agent->containers; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

bool container_running(const struct container *c)
{
	return c->init && !c->init->exited;
}

static void oci_config_freep(struct oci_config **cfg)
{
	oci_config_free(*cfg);
}

static void ns_fds_closep(struct ns_fds *n)
{
	ns_fds_close(n);
}

/* The pipes between the agent and one container's init, besides its stdio. */
struct child_pipes {
	int start[2]; /* the agent writes one byte to start the process */
	int sync[2];  /* the child reports "ready" (a 0 byte) or an error message */
	int go[2];    /* the agent placed the child in its cgroup (and wrote its id maps) */
};

static void pipes_close(struct child_pipes *p)
{
	int *fds[] = {&p->start[0], &p->start[1], &p->sync[0], &p->sync[1], &p->go[0], &p->go[1]};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

static int pipes_open(struct child_pipes *p, runk_error_t *err)
{
	p->start[0] = p->start[1] = p->sync[0] = p->sync[1] = p->go[0] = p->go[1] = -1;
	if (pipe2(p->start, O_CLOEXEC) < 0 || pipe2(p->sync, O_CLOEXEC) < 0 ||
	    pipe2(p->go, O_CLOEXEC) < 0) {
		pipes_close(p);
		return runk_error_errno(err, errno, "pipe");
	}
	return 0;
}

/*
 * The host resolved root.path (relative to the bundle or absolute, as podman
 * gives it) and bind-mounted it at <share>/<id>/rootfs: that is the root,
 * whatever root.path says.  It must stay inside the container's directory.
 */
static int rootfs_path(const char *dir, const struct oci_config *cfg, char **out, runk_error_t *err)
{
	cleanup_free char *joined = NULL, *real_dir = NULL, *real_root = NULL;
	size_t dlen;

	if (cfg->root == NULL || cfg->root->path == NULL || cfg->root->path[0] == '\0')
		return runk_error(err, "config.json: root.path is missing");
	if (asprintf(&joined, "%s/rootfs", dir) < 0)
		abort();
	real_dir = realpath(dir, NULL);
	real_root = realpath(joined, NULL);
	if (real_dir == NULL || real_root == NULL)
		return runk_error_errno(err, errno, "root.path `%s`", cfg->root->path);
	dlen = strlen(real_dir);
	if (strncmp(real_root, real_dir, dlen) != 0 || real_root[dlen] != '/')
		return runk_error(err, "config.json: root.path `%s` leaves the bundle",
				  cfg->root->path);
	*out = steal_pointer(&real_root);
	return 0;
}

static int config_check(const struct oci_config *cfg, runk_error_t *err)
{
	const struct oci_process *p = cfg->process;

	if (p == NULL)
		return runk_error(err, "config.json: process is missing");
	if (p->args == NULL || p->args_len == 0 || p->args[0] == NULL || p->args[0][0] == '\0')
		return runk_error(err, "config.json: process.args is empty");
	if (p->cwd == NULL || p->cwd[0] != '/')
		return runk_error(err, "config.json: process.cwd must be an absolute path");
	return 0;
}

/* What needs a namespace the config does not ask for, as runc checks it. */
static int config_check_namespaces(const struct oci_config *cfg, int flags, runk_error_t *err)
{
	const struct oci_linux *l = cfg->linux;

	if ((cfg->hostname && cfg->hostname[0]) && !(flags & CLONE_NEWUTS))
		return runk_error(err, "hostname: setting it needs a uts namespace");
	if ((cfg->domainname && cfg->domainname[0]) && !(flags & CLONE_NEWUTS))
		return runk_error(err, "domainname: setting it needs a uts namespace");
	if (l && l->rootfs_propagation && l->rootfs_propagation[0] &&
	    propagation_parse(l->rootfs_propagation) == 0)
		return runk_error(err, "linux.rootfsPropagation: unknown `%s`",
				  l->rootfs_propagation);
	if (flags & CLONE_NEWUSER) {
		if (l->uid_mappings_len == 0 || l->gid_mappings_len == 0)
			return runk_error(err, "linux.uidMappings/gidMappings: a user namespace "
					       "needs both");
	} else if (l && (l->uid_mappings_len || l->gid_mappings_len)) {
		return runk_error(err, "linux.uidMappings: mappings need a user namespace");
	}
	return 0;
}

static void child_fail(int sync_fd, runk_error_t err)
{
	cleanup_free char *text = runk_error_text(err);

	if (write(sync_fd, text, strlen(text)) < 0)
		_exit(1);
	_exit(1);
}

/*
 * The container's init, between clone and exec.  Never returns.  The agent
 * puts it in the container's cgroup (and writes its uid/gid maps) while it
 * waits on the go pipe; then it makes its cgroup namespace, rooted at the
 * container's cgroup.
 */
static void child_main(const struct oci_config *cfg, const struct rootfs_options *ro,
		       const struct process_plan *plan, const struct stdio_fds *stdio,
		       struct ns_fds *join, struct child_pipes *p)
{
	runk_error_t err = NULL;
	sigset_t all;
	int keep[2] = {p->start[0], p->sync[1]};
	int made = ro->clone_flags & ~ro->joined;
	char go;

	/* Undo what PID 1 set up for itself: ignored and blocked signals survive exec. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (read(p->go[0], &go, 1) != 1)
		_exit(1);
	close(p->go[0]);
	/*
	 * A pod member: its sandbox's network, ipc and uts namespaces (its pid
	 * namespace was the agent's for children at the clone), before the
	 * root: sysfs and mqueue mounts show the namespaces of their mounter.
	 */
	if (ns_fds_enter(join, ro->joined & ~CLONE_NEWPID, &err) < 0)
		child_fail(p->sync[1], err);
	/* Root of the user namespace from here on: files it makes need an owner it maps. */
	if ((ro->clone_flags & CLONE_NEWUSER) &&
	    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		runk_error_errno(&err, errno,
				 "linux.uidMappings: become root of the user namespace");
		child_fail(p->sync[1], err);
	}
	if ((ro->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
		runk_error_errno(&err, errno, "unshare the cgroup namespace");
		child_fail(p->sync[1], err);
	}
	/* A joined network namespace is the sandbox's, its lo already up. */
	if ((made & CLONE_NEWNET) && net_loopback_up(&err) < 0)
		child_fail(p->sync[1], err);
	/* stdio once the root is the container's: a pty comes from its /dev/pts. */
	if (rootfs_setup(cfg, ro, &err) < 0 || rootfs_finish(cfg, made, &err) < 0 ||
	    stdio_child_setup(stdio, &err) < 0)
		child_fail(p->sync[1], err);
	close_fds_except(keep, 2);
	if (process_setup(cfg->process, plan, &err) < 0)
		child_fail(p->sync[1], err);
	if (chdir(cfg->process->cwd) < 0) {
		runk_error_errno(&err, errno, "process.cwd: chdir to %s", cfg->process->cwd);
		child_fail(p->sync[1], err);
	}
	go = 0;
	if (write(p->sync[1], &go, 1) != 1)
		_exit(1);
	close(p->sync[1]);
	/* EOF instead of a byte: the agent gave up on this container. */
	if (read(p->start[0], &go, 1) != 1)
		_exit(1);
	close(p->start[0]);
	process_exec(cfg->process, plan);
}

/* Wait for the child's verdict on its setup: 0 ready, or an error with its message. */
static int child_wait_ready(int fd, runk_error_t *err)
{
	char msg[4096];
	size_t got = 0;

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;
		int r = poll(&pfd, 1, SETUP_TIMEOUT_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return runk_error(err, "container setup timed out");
		n = read(fd, msg + got, sizeof(msg) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return runk_error_errno(err, errno, "read from the container's init");
		if (n > 0 && got == 0 && msg[0] == '\0')
			return 0;
		got += (size_t)n;
		if (n == 0 || got == sizeof(msg) - 1)
			break;
	}
	if (got == 0)
		return runk_error(err, "the container's init died during setup");
	msg[got] = '\0';
	return runk_error(err, "%s", msg);
}

static void container_free(struct container *c)
{
	if (c == NULL)
		return;
	free(c->id);
	free(c->cgroup);
	oci_config_free(c->cfg);
	free(c);
}

/* The cgroup with the config's limits, before any process is in it. */
static int container_cgroup(struct container *c, const struct oci_config *cfg, runk_error_t *err)
{
	if (cgroup_create(c, err) < 0)
		return -1;
	if (cfg->linux && cfg->linux->resources &&
	    cgroup_apply(c->cgroup, cfg->linux->resources, err) < 0) {
		rmdir(c->cgroup);
		return -1;
	}
	return 0;
}

/* In the agent, while the child waits: its cgroup, its id maps, then go. */
static int child_place(pid_t child, const struct container *c, const struct oci_config *cfg,
		       int flags, int go_fd, runk_error_t *err)
{
	char pid[16], go = 1;

	snprintf(pid, sizeof(pid), "%d", (int)child);
	if (cgroup_add(c->cgroup, pid, err) < 0)
		return -1;
	if ((flags & CLONE_NEWUSER) && userns_write_maps(child, cfg->linux, err) < 0)
		return -1;
	if (write(go_fd, &go, 1) != 1)
		return runk_error_errno(err, errno, "release the container's init");
	return 0;
}

/*
 * clone(2), in pid_ns (an fd) when it is not -1: a pid namespace one joins
 * is only its children's, so the agent itself moves its namespace for
 * children there for the clone, then back to its own.  PID 1 may do so
 * (pid_ns is a descendant of its namespace); if it could not come back,
 * every later container would be born in the pod's namespace: power off.
 */
static pid_t clone_in(unsigned long flags, int pid_ns, runk_error_t *err)
{
	cleanup_close int own = -1;
	pid_t child;
	int saved;

	if (pid_ns >= 0) {
		own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (own < 0)
			return runk_error_errno(err, errno, "open /proc/self/ns/pid");
		if (setns(pid_ns, CLONE_NEWPID) < 0)
			return runk_error_errno(err, errno, "join the sandbox's pid namespace");
	}
	child = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
	saved = errno;
	if (own >= 0 && child != 0 && setns(own, CLONE_NEWPID) < 0) {
		runk_error_errno(err, errno, "return to the agent's own pid namespace");
		agent_fatal("after cloning a pod member's init", *err);
	}
	if (child < 0)
		return runk_error_errno(err, saved, "clone the container's init");
	return child;
}

/* Clone the init and wait until its root is ready; returns its pid. */
static pid_t init_spawn(const struct oci_config *cfg, const struct rootfs_options *ro,
			const struct process_plan *plan, struct container *c,
			struct stdio_fds *stdio, struct ns_fds *join, int *start_fd,
			runk_error_t *err)
{
	/* The cgroup namespace is made by the child once it is in the container's cgroup. */
	unsigned long flags = (unsigned long)(ro->clone_flags & ~ro->joined & ~CLONE_NEWCGROUP);
	struct child_pipes p;
	pid_t child;

	if (pipes_open(&p, err) < 0)
		return -1;
	child = clone_in(flags | SIGCHLD, ns_fds_get(join, CLONE_NEWPID), err);
	if (child < 0) {
		pipes_close(&p);
		return -1;
	}
	if (child == 0) {
		close(p.go[1]);
		child_main(cfg, ro, plan, stdio, join, &p);
	}
	close(p.start[0]), close(p.sync[1]), close(p.go[0]);
	p.start[0] = p.sync[1] = p.go[0] = -1;
	stdio_close_child(stdio);
	if (child_place(child, c, cfg, ro->clone_flags, p.go[1], err) < 0 ||
	    child_wait_ready(p.sync[0], err) < 0 || stdio_receive(stdio, err) < 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		pipes_close(&p);
		return -1;
	}
	*start_fd = steal_fd(&p.start[1]);
	pipes_close(&p);
	return child;
}

int container_create(struct agent *agent, const struct create_request *req, pid_t *pid,
		     runk_error_t *err)
{
	__attribute__((cleanup(oci_config_freep))) struct oci_config *cfg = NULL;
	__attribute__((cleanup(ns_fds_closep))) struct ns_fds join;
	cleanup_free char *dir = NULL, *config_path = NULL, *rootfs = NULL, *parse_err = NULL;
	const char *id = req->id;
	struct container *c;
	struct stdio_fds stdio;
	struct process_plan plan;
	struct rootfs_options ro = {.no_pivot = req->no_pivot, .joined = req->join};
	int flags, start_fd = -1;
	pid_t child;
	struct proc *p;

	ns_fds_init(&join);
	if (container_find(agent, id))
		return runk_error(err, "container `%s` already exists", id);
	if (proc_find_stream(agent, req->stream))
		return runk_error(err, "stream %u is already in use", req->stream);
	if (asprintf(&dir, "%s/%s", AGENT_SHARE_DIR, id) < 0 ||
	    asprintf(&config_path, "%s/config.json", dir) < 0)
		abort();
	cfg = oci_config_parse_file(config_path, &parse_err);
	if (cfg == NULL)
		return runk_error(err, "%s: %s", config_path,
				  parse_err ? parse_err : "parse error");
	if (config_check(cfg, err) < 0 || ns_config_flags(cfg, req->join, &flags, err) < 0 ||
	    config_check_namespaces(cfg, flags, err) < 0 || rootfs_path(dir, cfg, &rootfs, err) < 0)
		return -1;
	/* Held from here to the clone: the sandbox may die meanwhile, its namespaces stay. */
	if (req->join && ns_fds_open(&join, req->sandbox->init->pid, req->join, false, err) < 0)
		return runk_error_prefix(err, "sandbox `%s`", req->sandbox->id);
	ro.rootfs = rootfs;
	ro.share = dir;
	ro.clone_flags = flags;
	ro.terminal = cfg->process->terminal;
	/* Everything that can be checked before a process exists: caps, rlimits, seccomp... */
	if (process_plan_make(cfg->process, cfg->linux, &plan, err) < 0)
		return -1;
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->id = strdup(id)) == NULL)
		abort();
	c->start_fd = c->oom_wd = -1;
	if (container_cgroup(c, cfg, err) < 0) {
		process_plan_free(&plan);
		container_free(c);
		return -1;
	}
	if (stdio_open(&stdio, cfg->process, err) < 0) {
		process_plan_free(&plan);
		cgroup_destroy(c->cgroup, NULL);
		container_free(c);
		return -1;
	}
	stdio.console = cfg->process->terminal;
	child = init_spawn(cfg, &ro, &plan, c, &stdio, &join, &start_fd, err);
	process_plan_free(&plan);
	if (child < 0) {
		stdio_close(&stdio);
		cgroup_destroy(c->cgroup, NULL);
		container_free(c);
		return -1;
	}
	c->cfg = steal_pointer(&cfg);
	c->start_fd = start_fd;
	p = proc_new(agent, c, req->stream);
	p->pid = child;
	stdio_give(&stdio, p);
	c->init = p;
	c->next = agent->containers;
	agent->containers = c;
	cgroup_oom_watch(agent, c);
	if (proc_watch(agent, p, err) < 0) {
		container_delete(agent, c, NULL);
		return -1;
	}
	log_info("created container %s, pid %d, stream %u%s%s", id, (int)child, req->stream,
		 req->sandbox ? ", in the pod of " : "", req->sandbox ? req->sandbox->id : "");
	*pid = child;
	return 0;
}

int container_start(struct agent *agent, struct container *c, runk_error_t *err)
{
	char go = 1;

	if (!container_running(c))
		return runk_error(err, "container `%s` has exited", c->id);
	if (c->start_fd < 0)
		return runk_error(err, "container `%s` was already started", c->id);
	if (write(c->start_fd, &go, 1) != 1)
		return runk_error_errno(err, errno, "start container `%s`", c->id);
	close(c->start_fd);
	c->start_fd = -1;
	return 0;
}

int container_signal(struct agent *agent, struct container *c, struct proc *proc, int sig, bool all,
		     runk_error_t *err)
{
	/* --all reaches every process in the container's cgroup, exec'd ones too. */
	if (all)
		return cgroup_signal(c->cgroup, sig, err);
	if (proc == NULL)
		proc = c->init;
	/* Like runc: `kill --all` of a stopped container succeeds, a plain kill does not. */
	if (proc->exited) {
		if (proc == c->init)
			return runk_error(err, "container `%s` is not running", c->id);
		return runk_error(err, "the process on stream %u is not running", proc->stream);
	}
	if (kill(proc->pid, sig) < 0)
		return runk_error_errno(err, errno, "kill pid %d of container `%s`", (int)proc->pid,
					c->id);
	return 0;
}

int container_delete(struct agent *agent, struct container *c, runk_error_t *err)
{
	struct container **pp;

	if (c->oom_wd >= 0)
		inotify_rm_watch(agent->inotify_fd, c->oom_wd);
	c->oom_wd = -1;
	/* Kills what is left and waits for it to be gone. */
	if (cgroup_destroy(c->cgroup, err) < 0)
		return -1;
	for (struct proc *p = agent->procs; p; p = p->next) {
		if (p->container != c || p->dead)
			continue;
		if (!p->exited && waitpid(p->pid, NULL, WNOHANG) == 0)
			log_info("pid %d of %s still exiting; reaped later", (int)p->pid, c->id);
		proc_kill_streams(agent, p);
	}
	if (c->start_fd >= 0)
		close(c->start_fd);
	c->start_fd = -1;
	for (pp = &agent->containers; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->dead = true;
	c->next = agent->graveyard;
	agent->graveyard = c;
	log_info("deleted container %s", c->id);
	return 0;
}

void container_reap_all(struct agent *agent)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct proc *p;

		for (p = agent->procs; p; p = p->next)
			if (p->pid == pid && !p->exited && !p->dead)
				break;
		if (p == NULL)
			continue; /* an orphan reparented to PID 1 */
		p->exited = true;
		if (WIFSIGNALED(status)) {
			p->exit_signal = WTERMSIG(status);
			p->exit_status = 128 + p->exit_signal;
		} else {
			p->exit_status = WEXITSTATUS(status);
		}
		if (p->container->init == p && p->container->start_fd >= 0) {
			close(p->container->start_fd);
			p->container->start_fd = -1;
		}
		io_close_stdin(agent, p);
		proc_maybe_report_exit(agent, p);
	}
}
