/*
 * runk-agent: PID 1 of the guest.  It mounts the basics, loads the modules
 * the initramfs carries, mounts the host's 9p share, opens the agent
 * virtio-serial port, says HELLO and then serves the host's requests
 * (docs/protocol.md) from one epoll loop.  It must never exit: a fatal
 * error is logged and the VM powers off.
 */
#ifndef RUNK_AGENT_H
#define RUNK_AGENT_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "proto.h"

struct oci_process;

#define AGENT_SHARE_DIR	    "/run/runk/share"
#define AGENT_MODULES_ORDER "/lib/modules/runk.order"

#define AGENT_CGROUP_ROOT "/sys/fs/cgroup"

/* What an epoll event belongs to: epoll_event.data.ptr points at one of these. */
enum watch_kind {
	WATCH_PORT,
	WATCH_SIGNAL,
	WATCH_TIMER,
	WATCH_INOTIFY,
	WATCH_STDIN,
	WATCH_STDOUT,
	WATCH_STDERR,
};

struct container;
struct proc;

struct watch {
	enum watch_kind kind;
	struct proc *proc;
};

/* A pipe (or pty master) the agent reads and forwards as frames. */
struct out_stream {
	int fd;
	struct watch watch;
};

/* A process's stdin: STDIN frames queue here until the pipe (or pty) takes them. */
struct in_stream {
	int fd;
	struct watch watch;
	bool watching; /* registered for EPOLLOUT */
	bool eof;      /* the host sent EOF: close once the queue is empty */
	uint8_t *buf;
	size_t len;
};

/*
 * A process the host sees through one stream: a container's init or a
 * process exec'd into it.  With a terminal, stdin and stdout are two dups of
 * the pty master (epoll needs one fd per direction) and there is no stderr.
 */
struct proc {
	struct proc *next;
	struct container *container;
	uint32_t stream;
	pid_t pid;  /* in the agent's pid namespace */
	int tty_fd; /* pty master, -1 without a terminal */
	struct in_stream in;
	struct out_stream out, err;
	bool exited;
	int exit_status;
	int exit_signal;
	bool event_sent;
	/* Freed after the current batch of epoll events (which may still name it). */
	bool dead;
};

struct container {
	struct container *next;
	char *id;
	char *cgroup; /* AGENT_CGROUP_ROOT/<id> */
	struct proc *init;
	int start_fd; /* write end of the start pipe; -1 once started */
	int oom_wd;   /* inotify watch of memory.events, -1 if none */
	long long oom_kills;
	bool frozen;		/* cgroup.freeze is 1 (the freeze request) */
	bool dead;		/* deleted: freed with its processes after the current batch */
	struct oci_config *cfg; /* its config.json: exec'd processes get its seccomp filter */
};

struct agent {
	int port_fd;
	bool port_up;
	int epoll_fd;
	int signal_fd;
	int timer_fd;
	int inotify_fd;
	struct watch port_watch, signal_watch, timer_watch, inotify_watch;
	struct proto_decoder decoder;
	struct container *containers;
	struct container *graveyard; /* deleted containers, freed by agent_sweep */
	struct proc *procs;
};

/* log.c: to /dev/kmsg.  Level 3 (error) always reaches the console; 6 (info) with runk.debug. */
void agent_log_open(void);
void agent_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) agent_log(3, __VA_ARGS__)
#define log_info(...)  agent_log(6, __VA_ARGS__)
void agent_log_err(const char *what, runk_error_t err);
/* Log, then power the VM off.  PID 1 must never exit. */
void agent_fatal(const char *what, runk_error_t err) __attribute__((noreturn));
void agent_power_off(void) __attribute__((noreturn));

/* modules.c */
int modules_load(const char *order_path, runk_error_t *err);

/* port.c */
int share_mount(runk_error_t *err);
int port_open(runk_error_t *err);

/* server.c */
void agent_serve(struct agent *agent) __attribute__((noreturn));
/* Send one frame to the host; a failure is logged (the host may come back). */
int agent_send(struct agent *agent, unsigned int type, uint32_t id, const void *payload,
	       size_t len);
int agent_watch(struct agent *agent, int fd, uint32_t events, struct watch *watch,
		runk_error_t *err);
void agent_unwatch(struct agent *agent, int fd);

/* request.c */
void request_handle(struct agent *agent, const struct proto_frame *frame);

