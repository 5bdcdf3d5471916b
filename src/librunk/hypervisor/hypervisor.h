/*
 * The hypervisor driver: runs one QEMU microvm as a child of the calling
 * process and controls it over QMP.
 *
 * Life of a VM:
 *   vm_start()        fork+exec QEMU (dies with us: PR_SET_PDEATHSIG), wait
 *                     until its QMP socket answers, negotiate capabilities
 *   vm_vcpu_threads() host thread ids of the vCPUs (for cgroup placement)
 *   vm_pause()/vm_resume()   QMP stop/cont
 *   vm_quit()         QMP quit (QEMU exits; reap it with vm_wait)
 *   vm_destroy()      always: quit if still running, SIGKILL after a grace
 *                     period, reap, free
 *
 * The guest talks to the host on a virtio-serial port named "agent" whose
 * host end is a unix socket QEMU listens on (cfg.agent_socket); the share is
 * 9p with mount_tag "share".  Nothing here runs a shell: vm_build_argv gives
 * the exact argv, which is what vm_start executes.
 */
#ifndef RUNK_HYPERVISOR_H
#define RUNK_HYPERVISOR_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "hypervisor/qmp.h"

enum vm_accel {
	VM_ACCEL_AUTO, /* KVM where it is real hardware virtualisation, else TCG */
	VM_ACCEL_KVM,
	VM_ACCEL_TCG,
};

enum vm_sandbox {
	VM_SANDBOX_AUTO, /* -sandbox on if this QEMU build has it (learnt once per process) */
	VM_SANDBOX_ON,
	VM_SANDBOX_OFF,
};

/* A virtio-net device on an open tap (network/network.h makes them). */
struct vm_nic {
	int tap_fd;	 /* QEMU inherits it (fd=N, vhost=off) */
	const char *mac; /* "aa:bb:cc:dd:ee:ff" */
};

struct vm_config {
	const char *qemu_path;	   /* NULL = DEFAULT_QEMU_PATH */
	const char *kernel;	   /* uncompressed vmlinux (PVH entry) */
	const char *initrd;	   /* NULL = none */
	const char *kernel_params; /* appended to runk's own; NULL = none */
	const char *name;	   /* -name, shows in ps/QMP; NULL = "runk" */
	enum vm_accel accel;
	unsigned int vcpus;	  /* >= 1 */
	unsigned int memory_mib;  /* >= 16 */
	const char *agent_socket; /* QEMU listens here for the "agent" virtio-serial port */
	const char *qmp_socket;	  /* QEMU listens here for QMP (removed first if it exists) */
	const char *share_dir;	  /* 9p export, mount_tag "share"; NULL = no share device */
	const char *console_log;  /* guest serial console appended here; NULL = discarded */
	const char *qemu_log;	  /* QEMU's stdout/stderr appended here; NULL = kept in memory */
	unsigned long tsc_khz;	  /* TCG: the guest's tsc_early_khz; 0 = the host's TSC rate */
	unsigned int tcg_tb_mib;  /* TCG translation buffer; 0 = runk's default (VM_TCG_TB_MIB) */
	enum vm_sandbox sandbox;
	bool allow_spawn;     /* let QEMU fork/exec under -sandbox (migration to exec:) */
	const char *mem_path; /* guest RAM in this file (memory-backend-file); NULL = anonymous */
	bool mem_shared;      /* mem_path mapped shared (a template) or private, copy-on-write */
	bool incoming;	      /* -incoming defer: wait for QMP migrate-incoming (a clone) */
	int start_timeout_ms; /* launch → QMP ready; 0 = VM_START_TIMEOUT_MS */
	bool debug;	      /* verbose guest kernel (no "quiet") */
	/*
	 * The jail (jail.c): QEMU runs pivoted into this directory, which
	 * vm_start creates and fills; NULL = QEMU sees the host's filesystem.
	 * jail_user: "" or NULL = root with only the share's capabilities, else
	 * a user name or uid[:gid] QEMU runs as, with no capabilities at all.
	 */
	const char *jail_dir;
	const char *jail_user;

	/* Network devices, in this order. */
	const struct vm_nic *nics;
	size_t n_nics;
};

/*
 * TCG translation buffer.  Measured here (Debian kernel, -m 256, launch →
 * agent hello, median of 4, QEMU PSS at hello): QEMU's default 1.52 s
 * 251 MiB; 64: 1.49 s 251 MiB; 32: 1.51 s 244 MiB; 16: 1.60 s 224 MiB;
 * 8: 1.71 s 216 MiB.  16 trades ~6% of boot time for 27 MiB per VM.
 */
#define VM_TCG_TB_MIB	    16
#define VM_START_TIMEOUT_MS 30000
#define VM_QUIT_GRACE_MS    2000

