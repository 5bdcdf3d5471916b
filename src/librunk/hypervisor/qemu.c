/* The QEMU microvm driver: command line, launch, QMP control, teardown. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/jail.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct vm {
	pid_t pid;
	int pidfd; /* -1 where pidfd_open is unavailable */
	bool reaped;
	bool adopted; /* started by another process (a pool keeper): not our child */
	int status;
	int out_fd;	 /* readable: QEMU's stdout/stderr */
	off_t out_start; /* where this QEMU's output starts in out_fd */
	struct qmp *qmp;
};

/* -1 unknown, 0 this QEMU build rejects -sandbox, 1 it accepts it. */
static int sandbox_supported = -1;

/* ---- argv ---- */

struct strv {
	char **v;
	size_t n, cap;
};

static void strv_push(struct strv *s, char *owned)
{
	if (owned == NULL)
		abort();
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			abort();
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = owned;
	s->v[s->n] = NULL;
}

static void add(struct strv *s, const char *arg)
{
	strv_push(s, strdup(arg));
}

static void addf(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct strv *s, const char *fmt, ...)
{
	char *arg;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&arg, fmt, ap) < 0)
		abort();
	va_end(ap);
	strv_push(s, arg);
}

/* A value inside a QEMU -opt list: a literal comma is written as two. */
static char *opt_escape(const char *value)
{
	size_t commas = 0, len = strlen(value);
	char *out, *o;

	for (const char *c = value; *c; c++)
		commas += *c == ',';
	out = malloc(len + commas + 1);
	if (out == NULL)
		abort();
	o = out;
	for (const char *c = value; *c; c++) {
		*o++ = *c;
		if (*c == ',')
			*o++ = ',';
	}
	*o = '\0';
	return out;
}

/* "aa:bb:cc:dd:ee:ff", lower or upper case hex. */
static bool mac_valid(const char *mac)
{
	if (mac == NULL || strlen(mac) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		bool hex = (mac[i] >= '0' && mac[i] <= '9') || (mac[i] >= 'a' && mac[i] <= 'f') ||
			   (mac[i] >= 'A' && mac[i] <= 'F');

		if (i % 3 == 2 ? mac[i] != ':' : !hex)
			return false;
	}
	return true;
}

static int check_config(const struct vm_config *cfg, runk_error_t *err)
{
	for (size_t i = 0; i < cfg->n_nics; i++) {
		if (cfg->nics[i].tap_fd < 0)
			return runk_error(err, "VM config: network device %zu has no tap", i);
		if (!mac_valid(cfg->nics[i].mac))
			return runk_error(err, "VM config: network device %zu: bad MAC `%s`", i,
					  cfg->nics[i].mac ? cfg->nics[i].mac : "");
	}
	if (cfg->kernel == NULL)
		return runk_error(err, "VM config: no kernel");
	if (cfg->qmp_socket == NULL)
		return runk_error(err, "VM config: no QMP socket path");
	if (cfg->agent_socket == NULL)
		return runk_error(err, "VM config: no agent socket path");
	if (cfg->vcpus < 1 || cfg->vcpus > 255)
		return runk_error(err, "VM config: %u vCPUs (1 to 255)", cfg->vcpus);
	if (cfg->memory_mib < 16 || cfg->memory_mib > 1024 * 1024)
		return runk_error(err, "VM config: %u MiB of memory (16 MiB to 1 TiB)",
				  cfg->memory_mib);
	return 0;
}

