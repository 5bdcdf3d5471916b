/* The shim's parts share this: shim.c (VM and agent), shim-streams.c (stdio relay), shim-control.c.
 */
#ifndef RUNK_SHIM_INTERNAL_H
#define RUNK_SHIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "agent.h"
#include "hypervisor/hypervisor.h"
#include "proto.h"
#include "shim.h"

enum shim_status {
	SHIM_CREATING,
	SHIM_CREATED,
	SHIM_RUNNING,
	SHIM_PAUSED,
	SHIM_STOPPED,
};

extern const char *const shim_status_names[];

/* What an epoll event is about: the source in the high half of data.u64, a stream slot below. */
enum shim_source {
	SOURCE_AGENT = 1,
	SOURCE_QEMU,
	SOURCE_SIGNAL,
	SOURCE_CONTROL,
	SOURCE_STREAM_IN,      /* a process's stdin on the host side */
	SOURCE_STREAM_CONN,    /* the control connection of a `runk exec` */
	SOURCE_MEMBER_CONTROL, /* a pod member's control socket (the slot is its index) */
	SOURCE_MEMBER_CONN,    /* a pod member shim's connection */
};

#define SHIM_EVENT(source, slot) (((uint64_t)(source) << 32) | (uint32_t)(slot))

/* A process in the guest whose stdio the shim relays: the init (slot 0) or an exec. */
struct shim_stream {
	bool used;
	uint32_t id; /* the stream id on the agent channel */
	int in_fd;   /* host side of stdin, relayed as STDIN frames; -1 once at EOF */
	int out_fd;  /* where STDOUT frames go */
	int err_fd;  /* where STDERR frames go */
	int conn_fd; /* exec: the client's control connection, told of the exit; -1 for the init */
	bool tty;    /* out_fd is a terminal whose size the guest pty follows */
	/*
	 * While exec waits for the agent's reply, a quick process may already
	 * have exited: its exit is kept here and told after the reply.
	 */
	bool starting;
	bool exit_pending;
	char *deferred; /* exec --ignore-paused into a frozen VM: the request, sent on resume */
	int exit_code;
	int exit_signal;
	int member;	  /* the pod member it runs in (shim-pod.c), -1: the shim's own container */
	bool member_init; /* that member's init: its exit stops the member */
};

#define SHIM_MAX_STREAMS 64

/*
 * A container of a Kubernetes pod that joined this shim's VM, the pod's
 * sandbox (shim-pod.c).  Its own small host process, the member shim
 * (member.c), is the container's PID: it holds `conn` and exits like the
 * container's init.  runk's commands for it arrive on `control_fd`, a socket
 * in its own state directory that the member shim handed over.
 */
struct shim_member {
	bool used;
	char *id;
	enum shim_status status;
	size_t slot;	/* its init's stream while that runs, else 0 (slot 0 is never a member's) */
	int conn_fd;	/* the member shim's connection: exit events out, resizes and signals in */
	int control_fd; /* listening: runk start/kill/exec/ps... of this container */
	bool share_made; /* <share>/<id> exists: its mount point in QEMU's view */
	bool in_guest;	 /* the agent has the container (delete it when it goes) */
	/* Its CPU limit, which counts towards the vCPUs online (a pod sized as it goes). */
	int64_t cpu_quota;
	uint64_t cpu_period;
};

#define SHIM_MAX_MEMBERS 64

struct shim_network;

struct shim {
	const struct shim_options *opts;
	struct vm *vm;
	struct shim_network *net; /* taps in the container's network namespace (shim-network.c) */
	struct agent_conn agent;
	int epoll_fd;
	int qemu_fd;   /* pidfd of QEMU */
	int keeper_fd; /* a pooled VM's keeper (factory/pool.c): it kills QEMU when this closes */
	int signal_fd;
	int control_fd;
	enum shim_status status;
	bool hello;
	bool clock_set; /* a clone's first words set the guest's clock already */
	/* The one request a caller waits for, and its reply once it came. */
	uint32_t awaited_id;
	yajl_val awaited_reply;
	char *last_reply_text; /* the awaited reply as the guest sent it */
	size_t last_reply_len;
	/* The container's init process. */
	bool exited;
	bool vm_gone; /* QEMU exited and was reaped */
	int exit_code;
	int exit_signal;
	struct shim_stream streams[SHIM_MAX_STREAMS];
	uint32_t next_stream_id;
	/*
	 * Why the agent channel became unusable while a runk command waited on
	 * it (a protocol violation, no reply in time, QEMU gone): that command
	 * gets the error, then the event loop ends and the VM is stopped.
	 */
	char *agent_failure;
	/* A pod's sandbox: the containers that joined its VM. */
	struct shim_member members[SHIM_MAX_MEMBERS];
	/*
	 * The share's root directory on the host, and where QEMU sees it (in its
	 * own mount namespace when jailed or pooled): a member's share is
	 * attached there.  vm_share_root NULL: QEMU shares the shim's namespace.
	 */
	char *share_root;
	char *vm_share_root;
	unsigned int online_vcpus; /* a pod VM whose vCPUs follow its members */
};

