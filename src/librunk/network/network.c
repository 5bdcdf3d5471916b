/*
 * Taps and tc mirroring in the container's network namespace (network.h),
 * all of it over rtnetlink with libmnl: no `ip` or `tc` is run.
 */
#include "config.h"

#include <net/if.h> /* before the linux/ headers, which then leave its names alone */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "cleanup.h"
#include "log.h"
#include "network/network.h"
#include "ocispec.h"
#include "util.h"

#define TAP_NAME_FMT   "tap%u_runk"
#define MAX_IFACES     16
#define MAX_ADDRESSES  64
#define MAX_ROUTES     64
#define TC_PRIO	       1
#define INGRESS_HANDLE TC_H_MAKE(TC_H_INGRESS, 0)

/* ---- config.json ---- */

int network_namespace_path(const struct oci_config *cfg, const char **path, runk_error_t *err)
{
	const struct oci_linux_namespace *ns = oci_config_namespace(cfg, "network");

	if (ns) {
		*path = ns->path && ns->path[0] ? ns->path : NULL;
		return 0;
	}
	return runk_error(err, "a VM cannot share the host's network namespace: "
			       "config.json must list a network namespace in linux.namespaces");
}

/* ---- rtnetlink ---- */

struct nl {
	struct mnl_socket *sock;
	unsigned int seq;
};

static int nl_open(struct nl *nl, runk_error_t *err)
{
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl->sock == NULL)
		return runk_error_errno(err, errno, "open a netlink socket");
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int saved = errno;

		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return runk_error_errno(err, saved, "bind a netlink socket");
	}
	nl->seq = (unsigned int)time(NULL);
	return 0;
}

static void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

/* Send one request; cb sees each reply of a dump, else the kernel's ack is awaited.  -errno. */
static int nl_call(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	static char buf[32768];
	unsigned int portid = mnl_socket_get_portid(nl->sock);

	nlh->nlmsg_seq = ++nl->seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | (cb ? 0 : NLM_F_ACK);
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		int r;

		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data);
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

struct attrs {
	const struct nlattr *tb[128];
};

static int attr_store(const struct nlattr *a, void *data)
{
	struct attrs *t = data;
	unsigned int type = mnl_attr_get_type(a);

	if (type < sizeof(t->tb) / sizeof(t->tb[0]))
		t->tb[type] = a;
	return MNL_CB_OK;
}

static struct nlmsghdr *msg_new(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	return nlh;
}

/* ---- what the namespace holds ---- */

struct discovery {
	struct net_setup *n;
	runk_error_t *err;
	int failed;
};

