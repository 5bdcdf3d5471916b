/* runk run: create and start a container, and wait for it */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "console.h"
#include "context.h"
#include "log.h"
#include "state.h"

static const struct cli_option run_options[] = {
	{"bundle", 'b', CLI_STRING, "path to the bundle directory (default: current directory)"},
	{"console-socket", 0, CLI_STRING, "unix socket that receives the console pty master"},
	{"detach", 'd', CLI_BOOL, "detach from the container process"},
	{"keep", 0, CLI_BOOL, "keep the container state after it exits"},
	{"pid-file", 0, CLI_STRING, "file to write the container PID to"},
	{"no-subreaper", 0, CLI_BOOL, "accepted for runc compatibility"},
	{"no-pivot", 0, CLI_BOOL, "do not use pivot_root to jail the process in its rootfs"},
	{"no-new-keyring", 0, CLI_BOOL, "do not create a new session keyring"},
	{"preserve-fds", 0, CLI_STRING, "pass N additional file descriptors to the container"},
	{0},
};

static volatile sig_atomic_t shim_pid;

/*
 * Signals sent to `runk run` go on to the container through its shim.  A
 * terminal's signals (SI_KERNEL) reach the shim directly, as it shares our
 * process group, so they are not sent twice.
 */
static void forward_signal(int signo, siginfo_t *info, void *context)
{
	(void)context;
	if (shim_pid > 0 && info->si_code != SI_KERNEL)
		kill(shim_pid, signo);
}

static void forward_signals(void)
{
	static const int signals[] = {SIGTERM, SIGINT,	 SIGHUP,  SIGQUIT, SIGUSR1,
				      SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIGPWR};
	struct sigaction sa = {.sa_sigaction = forward_signal, .sa_flags = SA_SIGINFO | SA_RESTART};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaction(signals[i], &sa, NULL);
}

/* runc's convention: the workload's exit code, or 128 + the signal that killed it. */
static int exit_status_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

static int cmd_run(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};
	const char *id = p->argv[0];
	bool detach = cli_bool(p, "detach");
	struct container_create_options o = {
		.id = id,
		.bundle = cli_string(p, "bundle"),
		.pid_file = cli_string(p, "pid-file"),
		.console_socket = cli_string(p, "console-socket"),
		.no_pivot = cli_bool(p, "no-pivot"),
		.detach = detach,
	};
	cleanup_error runk_error_t cleanup_err = NULL;
	int wstatus = 0;
	pid_t pid;

	if (cli_check_preserve_fds(p, err) < 0 || runk_session_open(g, &session, err) < 0)
		return -1;
	if (container_create(&session.ctx, &o, &pid, err) < 0) {
		console_restore();
		return -1;
	}
	shim_pid = pid;
	forward_signals();
	if (container_start(&session.ctx, id, err) < 0) {
		console_restore();
		container_delete(&session.ctx, id, true, &cleanup_err);
		return -1;
	}
	if (detach)
		return 0;
	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			runk_error_errno(err, errno, "wait for the container's shim");
			return -1;
		}
	}
	shim_pid = 0;
	console_restore();
	if (!cli_bool(p, "keep") && container_delete(&session.ctx, id, false, &cleanup_err) < 0) {
		cleanup_free char *text = runk_error_text(cleanup_err);

		log_warning("remove the state of `%s`: %s", id, text);
	}
	return exit_status_of(wstatus);
}

const struct cli_command runk_cmd_run = {
	.name = "run",
	.usage = "<container-id>",
	.summary = "create and start a container, and wait for it",
	.options = run_options,
	.min_args = 1,
	.max_args = 1,
	.run = cmd_run,
};