/* container.c */
struct container *container_find(struct agent *agent, const char *id);
struct create_request {
	const char *id;
	uint32_t stream;
	bool no_pivot; /* MS_MOVE + chroot instead of pivot_root (runk create --no-pivot) */
	/* A pod member: its sandbox's init and the CLONE_NEW* types it joins (NULL, 0 else). */
	const struct container *sandbox;
	int join;
};
int container_create(struct agent *agent, const struct create_request *req, pid_t *pid,
		     runk_error_t *err);
int container_start(struct agent *agent, struct container *c, runk_error_t *err);
/* proc NULL: the init; all: every process of the container. */
int container_signal(struct agent *agent, struct container *c, struct proc *proc, int sig, bool all,
		     runk_error_t *err);
/* Kill everything left, remove the cgroup, forget the container. */
int container_delete(struct agent *agent, struct container *c, runk_error_t *err);
bool container_running(const struct container *c);
/* SIGCHLD: reap every child (PID 1 inherits orphans) and record process exits. */
void container_reap_all(struct agent *agent);

/* proc.c: the processes behind streams */
struct proc *proc_find_stream(struct agent *agent, uint32_t stream);
struct proc *proc_new(struct agent *agent, struct container *c, uint32_t stream);
/* Register the stdio fds with epoll (non-blocking, output watched). */
int proc_watch(struct agent *agent, struct proc *p, runk_error_t *err);
/* Close its fds, unlink it from epoll; it is freed by agent_sweep. */
void proc_kill_streams(struct agent *agent, struct proc *p);
/* Send the exit EVENT once the process exited and its output was drained. */
void proc_maybe_report_exit(struct agent *agent, struct proc *p);
void agent_sweep(struct agent *agent);

/*
 * stdio.c: what a new process gets as stdio, pipes or a pty.  The pty is
 * opened by the process itself in the container's /dev/pts (so `tty` names
 * it there) and its master comes back to the agent over a socket.
 */
struct stdio_fds {
	int child[3];	  /* pipes: stdin, stdout, stderr for the child */
	int sock[2];	  /* tty: [0] the agent receives the master, [1] the child sends it */
	int in, out, err; /* the agent's ends; err -1 with a tty */
	int tty;	  /* pty master, -1 without */
	bool terminal;
	bool console;		 /* the init's pty: also bind it onto /dev/console */
	unsigned int rows, cols; /* initial size, 0 if not given */
	uid_t uid;		 /* owner of the pty slave */
	gid_t gid;
};
int stdio_open(struct stdio_fds *s, const struct oci_process *process, runk_error_t *err);
/* In the agent after the fork: close the child's ends. */
void stdio_close_child(struct stdio_fds *s);
void stdio_close(struct stdio_fds *s);
/* In the agent once the child set its stdio up: take the pty master it sent. */
int stdio_receive(struct stdio_fds *s, runk_error_t *err);
/* Hand the agent's ends over to a process. */
void stdio_give(struct stdio_fds *s, struct proc *p);
/*
 * In the child, inside the container's mounts: a new session, the pty (made
 * here, its master sent to the agent) as controlling terminal, fds 0-2.
 */
int stdio_child_setup(const struct stdio_fds *s, runk_error_t *err);
int tty_resize(int fd, unsigned int rows, unsigned int cols, runk_error_t *err);

/* cgroup.c: the container's cgroup in the guest (cgroup2) */
struct oci_linux_resources;
void cgroup_enable_controllers(void);
int cgroup_create(struct container *c, runk_error_t *err);
/* Write "0" to cgroup.procs: the calling process moves itself in (in a child). */
int cgroup_enter(const char *cgroup, runk_error_t *err);
/* Move another process in (the agent places a container's init while it waits). */
int cgroup_add(const char *cgroup, const char *pid, runk_error_t *err);
int cgroup_apply(const char *cgroup, const struct oci_linux_resources *r, runk_error_t *err);
/* The pids in cgroup.procs, sorted. */
int cgroup_pids(const char *cgroup, long long **pids, size_t *count, runk_error_t *err);
int cgroup_signal(const char *cgroup, int sig, runk_error_t *err);
/* cgroup.freeze, then wait (bounded) until cgroup.events says so; a timed-out freeze is undone. */
int cgroup_freeze(const char *cgroup, bool frozen, runk_error_t *err);
/* SIGKILL everything and remove the directory. */
int cgroup_destroy(const char *cgroup, runk_error_t *err);
int cgroup_stats(const char *cgroup, struct proto_json *reply, runk_error_t *err);
/* guest-stats.c: the "guest" request (meminfo, load and tasks of the whole guest) */
int op_guest(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err);
/* OOM kills: watch memory.events, send {"event":"oom"} when oom_kill grows. */
void cgroup_oom_watch(struct agent *agent, struct container *c);
void cgroup_oom_check(struct agent *agent, struct container *c);
void cgroup_inotify_ready(struct agent *agent);
long long cgroup_oom_kills(const char *cgroup);

