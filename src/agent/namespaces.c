/*
 * A container's namespaces: the ones its config.json lists, the ones a pod
 * member joins from its sandbox instead of making them (the create
 * request's "sandbox" and "join"), and joining another process's namespaces
 * with setns (a pod member's init, a process exec'd into a container).  The
 * parsing and checking are pure (unit-tested); the rest is open and setns.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "ocispec.h"

/*
 * The order is the order setns follows: the user namespace first, so the
 * others are joined with its rights; mnt last, as joining it moves the
 * root.
 */
static const struct {
	const char *oci;  /* linux.namespaces[].type, the request's "join" */
	const char *proc; /* /proc/<pid>/ns/<proc> */
	int flag;
} ns_types[NS_TYPES] = {
	{"user", "user", CLONE_NEWUSER}, {"ipc", "ipc", CLONE_NEWIPC},
	{"uts", "uts", CLONE_NEWUTS},	 {"network", "net", CLONE_NEWNET},
	{"pid", "pid", CLONE_NEWPID},	 {"cgroup", "cgroup", CLONE_NEWCGROUP},
	{"mount", "mnt", CLONE_NEWNS},
};

int ns_flag(const char *type)
{
	for (size_t i = 0; i < NS_TYPES; i++)
		if (strcmp(type, ns_types[i].oci) == 0)
			return ns_types[i].flag;
	return 0;
}

int ns_config_flags(const struct oci_config *cfg, int join, int *flags, runk_error_t *err)
{
	/* The container's mounts must never leak into the agent: always a mount namespace. */
	*flags = CLONE_NEWNS;
	for (size_t i = 0; cfg->linux && i < cfg->linux->namespaces_len; i++) {
		const struct oci_linux_namespace *ns = cfg->linux->namespaces[i];
		int flag = ns->type ? ns_flag(ns->type) : 0;

		if (ns->type == NULL)
			return runk_error(err, "linux.namespaces[%zu]: type is missing", i);
		if (flag == 0)
			return runk_error(err, "linux.namespaces[%zu]: unknown namespace type `%s`",
					  i, ns->type);
		/* The path names a namespace of the host: nothing in the VM can be it. */
		if (ns->path && ns->path[0])
			return runk_error(err,
					  "linux.namespaces[%zu].path: the %s namespace `%s` "
					  "cannot be joined inside the VM",
					  i, ns->type, ns->path);
		if (*flags & flag && flag != CLONE_NEWNS)
			return runk_error(err, "linux.namespaces[%zu]: `%s` listed twice", i,
					  ns->type);
		*flags |= flag;
	}
	for (size_t i = 0; i < NS_TYPES; i++)
		if ((join & ns_types[i].flag) && !(*flags & ns_types[i].flag))
			return runk_error(err, "join: linux.namespaces has no `%s` namespace",
					  ns_types[i].oci);
	/* Once the init is in a user namespace of its own, setns into the sandbox's is refused. */
	if (join && (*flags & CLONE_NEWUSER))
		return runk_error(err, "join: a pod member with its own user namespace cannot "
				       "join the sandbox's namespaces");
	return 0;
}

static int join_parse(yajl_val join, int *flags, runk_error_t *err)
{
	*flags = 0;
	if (!YAJL_IS_ARRAY(join))
		return runk_error(err, "\"join\" is not an array");
	for (size_t i = 0; i < join->u.array.len; i++) {
		yajl_val v = join->u.array.values[i];
		const char *type = YAJL_GET_STRING(v);
		int flag;

		if (!YAJL_IS_STRING(v))
			return runk_error(err, "join[%zu] is not a string", i);
		flag = ns_flag(type);
		if (!(flag & NS_JOINABLE))
			return runk_error(err, "join[%zu]: `%s` is not network, ipc, uts or pid", i,
					  type);
		if (*flags & flag)
			return runk_error(err, "join[%zu]: `%s` listed twice", i, type);
		*flags |= flag;
	}
	return 0;
}

int ns_join_request(yajl_val req, const char **sandbox, int *join, runk_error_t *err)
{
	yajl_val s = proto_json_find(req, "sandbox"), j = proto_json_find(req, "join");

	*sandbox = NULL;
	*join = 0;
	if (s == NULL) {
		if (j != NULL)
			return runk_error(err, "\"join\" needs \"sandbox\"");
		return 0;
	}
	if (!YAJL_IS_STRING(s))
		return runk_error(err, "\"sandbox\" is not a string");
	if (!proto_container_id_valid(YAJL_GET_STRING(s)))
		return runk_error(err, "sandbox: invalid container id");
	*sandbox = YAJL_GET_STRING(s);
	return j ? join_parse(j, join, err) : 0;
}

void ns_fds_init(struct ns_fds *n)
{
	for (size_t i = 0; i < NS_TYPES; i++)
		n->fd[i] = -1;
}

void ns_fds_close(struct ns_fds *n)
{
	for (size_t i = 0; i < NS_TYPES; i++)
		if (n->fd[i] >= 0) {
			close(n->fd[i]);
			n->fd[i] = -1;
		}
}

/* Is /proc/<pid>/ns/<name> the caller's own?  Absent here: the guest kernel lacks that type. */
static int ns_own(const char *path, const char *name, bool *own, runk_error_t *err)
{
	char self[64];
	struct stat st, mine;

	snprintf(self, sizeof(self), "/proc/self/ns/%s", name);
	if (stat(self, &mine) < 0) {
		*own = true;
		return 0;
	}
	if (stat(path, &st) < 0)
		return runk_error_errno(err, errno, "stat %s", path);
	*own = st.st_ino == mine.st_ino && st.st_dev == mine.st_dev;
	return 0;
}

int ns_fds_open(struct ns_fds *n, pid_t pid, int flags, bool differing, runk_error_t *err)
{
	ns_fds_init(n);
	for (size_t i = 0; i < NS_TYPES; i++) {
		char path[64];
		bool own = false;

		if (!(flags & ns_types[i].flag))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns_types[i].proc);
		if (differing && ns_own(path, ns_types[i].proc, &own, err) < 0) {
			ns_fds_close(n);
			return -1;
		}
		if (own)
			continue;
		n->fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (n->fd[i] < 0) {
			int saved = errno;

			ns_fds_close(n);
			return runk_error_errno(err, saved, "open %s", path);
		}
	}
	return 0;
}

int ns_fds_get(const struct ns_fds *n, int flag)
{
	for (size_t i = 0; i < NS_TYPES; i++)
		if (ns_types[i].flag == flag)
			return n->fd[i];
	return -1;
}

int ns_fds_enter(struct ns_fds *n, int flags, runk_error_t *err)
{
	for (size_t i = 0; i < NS_TYPES; i++) {
		if (!(flags & ns_types[i].flag) || n->fd[i] < 0)
			continue;
		if (setns(n->fd[i], ns_types[i].flag) < 0)
			return runk_error_errno(err, errno, "join the %s namespace",
						ns_types[i].oci);
		close(n->fd[i]);
		n->fd[i] = -1;
	}
	return 0;
}