static bool is_our_tap(const char *name)
{
	size_t len = strlen(name);

	return strncmp(name, "tap", 3) == 0 && len > 5 && strcmp(name + len - 5, "_runk") == 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct discovery *d = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct attrs a = {0};
	struct net_iface *iface;
	const unsigned char *mac;
	const char *name;

	if (mnl_attr_parse(nlh, sizeof(*ifi), attr_store, &a) < 0)
		return MNL_CB_ERROR;
	if ((ifi->ifi_flags & IFF_LOOPBACK) || ifi->ifi_type != ARPHRD_ETHER ||
	    a.tb[IFLA_IFNAME] == NULL || a.tb[IFLA_ADDRESS] == NULL ||
	    mnl_attr_get_payload_len(a.tb[IFLA_ADDRESS]) != 6)
		return MNL_CB_OK;
	name = mnl_attr_get_str(a.tb[IFLA_IFNAME]);
	if (is_our_tap(name))
		return MNL_CB_OK;
	if (d->n->n_ifaces == MAX_IFACES) {
		d->failed = runk_error(d->err, "more than %d interfaces in the network namespace",
				       MAX_IFACES);
		return MNL_CB_ERROR;
	}
	d->n->ifaces = realloc(d->n->ifaces, (d->n->n_ifaces + 1) * sizeof(*iface));
	if (d->n->ifaces == NULL)
		abort();
	iface = &d->n->ifaces[d->n->n_ifaces++];
	memset(iface, 0, sizeof(*iface));
	iface->tap_fd = -1;
	iface->ifindex = ifi->ifi_index;
	snprintf(iface->name, sizeof(iface->name), "%s", name);
	mac = mnl_attr_get_payload(a.tb[IFLA_ADDRESS]);
	snprintf(iface->mac, sizeof(iface->mac), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
	iface->mtu = a.tb[IFLA_MTU] ? mnl_attr_get_u32(a.tb[IFLA_MTU]) : 1500;
	return MNL_CB_OK;
}

static struct net_iface *iface_by_index(struct net_setup *n, int ifindex)
{
	for (size_t i = 0; i < n->n_ifaces; i++)
		if (n->ifaces[i].ifindex == ifindex)
			return &n->ifaces[i];
	return NULL;
}

static char *format_prefix(int family, const void *addr, unsigned int len)
{
	char text[INET6_ADDRSTRLEN];
	char *out;

	if (inet_ntop(family, addr, text, sizeof(text)) == NULL)
		return NULL;
	if (asprintf(&out, "%s/%u", text, len) < 0)
		abort();
	return out;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct discovery *d = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct net_iface *iface = iface_by_index(d->n, (int)ifa->ifa_index);
	struct attrs a = {0};
	const struct nlattr *addr;
	size_t want = ifa->ifa_family == AF_INET ? 4 : 16;
	char *text;

	/* Link-local and host addresses are the guest kernel's own business. */
	if (iface == NULL || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*ifa), attr_store, &a) < 0)
		return MNL_CB_ERROR;
	addr = a.tb[IFA_LOCAL] ? a.tb[IFA_LOCAL] : a.tb[IFA_ADDRESS];
	if (addr == NULL || mnl_attr_get_payload_len(addr) != want)
		return MNL_CB_OK;
	if (iface->n_addresses == MAX_ADDRESSES) {
		d->failed = runk_error(d->err, "%s: more than %d addresses", iface->name,
				       MAX_ADDRESSES);
		return MNL_CB_ERROR;
	}
	text = format_prefix(ifa->ifa_family, mnl_attr_get_payload(addr), ifa->ifa_prefixlen);
	if (text == NULL)
		return MNL_CB_OK;
	iface->addresses = realloc(iface->addresses, (iface->n_addresses + 1) * sizeof(char *));
	if (iface->addresses == NULL)
		abort();
	iface->addresses[iface->n_addresses++] = text;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct discovery *d = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct attrs a = {0};
	struct net_iface *iface;
	struct net_route *route;
	unsigned char any[16] = {0};
	size_t want = rtm->rtm_family == AF_INET ? 4 : 16;
	unsigned int table;

	if (mnl_attr_parse(nlh, sizeof(*rtm), attr_store, &a) < 0)
		return MNL_CB_ERROR;
	table = a.tb[RTA_TABLE] ? mnl_attr_get_u32(a.tb[RTA_TABLE]) : rtm->rtm_table;
	/* The kernel makes the prefix routes of the addresses itself, in the guest too. */
	if (table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST ||
	    rtm->rtm_protocol == RTPROT_KERNEL || a.tb[RTA_OIF] == NULL)
		return MNL_CB_OK;
	iface = iface_by_index(d->n, (int)mnl_attr_get_u32(a.tb[RTA_OIF]));
	if (iface == NULL)
		return MNL_CB_OK;
	if ((a.tb[RTA_DST] && mnl_attr_get_payload_len(a.tb[RTA_DST]) != want) ||
	    (a.tb[RTA_GATEWAY] && mnl_attr_get_payload_len(a.tb[RTA_GATEWAY]) != want))
		return MNL_CB_OK;
	if (iface->n_routes == MAX_ROUTES) {
		d->failed = runk_error(d->err, "%s: more than %d routes", iface->name, MAX_ROUTES);
		return MNL_CB_ERROR;
	}
	iface->routes = realloc(iface->routes, (iface->n_routes + 1) * sizeof(*route));
	if (iface->routes == NULL)
		abort();
	route = &iface->routes[iface->n_routes++];
	route->dest = format_prefix(rtm->rtm_family,
				    a.tb[RTA_DST] ? mnl_attr_get_payload(a.tb[RTA_DST]) : any,
				    rtm->rtm_dst_len);
	route->gateway = NULL;
	if (a.tb[RTA_GATEWAY]) {
		char text[INET6_ADDRSTRLEN];

		if (inet_ntop(rtm->rtm_family, mnl_attr_get_payload(a.tb[RTA_GATEWAY]), text,
			      sizeof(text)))
			route->gateway = strdup(text);
	}
	if (route->dest == NULL)
		iface->n_routes--;
	return MNL_CB_OK;
}

