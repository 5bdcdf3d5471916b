/*
 * Templates: their key, building one (boot, wait for the agent, save the
 * device state with x-ignore-shared, quit), and housekeeping (eviction,
 * destroy, status).  See factory.h for the layout of template_dir.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "factory/factory.h"
#include "log.h"
#include "util.h"

#define MIGRATE_TIMEOUT_MS 60000

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- the key ---- */

struct hash {
	uint64_t a, b;
};

static void hash_bytes(struct hash *h, const void *data, size_t len)
{
	const unsigned char *p = data;

	/* Two FNV-1a lanes with different bases: a 128-bit name, not a security boundary. */
	for (size_t i = 0; i < len; i++) {
		h->a = (h->a ^ p[i]) * 0x100000001b3ULL;
		h->b = (h->b ^ p[i]) * 0x100000001b3ULL + 0x9e3779b97f4a7c15ULL;
	}
}

static void hash_text(struct hash *h, const char *text)
{
	hash_bytes(h, text, strlen(text) + 1);
}

/* What identifies a file's content without reading it: a rebuilt kernel or QEMU changes it. */
static int hash_file_identity(struct hash *h, const char *path, runk_error_t *err)
{
	struct stat st;
	char buf[160];

	if (stat(path, &st) < 0)
		return runk_error_errno(err, errno, "stat `%s`", path);
	snprintf(buf, sizeof(buf), "%ju:%ju:%jd:%jd.%09ld", (uintmax_t)st.st_dev,
		 (uintmax_t)st.st_ino, (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec);
	hash_text(h, path);
	hash_text(h, buf);
	return 0;
}

/* The QEMU binary as execvp would find it. */
static char *qemu_resolve(const char *qemu)
{
	const char *path = getenv("PATH");

	if (strchr(qemu, '/') || path == NULL)
		return strdup(qemu);
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		char *candidate;

		if (asprintf(&candidate, "%.*s/%s", (int)n, p, qemu) < 0)
			abort();
		if (access(candidate, X_OK) == 0)
			return candidate;
		free(candidate);
		p += n;
		if (*p == ':')
			p++;
	}
	return strdup(qemu);
}

char *factory_params(const struct vm_config *base)
{
	char *params;

	if (asprintf(&params, "%s%s" FACTORY_PARAM " " FACTORY_CPU_PARAM,
		     base->kernel_params ? base->kernel_params : "",
		     base->kernel_params && *base->kernel_params ? " " : "") < 0)
		abort();
	return params;
}

unsigned int factory_template_vcpus(const struct runk_conf *conf)
{
	long host = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int max = conf->default_maxvcpus;

	/* As VM sizing clamps a container's vCPUs (vmsize.c). */
	if (host > 0 && (max == 0 || max > (unsigned long)host))
		max = (unsigned int)host;
	return max ? max : 1;
}

void factory_template_config(const struct vm_config *base, const char *params, unsigned int vcpus,
			     struct vm_config *out)
{
	*out = *base;
	out->kernel_params = params;
	/* All present, one online: a clone onlines the container's count (op cpus). */
	out->vcpus = vcpus;
	out->name = NULL;
	out->console_log = NULL;
	out->qemu_log = NULL;
	/* Migration goes through descriptors runk passes (getfd): no spawn. */
	out->allow_spawn = false;
	out->mem_shared = true;
	out->incoming = false;
	/* A clone never boots: the guest kernel's verbosity is not worth a template each. */
	out->debug = false;
	/* Not part of the migrated state, but of the key: every VM of a template has the same. */
	out->tcg_tb_mib = FACTORY_TCG_TB_MIB;
}

