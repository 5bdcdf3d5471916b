/*
 * A Kubernetes pod in one VM, the sandbox shim's side (docs/pods.md).
 *
 * The pod's sandbox (its pause container) boots the VM.  Every other
 * container of the pod is a *member*: `runk create` forks a member shim
 * (member.c), whose PID is the container's, and which brings the sandbox
 * shim, over its control socket, everything the container needs (pod-add):
 * its stdio, a listening control socket in its own state directory, and its
 * share (the rootfs and bind mounts, as a detached mount tree).  Here the
 * share is attached under the VM's share, the agent creates the container
 * (joining the sandbox's namespaces it names), and from then on runk's
 * commands for the member arrive on its own control socket.  The member
 * shim holds one connection: the member's exit goes out on it, its
 * resizes and forwarded signals come in; when it closes, the member is gone
 * from the VM.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "id.h"
#include "log.h"
#include "ocispec.h"
#include "pod.h"
#include "share.h"
#include "shim-internal.h"
#include "shimctl.h"
#include "sizing.h"

/* The descriptors a pod-add carries, in this order. */
enum { ADD_STDIN, ADD_STDOUT, ADD_STDERR, ADD_CONTROL, ADD_SHARE, ADD_FDS };

static int member_find(const struct shim *s, const char *id)
{
	for (int i = 0; i < SHIM_MAX_MEMBERS; i++)
		if (s->members[i].used && strcmp(s->members[i].id, id) == 0)
			return i;
	return -1;
}

/* Does the member hold vCPUs: created or running (a stopped one gave them back)? */
static bool member_counts(const struct shim_member *m)
{
	return m->used && m->status != SHIM_STOPPED;
}

/*
 * A pod whose size the engine did not tell (CRI-O) has default_maxvcpus
 * vCPUs present and ceil(the sandbox's CPUs + Σ members' quota/period)
 * online.  Sent without waiting for the reply: the agent answers requests
 * in order, so the next request a member makes finds them online.
 */
static void update_vcpus(struct shim *s)
{
	cleanup_error runk_error_t err = NULL;
	struct cpu_amount sum = s->opts->pod_cpus;
	struct proto_json *json;
	unsigned int online;
	bool clamped;

	if (s->opts->max_vcpus == 0 || s->vm_gone)
		return;
	for (size_t i = 0; i < SHIM_MAX_MEMBERS; i++) {
		const struct shim_member *m = &s->members[i];

		if (member_counts(m) &&
		    sizing_add_quota(&sum, m->cpu_quota, m->cpu_period, &err) < 0) {
			cleanup_free char *text = runk_error_text(err);

			log_warning("pod %s: vCPUs not changed: %s", s->opts->id, text);
			return;
		}
	}
	online = sizing_vcpus(&sum, s->opts->max_vcpus, &clamped);
	if (online == s->online_vcpus)
		return;
	log_debug("pod %s: %u vCPUs online (were %u)", s->opts->id, online, s->online_vcpus);
	json = proto_json_new();
	proto_json_add_string(json, "op", "cpus");
	proto_json_add_int(json, "online", online);
	if (shim_request_send(s, json, NULL, false, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_warning("pod %s: set %u vCPUs online: %s", s->opts->id, online, text);
		return;
	}
	s->online_vcpus = online;
}

static void epoll_forget(struct shim *s, int *fd)
{
	if (*fd < 0)
		return;
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, *fd, NULL);
	close(*fd);
	*fd = -1;
}

