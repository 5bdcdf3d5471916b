/*
 * Containers, as the agent (parent) sees them: create clones the container's
 * init into its namespaces, where it sets up its root and waits on a pipe;
 * start releases it; the SIGCHLD handler reaps it and reports its exit.
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
#include <sys/epoll.h>
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

struct container *container_find_stream(struct agent *agent, uint32_t stream)
{
	for (struct container *c = agent->containers; c; c = c->next)
		if (c->stream == stream)
			return c;
	return NULL;
}

static void oci_config_freep(struct oci_config **cfg)
{
	oci_config_free(*cfg);
}

/* The pipes between the agent and one container's init. */
struct child_pipes {
	int in[2], out[2], err[2];
	int start[2]; /* the agent writes one byte to start the process */
	int sync[2];  /* the child reports "ready" (a 0 byte) or an error message */
};

static void pipes_close(struct child_pipes *p)
{
	int *fds = (int *)p;

	for (size_t i = 0; i < sizeof(*p) / sizeof(int); i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

static int pipes_open(struct child_pipes *p, runk_error_t *err)
{
	int *fds = (int *)p;

	for (size_t i = 0; i < sizeof(*p) / sizeof(int); i++)
		fds[i] = -1;
	for (size_t i = 0; i < sizeof(*p) / sizeof(int); i += 2)
		if (pipe2(fds + i, O_CLOEXEC) < 0) {
			pipes_close(p);
			return runk_error_errno(err, errno, "pipe");
		}
	return 0;
}

static int namespace_flag(const char *type, runk_error_t *err)
{
	static const struct {
		const char *type;
		int flag;
	} table[] = {
		{"pid", CLONE_NEWPID}, {"mount", CLONE_NEWNS},	  {"uts", CLONE_NEWUTS},
		{"ipc", CLONE_NEWIPC}, {"network", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(type, table[i].type) == 0)
			return table[i].flag;
	return runk_error(err, "namespace type `%s` is not supported yet", type);
}

static int clone_flags(const struct oci_config *cfg, int *flags, runk_error_t *err)
{
	/* The container's mounts must never leak into the agent: always a mount namespace. */
	*flags = CLONE_NEWNS;
	if (cfg->linux == NULL)
		return 0;
	for (size_t i = 0; i < cfg->linux->namespaces_len; i++) {
		const struct oci_linux_namespace *ns = cfg->linux->namespaces[i];
		int flag = namespace_flag(ns->type, err);

		if (flag < 0)
			return -1;
		if (ns->path && ns->path[0])
			return runk_error(err,
					  "joining the %s namespace at %s is not supported yet",
					  ns->type, ns->path);
		*flags |= flag;
	}
	return 0;
}

/* root.path is relative to the container's directory in the share and must stay inside it. */
static int rootfs_path(const char *dir, const struct oci_config *cfg, char **out, runk_error_t *err)
{
	cleanup_free char *joined = NULL, *real_dir = NULL, *real_root = NULL;
	const char *path = cfg->root ? cfg->root->path : NULL;
	size_t dlen;

	if (path == NULL || path[0] == '\0')
		return runk_error(err, "config.json: root.path is missing");
	if (path[0] == '/')
		return runk_error(err, "config.json: root.path `%s` must be relative to the bundle",
				  path);
	if (asprintf(&joined, "%s/%s", dir, path) < 0)
		abort();
	real_dir = realpath(dir, NULL);
	real_root = realpath(joined, NULL);
	if (real_dir == NULL || real_root == NULL)
		return runk_error_errno(err, errno, "root.path `%s`", path);
	dlen = strlen(real_dir);
	if (strncmp(real_root, real_dir, dlen) != 0 || real_root[dlen] != '/')
		return runk_error(err, "config.json: root.path `%s` leaves the bundle", path);
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
	if (p->terminal)
		return runk_error(err, "config.json: process.terminal is not supported yet");
	return 0;
}

/* Close every descriptor from 3 up except the two the child still needs. */
static void close_fds_except(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		close_range(3, (unsigned int)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned int)lo + 1, (unsigned int)hi - 1, 0);
	close_range((unsigned int)hi + 1, UINT_MAX, 0);
}

static void child_fail(int sync_fd, runk_error_t err)
{
	cleanup_free char *text = runk_error_text(err);

	if (write(sync_fd, text, strlen(text)) < 0)
		_exit(1);
	_exit(1);
}

/* The container's init, between clone and exec.  Never returns. */
static void child_main(const struct oci_config *cfg, const char *rootfs, int flags,
		       struct child_pipes *p)
{
	runk_error_t err = NULL;
	sigset_t all;
	char go;

	/* Undo what PID 1 set up for itself: ignored and blocked signals survive exec. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setsid();
	if (dup2(p->in[0], 0) < 0 || dup2(p->out[1], 1) < 0 || dup2(p->err[1], 2) < 0) {
		runk_error_errno(&err, errno, "dup2 stdio");
		child_fail(p->sync[1], err);
	}
	close_fds_except(p->start[0], p->sync[1]);
	if (rootfs_setup(cfg, rootfs, flags, &err) < 0 || process_set_user(cfg, &err) < 0)
		child_fail(p->sync[1], err);
	if (chdir(cfg->process->cwd) < 0) {
		runk_error_errno(&err, errno, "chdir to cwd %s", cfg->process->cwd);
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
	process_exec(cfg);
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

static void pidns_record(struct container *c)
{
	char path[64];
	struct stat self, st;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)c->pid);
	if (stat(path, &st) < 0 || stat("/proc/self/ns/pid", &self) < 0)
		return;
	c->pidns_dev = st.st_dev;
	c->pidns_ino = st.st_ino;
	c->own_pidns = st.st_ino != self.st_ino || st.st_dev != self.st_dev;
}

static int container_watch(struct agent *agent, struct container *c, runk_error_t *err)
{
	fcntl(c->in.fd, F_SETFL, O_NONBLOCK);
	fcntl(c->out.fd, F_SETFL, O_NONBLOCK);
	fcntl(c->err.fd, F_SETFL, O_NONBLOCK);
	c->in.watch = (struct watch){WATCH_STDIN, c};
	c->out.watch = (struct watch){WATCH_STDOUT, c};
	c->err.watch = (struct watch){WATCH_STDERR, c};
	if (agent_watch(agent, c->out.fd, EPOLLIN, &c->out.watch, err) < 0 ||
	    agent_watch(agent, c->err.fd, EPOLLIN, &c->err.watch, err) < 0)
		return -1;
	return 0;
}

int container_create(struct agent *agent, const char *id, uint32_t stream, pid_t *pid,
		     runk_error_t *err)
{
	__attribute__((cleanup(oci_config_freep))) struct oci_config *cfg = NULL;
	cleanup_free char *dir = NULL, *config_path = NULL, *rootfs = NULL, *parse_err = NULL;
	struct child_pipes p;
	struct container *c;
	int flags;
	pid_t child;

	if (container_find(agent, id))
		return runk_error(err, "container `%s` already exists", id);
	if (container_find_stream(agent, stream))
		return runk_error(err, "stream %u is already in use", stream);
	if (asprintf(&dir, "%s/%s", AGENT_SHARE_DIR, id) < 0 ||
	    asprintf(&config_path, "%s/config.json", dir) < 0)
		abort();
	cfg = oci_config_parse_file(config_path, &parse_err);
	if (cfg == NULL)
		return runk_error(err, "%s: %s", config_path,
				  parse_err ? parse_err : "parse error");
	if (config_check(cfg, err) < 0 || clone_flags(cfg, &flags, err) < 0 ||
	    rootfs_path(dir, cfg, &rootfs, err) < 0)
		return -1;
	if (pipes_open(&p, err) < 0)
		return -1;
	child = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (child < 0) {
		pipes_close(&p);
		return runk_error_errno(err, errno, "clone the container's init");
	}
	if (child == 0)
		child_main(cfg, rootfs, flags, &p);

	close(p.in[0]), close(p.out[1]), close(p.err[1]), close(p.start[0]), close(p.sync[1]);
	p.in[0] = p.out[1] = p.err[1] = p.start[0] = p.sync[1] = -1;
	if (child_wait_ready(p.sync[0], err) < 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		pipes_close(&p);
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->id = strdup(id)) == NULL)
		abort();
	c->stream = stream;
	c->pid = child;
	c->start_fd = p.start[1];
	c->in.fd = p.in[1];
	c->out.fd = p.out[0];
	c->err.fd = p.err[0];
	close(p.sync[0]);
	pidns_record(c);
	c->next = agent->containers;
	agent->containers = c;
	if (container_watch(agent, c, err) < 0)
		return -1;
	log_info("created container %s, pid %d, stream %u", id, (int)child, stream);
	*pid = child;
	return 0;
}

int container_start(struct agent *agent, struct container *c, runk_error_t *err)
{
	char go = 1;

	if (c->exited)
		return runk_error(err, "container `%s` has exited", c->id);
	if (c->start_fd < 0)
		return runk_error(err, "container `%s` was already started", c->id);
	if (write(c->start_fd, &go, 1) != 1)
		return runk_error_errno(err, errno, "start container `%s`", c->id);
	close(c->start_fd);
	c->start_fd = -1;
	return 0;
}

/*
 * --all: every process in the container's pid namespace.  There is no
 * per-container cgroup yet (resources come with a later issue), so walk
 * /proc and compare each process's pid namespace with the container's.
 * The agent lives in the root namespace and is never matched.  Without a
 * pid namespace of its own only the init can be told apart.
 */
static int signal_pidns(struct container *c, int sig, runk_error_t *err)
{
	cleanup_dir DIR *proc = opendir("/proc");
	struct dirent *de;

	if (proc == NULL)
		return runk_error_errno(err, errno, "open /proc");
	while ((de = readdir(proc)) != NULL) {
		char path[300];
		struct stat st;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/pid", pid);
		if (stat(path, &st) < 0 || st.st_ino != c->pidns_ino || st.st_dev != c->pidns_dev)
			continue;
		if (kill((pid_t)pid, sig) < 0 && errno != ESRCH)
			return runk_error_errno(err, errno, "kill %ld", pid);
	}
	return 0;
}

int container_signal(struct agent *agent, struct container *c, int sig, bool all, runk_error_t *err)
{
	/* Like runc: `kill --all` of a stopped container succeeds, a plain kill does not. */
	if (c->exited)
		return all ? 0 : runk_error(err, "container `%s` is not running", c->id);
	if (all && c->own_pidns)
		return signal_pidns(c, sig, err);
	if (kill(c->pid, sig) < 0)
		return runk_error_errno(err, errno, "kill container `%s`", c->id);
	return 0;
}

void container_maybe_report_exit(struct agent *agent, struct container *c)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_free char *text = NULL;
	struct proto_json *json;
	size_t len;

	if (!c->exited || c->event_sent || c->out.fd >= 0 || c->err.fd >= 0)
		return;
	json = proto_json_new();
	proto_json_add_string(json, "event", "exit");
	proto_json_add_int(json, "status", c->exit_status);
	proto_json_add_int(json, "signal", c->exit_signal);
	if (proto_json_finish(json, &text, &len, &err) < 0) {
		agent_log_err("exit event", err);
		return;
	}
	c->event_sent = true;
	log_info("container %s exited: status %d signal %d", c->id, c->exit_status, c->exit_signal);
	agent_send(agent, PROTO_EVENT, c->stream, text, len);
}

void container_reap_all(struct agent *agent)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct container *c;

		for (c = agent->containers; c; c = c->next)
			if (c->pid == pid && !c->exited)
				break;
		if (c == NULL)
			continue; /* an orphan reparented to PID 1 */
		c->exited = true;
		if (WIFSIGNALED(status)) {
			c->exit_signal = WTERMSIG(status);
			c->exit_status = 128 + c->exit_signal;
		} else {
			c->exit_status = WEXITSTATUS(status);
		}
		if (c->start_fd >= 0) {
			close(c->start_fd);
			c->start_fd = -1;
		}
		io_close_stdin(agent, c);
		container_maybe_report_exit(agent, c);
	}
}
