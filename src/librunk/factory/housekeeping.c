/* Templates on disk: which exist, eviction, removal, status, and the default VM config. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "factory/factory.h"
#include "log.h"
#include "util.h"

static bool is_key(const char *name)
{
	if (strlen(name) != FACTORY_KEY_LEN)
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

/* When a template was last used: its "used" file, else when it was built. */
static time_t last_used(const struct runk_conf *conf, const char *key)
{
	cleanup_free char *used = factory_path(conf, key, "used");
	cleanup_free char *dir = factory_path(conf, key, NULL);
	struct stat st;

	if (stat(used, &st) == 0 || stat(dir, &st) == 0)
		return st.st_mtime;
	return 0;
}

static void remove_template(const struct runk_conf *conf, const char *key, const char *why)
{
	cleanup_free char *dir = factory_path(conf, key, NULL);
	cleanup_free char *gone = NULL;

	cleanup_free char *pool = factory_pool_dir(conf, key);

	/* Rename first: no clone ever sees half a template.  Running clones keep their mapping. */
	if (asprintf(&gone, "%s/.gone-%s-%d", conf->template_dir, key, (int)getpid()) < 0)
		abort();
	if (rename(dir, gone) == 0)
		remove_tree(gone, NULL);
	/* Unclaimed pooled VMs see their entry gone and end; claimed ones live on with their shim.
	 */
	remove_tree(pool, NULL);
	log_info("template %s removed: %s", key, why);
}

struct entry {
	char key[FACTORY_KEY_LEN + 1];
	time_t used;
};

static int by_use(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return (x->used > y->used) - (x->used < y->used);
}

void factory_evict(const struct runk_conf *conf)
{
	cleanup_dir DIR *dir = opendir(conf->template_dir);
	struct entry entries[256];
	size_t n = 0, kept;
	struct dirent *de;
	time_t now = time(NULL);

	while (dir && (de = readdir(dir)) != NULL && n < 256) {
		if (!is_key(de->d_name))
			continue;
		snprintf(entries[n].key, sizeof(entries[n].key), "%s", de->d_name);
		entries[n].used = last_used(conf, de->d_name);
		n++;
	}
	qsort(entries, n, sizeof(entries[0]), by_use);
	kept = n;
	for (size_t i = 0; i < n; i++) {
		if (conf->template_ttl_s && now - entries[i].used > (time_t)conf->template_ttl_s) {
			remove_template(conf, entries[i].key, "unused for template_ttl");
			kept--;
		} else if (conf->max_templates && kept > conf->max_templates) {
			remove_template(conf, entries[i].key, "over max_templates");
			kept--;
		}
	}
}

void factory_template_bad(const struct runk_conf *conf, const char *key, const char *why)
{
	cleanup_free char *failures = NULL;
	unsigned int count = 0;
	FILE *f;

	remove_template(conf, key, why);
	if (asprintf(&failures, "%s/%s.failures", conf->template_dir, key) < 0)
		abort();
	f = fopen(failures, "re");
	if (f) {
		if (fscanf(f, "%u", &count) != 1)
			count = 0;
		fclose(f);
	}
	f = fopen(failures, "we");
	if (f) {
		fprintf(f, "%u\n", count + 1);
		fclose(f);
	}
}

/* Our names only: a misconfigured template_dir never loses foreign files. */
static bool ours(const char *name)
{
	size_t len = strlen(name);

	if (is_key(name) || strncmp(name, ".build-", 7) == 0 || strncmp(name, ".gone-", 6) == 0 ||
	    strcmp(name, "build.log") == 0)
		return true;
	if (len > FACTORY_KEY_LEN && strncmp(name + FACTORY_KEY_LEN, ".", 1) == 0) {
		char key[FACTORY_KEY_LEN + 1];

		memcpy(key, name, FACTORY_KEY_LEN);
		key[FACTORY_KEY_LEN] = '\0';
		return is_key(key) && (strcmp(name + FACTORY_KEY_LEN, ".lock") == 0 ||
				       strcmp(name + FACTORY_KEY_LEN, ".failures") == 0 ||
				       strcmp(name + FACTORY_KEY_LEN, ".stats") == 0 ||
				       strcmp(name + FACTORY_KEY_LEN, ".pool") == 0);
	}
	return false;
}

