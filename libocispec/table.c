/*
 * The generic half of libocispec: one parser (over yajl_tree), one
 * generator (over yajl_gen) and one free function, each driven by the
 * field tables of config.c, state.c and features.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "table.h"

/* No document of the spec nests deeply; this bounds yajl's recursion in yajl_tree_free. */
#define MAX_DEPTH 128

/* Documents larger than this are not configuration but a mistake. */
#define MAX_FILE_SIZE (64 * 1024 * 1024)

/* Where we are in the document, for messages: "linux.resources.cpu.quota". */
struct ctx {
	const char *doc;
	char *err;
	size_t path_len;
	char path[1024];
};

static size_t path_push(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t path_push(struct ctx *c, const char *fmt, ...)
{
	size_t saved = c->path_len;
	va_list ap;
	int n;

	if (c->path_len >= sizeof(c->path) - 1)
		return saved;
	va_start(ap, fmt);
	n = vsnprintf(c->path + c->path_len, sizeof(c->path) - c->path_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->path_len += (size_t)n;
	if (c->path_len > sizeof(c->path) - 1)
		c->path_len = sizeof(c->path) - 1;
	return saved;
}

static size_t path_push_key(struct ctx *c, const char *key)
{
	return path_push(c, c->path_len ? ".%s" : "%s", key);
}

static void path_pop(struct ctx *c, size_t saved)
{
	c->path_len = saved;
	c->path[saved] = '\0';
}

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record "PATH: message" (the document name when at the top) once; returns -1. */
static int fail(struct ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&c->err, "%s: %s", c->path_len ? c->path : c->doc, msg) < 0)
		c->err = NULL;
	return -1;
}

static int fail_oom(struct ctx *c)
{
	return fail(c, "out of memory");
}

static const char *json_type_name(yajl_val v)
{
	if (YAJL_IS_STRING(v))
		return "string";
	if (YAJL_IS_NUMBER(v))
		return "number";
	if (YAJL_IS_OBJECT(v))
		return "object";
	if (YAJL_IS_ARRAY(v))
		return "array";
	if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
		return "boolean";
	return "null";
}

static void *field_ptr(const struct oci_field *f, const void *obj)
{
	return (char *)obj + f->offset;
}

static size_t *field_len(const struct oci_field *f, const void *obj)
{
	return (size_t *)((char *)obj + f->len_offset);
}

static bool *field_has(const struct oci_field *f, const void *obj)
{
	return (bool *)((char *)obj + f->has_offset);
}

/* ---- free ---- */

static void free_strv(char **v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		free(v[i]);
	free(v);
}

void oci_string_map_free(struct oci_string_map *m)
{
	if (m == NULL)
		return;
	free_strv(m->keys, m->len);
	free_strv(m->values, m->len);
	free(m);
}

static void free_object_map(const struct oci_type *type, struct oci_object_map *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->len; i++)
		oci_free(type, m->values[i]);
	free(m->values);
	free_strv(m->keys, m->len);
	free(m);
}

/* Release what field F of OBJ holds and leave it absent. */
static void free_field(const struct oci_field *f, void *obj)
{
	void *p = field_ptr(f, obj);

	switch (f->kind) {
	case OCI_STRING:
		free(*(char **)p);
		*(char **)p = NULL;
		break;
	case OCI_BOOL:
		*(bool *)p = false;
		break;
	case OCI_INT64:
		*(int64_t *)p = 0;
		break;
	case OCI_INT32:
		*(int32_t *)p = 0;
		break;
	case OCI_UINT64:
		*(uint64_t *)p = 0;
		break;
	case OCI_UINT32:
		*(uint32_t *)p = 0;
		break;
	case OCI_UINT16:
		*(uint16_t *)p = 0;
		break;
	case OCI_STRING_ARRAY:
		free_strv(*(char ***)p, *field_len(f, obj));
		*(char ***)p = NULL;
		*field_len(f, obj) = 0;
		break;
	case OCI_UINT32_ARRAY:
		free(*(uint32_t **)p);
		*(uint32_t **)p = NULL;
		*field_len(f, obj) = 0;
		break;
	case OCI_OBJECT:
		oci_free(f->type, *(void **)p);
		*(void **)p = NULL;
		break;
	case OCI_OBJECT_ARRAY: {
		void **v = *(void ***)p;
		for (size_t i = 0; i < *field_len(f, obj); i++)
			oci_free(f->type, v[i]);
		free(v);
		*(void ***)p = NULL;
		*field_len(f, obj) = 0;
		break;
	}
	case OCI_STRING_MAP:
		oci_string_map_free(*(struct oci_string_map **)p);
		*(void **)p = NULL;
		break;
	case OCI_OBJECT_MAP:
		free_object_map(f->type, *(struct oci_object_map **)p);
		*(void **)p = NULL;
		break;
	}
	if (f->flags & OCI_HAS)
		*field_has(f, obj) = false;
}