static int dump(struct nl *nl, uint16_t type, int family, mnl_cb_t cb, struct discovery *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = msg_new(buf, type, NLM_F_DUMP);
	struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg));
	int r;

	g->rtgen_family = (unsigned char)family;
	r = nl_call(nl, nlh, cb, d);
	if (d->failed)
		return -1;
	if (r < 0)
		return runk_error_errno(d->err, -r, "netlink dump of the network namespace");
	return 0;
}

static int discover(struct nl *nl, struct net_setup *n, runk_error_t *err)
{
	struct discovery d = {.n = n, .err = err};

	return dump(nl, RTM_GETLINK, AF_UNSPEC, link_cb, &d) < 0 ||
			       dump(nl, RTM_GETADDR, AF_UNSPEC, addr_cb, &d) < 0 ||
			       dump(nl, RTM_GETROUTE, AF_INET, route_cb, &d) < 0 ||
			       dump(nl, RTM_GETROUTE, AF_INET6, route_cb, &d) < 0
		       ? -1
		       : 0;
}

/* ---- taps and tc ---- */

static int tap_create(const char *name, int *fd_out, runk_error_t *err)
{
	struct ifreq ifr = {0};
	cleanup_close int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return runk_error_errno(err, errno, "open /dev/net/tun");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return runk_error_errno(err, errno, "create the tap device `%s`", name);
	*fd_out = steal_fd(&fd);
	return 0;
}

static int link_up(struct nl *nl, int ifindex, unsigned int mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = msg_new(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_call(nl, nlh, NULL, NULL);
}

static int link_delete(struct nl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = msg_new(buf, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nl_call(nl, nlh, NULL, NULL);
}

static struct tcmsg *tc_msg(char *buf, uint16_t type, uint16_t flags, int ifindex,
			    struct nlmsghdr **nlh)
{
	struct tcmsg *tcm;

	*nlh = msg_new(buf, type, flags);
	tcm = mnl_nlmsg_put_extra_header(*nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	return tcm;
}

static int ingress_add(struct nl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct tcmsg *tcm = tc_msg(buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, &nlh);

	tcm->tcm_handle = INGRESS_HANDLE;
	tcm->tcm_parent = TC_H_INGRESS;
	mnl_attr_put_strz(nlh, TCA_KIND, "ingress");
	return nl_call(nl, nlh, NULL, NULL);
}

/* Deleting the ingress qdisc deletes its filters too. */
static int ingress_delete(struct nl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct tcmsg *tcm = tc_msg(buf, RTM_DELQDISC, 0, ifindex, &nlh);

	tcm->tcm_handle = INGRESS_HANDLE;
	tcm->tcm_parent = TC_H_INGRESS;
	return nl_call(nl, nlh, NULL, NULL);
}

/*
 * `tc filter add dev FROM parent ffff: protocol all prio 1 u32 match u8 0 0
 * action mirred egress redirect dev TO`: every frame FROM receives leaves
 * through TO.  (u32: this host's kernel has no matchall classifier.)
 */
static int redirect_add(struct nl *nl, int from, int to)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct tcmsg *tcm = tc_msg(buf, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, from, &nlh);
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key key;
	} sel = {.sel = {.flags = TC_U32_TERMINAL, .nkeys = 1}};
	struct tc_mirred mirred = {
		.action = TC_ACT_STOLEN,
		.eaction = TCA_EGRESS_REDIR,
		.ifindex = (uint32_t)to,
	};
	struct nlattr *opts, *acts, *act, *act_opts;

	tcm->tcm_parent = INGRESS_HANDLE;
	tcm->tcm_info = TC_H_MAKE(TC_PRIO << 16, htons(ETH_P_ALL));
	mnl_attr_put_strz(nlh, TCA_KIND, "u32");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_U32_SEL, sizeof(sel), &sel);
	acts = mnl_attr_nest_start(nlh, TCA_U32_ACT);
	act = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
	act_opts = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
	mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(mirred), &mirred);
	mnl_attr_nest_end(nlh, act_opts);
	mnl_attr_nest_end(nlh, act);
	mnl_attr_nest_end(nlh, acts);
	mnl_attr_nest_end(nlh, opts);
	return nl_call(nl, nlh, NULL, NULL);
}

/* ---- entering the namespace ---- */

static int netns_enter(int target, int *self, runk_error_t *err)
{
	*self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*self < 0)
		return runk_error_errno(err, errno, "open our own network namespace");
	if (setns(target, CLONE_NEWNET) < 0) {
		int saved = errno;

		close(*self);
		*self = -1;
		return runk_error_errno(err, saved, "enter the network namespace");
	}
	return 0;
}