/* shim.c: requests to the agent. */
struct proto_json *shim_request_new(struct shim *s, const char *op);
/* A request for another container in the VM (a pod member). */
struct proto_json *shim_request_for(const char *id, const char *op);
/* The id of the container a stream's process runs in. */
const char *shim_stream_container(const struct shim *s, const struct shim_stream *st);
int shim_request_send(struct shim *s, struct proto_json *json, yajl_val *reply, bool wait,
		      runk_error_t *err);
/* Send request text and wait for the reply (*reply may be NULL to discard it). */
int shim_agent_call(struct shim *s, const char *json, size_t len, yajl_val *reply,
		    runk_error_t *err);
int shim_epoll_add(struct shim *s, int fd, uint64_t data, runk_error_t *err);
/* {"op":"settime"} with the host's clock now. */
struct proto_json *shim_settime_request(void);
int shim_signal_stream(struct shim *s, uint32_t stream, int signo, bool all, bool wait,
		       runk_error_t *err);

/* shim-streams.c */
struct shim_stream *shim_stream_alloc(struct shim *s, size_t *slot, runk_error_t *err);
struct shim_stream *shim_stream_by_id(struct shim *s, uint32_t id, size_t *slot);
int shim_stream_output(struct shim *s, const struct proto_frame *frame, runk_error_t *err);
int shim_stream_relay_input(struct shim *s, size_t slot, runk_error_t *err);
int shim_stream_watch_input(struct shim *s, size_t slot, runk_error_t *err);
int shim_stream_resize(struct shim *s, size_t slot, unsigned int rows, unsigned int cols, bool wait,
		       runk_error_t *err);
/* The terminal of a tty stream changed size (SIGWINCH): pass it on. */
void shim_stream_follow_size(struct shim *s, size_t slot);
/* {"event":"exit",...} to a client's connection (fd -1: nobody to tell). */
void shim_send_exit(int fd, int code, int signo);
/* An exec's process exited: tell its client and forget it. */
void shim_stream_exited(struct shim *s, size_t slot, int code, int signo);
void shim_stream_release(struct shim *s, size_t slot);

/* shim-control.c */
/* A connection on a control socket: the shim's own (member -1) or a pod member's. */
void shim_control_accept(struct shim *s, int listen_fd, int member);
void shim_control_exec_message(struct shim *s, size_t slot);
/* A stream's client asks for a resize, or (signals) a signal for the process. */
void shim_stream_client_message(struct shim *s, size_t slot, const char *buf, size_t len,
				bool signals);
void shim_reply_text(int fd, const char *text);
void shim_reply_error(int fd, runk_error_t err);
/* The whole guest's memory, load and tasks (runk-monitor), checked, to the client. */
int shim_control_guest(struct shim *s, int fd, runk_error_t *err);
/* update of container id: its guest cgroup takes resources (linux.resources as JSON text). */
int shim_control_update(struct shim *s, const char *id, const char *resources, runk_error_t *err);
/* ps and stats of container id: the guest's answer, checked, to the client. */
int shim_control_query(struct shim *s, int fd, const char *id, const char *op, runk_error_t *err);
/* exec in container id (a member's index, or -1 for the shim's own). */
int shim_control_exec(struct shim *s, int *conn, yajl_val req, int *fds, size_t n_fds,
		      const char *id, int member, runk_error_t *err);
/* Start an exec (or a member's init) stream's process and answer its client. */
int shim_control_stream_start(struct shim *s, size_t slot, const char *request, runk_error_t *err);

/*
 * shim-pod.c: a pod's sandbox serves its members.  Both return as the
 * control dispatch does (1: replied, 0: plain ok, <0: error).
 */
/* pod-add, on the sandbox's own socket: a member shim brings its container. */
int shim_pod_add(struct shim *s, int *conn, yajl_val req, int *fds, size_t n_fds,
		 runk_error_t *err);
/* A request on member m's control socket. */
int shim_pod_dispatch(struct shim *s, int m, int *conn, yajl_val req, int *fds, size_t n_fds,
		      runk_error_t *err);
/* A member's init exited (its stream slot is released next). */
void shim_pod_member_exited(struct shim *s, size_t slot, int code, int signo);
/* A message from member m's shim, or its connection closed. */
void shim_pod_member_message(struct shim *s, int m);
/* A pod on the node's uts namespace: the VM gets the node's hostname, as its containers would. */
int shim_pod_vm_hostname(struct shim *s, runk_error_t *err);

#endif