/* resources.c: OCI linux.resources -> cgroup2 files (pure; unit-tested) */
struct cgroup_setting {
	char *file;
	char *value;
	const char *field; /* the OCI field, for messages */
};
/*
 * current_limit: memory.max now (-1 for "max", 0 unknown), for a swap
 * limit given without a memory limit (an update).
 */
int resources_to_cgroup2(const struct oci_linux_resources *r, long long current_limit,
			 struct cgroup_setting **out, size_t *count, runk_error_t *err);
void cgroup_settings_free(struct cgroup_setting *s, size_t count);
long long cpu_shares_to_weight(long long shares);
int memory_swap_to_v2(long long swap, long long limit, long long *out, runk_error_t *err);
/* Parse a JSON linux.resources object with libocispec (caller frees with oci_config_free). */
struct oci_config;
struct oci_linux_resources *resources_parse(const char *json, size_t len, runk_error_t *err);

/* namespaces.c: the namespaces a container makes or joins (the parsing is pure; unit-tested) */
#define NS_TYPES 7
#define NS_ALL                                                                                     \
	(CLONE_NEWUSER | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWPID |               \
	 CLONE_NEWCGROUP | CLONE_NEWNS)
#define NS_JOINABLE (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID)
/* "network" -> CLONE_NEWNET; 0 if not an OCI namespace type. */
int ns_flag(const char *type);
/*
 * linux.namespaces -> the CLONE_NEW* types the container has (made or
 * joined; mount always).  A path is refused; each type in join must be
 * listed, and not together with a user namespace.
 */
int ns_config_flags(const struct oci_config *cfg, int join, int *flags, runk_error_t *err);
/* The create request's optional "sandbox" (a valid id, NULL if absent) and "join" types. */
int ns_join_request(yajl_val req, const char **sandbox, int *join, runk_error_t *err);
/* Open namespaces of a process, by type, to setns into them. */
struct ns_fds {
	int fd[NS_TYPES]; /* -1 where not opened */
};
void ns_fds_init(struct ns_fds *n);
/* Those of pid's in flags; differing: only those that are not the caller's own (exec). */
int ns_fds_open(struct ns_fds *n, pid_t pid, int flags, bool differing, runk_error_t *err);
int ns_fds_get(const struct ns_fds *n, int flag); /* -1 if not opened */
/* setns into those in flags, user first and mount last, closing each. */
int ns_fds_enter(struct ns_fds *n, int flags, runk_error_t *err);
void ns_fds_close(struct ns_fds *n);

/* exec.c */
int exec_process(struct agent *agent, struct container *c, uint32_t stream,
		 const char *process_json, size_t len, pid_t *pid, runk_error_t *err);

/* caps.c: process.capabilities (libcap) */
enum {
	CAPSET_BOUNDING,
	CAPSET_EFFECTIVE,
	CAPSET_INHERITABLE,
	CAPSET_PERMITTED,
	CAPSET_AMBIENT,
	CAPSET_COUNT
};
struct cap_sets {
	bool set; /* the process has a capabilities object */
	uint64_t mask[CAPSET_COUNT];
};
struct oci_linux_capabilities;
/* "CAP_SYS_ADMIN" (any case) -> 21; -1 if unknown.  Pure. */
int cap_parse_name(const char *name, int *value);
int caps_parse(const struct oci_linux_capabilities *c, struct cap_sets *out, runk_error_t *err);
int caps_drop_bounding(const struct cap_sets *c, runk_error_t *err);
/* After setuid: effective, permitted, inheritable, then ambient. */
int caps_apply(const struct cap_sets *c, runk_error_t *err);

/* seccomp.c: linux.seccomp (libseccomp).  The filter is an opaque scmp_filter_ctx. */
struct oci_linux_seccomp;
int seccomp_action_parse(const char *name, bool has_errno, uint64_t errno_ret, uint32_t *action,
			 runk_error_t *err);
int seccomp_op_parse(const char *name, int *op);
uint32_t seccomp_arch_parse(const char *name); /* 0 if unknown */
int seccomp_flag_parse(const char *name, int *attr);
void *seccomp_build(const struct oci_linux_seccomp *s, runk_error_t *err);
int seccomp_apply(void *filter, runk_error_t *err);
void seccomp_free(void *filter);

