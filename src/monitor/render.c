/*
 * What /metrics serves: every family once, its samples for each sandbox
 * under it, then the monitor's own figures.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "monitor.h"

/* Grace past the scrape timeout for a collection to hand its figures over. */
#define RENDER_GRACE_NS 200000000ULL

struct row {
	struct sandbox *sb;
	struct sample s;
	uint64_t scrapes, failures;
};

/* sandbox_id and the CRI names of the pod, when the bundle had them. */
static size_t sandbox_labels(const struct sandbox *sb, struct label *l)
{
	l[0] = (struct label){"sandbox_id", sb->id};
	l[1] = (struct label){"cri_name", sb->cri_name};
	l[2] = (struct label){"cri_namespace", sb->cri_namespace};
	l[3] = (struct label){"cri_uid", sb->cri_uid};
	return 4;
}

static void write_status(struct expo *e, const struct row *rows, size_t n)
{
	expo_family(e, "runk_sandbox_status", "gauge",
		    "The sandbox's status: 1 for the status it is in, 0 for the others.");
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; sandbox_statuses[k]; k++) {
			struct label l[5];
			size_t nl = sandbox_labels(rows[i].sb, l);

			l[nl++] = (struct label){"status", sandbox_statuses[k]};
			expo_sample(e, "runk_sandbox_status", l, nl,
				    strcmp(rows[i].s.status, sandbox_statuses[k]) == 0 ? "1" : "0");
		}
	}
}

static void write_figures(struct expo *e, const struct row *rows, size_t n)
{
	for (size_t f = 0; f < FIG_COUNT; f++) {
		const struct figure_info *fi = &figure_table[f];
		bool any = false;

		for (size_t i = 0; i < n && !any; i++)
			any = rows[i].s.have[f];
		if (!any)
			continue;
		expo_family(e, fi->name, fi->type, fi->help);
		for (size_t i = 0; i < n; i++) {
			struct label l[4];
			char value[32];

			if (!rows[i].s.have[f])
				continue;
			format_value(rows[i].s.value[f], fi->unit, value, sizeof(value));
			expo_sample(e, fi->name, l, sandbox_labels(rows[i].sb, l), value);
		}
	}
}

static void write_counter(struct expo *e, const char *name, const char *help,
			  const struct row *rows, size_t n, bool failures)
{
	expo_family(e, name, "counter", help);
	for (size_t i = 0; i < n; i++) {
		struct label l = {"sandbox_id", rows[i].sb->id};
		char value[32];

		snprintf(value, sizeof(value), "%" PRIu64,
			 failures ? rows[i].failures : rows[i].scrapes);
		expo_sample(e, name, &l, 1, value);
	}
}

static void write_gauge(struct expo *e, const char *name, const char *help, uint64_t v)
{
	char value[32];

	snprintf(value, sizeof(value), "%" PRIu64, v);
	expo_family(e, name, "gauge", help);
	expo_sample(e, name, NULL, 0, value);
}

static char *render(struct sandbox **v, size_t n, bool whole, size_t *len)
{
	cleanup_free struct row *rows = calloc(n + 1, sizeof(*rows));
	uint64_t deadline = monotonic_ns() + monitor_opts.scrape_timeout_ns + RENDER_GRACE_NS;
	struct expo e;

	if (rows == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		scrape_begin(v[i]);
	for (size_t i = 0; i < n; i++) {
		scrape_wait(v[i], deadline);
		rows[i].sb = v[i];
		sandbox_current(v[i], &rows[i].s, &rows[i].scrapes, &rows[i].failures);
	}
	expo_init(&e);
	write_status(&e, rows, n);
	write_figures(&e, rows, n);
	write_counter(&e, "runk_monitor_scrapes_total", "Collections of the sandbox's figures.",
		      rows, n, false);
	write_counter(&e, "runk_monitor_scrape_failures_total",
		      "Collections in which the sandbox's shim or guest did not answer in time "
		      "or failed.",
		      rows, n, true);
	if (whole) {
		size_t running = 0;

		/* A stopped sandbox stays tracked until it is deleted; it has no VM. */
		for (size_t i = 0; i < n; i++)
			running += strcmp(rows[i].s.status, "stopped") != 0;
		write_gauge(&e, "runk_monitor_running_sandboxes",
			    "Sandboxes tracked whose VM is up (not stopped).", running);
		write_gauge(&e, "runk_monitor_pending_sandboxes",
			    "State directories seen that are not (yet) containers.",
			    cache_count(SANDBOX_PENDING));
		histogram_write(&e, &scrape_duration, "runk_monitor_scrape_duration_seconds",
				"How long collecting one sandbox's figures took.");
	}
	return expo_finish(&e, len);
}

char *metrics_render(const char *id, size_t *len)
{
	struct sandbox **v;
	size_t n;
	char *page;

	if (id) {
		struct sandbox *sb = cache_get_id(id);

		if (sb == NULL)
			return NULL;
		page = render(&sb, 1, false, len);
		sandbox_put(sb);
		return page;
	}
	v = cache_snapshot(NULL, true, &n);
	page = render(v, n, true, len);
	cache_put_snapshot(v, n);
	return page;
}
