/*
 * The processes behind streams: a container's init and the processes exec'd
 * into it.  Each has its stdio relayed on its stream and ends with one exit
 * EVENT, sent once it exited and its output is drained.  An exec'd process
 * is forgotten after that event (its stream may be reused); an init stays
 * until its container is deleted.
 *
 * Epoll events carry pointers to processes and one batch may hold several
 * for the same one, so nothing is freed in the middle of a batch:
 * agent_sweep frees what died once the batch is done.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "agent.h"
#include "ocispec.h"
#include "cleanup.h"

struct proc *proc_find_stream(struct agent *agent, uint32_t stream)
{
	for (struct proc *p = agent->procs; p; p = p->next)
		if (p->stream == stream && !p->dead)
			return p;
	return NULL;
}

struct proc *proc_new(struct agent *agent, struct container *c, uint32_t stream)
{
	struct proc *p = calloc(1, sizeof(*p));

	if (p == NULL)
		abort();
	p->container = c;
	p->stream = stream;
	p->tty_fd = p->in.fd = p->out.fd = p->err.fd = -1;
	p->in.watch = (struct watch){WATCH_STDIN, p};
	p->out.watch = (struct watch){WATCH_STDOUT, p};
	p->err.watch = (struct watch){WATCH_STDERR, p};
	p->next = agent->procs;
	agent->procs = p;
	return p;
}

int proc_watch(struct agent *agent, struct proc *p, runk_error_t *err)
{
	int fds[] = {p->in.fd, p->out.fd, p->err.fd};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	if (p->out.fd >= 0 && agent_watch(agent, p->out.fd, EPOLLIN, &p->out.watch, err) < 0)
		return -1;
	if (p->err.fd >= 0 && agent_watch(agent, p->err.fd, EPOLLIN, &p->err.watch, err) < 0)
		return -1;
	return 0;
}

static void out_close(struct agent *agent, struct out_stream *s)
{
	if (s->fd < 0)
		return;
	agent_unwatch(agent, s->fd);
	close(s->fd);
	s->fd = -1;
}

void proc_kill_streams(struct agent *agent, struct proc *p)
{
	io_close_stdin(agent, p);
	out_close(agent, &p->out);
	out_close(agent, &p->err);
	if (p->tty_fd >= 0)
		close(p->tty_fd);
	p->tty_fd = -1;
	p->dead = true;
}

void proc_maybe_report_exit(struct agent *agent, struct proc *p)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_free char *text = NULL;
	struct proto_json *json;
	size_t len;

	if (!p->exited || p->event_sent || p->dead || p->out.fd >= 0 || p->err.fd >= 0)
		return;
	/* An init killed by the OOM killer: the host hears of the OOM before the exit. */
	if (p->container && p->container->init == p)
		cgroup_oom_check(agent, p->container);
	json = proto_json_new();
	proto_json_add_string(json, "event", "exit");
	proto_json_add_int(json, "status", p->exit_status);
	proto_json_add_int(json, "signal", p->exit_signal);
	if (proto_json_finish(json, &text, &len, &err) < 0) {
		agent_log_err("exit event", err);
		return;
	}
	p->event_sent = true;
	log_info("stream %u (pid %d) exited: status %d signal %d", p->stream, (int)p->pid,
		 p->exit_status, p->exit_signal);
	agent_send(agent, PROTO_EVENT, p->stream, text, len);
	if (p->container == NULL || p->container->init != p)
		proc_kill_streams(agent, p);
}

void agent_sweep(struct agent *agent)
{
	struct proc **pp = &agent->procs;

	while (*pp) {
		struct proc *p = *pp;

		if (!p->dead) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		free(p);
	}
	while (agent->graveyard) {
		struct container *c = agent->graveyard;

		agent->graveyard = c->next;
		free(c->id);
		free(c->cgroup);
		oci_config_free(c->cfg);
		free(c);
	}
}
