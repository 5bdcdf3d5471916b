/* Small JSON payloads of the host <-> guest protocol, on yajl. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "cleanup.h"
#include "proto.h"

/*
 * yajl parses deep nesting fine but frees trees recursively, so a payload
 * like "[[[[..." a megabyte deep would exhaust the stack.  Count brackets
 * outside strings first and refuse anything deeper than the protocol uses.
 */
static int json_depth_check(const char *text, size_t len, runk_error_t *err)
{
	bool in_string = false, escaped = false;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"')
			in_string = true;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		if (depth > PROTO_JSON_MAX_DEPTH)
			return runk_error(err, "JSON payload nested deeper than %d levels",
					  PROTO_JSON_MAX_DEPTH);
	}
	return 0;
}

yajl_val proto_json_parse(const void *payload, size_t len, runk_error_t *err)
{
	cleanup_free char *text = NULL;
	char errbuf[256] = "";
	yajl_val tree;

	if (len == 0) {
		runk_error(err, "empty JSON payload");
		return NULL;
	}
	if (memchr(payload, '\0', len) != NULL) {
		runk_error(err, "JSON payload contains a NUL byte");
		return NULL;
	}
	if (len > PROTO_MAX_PAYLOAD) {
		runk_error(err, "JSON payload of %zu bytes is too large", len);
		return NULL;
	}
	text = malloc(len + 1);
	if (text == NULL) {
		runk_error_errno(err, ENOMEM, "JSON payload");
		return NULL;
	}
	memcpy(text, payload, len);
	text[len] = '\0';
	if (json_depth_check(text, len, err) < 0)
		return NULL;
	tree = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	if (tree == NULL) {
		/* yajl's message may span lines and quote the input: keep its first line. */
		errbuf[strcspn(errbuf, "\n")] = '\0';
		runk_error(err, "malformed JSON payload: %s", errbuf[0] ? errbuf : "parse error");
		return NULL;
	}
	if (!YAJL_IS_OBJECT(tree)) {
		yajl_tree_free(tree);
		runk_error(err, "JSON payload is not an object");
		return NULL;
	}
	return tree;
}

yajl_val proto_json_find(yajl_val obj, const char *key)
{
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	/* The last duplicate wins, as in most JSON readers. */
	for (size_t i = obj->u.object.len; i > 0; i--)
		if (strcmp(obj->u.object.keys[i - 1], key) == 0)
			return obj->u.object.values[i - 1];
	return NULL;
}

int proto_json_get_string(yajl_val obj, const char *key, const char **out, runk_error_t *err)
{
	yajl_val v = proto_json_find(obj, key);

	if (v == NULL)
		return runk_error(err, "missing \"%s\"", key);
	if (!YAJL_IS_STRING(v))
		return runk_error(err, "\"%s\" is not a string", key);
	*out = YAJL_GET_STRING(v);
	return 0;
}

static int json_int_value(yajl_val v, const char *key, long long min, long long max, long long *out,
			  runk_error_t *err)
{
	long long n;

	if (!YAJL_IS_INTEGER(v))
		return runk_error(err, "\"%s\" is not an integer", key);
	n = YAJL_GET_INTEGER(v);
	if (n < min || n > max)
		return runk_error(err, "\"%s\" is %lld, outside [%lld, %lld]", key, n, min, max);
	*out = n;
	return 0;
}

int proto_json_get_int(yajl_val obj, const char *key, long long min, long long max, long long *out,
		       runk_error_t *err)
{
	yajl_val v = proto_json_find(obj, key);

	if (v == NULL)
		return runk_error(err, "missing \"%s\"", key);
	return json_int_value(v, key, min, max, out, err);
}

int proto_json_opt_int(yajl_val obj, const char *key, long long min, long long max, long long *out,
		       runk_error_t *err)
{
	yajl_val v = proto_json_find(obj, key);

	if (v == NULL)
		return 0;
	return json_int_value(v, key, min, max, out, err);
}

static int json_bool_value(yajl_val v, const char *key, bool *out, runk_error_t *err)
{
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return runk_error(err, "\"%s\" is not a boolean", key);
	*out = YAJL_IS_TRUE(v);
	return 0;
}

int proto_json_get_bool(yajl_val obj, const char *key, bool *out, runk_error_t *err)
{
	yajl_val v = proto_json_find(obj, key);

	if (v == NULL)
		return runk_error(err, "missing \"%s\"", key);
	return json_bool_value(v, key, out, err);
}

int proto_json_opt_bool(yajl_val obj, const char *key, bool *out, runk_error_t *err)
{
	yajl_val v = proto_json_find(obj, key);

	if (v == NULL)
		return 0;
	return json_bool_value(v, key, out, err);
}

struct proto_json {
	yajl_gen gen;
	bool failed;
};

struct proto_json *proto_json_new(void)
{
	struct proto_json *json = calloc(1, sizeof(*json));

	if (json == NULL)
		abort();
	json->gen = yajl_gen_alloc(NULL);
	if (json->gen == NULL)
		abort();
	if (yajl_gen_map_open(json->gen) != yajl_gen_status_ok)
		json->failed = true;
	return json;
}

void proto_json_free(struct proto_json *json)
{
	if (json == NULL)
		return;
	yajl_gen_free(json->gen);
	free(json);
}

