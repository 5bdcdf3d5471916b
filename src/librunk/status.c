#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "proto.h"
#include "shimctl.h"
#include "status.h"

#define OCI_VERSION "1.2.0"

/* A shim busy with a slow guest request should not make `state` hang. */
#define STATUS_TIMEOUT_MS 10000

int container_status_load(const struct runk_context *ctx, const char *id,
			  struct container_status *cs, runk_error_t *err)
{
	cleanup_error runk_error_t shim_err = NULL;
	yajl_val reply = NULL;
	const char *status = NULL;

	memset(cs, 0, sizeof(*cs));
	if (state_load(ctx->root, id, &cs->state, &cs->dir, err) < 0)
		return -1;
	cs->status = "stopped";
	if (!state_shim_alive(&cs->state))
		return 0;
	cs->pid = cs->state.pid;
	cs->status = "running";
	if (shimctl_call(cs->dir, "{\"op\":\"status\"}", STATUS_TIMEOUT_MS, &reply, &shim_err) <
	    0) {
		cleanup_free char *text = runk_error_text(shim_err);

		log_debug("status of %s from its shim: %s", id, text);
		return 0;
	}
	if (proto_json_get_string(reply, "status", &status, NULL) == 0) {
		static const char *const known[] = {"created", "running", "paused", "stopped"};

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(status, known[i]) == 0)
				cs->status = known[i];
	}
	yajl_tree_free(reply);
	if (strcmp(cs->status, "stopped") == 0)
		cs->pid = 0;
	return 0;
}

void container_status_release(struct container_status *cs)
{
	state_release(&cs->state);
	free(cs->dir);
	memset(cs, 0, sizeof(*cs));
}

static void gen_key(yajl_gen g, const char *key)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

static void gen_pair(yajl_gen g, const char *key, const char *value)
{
	gen_key(g, key);
	yajl_gen_string(g, (const unsigned char *)value, strlen(value));
}

void container_status_gen(yajl_gen g, const struct container_status *cs, const char *owner)
{
	const struct runk_state *st = &cs->state;

	yajl_gen_map_open(g);
	gen_pair(g, "ociVersion", OCI_VERSION);
	gen_pair(g, "id", st->id);
	gen_key(g, "pid");
	yajl_gen_integer(g, cs->pid);
	gen_pair(g, "status", cs->status);
	gen_pair(g, "bundle", st->bundle);
	gen_pair(g, "rootfs", st->rootfs);
	gen_pair(g, "created", st->created);
	if (st->n_annotations > 0) {
		gen_key(g, "annotations");
		yajl_gen_map_open(g);
		for (size_t i = 0; i < st->n_annotations; i++)
			gen_pair(g, st->annotation_keys[i], st->annotation_values[i]);
		yajl_gen_map_close(g);
	}
	gen_pair(g, "owner", owner);
	yajl_gen_map_close(g);
}

char *container_status_json(const struct container_status *cs)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	char *text;

	if (g == NULL)
		abort();
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	container_status_gen(g, cs, cs->state.owner);
	yajl_gen_get_buf(g, &buf, &len);
	/* yajl ends a beautified document with a newline; callers print their own. */
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	text = strndup((const char *)buf, len);
	yajl_gen_free(g);
	if (text == NULL)
		abort();
	return text;
}