static char *kernel_cmdline(const struct vm_config *cfg, enum vm_accel accel, unsigned long tsc_khz)
{
	char *line;
	char tsc[64] = "";

	/*
	 * reboot=t + -no-reboot: a guest reboot (or panic=-1) makes QEMU exit.
	 * Under TCG on microvm the kernel hangs calibrating the TSC unless told
	 * its rate; a wrong rate makes the guest clock run at the wrong speed.
	 */
	if (accel == VM_ACCEL_TCG)
		snprintf(tsc, sizeof(tsc), " tsc_early_khz=%lu", tsc_khz);
	if (asprintf(&line, "console=ttyS0 reboot=t panic=-1 no_timer_check%s%s%s%s",
		     cfg->debug ? "" : " quiet", tsc, cfg->kernel_params ? " " : "",
		     cfg->kernel_params ? cfg->kernel_params : "") < 0)
		abort();
	return line;
}

int vm_build_argv(const struct vm_config *cfg, char ***argv_out, runk_error_t *err)
{
	struct strv s = {0};
	cleanup_free char *cmdline = NULL;
	cleanup_free char *qmp = NULL, *agent = NULL, *name = NULL;
	enum vm_accel accel = cfg->accel;
	unsigned long tsc_khz = cfg->tsc_khz;
	enum vm_sandbox sandbox = cfg->sandbox;

	if (check_config(cfg, err) < 0)
		return -1;
	if (accel == VM_ACCEL_AUTO && vm_accel_resolve(accel, &accel, NULL, err) < 0)
		return -1;
	if (accel == VM_ACCEL_TCG && tsc_khz == 0 && vm_host_tsc_khz(&tsc_khz, err) < 0)
		return -1;
	if (sandbox == VM_SANDBOX_AUTO)
		sandbox = sandbox_supported == 0 ? VM_SANDBOX_OFF : VM_SANDBOX_ON;

	qmp = opt_escape(cfg->qmp_socket);
	agent = opt_escape(cfg->agent_socket);
	name = opt_escape(cfg->name ? cfg->name : "runk");
	cmdline = kernel_cmdline(cfg, accel, tsc_khz);

	add(&s, cfg->qemu_path ? cfg->qemu_path : DEFAULT_QEMU_PATH);
	addf(&s, "-name");
	addf(&s, "%s,debug-threads=on", name);
	add(&s, "-M");
	addf(&s, "microvm,x-option-roms=off,pit=on,pic=on,rtc=on,isa-serial=on%s",
	     cfg->mem_path ? ",memory-backend=mem" : "");
	if (cfg->mem_path) {
		cleanup_free char *mem = opt_escape(cfg->mem_path);
		add(&s, "-object");
		addf(&s, "memory-backend-file,id=mem,size=%uM,mem-path=%s,share=%s",
		     cfg->memory_mib, mem, cfg->mem_shared ? "on" : "off");
	}
	add(&s, "-accel");
	if (accel == VM_ACCEL_KVM)
		add(&s, "kvm");
	else
		/* Multi-threaded TCG: each vCPU gets its own host thread, as with KVM. */
		addf(&s, "tcg,%stb-size=%u", cfg->vcpus > 1 ? "thread=multi," : "",
		     cfg->tcg_tb_mib ? cfg->tcg_tb_mib : VM_TCG_TB_MIB);
	add(&s, "-cpu");
	add(&s, accel == VM_ACCEL_KVM ? "host" : "max");
	add(&s, "-m");
	addf(&s, "%u", cfg->memory_mib);
	add(&s, "-smp");
	addf(&s, "%u,maxcpus=%u", cfg->vcpus, cfg->vcpus);
	add(&s, "-nodefaults");
	add(&s, "-no-user-config");
	add(&s, "-display");
	add(&s, "none");
	add(&s, "-no-reboot");
	if (sandbox == VM_SANDBOX_ON) {
		add(&s, "-sandbox");
		addf(&s, "on,obsolete=deny,elevateprivileges=deny,spawn=%s,resourcecontrol=deny",
		     cfg->allow_spawn ? "allow" : "deny");
	}

	add(&s, "-chardev");
	if (cfg->console_log) {
		cleanup_free char *log = opt_escape(cfg->console_log);
		addf(&s, "file,id=console,path=%s,append=on", log);
	} else {
		add(&s, "null,id=console");
	}
	add(&s, "-serial");
	add(&s, "chardev:console");

	add(&s, "-kernel");
	add(&s, cfg->kernel);
	if (cfg->initrd) {
		add(&s, "-initrd");
		add(&s, cfg->initrd);
	}
	add(&s, "-append");
	add(&s, cmdline);

	add(&s, "-device");
	add(&s, "virtio-serial-device");
	add(&s, "-chardev");
	addf(&s, "socket,id=agent,path=%s,server=on,wait=off", agent);
	add(&s, "-device");
	add(&s, "virtserialport,chardev=agent,name=agent");

	if (cfg->share_dir) {
		cleanup_free char *share = opt_escape(cfg->share_dir);
		add(&s, "-fsdev");
		addf(&s, "local,id=fs0,path=%s,security_model=none", share);
		add(&s, "-device");
		add(&s, "virtio-9p-device,fsdev=fs0,mount_tag=share");
	}

	/* No vhost-net on these hosts: QEMU moves the frames itself. */
	for (size_t i = 0; i < cfg->n_nics; i++) {
		add(&s, "-netdev");
		addf(&s, "tap,id=net%zu,fd=%d,vhost=off", i, cfg->nics[i].tap_fd);
		add(&s, "-device");
		addf(&s, "virtio-net-device,netdev=net%zu,mac=%s", i, cfg->nics[i].mac);
	}

	add(&s, "-chardev");
	addf(&s, "socket,id=qmp,path=%s,server=on,wait=off", qmp);
	add(&s, "-mon");
	add(&s, "chardev=qmp,mode=control");
	if (cfg->incoming) {
		add(&s, "-incoming");
		add(&s, "defer");
	}

	*argv_out = s.v;
	return 0;
}

