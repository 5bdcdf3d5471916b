/*
 * Discovery: inotify on each state root.  A directory created there joins
 * the cache at once as pending, one removed leaves it at once; a pending
 * directory is also watched for its state.json.  Events only say when to
 * look: a debounced resync reads the state files and promotes, keeps or
 * drops each pending entry (resync_verdict).  A root that is missing is
 * retried; one deleted or moved away is forgotten with its sandboxes and
 * watched again when it comes back; a queue overflow rescans every root.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "id.h"
#include "monitor.h"
#include "state.h"

#define ROOT_EVENTS                                                                                \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |     \
	 IN_ONLYDIR)
#define SANDBOX_EVENTS (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)

/* The CRI annotations that name a pod; their values label its series. */
#define CRI_NAME      "io.kubernetes.cri.sandbox-name"
#define CRI_NAMESPACE "io.kubernetes.cri.sandbox-namespace"
#define CRI_UID	      "io.kubernetes.cri.sandbox-uid"

struct root {
	const char *path;
	int wd; /* -1 while it does not exist */
	uint64_t next_try_ns;
	bool reported_missing;
};

static int inotify_fd = -1;
static struct root *roots;
static size_t n_roots;
static struct debounce resync_timer;

static void want_resync(void)
{
	debounce_event(&resync_timer, monotonic_ns(), monitor_opts.resync_delay_ns);
}

static bool valid_id(const char *name)
{
	cleanup_error runk_error_t err = NULL;

	return runk_id_validate(name, &err) == 0;
}

static void add_pending(struct root *r, const char *name)
{
	struct sandbox *sb;
	cleanup_free char *dir = NULL;

	if (!valid_id(name))
		return;
	pthread_mutex_lock(&cache_lock);
	if (cache_find(r->path, name)) {
		pthread_mutex_unlock(&cache_lock);
		return;
	}
	sb = cache_add(r->path, name);
	if (sb == NULL) {
		pthread_mutex_unlock(&cache_lock);
		monitor_log("%s/%s: the id is already tracked under another root; ignored", r->path,
			    name);
		return;
	}
	/* Told when its state.json is written (a rename into the directory). */
	sb->wd = inotify_add_watch(inotify_fd, sb->dir, SANDBOX_EVENTS);
	pthread_mutex_unlock(&cache_lock);
	monitor_debug("%s: pending", name);
	want_resync();
}

/* Under cache_lock. */
static void drop_locked(struct sandbox *sb, const char *why)
{
	monitor_debug("%s: dropped (%s)", sb->id, why);
	if (sb->wd >= 0)
		inotify_rm_watch(inotify_fd, sb->wd);
	sb->wd = -1;
	cache_drop(sb);
}

static void drop(const char *root, const char *name, const char *why)
{
	struct sandbox *sb;

	pthread_mutex_lock(&cache_lock);
	sb = cache_find(root, name);
	if (sb)
		drop_locked(sb, why);
	pthread_mutex_unlock(&cache_lock);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Every directory of the root joins the cache; entries whose directory is gone leave it. */
static void rescan_root(struct root *r)
{
	cleanup_dir DIR *d = opendir(r->path);
	struct sandbox **v;
	struct dirent *e;
	size_t n;

	while (d && (e = readdir(d))) {
		cleanup_free char *path = NULL;

		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", r->path, e->d_name) < 0)
			abort();
		if (e->d_type == DT_DIR || (e->d_type == DT_UNKNOWN && is_dir(path)))
			add_pending(r, e->d_name);
	}
	v = cache_snapshot(r->path, false, &n);
	for (size_t i = 0; i < n; i++)
		if (!is_dir(v[i]->dir))
			drop(r->path, v[i]->id, "its directory is gone");
	cache_put_snapshot(v, n);
	want_resync();
}

static void try_watch(struct root *r, uint64_t now)
{
	r->wd = inotify_add_watch(inotify_fd, r->path, ROOT_EVENTS);
	if (r->wd < 0) {
		if (!r->reported_missing)
			monitor_log("root %s: %s; retrying", r->path, strerror(errno));
		r->reported_missing = true;
		r->next_try_ns = now + monitor_opts.root_retry_ns;
		return;
	}
	r->reported_missing = false;
	monitor_log("watching %s", r->path);
	rescan_root(r);
}

/* The root went away: so did its sandboxes. */
static void root_lost(struct root *r)
{
	struct sandbox **v;
	size_t n;

	monitor_log("root %s went away; retrying", r->path);
	r->wd = -1;
	r->reported_missing = true;
	r->next_try_ns = monotonic_ns();
	v = cache_snapshot(r->path, false, &n);
	for (size_t i = 0; i < n; i++)
		drop(r->path, v[i]->id, "its root went away");
	cache_put_snapshot(v, n);
}

static void rescan_all(void)
{
	monitor_log("inotify queue overflowed: rescanning every root");
	for (size_t i = 0; i < n_roots; i++)
		if (roots[i].wd >= 0)
			rescan_root(&roots[i]);
}

static struct root *root_of_wd(int wd)
{
	for (size_t i = 0; i < n_roots; i++)
		if (roots[i].wd == wd)
			return &roots[i];
	return NULL;
}

static void root_event(struct root *r, const struct inotify_event *ev)
{
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		/* A moved root keeps its watch: let it go; IN_IGNORED follows either way. */
		inotify_rm_watch(inotify_fd, r->wd);
		return;
	}
	if (ev->mask & IN_IGNORED) {
		root_lost(r);
		return;
	}
	if (ev->len == 0 || !(ev->mask & IN_ISDIR))
		return;
	if (ev->mask & (IN_CREATE | IN_MOVED_TO))
		add_pending(r, ev->name);
	else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
		drop(r->path, ev->name, "its directory was removed");
}

