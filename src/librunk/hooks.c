#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "hooks.h"
#include "log.h"
#include "util.h"

static void exec_hook(const struct oci_hook *hook, int stdin_fd)
{
	char *default_argv[] = {hook->path, NULL};
	char *empty_env[] = {NULL};

	dup2(stdin_fd, STDIN_FILENO);
	execve(hook->path, hook->args_len ? hook->args : default_argv,
	       hook->env_len ? hook->env : empty_env);
	fprintf(stderr, "runk: exec hook `%s`: %s\n", hook->path, strerror(errno));
	_exit(127);
}

/* Wait for the hook, killing it once timeout_s (0: none) has passed. */
static int wait_hook(pid_t pid, long long timeout_s, int *status)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t r = waitpid(pid, status, timeout_s > 0 ? WNOHANG : 0);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout_s > 0 && now.tv_sec - start.tv_sec >= timeout_s) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return 1;
		}
		if (timeout_s > 0)
			usleep(10000);
	}
}

static int run_one(const char *kind, const struct oci_hook *hook, const char *state_json,
		   runk_error_t *err)
{
	int input[2];
	int status = 0, timed_out;
	pid_t pid;

	if (pipe2(input, O_CLOEXEC) < 0)
		return runk_error_errno(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(input[0]);
		close(input[1]);
		return runk_error_errno(err, errno, "fork %s hook", kind);
	}
	if (pid == 0) {
		close(input[1]);
		exec_hook(hook, input[0]);
	}
	close(input[0]);
	/* A hook that does not read its stdin must not block us: SIGPIPE is ignored by runk. */
	signal(SIGPIPE, SIG_IGN);
	write_all(input[1], state_json, strlen(state_json));
	close(input[1]);
	timed_out = wait_hook(pid, hook->has_timeout ? hook->timeout : 0, &status);
	if (timed_out < 0)
		return runk_error_errno(err, errno, "wait for %s hook `%s`", kind, hook->path);
	if (timed_out)
		return runk_error(err, "%s hook `%s` timed out after %lld s", kind, hook->path,
				  (long long)hook->timeout);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return runk_error(err, "%s hook `%s` was killed by signal %d", kind, hook->path,
				  WTERMSIG(status));
	return runk_error(err, "%s hook `%s` failed with exit status %d", kind, hook->path,
			  WEXITSTATUS(status));
}

int hooks_run(const char *kind, struct oci_hook **hooks, size_t n, const char *state_json,
	      runk_error_t *err)
{
	for (size_t i = 0; i < n; i++) {
		log_debug("running %s hook %s", kind, hooks[i]->path);
		if (run_one(kind, hooks[i], state_json, err) < 0)
			return -1;
	}
	return 0;
}

static int check_kind(const char *kind, struct oci_hook **hooks, size_t n, const char *config_path,
		      runk_error_t *err)
{
	for (size_t i = 0; i < n; i++) {
		if (hooks[i] == NULL || hooks[i]->path == NULL)
			return runk_error(err, "invalid `%s`: hooks.%s[%zu].path: missing",
					  config_path, kind, i);
		if (hooks[i]->path[0] != '/')
			return runk_error(err,
					  "invalid `%s`: hooks.%s[%zu].path: `%s` is not absolute",
					  config_path, kind, i, hooks[i]->path);
	}
	return 0;
}

int hooks_check_paths(const struct oci_hooks *hooks, const char *config_path, runk_error_t *err)
{
	if (hooks == NULL)
		return 0;
	if (check_kind("prestart", hooks->prestart, hooks->prestart_len, config_path, err) < 0 ||
	    check_kind("createRuntime", hooks->create_runtime, hooks->create_runtime_len,
		       config_path, err) < 0 ||
	    check_kind("createContainer", hooks->create_container, hooks->create_container_len,
		       config_path, err) < 0 ||
	    check_kind("startContainer", hooks->start_container, hooks->start_container_len,
		       config_path, err) < 0 ||
	    check_kind("poststart", hooks->poststart, hooks->poststart_len, config_path, err) < 0 ||
	    check_kind("poststop", hooks->poststop, hooks->poststop_len, config_path, err) < 0)
		return -1;
	return 0;
}