int factory_key(const struct vm_config *base, const struct runk_conf *conf,
		char key[FACTORY_KEY_LEN + 1], runk_error_t *err)
{
	unsigned int vcpus = factory_template_vcpus(conf);

	cleanup_free char *params = factory_params(base);
	cleanup_free char *qemu = NULL;
	cleanup_strv char **argv = NULL;
	struct vm_config cfg;
	struct hash h = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
	char version[32];

	if (base->vcpus > vcpus)
		return runk_error(err, "%u vCPUs: more than the templates' %u", base->vcpus, vcpus);
	factory_template_config(base, params, vcpus, &cfg);
	/* What may differ between a template and its clones gets one fixed value. */
	cfg.agent_socket = "@agent";
	cfg.qmp_socket = "@qmp";
	cfg.share_dir = "@share";
	cfg.mem_path = "@mem";
	if (vm_build_argv(&cfg, &argv, err) < 0)
		return -1;
	snprintf(version, sizeof(version), "runk-template-%d", FACTORY_FORMAT);
	hash_text(&h, version);
	for (char **a = argv; *a; a++) {
		/* A tap is per VM and the guest keeps the template's MAC: not covered yet. */
		if (strcmp(*a, "-netdev") == 0)
			return runk_error(err, "no templates for VMs with network devices yet");
		hash_text(&h, *a);
	}
	qemu = qemu_resolve(argv[0]);
	if (hash_file_identity(&h, qemu, err) < 0 || hash_file_identity(&h, cfg.kernel, err) < 0 ||
	    (cfg.initrd && hash_file_identity(&h, cfg.initrd, err) < 0))
		return -1;
	snprintf(key, FACTORY_KEY_LEN + 1, "%016" PRIx64 "%016" PRIx64, h.a, h.b);
	return 0;
}

char *factory_path(const struct runk_conf *conf, const char *key, const char *name)
{
	char *path;

	if (asprintf(&path, "%s/%s%s%s", conf->template_dir, key, name ? "/" : "",
		     name ? name : "") < 0)
		abort();
	return path;
}

/* ---- building ---- */

static int on_hello(void *user, struct proto_frame *frame, runk_error_t *err)
{
	bool *hello = user;

	if (frame->type == PROTO_HELLO)
		*hello = true;
	return 0;
}

static int wait_hello(struct vm *vm, struct agent_conn *agent, int timeout_ms, runk_error_t *err)
{
	long long deadline = now_ms() + timeout_ms;
	bool hello = false;

	while (!hello) {
		struct pollfd pfd = {.fd = agent->fd, .events = POLLIN};
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return runk_error(err, "timed out waiting for the agent's hello");
		r = poll(&pfd, 1, left > 200 ? 200 : (int)left);
		if (r < 0 && errno != EINTR)
			return runk_error_errno(err, errno, "poll");
		if (vm_wait(vm, 0, NULL, NULL) == 1)
			return runk_error(err, "the template VM exited while booting");
		if (r > 0) {
			r = agent_read(agent, on_hello, &hello, err);
			if (r < 0)
				return -1;
			if (r == 1)
				return runk_error(err, "the template VM closed the agent channel");
		}
	}
	return 0;
}

/* query-migrate until "completed"; "failed" or anything odd is an error. */
static int wait_migration(struct vm *vm, runk_error_t *err)
{
	long long deadline = now_ms() + MIGRATE_TIMEOUT_MS;

	for (;;) {
		yajl_val reply = NULL, ret;
		const char *path[] = {"status", NULL};
		char status[32] = "";

		if (qmp_execute(vm_qmp(vm), "query-migrate", NULL, &reply, err) < 0)
			return -1;
		ret = qmp_return(reply);
		if (YAJL_IS_STRING(yajl_tree_get(ret, path, yajl_t_string)))
			snprintf(status, sizeof(status), "%s",
				 YAJL_GET_STRING(yajl_tree_get(ret, path, yajl_t_string)));
		yajl_tree_free(reply);
		if (strcmp(status, "completed") == 0)
			return 0;
		if (strcmp(status, "failed") == 0 || strcmp(status, "cancelled") == 0)
			return runk_error(err, "migration %s", status);
		if (now_ms() > deadline)
			return runk_error(err, "migration not completed after %d s (status `%s`)",
					  MIGRATE_TIMEOUT_MS / 1000, status);
		sleep_ms(10);
	}
}

int factory_migrate_caps(struct vm *vm, runk_error_t *err);
int factory_migrate_caps(struct vm *vm, runk_error_t *err)
{
	return qmp_execute(
		vm_qmp(vm), "migrate-set-capabilities",
		"{\"capabilities\":[{\"capability\":\"x-ignore-shared\",\"state\":true}]}", NULL,
		err);
}

/* A path QEMU hands to /bin/sh in exec: URIs: only characters that need no quoting. */
bool factory_path_safe(const char *path);
bool factory_path_safe(const char *path)
{
	for (const char *c = path; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || strchr("/._-+", *c)))
			return false;
	return *path == '/';
}

/*
 * The device state goes to a file runk opens and hands over (getfd): QEMU,
 * jailed and under spawn=deny, can neither run `cat` nor name the path.
 */
