/*
 * The host half of config.json's bind mounts: each source goes into the
 * share as <share>/<id>/mounts/<index in config.mounts> (a file or a
 * directory, like the source), bind-mounted in the shim's own mount
 * namespace, so the guest finds it at /run/runk/share/<id>/mounts/<index>
 * and binds it to the destination with the requested options (agent,
 * rootfs.c).  A read-only bind is read-only here already: the guest is not
 * trusted to honour "ro".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "ocispec.h"
#include "share.h"
#include "util.h"

static bool has_option(const struct oci_mount *m, const char *opt)
{
	for (size_t i = 0; i < m->options_len; i++)
		if (strcmp(m->options[i], opt) == 0)
			return true;
	return false;
}

bool share_mount_is_bind(const struct oci_mount *m)
{
	return (m->type && strcmp(m->type, "bind") == 0) || has_option(m, "bind") ||
	       has_option(m, "rbind");
}

static int bind_one(const struct oci_mount *m, size_t i, const char *bundle, const char *mounts,
		    runk_error_t *err)
{
	cleanup_free char *source = NULL, *target = NULL;
	cleanup_close int fd = -1;
	bool ro = false;
	struct stat st;

	if (m->source == NULL || m->source[0] == '\0')
		return runk_error(err, "mounts[%zu].source: missing for a bind mount", i);
	/* A relative source is relative to the bundle, as runc takes it. */
	if (m->source[0] == '/')
		source = strdup(m->source);
	else if (asprintf(&source, "%s/%s", bundle, m->source) < 0)
		source = NULL;
	if (source == NULL || asprintf(&target, "%s/%zu", mounts, i) < 0)
		abort();
	if (stat(source, &st) < 0)
		return runk_error_errno(err, errno, "mounts[%zu].source `%s`", i, m->source);
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(target, 0755) < 0)
			return runk_error_errno(err, errno, "mkdir %s", target);
	} else {
		fd = open(target, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			return runk_error_errno(err, errno, "create %s", target);
	}
	if (mount(source, target, NULL, MS_BIND | (has_option(m, "rbind") ? MS_REC : 0), NULL) < 0)
		return runk_error_errno(err, errno, "mounts[%zu].source: bind `%s`", i, m->source);
	for (size_t j = 0; j < m->options_len; j++) {
		if (strcmp(m->options[j], "ro") == 0)
			ro = true;
		else if (strcmp(m->options[j], "rw") == 0)
			ro = false;
	}
	if (ro && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return runk_error_errno(err, errno, "mounts[%zu]: make `%s` read-only", i,
					m->source);
	return 0;
}

int share_bind_mounts(const char *config_path, const char *dir, runk_error_t *err)
{
	cleanup_free char *parse_err = NULL, *mounts = NULL, *copy = strdup(config_path);
	struct oci_config *cfg;
	const char *bundle;
	int ret = 0;

	if (copy == NULL)
		abort();
	bundle = dirname(copy);
	cfg = oci_config_parse_file(config_path, &parse_err);
	if (cfg == NULL)
		return runk_error(err, "%s: %s", config_path,
				  parse_err ? parse_err : "parse error");
	if (asprintf(&mounts, "%s/mounts", dir) < 0)
		abort();
	for (size_t i = 0; i < cfg->mounts_len && ret == 0; i++) {
		if (!share_mount_is_bind(cfg->mounts[i]))
			continue;
		if (access(mounts, F_OK) < 0 && mkdir_p(mounts, 0755, err) < 0)
			ret = -1;
		else
			ret = bind_one(cfg->mounts[i], i, bundle, mounts, err);
	}
	oci_config_free(cfg);
	return ret;
}
