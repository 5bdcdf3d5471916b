/* runk exec: run a new process in a running container, inside its VM */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "context.h"
#include "exec.h"
#include "ocispec.h"
#include "state.h"

static char **strv_copy(const char *const *items, size_t n)
{
	char **copy = calloc(n + 1, sizeof(char *));

	if (copy == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((copy[i] = strdup(items[i])) == NULL)
			abort();
	return copy;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* Set NAME=VALUE in env, replacing an entry for NAME if there is one. */
static void env_set(struct oci_process *proc, const char *entry)
{
	size_t name_len = strcspn(entry, "=");

	for (size_t i = 0; i < proc->env_len; i++) {
		if (strncmp(proc->env[i], entry, name_len) == 0 && proc->env[i][name_len] == '=') {
			free(proc->env[i]);
			proc->env[i] = strdup(entry);
			return;
		}
	}
	proc->env = realloc(proc->env, (proc->env_len + 2) * sizeof(char *));
	if (proc->env == NULL)
		abort();
	proc->env[proc->env_len++] = strdup(entry);
	proc->env[proc->env_len] = NULL;
}

static int parse_id(const char *what, const char *text, uint32_t *out, runk_error_t *err)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || *text == '-' || v > UINT32_MAX)
		return runk_error(err, "invalid %s `%s`", what, text);
	*out = (uint32_t)v;
	return 0;
}

/* -u UID[:GID] and -g GID...: runc takes numbers. */
static int apply_user(struct oci_process *proc, const struct cli_parsed *p, runk_error_t *err)
{
	const char *user = cli_string(p, "user");
	const char *const *gids;
	size_t n_gids = 0;

	if (proc->user == NULL && (proc->user = calloc(1, sizeof(*proc->user))) == NULL)
		abort();
	if (user) {
		cleanup_free char *copy = strdup(user);
		char *colon = strchr(copy, ':');

		if (colon)
			*colon = '\0';
		if (parse_id("user", copy, &proc->user->uid, err) < 0 ||
		    (colon && parse_id("group", colon + 1, &proc->user->gid, err) < 0))
			return -1;
	}
	gids = cli_list(p, "additional-gids", &n_gids);
	if (n_gids > 0) {
		free(proc->user->additional_gids);
		proc->user->additional_gids = calloc(n_gids, sizeof(uint32_t));
		if (proc->user->additional_gids == NULL)
			abort();
		proc->user->additional_gids_len = n_gids;
		for (size_t i = 0; i < n_gids; i++)
			if (parse_id("group", gids[i], &proc->user->additional_gids[i], err) < 0)
				return -1;
	}
	return 0;
}

/* Add --cap capabilities to every set, as runc exec does. */
static void add_caps(struct oci_process *proc, const struct cli_parsed *p)
{
	const char *const *caps;
	size_t n = 0;

	caps = cli_list(p, "cap", &n);
	if (n == 0)
		return;
	if (proc->capabilities == NULL &&
	    (proc->capabilities = calloc(1, sizeof(*proc->capabilities))) == NULL)
		abort();
	char ***sets[] = {&proc->capabilities->bounding, &proc->capabilities->effective,
			  &proc->capabilities->permitted, &proc->capabilities->ambient};
	size_t *lens[] = {&proc->capabilities->bounding_len, &proc->capabilities->effective_len,
			  &proc->capabilities->permitted_len, &proc->capabilities->ambient_len};

	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		*sets[s] = realloc(*sets[s], (*lens[s] + n + 1) * sizeof(char *));
		if (*sets[s] == NULL)
			abort();
		for (size_t i = 0; i < n; i++)
			(*sets[s])[(*lens[s])++] = strdup(caps[i]);
		(*sets[s])[*lens[s]] = NULL;
	}
}

/* The process from the container's own config.json, changed by the flags, as runc builds it. */
static int process_from_flags(const struct runk_context *ctx, const struct cli_parsed *p,
			      struct oci_process **out, runk_error_t *err)
{
	cleanup_free char *dir = NULL, *path = NULL, *parse_error = NULL;
	const char *const *env;
	struct oci_config *config;
	struct oci_process *proc;
	size_t n_env = 0;

