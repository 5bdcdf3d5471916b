/*
 * runk-monitor: Prometheus metrics for every runk sandbox.
 *
 *   watch.c    inotify on the state roots: the sandbox cache follows the
 *              directories; a debounced resync reads state.json and promotes
 *              or drops pending entries (the state files are the truth)
 *   cache.c    the sandboxes known, shared by the watcher and the HTTP threads
 *   scrape.c   one sandbox's figures: host (/proc, cgroups) and guest (the
 *              shim's control socket), collected by a thread per sandbox with
 *              a deadline, so one stuck VM never stalls a scrape
 *   metrics.c  the Prometheus text exposition (families, escaping, histogram)
 *   http.c     libmicrohttpd: /metrics, /metrics?sandbox=ID, /sandboxes
 */
#ifndef RUNK_MONITOR_H
#define RUNK_MONITOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

#define DEFAULT_ROOT	       "/run/runk"
#define DEFAULT_LISTEN_ADDRESS "127.0.0.1:8090"

struct monitor_options {
	char **roots;
	size_t n_roots;
	const char *listen_address;
	uint64_t resync_delay_ns;   /* after the last event */
	uint64_t scrape_timeout_ns; /* per sandbox */
	uint64_t min_interval_ns;   /* a sandbox's figures are reused for this long */
	uint64_t root_retry_ns;	    /* how often a missing root is looked for */
	bool debug;
};

/* util.c: the options (set by main.c), clock, log */
extern struct monitor_options monitor_opts;
uint64_t monotonic_ns(void);
void monitor_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void monitor_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parse "2s", "500ms", "1.5s" or "3" (seconds) into nanoseconds. */
int parse_duration(const char *text, uint64_t *ns);

/* ---- metrics.c: one sandbox's figures, and the exposition ---- */

/* Every per-sandbox value runk-monitor exports: one family each. */
enum figure {
	FIG_VM_VCPUS,
	FIG_VM_MEMORY,
	FIG_HV_RSS,
	FIG_HV_PSS,
	FIG_HV_THREADS,
	FIG_HV_CPU,
	FIG_HV_FDS,
	FIG_SHIM_RSS,
	FIG_SANDBOX_CG_CPU,
	FIG_SANDBOX_CG_MEM,
	FIG_OVERHEAD_CG_CPU,
	FIG_OVERHEAD_CG_MEM,
	FIG_GUEST_MEM_TOTAL,
	FIG_GUEST_MEM_FREE,
	FIG_GUEST_MEM_AVAILABLE,
	FIG_GUEST_LOAD1,
	FIG_GUEST_TASKS,
	FIG_GUEST_CT_MEM,
	FIG_GUEST_CT_MEM_LIMIT,
	FIG_GUEST_CT_CPU,
	FIG_GUEST_CT_PIDS,
	FIG_COUNT,
};

/* How a raw integer figure is printed. */
enum unit {
	UNIT_NONE,  /* as is */
	UNIT_NS,    /* nanoseconds, printed as seconds */
	UNIT_MILLI, /* thousandths, printed as a decimal */
};

struct figure_info {
	const char *name;
	const char *type; /* gauge | counter */
	enum unit unit;
	const char *help;
};

extern const struct figure_info figure_table[FIG_COUNT];

/* The statuses runk_sandbox_status has a series for. */
extern const char *const sandbox_statuses[];

struct sample {
	const char *status; /* one of sandbox_statuses, never NULL */
	uint64_t value[FIG_COUNT];
	bool have[FIG_COUNT];
};

/* An exposition being written: families in order, each named once. */
struct expo {
	char *buf;
	size_t len;
	FILE *f;
	char **families;
	size_t n_families;
	bool failed; /* a family was begun twice: a bug, never served */
};

/* A label pair; a NULL value (or an empty one) leaves the label out. */
struct label {
	const char *name;
	const char *value;
};

void expo_init(struct expo *e);
/* Finish: returns the text (caller frees) or NULL if the exposition was invalid. */
char *expo_finish(struct expo *e, size_t *len);
void expo_family(struct expo *e, const char *name, const char *type, const char *help);
/* One sample line: NAME{labels} VALUE.  value is already formatted. */
void expo_sample(struct expo *e, const char *name, const struct label *labels, size_t n_labels,
		 const char *value);
/* Escape a label value (\\, \", \n) into out (at least 2 * strlen + 1 bytes). */
void escape_label_value(const char *in, char *out);
/* Escape HELP text (\\, \n). */
void escape_help(const char *in, char *out);
/* Format an integer figure in its unit (buf of 32 bytes at least). */
void format_value(uint64_t raw, enum unit unit, char *buf, size_t len);

