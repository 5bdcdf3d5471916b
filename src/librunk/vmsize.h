/* The VM a bundle gets: its vCPUs, memory and extra kernel parameters, from config.json and
 * runk.conf. */
#ifndef RUNK_VMSIZE_H
#define RUNK_VMSIZE_H

#include "error.h"
#include "ocispec.h"
#include "pod.h"
#include "runkconf.h"
#include "sizing.h"

struct vm_size {
	unsigned int vcpus; /* online at boot */
	/*
	 * A pod's VM whose size follows its containers: QEMU gets this many
	 * vCPUs, the kernel brings up `vcpus` (maxcpus=) and the agent the
	 * rest as containers join.  0 for every other VM.
	 */
	unsigned int max_vcpus;
	struct cpu_amount cpus; /* what vcpus is the ceiling of, exactly */
	unsigned int memory_mib;
	char *kernel_params; /* runk.conf's, plus an allowed annotation's */
};

/*
 * Size the VM for config (sizing.h has the rule).  Annotations
 * org.runk.hypervisor.{default_vcpus,default_memory,kernel_params} override
 * runk.conf only where [runtime] allowed_annotations lists them.
 */
int vm_size_compute(const struct oci_config *config, const struct runk_conf *conf,
		    const struct pod_info *pod, struct vm_size *size, runk_error_t *err);

/* The most vCPUs a VM may have: default_maxvcpus, at most the host's online CPUs. */
unsigned int vm_size_max_vcpus(const struct runk_conf *conf);
void vm_size_release(struct vm_size *size);

#define RUNK_ANNOTATION_PREFIX "org.runk.hypervisor."

#endif
