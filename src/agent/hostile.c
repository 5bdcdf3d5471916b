/*
 * runk-agent-hostile: a test-only guest agent that breaks the protocol on
 * purpose, so the tests can show what the host does with a guest it cannot
 * trust (bats/hostile-guest.bats).  `make guest-hostile` packs it as /init of
 * guest/out-hostile/initrd.cpio; it never goes into the real image.
 *
 * It answers requests well enough for runk to get a container created and
 * started (it runs nothing: create and exec get a made-up pid, a signal ends
 * the "process" with an exit event), until the request named by
 * runk.hostile_at=OP (default create) arrives.  Then it does what
 * runk.hostile=MODE on the kernel command line says:
 *
 *   oversized     a RESPONSE header announcing 16 MiB, then 16 MiB of bytes
 *   truncated     half of a RESPONSE frame, then it powers the VM off
 *   unknown-type  a frame of type 99 instead of the RESPONSE
 *   bad-json      a RESPONSE whose payload is not JSON
 *   unsolicited   a RESPONSE to request 4242 (never made), then the right one
 *   foreign-exit  the right RESPONSE, then an exit EVENT for stream 77, which
 *                 is not its container's
 *   flood         the right RESPONSE, then EVENT frames of almost 1 MiB with
 *                 no end (each one legal, of an event name the host ignores),
 *                 still answering requests in between
 *   silent        no RESPONSE, ever
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"

#define FOREIGN_STREAM 77
#define UNSOLICITED_ID 4242
#define OVERSIZED_LEN  (16u * 1024 * 1024)
#define UNKNOWN_TYPE   99
#define FLOOD_PAD      (PROTO_MAX_PAYLOAD - 64)

struct hostile {
	int port;
	char mode[32];
	char at[32];
	bool triggered;
	bool flooding;
	struct proto_decoder decoder;
};

/* The value of KEY=... on the kernel command line, or "" (at most size - 1 bytes). */
static void cmdline_value(const char *key, char *out, size_t size)
{
	char buf[4096] = "";
	cleanup_close int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	size_t klen = strlen(key);

	out[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (char *p = buf; (p = strstr(p, key)) != NULL; p += klen) {
		if ((p == buf || p[-1] == ' ') && p[klen] == '=') {
			size_t len = strcspn(p + klen + 1, " \n");

			if (len >= size)
				len = size - 1;
			memcpy(out, p + klen + 1, len);
			out[len] = '\0';
			return;
		}
	}
}

static void send_frame(struct hostile *h, unsigned int type, uint32_t id, const char *text)
{
	cleanup_error runk_error_t err = NULL;

	if (proto_frame_write(h->port, type, id, text, strlen(text), &err) < 0)
		agent_log_err("hostile: write a frame", err);
}

/* Bytes as they are, past the encoder's checks: for headers the encoder would refuse. */
static void send_raw(struct hostile *h, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(h->port, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void raw_header(uint8_t out[PROTO_HEADER_SIZE], uint32_t len, uint16_t type, uint32_t id)
{
	uint8_t bytes[PROTO_HEADER_SIZE] = {
		len >> 24, len >> 16, len >> 8, len,	  type >> 8, type,
		0,	   0,	      id >> 24, id >> 16, id >> 8,   id,
	};

	memcpy(out, bytes, sizeof(bytes));
}

/* The normal, well-formed answer to a request, and what follows it (exit events). */
static void answer(struct hostile *h, uint32_t id, const char *op, yajl_val req)
{
	long long stream = 1, signo = 0;
	char event[96];

	if (strcmp(op, "create") == 0 || strcmp(op, "exec") == 0) {
		send_frame(h, PROTO_RESPONSE, id, "{\"ok\":true,\"pid\":2}");
		if (strcmp(op, "exec") == 0) {
			/* The exec'd "process" ends at once: EOF on both streams, then its exit. */
			proto_json_opt_int(req, "stream", 1, UINT32_MAX, &stream, NULL);
			proto_frame_write(h->port, PROTO_STDOUT, (uint32_t)stream, NULL, 0, NULL);
			proto_frame_write(h->port, PROTO_STDERR, (uint32_t)stream, NULL, 0, NULL);
			send_frame(h, PROTO_EVENT, (uint32_t)stream,
				   "{\"event\":\"exit\",\"status\":0,\"signal\":0}");
		}
		return;
	}
	send_frame(h, PROTO_RESPONSE, id, "{\"ok\":true}");
	if (strcmp(op, "signal") == 0) {
		/* Every signal "kills" the init: the container stops as runk expects. */
		proto_json_opt_int(req, "signal", 1, 64, &signo, NULL);
		proto_json_opt_int(req, "stream", 1, UINT32_MAX, &stream, NULL);
		snprintf(event, sizeof(event),
			 "{\"event\":\"exit\",\"status\":%lld,\"signal\":%lld}", 128 + signo,
			 signo);
		send_frame(h, PROTO_EVENT, (uint32_t)stream, event);
	} else if (strcmp(op, "shutdown") == 0) {
		sync();
		reboot(RB_POWER_OFF);
	}
}

static void misbehave(struct hostile *h, uint32_t id, const char *op, yajl_val req)
{
	uint8_t header[PROTO_HEADER_SIZE];
	static char junk[65536];
	char event[96];

	log_error("hostile: mode %s on `%s` (request %u)", h->mode, op, id);
	if (strcmp(h->mode, "oversized") == 0) {
		memset(junk, 'A', sizeof(junk));
		raw_header(header, OVERSIZED_LEN, PROTO_RESPONSE, id);
		send_raw(h, header, sizeof(header));
		for (size_t sent = 0; sent < OVERSIZED_LEN; sent += sizeof(junk))
			send_raw(h, junk, sizeof(junk));
	} else if (strcmp(h->mode, "truncated") == 0) {
		static const char text[] = "{\"ok\":true,\"pid\":2}";

		raw_header(header, sizeof(text) - 1, PROTO_RESPONSE, id);
		send_raw(h, header, sizeof(header));
		send_raw(h, text, (sizeof(text) - 1) / 2);
		sleep(1); /* let QEMU pass the bytes on before it goes */
		agent_power_off();
	} else if (strcmp(h->mode, "unknown-type") == 0) {
		raw_header(header, 2, UNKNOWN_TYPE, id);
		send_raw(h, header, sizeof(header));
		send_raw(h, "{}", 2);
	} else if (strcmp(h->mode, "bad-json") == 0) {
		send_frame(h, PROTO_RESPONSE, id, "{\"ok\":tru");
	} else if (strcmp(h->mode, "unsolicited") == 0) {
		send_frame(h, PROTO_RESPONSE, UNSOLICITED_ID, "{\"ok\":true}");
		answer(h, id, op, req);
	} else if (strcmp(h->mode, "foreign-exit") == 0) {
		answer(h, id, op, req);
		usleep(300000);
		snprintf(event, sizeof(event), "{\"event\":\"exit\",\"status\":0,\"signal\":0}");
		send_frame(h, PROTO_EVENT, FOREIGN_STREAM, event);
	} else if (strcmp(h->mode, "flood") == 0) {
		answer(h, id, op, req);
		h->flooding = true;
	} else if (strcmp(h->mode, "silent") == 0) {
		/* Nothing: the host waits for a reply that never comes. */
	} else {
		log_error("hostile: unknown mode `%s`: behaving", h->mode);
		answer(h, id, op, req);
	}
}

static void on_request(struct hostile *h, const struct proto_frame *frame)
{
	cleanup_error runk_error_t err = NULL;
	yajl_val req = proto_json_parse(frame->payload, frame->len, &err);
	const char *op = "?";

	if (req != NULL)
		proto_json_get_string(req, "op", &op, NULL);
	if (!h->triggered && strcmp(op, h->at) == 0) {
		h->triggered = true;
		misbehave(h, frame->id, op, req);
	} else if (!h->triggered || strcmp(h->mode, "silent") != 0) {
		answer(h, frame->id, op, req);
	}
	if (req)
		yajl_tree_free(req);
}

/* Read what the host sent (waiting up to timeout_ms) and answer every whole request. */
static void serve_once(struct hostile *h, int timeout_ms)
{
	struct pollfd pfd = {.fd = h->port, .events = POLLIN};
	cleanup_error runk_error_t err = NULL;
	struct proto_frame frame;
	char buf[65536];
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0 || !(pfd.revents & POLLIN))
		return;
	n = read(h->port, buf, sizeof(buf));
	if (n <= 0)
		return;
	if (proto_decoder_feed(&h->decoder, buf, (size_t)n, &err) < 0) {
		proto_decoder_reset(&h->decoder);
		return;
	}
	while (proto_decoder_next(&h->decoder, &frame, &err) == 1) {
		if (frame.type == PROTO_REQUEST)
			on_request(h, &frame);
		proto_frame_clear(&frame);
	}
	if (err)
		proto_decoder_reset(&h->decoder);
}

/* {"event":"noise","pad":"xxx…"}: as large as a frame may be. */
static const char *flood_event(void)
{
	static char *text;

	if (text == NULL) {
		text = malloc(FLOOD_PAD + 64);
		if (text == NULL)
			agent_power_off();
		strcpy(text, "{\"event\":\"noise\",\"pad\":\"");
		memset(text + strlen(text), 'x', FLOOD_PAD);
		strcpy(text + strlen("{\"event\":\"noise\",\"pad\":\"") + FLOOD_PAD, "\"}");
	}
	return text;
}

static void mount_basics(void)
{
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, "mode=0755");
}

int main(void)
{
	cleanup_error runk_error_t err = NULL;
	struct hostile h = {.port = -1};

	signal(SIGPIPE, SIG_IGN);
	mount_basics();
	agent_log_open();
	cmdline_value("runk.hostile", h.mode, sizeof(h.mode));
	cmdline_value("runk.hostile_at", h.at, sizeof(h.at));
	if (h.at[0] == '\0')
		strcpy(h.at, "create");
	log_error("hostile agent: mode `%s` at `%s`", h.mode, h.at);
	if (modules_load(AGENT_MODULES_ORDER, &err) < 0)
		agent_fatal("loading kernel modules", err);
	h.port = port_open(&err);
	if (h.port < 0)
		agent_fatal("opening the agent port", err);
	proto_decoder_init(&h.decoder, PROTO_PEER_HOST);
	send_frame(&h, PROTO_HELLO, 0, "{\"version\":1,\"kernel\":\"hostile\"}");
	for (;;) {
		if (!h.flooding) {
			serve_once(&h, -1);
			continue;
		}
		send_frame(&h, PROTO_EVENT, 1, flood_event());
		serve_once(&h, 0);
	}
}
