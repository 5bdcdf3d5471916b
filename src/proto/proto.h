/*
 * The host <-> guest wire format (docs/protocol.md).  Compiled into the host
 * runk binary and into the guest agent.
 *
 * A frame is a 12-byte header in network byte order -- u32 payload length,
 * u16 type, u16 flags (always 0), u32 id -- followed by the payload.  The
 * host treats every frame from the guest as hostile: the decoder checks the
 * header before it buffers a single payload byte.
 */
#ifndef RUNK_PROTO_H
#define RUNK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "error.h"

#define PROTO_VERSION	     1
#define PROTO_HEADER_SIZE    12
#define PROTO_MAX_PAYLOAD    (1024 * 1024)
#define PROTO_MAX_PENDING    64
#define PROTO_JSON_MAX_DEPTH 32

enum proto_type {
	PROTO_HELLO = 1,    /* guest -> host, id 0, JSON */
	PROTO_REQUEST = 2,  /* host -> guest, id = request id >= 1, JSON */
	PROTO_RESPONSE = 3, /* guest -> host, id = the request's id, JSON */
	PROTO_STDIN = 4,    /* host -> guest, id = stream id, raw bytes, empty = EOF */
	PROTO_STDOUT = 5,   /* guest -> host, id = stream id, raw bytes, empty = EOF */
	PROTO_STDERR = 6,   /* guest -> host, id = stream id, raw bytes, empty = EOF */
	PROTO_EVENT = 7,    /* guest -> host, id = stream id, JSON */
};

/* Which side a decoder listens to: the types the other side may send. */
enum proto_peer {
	PROTO_PEER_ANY,	  /* accept every type (tests, tools) */
	PROTO_PEER_GUEST, /* the host decodes what the guest sends */
	PROTO_PEER_HOST,  /* the agent decodes what the host sends */
};

struct proto_frame {
	uint16_t type;
	uint32_t id;
	uint32_t len;
	/* len bytes plus a NUL (so JSON can be parsed in place); owned by the frame. */
	uint8_t *payload;
};

/* The name of a frame type ("HELLO", ...) or "unknown". */
const char *proto_type_name(unsigned int type);

/* Is a payload-JSON type (HELLO, REQUEST, RESPONSE, EVENT)? */
bool proto_type_is_json(unsigned int type);

/* Fill a 12-byte header.  Fails on a payload over PROTO_MAX_PAYLOAD or an unknown type. */
int proto_header_encode(uint8_t header[PROTO_HEADER_SIZE], unsigned int type, uint32_t id,
			size_t len, runk_error_t *err);

/*
 * Write one whole frame to a blocking fd, retrying partial writes and EINTR.
 * The header and payload go out in one writev when the fd takes it all.
 */
int proto_frame_write(int fd, unsigned int type, uint32_t id, const void *payload, size_t len,
		      runk_error_t *err);

/* Free a frame's payload and clear it; safe on a zeroed frame. */
void proto_frame_clear(struct proto_frame *frame);

/*
 * Streaming decoder: feed it bytes as they arrive, then take complete frames
 * with proto_decoder_next until it returns 0.  A rejected stream stays
 * rejected: the connection cannot be resynchronised and must be dropped.
 * Callers drain frames after each feed, so the buffer holds at most one read
 * plus one partial frame.
 */
struct proto_decoder {
	enum proto_peer peer;
	uint8_t *buf;
	size_t start; /* first unconsumed byte */
	size_t len;   /* end of valid bytes */
	size_t cap;
	bool failed;
};

void proto_decoder_init(struct proto_decoder *dec, enum proto_peer peer);
void proto_decoder_free(struct proto_decoder *dec);

/* Forget buffered bytes and any failure (the peer reconnected). */
void proto_decoder_reset(struct proto_decoder *dec);

