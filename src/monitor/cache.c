/*
 * The sandboxes runk-monitor knows.  The watcher adds and drops them; HTTP
 * threads and collectors hold references, so a sandbox dropped during a
 * scrape lives until its last reader lets go.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor.h"

pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct sandbox **sandboxes;
static size_t n_sandboxes;

struct sandbox *cache_find(const char *root, const char *id)
{
	for (size_t i = 0; i < n_sandboxes; i++)
		if (strcmp(sandboxes[i]->id, id) == 0 &&
		    (root == NULL || strcmp(sandboxes[i]->root, root) == 0))
			return sandboxes[i];
	return NULL;
}

struct sandbox *cache_add(const char *root, const char *id)
{
	pthread_condattr_t attr;
	struct sandbox *sb;

	/* Ids label the series: the same id under two roots would give duplicates. */
	if (cache_find(NULL, id))
		return NULL;
	sb = calloc(1, sizeof(*sb));
	if (sb == NULL)
		abort();
	sb->root = strdup(root);
	sb->id = strdup(id);
	if (asprintf(&sb->dir, "%s/%s", root, id) < 0 || sb->root == NULL || sb->id == NULL)
		abort();
	sb->refs = 1; /* the cache's */
	sb->state = SANDBOX_PENDING;
	sb->wd = -1;
	sb->seen_ns = monotonic_ns();
	pthread_mutex_init(&sb->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&sb->done, &attr);
	pthread_condattr_destroy(&attr);
	sandboxes = realloc(sandboxes, (n_sandboxes + 1) * sizeof(*sandboxes));
	if (sandboxes == NULL)
		abort();
	sandboxes[n_sandboxes++] = sb;
	return sb;
}

static void sandbox_free(struct sandbox *sb)
{
	free(sb->root);
	free(sb->id);
	free(sb->dir);
	free(sb->cri_name);
	free(sb->cri_namespace);
	free(sb->cri_uid);
	pthread_mutex_destroy(&sb->lock);
	pthread_cond_destroy(&sb->done);
	free(sb);
}

void cache_drop(struct sandbox *sb)
{
	for (size_t i = 0; i < n_sandboxes; i++) {
		if (sandboxes[i] != sb)
			continue;
		sandboxes[i] = sandboxes[--n_sandboxes];
		sb->removed = true;
		if (--sb->refs == 0)
			sandbox_free(sb);
		return;
	}
}

void sandbox_get(struct sandbox *sb)
{
	pthread_mutex_lock(&cache_lock);
	sb->refs++;
	pthread_mutex_unlock(&cache_lock);
}

void sandbox_put(struct sandbox *sb)
{
	bool last;

	pthread_mutex_lock(&cache_lock);
	last = --sb->refs == 0;
	pthread_mutex_unlock(&cache_lock);
	if (last)
		sandbox_free(sb);
}

static int by_id(const void *a, const void *b)
{
	return strcmp((*(struct sandbox *const *)a)->id, (*(struct sandbox *const *)b)->id);
}

struct sandbox **cache_snapshot(const char *root, bool ready_only, size_t *count)
{
	struct sandbox **v;
	size_t n = 0;

	pthread_mutex_lock(&cache_lock);
	v = calloc(n_sandboxes + 1, sizeof(*v));
	if (v == NULL)
		abort();
	for (size_t i = 0; i < n_sandboxes; i++) {
		struct sandbox *sb = sandboxes[i];

		if ((root && strcmp(sb->root, root) != 0) ||
		    (ready_only && sb->state != SANDBOX_READY))
			continue;
		sb->refs++;
		v[n++] = sb;
	}
	pthread_mutex_unlock(&cache_lock);
	qsort(v, n, sizeof(*v), by_id);
	*count = n;
	return v;
}

void cache_put_snapshot(struct sandbox **v, size_t count)
{
	for (size_t i = 0; i < count; i++)
		sandbox_put(v[i]);
	free(v);
}

struct sandbox *cache_get_id(const char *id)
{
	struct sandbox *sb;

	pthread_mutex_lock(&cache_lock);
	sb = cache_find(NULL, id);
	if (sb && sb->state == SANDBOX_READY)
		sb->refs++;
	else
		sb = NULL;
	pthread_mutex_unlock(&cache_lock);
	return sb;
}

size_t cache_count(enum sandbox_state state)
{
	size_t n = 0;

	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < n_sandboxes; i++)
		n += sandboxes[i]->state == state;
	pthread_mutex_unlock(&cache_lock);
	return n;
}
