/* runk-monitor's pure parts: the exposition format, escaping, the histogram, durations, resync. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "monitor.h"
#include "testlib.h"

static void test_escaping(void)
{
	char out[128];

	escape_label_value("plain", out);
	is_str(out, "plain", "label value without specials is unchanged");
	escape_label_value("a\\b\"c\nd", out);
	is_str(out, "a\\\\b\\\"c\\nd", "label value escapes backslash, quote and newline");
	escape_help("x \"quoted\" \\ y\nz", out);
	is_str(out, "x \"quoted\" \\\\ y\\nz", "HELP escapes backslash and newline, not quotes");
	escape_label_value("", out);
	is_str(out, "", "empty label value");
}

static void test_values(void)
{
	char buf[32];

	format_value(0, UNIT_NS, buf, sizeof(buf));
	is_str(buf, "0.000000000", "0 ns in seconds");
	format_value(1500000000ULL, UNIT_NS, buf, sizeof(buf));
	is_str(buf, "1.500000000", "1.5 s");
	format_value(18446744073709551615ULL, UNIT_NONE, buf, sizeof(buf));
	is_str(buf, "18446744073709551615", "the largest integer");
	format_value(2050, UNIT_MILLI, buf, sizeof(buf));
	is_str(buf, "2.050", "load 2.05 from thousandths");
}

static void test_exposition(void)
{
	struct expo e;
	struct label l[3] = {{"sandbox_id", "c1"}, {"cri_name", NULL}, {"cri_uid", "u\"1"}};
	char *text;
	size_t len = 0;

	expo_init(&e);
	expo_family(&e, "runk_x_bytes", "gauge", "Some\nhelp.");
	expo_sample(&e, "runk_x_bytes", l, 3, "42");
	expo_sample(&e, "runk_x_bytes", NULL, 0, "1");
	text = expo_finish(&e, &len);
	is_str(text,
	       "# HELP runk_x_bytes Some\\nhelp.\n# TYPE runk_x_bytes gauge\n"
	       "runk_x_bytes{sandbox_id=\"c1\",cri_uid=\"u\\\"1\"} 42\nrunk_x_bytes 1\n",
	       "a family: HELP, TYPE, samples; NULL labels left out, values escaped");
	ok(len == strlen(text ? text : ""), "length reported");
	free(text);

	expo_init(&e);
	expo_family(&e, "runk_a", "gauge", "a");
	expo_family(&e, "runk_b", "gauge", "b");
	expo_family(&e, "runk_a", "gauge", "a again");
	text = expo_finish(&e, &len);
	ok(text == NULL, "a family written twice makes the exposition invalid");
}

static void test_histogram(void)
{
	struct histogram h;
	struct expo e;
	char *text;
	size_t len;

	histogram_init(&h);
	histogram_observe(&h, 3000000);	    /* 3 ms: first bucket */
	histogram_observe(&h, 700000000);   /* 0.7 s */
	histogram_observe(&h, 60000000000); /* 60 s: only +Inf */
	expo_init(&e);
	histogram_write(&e, &h, "runk_d_seconds", "d");
	text = expo_finish(&e, &len);
	ok(text && strstr(text, "# TYPE runk_d_seconds histogram\n"), "histogram TYPE line");
	ok(text && strstr(text, "runk_d_seconds_bucket{le=\"0.005\"} 1\n"), "first bucket");
	ok(text && strstr(text, "runk_d_seconds_bucket{le=\"0.5\"} 1\n"), "0.5 s bucket");
	ok(text && strstr(text, "runk_d_seconds_bucket{le=\"1\"} 2\n") == NULL &&
		   strstr(text, "runk_d_seconds_bucket{le=\"1.0\"} 2\n"),
	   "1 s bucket is cumulative (le=\"1.0\")");
	ok(text && strstr(text, "runk_d_seconds_bucket{le=\"30.0\"} 2\n"), "last finite bucket");
	ok(text && strstr(text, "runk_d_seconds_bucket{le=\"+Inf\"} 3\n"), "+Inf has every one");
	ok(text && strstr(text, "runk_d_seconds_sum 60.703000000\n"), "sum in seconds");
	ok(text && strstr(text, "runk_d_seconds_count 3\n"), "count");
	if (text == NULL || !strstr(text, "le=\"0.005\""))
		printf("# %s", text ? text : "(null)\n");
	free(text);
}