static void netns_leave(int self)
{
	/* Staying in the container's namespace would be worse than dying. */
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	close(self);
}

/* The namespace at path, refused if it is the caller's own (the host's). */
static int netns_open(const char *path, runk_error_t *err)
{
	struct stat ns, own;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return runk_error_errno(err, errno, "network namespace `%s`", path);
	if (fstat(fd, &ns) < 0 || stat("/proc/thread-self/ns/net", &own) < 0) {
		int saved = errno;

		close(fd);
		return runk_error_errno(err, saved, "network namespace `%s`", path);
	}
	if (ns.st_dev == own.st_dev && ns.st_ino == own.st_ino) {
		close(fd);
		return runk_error(err,
				  "a VM cannot share the host's network namespace (`%s` is runk's "
				  "own)",
				  path);
	}
	return fd;
}

/* ---- the record in the state directory ---- */

static int record_write(struct net_setup *n, const char *path, runk_error_t *err)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		abort();
	fprintf(f, "netns %s\n", path);
	for (size_t i = 0; i < n->n_ifaces; i++)
		fprintf(f, "iface %s %s\n", n->ifaces[i].name, n->ifaces[i].tap_name);
	fclose(f);
	return write_file_atomic(n->state_file, text, len, 0600, err);
}

/* ---- setup and teardown ---- */

static void iface_release(struct net_iface *iface)
{
	for (size_t i = 0; i < iface->n_addresses; i++)
		free(iface->addresses[i]);
	free(iface->addresses);
	for (size_t i = 0; i < iface->n_routes; i++) {
		free(iface->routes[i].dest);
		free(iface->routes[i].gateway);
	}
	free(iface->routes);
	if (iface->tap_fd >= 0)
		close(iface->tap_fd);
	iface->tap_fd = -1;
}

/* Undo one interface's tc and tap; errors are only logged: the rest goes on. */
static void iface_undo(struct nl *nl, struct net_iface *iface)
{
	int r;

	if (iface->veth_qdisc) {
		r = ingress_delete(nl, iface->ifindex);
		if (r < 0 && r != -ENODEV && r != -EINVAL && r != -ENOENT)
			log_warning("remove the ingress qdisc of %s: %s", iface->name,
				    strerror(-r));
		iface->veth_qdisc = false;
	}
	/* The tap goes with its last fd, QEMU's included; deleting it now is quicker. */
	if (iface->tap_ifindex > 0) {
		r = link_delete(nl, iface->tap_ifindex);
		if (r < 0 && r != -ENODEV)
			log_warning("remove the tap %s: %s", iface->tap_name, strerror(-r));
		iface->tap_ifindex = 0;
	}
}

void network_teardown(struct net_setup *n)
{
	struct nl nl;

	if (n == NULL)
		return;
	nl.sock = n->nl;
	nl.seq = n->seq;
	for (size_t i = 0; i < n->n_ifaces; i++) {
		if (nl.sock)
			iface_undo(&nl, &n->ifaces[i]);
		iface_release(&n->ifaces[i]);
	}
	nl_close(&nl);
	if (n->state_file && unlink(n->state_file) < 0 && errno != ENOENT)
		log_warning("remove `%s`: %s", n->state_file, strerror(errno));
	free(n->ifaces);
	free(n->state_file);
	free(n);
}

static int iface_mirror(struct nl *nl, struct net_iface *iface, runk_error_t *err)
{
	int r;

	if (tap_create(iface->tap_name, &iface->tap_fd, err) < 0)
		return -1;
	iface->tap_ifindex = (int)if_nametoindex(iface->tap_name);
	if (iface->tap_ifindex <= 0)
		return runk_error_errno(err, errno, "the tap `%s` has no index", iface->tap_name);
	r = link_up(nl, iface->tap_ifindex, iface->mtu);
	if (r < 0)
		return runk_error_errno(err, -r, "bring the tap `%s` up", iface->tap_name);
	r = ingress_add(nl, iface->ifindex);
	if (r < 0)
		return runk_error_errno(err, -r, "add an ingress qdisc to `%s`%s", iface->name,
					r == -EEXIST ? " (it already has one)" : "");
	iface->veth_qdisc = true;
	r = ingress_add(nl, iface->tap_ifindex);
	if (r < 0)
		return runk_error_errno(err, -r, "add an ingress qdisc to `%s`", iface->tap_name);
	r = redirect_add(nl, iface->ifindex, iface->tap_ifindex);
	if (r == 0)
		r = redirect_add(nl, iface->tap_ifindex, iface->ifindex);
	if (r < 0)
		return runk_error_errno(err, -r, "tc: mirror `%s` and `%s`", iface->name,
					iface->tap_name);
	log_debug("network: %s (%s, mtu %u) mirrored to %s", iface->name, iface->mac, iface->mtu,
		  iface->tap_name);
	return 0;
}