struct vm;

/* "auto" | "kvm" | "tcg" (runk.conf's accel=). */
int vm_accel_parse(const char *text, enum vm_accel *accel, runk_error_t *err);
const char *vm_accel_name(enum vm_accel accel);

/*
 * Choose the accelerator.  AUTO picks KVM only if /dev/kvm opens and answers
 * KVM_GET_API_VERSION, is not PVM-backed (/sys/module/kvm_pvm) and the CPU
 * has vmx or svm; TCG otherwise.  Forcing KVM fails if /dev/kvm is unusable.
 * *why (static text, may be NULL) says why, for `runk check` and the debug log.
 */
int vm_accel_resolve(enum vm_accel requested, enum vm_accel *chosen, const char **why,
		     runk_error_t *err);

/* True if a /proc/cpuinfo text lists vmx or svm among the flags.  For tests. */
bool vm_cpuinfo_has_hw_virt(const char *cpuinfo);

/*
 * The host's TSC rate in kHz: /sys/devices/system/cpu/cpu0/tsc_freq_khz, else
 * /proc/cpuinfo ("model name ... @ X.XXGHz", else "cpu MHz").  Cached.
 */
int vm_host_tsc_khz(unsigned long *khz, runk_error_t *err);

/* The cpuinfo half of vm_host_tsc_khz, integer arithmetic only.  For tests. */
int vm_parse_cpuinfo_tsc_khz(const char *cpuinfo, unsigned long *khz, runk_error_t *err);

/*
 * The QEMU argv (NULL-terminated, free with cleanup_strv) for cfg.  AUTO
 * accel and sandbox and tsc_khz 0 are resolved here, so set them explicitly
 * for a reproducible result.
 */
int vm_build_argv(const struct vm_config *cfg, char ***argv_out, runk_error_t *err);

/*
 * Launch QEMU and return once QMP is ready.  If QEMU exits first, the error
 * carries the tail of its output.  QEMU's stdin is /dev/null; it inherits no
 * descriptors but 0-2 and the nics' taps, an empty signal mask and default signal dispositions.
 * QEMU gets SIGKILL when the *thread* that called vm_start exits
 * (PR_SET_PDEATHSIG): call it from a thread that lives as long as the VM.
 */
int vm_start(const struct vm_config *cfg, struct vm **vm_out, runk_error_t *err);

pid_t vm_pid(const struct vm *vm);

/* The QMP connection, for commands this file has no wrapper for. */
struct qmp *vm_qmp(struct vm *vm);

/* Host thread ids of the vCPUs in cpu-index order (query-cpus-fast).  Caller frees *tids. */
int vm_vcpu_threads(struct vm *vm, pid_t **tids, size_t *n, runk_error_t *err);

int vm_pause(struct vm *vm, runk_error_t *err);
int vm_resume(struct vm *vm, runk_error_t *err);

/* Ask QEMU to exit (QMP quit).  Reap it with vm_wait. */
int vm_quit(struct vm *vm, runk_error_t *err);

/*
 * Reap QEMU: 1 with *status (waitpid status, may be NULL) once it exited,
 * 0 if timeout_ms (-1 = forever) passed first, <0 on error.
 */
int vm_wait(struct vm *vm, int timeout_ms, int *status, runk_error_t *err);

/* For callers that reap children themselves (waitpid(-1)): tell the VM its QEMU is gone. */
void vm_mark_reaped(struct vm *vm, int status);

/* The last bytes QEMU wrote to stdout/stderr (caller frees), for error messages. */
char *vm_output_tail(struct vm *vm, size_t max);

/*
 * Stop QEMU by any means, reap it, free vm; NULL is fine.  QMP quit, then
 * SIGKILL if QEMU has not exited VM_QUIT_GRACE_MS later (at once if quit
 * itself failed or timed out).
 */
void vm_destroy(struct vm *vm);

/*
 * A QEMU another process started and reaps (a factory pool keeper): watched
 * through a pidfd, stopped by QMP or pidfd_send_signal, never waited for.
 * Connects to its QMP socket (retrying until timeout_ms: it serves one
 * client at a time); qemu_log is read for vm_output_tail.
 */
int vm_adopt(pid_t pid, const char *qmp_socket, const char *qemu_log, int timeout_ms,
	     struct vm **vm_out, runk_error_t *err);

/* Let go of a VM without stopping it: QMP closed, vm freed (the caller reaps QEMU). */
void vm_release(struct vm *vm);

#define cleanup_vm __attribute__((cleanup(vm_destroyp)))
static inline void vm_destroyp(struct vm **vm)
{
	vm_destroy(*vm);
}

#endif