static void test_durations(void)
{
	uint64_t ns = 0;

	ok(parse_duration("2", &ns) == 0 && ns == 2000000000ULL, "2 = 2 s");
	ok(parse_duration("2s", &ns) == 0 && ns == 2000000000ULL, "2s");
	ok(parse_duration("500ms", &ns) == 0 && ns == 500000000ULL, "500ms");
	ok(parse_duration("1.25s", &ns) == 0 && ns == 1250000000ULL, "1.25s");
	ok(parse_duration("0.5", &ns) == 0 && ns == 500000000ULL, "0.5");
	ok(parse_duration("", &ns) < 0, "empty refused");
	ok(parse_duration("2h", &ns) < 0, "unknown unit refused");
	ok(parse_duration("-1", &ns) < 0, "negative refused");
	ok(parse_duration("99999999999999999999", &ns) < 0, "overflow refused");
}

static void test_debounce(void)
{
	struct debounce d = {0};
	const uint64_t delay = 2000;

	ok(debounce_timeout_ms(&d, 0) == -1 && !debounce_due(&d, 100), "idle: nothing due");
	debounce_event(&d, 1000, delay);
	ok(!debounce_due(&d, 2999), "not due before the delay");
	debounce_event(&d, 2500, delay);
	ok(!debounce_due(&d, 4000), "a later event pushes it back");
	ok(debounce_due(&d, 4500), "due a delay after the last event");
	ok(!debounce_due(&d, 5000), "due once");
	/* A burst that never stops: due at most 4 delays after its first event. */
	for (uint64_t t = 10000; t < 20000; t += 1000)
		debounce_event(&d, t, delay);
	ok(d.deadline_ns == 10000 + 4 * delay, "a never-ending burst is capped");
}

static void test_verdicts(void)
{
	const uint64_t delay = 2000;
	struct pending_facts f = {.dir_exists = true, .has_state = true, .state_ok = true};

	ok(resync_verdict(&f, delay) == VERDICT_PROMOTE, "state.json loaded: promote");
	f.state_ok = false;
	ok(resync_verdict(&f, delay) == VERDICT_WAIT, "state.json unreadable: wait");
	f = (struct pending_facts){.dir_exists = true, .locked = true, .age_ns = 100000};
	ok(resync_verdict(&f, delay) == VERDICT_WAIT, "locked by create: wait however old");
	f = (struct pending_facts){.dir_exists = true, .age_ns = 100};
	ok(resync_verdict(&f, delay) == VERDICT_WAIT, "young and unlocked: wait one more delay");
	f.age_ns = delay;
	ok(resync_verdict(&f, delay) == VERDICT_DROP, "old, unlocked, no state: a stray, drop");
	f = (struct pending_facts){.dir_exists = false, .has_state = true, .state_ok = true};
	ok(resync_verdict(&f, delay) == VERDICT_DROP, "directory gone: drop");
}

static void test_figure_table(void)
{
	bool names_ok = true, unique = true;

	for (size_t i = 0; i < FIG_COUNT; i++) {
		const struct figure_info *f = &figure_table[i];
		bool counter = strcmp(f->type, "counter") == 0;
		size_t n = strlen(f->name);

		if (!f->name || !f->help || strncmp(f->name, "runk_", 5) != 0 ||
		    counter != (n > 6 && strcmp(f->name + n - 6, "_total") == 0))
			names_ok = false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(figure_table[j].name, f->name) == 0)
				unique = false;
	}
	ok(names_ok, "every figure has a runk_ name and help; counters, and only they, end _total");
	ok(unique, "figure names are unique");
}

int main(void)
{
	test_escaping();
	test_values();
	test_exposition();
	test_histogram();
	test_durations();
	test_debounce();
	test_verdicts();
	test_figure_table();
	return test_done();
}
