/* The VM a bundle gets: its vCPUs, memory and extra kernel parameters, from config.json and
 * runk.conf. */
#ifndef RUNK_VMSIZE_H
#define RUNK_VMSIZE_H

#include "error.h"
#include "ocispec.h"
#include "runkconf.h"

struct vm_size {
	unsigned int vcpus;
	unsigned int memory_mib;
	char *kernel_params; /* runk.conf's, plus an allowed annotation's */
};

/*
 * Size the VM for config (sizing.h has the rule).  Annotations
 * org.runk.hypervisor.{default_vcpus,default_memory,kernel_params} override
 * runk.conf only where [runtime] allowed_annotations lists them.
 */
int vm_size_compute(const struct oci_config *config, const struct runk_conf *conf,
		    struct vm_size *size, runk_error_t *err);
void vm_size_release(struct vm_size *size);

#define RUNK_ANNOTATION_PREFIX "org.runk.hypervisor."

#endif