/* Inside the namespace: what is there, the record, then taps and tc. */
static int setup_inside(struct net_setup *n, struct nl *nl, const char *path, runk_error_t *err)
{
	if (nl_open(nl, err) < 0 || discover(nl, n, err) < 0)
		return -1;
	for (size_t i = 0; i < n->n_ifaces; i++)
		snprintf(n->ifaces[i].tap_name, sizeof(n->ifaces[i].tap_name), TAP_NAME_FMT,
			 (unsigned int)(i & 0xff));
	if (n->n_ifaces == 0)
		return 0;
	/* Recorded before anything is made: `runk delete` undoes it if we die half-way. */
	if (record_write(n, path, err) < 0)
		return -1;
	for (size_t i = 0; i < n->n_ifaces; i++)
		if (iface_mirror(nl, &n->ifaces[i], err) < 0)
			return -1;
	return 0;
}

int network_setup(const char *netns_path, const char *state_dir, struct net_setup **out,
		  runk_error_t *err)
{
	struct net_setup *n;
	struct nl nl = {0};
	cleanup_close int ns = -1;
	int self = -1, ret;

	ns = netns_open(netns_path, err);
	if (ns < 0)
		return -1;
	n = calloc(1, sizeof(*n));
	if (n == NULL || asprintf(&n->state_file, "%s/%s", state_dir, NETWORK_STATE_FILE) < 0)
		abort();
	if (netns_enter(ns, &self, err) < 0) {
		network_teardown(n);
		return -1;
	}
	ret = setup_inside(n, &nl, netns_path, err);
	netns_leave(self);
	n->nl = nl.sock;
	n->seq = nl.seq;
	if (ret < 0) {
		runk_error_prefix(err, "network namespace `%s`", netns_path);
		network_teardown(n);
		return -1;
	}
	*out = n;
	return 0;
}

/* ---- leftovers after a shim that died ---- */

