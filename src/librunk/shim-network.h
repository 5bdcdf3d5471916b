/*
 * The shim's side of networking (network/network.h): the taps made before
 * QEMU starts, the guest's config.json without host namespace paths, the
 * agent's "network" request once the container exists, and the teardown on
 * every way out.
 */
#ifndef RUNK_SHIM_NETWORK_H
#define RUNK_SHIM_NETWORK_H

#include <stddef.h>

#include "error.h"

struct shim;
struct vm_config;

/*
 * From config.json: fail for host networking; for a namespace with a path,
 * make the taps and give cfg their fds and MACs.  Call before vm_start.
 */
int shim_network_prepare(struct shim *s, struct vm_config *cfg, runk_error_t *err);

/* config.json as the guest gets it in the share (*data replaced). */
int shim_network_guest_config(char **data, size_t *len, runk_error_t *err);

/* Once the container is created in the guest: its interfaces get configured. */
int shim_network_configure_guest(struct shim *s, runk_error_t *err);

/* Taps and tc filters removed; safe to call more than once. */
void shim_network_teardown(struct shim *s);

#endif