static int save_template(struct vm *vm, const char *dir, runk_error_t *err)
{
	cleanup_free char *path = NULL;
	cleanup_close int fd = -1;

	if (asprintf(&path, "%s/devstate", dir) < 0)
		abort();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return runk_error_errno(err, errno, "create `%s`", path);
	if (factory_migrate_caps(vm, err) < 0 || qmp_getfd(vm_qmp(vm), "devstate", fd, err) < 0 ||
	    qmp_execute(vm_qmp(vm), "migrate", "{\"uri\":\"fd:devstate\"}", NULL, err) < 0)
		return -1;
	return wait_migration(vm, err);
}

static int write_meta(const char *dir, const struct vm_config *cfg, unsigned int vcpus,
		      const char *key, runk_error_t *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	int len;

	if (asprintf(&path, "%s/meta", dir) < 0)
		abort();
	len = asprintf(&text,
		       "key=%s\nformat=%d\nvcpus=%u\nmemory_mib=%u\nkernel=%s\ninitrd=%s\n"
		       "created=%lld\n",
		       key, FACTORY_FORMAT, vcpus, cfg->memory_mib, cfg->kernel,
		       cfg->initrd ? cfg->initrd : "", (long long)time(NULL));
	if (len < 0)
		abort();
	return write_file_atomic(path, text, (size_t)len, 0644, err);
}

static void unlink_in(const char *dir, const char *name)
{
	cleanup_free char *path = NULL;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	unlink(path);
}

/* Boot, save and quit the template VM in dir (a fresh temp directory). */
static int build_in(const struct vm_config *base, const struct runk_conf *conf, const char *dir,
		    const char *key, runk_error_t *err)
{
	cleanup_free char *params = factory_params(base);
	cleanup_free char *agent_sock = NULL, *qmp_sock = NULL, *share = NULL, *mem = NULL;
	cleanup_free char *jail = NULL;
	cleanup_vm struct vm *vm = NULL;
	struct agent_conn agent = {.fd = -1};
	struct vm_config cfg;
	long long started = now_ms();
	int ret;

	if (asprintf(&agent_sock, "%s/agent.sock", dir) < 0 ||
	    asprintf(&qmp_sock, "%s/qmp.sock", dir) < 0 || asprintf(&share, "%s/share", dir) < 0 ||
	    asprintf(&mem, "%s/mem", dir) < 0 || asprintf(&jail, "%s/jail", dir) < 0)
		abort();
	if (mkdir(share, 0700) < 0)
		return runk_error_errno(err, errno, "mkdir `%s`", share);
	factory_template_config(base, params, factory_template_vcpus(conf), &cfg);
	cfg.agent_socket = agent_sock;
	cfg.qmp_socket = qmp_sock;
	cfg.share_dir = share;
	cfg.mem_path = mem;
	cfg.name = "runk-template";
	/* The template's own jail, inside the build dir (a clone gets its container's). */
	cfg.jail_dir = conf->jail ? jail : NULL;
	cfg.jail_user = conf->jail_user;
	if (vm_start(&cfg, &vm, err) < 0)
		return runk_error_prefix(err, "start the template VM");
	if (agent_connect(agent_sock, 5000, &agent, err) < 0)
		return -1;
	ret = wait_hello(vm, &agent, (int)conf->boot_timeout_s * 1000, err);
	/* A clone must start with the host disconnected: it then waits for the host's ping. */
	agent_close(&agent);
	if (ret < 0)
		return -1;
	if (save_template(vm, dir, err) < 0)
		return runk_error_prefix(err, "save the template");
	if (vm_quit(vm, err) < 0 || vm_wait(vm, VM_QUIT_GRACE_MS, NULL, err) < 0)
		return -1;
	unlink(agent_sock);
	unlink(qmp_sock);
	rmdir(share);
	if (remove_tree(jail, err) < 0)
		return -1;
	log_debug("template %s built in %lld ms", key, now_ms() - started);
	if (write_meta(dir, base, factory_template_vcpus(conf), key, err) < 0)
		return -1;
	unlink_in(dir, "used");
	return 0;
}

