#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"

static size_t count_options(const struct cli_option *options)
{
	size_t n = 0;

	while (options && options[n].name)
		n++;
	return n;
}

static int find_option(const struct cli_parsed *p, const char *name)
{
	for (size_t i = 0; i < p->n_options; i++)
		if (strcmp(p->options[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int list_append(struct cli_parsed *p, size_t i, const char *value)
{
	const char **grown = realloc(p->list[i], (p->list_len[i] + 2) * sizeof(*grown));

	if (grown == NULL)
		abort();
	grown[p->list_len[i]++] = value;
	grown[p->list_len[i]] = NULL;
	p->list[i] = grown;
	return 0;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_parsed *p,
	      runk_error_t *err)
{
	size_t n = count_options(cmd->options);
	struct option longopts[CLI_MAX_OPTIONS + 2];
	char shortopts[CLI_MAX_OPTIONS * 2 + 3] = "+:";
	size_t s = 2;
	int c;

	if (n > CLI_MAX_OPTIONS)
		abort(); /* a programming error in a command table */
	memset(p, 0, sizeof(*p));
	p->options = cmd->options;
	p->n_options = n;

	for (size_t i = 0; i < n; i++) {
		const struct cli_option *o = &cmd->options[i];
		/* val encodes the table index past the char range so short names stay distinct. */
		longopts[i] = (struct option){o->name,
					      o->kind == CLI_BOOL ? no_argument : required_argument,
					      NULL, 256 + (int)i};
		if (o->short_name) {
			shortopts[s++] = o->short_name;
			if (o->kind != CLI_BOOL)
				shortopts[s++] = ':';
		}
	}
	longopts[n] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n + 1] = (struct option){0};
	shortopts[s++] = 'h';
	shortopts[s] = '\0';

	optind = 0; /* full reinitialisation: getopt may have been used for the globals */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		size_t i;

		if (c == 'h') {
			cli_print_command_help(cmd);
			exit(EXIT_SUCCESS);
		}
		if (c == '?')
			return runk_error(err, "%s: unknown flag `%s`", cmd->name,
					  argv[optind - 1]);
		if (c == ':')
			return runk_error(err, "%s: flag `%s` needs a value", cmd->name,
					  argv[optind - 1]);
		if (c >= 256) {
			i = (size_t)(c - 256);
		} else {
			for (i = 0; i < n && cmd->options[i].short_name != c; i++)
				;
			if (i == n)
				abort();
		}
		p->set[i] = true;
		p->value[i] = optarg;
		if (cmd->options[i].kind == CLI_LIST)
			list_append(p, i, optarg);
	}

	p->argc = argc - optind;
	p->argv = argv + optind;
	if (p->argc < cmd->min_args)
		return runk_error(err, "%s: expects %s", cmd->name, cmd->usage);
	if (cmd->max_args >= 0 && p->argc > cmd->max_args)
		return runk_error(err, "%s: too many arguments: expects %s", cmd->name, cmd->usage);
	return 0;
}

void cli_parsed_release(struct cli_parsed *p)
{
	for (size_t i = 0; i < p->n_options; i++)
		free(p->list[i]);
}

bool cli_bool(const struct cli_parsed *p, const char *name)
{
	int i = find_option(p, name);

	return i >= 0 && p->set[i];
}

const char *cli_string(const struct cli_parsed *p, const char *name)
{
	int i = find_option(p, name);

	return i >= 0 && p->set[i] ? p->value[i] : NULL;
}

const char *const *cli_list(const struct cli_parsed *p, const char *name, size_t *len)
{
	int i = find_option(p, name);

	*len = i >= 0 ? p->list_len[i] : 0;
	return i >= 0 ? (const char *const *)p->list[i] : NULL;
}

int cli_parse_int(const char *flag, const char *text, long long min, long long max, long long *out,
		  runk_error_t *err)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		return runk_error(err,
				  "invalid value `%s` for %s: expected an integer in [%lld, %lld]",
				  text, flag, min, max);
	*out = v;
	return 0;
}

void cli_print_command_help(const struct cli_command *cmd)
{
	printf("usage: runk %s [flags] %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->options == NULL || cmd->options[0].name == NULL)
		return;
	printf("\nflags:\n");
	for (const struct cli_option *o = cmd->options; o->name; o++) {
		char left[64];

		snprintf(left, sizeof(left), "%s%c%s--%s%s", o->short_name ? "-" : "",
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
			 o->kind == CLI_BOOL ? "" : " value");
		printf("   %-30s %s\n", left, o->help);
	}
}

int cli_check_preserve_fds(const struct cli_parsed *p, runk_error_t *err)
{
	const char *text = cli_string(p, "preserve-fds");
	long long n = 0;

	if (text == NULL)
		return 0;
	if (cli_parse_int("--preserve-fds", text, 0, 1024, &n, err) < 0)
		return -1;
	if (n > 0)
		return runk_error(err,
				  "--preserve-fds %lld: host file descriptors cannot be passed "
				  "into the container's VM",
				  n);
	return 0;
}
