/* Placing the VM's threads once QEMU has reported them.  See cgroup.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "hypervisor/hypervisor.h"
#include "log.h"

#define VCPU_WAIT_TRIES	   100
#define VCPU_WAIT_DELAY_US 20000

static bool thread_alive(pid_t pid, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", pid, tid);
	return access(path, F_OK) == 0;
}

/* All vCPUs reported, each a live thread of QEMU? */
static bool vcpus_ready(pid_t qemu, const pid_t *tids, size_t n, unsigned int want)
{
	if (n < want)
		return false;
	for (size_t i = 0; i < n; i++)
		if (tids[i] <= 0 || !thread_alive(qemu, tids[i]))
			return false;
	return true;
}

int cgroup_place_vm_wait(const struct cgroup_plan *plan, struct vm *vm, unsigned int vcpus,
			 const struct oci_linux_resources *res, runk_error_t *err)
{
	pid_t qemu = vm_pid(vm);

	if (plan == NULL)
		return 0;
	for (int try = 0;; try++) {
		cleanup_free pid_t *tids = NULL;
		size_t n = 0;

		if (vm_vcpu_threads(vm, &tids, &n, err) < 0)
			return runk_error_prefix(err, "the VM's vCPU threads");
		if (vcpus_ready(qemu, tids, n, vcpus)) {
			for (size_t i = 0; i < n; i++)
				log_debug("vCPU %zu: thread %d", i, tids[i]);
			if (cgroup_place_vm(plan, qemu, tids, n, res, err) < 0)
				return runk_error_prefix(err, "place the VM in its cgroups");
			return 0;
		}
		if (try == VCPU_WAIT_TRIES)
			return runk_error(err, "QEMU reported %zu of %u vCPU threads after %d ms",
					  n, vcpus, VCPU_WAIT_TRIES * VCPU_WAIT_DELAY_US / 1000);
		usleep(VCPU_WAIT_DELAY_US);
	}
}