void oci_free(const struct oci_type *type, void *obj)
{
	if (obj == NULL)
		return;
	for (size_t i = 0; i < type->n_fields; i++)
		free_field(&type->fields[i], obj);
	free(obj);
}

/* ---- string maps ---- */

const char *oci_string_map_get(const struct oci_string_map *m, const char *key)
{
	if (m == NULL)
		return NULL;
	/* The last one wins, as when a JSON object repeats a key. */
	for (size_t i = m->len; i > 0; i--)
		if (strcmp(m->keys[i - 1], key) == 0)
			return m->values[i - 1];
	return NULL;
}

int oci_string_map_set(struct oci_string_map **mp, const char *key, const char *value)
{
	struct oci_string_map *m = *mp;
	char *v = strdup(value);
	char *k = NULL, **keys, **values;

	if (v == NULL)
		return -1;
	for (size_t i = 0; m && i < m->len; i++) {
		if (strcmp(m->keys[i], key) == 0) {
			free(m->values[i]);
			m->values[i] = v;
			return 0;
		}
	}
	if (m == NULL) {
		m = calloc(1, sizeof(*m));
		if (m == NULL)
			goto fail;
		*mp = m;
	}
	k = strdup(key);
	keys = k ? realloc(m->keys, (m->len + 2) * sizeof(char *)) : NULL;
	if (keys == NULL)
		goto fail;
	m->keys = keys;
	values = realloc(m->values, (m->len + 2) * sizeof(char *));
	if (values == NULL)
		goto fail;
	m->values = values;
	m->keys[m->len] = k;
	m->values[m->len] = v;
	m->len++;
	m->keys[m->len] = NULL;
	m->values[m->len] = NULL;
	return 0;
fail:
	free(k);
	free(v);
	return -1;
}

/* ---- parse ---- */

static int parse_object(struct ctx *c, yajl_val v, const struct oci_type *type, void *obj);

static int parse_string(struct ctx *c, yajl_val v, char **out)
{
	if (!YAJL_IS_STRING(v))
		return fail(c, "expected a string, got %s", json_type_name(v));
	*out = strdup(v->u.string);
	return *out ? 0 : fail_oom(c);
}

static const char *int_kind_name(enum oci_kind kind)
{
	switch (kind) {
	case OCI_INT64:
		return "int64";
	case OCI_INT32:
		return "int32";
	case OCI_UINT64:
		return "uint64";
	case OCI_UINT32:
		return "uint32";
	default:
		return "uint16";
	}
}

/*
 * Integers are read from the number's text, not yajl's long long, so that
 * uint64 values above INT64_MAX survive and 1.5 or 1e3 are refused (as the
 * spec's Go types refuse them).
 */
static int parse_integer(struct ctx *c, yajl_val v, enum oci_kind kind, void *out)
{
	const char *text, *digits;
	bool negative;

	if (!YAJL_IS_NUMBER(v) || v->u.number.r == NULL)
		return fail(c, "expected an integer, got %s", json_type_name(v));
	text = v->u.number.r;
	negative = text[0] == '-';
	digits = text + negative;
	if (digits[0] == '\0' || digits[strspn(digits, "0123456789")] != '\0')
		return fail(c, "expected an integer, got %s", text);

	if (kind == OCI_INT64 || kind == OCI_INT32) {
		long long min = kind == OCI_INT64 ? INT64_MIN : INT32_MIN;
		long long max = kind == OCI_INT64 ? INT64_MAX : INT32_MAX;
		long long x;

		errno = 0;
		x = strtoll(text, NULL, 10);
		if (errno == ERANGE || x < min || x > max)
			return fail(c, "%s is out of range for %s", text, int_kind_name(kind));
		if (kind == OCI_INT64)
			*(int64_t *)out = x;
		else
			*(int32_t *)out = (int32_t)x;
		return 0;
	}

	unsigned long long max = kind == OCI_UINT64   ? UINT64_MAX
				 : kind == OCI_UINT32 ? UINT32_MAX
						      : UINT16_MAX;
	unsigned long long x;

	if (negative && digits[strspn(digits, "0")] != '\0')
		return fail(c, "%s is out of range for %s", text, int_kind_name(kind));
	errno = 0;
	x = strtoull(digits, NULL, 10);
	if (errno == ERANGE || x > max)
		return fail(c, "%s is out of range for %s", text, int_kind_name(kind));
	if (kind == OCI_UINT64)
		*(uint64_t *)out = x;
	else if (kind == OCI_UINT32)
		*(uint32_t *)out = (uint32_t)x;
	else
		*(uint16_t *)out = (uint16_t)x;
	return 0;
}

