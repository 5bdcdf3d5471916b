/* runk list: list containers, as runc list does (table, -q, --format json) */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "commands.h"
#include "context.h"
#include "id.h"
#include "status.h"

struct listed {
	struct container_status cs;
	char *owner;
};

/* The owner column is the user owning the state directory, as runc shows it. */
static char *owner_of(const char *dir)
{
	struct stat st;
	struct passwd *pw;
	char *name = NULL;

	if (stat(dir, &st) < 0)
		return strdup("");
	pw = getpwuid(st.st_uid);
	if (pw)
		return strdup(pw->pw_name);
	if (asprintf(&name, "#%u", st.st_uid) < 0)
		abort();
	return name;
}

static int collect(const struct runk_context *ctx, struct listed **out, size_t *n,
		   runk_error_t *err)
{
	cleanup_dir DIR *d = opendir(ctx->root);
	struct listed *items = NULL;
	struct dirent *de;

	*n = 0;
	if (d == NULL) {
		*out = NULL;
		return errno == ENOENT ? 0 : runk_error_errno(err, errno, "open `%s`", ctx->root);
	}
	while ((de = readdir(d)) != NULL) {
		struct container_status cs;
		cleanup_error runk_error_t skip = NULL;

		/* Anything that is not a valid, complete container (being created) is not listed.
		 */
		if (runk_id_validate(de->d_name, &skip) < 0 ||
		    container_status_load(ctx, de->d_name, &cs, &skip) < 0)
			continue;
		items = realloc(items, (*n + 1) * sizeof(*items));
		if (items == NULL)
			abort();
		items[*n].cs = cs;
		items[*n].owner = owner_of(cs.dir);
		(*n)++;
	}
	*out = items;
	return 0;
}

static void print_table(const struct listed *items, size_t n)
{
	static const char *const headers[] = {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"};
	const size_t columns = sizeof(headers) / sizeof(headers[0]);
	size_t width[6];
	char pid[16];

	/* runc's tabwriter: columns at least 12 wide, 3 spaces of padding. */
	for (size_t c = 0; c < columns; c++)
		width[c] = strlen(headers[c]) + 3 > 12 ? strlen(headers[c]) + 3 : 12;
	for (size_t i = 0; i < n; i++) {
		const char *cells[] = {items[i].cs.state.id, pid, items[i].cs.status,
				       items[i].cs.state.bundle, items[i].cs.state.created};

		snprintf(pid, sizeof(pid), "%d", items[i].cs.pid);
		for (size_t c = 0; c < columns - 1; c++)
			if (strlen(cells[c]) + 3 > width[c])
				width[c] = strlen(cells[c]) + 3;
	}
	for (size_t c = 0; c < columns; c++)
		printf("%-*s", c + 1 < columns ? (int)width[c] : 0, headers[c]);
	printf("\n");
	for (size_t i = 0; i < n; i++) {
		const char *cells[] = {items[i].cs.state.id,	  pid,
				       items[i].cs.status,	  items[i].cs.state.bundle,
				       items[i].cs.state.created, items[i].owner};

		snprintf(pid, sizeof(pid), "%d", items[i].cs.pid);
		for (size_t c = 0; c < columns; c++)
			printf("%-*s", c + 1 < columns ? (int)width[c] : 0, cells[c]);
		printf("\n");
	}
}

static void print_json(const struct listed *items, size_t n)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;

	if (g == NULL)
		abort();
	/* runc prints null, not [], when there is no container. */
	if (n == 0) {
		printf("null\n");
		yajl_gen_free(g);
		return;
	}
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++)
		container_status_gen(g, &items[i].cs, items[i].owner);
	yajl_gen_array_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	printf("%.*s\n", (int)len, buf);
	yajl_gen_free(g);
}

static int cmd_list(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};
	const char *format = cli_string(p, "format");
	struct listed *items = NULL;
	size_t n = 0;

	if (format && strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
		return runk_error(err, "invalid format `%s`: expected table or json", format);
	if (runk_session_open(g, &session, err) < 0 || collect(&session.ctx, &items, &n, err) < 0)
		return -1;
	if (cli_bool(p, "quiet"))
		for (size_t i = 0; i < n; i++)
			printf("%s\n", items[i].cs.state.id);
	else if (format && strcmp(format, "json") == 0)
		print_json(items, n);
	else
		print_table(items, n);
	for (size_t i = 0; i < n; i++) {
		container_status_release(&items[i].cs);
		free(items[i].owner);
	}
	free(items);
	return 0;
}

static const struct cli_option list_options[] = {
	{"format", 'f', CLI_STRING, "table or json"},
	{"quiet", 'q', CLI_BOOL, "print only container ids"},
	{0},
};

const struct cli_command runk_cmd_list = {
	.name = "list",
	.usage = "",
	.summary = "list containers",
	.options = list_options,
	.min_args = 0,
	.max_args = 0,
	.run = cmd_list,
};