/* ---- launch ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Where QEMU's stdout/stderr go: the log file if asked, else an anonymous memfd. */
static int open_output(const struct vm_config *cfg, int *write_fd, int *read_fd, off_t *start,
		       runk_error_t *err)
{
	struct stat st;

	if (cfg->qemu_log == NULL) {
		int fd = memfd_create("runk-qemu-output", MFD_CLOEXEC);

		if (fd < 0)
			return runk_error_errno(err, errno, "memfd_create");
		*write_fd = fd;
		*read_fd = dup(fd);
		if (*read_fd < 0) {
			close(fd);
			return runk_error_errno(err, errno, "dup");
		}
		fcntl(*read_fd, F_SETFD, FD_CLOEXEC);
		*start = 0;
		return 0;
	}
	*write_fd = open(cfg->qemu_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (*write_fd < 0)
		return runk_error_errno(err, errno, "open `%s`", cfg->qemu_log);
	*read_fd = open(cfg->qemu_log, O_RDONLY | O_CLOEXEC);
	if (*read_fd < 0 || fstat(*write_fd, &st) < 0) {
		int saved = errno;

		close(*write_fd);
		if (*read_fd >= 0)
			close(*read_fd);
		return runk_error_errno(err, saved, "open `%s`", cfg->qemu_log);
	}
	*start = st.st_size;
	return 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void __attribute__((noreturn))
exec_qemu(char **argv, const struct vm_config *cfg, const struct vm_jail *jail, pid_t parent,
	  int out_fd, int errpipe)
{
	const char *step = "";
	sigset_t none;
	int devnull, e;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	/* The caller may block or ignore signals (signalfd, SIGPIPE); QEMU expects defaults. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);

	devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		goto fail;
	/* Nothing else leaks into QEMU; errpipe stays open until exec succeeds. */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (int fd = 3; fd < 65536; fd++)
			if (fd != errpipe)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	/* The taps are the exception: QEMU gets them by number (fd=N). */
	for (size_t i = 0; i < cfg->n_nics; i++)
		if (fcntl(cfg->nics[i].tap_fd, F_SETFD, 0) < 0)
			goto fail;
	if (jail) {
		e = vm_jail_enter(jail, &step);
		if (e < 0) {
			errno = -e;
			goto fail;
		}
		step = "";
	}
	execvp(argv[0], argv);
fail:
	/* errno, then what failed (the jail's step), for the parent's message. */
	e = errno;
	if (write(errpipe, &e, sizeof(e)) < 0 || write(errpipe, step, strlen(step)) < 0) {
		/* nothing left to report with */
	}
	_exit(127);
}

static int spawn(char **argv, const struct vm_config *cfg, const struct vm_jail *jail, int out_fd,
		 pid_t *pid_out, runk_error_t *err)
{
	pid_t parent = getpid(), pid;
	int pipefd[2];
	int child_errno = 0;
	char step[256] = "";
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return runk_error_errno(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		int saved = errno;

		close(pipefd[0]);
		close(pipefd[1]);
		return runk_error_errno(err, saved, "fork");
	}
	if (pid == 0)
		exec_qemu(argv, cfg, jail, parent, out_fd, pipefd[1]);
	close(pipefd[1]);
	do
		n = read(pipefd[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	if (n > 0 && read(pipefd[0], step, sizeof(step) - 1) < 0)
		step[0] = '\0';
	close(pipefd[0]);
	if (n > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (step[0])
			return runk_error_errno(err, child_errno, "jail QEMU: %s", step);
		return runk_error_errno(err, child_errno, "cannot execute `%s`", argv[0]);
	}
	*pid_out = pid;
	return 0;
}

static void describe_status(char *buf, size_t len, int status)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "changed state 0x%x", (unsigned int)status);
}

char *vm_output_tail(struct vm *vm, size_t max)
{
	struct stat st;
	off_t from;
	char *buf;
	ssize_t n;

	if (fstat(vm->out_fd, &st) < 0)
		return strdup("");
	from = st.st_size - (off_t)max;
	if (from < vm->out_start)
		from = vm->out_start;
	buf = calloc(1, max + 1);
	if (buf == NULL)
		abort();
	n = pread(vm->out_fd, buf, max, from);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	/* One line for the error message: trailing newlines off, inner ones as "; ". */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = ';';
	return buf;
}

/* Poll for QEMU's exit (if pidfd) or just sleep, at most ms. */
static void pause_ms(struct vm *vm, int ms)
{
	struct pollfd pfd = {.fd = vm->pidfd, .events = POLLIN};

	if (vm->pidfd >= 0)
		poll(&pfd, 1, ms);
	else
		usleep((useconds_t)ms * 1000);
}

/* Not our child: its pidfd turns readable when it exits; its status is not ours to know. */
static int adopted_gone(struct vm *vm)
{
	struct pollfd pfd = {.fd = vm->pidfd, .events = POLLIN};

	if (poll(&pfd, 1, 0) < 0)
		return errno == EINTR ? 0 : -errno;
	if (pfd.revents == 0)
		return 0;
	vm_mark_reaped(vm, W_EXITCODE(0, SIGKILL));
	return 1;
}

static int try_reap(struct vm *vm)
{
	int status;
	pid_t r;

	if (vm->reaped)
		return 1;
	if (vm->adopted)
		return adopted_gone(vm);
	do
		r = waitpid(vm->pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == vm->pid) {
		vm_mark_reaped(vm, status);
		return 1;
	}
	if (r < 0)
		return -errno;
	return 0;
}

static int connect_unix(const char *path, int *fd_out)
{
	struct sockaddr_un addr;
	cleanup_close int dir_fd = -1;
	int fd;

	if (unix_sockaddr(path, &addr, &dir_fd, NULL) < 0)
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int saved = errno;

		close(fd);
		return -saved;
	}
	*fd_out = fd;
	return 0;
}

static int early_exit_error(struct vm *vm, runk_error_t *err)
{
	cleanup_free char *tail = vm_output_tail(vm, 2048);
	char what[64];

	describe_status(what, sizeof(what), vm->status);
	return runk_error(err, "QEMU %s before its QMP socket answered%s%s", what,
			  *tail ? ": " : "", tail);
}

static bool reaped_within(struct vm *vm, int ms)
{
	for (int waited = 0; waited < ms; waited += 50) {
		if (try_reap(vm) > 0)
			return true;
		pause_ms(vm, 50);
	}
	return try_reap(vm) > 0;
}

/* Connect to QMP as soon as QEMU listens; fail early if QEMU dies first. */
static int wait_for_qmp(struct vm *vm, const struct vm_config *cfg, runk_error_t *err)
{
	int timeout = cfg->start_timeout_ms > 0 ? cfg->start_timeout_ms : VM_START_TIMEOUT_MS;
	long long deadline = now_ms() + timeout;

	for (;;) {
		int fd = -1, r;

		r = try_reap(vm);
		if (r < 0)
			return runk_error_errno(err, -r, "waitpid QEMU %d", vm->pid);
		if (r > 0)
			return early_exit_error(vm, err);
		r = connect_unix(cfg->qmp_socket, &fd);
		if (r == 0) {
			long long left = deadline - now_ms();

			if (qmp_open(fd, left > 0 ? (int)left : 1, &vm->qmp, err) < 0) {
				/* A reset QMP socket is QEMU dying (out of memory, of fds): its
				 * own words, once it is gone, say why. */
				if (reaped_within(vm, 1000)) {
					runk_error_free(err);
					return early_exit_error(vm, err);
				}
				return -1;
			}
			qmp_set_timeout(vm->qmp, 0);
			return 0;
		}
		if (r != -ENOENT && r != -ECONNREFUSED)
			return runk_error_errno(err, -r, "connect to QMP socket `%s`",
						cfg->qmp_socket);
		if (now_ms() >= deadline)
			return runk_error(err,
					  "QEMU %d did not open its QMP socket `%s` within %d ms",
					  vm->pid, cfg->qmp_socket, timeout);
		pause_ms(vm, 5);
	}
}

static int vm_start_once(const struct vm_config *cfg, struct vm **vm_out, runk_error_t *err)
{
	cleanup_strv char **argv = NULL;
	cleanup_close int out_w = -1;
	cleanup_vm struct vm *vm = NULL;
	cleanup_vm_jail struct vm_jail *jail = NULL;
	struct vm_config jailed;

	/* A stale socket from an earlier run would be connected to in vain. */
	if (unlink(cfg->qmp_socket) < 0 && errno != ENOENT)
		return runk_error_errno(err, errno, "remove stale QMP socket `%s`",
					cfg->qmp_socket);
	/* Jailed, QEMU gets its own paths; the host keeps using cfg's. */
	if (cfg->jail_dir && vm_jail_prepare(cfg, &jailed, &jail, err) < 0)
		return -1;
	if (vm_build_argv(jail ? &jailed : cfg, &argv, err) < 0)
		return -1;
	vm = calloc(1, sizeof(*vm));
	if (vm == NULL)
		abort();
	vm->pid = -1;
	vm->pidfd = -1;
	vm->out_fd = -1;
	if (open_output(cfg, &out_w, &vm->out_fd, &vm->out_start, err) < 0)
		return -1;
	if (spawn(argv, cfg, jail, out_w, &vm->pid, err) < 0)
		return -1;
	vm->pidfd = (int)syscall(SYS_pidfd_open, vm->pid, 0);
	if (wait_for_qmp(vm, cfg, err) < 0)
		return -1;
	*vm_out = steal_pointer(&vm);
	return 0;
}

int vm_start(const struct vm_config *cfg, struct vm **vm_out, runk_error_t *err)
{
	cleanup_error runk_error_t first = NULL;
	struct vm_config retry;

	if (cfg->sandbox != VM_SANDBOX_AUTO || sandbox_supported >= 0)
		return vm_start_once(cfg, vm_out, err);
	/* Find out once whether this QEMU has -sandbox, at no cost when it has. */
	if (vm_start_once(cfg, vm_out, &first) == 0) {
		sandbox_supported = 1;
		return 0;
	}
	if (strstr(first->msg, "sandbox") == NULL && strstr(first->msg, "seccomp") == NULL) {
		if (err && *err == NULL)
			*err = steal_pointer(&first);
		return -1;
	}
	sandbox_supported = 0;
	retry = *cfg;
	retry.sandbox = VM_SANDBOX_OFF;
	return vm_start_once(&retry, vm_out, err);
}

/* ---- control ---- */

pid_t vm_pid(const struct vm *vm)
{
	return vm->pid;
}

struct qmp *vm_qmp(struct vm *vm)
{
	return vm->qmp;
}

static int need_qmp(struct vm *vm, runk_error_t *err)
{
	if (vm->qmp == NULL || qmp_closed(vm->qmp))
		return runk_error(err, "QEMU %d: QMP is not connected", vm->pid);
	return 0;
}

struct vcpu {
	long long index;
	pid_t tid;
};

static int vcpu_compare(const void *a, const void *b)
{
	const struct vcpu *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

int vm_vcpu_threads(struct vm *vm, pid_t **tids, size_t *n, runk_error_t *err)
{
	cleanup_free struct vcpu *cpus = NULL;
	yajl_val reply = NULL, ret;
	size_t count;

	if (need_qmp(vm, err) < 0 || qmp_execute(vm->qmp, "query-cpus-fast", NULL, &reply, err) < 0)
		return -1;
	ret = qmp_return(reply);
	if (!YAJL_IS_ARRAY(ret) || ret->u.array.len == 0 || ret->u.array.len > 1024) {
		yajl_tree_free(reply);
		return runk_error(err, "query-cpus-fast: the reply is not a list of vCPUs");
	}
	count = ret->u.array.len;
	cpus = calloc(count, sizeof(*cpus));
	if (cpus == NULL)
		abort();
	for (size_t i = 0; i < count; i++) {
		const char *idx_path[] = {"cpu-index", NULL}, *tid_path[] = {"thread-id", NULL};
		yajl_val idx = yajl_tree_get(ret->u.array.values[i], idx_path, yajl_t_number);
		yajl_val tid = yajl_tree_get(ret->u.array.values[i], tid_path, yajl_t_number);

		if (!YAJL_IS_OBJECT(ret->u.array.values[i]) || !YAJL_IS_INTEGER(idx) ||
		    !YAJL_IS_INTEGER(tid) || YAJL_GET_INTEGER(tid) <= 0 ||
		    YAJL_GET_INTEGER(tid) > INT_MAX) {
			yajl_tree_free(reply);
			return runk_error(err,
					  "query-cpus-fast: vCPU %zu lacks a valid cpu-index "
					  "or thread-id",
					  i);
		}
		cpus[i].index = YAJL_GET_INTEGER(idx);
		cpus[i].tid = (pid_t)YAJL_GET_INTEGER(tid);
	}
	yajl_tree_free(reply);
	qsort(cpus, count, sizeof(*cpus), vcpu_compare);
	*tids = calloc(count, sizeof(**tids));
	if (*tids == NULL)
		abort();
	for (size_t i = 0; i < count; i++)
		(*tids)[i] = cpus[i].tid;
	*n = count;
	return 0;
}

int vm_pause(struct vm *vm, runk_error_t *err)
{
	if (need_qmp(vm, err) < 0)
		return -1;
	return qmp_execute(vm->qmp, "stop", NULL, NULL, err);
}

int vm_resume(struct vm *vm, runk_error_t *err)
{
	if (need_qmp(vm, err) < 0)
		return -1;
	return qmp_execute(vm->qmp, "cont", NULL, NULL, err);
}

int vm_quit(struct vm *vm, runk_error_t *err)
{
	cleanup_error runk_error_t local = NULL;

	if (vm->reaped)
		return 0;
	if (need_qmp(vm, err) < 0)
		return -1;
	if (qmp_execute(vm->qmp, "quit", NULL, NULL, &local) == 0)
		return 0;
	/* QEMU may close the socket before its reply gets out: that is a quit too. */
	if (qmp_closed(vm->qmp))
		return 0;
	if (err && *err == NULL)
		*err = steal_pointer(&local);
	return -1;
}

void vm_mark_reaped(struct vm *vm, int status)
{
	vm->reaped = true;
	vm->status = status;
}

int vm_wait(struct vm *vm, int timeout_ms, int *status, runk_error_t *err)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	for (;;) {
		int r = try_reap(vm);
		long long left;

		if (r < 0)
			return runk_error_errno(err, -r, "waitpid QEMU %d", vm->pid);
		if (r > 0) {
			if (status)
				*status = vm->status;
			return 1;
		}
		left = deadline < 0 ? 100 : deadline - now_ms();
		if (left <= 0)
			return 0;
		pause_ms(vm, left < 100 ? (int)left : 100);
	}
}

void vm_destroy(struct vm *vm)
{
	if (vm == NULL)
		return;
	if (vm->pid > 0 && !vm->reaped) {
		bool asked = false;

		if (vm->qmp && !qmp_closed(vm->qmp)) {
			qmp_set_timeout(vm->qmp, VM_QUIT_GRACE_MS);
			asked = vm_quit(vm, NULL) == 0;
		}
		/* A QEMU that does not even answer quit gets no second grace period. */
		if (vm_wait(vm, asked ? VM_QUIT_GRACE_MS : 0, NULL, NULL) == 0) {
			/* Not reaped yet, so the pid cannot have been reused; the pidfd is exact.
			 */
			if (vm->adopted)
				syscall(SYS_pidfd_send_signal, vm->pidfd, SIGKILL, NULL, 0);
			else
				kill(vm->pid, SIGKILL);
			vm_wait(vm, -1, NULL, NULL);
		}
	}
	vm_release(vm);
}

/* ---- QEMUs started by another process (factory pool) ---- */

int vm_adopt(pid_t pid, const char *qmp_socket, const char *qemu_log, int timeout_ms,
	     struct vm **vm_out, runk_error_t *err)
{
	cleanup_vm struct vm *vm = calloc(1, sizeof(*vm));
	long long deadline = now_ms() + timeout_ms;

	if (vm == NULL)
		abort();
	vm->pid = pid;
	vm->adopted = true;
	vm->out_fd = open(qemu_log, O_RDONLY | O_CLOEXEC);
	vm->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (vm->pidfd < 0) {
		vm->pid = -1; /* nothing to stop */
		return runk_error_errno(err, errno, "pidfd_open QEMU %d", pid);
	}
	if (vm->out_fd < 0)
		vm->out_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (;;) {
		int fd = -1, r = connect_unix(qmp_socket, &fd);

		if (r == 0) {
			long long left = deadline - now_ms();

			if (qmp_open(fd, left > 0 ? (int)left : 1, &vm->qmp, err) < 0)
				return -1;
			qmp_set_timeout(vm->qmp, 0);
			break;
		}
		if (adopted_gone(vm) > 0)
			return early_exit_error(vm, err);
		/* The keeper may still be closing its own connection: QMP takes one client. */
		if (now_ms() >= deadline)
			return runk_error_errno(err, -r, "connect to QMP socket `%s`", qmp_socket);
		pause_ms(vm, 2);
	}
	*vm_out = steal_pointer(&vm);
	return 0;
}

void vm_release(struct vm *vm)
{
	if (vm == NULL)
		return;
	qmp_close(vm->qmp);
	if (vm->pidfd >= 0)
		close(vm->pidfd);
	if (vm->out_fd >= 0)
		close(vm->out_fd);
	free(vm);
}
