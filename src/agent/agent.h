/*
 * runk-agent: PID 1 of the guest.  It mounts the basics, loads the modules
 * the initramfs carries, mounts the host's 9p share, opens the agent
 * virtio-serial port, says HELLO and then serves the host's requests
 * (docs/protocol.md) from one epoll loop.  It must never exit: a fatal
 * error is logged and the VM powers off.
 */
#ifndef RUNK_AGENT_H
#define RUNK_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "proto.h"

#define AGENT_SHARE_DIR	    "/run/runk/share"
#define AGENT_MODULES_ORDER "/lib/modules/runk.order"

/* What an epoll event belongs to: epoll_event.data.ptr points at one of these. */
enum watch_kind {
	WATCH_PORT,
	WATCH_SIGNAL,
	WATCH_TIMER,
	WATCH_STDIN,
	WATCH_STDOUT,
	WATCH_STDERR,
};

struct container;

struct watch {
	enum watch_kind kind;
	struct container *container;
};

/* A pipe the agent reads (stdout/stderr) and forwards as frames. */
struct out_stream {
	int fd;
	struct watch watch;
};

/* The container's stdin: STDIN frames queue here until the pipe takes them. */
struct in_stream {
	int fd;
	struct watch watch;
	bool watching; /* registered for EPOLLOUT */
	bool eof;      /* the host sent EOF: close once the queue is empty */
	uint8_t *buf;
	size_t len;
};

struct container {
	struct container *next;
	char *id;
	uint32_t stream;
	pid_t pid;	 /* in the agent's pid namespace */
	dev_t pidns_dev; /* the container's pid namespace, for signal --all */
	ino_t pidns_ino;
	bool own_pidns;
	int start_fd; /* write end of the start pipe; -1 once started */
	struct in_stream in;
	struct out_stream out, err;
	bool exited;
	int exit_status;
	int exit_signal;
	bool event_sent;
};

struct agent {
	int port_fd;
	bool port_up;
	int epoll_fd;
	int signal_fd;
	int timer_fd;
	struct watch port_watch, signal_watch, timer_watch;
	struct proto_decoder decoder;
	struct container *containers;
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
struct container *container_find_stream(struct agent *agent, uint32_t stream);
int container_create(struct agent *agent, const char *id, uint32_t stream, pid_t *pid,
		     runk_error_t *err);
int container_start(struct agent *agent, struct container *c, runk_error_t *err);
int container_signal(struct agent *agent, struct container *c, int sig, bool all,
		     runk_error_t *err);
/* SIGCHLD: reap every child (PID 1 inherits orphans) and record container exits. */
void container_reap_all(struct agent *agent);
/* Send the exit EVENT once the process exited and its output was drained. */
void container_maybe_report_exit(struct agent *agent, struct container *c);

/* rootfs.c (in the container's child, before exec) */
struct oci_config;
int rootfs_setup(const struct oci_config *cfg, const char *rootfs, int clone_flags,
		 runk_error_t *err);

/* process.c (in the container's child) */
int process_set_user(const struct oci_config *cfg, runk_error_t *err);
void process_exec(const struct oci_config *cfg) __attribute__((noreturn));

/* io.c */
void io_stdin_frame(struct agent *agent, const struct proto_frame *frame);
void io_stdin_writable(struct agent *agent, struct container *c);
void io_output_ready(struct agent *agent, struct container *c, struct out_stream *s,
		     unsigned int type);
void io_close_stdin(struct agent *agent, struct container *c);

#endif
