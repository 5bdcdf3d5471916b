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
	char *accel;		       /* auto | kvm | tcg */
	char *default_vcpus;	       /* a decimal number of CPUs: "1", "0.5", "1.25" */
	unsigned int default_maxvcpus; /* 0: the host's online CPUs */
	unsigned int default_memory_mib;
	unsigned int default_maxmemory_mib; /* 0: the host's memory */
	unsigned int memory_overhead_mib;   /* what the host allows QEMU itself */
	unsigned int pod_memory_mib; /* added to a pod's VM whose limits the engine does not tell */
	unsigned int boot_timeout_s;
	bool jail;	 /* [hypervisor] jail: QEMU in its own mount namespace, pivoted (jail.h) */
	char *jail_user; /* [hypervisor] user: QEMU's user; "" = root with the share's caps */
	bool sandbox_cgroup_only;
	bool debug;
	char *log_level;	   /* error | warning | info | debug */
	char *allowed_annotations; /* org.runk.hypervisor.* keys a bundle may set, space-separated
				    */
	unsigned int agent_timeout_s;
	bool debug_console;
	bool template_enabled;	     /* [factory] template: start VMs from templates */
	char *template_dir;	     /* [factory] template_dir */
	unsigned int max_templates;  /* [factory] max_templates: least recently used go first */
	unsigned int template_ttl_s; /* [factory] template_ttl: idle this long, removed (0 never) */
	unsigned int pool;	     /* [factory] pool: VMs pre-started per template */
	char *source;		     /* the file it came from, or NULL for the defaults */
};

int runk_conf_load(const char *explicit_path, struct runk_conf *conf, runk_error_t *err);
void runk_conf_release(struct runk_conf *conf);

#endif
