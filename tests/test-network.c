/*
 * Unit tests for the JSON side of networking (network/network.h): which
 * network namespace config.json asks for, the guest's config.json without
 * the host's namespace path, and the agent's "network" request.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"
#include "network/network.h"
#include "ocispec.h"
#include "testlib.h"

static void test_namespace_path(void)
{
	static const struct {
		const char *name, *config, *path, *error;
	} cases[] = {
		{"a path",
		 "{\"ociVersion\":\"1.2.0\",\"linux\":{\"namespaces\":[{\"type\":\"network\","
		 "\"path\":\"/run/netns/x\"}]}}",
		 "/run/netns/x", NULL},
		{"no path: a new namespace",
		 "{\"ociVersion\":\"1.2.0\",\"linux\":{\"namespaces\":[{\"type\":\"network\"}]}}",
		 NULL, NULL},
		{"an empty path: a new namespace",
		 "{\"ociVersion\":\"1.2.0\",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{"
		 "\"type\":\"network\",\"path\":"
		 "\"\"}]}}",
		 NULL, NULL},
		{"no network namespace: host networking",
		 "{\"ociVersion\":\"1.2.0\",\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}}", NULL,
		 "a VM cannot share the host's network namespace"},
		{"no linux section", "{\"ociVersion\":\"1.2.0\"}", NULL,
		 "a VM cannot share the host's network namespace"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_free char *parse_error = NULL, *text = NULL;
		struct oci_config *cfg = oci_config_parse_data(
			cases[i].config, strlen(cases[i].config), &parse_error);
		cleanup_error runk_error_t err = NULL;
		const char *path = "unset";
		int r;

		ok(cfg != NULL, "namespace path, %s: parses (%s)", cases[i].name,
		   parse_error ? parse_error : "");
		if (cfg == NULL)
			continue;
		r = network_namespace_path(cfg, &path, &err);
		if (cases[i].error) {
			text = err ? runk_error_text(err) : NULL;
			ok(r < 0 && text && strstr(text, cases[i].error), "namespace path, %s: %s",
			   cases[i].name, text ? text : "no error");
		} else {
			ok(r == 0, "namespace path, %s: accepted", cases[i].name);
			is_str(path, cases[i].path, "namespace path, %s", cases[i].name);
		}
		oci_config_free(cfg);
	}
}

static void test_guest_config(void)
{
	static const struct {
		const char *name, *in, *out;
	} cases[] = {
		{"the network namespace's path goes",
		 "{\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"/run/netns/x\"},"
		 "{\"type\":\"ipc\",\"path\":\"/proc/1/ns/ipc\"}]}}",
		 "{\"linux\":{\"namespaces\":[{\"type\":\"network\"},"
		 "{\"type\":\"ipc\",\"path\":\"/proc/1/ns/ipc\"}]}}"},
		{"other paths and values stay",
		 "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"a\",\"b\"],\"terminal\":false}"
		 ","
		 "\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"major\":1}],\"x\":null,"
		 "\"namespaces\":[{\"path\":\"/run/netns/y\",\"type\":\"network\"}]}}",
		 "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"a\",\"b\"],\"terminal\":false}"
		 ","
		 "\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"major\":1}],\"x\":null,"
		 "\"namespaces\":[{\"type\":\"network\"}]}}"},
		{"namespaces outside linux are not touched",
		 "{\"annotations\":{\"namespaces\":\"x\"},\"namespaces\":[{\"type\":\"network\","
		 "\"path\":\"/p\"}]}",
		 "{\"annotations\":{\"namespaces\":\"x\"},\"namespaces\":[{\"type\":\"network\","
		 "\"path\":\"/p\"}]}"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_free char *out = NULL;
		cleanup_error runk_error_t err = NULL;
		size_t len = 0;
		int r = network_guest_config(cases[i].in, strlen(cases[i].in), &out, &len, &err);

		ok(r == 0 && out && len == strlen(out), "guest config, %s: generated",
		   cases[i].name);
		is_str(out, cases[i].out, "guest config, %s", cases[i].name);
	}

	{
		cleanup_free char *out = NULL, *text = NULL;
		cleanup_error runk_error_t err = NULL;
		size_t len;
		int r = network_guest_config("{\"linux\":", 9, &out, &len, &err);

		text = err ? runk_error_text(err) : NULL;
		ok(r < 0 && text && strstr(text, "config.json"), "guest config, bad JSON: %s",
		   text ? text : "accepted");
	}
}

static void test_request(void)
{
	char *addresses[] = {"10.0.0.2/24", "fd00::2/64"};
	struct net_route routes[] = {{"0.0.0.0/0", "10.0.0.1"}, {"fd00:1::/64", NULL}};
	struct net_iface ifaces[2] = {
		{.name = "eth0",
		 .mac = "02:00:00:00:00:01",
		 .mtu = 1400,
		 .addresses = addresses,
		 .n_addresses = 2,
		 .routes = routes,
		 .n_routes = 2},
		{.name = "eth1", .mac = "02:00:00:00:00:02", .mtu = 1500},
	};
	struct net_setup setup = {.ifaces = ifaces, .n_ifaces = 2};
	cleanup_free char *out = NULL;
	cleanup_error runk_error_t err = NULL;
	size_t len = 0;

	ok(network_request_json(&setup, "c1", &out, &len, &err) == 0, "request: generated");
	is_str(out,
	       "{\"op\":\"network\",\"id\":\"c1\",\"interfaces\":["
	       "{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"mtu\":1400,"
	       "\"addresses\":[\"10.0.0.2/24\",\"fd00::2/64\"],"
	       "\"routes\":[{\"dest\":\"0.0.0.0/0\",\"gateway\":\"10.0.0.1\"},"
	       "{\"dest\":\"fd00:1::/64\"}]},"
	       "{\"name\":\"eth1\",\"mac\":\"02:00:00:00:00:02\",\"mtu\":1500,"
	       "\"addresses\":[],\"routes\":[]}]}",
	       "request: two interfaces, IPv4 and IPv6, a route without a gateway");
}

int main(void)
{
	test_namespace_path();
	test_guest_config();
	test_request();
	return test_done();
}