/* A histogram with fixed bucket bounds in nanoseconds. */
#define HISTOGRAM_BUCKETS 12
struct histogram {
	pthread_mutex_t lock;
	uint64_t bounds_ns[HISTOGRAM_BUCKETS];
	uint64_t counts[HISTOGRAM_BUCKETS]; /* per bucket, not cumulative */
	uint64_t count;
	uint64_t sum_ns;
};
void histogram_init(struct histogram *h);
void histogram_observe(struct histogram *h, uint64_t ns);
void histogram_write(struct expo *e, struct histogram *h, const char *name, const char *help);

/* ---- cache.c ---- */

enum sandbox_state {
	SANDBOX_PENDING, /* a directory was seen; not (yet) a container */
	SANDBOX_READY,	 /* state.json read */
};

struct sandbox {
	/* Set when added, fixed after. */
	char *root;
	char *id;
	char *dir;
	unsigned int refs; /* under cache_lock */

	/* Owned by the watcher (under cache_lock for readers). */
	enum sandbox_state state;
	bool removed;	  /* dropped from the cache; the last reference frees it */
	int wd;		  /* inotify watch on the directory while pending, -1 if none */
	uint64_t seen_ns; /* when it was first seen */

	/* From state.json, fixed once READY. */
	pid_t shim_pid;
	uint64_t shim_start_time;
	unsigned int vcpus;
	unsigned int memory_mib;
	char *cri_name;
	char *cri_namespace;
	char *cri_uid;

	/* Collection (under lock). */
	pthread_mutex_t lock;
	pthread_cond_t done;
	bool collecting;
	uint64_t generation; /* collections finished */
	bool have_sample;
	uint64_t sample_ns; /* when the last sample was finished */
	struct sample sample;
	struct sample partial; /* what the running collection has so far */
	bool have_partial;
	uint64_t scrapes;
	uint64_t failures;
};

extern pthread_mutex_t cache_lock;

/* Add a pending sandbox (id validated by the caller); NULL if (root, id) or id is known. */
struct sandbox *cache_add(const char *root, const char *id);
struct sandbox *cache_find(const char *root, const char *id);
/* Drop one sandbox (under cache_lock). */
void cache_drop(struct sandbox *sb);
/* Every sandbox of a root, or every one if root is NULL, as references (caller puts them). */
struct sandbox **cache_snapshot(const char *root, bool ready_only, size_t *count);
void cache_put_snapshot(struct sandbox **v, size_t count);
struct sandbox *cache_get_id(const char *id); /* a reference to a READY sandbox */
void sandbox_get(struct sandbox *sb);
void sandbox_put(struct sandbox *sb);
size_t cache_count(enum sandbox_state state);

/* ---- scrape.c ---- */

/*
 * Start a collection of sb unless one runs or its last figures are younger
 * than the minimum interval; then wait until it ends or deadline_ns
 * (CLOCK_MONOTONIC).  Begin every sandbox of a scrape before waiting for any.
 */
void scrape_begin(struct sandbox *sb);
void scrape_wait(struct sandbox *sb, uint64_t deadline_ns);
/* Copy what sb has now: the last finished sample, or the running collection's host part. */
void sandbox_current(struct sandbox *sb, struct sample *out, uint64_t *scrapes, uint64_t *failures);
extern struct histogram scrape_duration;

/* Host figures for a process tree (exported for tests). */
int host_collect(pid_t shim_pid, const char *id, struct sample *s);

/* ---- resync.c: the watcher's decisions (pure) ---- */

struct debounce {
	bool armed;
	uint64_t first_ns;    /* the first event of the burst */
	uint64_t deadline_ns; /* when to resync */
};
/* An event at now: resync delay after it, but no later than a few delays after the first. */
void debounce_event(struct debounce *d, uint64_t now_ns, uint64_t delay_ns);
/* True (once) when the resync is due. */
bool debounce_due(struct debounce *d, uint64_t now_ns);
/* For poll(): -1 when nothing is armed. */
int debounce_timeout_ms(const struct debounce *d, uint64_t now_ns);

/* What the resync found about a pending state directory. */
struct pending_facts {
	bool dir_exists;
	bool has_state;	 /* state.json is there */
	bool state_ok;	 /* and it loaded */
	bool locked;	 /* someone (runk create) holds the directory's lock */
	uint64_t age_ns; /* since the monitor first saw it */
};
enum verdict {
	VERDICT_PROMOTE, /* a container: READY */
	VERDICT_WAIT,	 /* still being created: look again at the next resync */
	VERDICT_DROP,	 /* gone, or a directory that is not a container */
};
enum verdict resync_verdict(const struct pending_facts *f, uint64_t delay_ns);

/* ---- watch.c ---- */
int watch_run(int stop_fd, runk_error_t *err);

/* ---- render.c ---- */
/* The page for every READY sandbox (id NULL) or one; NULL if that one is not known. */
char *metrics_render(const char *id, size_t *len);

/* ---- http.c ---- */
struct MHD_Daemon;
struct MHD_Daemon *http_start(const char *address, runk_error_t *err);

#endif
