/*
 * The agent's event loop: frames from the host, SIGCHLD, the processes'
 * output and stdin, cgroup memory events (OOM kills), and a timer that
 * watches for the host to come back.
 *
 * Frames to the host are written with blocking writes: virtio-serial blocks
 * a writer while the host end is disconnected, which is the back-pressure
 * we want (no output is dropped; containers wait on full pipes meanwhile).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"

#define PORT_READ_SIZE	  (64 * 1024)
#define RECONNECT_POLL_NS (50 * 1000000L)

int agent_watch(struct agent *agent, int fd, uint32_t events, struct watch *watch,
		runk_error_t *err)
{
	struct epoll_event ev = {.events = events, .data.ptr = watch};

	if (epoll_ctl(agent->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return runk_error_errno(err, errno, "epoll add fd %d", fd);
	return 0;
}

void agent_unwatch(struct agent *agent, int fd)
{
	epoll_ctl(agent->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
}

int agent_send(struct agent *agent, unsigned int type, uint32_t id, const void *payload, size_t len)
{
	cleanup_error runk_error_t err = NULL;

	if (proto_frame_write(agent->port_fd, type, id, payload, len, &err) < 0) {
		agent_log_err("sending to the host", err);
		return -1;
	}
	return 0;
}

static void timer_arm(struct agent *agent, bool on)
{
	struct itimerspec its = {0};

	if (on) {
		its.it_value.tv_nsec = RECONNECT_POLL_NS;
		its.it_interval.tv_nsec = RECONNECT_POLL_NS;
	}
	timerfd_settime(agent->timer_fd, 0, &its, NULL);
}

/*
 * The host closed its end (a shim restarting, a VM saved as a template):
 * the port reports HUP until it reconnects, so stop watching it (epoll
 * would spin) and poll it from a timer instead.  A half-received frame is
 * dropped with the connection.
 */
static void port_disconnected(struct agent *agent)
{
	if (!agent->port_up)
		return;
	log_info("host disconnected from the agent port");
	agent_unwatch(agent, agent->port_fd);
	agent->port_up = false;
	proto_decoder_reset(&agent->decoder);
	timer_arm(agent, true);
}

static void port_check_reconnect(struct agent *agent)
{
	cleanup_error runk_error_t err = NULL;
	struct pollfd pfd = {.fd = agent->port_fd, .events = POLLIN};
	uint64_t ticks;

	if (read(agent->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_error("timerfd read: %s", strerror(errno));
	if (poll(&pfd, 1, 0) < 0 || (pfd.revents & POLLHUP))
		return;
	if (agent_watch(agent, agent->port_fd, EPOLLIN, &agent->port_watch, &err) < 0) {
		agent_log_err("watching the agent port", err);
		return;
	}
	agent->port_up = true;
	timer_arm(agent, false);
	log_info("host reconnected to the agent port");
}

static void frame_dispatch(struct agent *agent, const struct proto_frame *frame)
{
	switch (frame->type) {
	case PROTO_REQUEST:
		request_handle(agent, frame);
		break;
	case PROTO_STDIN:
		io_stdin_frame(agent, frame);
		break;
	default:
		/* The decoder only lets REQUEST and STDIN through from the host. */
		log_error("unexpected %s frame", proto_type_name(frame->type));
		break;
	}
}

static void port_readable(struct agent *agent)
{
	static uint8_t buf[PORT_READ_SIZE];
	cleanup_error runk_error_t err = NULL;
	struct proto_frame frame;
	ssize_t n = read(agent->port_fd, buf, sizeof(buf));
	int ret;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		port_disconnected(agent);
		return;
	}
	/* After a protocol error the rest of this connection is noise: drop it. */
	if (agent->decoder.failed)
		return;
	if (proto_decoder_feed(&agent->decoder, buf, (size_t)n, &err) < 0) {
		agent_log_err("frame from the host", err);
		return;
	}
	while ((ret = proto_decoder_next(&agent->decoder, &frame, &err)) == 1) {
		frame_dispatch(agent, &frame);
		proto_frame_clear(&frame);
	}
	if (ret < 0)
		agent_log_err("frame from the host", err);
}

static void signal_readable(struct agent *agent)
{
	struct signalfd_siginfo si;

	/* Drain: several SIGCHLDs coalesce, so reaping does not count them. */
	while (read(agent->signal_fd, &si, sizeof(si)) == sizeof(si))
		;
	container_reap_all(agent);
}

static void event_dispatch(struct agent *agent, const struct epoll_event *ev)
{
	struct watch *w = ev->data.ptr;

	switch (w->kind) {
	case WATCH_PORT:
		if (ev->events & EPOLLIN)
			port_readable(agent);
		else if (ev->events & (EPOLLHUP | EPOLLERR))
			port_disconnected(agent);
		break;
	case WATCH_SIGNAL:
		signal_readable(agent);
		break;
	case WATCH_TIMER:
		port_check_reconnect(agent);
		break;
	case WATCH_INOTIFY:
		cgroup_inotify_ready(agent);
		break;
	case WATCH_STDIN:
		io_stdin_writable(agent, w->proc);
		break;
	case WATCH_STDOUT:
		io_output_ready(agent, w->proc, &w->proc->out, PROTO_STDOUT);
		break;
	case WATCH_STDERR:
		io_output_ready(agent, w->proc, &w->proc->err, PROTO_STDERR);
		break;
	}
}

void agent_serve(struct agent *agent)
{
	cleanup_error runk_error_t err = NULL;
	struct epoll_event events[16];

	proto_decoder_init(&agent->decoder, PROTO_PEER_HOST);
	agent->port_watch.kind = WATCH_PORT;
	agent->signal_watch.kind = WATCH_SIGNAL;
	agent->timer_watch.kind = WATCH_TIMER;
	agent->inotify_watch.kind = WATCH_INOTIFY;
	agent->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (agent->epoll_fd < 0) {
		runk_error_errno(&err, errno, "epoll_create1");
		agent_fatal("event loop", err);
	}
	if (agent_watch(agent, agent->port_fd, EPOLLIN, &agent->port_watch, &err) < 0 ||
	    agent_watch(agent, agent->signal_fd, EPOLLIN, &agent->signal_watch, &err) < 0 ||
	    agent_watch(agent, agent->timer_fd, EPOLLIN, &agent->timer_watch, &err) < 0)
		agent_fatal("epoll", err);
	/* Without inotify the agent works, only OOM events are missing. */
	if (agent->inotify_fd >= 0 &&
	    agent_watch(agent, agent->inotify_fd, EPOLLIN, &agent->inotify_watch, &err) < 0) {
		agent_log_err("watching inotify", err);
		runk_error_free(&err);
	}
	agent->port_up = true;
	/* Children may have exited before the loop started watching. */
	container_reap_all(agent);
	for (;;) {
		int n = epoll_wait(agent->epoll_fd, events, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			runk_error_errno(&err, errno, "epoll_wait");
			agent_fatal("event loop", err);
		}
		for (int i = 0; i < n; i++)
			event_dispatch(agent, &events[i]);
		/* Only now: a later event of the same batch may name what died. */
		agent_sweep(agent);
	}
}