int factory_destroy(const struct runk_conf *conf, runk_error_t *err)
{
	cleanup_dir DIR *dir = opendir(conf->template_dir);
	struct dirent *de;

	if (dir == NULL)
		return errno == ENOENT
			       ? 0
			       : runk_error_errno(err, errno, "open `%s`", conf->template_dir);
	while ((de = readdir(dir)) != NULL) {
		cleanup_free char *path = NULL;

		if (!ours(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", conf->template_dir, de->d_name) < 0)
			abort();
		if (de->d_type == DT_DIR) {
			if (remove_tree(path, err) < 0)
				return -1;
		} else if (unlink(path) < 0 && errno != ENOENT) {
			return runk_error_errno(err, errno, "remove `%s`", path);
		}
	}
	rmdir(conf->template_dir); /* only if nothing else is in it */
	return 0;
}

static void meta_value(const char *meta, const char *name, char *out, size_t size)
{
	size_t len = strlen(name);

	snprintf(out, size, "?");
	for (const char *p = meta; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, name, len) == 0 && p[len] == '=') {
			snprintf(out, size, "%.*s", (int)strcspn(p + len + 1, "\n"), p + len + 1);
			return;
		}
	}
}

/* Entries of key's pool: ready to claim, and claimed by a running container. */
static void pool_counts(const struct runk_conf *conf, const char *key, unsigned int *ready,
			unsigned int *claimed)
{
	cleanup_free char *pool = factory_pool_dir(conf, key);
	cleanup_dir DIR *dir = opendir(pool);
	struct dirent *de;

	while (dir && (de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, "ready-", 6) == 0)
			(*ready)++;
		else if (strncmp(de->d_name, "claimed-", 8) == 0)
			(*claimed)++;
	}
}

/* ---- counters ---- */

struct stats {
	unsigned long long n[3]; /* by enum factory_start */
};

static char *stats_path(const struct runk_conf *conf, const char *key)
{
	char *path;

	if (asprintf(&path, "%s/%s.stats", conf->template_dir, key) < 0)
		abort();
	return path;
}

static void stats_parse(const char *text, struct stats *st)
{
	*st = (struct stats){0};
	if (text &&
	    sscanf(text, "pool=%llu template=%llu cold=%llu", &st->n[0], &st->n[1], &st->n[2]) != 3)
		*st = (struct stats){0};
}

void factory_count(const struct runk_conf *conf, const char *key, enum factory_start how)
{
	cleanup_free char *path = stats_path(conf, key);
	cleanup_close int fd = -1;
	char buf[128];
	struct stats st;
	ssize_t n;
	int len;

	if (mkdir_p(conf->template_dir, 0700, NULL) < 0)
		return;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	stats_parse(buf, &st);
	st.n[how]++;
	/* Same length or longer than before: rewriting in place never leaves old bytes behind. */
	len = snprintf(buf, sizeof(buf), "pool=%llu template=%llu cold=%llu\n", st.n[0], st.n[1],
		       st.n[2]);
	if (pwrite(fd, buf, (size_t)len, 0) != len)
		log_debug("template %s: counters not updated: %s", key, strerror(errno));
}

static void stats_text(const struct runk_conf *conf, const char *key, char *out, size_t size)
{
	cleanup_free char *path = stats_path(conf, key), *text = NULL;
	struct stats st;
	size_t len;

	read_file(path, 256, &text, &len, NULL);
	stats_parse(text, &st);
	snprintf(out, size, "%llu/%llu/%llu", st.n[0], st.n[1], st.n[2]);
}

