/* The shim's side of networking.  See shim-network.h and network/network.h. */
#include "config.h"

#include <stdlib.h>

#include "cleanup.h"
#include "hypervisor/hypervisor.h"
#include "log.h"
#include "network/network.h"
#include "ocispec.h"
#include "shim-internal.h"
#include "shim-network.h"

struct shim_network {
	struct net_setup *setup;
	struct vm_nic *nics;
};

int shim_network_prepare(struct shim *s, struct vm_config *cfg, runk_error_t *err)
{
	const struct oci_config *config = s->opts->config;
	struct shim_network *net;
	const char *path = NULL;

	/*
	 * A pod on the node's network (no network namespace: NODE in the CRI)
	 * cannot have the host's in a VM: its containers share the VM's, with
	 * loopback only.
	 */
	if (s->opts->pod_sandbox && oci_config_namespace(config, "network") == NULL) {
		log_debug("pod %s on the node's network: the VM has loopback only", s->opts->id);
		return 0;
	}
	if (network_namespace_path(config, &path, err) < 0)
		return -1;
	/* A new namespace: the guest makes it, with loopback only. */
	if (path == NULL)
		return 0;
	net = calloc(1, sizeof(*net));
	if (net == NULL)
		abort();
	s->net = net;
	if (network_setup(path, s->opts->state_dir, &net->setup, err) < 0)
		return -1;
	net->nics = calloc(net->setup->n_ifaces + 1, sizeof(*net->nics));
	if (net->nics == NULL)
		abort();
	for (size_t i = 0; i < net->setup->n_ifaces; i++) {
		net->nics[i].tap_fd = net->setup->ifaces[i].tap_fd;
		net->nics[i].mac = net->setup->ifaces[i].mac;
	}
	cfg->nics = net->nics;
	cfg->n_nics = net->setup->n_ifaces;
	return 0;
}

int shim_network_guest_config(char **data, size_t *len, runk_error_t *err)
{
	char *out;
	size_t out_len;

	if (network_guest_config(*data, *len, &out, &out_len, err) < 0)
		return -1;
	free(*data);
	*data = out;
	*len = out_len;
	return 0;
}

int shim_network_configure_guest(struct shim *s, runk_error_t *err)
{
	cleanup_free char *request = NULL;
	size_t len;

	if (s->net == NULL || s->net->setup->n_ifaces == 0)
		return 0;
	if (network_request_json(s->net->setup, s->opts->id, &request, &len, err) < 0 ||
	    shim_agent_call(s, request, len, NULL, err) < 0)
		return runk_error_prefix(err, "configure the container's network in the VM");
	return 0;
}

void shim_network_teardown(struct shim *s)
{
	if (s->net == NULL)
		return;
	network_teardown(s->net->setup);
	free(s->net->nics);
	free(s->net);
	s->net = NULL;
}