static int expect(struct ctx *c, yajl_val v, bool ok, const char *what)
{
	if (ok)
		return 0;
	return fail(c, "expected %s, got %s", what, json_type_name(v));
}

static int parse_string_array(struct ctx *c, yajl_val v, char ***out, size_t *len)
{
	size_t n = v->u.array.len;

	*out = calloc(n + 1, sizeof(char *));
	if (*out == NULL)
		return fail_oom(c);
	for (size_t i = 0; i < n; i++) {
		size_t saved = path_push(c, "[%zu]", i);
		if (parse_string(c, v->u.array.values[i], &(*out)[i]) < 0)
			return -1;
		path_pop(c, saved);
		*len = i + 1;
	}
	return 0;
}

static int parse_uint32_array(struct ctx *c, yajl_val v, uint32_t **out, size_t *len)
{
	size_t n = v->u.array.len;

	*out = calloc(n + 1, sizeof(uint32_t));
	if (*out == NULL)
		return fail_oom(c);
	for (size_t i = 0; i < n; i++) {
		size_t saved = path_push(c, "[%zu]", i);
		if (parse_integer(c, v->u.array.values[i], OCI_UINT32, &(*out)[i]) < 0)
			return -1;
		path_pop(c, saved);
		*len = i + 1;
	}
	return 0;
}

/* A new struct of TYPE in *out, filled from V. */
static int parse_child(struct ctx *c, yajl_val v, const struct oci_type *type, void **out)
{
	if (expect(c, v, YAJL_IS_OBJECT(v), "an object") < 0)
		return -1;
	*out = calloc(1, type->size);
	if (*out == NULL)
		return fail_oom(c);
	return parse_object(c, v, type, *out);
}

static int parse_object_array(struct ctx *c, yajl_val v, const struct oci_type *type, void ***out,
			      size_t *len)
{
	size_t n = v->u.array.len;

	*out = calloc(n + 1, sizeof(void *));
	if (*out == NULL)
		return fail_oom(c);
	for (size_t i = 0; i < n; i++) {
		size_t saved = path_push(c, "[%zu]", i);
		/* Counted before parsing, so a half-parsed element is freed with the rest. */
		*len = i + 1;
		if (parse_child(c, v->u.array.values[i], type, &(*out)[i]) < 0)
			return -1;
		path_pop(c, saved);
	}
	return 0;
}

/* String maps and object maps: VALUE_TYPE is NULL for strings. */
static int parse_map(struct ctx *c, yajl_val v, const struct oci_type *value_type, void **out)
{
	size_t n = v->u.object.len;
	struct oci_object_map *m = calloc(1, sizeof(*m));

	*out = m;
	if (m == NULL)
		return fail_oom(c);
	m->keys = calloc(n + 1, sizeof(char *));
	m->values = calloc(n + 1, sizeof(void *));
	if (m->keys == NULL || m->values == NULL)
		return fail_oom(c);
	for (size_t i = 0; i < n; i++) {
		size_t saved = path_push_key(c, v->u.object.keys[i]);
		yajl_val value = v->u.object.values[i];
		int r;

		m->keys[i] = strdup(v->u.object.keys[i]);
		m->len = i + 1;
		if (m->keys[i] == NULL)
			return fail_oom(c);
		if (value_type)
			r = parse_child(c, value, value_type, &m->values[i]);
		else
			r = parse_string(c, value, (char **)&m->values[i]);
		if (r < 0)
			return -1;
		path_pop(c, saved);
	}
	return 0;
}