char *factory_summary(const struct runk_conf *conf)
{
	cleanup_dir DIR *dir = opendir(conf->template_dir);
	unsigned int templates = 0, ready = 0, claimed = 0;
	struct dirent *de;
	char *text;

	while (dir && (de = readdir(dir)) != NULL) {
		if (!is_key(de->d_name))
			continue;
		templates++;
		pool_counts(conf, de->d_name, &ready, &claimed);
	}
	if (asprintf(&text, "%s, %u template%s, pool %u per template (%u ready, %u claimed)",
		     conf->template_dir, templates, templates == 1 ? "" : "s", conf->pool, ready,
		     claimed) < 0)
		abort();
	return text;
}

int factory_status(const struct runk_conf *conf, runk_error_t *err)
{
	cleanup_dir DIR *dir = opendir(conf->template_dir);
	struct dirent *de;
	time_t now = time(NULL);

	printf("template = %s\ntemplate_dir = %s\nmax_templates = %u\ntemplate_ttl = %u\n"
	       "pool = %u\n",
	       conf->template_enabled ? "true" : "false", conf->template_dir, conf->max_templates,
	       conf->template_ttl_s, conf->pool);
	printf("%-32s %5s %7s %8s %8s %8s %8s %6s %-20s\n", "KEY", "VCPUS", "MEMORY", "AGE", "IDLE",
	       "RESIDENT", "FAILURES", "POOL", "STARTS POOL/TPL/COLD");
	while (dir && (de = readdir(dir)) != NULL) {
		cleanup_free char *meta_path = NULL, *meta = NULL, *mem = NULL, *fail = NULL;
		cleanup_free char *fail_text = NULL;
		char vcpus[16], memory[16], created[32], starts[64];
		unsigned int ready = 0, claimed = 0;
		struct stat st = {0};
		size_t len;

		if (!is_key(de->d_name))
			continue;
		meta_path = factory_path(conf, de->d_name, "meta");
		mem = factory_path(conf, de->d_name, "mem");
		if (read_file(meta_path, 65536, &meta, &len, NULL) < 0)
			continue;
		meta_value(meta, "vcpus", vcpus, sizeof(vcpus));
		meta_value(meta, "memory_mib", memory, sizeof(memory));
		meta_value(meta, "created", created, sizeof(created));
		stat(mem, &st);
		if (asprintf(&fail, "%s/%s.failures", conf->template_dir, de->d_name) < 0)
			abort();
		read_file(fail, 64, &fail_text, &len, NULL);
		pool_counts(conf, de->d_name, &ready, &claimed);
		stats_text(conf, de->d_name, starts, sizeof(starts));
		printf("%-32s %5s %6sM %7llds %7llds %7lldM %8s %2u+%-3u %s\n", de->d_name, vcpus,
		       memory, (long long)(now - atoll(created)),
		       (long long)(now - last_used(conf, de->d_name)),
		       (long long)st.st_blocks * 512 / (1024 * 1024),
		       fail_text ? strtok(fail_text, "\n") : "0", ready, claimed, starts);
	}
	return 0;
}

int factory_default_config(const struct runk_conf *conf, unsigned int vcpus,
			   unsigned int memory_mib, bool debug, struct vm_config *cfg,
			   runk_error_t *err)
{
	enum vm_accel requested;

	/* As the shim's start_vm fills it for a bundle without annotations. */
	*cfg = (struct vm_config){0};
	if (vm_accel_parse(conf->accel, &requested, err) < 0 ||
	    vm_accel_resolve(requested, &cfg->accel, NULL, err) < 0)
		return -1;
	cfg->qemu_path = conf->qemu_path;
	cfg->kernel = conf->kernel;
	cfg->initrd = conf->initrd;
	cfg->kernel_params = conf->kernel_params;
	cfg->vcpus = vcpus;
	cfg->memory_mib = memory_mib;
	cfg->debug = debug;
	cfg->start_timeout_ms = (int)conf->boot_timeout_s * 1000;
	return 0;
}