static int lock_key(const struct runk_conf *conf, const char *key)
{
	cleanup_free char *path = NULL;
	int fd;

	if (asprintf(&path, "%s/%s.lock", conf->template_dir, key) < 0)
		abort();
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Builds of key that died half-way (the caller holds key's lock: nobody else builds it). */
static void remove_stale_builds(const struct runk_conf *conf, const char *key)
{
	cleanup_dir DIR *dir = opendir(conf->template_dir);
	struct dirent *de;
	char prefix[FACTORY_KEY_LEN + 16];

	snprintf(prefix, sizeof(prefix), ".build-%s-", key);
	while (dir && (de = readdir(dir)) != NULL) {
		cleanup_free char *path = NULL;

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		if (asprintf(&path, "%s/%s", conf->template_dir, de->d_name) < 0)
			abort();
		remove_tree(path, NULL);
	}
}

int factory_build(const struct vm_config *base, const struct runk_conf *conf, bool *built,
		  runk_error_t *err)
{
	char key[FACTORY_KEY_LEN + 1];
	cleanup_free char *final = NULL, *tmp = NULL;
	cleanup_close int lock = -1;
	struct stat st;

	*built = false;
	if (!factory_path_safe(conf->template_dir))
		return runk_error(err,
				  "[factory] template_dir `%s`: not an absolute path of "
				  "letters, digits and /._-+",
				  conf->template_dir);
	if (factory_key(base, conf, key, err) < 0 || mkdir_p(conf->template_dir, 0700, err) < 0)
		return -1;
	lock = lock_key(conf, key);
	if (lock < 0)
		return 0; /* another process builds it */
	final = factory_path(conf, key, NULL);
	if (stat(final, &st) == 0)
		return 0;
	remove_stale_builds(conf, key);
	if (asprintf(&tmp, "%s/.build-%s-XXXXXX", conf->template_dir, key) < 0)
		abort();
	if (mkdtemp(tmp) == NULL)
		return runk_error_errno(err, errno, "mkdtemp `%s`", tmp);
	if (build_in(base, conf, tmp, key, err) < 0 || rename(tmp, final) < 0) {
		if (err && *err == NULL)
			runk_error_errno(err, errno, "rename `%s` to `%s`", tmp, final);
		remove_tree(tmp, NULL);
		return -1;
	}
	*built = true;
	{
		cleanup_free char *failures = NULL;

		if (asprintf(&failures, "%s/%s.failures", conf->template_dir, key) < 0)
			abort();
		unlink(failures);
	}
	factory_evict(conf);
	factory_pool_fill(base, conf, key, NULL);
	return 0;
}

/* ---- building in the background, for a shim ---- */

/*
 * The builder must not belong to the container: leave the cgroups the shim
 * entered (back to each hierarchy's root) and let go of the shim's mounts of
 * the container's files.
 */
static void builder_detach(const char *unmount_prefix)
{
	cleanup_free char *share_prefix = strdup(unmount_prefix ? unmount_prefix : "");
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	char *targets[256];
	size_t n = 0;

	if (share_prefix == NULL)
		abort();
	/*
	 * Our own copy of the shim's mount namespace, private, so unmounting the
	 * container's files here never reaches the shim (a fork shares it).
	 */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		log_warning("template builder: own mount namespace: %s", strerror(errno));
		share_prefix[0] = '\0'; /* unmount nothing */
	}
	while (f && fgets(line, sizeof(line), f)) {
		char mnt[2048], fstype[64];
		const char *sep = strstr(line, " - ");

		if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %2047s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (strcmp(fstype, "cgroup") == 0 || strcmp(fstype, "cgroup2") == 0) {
			cleanup_free char *procs = NULL;
			char pid[32];
			int fd;

			if (asprintf(&procs, "%s/cgroup.procs", mnt) < 0)
				abort();
			fd = open(procs, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				snprintf(pid, sizeof(pid), "%d", getpid());
				if (write(fd, pid, strlen(pid)) < 0) {
					/* stays where it is in this hierarchy */
				}
				close(fd);
			}
		} else if (*share_prefix && strncmp(mnt, share_prefix, strlen(share_prefix)) == 0 &&
			   n < 256) {
			targets[n++] = strdup(mnt);
		}
	}
	if (f)
		fclose(f);
	while (n > 0) {
		umount2(targets[--n], MNT_DETACH);
		free(targets[n]);
	}
}

/*
 * Wait until the shim reports the container created (its control socket) or
 * is gone.  True only if the container was created: a VM that did not come
 * up (a broken initrd, a dying QEMU) is no template to build.
 */
bool factory_wait_created(pid_t shim, const char *state_dir, int timeout_ms);
bool factory_wait_created(pid_t shim, const char *state_dir, int timeout_ms)
{
	cleanup_free char *sock = NULL;
	int pidfd = (int)syscall(SYS_pidfd_open, shim, 0);
	long long deadline = now_ms() + timeout_ms;
	bool created = false;

	if (asprintf(&sock, "%s/shim.sock", state_dir) < 0)
		abort();
	while (now_ms() < deadline) {
		struct pollfd pfd = {.fd = pidfd, .events = POLLIN};

		/* Seen once is enough: a quick container's state may be gone soon after. */
		if (access(sock, F_OK) == 0) {
			created = true;
			break;
		}
		if (pidfd < 0) {
			sleep_ms(50);
			continue;
		}
		if (poll(&pfd, 1, 50) > 0) {
			created = access(sock, F_OK) == 0;
			break;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return created;
}

/* Where a builder's messages go when runk logs to stderr (a container's stdio). */
static void builder_stdio(const struct runk_conf *conf, int keep_too)
{
	cleanup_free char *log = NULL;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC), fd;
	struct stat st;
	int keep = -1;

	if (asprintf(&log, "%s/build.log", conf->template_dir) < 0)
		abort();
	mkdir_p(conf->template_dir, 0700, NULL);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (runk_log_fd() > 2 && fstat(runk_log_fd(), &st) == 0 && S_ISREG(st.st_mode))
		keep = runk_log_fd();
	/* Nothing of the container's stdio may stay open: its readers wait for EOF. */
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
	}
	dup2(fd >= 0 ? fd : devnull, STDERR_FILENO);
	for (int i = 3; i < 1024; i++)
		if (i != keep && i != keep_too)
			close(i);
}

/*
 * The builder is a fork of the shim, whose command line names the container
 * (tools and tests look for a container's processes by it): rename it in
 * place, as setproctitle does, over the argv area /proc/self/stat gives.
 */
static void builder_retitle(const char *title)
{
	size_t size = strlen(title) + 1;
	unsigned long start = 0, end = 0;
	char buf[4096], *p;
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces */
	/* Fields 48 and 49 (arg_start, arg_end); p is at field 2's end. */
	for (int field = 2; p && field < 48; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %lu %lu", &start, &end) != 2 || end <= start ||
	    end - start < size)
		return;
	memset((void *)start, 0, end - start);
	memcpy((void *)start, title, size);
}

/*
 * A detached helper (template builder, pool keeper), forked from a shim or
 * runk: its own title, default signals, stdio to build.log, out of the
 * shim's cgroups, in its own mount namespace without the container's mounts.
 */
void factory_detach_process(const char *title, const struct runk_conf *conf,
			    const char *unmount_prefix, int keep_fd);
void factory_detach_process(const char *title, const struct runk_conf *conf,
			    const char *unmount_prefix, int keep_fd)
{
	sigset_t none;

	prctl(PR_SET_NAME, title); /* cut to 15 bytes */
	builder_retitle(title);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	builder_stdio(conf, keep_fd);
	builder_detach(unmount_prefix);
}

static __attribute__((noreturn)) void builder_run(const struct vm_config *base,
						  const struct runk_conf *conf, pid_t shim,
						  const char *state_dir)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_free char *shares = NULL;
	bool built;

	if (asprintf(&shares, "%s/share/", state_dir) < 0)
		abort();
	factory_detach_process("runk-template-builder", conf, shares, -1);
	if (setpriority(PRIO_PROCESS, 0, 10) < 0) {
		/* a builder at normal priority is still correct */
	}
	if (!factory_wait_created(shim, state_dir, (int)conf->boot_timeout_s * 1000)) {
		log_debug("no VM template: the container that would have shown the VM works was "
			  "not created");
		_exit(0);
	}
	if (factory_build(base, conf, &built, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_warning("building a VM template failed: %s", text);
		_exit(1);
	}
	_exit(0);
}

void factory_build_background(const struct vm_config *base, const struct runk_conf *conf,
			      const char *state_dir)
{
	pid_t shim = getpid(), pid = fork();

	if (pid < 0) {
		log_warning("template: fork: %s", strerror(errno));
		return;
	}
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return;
	}
	/* Child: fork again so the builder is nobody's child but init's (or a subreaper's). */
	setsid();
	if (fork() != 0)
		_exit(0);
	builder_run(base, conf, shim, state_dir);
}
