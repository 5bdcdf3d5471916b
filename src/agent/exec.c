/*
 * exec: a new process inside a running (or created) container.
 *
 * The agent forks a helper that moves itself into the container's cgroup,
 * joins the init's namespaces (setns on /proc/<init>/ns/...; joining the
 * mount namespace also puts it at that namespace's root, the container's)
 * and then forks the process itself: a pid namespace only applies to
 * children.  That fork uses CLONE_PARENT so the process is the agent's
 * child, reaped and reported like an init, rather than an orphan the
 * container's init would inherit.  The helper passes the process's pid up
 * and exits; setup errors of either come back as text on an error pipe
 * that exec closes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "ocispec.h"

/* How long exec waits for the process to be set up and exec'd. */
#define EXEC_TIMEOUT_MS 30000

static void oci_process_freep(struct oci_process **p)
{
	oci_process_free(*p);
}

static void fail(int fd, runk_error_t err)
{
	cleanup_free char *text = runk_error_text(err);

	if (write(fd, text, strlen(text)) < 0)
		_exit(1);
	_exit(1);
}

/* The process itself, in every namespace of the container.  Never returns. */
static void process_main(const struct oci_process *proc, const struct process_plan *plan,
			 const struct stdio_fds *stdio, int err_fd)
{
	runk_error_t err = NULL;
	int keep[] = {err_fd};

	if (stdio_child_setup(stdio, &err) < 0)
		fail(err_fd, err);
	close_fds_except(keep, 1);
	if (process_setup(proc, plan, &err) < 0)
		fail(err_fd, err);
	if (chdir(proc->cwd) < 0) {
		runk_error_errno(&err, errno, "process.cwd: chdir to %s", proc->cwd);
		fail(err_fd, err);
	}
	process_exec(proc, plan);
}

/* The helper: cgroup, namespaces, then the process.  Never returns. */
static void helper_main(struct container *c, const struct oci_process *proc,
			const struct process_plan *plan, const struct stdio_fds *stdio, int pid_fd,
			int err_fd)
{
	runk_error_t err = NULL;
	struct ns_fds ns;
	sigset_t none;
	pid_t child;

	/* Undo what PID 1 set up for itself: ignored and blocked signals survive exec. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Before any setns: the paths are the agent's.  Only the init's that differ are joined. */
	if (cgroup_enter(c->cgroup, &err) < 0 ||
	    ns_fds_open(&ns, c->init->pid, NS_ALL, true, &err) < 0 ||
	    ns_fds_enter(&ns, NS_ALL, &err) < 0)
		fail(err_fd, err);
	child = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), NULL, NULL, NULL,
			       0);
	if (child < 0) {
		runk_error_errno(&err, errno, "fork the process");
		fail(err_fd, err);
	}
	if (child == 0)
		process_main(proc, plan, stdio, err_fd);
	if (write(pid_fd, &child, sizeof(child)) != sizeof(child))
		_exit(1);
	_exit(0);
}

/* The error pipe: EOF with nothing read means the process exec'd (or is exiting 126/127). */
static int wait_exec(int fd, runk_error_t *err)
{
	char msg[4096];
	size_t got = 0;

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int r = poll(&pfd, 1, EXEC_TIMEOUT_MS);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return runk_error(err, "the process was not started in %d s",
					  EXEC_TIMEOUT_MS / 1000);
		n = read(fd, msg + got, sizeof(msg) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return runk_error_errno(err, errno, "read the exec error pipe");
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == sizeof(msg) - 1)
			break;
	}
	if (got == 0)
		return 0;
	msg[got] = '\0';
	return runk_error(err, "%s", msg);
}

static int process_check(const struct oci_process *p, runk_error_t *err)
{
	if (p->args == NULL || p->args_len == 0 || p->args[0] == NULL || p->args[0][0] == '\0')
		return runk_error(err, "process.args is empty");
	if (p->cwd == NULL || p->cwd[0] != '/')
		return runk_error(err, "process.cwd must be an absolute path");
	return 0;
}

int exec_process(struct agent *agent, struct container *c, uint32_t stream,
		 const char *process_json, size_t len, pid_t *pid, runk_error_t *err)
{
	__attribute__((cleanup(oci_process_freep))) struct oci_process *proc = NULL;
	cleanup_free char *parse_err = NULL;
	cleanup_close int pid_r = -1, err_r = -1;
	struct stdio_fds stdio;
	struct process_plan plan;
	int pid_pipe[2], err_pipe[2], status;
	pid_t helper, child = -1;
	struct proc *p;

	if (!container_running(c))
		return runk_error(err, "container `%s` is not running", c->id);
	/* The helper would freeze in the cgroup, and the agent with it, waiting for the helper. */
	if (c->frozen)
		return runk_error(err, "container `%s` is frozen", c->id);
	if (proc_find_stream(agent, stream))
		return runk_error(err, "stream %u is already in use", stream);
	proc = oci_process_parse_data(process_json, len, &parse_err);
	if (proc == NULL)
		return runk_error(err, "process: %s", parse_err ? parse_err : "parse error");
	if (process_check(proc, err) < 0)
		return -1;
	/* The container's seccomp filter and personality, the exec's own caps and rlimits. */
	if (process_plan_make(proc, c->cfg ? c->cfg->linux : NULL, &plan, err) < 0)
		return -1;
	if (stdio_open(&stdio, proc, err) < 0) {
		process_plan_free(&plan);
		return -1;
	}
	if (pipe2(pid_pipe, O_CLOEXEC) < 0) {
		process_plan_free(&plan);
		stdio_close(&stdio);
		return runk_error_errno(err, errno, "pipe");
	}
	if (pipe2(err_pipe, O_CLOEXEC) < 0) {
		process_plan_free(&plan);
		close(pid_pipe[0]), close(pid_pipe[1]);
		stdio_close(&stdio);
		return runk_error_errno(err, errno, "pipe");
	}
	helper = fork();
	if (helper == 0) {
		close(pid_pipe[0]), close(err_pipe[0]);
		helper_main(c, proc, &plan, &stdio, pid_pipe[1], err_pipe[1]);
	}
	process_plan_free(&plan);
	pid_r = pid_pipe[0], err_r = err_pipe[0];
	close(pid_pipe[1]), close(err_pipe[1]);
	stdio_close_child(&stdio);
	if (helper < 0) {
		stdio_close(&stdio);
		return runk_error_errno(err, errno, "fork");
	}
	/* The helper only joins namespaces and forks: it never blocks. */
	while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
		;
	if (read(pid_r, &child, sizeof(child)) != sizeof(child))
		child = -1;
	if (wait_exec(err_r, err) < 0 || child <= 0 || stdio_receive(&stdio, err) < 0) {
		if (child > 0) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
		stdio_close(&stdio);
		return child > 0 ? -1 : runk_error(err, "the exec helper failed");
	}
	p = proc_new(agent, c, stream);
	p->pid = child;
	stdio_give(&stdio, p);
	if (proc_watch(agent, p, err) < 0) {
		/* Too late to undo the process: let its exit be reaped and forgotten. */
		kill(child, SIGKILL);
		proc_kill_streams(agent, p);
		return -1;
	}
	log_info("exec in %s: pid %d on stream %u", c->id, (int)child, stream);
	*pid = child;
	return 0;
}
