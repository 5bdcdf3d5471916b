/*
 * The container's network in the guest.  The host sends, once the container
 * is created and before it starts, the interfaces of the engine's network
 * namespace: MAC, MTU, addresses, routes.  Each matches a virtio-net
 * interface of the guest by MAC; the agent moves it into the container's
 * network namespace (that of its init), gives it the engine's name, MTU and
 * addresses, brings it up and adds the routes.  rtnetlink by hand: the agent
 * is static and Debian has no static libmnl.
 */
#include "config.h"

#include <net/if.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "network.h"

#define MAX_IFACES    16
#define MAX_ADDRESSES 64
#define MAX_ROUTES    64

struct prefix {
	int family;
	unsigned char addr[16];
	unsigned int len;
};

/* ---- parsing and checking what the host sent ---- */

static int parse_prefix(const char *text, struct prefix *p, runk_error_t *err)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	char *end;
	unsigned long len;
	size_t n;

	if (slash == NULL || (n = (size_t)(slash - text)) == 0 || n >= sizeof(addr))
		return runk_error(err, "`%s` is not ADDRESS/PREFIX", text);
	memcpy(addr, text, n);
	addr[n] = '\0';
	memset(p, 0, sizeof(*p));
	p->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(p->family, addr, p->addr) != 1)
		return runk_error(err, "`%s`: bad address", text);
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || len > (p->family == AF_INET ? 32u : 128u))
		return runk_error(err, "`%s`: bad prefix length", text);
	p->len = (unsigned int)len;
	return 0;
}

static int parse_mac(const char *text, unsigned char mac[6], runk_error_t *err)
{
	unsigned int b[6];
	char tail;

	if (strlen(text) != 17 || sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
					 &b[3], &b[4], &b[5], &tail) != 6)
		return runk_error(err, "`%s` is not a MAC address", text);
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)b[i];
	return 0;
}

static bool ifname_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= IF_NAMESIZE || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *c = name; *c; c++)
		if (*c == '/' || *c == ':' || *c <= ' ' || *c > '~')
			return false;
	return true;
}

static yajl_val get_array(yajl_val obj, const char *key, size_t max, runk_error_t *err)
{
	yajl_val v = proto_json_find(obj, key);

	if (v == NULL)
		return NULL;
	if (!YAJL_IS_ARRAY(v)) {
		runk_error(err, "\"%s\" is not an array", key);
		return NULL;
	}
	if (v->u.array.len > max) {
		runk_error(err, "\"%s\": more than %zu entries", key, max);
		return NULL;
	}
	return v;
}

/* ---- rtnetlink ---- */

struct nl_req {
	struct nlmsghdr h;
	char buf[1024];
};

static void *req_init(struct nl_req *r, uint16_t type, uint16_t flags, size_t hdr)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdr);
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return NLMSG_DATA(&r->h);
}

static void req_attr(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)&r->h + NLMSG_ALIGN(r->h.nlmsg_len));

	if (NLMSG_ALIGN(r->h.nlmsg_len) + RTA_SPACE(len) > sizeof(*r))
		abort(); /* our own messages are small and fixed */
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->h.nlmsg_len = (uint32_t)(NLMSG_ALIGN(r->h.nlmsg_len) + RTA_SPACE(len));
}

static void req_u32(struct nl_req *r, unsigned short type, uint32_t v)
{
	req_attr(r, type, &v, sizeof(v));
}

/* Send and wait for the ack: 0 or -errno. */
static int nl_call(int fd, struct nl_req *r)
{
	static unsigned int seq;
	char buf[4096];

	r->h.nlmsg_seq = ++seq;
	if (send(fd, &r->h, r->h.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error;
			}
		}
	}
}

static int nl_open(runk_error_t *err)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return runk_error_errno(err, errno, "netlink socket");
	return fd;
}

/* The interface with this MAC in the current network namespace, 0 if none. */
static int ifindex_by_mac(const unsigned char mac[6])
{
	struct if_nameindex *names = if_nameindex(), *n;
	cleanup_close int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int found = 0;

	if (names == NULL || sock < 0) {
		if (names)
			if_freenameindex(names);
		return 0;
	}
	for (n = names; n->if_index && !found; n++) {
		struct ifreq ifr = {0};

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", n->if_name);
		if (ioctl(sock, SIOCGIFHWADDR, &ifr) == 0 &&
		    memcmp(ifr.ifr_hwaddr.sa_data, mac, 6) == 0)
			found = (int)n->if_index;
	}
	if_freenameindex(names);
	return found;
}

/*
 * Move the interface into ns_fd's namespace, named `name` there (NULL: the
 * same name).  A name of our own when it is renamed later: the guest kernel's
 * names (eth0, eth1, ...) need not match the engine's, and renaming one to
 * the engine's name must not find that name taken by another.
 */
static int link_to_netns(int nl, int ifindex, int ns_fd, const char *name)
{
	struct nl_req r;
	struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, 0, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	req_u32(&r, IFLA_NET_NS_FD, (uint32_t)ns_fd);
	if (name)
		req_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	return nl_call(nl, &r);
}