static int parse_field(struct ctx *c, const struct oci_field *f, yajl_val v, void *obj)
{
	void *p = field_ptr(f, obj);
	int r;

	/* A repeated key: the last one wins, as in Go. */
	free_field(f, obj);
	switch (f->kind) {
	case OCI_STRING:
		r = parse_string(c, v, p);
		break;
	case OCI_BOOL:
		r = expect(c, v, YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v), "a boolean");
		if (r == 0)
			*(bool *)p = YAJL_IS_TRUE(v);
		break;
	case OCI_INT64:
	case OCI_INT32:
	case OCI_UINT64:
	case OCI_UINT32:
	case OCI_UINT16:
		r = parse_integer(c, v, f->kind, p);
		break;
	case OCI_STRING_ARRAY:
		r = expect(c, v, YAJL_IS_ARRAY(v), "an array");
		if (r == 0)
			r = parse_string_array(c, v, p, field_len(f, obj));
		break;
	case OCI_UINT32_ARRAY:
		r = expect(c, v, YAJL_IS_ARRAY(v), "an array");
		if (r == 0)
			r = parse_uint32_array(c, v, p, field_len(f, obj));
		break;
	case OCI_OBJECT:
		r = parse_child(c, v, f->type, p);
		break;
	case OCI_OBJECT_ARRAY:
		r = expect(c, v, YAJL_IS_ARRAY(v), "an array");
		if (r == 0)
			r = parse_object_array(c, v, f->type, p, field_len(f, obj));
		break;
	case OCI_STRING_MAP:
		r = expect(c, v, YAJL_IS_OBJECT(v), "an object");
		if (r == 0)
			r = parse_map(c, v, NULL, p);
		break;
	case OCI_OBJECT_MAP:
		r = expect(c, v, YAJL_IS_OBJECT(v), "an object");
		if (r == 0)
			r = parse_map(c, v, f->type, p);
		break;
	default:
		r = fail(c, "internal error: unknown field kind %d", (int)f->kind);
	}
	if (r == 0 && (f->flags & OCI_HAS))
		*field_has(f, obj) = true;
	return r;
}

static const struct oci_field *find_field(const struct oci_type *type, const char *key)
{
	for (size_t i = 0; i < type->n_fields; i++)
		if (strcmp(type->fields[i].key, key) == 0)
			return &type->fields[i];
	return NULL;
}

static int parse_object(struct ctx *c, yajl_val v, const struct oci_type *type, void *obj)
{
	uint64_t seen = 0;

	/* `seen` has one bit per field. */
	if (type->n_fields > 64)
		return fail(c, "internal error: %s has more than 64 fields", type->name);
	for (size_t i = 0; i < v->u.object.len; i++) {
		const struct oci_field *f = find_field(type, v->u.object.keys[i]);
		yajl_val value = v->u.object.values[i];
		size_t saved;

		/* Unknown fields are for other runtimes; null means absent. */
		if (f == NULL || YAJL_IS_NULL(value))
			continue;
		saved = path_push_key(c, f->key);
		if (parse_field(c, f, value, obj) < 0)
			return -1;
		path_pop(c, saved);
		seen |= UINT64_C(1) << (f - type->fields);
	}
	for (size_t i = 0; i < type->n_fields; i++) {
		if ((type->fields[i].flags & OCI_REQUIRED) && !(seen & (UINT64_C(1) << i))) {
			path_push_key(c, type->fields[i].key);
			return fail(c, "missing");
		}
	}
	return 0;
}

/* yajl keeps a stack per level, and frees its tree recursively: refuse absurd depths first. */
static bool depth_ok(const char *json, size_t len)
{
	bool in_string = false;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = json[i];

		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_string = false;
		} else if (ch == '"') {
			in_string = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > MAX_DEPTH)
				return false;
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
	}
	return true;
}

void *oci_parse(const struct oci_type *type, const char *doc, const char *json, size_t len,
		char **err)
{
	struct ctx c = {.doc = doc};
	char errbuf[1024] = "";
	yajl_val tree;
	char *text;
	void *obj = NULL;

	*err = NULL;
	if (memchr(json, '\0', len)) {
		fail(&c, "invalid JSON: NUL byte in the document");
		goto out;
	}
	if (!depth_ok(json, len)) {
		fail(&c, "invalid JSON: nested deeper than %d levels", MAX_DEPTH);
		goto out;
	}
	text = strndup(json, len);
	if (text == NULL) {
		fail_oom(&c);
		goto out;
	}
	tree = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	free(text);
	if (tree == NULL) {
		/* yajl's first line says what is wrong; the rest is a picture of where. */
		errbuf[strcspn(errbuf, "\n")] = '\0';
		fail(&c, "invalid JSON: %s", errbuf[0] ? errbuf : "parse error");
		goto out;
	}
	if (expect(&c, tree, YAJL_IS_OBJECT(tree), "an object") == 0) {
		obj = calloc(1, type->size);
		if (obj == NULL)
			fail_oom(&c);
		else if (parse_object(&c, tree, type, obj) < 0) {
			oci_free(type, obj);
			obj = NULL;
		}
	}
	yajl_tree_free(tree);
out:
	*err = c.err;
	if (obj == NULL && *err == NULL)
		*err = strdup("out of memory");
	return obj;
}

