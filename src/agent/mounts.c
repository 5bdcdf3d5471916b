/*
 * OCI mount options -> mount(2): flags (ro, nosuid, relatime, ...), the
 * propagation to set afterwards (rprivate, slave, ...), bind or rbind, and
 * what is left for the filesystem (mode=755, size=..., newinstance).  Pure,
 * so it is unit-tested; rootfs.c does the mounting.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "agent.h"
#include "ocispec.h"

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flags[] = {
	{"ro", false, MS_RDONLY},
	{"rw", true, MS_RDONLY},
	{"nosuid", false, MS_NOSUID},
	{"suid", true, MS_NOSUID},
	{"nodev", false, MS_NODEV},
	{"dev", true, MS_NODEV},
	{"noexec", false, MS_NOEXEC},
	{"exec", true, MS_NOEXEC},
	{"sync", false, MS_SYNCHRONOUS},
	{"async", true, MS_SYNCHRONOUS},
	{"noatime", false, MS_NOATIME},
	{"atime", true, MS_NOATIME},
	{"nodiratime", false, MS_NODIRATIME},
	{"diratime", true, MS_NODIRATIME},
	{"relatime", false, MS_RELATIME},
	{"norelatime", true, MS_RELATIME},
	{"strictatime", false, MS_STRICTATIME},
	{"nostrictatime", true, MS_STRICTATIME},
	{"dirsync", false, MS_DIRSYNC},
	{"mand", false, MS_MANDLOCK},
	{"nomand", true, MS_MANDLOCK},
	{"lazytime", false, MS_LAZYTIME},
	{"nolazytime", true, MS_LAZYTIME},
	{"silent", false, MS_SILENT},
	{"loud", true, MS_SILENT},
	{"nosymfollow", false, 256 /* MS_NOSYMFOLLOW, 5.10 */},
	{"symfollow", true, 256},
};

unsigned long propagation_parse(const char *name)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} table[] = {
		{"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
		{"shared", MS_SHARED},	       {"rshared", MS_SHARED | MS_REC},
		{"slave", MS_SLAVE},	       {"rslave", MS_SLAVE | MS_REC},
		{"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(name, table[i].name) == 0)
			return table[i].flags;
	return 0;
}

static bool flag_option(const char *opt, unsigned long *flags)
{
	for (size_t j = 0; j < sizeof(mount_flags) / sizeof(mount_flags[0]); j++) {
		if (strcmp(opt, mount_flags[j].name) != 0)
			continue;
		if (mount_flags[j].clear)
			*flags &= ~mount_flags[j].flag;
		else
			*flags |= mount_flags[j].flag;
		return true;
	}
	return false;
}

int mount_opts_parse(const struct oci_mount *m, struct mount_opts *o, runk_error_t *err)
{
	size_t len = 1;

	*o = (struct mount_opts){0};
	o->bind = m->type && strcmp(m->type, "bind") == 0;
	for (size_t i = 0; i < m->options_len; i++)
		len += strlen(m->options[i]) + 1;
	o->data = calloc(1, len);
	if (o->data == NULL)
		abort();
	for (size_t i = 0; i < m->options_len; i++) {
		const char *opt = m->options[i];
		unsigned long prop;

		if (flag_option(opt, &o->flags))
			continue;
		if ((prop = propagation_parse(opt)) != 0) {
			o->propagation = prop;
			continue;
		}
		if (strcmp(opt, "bind") == 0 || strcmp(opt, "rbind") == 0) {
			o->bind = true;
			o->recursive = opt[0] == 'r';
			continue;
		}
		if (strcmp(opt, "tmpcopyup") == 0) {
			if (m->type == NULL || strcmp(m->type, "tmpfs") != 0) {
				mount_opts_free(o);
				return runk_error(err,
						  "options[%zu]: `tmpcopyup` is only for tmpfs", i);
			}
			o->tmpcopyup = true;
			continue;
		}
		if (strcmp(opt, "idmap") == 0 || strcmp(opt, "ridmap") == 0 ||
		    strcmp(opt, "rro") == 0 || strcmp(opt, "rrw") == 0) {
			mount_opts_free(o);
			return runk_error(err, "options[%zu]: `%s` is not supported", i, opt);
		}
		if (o->data[0])
			strcat(o->data, ",");
		strcat(o->data, opt);
	}
	return 0;
}

void mount_opts_free(struct mount_opts *o)
{
	free(o->data);
	o->data = NULL;
}

int destination_check(const char *dest, runk_error_t *err)
{
	const char *p = dest;

	if (dest == NULL || dest[0] != '/')
		return runk_error(err, "`%s` is not an absolute path", dest ? dest : "");
	while (*p) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return runk_error(err, "`%s` contains `..`", dest);
		p += n;
	}
	return 0;
}
