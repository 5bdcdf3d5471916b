/*
 * runk.conf (INI).  Search order: --config FILE, $RUNK_CONFIG,
 * <sysconfdir>/runk/runk.conf, then the built-in defaults.  Unknown sections
 * or keys and bad values are errors naming the file, line and key.
 */
#ifndef RUNK_RUNKCONF_H
#define RUNK_RUNKCONF_H

#include <stdbool.h>

#include "error.h"

struct runk_conf {
	char *qemu_path;
	char *kernel;
	char *initrd;
	char *kernel_params;
	char *accel; /* auto | kvm | tcg */
	unsigned int default_vcpus;
	unsigned int default_memory_mib;
	unsigned int boot_timeout_s;
	unsigned int agent_timeout_s;
	bool debug;
	char *source; /* the file it came from, or NULL for the defaults */
};

int runk_conf_load(const char *explicit_path, struct runk_conf *conf, runk_error_t *err);
void runk_conf_release(struct runk_conf *conf);

#endif
