/* runk-agent's main: the guest's PID 1 brings the VM up, then serves the host. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "factory.h"

struct basic_mount {
	const char *source, *target, *type;
	unsigned long flags;
	const char *data;
};

static const struct basic_mount basic_mounts[] = {
	{"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
	{"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	 "newinstance,ptmxmode=0666,mode=0620"},
	{"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
	{"cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
};

/*
 * pivot_root(2) refuses to move away from the initramfs (rootfs has no
 * parent mount), and every container needs it.  Bind the initramfs onto
 * itself and make that bind mount our root, as switch_root does with a new
 * root: the files stay the same, but / is now a mount with a parent.
 */
static int root_make_pivotable(runk_error_t *err)
{
	if (mkdir("/.root", 0700) < 0 && errno != EEXIST)
		return runk_error_errno(err, errno, "mkdir /.root");
	if (mount("/", "/.root", NULL, MS_BIND | MS_REC, NULL) < 0)
		return runk_error_errno(err, errno, "bind / on /.root");
	if (chdir("/.root") < 0)
		return runk_error_errno(err, errno, "chdir /.root");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return runk_error_errno(err, errno, "move /.root to /");
	if (chroot(".") < 0)
		return runk_error_errno(err, errno, "chroot");
	if (chdir("/") < 0)
		return runk_error_errno(err, errno, "chdir /");
	return 0;
}

static int mount_basics(runk_error_t *err)
{
	for (size_t i = 0; i < sizeof(basic_mounts) / sizeof(basic_mounts[0]); i++) {
		const struct basic_mount *m = &basic_mounts[i];

		if (mkdir(m->target, 0755) < 0 && errno != EEXIST)
			return runk_error_errno(err, errno, "mkdir %s", m->target);
		if (mount(m->source, m->target, m->type, m->flags, m->data) < 0 && errno != EBUSY)
			return runk_error_errno(err, errno, "mount %s on %s", m->type, m->target);
	}
	if (mkdir("/run/runk", 0755) < 0 && errno != EEXIST)
		return runk_error_errno(err, errno, "mkdir /run/runk");
	if (mkdir(AGENT_SHARE_DIR, 0755) < 0 && errno != EEXIST)
		return runk_error_errno(err, errno, "mkdir %s", AGENT_SHARE_DIR);
	return 0;
}

/* The kernel leaves 0-2 closed when the initramfs has no /dev/console: fill them. */
static void stdio_fill(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

static int signals_setup(struct agent *agent, runk_error_t *err)
{
	sigset_t mask;

	/* PID 1 gets no default signal actions anyway; children reset theirs before exec. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return runk_error_errno(err, errno, "block SIGCHLD");
	agent->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (agent->signal_fd < 0)
		return runk_error_errno(err, errno, "signalfd");
	agent->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (agent->timer_fd < 0)
		return runk_error_errno(err, errno, "timerfd");
	agent->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (agent->inotify_fd < 0)
		log_error("inotify: %s (no OOM events)", strerror(errno));
	return 0;
}

static int send_hello(struct agent *agent, runk_error_t *err)
{
	struct proto_json *json = proto_json_new();
	cleanup_free char *text = NULL;
	struct utsname uts;
	size_t len;

	if (uname(&uts) < 0)
		strcpy(uts.release, "unknown");
	proto_json_add_int(json, "version", PROTO_VERSION);
	proto_json_add_string(json, "kernel", uts.release);
	if (proto_json_finish(json, &text, &len, err) < 0)
		return -1;
	return proto_frame_write(agent->port_fd, PROTO_HELLO, 0, text, len, err);
}

int main(void)
{
	cleanup_error runk_error_t err = NULL;
	struct agent agent = {
		.port_fd = -1, .epoll_fd = -1, .signal_fd = -1, .timer_fd = -1, .inotify_fd = -1};

	umask(022);
	if (root_make_pivotable(&err) < 0 || mount_basics(&err) < 0) {
		agent_log_open();
		agent_fatal("early setup", err);
	}
	stdio_fill();
	agent_log_open();
	log_info("starting");
	if (signals_setup(&agent, &err) < 0)
		agent_fatal("signals", err);
	cgroup_enable_controllers();
	/* The VM's own loopback: a pod on the node's network has its containers here. */
	if (net_loopback_up(&err) < 0) {
		agent_log_err("loopback", err);
		runk_error_free(&err);
	}
	if (modules_load(AGENT_MODULES_ORDER, &err) < 0)
		agent_fatal("loading kernel modules", err);
	if (factory_boot_share(&err) < 0)
		agent_fatal("mounting the share", err);
	agent.port_fd = port_open(&err);
	if (agent.port_fd < 0)
		agent_fatal("opening the agent port", err);
	/* Blocks until the host is connected to the port. */
	if (send_hello(&agent, &err) < 0)
		agent_fatal("sending HELLO", err);
	log_info("ready");
	agent_serve(&agent);
}