static int link_set(int nl, int ifindex, const char *name, unsigned int mtu, bool up)
{
	struct nl_req r;
	struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, 0, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	if (name)
		req_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	if (mtu)
		req_u32(&r, IFLA_MTU, mtu);
	return nl_call(nl, &r);
}

static int addr_add(int nl, int ifindex, const struct prefix *p)
{
	struct nl_req r;
	struct ifaddrmsg *ifa =
		req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*ifa));
	size_t len = p->family == AF_INET ? 4 : 16;

	ifa->ifa_family = (unsigned char)p->family;
	ifa->ifa_prefixlen = (unsigned char)p->len;
	ifa->ifa_index = (unsigned int)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	/* The host's namespace did duplicate address detection already. */
	if (p->family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	req_attr(&r, IFA_LOCAL, p->addr, len);
	req_attr(&r, IFA_ADDRESS, p->addr, len);
	return nl_call(nl, &r);
}

static int route_add(int nl, int ifindex, const struct prefix *dest, const struct prefix *gw)
{
	struct nl_req r;
	struct rtmsg *rtm = req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*rtm));
	size_t len = dest->family == AF_INET ? 4 : 16;

	rtm->rtm_family = (unsigned char)dest->family;
	rtm->rtm_dst_len = (unsigned char)dest->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (dest->len)
		req_attr(&r, RTA_DST, dest->addr, len);
	if (gw)
		req_attr(&r, RTA_GATEWAY, gw->addr, len);
	req_u32(&r, RTA_OIF, (uint32_t)ifindex);
	return nl_call(nl, &r);
}

/* ---- one interface ---- */

struct iface {
	const char *name; /* NULL: keep the guest's */
	unsigned char mac[6];
	const char *mac_text;
	unsigned int mtu;
	yajl_val addresses, routes;
};

static int iface_parse(yajl_val v, struct iface *i, runk_error_t *err)
{
	long long mtu = 0;

	memset(i, 0, sizeof(*i));
	if (!YAJL_IS_OBJECT(v))
		return runk_error(err, "an interface is not an object");
	if (proto_json_get_string(v, "mac", &i->mac_text, err) < 0 ||
	    parse_mac(i->mac_text, i->mac, err) < 0 ||
	    proto_json_opt_int(v, "mtu", 68, 65535, &mtu, err) < 0)
		return -1;
	i->mtu = (unsigned int)mtu;
	if (proto_json_find(v, "name")) {
		if (proto_json_get_string(v, "name", &i->name, err) < 0)
			return -1;
		if (!ifname_valid(i->name))
			return runk_error(err, "`%s` is not an interface name", i->name);
	}
	i->addresses = get_array(v, "addresses", MAX_ADDRESSES, err);
	if (i->addresses == NULL && proto_json_find(v, "addresses"))
		return -1;
	i->routes = get_array(v, "routes", MAX_ROUTES, err);
	if (i->routes == NULL && proto_json_find(v, "routes"))
		return -1;
	return 0;
}

/* Check every address and route before anything changes. */
static int iface_check(const struct iface *i, runk_error_t *err)
{
	struct prefix p;

	for (size_t k = 0; i->addresses && k < i->addresses->u.array.len; k++) {
		const char *text = YAJL_IS_STRING(i->addresses->u.array.values[k])
					   ? YAJL_GET_STRING(i->addresses->u.array.values[k])
					   : NULL;

		if (text == NULL)
			return runk_error(err, "%s: an address is not a string", i->mac_text);
		if (parse_prefix(text, &p, err) < 0)
			return -1;
	}
	for (size_t k = 0; i->routes && k < i->routes->u.array.len; k++) {
		yajl_val r = i->routes->u.array.values[k];
		const char *dest, *gw = NULL;
		char gw_prefix[INET6_ADDRSTRLEN + 8];
		struct prefix g;

		if (!YAJL_IS_OBJECT(r) || proto_json_get_string(r, "dest", &dest, err) < 0 ||
		    parse_prefix(dest, &p, err) < 0)
			return runk_error_prefix(err, "%s: route %zu", i->mac_text, k);
		if (proto_json_find(r, "gateway") == NULL)
			continue;
		if (proto_json_get_string(r, "gateway", &gw, err) < 0)
			return -1;
		snprintf(gw_prefix, sizeof(gw_prefix), "%.*s/0", INET6_ADDRSTRLEN, gw);
		if (parse_prefix(gw_prefix, &g, err) < 0 || g.family != p.family)
			return runk_error(err, "%s: route %zu: bad gateway `%s`", i->mac_text, k,
					  gw);
	}
	return 0;
}

