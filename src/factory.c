/* runk factory init|status|destroy: VM templates (src/librunk/factory/). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "context.h"
#include "factory/factory.h"

static const struct cli_option factory_options[] = {
	{"vcpus", 0, CLI_STRING, "init: the template's vCPUs (default: default_vcpus, rounded up)"},
	{"memory", 0, CLI_STRING, "init: the template's memory in MiB (default: default_memory)"},
	{NULL, 0, 0, NULL},
};

/* default_vcpus ("1", "0.5", "1.25") rounded up, as the VM size rule does for no quota. */
static unsigned int default_vcpus(const char *text)
{
	unsigned int whole = 0;
	bool fraction = false;
	const char *c = text;

	for (; *c >= '0' && *c <= '9'; c++)
		whole = whole * 10 + (unsigned int)(*c - '0');
	if (*c == '.')
		for (c++; *c; c++)
			fraction |= *c != '0';
	whole += fraction;
	return whole ? whole : 1;
}

static int factory_init(struct runk_session *session, struct cli_parsed *p, runk_error_t *err)
{
	const struct runk_conf *conf = &session->conf;
	long long vcpus = default_vcpus(conf->default_vcpus), memory = conf->default_memory_mib;
	struct vm_config cfg;
	char key[FACTORY_KEY_LEN + 1];
	bool built;

	if (cli_string(p, "vcpus") &&
	    cli_parse_int("--vcpus", cli_string(p, "vcpus"), 1, 255, &vcpus, err) < 0)
		return -1;
	if (cli_string(p, "memory") &&
	    cli_parse_int("--memory", cli_string(p, "memory"), 16, 1024 * 1024, &memory, err) < 0)
		return -1;
	if (factory_default_config(conf, (unsigned int)vcpus, (unsigned int)memory,
				   session->ctx.debug, &cfg, err) < 0 ||
	    factory_key(&cfg, conf, key, err) < 0 || factory_build(&cfg, conf, &built, err) < 0)
		return -1;
	/* Also when the template exists: its pool may have ended (template_ttl). */
	factory_pool_fill(&cfg, conf, key, NULL);
	printf("%s %s\n", key, built ? "built" : "exists");
	return 0;
}

static int cmd_factory(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};
	const char *action = p->argv[0];

	if (runk_session_open(g, &session, err) < 0)
		return -1;
	if (strcmp(action, "init") == 0)
		return factory_init(&session, p, err);
	if (strcmp(action, "status") == 0)
		return factory_status(&session.conf, err);
	if (strcmp(action, "destroy") == 0)
		return factory_destroy(&session.conf, err);
	return runk_error(err, "factory: unknown action `%s` (init, status or destroy)", action);
}

const struct cli_command runk_cmd_factory = {
	.name = "factory",
	.usage = "init|status|destroy",
	.summary = "manage VM templates (fast start)",
	.options = factory_options,
	.min_args = 1,
	.max_args = 1,
	.run = cmd_factory,
};
