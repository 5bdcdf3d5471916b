/*
 * Command-line frame: every subcommand describes its flags in a table and
 * gets them back parsed.  Flags are runc's: long `--name`, `--name=value`, a
 * short letter where runc has one; parsing stops at the first positional
 * argument so `runk exec ID ls -l` passes `-l` to the workload.
 */
#ifndef RUNK_CLI_H
#define RUNK_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "log.h"

enum cli_kind {
	CLI_BOOL,
	CLI_STRING,
	CLI_LIST, /* a string flag that may repeat: every value is kept */
};

struct cli_option {
	const char *name;
	char short_name; /* 0 if none */
	enum cli_kind kind;
	const char *help;
};

#define CLI_MAX_OPTIONS 32

struct cli_parsed {
	const struct cli_option *options;
	size_t n_options;
	bool set[CLI_MAX_OPTIONS];
	const char *value[CLI_MAX_OPTIONS]; /* last value given */
	const char **list[CLI_MAX_OPTIONS]; /* all values, NULL-terminated (CLI_LIST) */
	size_t list_len[CLI_MAX_OPTIONS];
	int argc; /* positional arguments */
	char **argv;
};

/* Global settings, from the flags before the subcommand. */
struct runk_globals {
	const char *root;
	const char *log_path;
	enum runk_log_format log_format;
	const char *config_path;
	const char *cgroup_manager; /* "cgroupfs" or "systemd" */
	bool debug;
	bool systemd_cgroup;
	bool rootless;
};

struct cli_command {
	const char *name;
	const char *usage;   /* positional arguments, for help */
	const char *summary; /* one line */
	const struct cli_option *options;
	int min_args;
	int max_args; /* -1: unlimited */
	int (*run)(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err);
};

int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_parsed *p,
	      runk_error_t *err);
void cli_parsed_release(struct cli_parsed *p);

bool cli_bool(const struct cli_parsed *p, const char *name);
const char *cli_string(const struct cli_parsed *p, const char *name);
const char *const *cli_list(const struct cli_parsed *p, const char *name, size_t *len);

void cli_print_command_help(const struct cli_command *cmd);

/*
 * --preserve-fds N: 0 is fine; more is refused, naming why: a host file
 * descriptor cannot cross into the container's VM.
 */
int cli_check_preserve_fds(const struct cli_parsed *p, runk_error_t *err);

/* Parse a decimal integer flag value, naming the flag on error. */
int cli_parse_int(const char *flag, const char *text, long long min, long long max, long long *out,
		  runk_error_t *err);

#endif