static void remove_recorded(struct nl *nl, const char *text)
{
	const char *line = text;

	while (line && *line) {
		char veth[IF_NAMESIZE], tap[IF_NAMESIZE];

		if (sscanf(line, "iface %15s %15s", veth, tap) == 2 && is_our_tap(tap)) {
			struct net_iface iface = {.tap_fd = -1, .veth_qdisc = true};

			snprintf(iface.name, sizeof(iface.name), "%s", veth);
			snprintf(iface.tap_name, sizeof(iface.tap_name), "%s", tap);
			iface.ifindex = (int)if_nametoindex(veth);
			iface.tap_ifindex = (int)if_nametoindex(tap);
			iface.veth_qdisc = iface.ifindex > 0;
			iface_undo(nl, &iface);
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

int network_remove_leftovers(const char *state_dir, runk_error_t *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	char netns[4096];
	cleanup_close int ns = -1;
	struct nl nl = {0};
	size_t len;
	int self, opened;

	if (asprintf(&path, "%s/%s", state_dir, NETWORK_STATE_FILE) < 0)
		abort();
	if (access(path, F_OK) < 0)
		return 0;
	if (read_file(path, 1024 * 1024, &text, &len, err) < 0)
		return -1;
	if (sscanf(text, "netns %4095[^\n]", netns) != 1)
		return runk_error(err, "`%s`: no netns line", path);
	ns = open(netns, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		/* The engine removed the namespace, and everything in it went with it. */
		unlink(path);
		return 0;
	}
	if (netns_enter(ns, &self, err) < 0)
		return -1;
	opened = nl_open(&nl, err);
	if (opened == 0) {
		remove_recorded(&nl, text);
		nl_close(&nl);
	}
	netns_leave(self);
	if (opened < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return runk_error_errno(err, errno, "remove `%s`", path);
	return 0;
}

/* ---- JSON ---- */

static void gen_string(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static bool is_one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* Write v again, without the path of a namespace of the given types (ns_list: inside
 * linux.namespaces). */
static void gen_value(yajl_gen g, yajl_val v, int depth, bool in_namespaces,
		      const char *const *types)
{
	if (YAJL_IS_OBJECT(v)) {
		bool network = false;

		if (in_namespaces)
			for (size_t i = 0; i < v->u.object.len; i++) {
				const char *type = YAJL_IS_STRING(v->u.object.values[i])
							   ? YAJL_GET_STRING(v->u.object.values[i])
							   : NULL;

				if (strcmp(v->u.object.keys[i], "type") == 0 && type &&
				    is_one_of(type, types))
					network = true;
			}
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			const char *key = v->u.object.keys[i];

			if (network && strcmp(key, "path") == 0)
				continue;
			gen_string(g, key);
			gen_value(g, v->u.object.values[i], depth + 1,
				  depth == 1 && strcmp(key, "namespaces") == 0, types);
		}
		yajl_gen_map_close(g);
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			gen_value(g, v->u.array.values[i], depth + 1, in_namespaces, types);
		yajl_gen_array_close(g);
	} else if (YAJL_IS_STRING(v)) {
		gen_string(g, YAJL_GET_STRING(v));
	} else if (YAJL_IS_NUMBER(v)) {
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else {
		yajl_gen_null(g);
	}
}

static int gen_finish(yajl_gen g, char **out, size_t *out_len, runk_error_t *err)
{
	const unsigned char *buf;
	size_t len;

	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
		yajl_gen_free(g);
		return runk_error(err, "cannot generate JSON");
	}
	*out = strndup((const char *)buf, len);
	*out_len = len;
	yajl_gen_free(g);
	if (*out == NULL)
		abort();
	return 0;
}

int network_guest_config(const char *text, size_t len, char **out, size_t *out_len,
			 runk_error_t *err)
{
	static const char *const network[] = {"network", NULL};

	return guest_config_without_paths(text, len, network, out, out_len, err);
}

int guest_config_without_paths(const char *text, size_t len, const char *const *types, char **out,
			       size_t *out_len, runk_error_t *err)
{
	cleanup_free char *copy = strndup(text, len);
	char errbuf[256] = "";
	yajl_val root;
	yajl_gen g;
	int ret;

	if (copy == NULL)
		abort();
	root = yajl_tree_parse(copy, errbuf, sizeof(errbuf));
	if (root == NULL)
		return runk_error(err, "config.json: %s", errbuf);
	g = yajl_gen_alloc(NULL);
	if (g == NULL)
		abort();
	/* Depth 0 is the document, 1 its members: linux.namespaces is found at depth 1. */
	if (YAJL_IS_OBJECT(root)) {
		yajl_gen_map_open(g);
		for (size_t i = 0; i < root->u.object.len; i++) {
			gen_string(g, root->u.object.keys[i]);
			gen_value(g, root->u.object.values[i],
				  strcmp(root->u.object.keys[i], "linux") == 0 ? 1 : 2, false,
				  types);
		}
		yajl_gen_map_close(g);
	} else {
		gen_value(g, root, 2, false, types);
	}
	yajl_tree_free(root);
	ret = gen_finish(g, out, out_len, err);
	return ret;
}

int network_request_json(const struct net_setup *n, const char *id, char **out, size_t *len,
			 runk_error_t *err)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g == NULL)
		abort();
	yajl_gen_map_open(g);
	gen_string(g, "op");
	gen_string(g, "network");
	gen_string(g, "id");
	gen_string(g, id);
	gen_string(g, "interfaces");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n->n_ifaces; i++) {
		const struct net_iface *iface = &n->ifaces[i];

		yajl_gen_map_open(g);
		gen_string(g, "name");
		gen_string(g, iface->name);
		gen_string(g, "mac");
		gen_string(g, iface->mac);
		gen_string(g, "mtu");
		yajl_gen_integer(g, iface->mtu);
		gen_string(g, "addresses");
		yajl_gen_array_open(g);
		for (size_t j = 0; j < iface->n_addresses; j++)
			gen_string(g, iface->addresses[j]);
		yajl_gen_array_close(g);
		gen_string(g, "routes");
		yajl_gen_array_open(g);
		for (size_t j = 0; j < iface->n_routes; j++) {
			yajl_gen_map_open(g);
			gen_string(g, "dest");
			gen_string(g, iface->routes[j].dest);
			if (iface->routes[j].gateway) {
				gen_string(g, "gateway");
				gen_string(g, iface->routes[j].gateway);
			}
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return gen_finish(g, out, len, err);
}

void network_delete_leftovers(const char *id, const char *state_dir)
{
	cleanup_error runk_error_t err = NULL;

	if (network_remove_leftovers(state_dir, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		log_warning("delete %s: network: %s", id, text);
	}
}