void *oci_parse_file(const struct oci_type *type, const char *path, char **err)
{
	struct ctx c = {.doc = path};
	FILE *f = fopen(path, "re");
	char *data = NULL;
	size_t len = 0, cap = 0;
	void *obj = NULL;

	*err = NULL;
	if (f == NULL) {
		fail(&c, "cannot open: %s", strerror(errno));
		*err = c.err;
		return NULL;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *bigger =
				cap < MAX_FILE_SIZE ? realloc(data, cap ? cap * 2 : 4096) : NULL;
			if (bigger == NULL) {
				fail(&c, cap < MAX_FILE_SIZE ? "out of memory" : "file too large");
				goto out;
			}
			data = bigger;
			cap = cap ? cap * 2 : 4096;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fail(&c, "cannot read: %s", strerror(errno));
		goto out;
	}
	obj = oci_parse(type, path, data, len, err);
out:
	if (c.err)
		*err = c.err;
	free(data);
	fclose(f);
	return obj;
}

/* ---- generate ---- */

static int gen_object(struct ctx *c, yajl_gen g, const struct oci_type *type, const void *obj);

static int gen_check(struct ctx *c, yajl_gen_status s)
{
	switch (s) {
	case yajl_gen_status_ok:
		return 0;
	case yajl_gen_invalid_string:
		return fail(c, "invalid UTF-8 in a string");
	case yajl_max_depth_exceeded:
		return fail(c, "nested too deeply");
	default:
		return fail(c, "cannot generate JSON (yajl status %d)", (int)s);
	}
}

static int gen_string(struct ctx *c, yajl_gen g, const char *s)
{
	return gen_check(c, yajl_gen_string(g, (const unsigned char *)s, strlen(s)));
}

static int gen_number(struct ctx *c, yajl_gen g, enum oci_kind kind, const void *p)
{
	char buf[32];
	int n;

	switch (kind) {
	case OCI_INT64:
		n = snprintf(buf, sizeof(buf), "%" PRId64, *(const int64_t *)p);
		break;
	case OCI_INT32:
		n = snprintf(buf, sizeof(buf), "%" PRId32, *(const int32_t *)p);
		break;
	case OCI_UINT64:
		n = snprintf(buf, sizeof(buf), "%" PRIu64, *(const uint64_t *)p);
		break;
	case OCI_UINT32:
		n = snprintf(buf, sizeof(buf), "%" PRIu32, *(const uint32_t *)p);
		break;
	default:
		n = snprintf(buf, sizeof(buf), "%u", (unsigned)*(const uint16_t *)p);
		break;
	}
	return gen_check(c, yajl_gen_number(g, buf, (size_t)n));
}

static bool is_zero(enum oci_kind kind, const void *p)
{
	switch (kind) {
	case OCI_BOOL:
		return !*(const bool *)p;
	case OCI_INT64:
		return *(const int64_t *)p == 0;
	case OCI_INT32:
		return *(const int32_t *)p == 0;
	case OCI_UINT64:
		return *(const uint64_t *)p == 0;
	case OCI_UINT32:
		return *(const uint32_t *)p == 0;
	case OCI_UINT16:
		return *(const uint16_t *)p == 0;
	default:
		return *(void *const *)p == NULL;
	}
}

/* Whether field F of OBJ is written at all. */
static bool field_present(const struct oci_field *f, const void *obj)
{
	const void *p = field_ptr(f, obj);

	if (f->flags & OCI_HAS)
		return *field_has(f, obj);
	switch (f->kind) {
	case OCI_BOOL:
	case OCI_INT64:
	case OCI_INT32:
	case OCI_UINT64:
	case OCI_UINT32:
	case OCI_UINT16:
		return !(f->flags & OCI_OMITEMPTY) || !is_zero(f->kind, p);
	default:
		return *(void *const *)p != NULL;
	}
}