/* An event on a pending sandbox's directory: its state.json may be there. */
static void sandbox_event(const struct inotify_event *ev)
{
	struct sandbox **v;
	size_t n;

	v = cache_snapshot(NULL, false, &n);
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < n; i++) {
		if (v[i]->wd != ev->wd)
			continue;
		if (ev->mask & IN_IGNORED)
			v[i]->wd = -1;
		else if (ev->len && strcmp(ev->name, STATE_FILE) == 0)
			debounce_event(&resync_timer, monotonic_ns(), monitor_opts.resync_delay_ns);
	}
	pthread_mutex_unlock(&cache_lock);
	cache_put_snapshot(v, n);
}

static void read_events(void)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t len = read(inotify_fd, buf, sizeof(buf));

		if (len <= 0)
			return;
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			struct root *r;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				rescan_all();
				continue;
			}
			r = root_of_wd(ev->wd);
			if (r)
				root_event(r, ev);
			else
				sandbox_event(ev);
		}
	}
}

static char *annotation(const struct runk_state *st, const char *key)
{
	for (size_t i = 0; i < st->n_annotations; i++)
		if (strcmp(st->annotation_keys[i], key) == 0)
			return strdup(st->annotation_values[i]);
	return NULL;
}

/* Is the directory locked by someone (runk create)?  Takes and drops the lock if not. */
static bool dir_locked(const char *dir)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK;
	flock(fd, LOCK_UN);
	return false;
}

static void promote(struct sandbox *sb, const struct runk_state *st)
{
	pthread_mutex_lock(&cache_lock);
	if (!sb->removed && sb->state == SANDBOX_PENDING) {
		sb->shim_pid = st->pid;
		sb->shim_start_time = st->pid_start_time;
		sb->vcpus = st->vcpus;
		sb->memory_mib = st->memory_mib;
		sb->cri_name = annotation(st, CRI_NAME);
		sb->cri_namespace = annotation(st, CRI_NAMESPACE);
		sb->cri_uid = annotation(st, CRI_UID);
		if (sb->wd >= 0)
			inotify_rm_watch(inotify_fd, sb->wd);
		sb->wd = -1;
		sb->state = SANDBOX_READY;
		monitor_debug("%s: ready (shim %d)", sb->id, sb->shim_pid);
	}
	pthread_mutex_unlock(&cache_lock);
}

static void resync_one(struct sandbox *sb, uint64_t now)
{
	struct runk_state st __attribute__((cleanup(state_release))) = {0};
	cleanup_error runk_error_t err = NULL;
	cleanup_free char *state_path = NULL;
	struct pending_facts f = {.dir_exists = is_dir(sb->dir), .age_ns = now - sb->seen_ns};

	if (sb->state == SANDBOX_READY) {
		if (!f.dir_exists)
			drop(sb->root, sb->id, "its directory is gone");
		return;
	}
	if (asprintf(&state_path, "%s/%s", sb->dir, STATE_FILE) < 0)
		abort();
	f.has_state = f.dir_exists && access(state_path, F_OK) == 0;
	if (f.has_state)
		f.state_ok = state_load(sb->root, sb->id, &st, NULL, &err) == 0;
	else if (f.dir_exists)
		f.locked = dir_locked(sb->dir);
	switch (resync_verdict(&f, monitor_opts.resync_delay_ns)) {
	case VERDICT_PROMOTE:
		promote(sb, &st);
		break;
	case VERDICT_WAIT:
		want_resync();
		break;
	case VERDICT_DROP:
		drop(sb->root, sb->id, f.dir_exists ? "not a container" : "its directory is gone");
		break;
	}
}

static void resync(void)
{
	uint64_t now = monotonic_ns();
	struct sandbox **v;
	size_t n;

	v = cache_snapshot(NULL, false, &n);
	monitor_debug("resync of %zu sandboxes", n);
	for (size_t i = 0; i < n; i++)
		if (!v[i]->removed)
			resync_one(v[i], now);
	cache_put_snapshot(v, n);
}

static int next_timeout_ms(uint64_t now)
{
	int timeout = debounce_timeout_ms(&resync_timer, now);

	for (size_t i = 0; i < n_roots; i++) {
		int t;

		if (roots[i].wd >= 0)
			continue;
		t = roots[i].next_try_ns <= now
			    ? 0
			    : (int)((roots[i].next_try_ns - now + 999999) / 1000000);
		if (timeout < 0 || t < timeout)
			timeout = t;
	}
	return timeout;
}

int watch_run(int stop_fd, runk_error_t *err)
{
	uint64_t now = monotonic_ns();

	inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (inotify_fd < 0)
		return runk_error_errno(err, errno, "inotify_init1");
	roots = calloc(monitor_opts.n_roots, sizeof(*roots));
	if (roots == NULL)
		abort();
	n_roots = monitor_opts.n_roots;
	for (size_t i = 0; i < n_roots; i++) {
		roots[i].path = monitor_opts.roots[i];
		try_watch(&roots[i], now);
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = inotify_fd, .events = POLLIN},
				      {.fd = stop_fd, .events = POLLIN}};

		if (poll(p, 2, next_timeout_ms(monotonic_ns())) < 0 && errno != EINTR)
			return runk_error_errno(err, errno, "poll");
		if (p[1].revents)
			return 0;
		if (p[0].revents)
			read_events();
		now = monotonic_ns();
		for (size_t i = 0; i < n_roots; i++)
			if (roots[i].wd < 0 && roots[i].next_try_ns <= now)
				try_watch(&roots[i], now);
		if (debounce_due(&resync_timer, now))
			resync();
	}
}