/* Tell the agent to forget the container (killing what is left of it), without waiting. */
static void guest_delete(struct shim *s, struct shim_member *m)
{
	cleanup_error runk_error_t err = NULL;

	if (!m->in_guest || s->vm_gone)
		return;
	m->in_guest = false;
	if (shim_request_send(s, shim_request_for(m->id, "delete"), NULL, false, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_warning("pod %s: delete container %s in the VM: %s", s->opts->id, m->id, text);
	}
}

static void share_remove(struct shim *s, struct shim_member *m)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_free char *host = NULL, *vm = NULL;

	if (!m->share_made)
		return;
	if (asprintf(&host, "%s/%s", s->share_root, m->id) < 0 ||
	    asprintf(&vm, "%s/%s", s->vm_share_root, m->id) < 0)
		abort();
	if (!s->vm_gone && share_detach(vm_pid(s->vm), vm, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_warning("pod %s: %s", s->opts->id, text);
	}
	rmdir(host);
}

/*
 * The processes exec'd into member i die with it (its PID namespace, or the
 * agent's delete): their clients hear they were killed, as the agent will
 * not report a deleted container's processes.
 */
static void end_member_execs(struct shim *s, int i)
{
	for (size_t slot = 1; slot < SHIM_MAX_STREAMS; slot++) {
		struct shim_stream *st = &s->streams[slot];

		if (st->used && st->member == i && !st->member_init)
			shim_stream_exited(s, slot, 128 + SIGKILL, SIGKILL);
	}
}

/* Forget member i entirely: in the VM, its share, its sockets. */
static void member_release(struct shim *s, int i)
{
	struct shim_member *m = &s->members[i];

	end_member_execs(s, i);
	guest_delete(s, m);
	if (m->slot)
		shim_stream_release(s, m->slot);
	share_remove(s, m);
	epoll_forget(s, &m->control_fd);
	epoll_forget(s, &m->conn_fd);
	free(m->id);
	*m = (struct shim_member){.conn_fd = -1, .control_fd = -1};
	update_vcpus(s);
}

void shim_pod_member_exited(struct shim *s, size_t slot, int code, int signo)
{
	int i = s->streams[slot].member;
	struct shim_member *m;

	if (i < 0 || i >= SHIM_MAX_MEMBERS || !s->members[i].used)
		return;
	m = &s->members[i];
	log_debug("pod %s: container %s exited: status %d signal %d", s->opts->id, m->id, code,
		  signo);
	m->status = SHIM_STOPPED;
	m->slot = 0; /* the caller releases the stream */
	shim_send_exit(m->conn_fd, code, signo);
	end_member_execs(s, i);
	/*
	 * Its processes are gone from the VM with it; its socket stays until its
	 * shim exits (`runk state` asks it meanwhile).
	 */
	guest_delete(s, m);
	update_vcpus(s);
}

void shim_pod_member_message(struct shim *s, int i)
{
	struct shim_member *m = &s->members[i];
	char buf[1024];
	ssize_t n = recv(m->conn_fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The container's PID is gone: so is the container. */
		if (m->status != SHIM_STOPPED)
			log_warning("pod %s: the shim of container %s exited: its processes are "
				    "killed",
				    s->opts->id, m->id);
		member_release(s, i);
		return;
	}
	/* Its init's resizes; signals once it runs (a created one waits for start). */
	if (m->slot)
		shim_stream_client_message(s, m->slot, buf, (size_t)n, m->status == SHIM_RUNNING);
}

/* pod-add's "join": distinct namespace types a pod shares (pod.h), for the agent. */
static int join_types(yajl_val req, const char **types, size_t *n, runk_error_t *err)
{
	yajl_val join = proto_json_find(req, "join");

	*n = 0;
	if (join == NULL)
		return 0;
	if (!YAJL_IS_ARRAY(join) || join->u.array.len > 4)
		return runk_error(err, "pod-add: \"join\" is not an array of namespace types");
	for (size_t i = 0; i < join->u.array.len; i++) {
		const char *type = pod_shared_namespace(YAJL_GET_STRING(join->u.array.values[i]));

		if (type == NULL)
			return runk_error(err, "pod-add: \"join\": not a namespace a pod shares");
		for (size_t j = 0; j < *n; j++)
			if (types[j] == type)
				return runk_error(err, "pod-add: \"join\": `%s` twice", type);
		types[(*n)++] = type;
	}
	return 0;
}

/* The agent's create for a member: its own stream, the sandbox's namespaces it joins. */
static char *create_request(const struct shim *s, const char *id, uint32_t stream,
			    const char *const *types, size_t n_types, bool no_pivot)
{
	struct proto_json *json = shim_request_for(id, "create");
	char *text = NULL;
	size_t len;

	proto_json_add_int(json, "stream", stream);
	proto_json_add_string(json, "sandbox", s->opts->id);
	if (n_types)
		proto_json_add_string_array(json, "join", types, n_types);
	if (no_pivot)
		proto_json_add_bool(json, "no_pivot", true);
	if (proto_json_finish(json, &text, &len, NULL) < 0)
		abort();
	return text;
}

/* Attach the member's share tree at <share>/<id> where QEMU serves it. */
static int share_add(struct shim *s, struct shim_member *m, int tree, runk_error_t *err)
{
	cleanup_free char *host = NULL, *vm = NULL;

	if (asprintf(&host, "%s/%s", s->share_root, m->id) < 0 ||
	    asprintf(&vm, "%s/%s", s->vm_share_root, m->id) < 0)
		abort();
	if (mkdir(host, 0755) < 0)
		return runk_error_errno(err, errno, "mkdir `%s`", host);
	m->share_made = true;
	return share_attach_tree(vm_pid(s->vm), tree, vm, err);
}

static int add_check(struct shim *s, const char *id, size_t n_fds, runk_error_t *err)
{
	if (!s->opts->pod_sandbox)
		return runk_error(err,
				  "container `%s` is not a pod sandbox: no container joins its VM",
				  s->opts->id);
	if (s->exited || s->vm_gone)
		return runk_error(err, "the pod sandbox `%s` has stopped", s->opts->id);
	if (s->status == SHIM_PAUSED)
		return runk_error(err, "the pod sandbox `%s` is paused", s->opts->id);
	if (n_fds != ADD_FDS)
		return runk_error(err, "pod-add needs stdin, stdout, stderr, a control socket and "
				       "the share");
	if (runk_id_validate(id, err) < 0)
		return -1;
	if (strcmp(id, s->opts->id) == 0 || member_find(s, id) >= 0)
		return runk_error(err, "container `%s` is already in the pod's VM", id);
	return 0;
}

/* Create the container in the VM: its init on a stream of its own, waiting for start. */
static int add_in_guest(struct shim *s, int i, yajl_val req, int *fds, long long *pid,
			runk_error_t *err)
{
	struct shim_member *m = &s->members[i];
	const char *types[4];
	size_t n_types, slot;
	bool terminal = false, no_pivot = false;
	cleanup_free char *request = NULL;
	struct shim_stream *st;
	yajl_val reply = NULL;

	if (join_types(req, types, &n_types, err) < 0 ||
	    proto_json_opt_bool(req, "terminal", &terminal, err) < 0 ||
	    proto_json_opt_bool(req, "no_pivot", &no_pivot, err) < 0)
		return -1;
	st = shim_stream_alloc(s, &slot, err);
	if (st == NULL)
		return -1;
	st->in_fd = steal_fd(&fds[ADD_STDIN]);
	st->out_fd = steal_fd(&fds[ADD_STDOUT]);
	st->err_fd = steal_fd(&fds[ADD_STDERR]);
	st->tty = terminal;
	st->member = i;
	st->member_init = true;
	st->starting = true;
	m->slot = slot;
	/* Its quota counts from now: the vCPUs are online before it is created. */
	update_vcpus(s);
	request = create_request(s, m->id, st->id, types, n_types, no_pivot);
	if (shim_agent_call(s, request, strlen(request), &reply, err) < 0)
		return runk_error_prefix(err, "create container `%s` in the pod's VM", m->id);
	m->in_guest = true;
	proto_json_opt_int(reply, "pid", 1, INT_MAX, pid, NULL);
	yajl_tree_free(reply);
	if (st->tty)
		shim_stream_follow_size(s, slot);
	return 0;
}

int shim_pod_add(struct shim *s, int *conn, yajl_val req, int *fds, size_t n_fds, runk_error_t *err)
{
	const char *id = NULL;
	long long quota = 0, period = 0, pid = 0;
	struct shim_member *m = NULL;
	char answer[64];
	int i;

	if (proto_json_get_string(req, "container", &id, err) < 0 ||
	    proto_json_opt_int(req, "cpu_quota", -1, LLONG_MAX, &quota, err) < 0 ||
	    proto_json_opt_int(req, "cpu_period", 0, LLONG_MAX, &period, err) < 0 ||
	    add_check(s, id, n_fds, err) < 0)
		return -1;
	for (i = 0; i < SHIM_MAX_MEMBERS && s->members[i].used; i++)
		;
	if (i == SHIM_MAX_MEMBERS)
		return runk_error(err, "the pod's VM holds %d containers already",
				  SHIM_MAX_MEMBERS);
	m = &s->members[i];
	*m = (struct shim_member){.used = true,
				  .status = SHIM_CREATING,
				  .conn_fd = -1,
				  .control_fd = -1,
				  .cpu_quota = quota,
				  .cpu_period = (uint64_t)period};
	m->id = strdup(id);
	if (m->id == NULL)
		abort();
	if (share_add(s, m, fds[ADD_SHARE], err) < 0 ||
	    add_in_guest(s, i, req, fds, &pid, err) < 0) {
		member_release(s, i);
		return -1;
	}
	m->control_fd = steal_fd(&fds[ADD_CONTROL]);
	m->conn_fd = steal_fd(conn);
	if (shim_epoll_add(s, m->control_fd, SHIM_EVENT(SOURCE_MEMBER_CONTROL, i), err) < 0 ||
	    shim_epoll_add(s, m->conn_fd, SHIM_EVENT(SOURCE_MEMBER_CONN, i), err) < 0) {
		shim_reply_error(m->conn_fd, *err);
		member_release(s, i);
		runk_error_free(err);
		return 1;
	}
	m->status = SHIM_CREATED;
	s->streams[m->slot].starting = false;
	log_debug("pod %s: container %s created in the VM, guest pid %lld", s->opts->id, id, pid);
	snprintf(answer, sizeof(answer), "{\"ok\":true,\"pid\":%lld}", pid);
	shim_reply_text(m->conn_fd, answer);
	/* It may have died already (a bad command): that exit came while we waited. */
	if (s->streams[m->slot].exit_pending)
		shim_stream_exited(s, m->slot, s->streams[m->slot].exit_code,
				   s->streams[m->slot].exit_signal);
	return 1;
}

int shim_pod_vm_hostname(struct shim *s, runk_error_t *err)
{
	struct proto_json *json;
	char name[HOST_NAME_MAX + 1] = "";

	if (!s->opts->pod_sandbox || oci_config_namespace(s->opts->config, "uts") != NULL ||
	    gethostname(name, sizeof(name) - 1) < 0 || name[0] == '\0')
		return 0;
	json = proto_json_new();
	proto_json_add_string(json, "op", "hostname");
	proto_json_add_string(json, "name", name);
	return shim_request_send(s, json, NULL, true, err);
}

/* ---- runk's commands for a member, on its own control socket ---- */

static int member_live(struct shim *s, struct shim_member *m, runk_error_t *err)
{
	if (s->exited || s->vm_gone || m->status == SHIM_STOPPED)
		return runk_error(err, "container `%s` is not running", m->id);
	if (s->status == SHIM_PAUSED)
		return runk_error(err, "the VM of container `%s` (pod sandbox `%s`) is paused",
				  m->id, s->opts->id);
	return 0;
}

static const char *member_status(const struct shim *s, const struct shim_member *m)
{
	if (s->exited || s->vm_gone)
		return shim_status_names[SHIM_STOPPED];
	/* The whole VM stopped (the sandbox paused): so is every container in it. */
	if (s->status == SHIM_PAUSED && m->status != SHIM_STOPPED)
		return shim_status_names[SHIM_PAUSED];
	return shim_status_names[m->status];
}

static int member_start(struct shim *s, struct shim_member *m, runk_error_t *err)
{
	if (member_live(s, m, err) < 0)
		return -1;
	if (m->status != SHIM_CREATED)
		return runk_error(err, "cannot start a container that is %s",
				  shim_status_names[m->status]);
	if (shim_request_send(s, shim_request_for(m->id, "start"), NULL, true, err) < 0)
		return -1;
	/* An exit event may have come while we waited: that status stands. */
	if (m->status != SHIM_CREATED)
		return 0;
	m->status = SHIM_RUNNING;
	return shim_stream_watch_input(s, m->slot, err);
}

static int member_kill(struct shim *s, struct shim_member *m, yajl_val req, runk_error_t *err)
{
	long long signo = SIGTERM;
	bool all = false;

	if (proto_json_get_int(req, "signal", 1, NSIG - 1, &signo, err) < 0 ||
	    proto_json_opt_bool(req, "all", &all, err) < 0)
		return -1;
	/* Like runc: `kill --all` of a stopped container succeeds, a plain kill does not. */
	if (m->status == SHIM_STOPPED || s->exited || s->vm_gone)
		return all ? 0 : runk_error(err, "container `%s` is not running", m->id);
	if (member_live(s, m, err) < 0)
		return -1;
	return shim_signal_stream(s, s->streams[m->slot].id, (int)signo, all, true, err);
}

/* One container of the pod is frozen in its guest cgroup; the VM runs on. */
static int member_freeze(struct shim *s, struct shim_member *m, bool freeze, runk_error_t *err)
{
	struct proto_json *json;

	if (member_live(s, m, err) < 0 && !(m->status == SHIM_PAUSED && !freeze))
		return -1;
	if (freeze && m->status != SHIM_RUNNING && m->status != SHIM_CREATED)
		return runk_error(err, "container `%s` is not running", m->id);
	if (!freeze && m->status != SHIM_PAUSED)
		return runk_error(err, "container `%s` is not paused", m->id);
	json = shim_request_for(m->id, "freeze");
	proto_json_add_bool(json, "frozen", freeze);
	if (shim_request_send(s, json, NULL, true, err) < 0)
		return -1;
	m->status = freeze ? SHIM_PAUSED : SHIM_RUNNING;
	return 0;
}

/* update: the guest cgroup takes the new limits; a new CPU quota may change the vCPUs. */
static int member_update(struct shim *s, struct shim_member *m, yajl_val req, runk_error_t *err)
{
	const char *resources = NULL;
	struct oci_linux_resources *parsed;
	const struct oci_linux_cpu *cpu;

	if (proto_json_get_string(req, "resources", &resources, err) < 0 ||
	    member_live(s, m, err) < 0)
		return -1;
	parsed = cgroup_resources_parse(resources, err);
	if (parsed == NULL)
		return -1;
	if (shim_control_update(s, m->id, resources, err) < 0) {
		oci_linux_resources_free(parsed);
		return -1;
	}
	cpu = parsed->cpu;
	if (cpu && cpu->has_quota)
		m->cpu_quota = cpu->quota;
	if (cpu && cpu->has_period)
		m->cpu_period = cpu->period;
	oci_linux_resources_free(parsed);
	update_vcpus(s);
	return 0;
}

int shim_pod_dispatch(struct shim *s, int i, int *conn, yajl_val req, int *fds, size_t n_fds,
		      runk_error_t *err)
{
	struct shim_member *m = &s->members[i];
	const char *op = NULL;

	if (proto_json_get_string(req, "op", &op, err) < 0)
		return -1;
	if (strcmp(op, "status") == 0) {
		char reply[64];

		snprintf(reply, sizeof(reply), "{\"ok\":true,\"status\":\"%s\"}",
			 member_status(s, m));
		shim_reply_text(*conn, reply);
		return 1;
	}
	if (strcmp(op, "start") == 0)
		return member_start(s, m, err);
	if (strcmp(op, "kill") == 0)
		return member_kill(s, m, req, err);
	if (strcmp(op, "pause") == 0 || strcmp(op, "resume") == 0)
		return member_freeze(s, m, strcmp(op, "pause") == 0, err);
	if (strcmp(op, "ps") == 0 || strcmp(op, "stats") == 0) {
		if (member_live(s, m, err) < 0)
			return -1;
		return shim_control_query(s, *conn, m->id, op, err);
	}
	if (strcmp(op, "update") == 0)
		return member_update(s, m, req, err);
	if (strcmp(op, "exec") == 0) {
		if (m->status == SHIM_PAUSED)
			return runk_error(err, "container `%s` is paused", m->id);
		return shim_control_exec(s, conn, req, fds, n_fds, m->id, i, err);
	}
	if (strcmp(op, "guest") == 0)
		return shim_control_guest(s, *conn, err);
	return runk_error(err, "unknown shim operation `%s` for a pod's container", op);
}
