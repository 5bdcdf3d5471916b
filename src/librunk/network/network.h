/*
 * The container's network namespace, carried into the VM.
 *
 * An engine (podman/netavark, CNI, CRI) hands runk a network namespace that
 * is already wired up: config.json's `{"type":"network","path":...}`.  For
 * every interface in it but lo, the shim makes a tap device *in that
 * namespace* and mirrors all traffic between the interface and the tap with
 * tc (an ingress qdisc on both and a u32 match-all filter whose action is
 * `mirred egress redirect` to the other one).  QEMU gets the tap's fd
 * (virtio-net, the interface's MAC), and the agent gives the guest interface
 * the same MAC, MTU, addresses and routes in the container's own network
 * namespace in the guest.
 *
 * A network namespace without a path gives the container loopback only.  No
 * network namespace at all (host networking) cannot be done by a VM.
 *
 * What was made is recorded in <state>/network before it is made, so that
 * `runk delete` can remove it when the shim died without cleaning up.
 */
#ifndef RUNK_NETWORK_H
#define RUNK_NETWORK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define NETWORK_STATE_FILE "network"

struct net_route {
	char *dest;    /* "10.0.0.0/24", "0.0.0.0/0", "::/0" */
	char *gateway; /* NULL for a route on the link */
};

struct net_iface {
	char name[IF_NAMESIZE]; /* the engine's interface (a veth) in the namespace */
	int ifindex;
	char mac[18];
	unsigned int mtu;
	char **addresses; /* "10.0.0.2/24", "fd00::2/64" */
	size_t n_addresses;
	struct net_route *routes;
	size_t n_routes;
	char tap_name[IF_NAMESIZE];
	int tap_ifindex;
	int tap_fd; /* handed to QEMU; -1 once closed */
	bool veth_qdisc;
};

struct mnl_socket;

struct net_setup {
	struct mnl_socket *nl; /* bound inside the namespace: teardown needs no setns */
	unsigned int seq;
	char *state_file;
	struct net_iface *ifaces;
	size_t n_ifaces;
};

struct oci_config;

/*
 * The network namespace config.json asks for: *path NULL for a new, empty
 * one.  Fails for host networking (no network namespace listed).
 */
int network_namespace_path(const struct oci_config *cfg, const char **path, runk_error_t *err);

/*
 * Taps and tc mirroring for every interface in the namespace at path (see
 * above).  Refuses the caller's own network namespace.  *out is NULL-free on
 * success even with no interface.  Everything made is undone on failure.
 */
int network_setup(const char *netns_path, const char *state_dir, struct net_setup **out,
		  runk_error_t *err);

/* Remove the taps and qdiscs, close the fds, forget the record, free n (NULL is fine). */
void network_teardown(struct net_setup *n);

/* For `runk delete`: remove what <state_dir>/network records, if anything. */
int network_remove_leftovers(const char *state_dir, runk_error_t *err);
/* The same, a failure only logged (delete goes on). */
void network_delete_leftovers(const char *id, const char *state_dir);

/*
 * config.json for the guest: the host's namespace paths mean nothing there,
 * so a network namespace's path is dropped (the guest makes a new one and the
 * agent moves the interfaces into it).  *out is a new text; the input is
 * returned unchanged (copied) when there is nothing to drop.
 */
int network_guest_config(const char *text, size_t len, char **out, size_t *out_len,
			 runk_error_t *err);

/* The same for the namespaces of the given types (a NULL-terminated list). */
int guest_config_without_paths(const char *text, size_t len, const char *const *types, char **out,
			       size_t *out_len, runk_error_t *err);

/* The agent's "network" request for container id (docs/protocol.md). */
int network_request_json(const struct net_setup *n, const char *id, char **out, size_t *len,
			 runk_error_t *err);

#endif
