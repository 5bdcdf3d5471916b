/* runk events: runc's stats events, with the figures from the container's cgroup in the guest */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_gen.h>

#include "cleanup.h"
#include "commands.h"
#include "context.h"
#include "proto.h"

/* A Go-style duration as runc takes it: "5s", "500ms", "1m". */
static int parse_interval(const char *text, long long *ms, runk_error_t *err)
{
	static const struct {
		const char *unit;
		long long ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}};
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno == 0 && end != text && v > 0 && v < 86400000)
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].unit) == 0) {
				*ms = v * units[i].ms;
				return 0;
			}
	return runk_error(err, "invalid --interval `%s`: expected a duration such as 5s or 500ms",
			  text);
}

static long long field(yajl_val reply, const char *key)
{
	long long v = 0;

	/* The shim checked that every figure is an integer >= 0; absent ones are 0. */
	proto_json_opt_int(reply, key, 0, INT64_MAX, &v, NULL);
	return v;
}

static void gen_key(yajl_gen g, const char *key)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

static void gen_number(yajl_gen g, const char *key, long long v)
{
	gen_key(g, key);
	yajl_gen_integer(g, v);
}

static void gen_empty(yajl_gen g, const char *key)
{
	gen_key(g, key);
	yajl_gen_map_open(g);
	yajl_gen_map_close(g);
}

/* runc's {"type":"stats","id":...,"data":{cpu,memory,pids,blkio,hugetlb}}, one line. */
static void print_stats(const char *id, yajl_val r)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;

	if (g == NULL)
		abort();
	yajl_gen_map_open(g);
	gen_key(g, "type");
	yajl_gen_string(g, (const unsigned char *)"stats", 5);
	gen_key(g, "id");
	yajl_gen_string(g, (const unsigned char *)id, strlen(id));
	gen_key(g, "data");
	yajl_gen_map_open(g);

	gen_key(g, "cpu");
	yajl_gen_map_open(g);
	gen_key(g, "usage");
	yajl_gen_map_open(g);
	gen_number(g, "total", field(r, "cpu_usage_ns"));
	gen_number(g, "kernel", field(r, "cpu_system_ns"));
	gen_number(g, "user", field(r, "cpu_user_ns"));
	yajl_gen_map_close(g);
	gen_empty(g, "throttling");
	yajl_gen_map_close(g);

	gen_key(g, "memory");
	yajl_gen_map_open(g);
	gen_key(g, "usage");
	yajl_gen_map_open(g);
	gen_number(g, "limit", field(r, "memory_limit"));
	gen_number(g, "usage", field(r, "memory_usage"));
	gen_number(g, "max", field(r, "memory_max_usage"));
	gen_number(g, "failcnt", field(r, "oom_kills"));
	yajl_gen_map_close(g);
	gen_key(g, "swap");
	yajl_gen_map_open(g);
	gen_number(g, "usage", field(r, "swap_usage"));
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);

	gen_key(g, "pids");
	yajl_gen_map_open(g);
	gen_number(g, "current", field(r, "pids_current"));
	gen_number(g, "limit", field(r, "pids_limit"));
	yajl_gen_map_close(g);

	gen_empty(g, "blkio");
	gen_empty(g, "hugetlb");
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	printf("%.*s\n", (int)len, buf);
	fflush(stdout);
	yajl_gen_free(g);
}

static int cmd_events(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	cleanup_session struct runk_session session = {0};
	const char *interval = cli_string(p, "interval");
	long long ms = 5000;
	bool once = cli_bool(p, "stats");

	if (interval && parse_interval(interval, &ms, err) < 0)
		return -1;
	if (runk_session_open(g, &session, err) < 0)
		return -1;
	for (long long oom_kills = -1;;) {
		yajl_val reply = NULL;
		struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

		if (container_query(&session.ctx, p->argv[0], "stats", &reply, err) < 0)
			return -1;
		/* The guest counts OOM kills: a rise since the last look is an oom event. */
		if (!once && oom_kills >= 0 && field(reply, "oom_kills") > oom_kills)
			printf("{\"type\":\"oom\",\"id\":\"%s\"}\n", p->argv[0]);
		oom_kills = field(reply, "oom_kills");
		print_stats(p->argv[0], reply);
		yajl_tree_free(reply);
		if (once)
			return 0;
		nanosleep(&pause, NULL);
	}
}

static const struct cli_option events_options[] = {
	{"interval", 0, CLI_STRING, "statistics interval (default 5s)"},
	{"stats", 0, CLI_BOOL, "print statistics once and exit"},
	{0},
};

const struct cli_command runk_cmd_events = {
	.name = "events",
	.usage = "<container-id>",
	.summary = "print container events and statistics",
	.options = events_options,
	.min_args = 1,
	.max_args = 1,
	.run = cmd_events,
};