static int gen_map(struct ctx *c, yajl_gen g, const struct oci_type *value_type,
		   const struct oci_object_map *m)
{
	if (gen_check(c, yajl_gen_map_open(g)) < 0)
		return -1;
	for (size_t i = 0; i < m->len; i++) {
		size_t saved = path_push_key(c, m->keys[i] ? m->keys[i] : "");
		int r;

		if (m->keys[i] == NULL || m->values[i] == NULL)
			return fail(c, "missing");
		r = gen_string(c, g, m->keys[i]);
		if (r == 0 && value_type)
			r = gen_object(c, g, value_type, m->values[i]);
		else if (r == 0)
			r = gen_string(c, g, m->values[i]);
		if (r < 0)
			return -1;
		path_pop(c, saved);
	}
	return gen_check(c, yajl_gen_map_close(g));
}

static int gen_array(struct ctx *c, yajl_gen g, const struct oci_field *f, const void *obj)
{
	const void *p = field_ptr(f, obj);
	size_t len = *field_len(f, obj);

	if (gen_check(c, yajl_gen_array_open(g)) < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		size_t saved = path_push(c, "[%zu]", i);
		int r;

		if (f->kind == OCI_UINT32_ARRAY) {
			r = gen_number(c, g, OCI_UINT32, &(*(uint32_t *const *)p)[i]);
		} else {
			const void *elem = (*(void *const *const *)p)[i];
			if (elem == NULL)
				r = fail(c, "missing");
			else if (f->kind == OCI_STRING_ARRAY)
				r = gen_string(c, g, elem);
			else
				r = gen_object(c, g, f->type, elem);
		}
		if (r < 0)
			return -1;
		path_pop(c, saved);
	}
	return gen_check(c, yajl_gen_array_close(g));
}

static int gen_field(struct ctx *c, yajl_gen g, const struct oci_field *f, const void *obj)
{
	const void *p = field_ptr(f, obj);

	switch (f->kind) {
	case OCI_STRING:
		return gen_string(c, g, *(char *const *)p);
	case OCI_BOOL:
		return gen_check(c, yajl_gen_bool(g, *(const bool *)p));
	case OCI_INT64:
	case OCI_INT32:
	case OCI_UINT64:
	case OCI_UINT32:
	case OCI_UINT16:
		return gen_number(c, g, f->kind, p);
	case OCI_STRING_ARRAY:
	case OCI_UINT32_ARRAY:
	case OCI_OBJECT_ARRAY:
		return gen_array(c, g, f, obj);
	case OCI_OBJECT:
		return gen_object(c, g, f->type, *(void *const *)p);
	case OCI_STRING_MAP:
		return gen_map(c, g, NULL, *(const struct oci_object_map *const *)p);
	case OCI_OBJECT_MAP:
		return gen_map(c, g, f->type, *(const struct oci_object_map *const *)p);
	}
	return fail(c, "internal error: unknown field kind %d", (int)f->kind);
}

static int gen_object(struct ctx *c, yajl_gen g, const struct oci_type *type, const void *obj)
{
	if (gen_check(c, yajl_gen_map_open(g)) < 0)
		return -1;
	for (size_t i = 0; i < type->n_fields; i++) {
		const struct oci_field *f = &type->fields[i];
		size_t saved = path_push_key(c, f->key);

		if (!field_present(f, obj)) {
			if (f->flags & OCI_REQUIRED)
				return fail(c, "missing");
		} else if (gen_string(c, g, f->key) < 0 || gen_field(c, g, f, obj) < 0) {
			return -1;
		}
		path_pop(c, saved);
	}
	return gen_check(c, yajl_gen_map_close(g));
}

char *oci_generate(const struct oci_type *type, const void *obj, bool pretty, char **err)
{
	struct ctx c = {.doc = type->name};
	const unsigned char *buf;
	yajl_gen g = yajl_gen_alloc(NULL);
	char *out = NULL;
	size_t len;

	*err = NULL;
	if (g == NULL) {
		*err = strdup("out of memory");
		return NULL;
	}
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	if (pretty) {
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, "\t");
	}
	if (obj == NULL)
		fail(&c, "no document");
	else if (gen_object(&c, g, type, obj) == 0 &&
		 gen_check(&c, yajl_gen_get_buf(g, &buf, &len)) == 0) {
		out = strndup((const char *)buf, len);
		if (out == NULL)
			fail_oom(&c);
	}
	yajl_gen_free(g);
	*err = c.err;
	if (out == NULL && *err == NULL)
		*err = strdup("out of memory");
	return out;
}