/* Append bytes.  Fails if the stream already failed or a buffered header is invalid. */
int proto_decoder_feed(struct proto_decoder *dec, const void *data, size_t len, runk_error_t *err);

/* 1 and a frame (caller clears it), 0 if no complete frame is buffered, <0 on a bad frame. */
int proto_decoder_next(struct proto_decoder *dec, struct proto_frame *frame, runk_error_t *err);

/* The peer closed the stream: fails if a partial frame is left over. */
int proto_decoder_finish(struct proto_decoder *dec, runk_error_t *err);

/*
 * The requests the host sent and still waits for.  A RESPONSE whose id is
 * not pending is a protocol violation (a guest replaying or inventing ids).
 */
struct proto_pending {
	uint32_t next_id;
	size_t count;
	uint32_t ids[PROTO_MAX_PENDING];
};

void proto_pending_init(struct proto_pending *pending);

/* Allocate the next request id (>= 1, never one still pending) and mark it pending. */
int proto_pending_add(struct proto_pending *pending, uint32_t *id, runk_error_t *err);

/* A RESPONSE with this id arrived: unmark it, or fail if it was not pending. */
int proto_pending_take(struct proto_pending *pending, uint32_t id, runk_error_t *err);

bool proto_pending_contains(const struct proto_pending *pending, uint32_t id);

/*
 * JSON payloads.  proto_json_parse accepts one object, no NUL bytes, nesting
 * at most PROTO_JSON_MAX_DEPTH deep.  The getters fail on a missing key or a
 * value of the wrong type or out of range, naming the key.
 */
yajl_val proto_json_parse(const void *payload, size_t len, runk_error_t *err);

/* The member, or NULL when absent. */
yajl_val proto_json_find(yajl_val obj, const char *key);

int proto_json_get_string(yajl_val obj, const char *key, const char **out, runk_error_t *err);
int proto_json_get_int(yajl_val obj, const char *key, long long min, long long max, long long *out,
		       runk_error_t *err);
int proto_json_get_bool(yajl_val obj, const char *key, bool *out, runk_error_t *err);

/* As the getters above, but an absent key leaves *out as it was and succeeds. */
int proto_json_opt_int(yajl_val obj, const char *key, long long min, long long max, long long *out,
		       runk_error_t *err);
int proto_json_opt_bool(yajl_val obj, const char *key, bool *out, runk_error_t *err);

/*
 * Building a flat JSON object: new, add members, finish.  Strings that are
 * not valid UTF-8 have their invalid bytes replaced by '?' so the peer can
 * always parse the result.
 */
struct proto_json;

struct proto_json *proto_json_new(void);
void proto_json_add_string(struct proto_json *json, const char *key, const char *value);
void proto_json_add_int(struct proto_json *json, const char *key, long long value);
void proto_json_add_bool(struct proto_json *json, const char *key, bool value);
/* An array of integers ("pids":[1,2,3]). */
void proto_json_add_int_array(struct proto_json *json, const char *key, const long long *values,
			      size_t count);
/* An array of strings ("cmds":["sh","sleep 5"]); invalid UTF-8 is replaced as for strings. */
void proto_json_add_string_array(struct proto_json *json, const char *key,
				 const char *const *values, size_t count);
/* Any parsed JSON value, copied as it is (e.g. an OCI process object inside a request). */
void proto_json_add_value(struct proto_json *json, const char *key, yajl_val value);
/* The object text (NUL-terminated, caller frees) and its length; frees the builder. */
int proto_json_finish(struct proto_json *json, char **out, size_t *len, runk_error_t *err);
void proto_json_free(struct proto_json *json);

/*
 * The JSON text of a parsed value (NUL-terminated, caller frees), e.g. to
 * hand a member of a request to a parser that takes text (libocispec).
 */
int proto_json_value_text(yajl_val value, char **out, size_t *len, runk_error_t *err);

/* Request ids, stream ids and container ids. */
bool proto_container_id_valid(const char *id);

#endif
