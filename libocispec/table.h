/*
 * Field tables: each struct of ocispec.h is described once, as a list of
 * (JSON key, kind, offset) entries, and one generic parser, generator and
 * free function walk those tables.  Internal to libocispec.
 */
#ifndef OCISPEC_TABLE_H
#define OCISPEC_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "ocispec.h"

enum oci_kind {
	OCI_STRING,
	OCI_BOOL,
	OCI_INT64,
	OCI_INT32,
	OCI_UINT64,
	OCI_UINT32,
	OCI_UINT16,
	OCI_STRING_ARRAY, /* char **x; size_t x_len; NULL-terminated */
	OCI_UINT32_ARRAY, /* uint32_t *x; size_t x_len; */
	OCI_OBJECT,	  /* struct T *x; */
	OCI_OBJECT_ARRAY, /* struct T **x; size_t x_len; NULL-terminated */
	OCI_STRING_MAP,	  /* struct oci_string_map *x; */
	OCI_OBJECT_MAP,	  /* struct { char **keys; struct T **values; size_t len; } *x; */
};

enum oci_field_flags {
	OCI_REQUIRED = 1 << 0,	/* parse: must be present; generate: must be set */
	OCI_HAS = 1 << 1,	/* optional scalar: bool has_x decides presence */
	OCI_OMITEMPTY = 1 << 2, /* scalar written only when non-zero/true */
};

struct oci_type;

struct oci_field {
	const char *key;
	enum oci_kind kind;
	unsigned flags;
	size_t offset;
	size_t has_offset;	     /* OCI_HAS: offset of the bool */
	size_t len_offset;	     /* arrays: offset of the size_t length */
	const struct oci_type *type; /* OBJECT, OBJECT_ARRAY, OBJECT_MAP */
};

struct oci_type {
	const char *name;
	size_t size;
	const struct oci_field *fields;
	size_t n_fields;
};

/* The layout every struct oci_*_map shares with struct oci_string_map. */
struct oci_object_map {
	char **keys;
	void **values;
	size_t len;
};

/* Parse JSON text as an object of TYPE.  DOC names the document in messages ("config.json"). */
void *oci_parse(const struct oci_type *type, const char *doc, const char *json, size_t len,
		char **err);

/* Read PATH and parse it; messages about the whole document name PATH. */
void *oci_parse_file(const struct oci_type *type, const char *path, char **err);

char *oci_generate(const struct oci_type *type, const void *obj, bool pretty, char **err);

void oci_free(const struct oci_type *type, void *obj);

/* ---- table-building macros: S is the struct type, M the member, K the JSON key ---- */

#define OCI_TYPE(var, ctype, table)                                                                \
	const struct oci_type var = {#ctype, sizeof(ctype), table, sizeof(table) / sizeof(table[0])}

#define OCI_F(K, kind, flags, S, M)                                                                \
	{                                                                                          \
		K, kind, flags, offsetof(S, M), 0, 0, NULL                                         \
	}
#define OCI_F_HAS(K, kind, S, M)                                                                   \
	{                                                                                          \
		K, kind, OCI_HAS, offsetof(S, M), offsetof(S, has_##M), 0, NULL                    \
	}
#define OCI_F_ARRAY(K, kind, flags, S, M, T)                                                       \
	{                                                                                          \
		K, kind, flags, offsetof(S, M), 0, offsetof(S, M##_len), T                         \
	}

#define OCI_STR(K, S, M)     OCI_F(K, OCI_STRING, 0, S, M)
#define OCI_STR_REQ(K, S, M) OCI_F(K, OCI_STRING, OCI_REQUIRED, S, M)
/* FLAG: a bool written only when true; BOOL_OPT: written when has_M is set. */
#define OCI_FLAG(K, S, M)     OCI_F(K, OCI_BOOL, OCI_OMITEMPTY, S, M)
#define OCI_BOOL_OPT(K, S, M) OCI_F_HAS(K, OCI_BOOL, S, M)
/* Integers: NUM is always written, NUM_OMIT only when non-zero, NUM_OPT when has_M is set. */
#define OCI_NUM(K, kind, S, M)	    OCI_F(K, kind, 0, S, M)
#define OCI_NUM_REQ(K, kind, S, M)  OCI_F(K, kind, OCI_REQUIRED, S, M)
#define OCI_NUM_OMIT(K, kind, S, M) OCI_F(K, kind, OCI_OMITEMPTY, S, M)
#define OCI_NUM_OPT(K, kind, S, M)  OCI_F_HAS(K, kind, S, M)
#define OCI_STRV(K, S, M)	    OCI_F_ARRAY(K, OCI_STRING_ARRAY, 0, S, M, NULL)
#define OCI_STRV_REQ(K, S, M)	    OCI_F_ARRAY(K, OCI_STRING_ARRAY, OCI_REQUIRED, S, M, NULL)
#define OCI_U32V(K, S, M)	    OCI_F_ARRAY(K, OCI_UINT32_ARRAY, 0, S, M, NULL)
#define OCI_OBJV(K, S, M, T)	    OCI_F_ARRAY(K, OCI_OBJECT_ARRAY, 0, S, M, &T)
#define OCI_OBJ(K, S, M, T)                                                                        \
	{                                                                                          \
		K, OCI_OBJECT, 0, offsetof(S, M), 0, 0, &T                                         \
	}
#define OCI_SMAP(K, S, M) OCI_F(K, OCI_STRING_MAP, 0, S, M)
#define OCI_OMAP(K, S, M, T)                                                                       \
	{                                                                                          \
		K, OCI_OBJECT_MAP, 0, offsetof(S, M), 0, 0, &T                                     \
	}

/* Defines the five public functions of a document over its type descriptor. */
#define OCI_DEFINE_DOCUMENT(doc, docname, type)                                                    \
	struct oci_##doc *oci_##doc##_parse_data(const char *json, size_t len, char **err)         \
	{                                                                                          \
		return oci_parse(&type, docname, json, len, err);                                  \
	}                                                                                          \
	struct oci_##doc *oci_##doc##_parse_file(const char *path, char **err)                     \
	{                                                                                          \
		return oci_parse_file(&type, path, err);                                           \
	}                                                                                          \
	char *oci_##doc##_generate(const struct oci_##doc *obj, char **err)                        \
	{                                                                                          \
		return oci_generate(&type, obj, false, err);                                       \
	}                                                                                          \
	char *oci_##doc##_generate_pretty(const struct oci_##doc *obj, char **err)                 \
	{                                                                                          \
		return oci_generate(&type, obj, true, err);                                        \
	}                                                                                          \
	void oci_##doc##_free(struct oci_##doc *obj)                                               \
	{                                                                                          \
		oci_free(&type, obj);                                                              \
	}

#endif
