/*
 * libFuzzer target for the frame decoder and the JSON payload reader: the
 * code that sees every byte a hostile guest sends.  The first input byte
 * picks the chunk size, so frames are also fed split at arbitrary points.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"

static void check_frame(const struct proto_frame *frame, struct proto_pending *pending)
{
	runk_error_t err = NULL;
	const char *s;
	long long n;
	bool b;
	yajl_val v;

	if (frame->len > PROTO_MAX_PAYLOAD || frame->payload[frame->len] != '\0')
		abort();
	if (frame->type == PROTO_RESPONSE)
		proto_pending_take(pending, frame->id, &err);
	runk_error_free(&err);
	if (!proto_type_is_json(frame->type))
		return;
	v = proto_json_parse(frame->payload, frame->len, &err);
	runk_error_free(&err);
	if (v == NULL)
		return;
	proto_json_get_string(v, "error", &s, &err);
	runk_error_free(&err);
	proto_json_get_int(v, "status", 0, 255, &n, &err);
	runk_error_free(&err);
	proto_json_get_bool(v, "ok", &b, &err);
	runk_error_free(&err);
	yajl_tree_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_decoder dec;
	struct proto_pending pending;
	struct proto_frame frame;
	runk_error_t err = NULL;
	size_t chunk, off = 0;
	uint32_t id;

	if (size == 0)
		return 0;
	chunk = data[0] ? data[0] : size;
	data++, size--;
	proto_decoder_init(&dec, PROTO_PEER_GUEST);
	proto_pending_init(&pending);
	for (int i = 0; i < 4; i++)
		proto_pending_add(&pending, &id, &err);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		int ret;

		if (proto_decoder_feed(&dec, data + off, n, &err) < 0)
			break;
		off += n;
		while ((ret = proto_decoder_next(&dec, &frame, &err)) == 1) {
			check_frame(&frame, &pending);
			proto_frame_clear(&frame);
		}
		if (ret < 0)
			break;
	}
	if (err == NULL)
		proto_decoder_finish(&dec, &err);
	runk_error_free(&err);
	proto_decoder_free(&dec);
	return 0;
}
