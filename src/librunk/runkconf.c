#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "runkconf.h"
#include "sizing.h"

enum key_type {
	KEY_STRING,
	KEY_UINT,
	KEY_BOOL,
	KEY_CPUS, /* a decimal CPU amount, kept as its text */
};

struct conf_key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
};

#define KEY(section, name, type, field)                                                            \
	{                                                                                          \
		section, name, type, offsetof(struct runk_conf, field)                             \
	}

/* Every key runk.conf accepts: the file reads as this list. */
static const struct conf_key conf_keys[] = {
	KEY("hypervisor", "path", KEY_STRING, qemu_path),
	KEY("hypervisor", "kernel", KEY_STRING, kernel),
	KEY("hypervisor", "initrd", KEY_STRING, initrd),
	KEY("hypervisor", "kernel_params", KEY_STRING, kernel_params),
	KEY("hypervisor", "accel", KEY_STRING, accel),
	KEY("hypervisor", "default_vcpus", KEY_CPUS, default_vcpus),
	KEY("hypervisor", "default_maxvcpus", KEY_UINT, default_maxvcpus),
	KEY("hypervisor", "default_memory", KEY_UINT, default_memory_mib),
	KEY("hypervisor", "default_maxmemory", KEY_UINT, default_maxmemory_mib),
	KEY("hypervisor", "memory_overhead", KEY_UINT, memory_overhead_mib),
	KEY("hypervisor", "pod_memory", KEY_UINT, pod_memory_mib),
	KEY("hypervisor", "boot_timeout", KEY_UINT, boot_timeout_s),
	KEY("hypervisor", "jail", KEY_BOOL, jail),
	KEY("hypervisor", "user", KEY_STRING, jail_user),
	KEY("runtime", "sandbox_cgroup_only", KEY_BOOL, sandbox_cgroup_only),
	KEY("runtime", "debug", KEY_BOOL, debug),
	KEY("runtime", "log_level", KEY_STRING, log_level),
	KEY("runtime", "allowed_annotations", KEY_STRING, allowed_annotations),
	KEY("agent", "timeout", KEY_UINT, agent_timeout_s),
	KEY("agent", "debug_console", KEY_BOOL, debug_console),
	KEY("factory", "template", KEY_BOOL, template_enabled),
	KEY("factory", "template_dir", KEY_STRING, template_dir),
	KEY("factory", "max_templates", KEY_UINT, max_templates),
	KEY("factory", "template_ttl", KEY_UINT, template_ttl_s),
	KEY("factory", "pool", KEY_UINT, pool),
};

struct parse_ctx {
	struct runk_conf *conf;
	const char *path;
	FILE *file;
	int line;    /* lines read so far: the handler runs right after its line is read */
	char *error; /* first problem found */
};

/* inih as Debian builds it does not pass line numbers: count them in the reader. */
static char *read_line(char *str, int num, void *user)
{
	struct parse_ctx *ctx = user;

	ctx->line++;
	return fgets(str, num, ctx->file);
}

static int set_error(struct parse_ctx *ctx, int line, const char *section, const char *key,
		     const char *problem)
{
	if (ctx->error == NULL &&
	    asprintf(&ctx->error, "%s:%d: [%s] %s: %s", ctx->path, line, section, key, problem) < 0)
		abort();
	return 0;
}

