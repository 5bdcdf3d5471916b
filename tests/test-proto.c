/* Unit tests of the host <-> guest frame format (src/proto). */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "proto.h"
#include "testlib.h"

/* Write one frame through a pipe and read back the bytes. */
static size_t encode(unsigned int type, uint32_t id, const void *payload, size_t len, uint8_t *out,
		     size_t cap)
{
	cleanup_error runk_error_t err = NULL;
	int fds[2];
	size_t got = 0;
	ssize_t n;

	if (pipe(fds) < 0)
		abort();
	if (proto_frame_write(fds[1], type, id, payload, len, &err) < 0)
		abort();
	close(fds[1]);
	while ((n = read(fds[0], out + got, cap - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	return got;
}

static void raw_header(uint8_t *h, uint32_t len, uint16_t type, uint16_t flags, uint32_t id)
{
	uint32_t l = htonl(len), i = htonl(id);
	uint16_t t = htons(type), f = htons(flags);

	memcpy(h, &l, 4);
	memcpy(h + 4, &t, 2);
	memcpy(h + 6, &f, 2);
	memcpy(h + 8, &i, 4);
}

static void test_round_trip(void)
{
	static const struct {
		unsigned int type;
		uint32_t id;
		const char *payload;
	} cases[] = {
		{PROTO_HELLO, 0, "{\"version\":1,\"kernel\":\"6.1.0\"}"},
		{PROTO_REQUEST, 1, "{\"op\":\"ping\"}"},
		{PROTO_RESPONSE, 1, "{\"ok\":true}"},
		{PROTO_STDIN, 7, "input\n"},
		{PROTO_STDOUT, 7, "out\0put"},
		{PROTO_STDERR, 7, "err"},
		{PROTO_EVENT, 7, "{\"event\":\"exit\",\"status\":0,\"signal\":0}"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_error runk_error_t err = NULL;
		struct proto_decoder dec;
		struct proto_frame frame;
		uint8_t buf[256];
		size_t plen = cases[i].type == PROTO_STDOUT ? 7 : strlen(cases[i].payload);
		size_t n = encode(cases[i].type, cases[i].id, cases[i].payload, plen, buf,
				  sizeof(buf));
		int ret;

		ok(n == PROTO_HEADER_SIZE + plen, "%s: encoded size",
		   proto_type_name(cases[i].type));
		proto_decoder_init(&dec, PROTO_PEER_ANY);
		proto_decoder_feed(&dec, buf, n, &err);
		ret = proto_decoder_next(&dec, &frame, &err);
		ok(ret == 1 && frame.type == cases[i].type && frame.id == cases[i].id &&
			   frame.len == plen && memcmp(frame.payload, cases[i].payload, plen) == 0,
		   "%s: round trip", proto_type_name(cases[i].type));
		proto_frame_clear(&frame);
		ok(proto_decoder_next(&dec, &frame, &err) == 0 &&
			   proto_decoder_finish(&dec, &err) == 0 && err == NULL,
		   "%s: nothing left", proto_type_name(cases[i].type));
		proto_decoder_free(&dec);
	}
}

static void test_byte_by_byte(void)
{
	cleanup_error runk_error_t err = NULL;
	struct proto_decoder dec;
	struct proto_frame frame;
	uint8_t buf[256];
	size_t n = 0;
	int frames = 0, bad = 0;

	n += encode(PROTO_STDOUT, 3, "hello", 5, buf + n, sizeof(buf) - n);
	n += encode(PROTO_STDOUT, 3, "", 0, buf + n, sizeof(buf) - n);
	n += encode(PROTO_EVENT, 3, "{\"event\":\"exit\"}", 16, buf + n, sizeof(buf) - n);
	proto_decoder_init(&dec, PROTO_PEER_GUEST);
	for (size_t i = 0; i < n; i++) {
		if (proto_decoder_feed(&dec, buf + i, 1, &err) < 0)
			bad++;
		while (proto_decoder_next(&dec, &frame, &err) == 1) {
			if (frames == 0 &&
			    !(frame.len == 5 && memcmp(frame.payload, "hello", 5) == 0))
				bad++;
			if (frames == 1 && frame.len != 0)
				bad++;
			if (frames == 2 && frame.type != PROTO_EVENT)
				bad++;
			/* A frame must not be yielded before its last byte arrived. */
			if (frames == 0 && i != PROTO_HEADER_SIZE + 5 - 1)
				bad++;
			frames++;
			proto_frame_clear(&frame);
		}
	}
	ok(frames == 3 && bad == 0 && err == NULL, "byte-by-byte feeding yields 3 frames in order");
	ok(proto_decoder_finish(&dec, &err) == 0, "clean end after byte-by-byte feeding");
	proto_decoder_free(&dec);
}

static int decode_one(const uint8_t *buf, size_t n, enum proto_peer peer, struct proto_frame *frame,
		      runk_error_t *err)
{
	struct proto_decoder dec;
	int ret;

	proto_decoder_init(&dec, peer);
	ret = proto_decoder_feed(&dec, buf, n, err);
	if (ret == 0)
		ret = proto_decoder_next(&dec, frame, err);
	proto_decoder_free(&dec);
	return ret;
}

static void test_limits(void)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_free uint8_t *big = calloc(1, PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD + 1);
	struct proto_frame frame = {0};
	uint8_t header[PROTO_HEADER_SIZE];
	int ret;

	raw_header(big, PROTO_MAX_PAYLOAD, PROTO_STDOUT, 0, 1);
	big[PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD - 1] = 'x';
	ret = decode_one(big, PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD, PROTO_PEER_ANY, &frame, &err);
	ok(ret == 1 && frame.len == PROTO_MAX_PAYLOAD &&
		   frame.payload[PROTO_MAX_PAYLOAD - 1] == 'x',
	   "payload of exactly 1 MiB accepted");
	proto_frame_clear(&frame);

	raw_header(big, PROTO_MAX_PAYLOAD + 1, PROTO_STDOUT, 0, 1);
	/* Only the header: the decoder must refuse before buffering the payload. */
	ret = decode_one(big, PROTO_HEADER_SIZE, PROTO_PEER_ANY, &frame, &err);
	ok(ret < 0 && err && strstr(err->msg, "exceeds"), "payload of 1 MiB + 1 rejected");
	runk_error_free(&err);

	ret = proto_header_encode(header, PROTO_STDOUT, 1, PROTO_MAX_PAYLOAD + 1, &err);
	ok(ret < 0, "encoder refuses 1 MiB + 1");
	runk_error_free(&err);
	ret = proto_header_encode(header, PROTO_STDOUT, 1, PROTO_MAX_PAYLOAD, &err);
	ok(ret == 0, "encoder takes 1 MiB");

	ret = proto_frame_write(-1, 99, 1, "", 0, &err);
	ok(ret < 0 && err && strstr(err->msg, "unknown type"), "encoder refuses an unknown type");
	runk_error_free(&err);
}

static void test_bad_headers(void)
{
	static const struct {
		uint16_t type, flags;
		uint32_t id;
		enum proto_peer peer;
		const char *what, *name;
	} cases[] = {
		{0, 0, 1, PROTO_PEER_ANY, "unknown type", "type 0"},
		{8, 0, 1, PROTO_PEER_ANY, "unknown type", "type 8"},
		{0xffff, 0, 1, PROTO_PEER_ANY, "unknown type", "type 65535"},
		{PROTO_STDOUT, 1, 1, PROTO_PEER_ANY, "flags", "flags 1"},
		{PROTO_STDOUT, 0x8000, 1, PROTO_PEER_ANY, "flags", "flags 0x8000"},
		{PROTO_HELLO, 0, 5, PROTO_PEER_ANY, "id 5", "HELLO with an id"},
		{PROTO_RESPONSE, 0, 0, PROTO_PEER_ANY, "id 0", "RESPONSE with id 0"},
		{PROTO_REQUEST, 0, 1, PROTO_PEER_GUEST, "not allowed", "REQUEST from the guest"},
		{PROTO_STDIN, 0, 1, PROTO_PEER_GUEST, "not allowed", "STDIN from the guest"},
		{PROTO_STDOUT, 0, 1, PROTO_PEER_HOST, "not allowed", "STDOUT from the host"},
		{PROTO_HELLO, 0, 0, PROTO_PEER_HOST, "not allowed", "HELLO from the host"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_error runk_error_t err = NULL;
		struct proto_frame frame = {0};
		uint8_t buf[PROTO_HEADER_SIZE];
		int ret;

		raw_header(buf, 0, cases[i].type, cases[i].flags, cases[i].id);
		ret = decode_one(buf, sizeof(buf), cases[i].peer, &frame, &err);
		ok(ret < 0 && err && strstr(err->msg, cases[i].what) && frame.payload == NULL,
		   "rejected: %s", cases[i].name);
		if (err)
			printf("#   %s\n", err->msg);
	}
}

static void test_bad_second_frame(void)
{
	cleanup_error runk_error_t err = NULL;
	struct proto_decoder dec;
	struct proto_frame frame;
	uint8_t buf[64];
	size_t n = encode(PROTO_STDOUT, 1, "ab", 2, buf, sizeof(buf));
	int ret;

	raw_header(buf + n, 0, PROTO_STDOUT, 4, 1);
	proto_decoder_init(&dec, PROTO_PEER_ANY);
	ret = proto_decoder_feed(&dec, buf, n + PROTO_HEADER_SIZE, &err);
	ok(ret == 0, "good frame followed by a bad header: feed accepts the first");
	ret = proto_decoder_next(&dec, &frame, &err);
	ok(ret < 0 && frame.payload == NULL, "the bad header behind it is reported");
	runk_error_free(&err);
	ret = proto_decoder_feed(&dec, buf, n, &err);
	ok(ret < 0, "a rejected stream stays rejected");
	runk_error_free(&err);
	proto_decoder_reset(&dec);
	ret = proto_decoder_feed(&dec, buf, n, &err);
	ok(ret == 0 && proto_decoder_next(&dec, &frame, &err) == 1, "reset accepts a new stream");
	proto_frame_clear(&frame);
	proto_decoder_free(&dec);
}

static void test_truncated(void)
{
	cleanup_error runk_error_t err = NULL;
	struct proto_decoder dec;
	struct proto_frame frame;
	uint8_t buf[64];
	size_t n = encode(PROTO_STDERR, 2, "abcdef", 6, buf, sizeof(buf));

	for (size_t cut = 1; cut < n; cut++) {
		proto_decoder_init(&dec, PROTO_PEER_ANY);
		proto_decoder_feed(&dec, buf, cut, &err);
		if (proto_decoder_next(&dec, &frame, &err) != 0 ||
		    proto_decoder_finish(&dec, &err) == 0) {
			ok(0, "truncated at %zu bytes", cut);
			proto_decoder_free(&dec);
			return;
		}
		runk_error_free(&err);
		proto_decoder_free(&dec);
	}
	ok(1, "a frame cut at every byte is incomplete, and an error at EOF");

	proto_decoder_init(&dec, PROTO_PEER_ANY);
	ok(proto_decoder_finish(&dec, &err) == 0, "EOF with nothing buffered is clean");
	proto_decoder_free(&dec);
}

static void test_zero_length(void)
{
	cleanup_error runk_error_t err = NULL;
	struct proto_frame frame = {0};
	uint8_t buf[PROTO_HEADER_SIZE];
	size_t n = encode(PROTO_STDIN, 9, NULL, 0, buf, sizeof(buf));
	int ret = decode_one(buf, n, PROTO_PEER_HOST, &frame, &err);

	ok(n == PROTO_HEADER_SIZE && ret == 1 && frame.type == PROTO_STDIN && frame.id == 9 &&
		   frame.len == 0 && frame.payload && frame.payload[0] == '\0',
	   "zero-length STDIN (EOF) frame");
	proto_frame_clear(&frame);
}

static void test_pending(void)
{
	cleanup_error runk_error_t err = NULL;
	struct proto_pending pending;
	uint32_t a, b, c;

	proto_pending_init(&pending);
	ok(proto_pending_add(&pending, &a, &err) == 0 && a == 1, "first request id is 1");
	ok(proto_pending_add(&pending, &b, &err) == 0 && b == 2, "second request id is 2");
	ok(proto_pending_take(&pending, 3, &err) < 0 && err && strstr(err->msg, "not pending"),
	   "RESPONSE to an id never sent is rejected");
	runk_error_free(&err);
	ok(proto_pending_take(&pending, 0, &err) < 0, "RESPONSE to id 0 is rejected");
	runk_error_free(&err);
	ok(proto_pending_take(&pending, b, &err) == 0, "RESPONSE to a pending id is accepted");
	ok(proto_pending_take(&pending, b, &err) < 0,
	   "a second RESPONSE to the same id is rejected");
	runk_error_free(&err);
	ok(proto_pending_contains(&pending, a) && !proto_pending_contains(&pending, b),
	   "the other id is still pending");

	/* Wrap-around skips 0 and ids still waiting. */
	pending.next_id = UINT32_MAX;
	ok(proto_pending_add(&pending, &c, &err) == 0 && c == UINT32_MAX, "id 2^32-1");
	ok(proto_pending_add(&pending, &c, &err) == 0 && c == 2, "wraps past 0 and pending id 1");

	proto_pending_init(&pending);
	for (int i = 0; i < PROTO_MAX_PENDING; i++)
		proto_pending_add(&pending, &c, &err);
	ok(err == NULL && proto_pending_add(&pending, &c, &err) < 0,
	   "no more than PROTO_MAX_PENDING outstanding");
}

static void test_json(void)
{
	static const struct {
		const char *text, *what;
	} bad[] = {
		{"", "empty"},
		{"{", "malformed"},
		{"{\"op\":}", "malformed"},
		{"[1,2]", "not an object"},
		{"\"str\"", "not an object"},
		{"{\"a\":1} {\"b\":2}", "malformed"},
		{"{\"a\":1}garbage", "malformed"},
		{"{\"a\":\"\xff\xfe\"}", "malformed"},
	};
	cleanup_error runk_error_t err = NULL;
	const char *s = NULL;
	long long n = 0;
	bool b = false;
	yajl_val v;
	char deep[200];
	const char *req = "{\"op\":\"signal\",\"id\":\"c1\",\"signal\":15,\"all\":true,"
			  "\"neg\":-1,\"big\":99999999999999999999,\"f\":1.5,\"s\":\"[{\"}";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = proto_json_parse(bad[i].text, strlen(bad[i].text), &err);
		ok(v == NULL && err && strstr(err->msg, bad[i].what), "bad JSON rejected: %s (%s)",
		   bad[i].what, bad[i].text);
		runk_error_free(&err);
		yajl_tree_free(v);
	}
	v = proto_json_parse("{\"a\":\0}", 7, &err);
	ok(v == NULL && err && strstr(err->msg, "NUL"), "JSON with a NUL byte rejected");
	runk_error_free(&err);

	memset(deep, '[', sizeof(deep));
	deep[0] = '{';
	v = proto_json_parse(deep, sizeof(deep), &err);
	ok(v == NULL && err && strstr(err->msg, "deeper"), "deeply nested JSON rejected");
	runk_error_free(&err);

	v = proto_json_parse(req, strlen(req), &err);
	ok(v != NULL, "valid request parses");
	ok(proto_json_get_string(v, "op", &s, &err) == 0 && strcmp(s, "signal") == 0, "get op");
	ok(proto_json_get_int(v, "signal", 1, 64, &n, &err) == 0 && n == 15, "get signal");
	ok(proto_json_get_bool(v, "all", &b, &err) == 0 && b, "get all");
	ok(proto_json_get_int(v, "neg", 0, 10, &n, &err) < 0 && strstr(err->msg, "outside"),
	   "negative value out of range");
	runk_error_free(&err);
	ok(proto_json_get_int(v, "big", 0, INT32_MAX, &n, &err) < 0, "huge integer rejected");
	runk_error_free(&err);
	ok(proto_json_get_int(v, "f", 0, 10, &n, &err) < 0 && strstr(err->msg, "not an integer"),
	   "float is not an integer");
	runk_error_free(&err);
	ok(proto_json_get_int(v, "op", 0, 10, &n, &err) < 0, "string is not an integer");
	runk_error_free(&err);
	ok(proto_json_get_string(v, "signal", &s, &err) < 0 && strstr(err->msg, "not a string"),
	   "integer is not a string");
	runk_error_free(&err);
	ok(proto_json_get_bool(v, "signal", &b, &err) < 0, "integer is not a boolean");
	runk_error_free(&err);
	ok(proto_json_get_string(v, "nope", &s, &err) < 0 && strstr(err->msg, "missing"),
	   "missing key");
	runk_error_free(&err);
	n = 42;
	ok(proto_json_opt_int(v, "nope", 0, 100, &n, &err) == 0 && n == 42,
	   "absent optional keeps default");
	ok(proto_json_opt_int(v, "neg", 0, 100, &n, &err) < 0, "present optional still checked");
	runk_error_free(&err);
	yajl_tree_free(v);
}

static void test_json_build(void)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_free char *text = NULL;
	struct proto_json *json = proto_json_new();
	const char *s = NULL;
	long long n = 0;
	bool b = true;
	size_t len = 0;
	yajl_val v;

	proto_json_add_bool(json, "ok", false);
	proto_json_add_string(json, "error", "bad \"quote\"\n\xff end");
	proto_json_add_int(json, "pid", -5);
	ok(proto_json_finish(json, &text, &len, &err) == 0 && len == strlen(text), "build JSON");
	is_str(text, "{\"ok\":false,\"error\":\"bad \\\"quote\\\"\\n? end\",\"pid\":-5}",
	       "built text");
	v = proto_json_parse(text, len, &err);
	ok(v && proto_json_get_bool(v, "ok", &b, &err) == 0 && !b &&
		   proto_json_get_string(v, "error", &s, &err) == 0 &&
		   strcmp(s, "bad \"quote\"\n? end") == 0 &&
		   proto_json_get_int(v, "pid", -10, 10, &n, &err) == 0 && n == -5,
	   "built JSON parses back");
	yajl_tree_free(v);
}

static void test_container_ids(void)
{
	ok(proto_container_id_valid("abc") && proto_container_id_valid("A1_b.c+d-e") &&
		   proto_container_id_valid("0"),
	   "valid container ids");
	ok(!proto_container_id_valid("") && !proto_container_id_valid(NULL) &&
		   !proto_container_id_valid(".") && !proto_container_id_valid("..") &&
		   !proto_container_id_valid("-x") && !proto_container_id_valid("a/b") &&
		   !proto_container_id_valid("a b") && !proto_container_id_valid("_a"),
	   "invalid container ids");
}

int main(void)
{
	test_round_trip();
	test_byte_by_byte();
	test_limits();
	test_bad_headers();
	test_bad_second_frame();
	test_truncated();
	test_zero_length();
	test_pending();
	test_json();
	test_json_build();
	test_container_ids();
	return test_done();
}