	if (p->argc < 2)
		return runk_error(err, "exec: expects a command, or --process");
	if (state_dir_path(ctx->root, p->argv[0], &dir, err) < 0)
		return -1;
	if (asprintf(&path, "%s/%s", dir, CONFIG_COPY) < 0)
		abort();
	if (access(path, F_OK) < 0)
		return runk_error(err, "container `%s` does not exist", p->argv[0]);
	config = oci_config_parse_file(path, &parse_error);
	if (config == NULL || config->process == NULL) {
		oci_config_free(config);
		return runk_error(err, "`%s`: %s", path, parse_error ? parse_error : "no process");
	}
	proc = steal_pointer(&config->process);
	oci_config_free(config);

	strv_free(proc->args, proc->args_len);
	proc->args = strv_copy((const char *const *)p->argv + 1, (size_t)p->argc - 1);
	proc->args_len = (size_t)p->argc - 1;
	env = cli_list(p, "env", &n_env);
	for (size_t i = 0; i < n_env; i++)
		env_set(proc, env[i]);
	if (cli_string(p, "cwd")) {
		free(proc->cwd);
		proc->cwd = strdup(cli_string(p, "cwd"));
	}
	proc->terminal = cli_bool(p, "tty");
	if (cli_bool(p, "no-new-privs"))
		proc->no_new_privileges = true;
	add_caps(proc, p);
	if (apply_user(proc, p, err) < 0) {
		oci_process_free(proc);
		return -1;
	}
	*out = proc;
	return 0;
}

static int cmd_exec(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};
	const char *process_file = cli_string(p, "process");
	cleanup_free char *json = NULL, *gen_error = NULL;
	struct oci_process *proc = NULL;
	struct exec_options o = {
		.id = p->argv[0],
		.console_socket = cli_string(p, "console-socket"),
		.detach = cli_bool(p, "detach"),
		.pid_file = cli_string(p, "pid-file"),
		.ignore_paused = cli_bool(p, "ignore-paused"),
	};

	if (cli_check_preserve_fds(p, err) < 0 || runk_session_open(g, &session, err) < 0)
		return -1;
	if (process_file) {
		cleanup_free char *parse_error = NULL;

		proc = oci_process_parse_file(process_file, &parse_error);
		if (proc == NULL)
			return runk_error(err, "invalid process `%s`: %s", process_file,
					  parse_error ? parse_error : "cannot parse");
		if (cli_bool(p, "tty"))
			proc->terminal = true;
	} else if (process_from_flags(&session.ctx, p, &proc, err) < 0) {
		return -1;
	}
	if (proc->args_len == 0) {
		oci_process_free(proc);
		return runk_error(err, "exec: the process has no args");
	}
	o.tty = proc->terminal;
	json = oci_process_generate(proc, &gen_error);
	oci_process_free(proc);
	if (json == NULL)
		return runk_error(err, "exec: %s", gen_error);
	o.process_json = json;
	return container_exec(&session.ctx, &o, err);
}

static const struct cli_option exec_options[] = {
	{"console-socket", 0, CLI_STRING, "unix socket that receives the console pty master"},
	{"cwd", 0, CLI_STRING, "working directory in the container"},
	{"env", 'e', CLI_LIST, "set an environment variable (repeatable)"},
	{"tty", 't', CLI_BOOL, "allocate a pseudo-TTY"},
	{"user", 'u', CLI_STRING, "UID[:GID] to run as"},
	{"additional-gids", 'g', CLI_LIST, "additional group id (repeatable)"},
	{"process", 'p', CLI_STRING, "path to a process.json"},
	{"detach", 'd', CLI_BOOL, "detach from the process"},
	{"pid-file", 0, CLI_STRING, "file to write the process PID to"},
	{"process-label", 0, CLI_STRING, "SELinux label of the process"},
	{"apparmor", 0, CLI_STRING, "AppArmor profile of the process"},
	{"no-new-privs", 0, CLI_BOOL, "set no_new_privs"},
	{"cap", 'c', CLI_LIST, "add a capability (repeatable)"},
	{"preserve-fds", 0, CLI_STRING, "pass N additional file descriptors"},
	{"cgroup", 0, CLI_LIST, "run in this sub-cgroup (repeatable)"},
	{"ignore-paused", 0, CLI_BOOL, "allow exec in a paused container"},
	{0},
};

const struct cli_command runk_cmd_exec = {
	.name = "exec",
	.usage = "<container-id> <command> [args...]",
	.summary = "run a new process in a running container",
	.options = exec_options,
	.min_args = 1,
	.max_args = -1,
	.run = cmd_exec,
};
