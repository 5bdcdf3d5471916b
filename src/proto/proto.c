/* The host <-> guest frame format: encoder, streaming decoder, pending ids. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cleanup.h"
#include "proto.h"

static const char *const type_names[] = {
	[PROTO_HELLO] = "HELLO", [PROTO_REQUEST] = "REQUEST", [PROTO_RESPONSE] = "RESPONSE",
	[PROTO_STDIN] = "STDIN", [PROTO_STDOUT] = "STDOUT",   [PROTO_STDERR] = "STDERR",
	[PROTO_EVENT] = "EVENT",
};

static bool type_known(unsigned int type)
{
	return type >= PROTO_HELLO && type <= PROTO_EVENT;
}

const char *proto_type_name(unsigned int type)
{
	return type_known(type) ? type_names[type] : "unknown";
}

bool proto_type_is_json(unsigned int type)
{
	return type == PROTO_HELLO || type == PROTO_REQUEST || type == PROTO_RESPONSE ||
	       type == PROTO_EVENT;
}

/* The types each peer may send; anything else from it is a protocol violation. */
static bool type_allowed(enum proto_peer peer, unsigned int type)
{
	switch (peer) {
	case PROTO_PEER_GUEST:
		return type == PROTO_HELLO || type == PROTO_RESPONSE || type == PROTO_STDOUT ||
		       type == PROTO_STDERR || type == PROTO_EVENT;
	case PROTO_PEER_HOST:
		return type == PROTO_REQUEST || type == PROTO_STDIN;
	case PROTO_PEER_ANY:
		return type_known(type);
	}
	return false;
}

int proto_header_encode(uint8_t header[PROTO_HEADER_SIZE], unsigned int type, uint32_t id,
			size_t len, runk_error_t *err)
{
	uint32_t be32;
	uint16_t be16;

	if (!type_known(type))
		return runk_error(err, "cannot send a frame of unknown type %u", type);
	if (len > PROTO_MAX_PAYLOAD)
		return runk_error(err, "%s frame payload of %zu bytes exceeds the %d byte limit",
				  proto_type_name(type), len, PROTO_MAX_PAYLOAD);
	be32 = htonl((uint32_t)len);
	memcpy(header, &be32, 4);
	be16 = htons((uint16_t)type);
	memcpy(header + 4, &be16, 2);
	be16 = 0;
	memcpy(header + 6, &be16, 2);
	be32 = htonl(id);
	memcpy(header + 8, &be32, 4);
	return 0;
}

