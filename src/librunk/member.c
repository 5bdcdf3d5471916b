/* The member shim of a pod's container: see member.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "exec.h"
#include "log.h"
#include "member.h"
#include "proto.h"
#include "share.h"
#include "shim.h"
#include "shimctl.h"
#include "state.h"
#include "util.h"

/*
 * <state>/share/<id>: the rootfs, the bind mounts' sources and the guest's
 * config.json, in this process's own mount namespace; returns a detached
 * copy of it for the sandbox's shim to attach in the VM's share.
 */
static int share_prepare(const struct member_options *o, runk_error_t *err)
{
	cleanup_free char *dir = NULL, *config = NULL;

	if (share_container_dir(o->state_dir, o->id, o->rootfs, o->config, o->bind_base, &dir,
				err) < 0)
		return -1;
	if (asprintf(&config, "%s/config.json", dir) < 0)
		abort();
	if (write_file_atomic(config, o->plan->guest_config, o->plan->guest_config_len, 0644, err) <
	    0)
		return -1;
	return share_open_tree(dir, err);
}

static char *add_request(const struct member_options *o)
{
	struct proto_json *json = proto_json_new();
	char *text = NULL;
	size_t len;

	proto_json_add_string(json, "op", "pod-add");
	proto_json_add_string(json, "container", o->id);
	if (o->plan->n_join)
		proto_json_add_string_array(json, "join", o->plan->join, o->plan->n_join);
	proto_json_add_bool(json, "terminal", o->terminal);
	proto_json_add_bool(json, "no_pivot", o->no_pivot);
	if (o->cpu_quota > 0 && o->cpu_period > 0 && o->cpu_period <= LLONG_MAX) {
		proto_json_add_int(json, "cpu_quota", o->cpu_quota);
		proto_json_add_int(json, "cpu_period", (long long)o->cpu_period);
	}
	if (proto_json_finish(json, &text, &len, NULL) < 0)
		abort();
	return text;
}

/* Bring the container to the sandbox's shim; returns the connection it then lives on. */
static int join_pod(const struct member_options *o, runk_error_t *err)
{
	cleanup_close int tree = -1, control = -1, conn = -1;
	cleanup_free char *request = add_request(o);
	int stdio = o->console_fd;
	yajl_val reply = NULL;
	int ret;

	if (cgroup_enter(o->cgroups, getpid(), o->resources, err) < 0)
		return -1;
	tree = share_prepare(o, err);
	if (tree < 0)
		return -1;
	control = shimctl_listen(o->state_dir, err);
	if (control < 0)
		return -1;
	conn = shimctl_connect(o->sandbox_dir, err);
	if (conn < 0)
		return runk_error_prefix(err, "the pod sandbox");
	{
		int fds[5] = {stdio >= 0 ? stdio : STDIN_FILENO, stdio >= 0 ? stdio : STDOUT_FILENO,
			      stdio >= 0 ? stdio : STDERR_FILENO, control, tree};

		if (shimctl_send(conn, request, fds, 5, err) < 0)
			return -1;
	}
	ret = shimctl_recv(conn, SHIMCTL_TIMEOUT_MS, true, &reply, err);
	if (ret == 0)
		return runk_error(err, "the pod sandbox's shim closed the connection");
	if (ret < 0)
		return -1;
	yajl_tree_free(reply);
	return steal_fd(&conn);
}

void member_main(const struct member_options *o)
{
	cleanup_error runk_error_t err = NULL;
	int conn, code = 128 + SIGKILL, signo = SIGKILL;
	sigset_t set;

	prctl(PR_SET_NAME, "runk-member");
	/* Before anything else: if runk create dies now, delete can still find and end us. */
	shim_record_pid(o->state_dir);
	signal(SIGPIPE, SIG_IGN);
	/* What the container gets instead of us: nothing may kill us before it exists. */
	forwarded_signals_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);

	conn = join_pod(o, &err);
	if (conn < 0) {
		shim_report(o->sync_fd, err);
		_exit(1);
	}
	/* The sandbox's shim holds the container's stdio now; we must not keep the caller's. */
	stdio_to_dev_null();
	if (o->console_fd >= 0)
		ioctl(o->console_fd, TIOCSCTTY, 0);
	shim_report(o->sync_fd, NULL);
	if (exec_wait_exit(conn, o->console_fd, &code, &signo, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		/* The pod's VM is gone, and the container with it: killed, as with its QEMU. */
		log_error("container %s: %s: killed with the pod's VM", o->id, text);
		code = 128 + SIGKILL;
		signo = SIGKILL;
	}
	exit_like(code, signo);
}