/* Length of the valid UTF-8 sequence at s, or 0 if there is none. */
static size_t utf8_sequence(const unsigned char *s)
{
	size_t n;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static void json_string(struct proto_json *json, const char *value)
{
	cleanup_free char *clean = strdup(value);
	size_t len = strlen(value);

	if (clean == NULL)
		abort();
	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence((const unsigned char *)clean + i);

		if (n == 0) {
			clean[i++] = '?';
			continue;
		}
		i += n;
	}
	if (yajl_gen_string(json->gen, (const unsigned char *)clean, len) != yajl_gen_status_ok)
		json->failed = true;
}

void proto_json_add_string(struct proto_json *json, const char *key, const char *value)
{
	json_string(json, key);
	json_string(json, value ? value : "");
}

void proto_json_add_int(struct proto_json *json, const char *key, long long value)
{
	json_string(json, key);
	if (yajl_gen_integer(json->gen, value) != yajl_gen_status_ok)
		json->failed = true;
}

void proto_json_add_bool(struct proto_json *json, const char *key, bool value)
{
	json_string(json, key);
	if (yajl_gen_bool(json->gen, value) != yajl_gen_status_ok)
		json->failed = true;
}

void proto_json_add_int_array(struct proto_json *json, const char *key, const long long *values,
			      size_t count)
{
	json_string(json, key);
	if (yajl_gen_array_open(json->gen) != yajl_gen_status_ok)
		json->failed = true;
	for (size_t i = 0; i < count; i++)
		if (yajl_gen_integer(json->gen, values[i]) != yajl_gen_status_ok)
			json->failed = true;
	if (yajl_gen_array_close(json->gen) != yajl_gen_status_ok)
		json->failed = true;
}

void proto_json_add_string_array(struct proto_json *json, const char *key,
				 const char *const *values, size_t count)
{
	json_string(json, key);
	if (yajl_gen_array_open(json->gen) != yajl_gen_status_ok)
		json->failed = true;
	for (size_t i = 0; i < count; i++)
		json_string(json, values[i] ? values[i] : "");
	if (yajl_gen_array_close(json->gen) != yajl_gen_status_ok)
		json->failed = true;
}

/*
 * Regenerate a parsed tree.  Numbers are written from yajl's own copy of
 * their text, so nothing is lost to a conversion.  Depth is bounded by the
 * parser (PROTO_JSON_MAX_DEPTH), so the recursion is too.
 */
static bool json_gen_value(yajl_gen gen, yajl_val v)
{
	const unsigned char *s;

	if (v == NULL || YAJL_IS_NULL(v))
		return yajl_gen_null(gen) == yajl_gen_status_ok;
	if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
		return yajl_gen_bool(gen, YAJL_IS_TRUE(v)) == yajl_gen_status_ok;
	if (YAJL_IS_NUMBER(v))
		return yajl_gen_number(gen, v->u.number.r, strlen(v->u.number.r)) ==
		       yajl_gen_status_ok;
	if (YAJL_IS_STRING(v)) {
		s = (const unsigned char *)YAJL_GET_STRING(v);
		return yajl_gen_string(gen, s, strlen((const char *)s)) == yajl_gen_status_ok;
	}
	if (YAJL_IS_ARRAY(v)) {
		if (yajl_gen_array_open(gen) != yajl_gen_status_ok)
			return false;
		for (size_t i = 0; i < v->u.array.len; i++)
			if (!json_gen_value(gen, v->u.array.values[i]))
				return false;
		return yajl_gen_array_close(gen) == yajl_gen_status_ok;
	}
	if (YAJL_IS_OBJECT(v)) {
		if (yajl_gen_map_open(gen) != yajl_gen_status_ok)
			return false;
		for (size_t i = 0; i < v->u.object.len; i++) {
			s = (const unsigned char *)v->u.object.keys[i];
			if (yajl_gen_string(gen, s, strlen((const char *)s)) !=
				    yajl_gen_status_ok ||
			    !json_gen_value(gen, v->u.object.values[i]))
				return false;
		}
		return yajl_gen_map_close(gen) == yajl_gen_status_ok;
	}
	return false;
}

void proto_json_add_value(struct proto_json *json, const char *key, yajl_val value)
{
	json_string(json, key);
	if (!json_gen_value(json->gen, value))
		json->failed = true;
}

int proto_json_value_text(yajl_val value, char **out, size_t *len, runk_error_t *err)
{
	yajl_gen gen = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t buf_len;
	int ret = 0;

	if (gen == NULL)
		abort();
	if (!json_gen_value(gen, value) ||
	    yajl_gen_get_buf(gen, &buf, &buf_len) != yajl_gen_status_ok) {
		ret = runk_error(err, "cannot regenerate a JSON value");
	} else {
		*out = strndup((const char *)buf, buf_len);
		if (*out == NULL)
			abort();
		*len = buf_len;
	}
	yajl_gen_free(gen);
	return ret;
}

int proto_json_finish(struct proto_json *json, char **out, size_t *len, runk_error_t *err)
{
	const unsigned char *buf;
	size_t buf_len;
	int ret = 0;

	if (json->failed || yajl_gen_map_close(json->gen) != yajl_gen_status_ok ||
	    yajl_gen_get_buf(json->gen, &buf, &buf_len) != yajl_gen_status_ok) {
		ret = runk_error(err, "cannot generate a JSON payload");
	} else {
		*out = strndup((const char *)buf, buf_len);
		if (*out == NULL)
			abort();
		*len = buf_len;
	}
	proto_json_free(json);
	return ret;
}