int proto_frame_write(int fd, unsigned int type, uint32_t id, const void *payload, size_t len,
		      runk_error_t *err)
{
	uint8_t header[PROTO_HEADER_SIZE];
	struct iovec iov[2];
	size_t done = 0, total = PROTO_HEADER_SIZE + len;

	if (proto_header_encode(header, type, id, len, err) < 0)
		return -1;
	while (done < total) {
		ssize_t n;
		int cnt = 0;

		if (done < PROTO_HEADER_SIZE) {
			iov[cnt].iov_base = header + done;
			iov[cnt++].iov_len = PROTO_HEADER_SIZE - done;
		}
		if (len > 0) {
			size_t off = done > PROTO_HEADER_SIZE ? done - PROTO_HEADER_SIZE : 0;

			iov[cnt].iov_base = (uint8_t *)payload + off;
			iov[cnt++].iov_len = len - off;
		}
		n = writev(fd, iov, cnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return runk_error_errno(err, errno, "write %s frame",
						proto_type_name(type));
		if (n == 0)
			return runk_error(err, "write %s frame: wrote nothing",
					  proto_type_name(type));
		done += (size_t)n;
	}
	return 0;
}

void proto_frame_clear(struct proto_frame *frame)
{
	free(frame->payload);
	memset(frame, 0, sizeof(*frame));
}

void proto_decoder_init(struct proto_decoder *dec, enum proto_peer peer)
{
	memset(dec, 0, sizeof(*dec));
	dec->peer = peer;
}

void proto_decoder_free(struct proto_decoder *dec)
{
	free(dec->buf);
	proto_decoder_init(dec, dec->peer);
}

void proto_decoder_reset(struct proto_decoder *dec)
{
	dec->start = dec->len = 0;
	dec->failed = false;
}

struct header {
	uint32_t len;
	uint16_t type;
	uint16_t flags;
	uint32_t id;
};

static void header_decode(const uint8_t *p, struct header *h)
{
	uint32_t be32;
	uint16_t be16;

	memcpy(&be32, p, 4);
	h->len = ntohl(be32);
	memcpy(&be16, p + 4, 2);
	h->type = ntohs(be16);
	memcpy(&be16, p + 6, 2);
	h->flags = ntohs(be16);
	memcpy(&be32, p + 8, 4);
	h->id = ntohl(be32);
}

/* Every check on a header, in one place, before any payload is buffered for it. */
static int header_check(struct proto_decoder *dec, const struct header *h, runk_error_t *err)
{
	if (!type_known(h->type))
		return runk_error(err, "frame of unknown type %u", h->type);
	if (!type_allowed(dec->peer, h->type))
		return runk_error(err, "%s frame not allowed from the %s", proto_type_name(h->type),
				  dec->peer == PROTO_PEER_GUEST ? "guest" : "host");
	if (h->flags != 0)
		return runk_error(err, "%s frame with flags 0x%x (must be 0)",
				  proto_type_name(h->type), h->flags);
	if (h->len > PROTO_MAX_PAYLOAD)
		return runk_error(err, "%s frame payload of %u bytes exceeds the %d byte limit",
				  proto_type_name(h->type), h->len, PROTO_MAX_PAYLOAD);
	if (h->type == PROTO_HELLO && h->id != 0)
		return runk_error(err, "HELLO frame with id %u (must be 0)", h->id);
	if ((h->type == PROTO_REQUEST || h->type == PROTO_RESPONSE) && h->id == 0)
		return runk_error(err, "%s frame with id 0", proto_type_name(h->type));
	return 0;
}

static int decoder_fail(struct proto_decoder *dec, runk_error_t *err)
{
	dec->failed = true;
	return runk_error_prefix(err, "protocol error");
}

/* Check the header at the front of the buffer as soon as it is complete. */
static int decoder_check_front(struct proto_decoder *dec, runk_error_t *err)
{
	struct header h;

	if (dec->len - dec->start < PROTO_HEADER_SIZE)
		return 0;
	header_decode(dec->buf + dec->start, &h);
	if (header_check(dec, &h, err) < 0)
		return decoder_fail(dec, err);
	return 0;
}

int proto_decoder_feed(struct proto_decoder *dec, const void *data, size_t len, runk_error_t *err)
{
	if (dec->failed)
		return runk_error(err, "protocol error: the stream was already rejected");
	if (len == 0)
		return 0;
	/* Move the unconsumed tail to the front before growing. */
	if (dec->start > 0) {
		memmove(dec->buf, dec->buf + dec->start, dec->len - dec->start);
		dec->len -= dec->start;
		dec->start = 0;
	}
	if (len > SIZE_MAX - dec->len)
		return runk_error(err, "protocol decoder buffer overflow");
	if (dec->len + len > dec->cap) {
		size_t cap = dec->cap ? dec->cap : 4096;
		uint8_t *buf;

		while (cap < dec->len + len)
			cap *= 2;
		buf = realloc(dec->buf, cap);
		if (buf == NULL)
			return runk_error_errno(err, ENOMEM, "protocol decoder buffer");
		dec->buf = buf;
		dec->cap = cap;
	}
	memcpy(dec->buf + dec->len, data, len);
	dec->len += len;
	return decoder_check_front(dec, err);
}

int proto_decoder_next(struct proto_decoder *dec, struct proto_frame *frame, runk_error_t *err)
{
	struct header h;
	size_t avail = dec->len - dec->start;

	memset(frame, 0, sizeof(*frame));
	if (dec->failed)
		return runk_error(err, "protocol error: the stream was already rejected");
	if (avail < PROTO_HEADER_SIZE)
		return 0;
	header_decode(dec->buf + dec->start, &h);
	if (header_check(dec, &h, err) < 0)
		return decoder_fail(dec, err);
	if (avail - PROTO_HEADER_SIZE < h.len)
		return 0;
	frame->payload = malloc((size_t)h.len + 1);
	if (frame->payload == NULL)
		return runk_error_errno(err, ENOMEM, "frame payload");
	memcpy(frame->payload, dec->buf + dec->start + PROTO_HEADER_SIZE, h.len);
	frame->payload[h.len] = '\0';
	frame->type = h.type;
	frame->id = h.id;
	frame->len = h.len;
	dec->start += PROTO_HEADER_SIZE + (size_t)h.len;
	if (dec->start == dec->len)
		dec->start = dec->len = 0;
	/* Reject a bad next header now rather than after more bytes arrive. */
	if (decoder_check_front(dec, err) < 0) {
		proto_frame_clear(frame);
		return -1;
	}
	return 1;
}

int proto_decoder_finish(struct proto_decoder *dec, runk_error_t *err)
{
	size_t avail = dec->len - dec->start;

	if (dec->failed)
		return runk_error(err, "protocol error: the stream was already rejected");
	if (avail > 0) {
		dec->failed = true;
		return runk_error(
			err, "protocol error: stream ended inside a frame (%zu bytes left)", avail);
	}
	return 0;
}

void proto_pending_init(struct proto_pending *pending)
{
	memset(pending, 0, sizeof(*pending));
	pending->next_id = 1;
}

bool proto_pending_contains(const struct proto_pending *pending, uint32_t id)
{
	for (size_t i = 0; i < pending->count; i++)
		if (pending->ids[i] == id)
			return true;
	return false;
}

int proto_pending_add(struct proto_pending *pending, uint32_t *id, runk_error_t *err)
{
	if (pending->count >= PROTO_MAX_PENDING)
		return runk_error(err, "too many outstanding agent requests (%d)",
				  PROTO_MAX_PENDING);
	/* Ids wrap after 2^32 - 1 requests; skip 0 and any id still waiting. */
	do {
		*id = pending->next_id++;
		if (pending->next_id == 0)
			pending->next_id = 1;
	} while (*id == 0 || proto_pending_contains(pending, *id));
	pending->ids[pending->count++] = *id;
	return 0;
}

int proto_pending_take(struct proto_pending *pending, uint32_t id, runk_error_t *err)
{
	for (size_t i = 0; i < pending->count; i++) {
		if (pending->ids[i] == id) {
			pending->ids[i] = pending->ids[--pending->count];
			return 0;
		}
	}
	return runk_error(err, "protocol error: RESPONSE to request %u, which is not pending", id);
}

bool proto_container_id_valid(const char *id)
{
	size_t n;

	if (id == NULL || id[0] == '\0')
		return false;
	n = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+-");
	if (id[n] != '\0')
		return false;
	/* The first character is alphanumeric: no ".", "..", or leading dash. */
	return strchr("_.+-", id[0]) == NULL && n <= 1024;
}