static int parse_uint(const char *text, unsigned int *out)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end != '\0' || *text == '-' || v > 1000000)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static int parse_bool(const char *text, bool *out)
{
	if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
		*out = true;
	else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	int line = ctx->line;
	char *base = (char *)ctx->conf;

	for (size_t i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++) {
		const struct conf_key *k = &conf_keys[i];
		void *field = base + k->offset;

		if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
			continue;
		switch (k->type) {
		case KEY_CPUS: {
			runk_error_t bad = NULL;
			struct cpu_amount amount;

			if (sizing_parse_cpus(value, &amount, &bad) < 0) {
				set_error(ctx, line, section, name,
					  "expected a decimal number of CPUs such as 1 or 0.5");
				runk_error_free(&bad);
				return 1;
			}
		}
			/* fallthrough */
		case KEY_STRING:
			free(*(char **)field);
			*(char **)field = strdup(value);
			return 1;
		case KEY_UINT:
			if (parse_uint(value, field) < 0)
				set_error(ctx, line, section, name,
					  "expected a non-negative integer");
			return 1;
		case KEY_BOOL:
			if (parse_bool(value, field) < 0)
				set_error(ctx, line, section, name, "expected true or false");
			return 1;
		}
	}
	set_error(ctx, line, section, name, "unknown key");
	return 1;
}

static void set_defaults(struct runk_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->qemu_path = strdup(DEFAULT_QEMU_PATH);
	conf->kernel = strdup(RUNK_DATADIR "/vmlinux");
	conf->initrd = strdup(RUNK_DATADIR "/initrd.cpio");
	conf->kernel_params = strdup("");
	conf->accel = strdup("auto");
	conf->default_vcpus = strdup("1");
	conf->default_memory_mib = 256;
	conf->memory_overhead_mib = 64;
	conf->pod_memory_mib = 2048;
	conf->log_level = strdup("info");
	conf->allowed_annotations = strdup("");
	/* Generous: under TCG on a loaded 2-core host the generic kernel takes seconds. */
	conf->boot_timeout_s = 60;
	conf->agent_timeout_s = 60;
	conf->template_enabled = true;
	conf->jail = true;
	conf->jail_user = strdup("");
	conf->template_dir = strdup("/run/runk/templates");
	conf->max_templates = 4;
	conf->template_ttl_s = 86400;
	conf->pool = 1;
}

int runk_conf_load(const char *explicit_path, struct runk_conf *conf, runk_error_t *err)
{
	const char *path = explicit_path;
	struct parse_ctx ctx = {.conf = conf};
	int ret;

	set_defaults(conf);
	if (path == NULL)
		path = getenv("RUNK_CONFIG");
	if (path == NULL) {
		path = RUNK_SYSCONFDIR "/runk/runk.conf";
		if (access(path, F_OK) < 0)
			return 0;
	}
	ctx.path = path;
	ctx.file = fopen(path, "re");
	if (ctx.file == NULL)
		return runk_error_errno(err, errno, "read runk.conf `%s`", path);
	ret = ini_parse_stream(read_line, &ctx, on_key, &ctx);
	fclose(ctx.file);
	if (ret > 0 && ctx.error == NULL)
		return runk_error(err, "%s:%d: syntax error", path, ret);
	if (ctx.error) {
		runk_error(err, "%s", ctx.error);
		free(ctx.error);
		return -1;
	}
	if (strcmp(conf->accel, "auto") && strcmp(conf->accel, "kvm") && strcmp(conf->accel, "tcg"))
		return runk_error(err,
				  "%s: [hypervisor] accel: expected auto, kvm or tcg, got `%s`",
				  path, conf->accel);
	if (strcmp(conf->log_level, "error") && strcmp(conf->log_level, "warning") &&
	    strcmp(conf->log_level, "info") && strcmp(conf->log_level, "debug"))
		return runk_error(
			err,
			"%s: [runtime] log_level: expected error, warning, info or debug, "
			"got `%s`",
			path, conf->log_level);
	conf->source = strdup(path);
	return 0;
}

void runk_conf_release(struct runk_conf *conf)
{
	free(conf->qemu_path);
	free(conf->kernel);
	free(conf->initrd);
	free(conf->kernel_params);
	free(conf->accel);
	free(conf->default_vcpus);
	free(conf->log_level);
	free(conf->allowed_annotations);
	free(conf->source);
	free(conf->template_dir);
	free(conf->jail_user);
	memset(conf, 0, sizeof(*conf));
}