/* mounts.c: OCI mount options -> mount(2) (pure; unit-tested) */
struct oci_mount;
struct mount_opts {
	unsigned long flags;	   /* MS_RDONLY, MS_NOSUID, ... for the mount or its remount */
	unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE [| MS_REC], 0 */
	bool bind;		   /* type "bind", or a bind/rbind option */
	bool recursive;		   /* rbind */
	bool tmpcopyup;		   /* a tmpfs that starts with a copy of the directory it hides */
	char *data;		   /* the filesystem's options, comma-separated (owned) */
};
int mount_opts_parse(const struct oci_mount *m, struct mount_opts *o, runk_error_t *err);
void mount_opts_free(struct mount_opts *o);
/* "rslave" -> MS_SLAVE | MS_REC; 0 if not a propagation name. */
unsigned long propagation_parse(const char *name);
/* copyup.c: copy the directory a new tmpfs hides into it (tmpcopyup). */
int tmpfs_copy_up(int shadowed_dir, int tmpfs_root, runk_error_t *err);
/* A destination that is absolute and has no ".." component. */
int destination_check(const char *dest, runk_error_t *err);

/* rootfs.c: paths inside the container's root (openat2 RESOLVE_IN_ROOT) */
int root_open(int rootfd, const char *path, int flags);
/* mkdir -p inside the root; returns an O_PATH fd of the directory. */
int root_mkdir_p(int rootfd, const char *path, runk_error_t *err);
/* The file (created empty if missing, parents too); returns an O_PATH fd. */
int root_mkfile(int rootfd, const char *path, runk_error_t *err);
/* Remount a bind mount with flags, keeping the flags a user namespace locks. */
int remount_bind(const char *target, unsigned long flags, runk_error_t *err);

/* devices.c: the container's /dev */
struct oci_linux;
int dev_populate(int rootfd, bool userns, bool console, runk_error_t *err);
int devices_create(int rootfd, const struct oci_linux *lnx, bool userns, runk_error_t *err);

/* userns.c */
int userns_write_maps(pid_t pid, const struct oci_linux *lnx, runk_error_t *err);
int net_loopback_up(runk_error_t *err);

/* rootfs.c (in the container's child, before exec) */
struct rootfs_options {
	const char *rootfs; /* the rootfs in the share */
	const char *share;  /* the container's directory in the share (mounts/<i>) */
	int clone_flags;    /* the namespaces the init has, made or joined */
	int joined;	    /* those of them joined from a pod's sandbox */
	bool terminal;	    /* a /dev/console for the init's pty */
	bool no_pivot;	    /* MS_MOVE + chroot instead of pivot_root */
};
int rootfs_setup(const struct oci_config *cfg, const struct rootfs_options *o, runk_error_t *err);
/*
 * After the root: hostname (only in a uts namespace it made: a pod member
 * keeps its sandbox's), sysctl, readonlyPaths, maskedPaths.
 */
int rootfs_finish(const struct oci_config *cfg, int made_flags, runk_error_t *err);

/* process.c (in the child) */
struct rlimit_setting {
	int resource;
	uint64_t soft, hard;
};
struct process_plan {
	struct cap_sets caps;
	struct rlimit_setting *rlimits;
	size_t rlimits_len;
	void *seccomp; /* NULL without */
	bool has_oom;
	int oom_score_adj;
	bool has_personality;
	unsigned long personality;
};
int rlimit_parse(const char *name); /* -1 if unknown; pure */
int personality_parse(const char *domain, unsigned long *out);
/* In the agent: check and convert everything, naming the field of a mistake. */
int process_plan_make(const struct oci_process *p, const struct oci_linux *lnx,
		      struct process_plan *plan, runk_error_t *err);
void process_plan_free(struct process_plan *plan);
/* In the child: oom_score_adj, rlimits, personality, seccomp, capabilities, user. */
int process_setup(const struct oci_process *process, const struct process_plan *plan,
		  runk_error_t *err);
void process_exec(const struct oci_process *process, const struct process_plan *plan)
	__attribute__((noreturn));
/* Close every descriptor from 3 up except keep (sorted or not, -1 ignored). */
void close_fds_except(const int *keep, size_t count);

/* io.c */
void io_stdin_frame(struct agent *agent, const struct proto_frame *frame);
void io_stdin_writable(struct agent *agent, struct proc *p);
void io_output_ready(struct agent *agent, struct proc *p, struct out_stream *s, unsigned int type);
void io_close_stdin(struct agent *agent, struct proc *p);

#endif
