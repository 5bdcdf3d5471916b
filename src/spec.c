/* runk spec: write a default config.json into the bundle, as runc spec does */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "ocispec.h"
#include "spec.h"
#include "util.h"

static int cmd_spec(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	const char *bundle = cli_string(p, "bundle");
	cleanup_free char *text = spec_default_text(cli_bool(p, "rootless"));
	cleanup_free char *parse_error = NULL;
	cleanup_free char *generated = NULL;
	cleanup_free char *path = NULL;
	cleanup_close int fd = -1;
	struct oci_config *config;

	(void)g;
	if (asprintf(&path, "%s/config.json", bundle ? bundle : ".") < 0)
		abort();
	config = oci_config_parse_data(text, strlen(text), &parse_error);
	if (config == NULL)
		return runk_error(err, "internal error: default spec: %s", parse_error);
	generated = oci_config_generate_pretty(config, &parse_error);
	oci_config_free(config);
	if (generated == NULL)
		return runk_error(err, "internal error: generate default spec: %s", parse_error);

	/* As runc: never overwrite an existing config.json. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST)
		return runk_error(err, "file `%s` exists: remove it first", path);
	if (fd < 0)
		return runk_error_errno(err, errno, "create `%s`", path);
	if (write_all(fd, generated, strlen(generated)) < 0 || write_all(fd, "\n", 1) < 0)
		return runk_error_errno(err, errno, "write `%s`", path);
	return 0;
}

static const struct cli_option spec_options[] = {
	{"bundle", 'b', CLI_STRING, "directory to write config.json into"},
	{"rootless", 0, CLI_BOOL, "write a spec for a rootless container"},
	{0},
};

const struct cli_command runk_cmd_spec = {
	.name = "spec",
	.usage = "",
	.summary = "write a default config.json into the bundle",
	.options = spec_options,
	.min_args = 0,
	.max_args = 0,
	.run = cmd_spec,
};