/* Routes through a gateway need the routes to it first: link routes go in pass 0. */
static int iface_routes(int nl, int ifindex, const struct iface *i, runk_error_t *err)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; i->routes && k < i->routes->u.array.len; k++) {
			yajl_val r = i->routes->u.array.values[k];
			const char *dest = NULL, *gw = NULL;
			char gw_prefix[INET6_ADDRSTRLEN + 8];
			struct prefix d, g;
			int ret;

			proto_json_get_string(r, "dest", &dest, NULL);
			if (proto_json_find(r, "gateway"))
				proto_json_get_string(r, "gateway", &gw, NULL);
			if ((gw != NULL) != (pass == 1))
				continue;
			parse_prefix(dest, &d, NULL);
			if (gw) {
				snprintf(gw_prefix, sizeof(gw_prefix), "%.*s/0", INET6_ADDRSTRLEN,
					 gw);
				parse_prefix(gw_prefix, &g, NULL);
			}
			ret = route_add(nl, ifindex, &d, gw ? &g : NULL);
			if (ret < 0)
				return runk_error_errno(err, -ret, "route %s%s%s", dest,
							gw ? " via " : "", gw ? gw : "");
		}
	}
	return 0;
}

/* In the container's namespace (nl is a socket opened there). */
static int iface_configure(int nl, const struct iface *i, runk_error_t *err)
{
	int ifindex = ifindex_by_mac(i->mac), ret;

	if (ifindex <= 0)
		return runk_error(err, "no interface with MAC %s in the container", i->mac_text);
	ret = link_set(nl, ifindex, i->name, i->mtu, false);
	if (ret < 0)
		return runk_error_errno(err, -ret, "%s: set name and MTU %u", i->mac_text, i->mtu);
	for (size_t k = 0; i->addresses && k < i->addresses->u.array.len; k++) {
		const char *text = YAJL_GET_STRING(i->addresses->u.array.values[k]);
		struct prefix p;

		parse_prefix(text, &p, NULL);
		ret = addr_add(nl, ifindex, &p);
		if (ret < 0)
			return runk_error_errno(err, -ret, "%s: address %s", i->mac_text, text);
	}
	ret = link_set(nl, ifindex, NULL, 0, true);
	if (ret < 0)
		return runk_error_errno(err, -ret, "%s: bring it up", i->mac_text);
	return iface_routes(nl, ifindex, i, err);
}

/* ---- the request ---- */

static int configure_all(struct iface *ifaces, size_t n, pid_t init, runk_error_t *err)
{
	cleanup_close int host_nl = nl_open(err), ns = -1, self = -1, nl = -1;
	char path[64];

	if (host_nl < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns < 0 || self < 0)
		return runk_error_errno(err, errno, "open the network namespaces");
	for (size_t k = 0; k < n; k++) {
		int ifindex = ifindex_by_mac(ifaces[k].mac), ret;
		char moving[IF_NAMESIZE];

		if (ifindex <= 0)
			return runk_error(err, "the VM has no interface with MAC %s",
					  ifaces[k].mac_text);
		/* k < MAX_IFACES: the cast only tells the compiler the name fits. */
		snprintf(moving, sizeof(moving), "runk-mv%u", (unsigned char)k);
		ret = link_to_netns(host_nl, ifindex, ns, ifaces[k].name ? moving : NULL);
		if (ret < 0)
			return runk_error_errno(err, -ret, "move %s into the container",
						ifaces[k].mac_text);
	}
	/* A socket opened in the container's namespace works there from anywhere. */
	if (setns(ns, CLONE_NEWNET) < 0)
		return runk_error_errno(err, errno, "enter the container's network namespace");
	nl = nl_open(err);
	for (size_t k = 0; nl >= 0 && k < n; k++)
		if (iface_configure(nl, &ifaces[k], err) < 0) {
			close(nl);
			nl = -2;
		}
	if (setns(self, CLONE_NEWNET) < 0) {
		runk_error_t fatal = NULL;

		runk_error_errno(&fatal, errno, "return to the agent's network namespace");
		agent_fatal("network", fatal);
	}
	return nl >= 0 ? 0 : -1;
}

int op_network(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	cleanup_free struct iface *ifaces = NULL;
	struct container *c;
	yajl_val list;
	const char *id;
	size_t n;

	if (proto_json_get_string(req, "id", &id, err) < 0)
		return -1;
	if (!proto_container_id_valid(id))
		return runk_error(err, "invalid container id");
	c = container_find(agent, id);
	if (c == NULL)
		return runk_error(err, "container `%s` does not exist", id);
	if (!container_running(c))
		return runk_error(err, "container `%s` is not running", id);
	list = get_array(req, "interfaces", MAX_IFACES, err);
	if (list == NULL)
		return proto_json_find(req, "interfaces")
			       ? -1
			       : runk_error(err, "missing \"interfaces\"");
	n = list->u.array.len;
	ifaces = calloc(n + 1, sizeof(*ifaces));
	if (ifaces == NULL)
		abort();
	for (size_t k = 0; k < n; k++)
		if (iface_parse(list->u.array.values[k], &ifaces[k], err) < 0 ||
		    iface_check(&ifaces[k], err) < 0)
			return runk_error_prefix(err, "interfaces[%zu]", k);
	if (configure_all(ifaces, n, c->init->pid, err) < 0)
		return -1;
	log_info("container %s: %zu network interface(s) configured", id, n);
	return 0;
}
