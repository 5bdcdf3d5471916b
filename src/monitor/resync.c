/*
 * The delayed resync's two decisions, kept free of I/O so they can be unit
 * tested: when to look again (a debounce with a ceiling), and what a pending
 * state directory has become.
 */
#include "config.h"

#include "monitor.h"

/* A burst that never pauses still gets a resync after this many delays. */
#define DEBOUNCE_CEILING 4

void debounce_event(struct debounce *d, uint64_t now_ns, uint64_t delay_ns)
{
	uint64_t deadline = now_ns + delay_ns;

	if (!d->armed) {
		d->armed = true;
		d->first_ns = now_ns;
	}
	if (deadline > d->first_ns + DEBOUNCE_CEILING * delay_ns)
		deadline = d->first_ns + DEBOUNCE_CEILING * delay_ns;
	d->deadline_ns = deadline;
}

bool debounce_due(struct debounce *d, uint64_t now_ns)
{
	if (!d->armed || now_ns < d->deadline_ns)
		return false;
	d->armed = false;
	return true;
}

int debounce_timeout_ms(const struct debounce *d, uint64_t now_ns)
{
	if (!d->armed)
		return -1;
	if (now_ns >= d->deadline_ns)
		return 0;
	return (int)((d->deadline_ns - now_ns + 999999) / 1000000);
}

enum verdict resync_verdict(const struct pending_facts *f, uint64_t delay_ns)
{
	if (!f->dir_exists)
		return VERDICT_DROP;
	if (f->has_state)
		return f->state_ok ? VERDICT_PROMOTE : VERDICT_WAIT;
	/* runk create holds the directory's lock until state.json is written. */
	if (f->locked)
		return VERDICT_WAIT;
	/* Not locked yet may also be the instant between mkdir and flock: give it a delay. */
	if (f->age_ns < delay_ns)
		return VERDICT_WAIT;
	return VERDICT_DROP;
}
