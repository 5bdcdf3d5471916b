/*
 * VM templates, the guest's side (docs/protocol.md, "Templates").  A VM
 * booted with `runk.template=1` on its kernel command line is being made
 * into a template: it must hold nothing a clone must not share, so the
 * share is not mounted before HELLO but on the host's `mount-share`, and a
 * clone gets fresh entropy from the host with `reseed`.
 */
#ifndef RUNK_AGENT_FACTORY_H
#define RUNK_AGENT_FACTORY_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>

#include "error.h"
#include "proto.h"

struct agent;

/* True if the kernel command line has runk.template=1 (read once). */
bool factory_template_boot(void);

/* At boot: mount the share, unless this VM is to become a template. */
int factory_boot_share(runk_error_t *err);

/* Parse "hex" (an even number of hex digits) into buf; the byte count, or -1. */
long factory_hex_decode(const char *hex, unsigned char *buf, size_t size);

/* {"op":"mount-share"}: mount the share now; a no-op if it is mounted. */
int op_mount_share(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err);

/* {"op":"reseed","entropy":"<hex>"}: credit host entropy, then force a CRNG reseed. */
int op_reseed(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err);

/*
 * {"op":"cpus","online":N}: exactly N vCPUs online: cpu1..N-1 up, the others
 * down (cpu0 always up); N above the vCPUs present is an error.  Replies
 * {"ok":true,"online":<count online now>}.
 */
int op_cpus(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err);

#endif
