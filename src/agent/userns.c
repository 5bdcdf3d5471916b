/*
 * Namespaces that need the agent's help: a user namespace's uid/gid maps,
 * written by the agent (root in the guest's initial namespace) while the
 * container's init waits, and a fresh network namespace's loopback, brought
 * up as runc does.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "ocispec.h"

static int map_write(pid_t pid, const char *file, struct oci_linux_id_mapping **maps, size_t len,
		     const char *field, runk_error_t *err)
{
	cleanup_free char *text = NULL;
	cleanup_close int fd = -1;
	char path[64];
	size_t used = 0;

	if (len == 0)
		return runk_error(err, "linux.%s: a user namespace needs at least one mapping",
				  field);
	text = calloc(len, 3 * 11);
	if (text == NULL)
		abort();
	for (size_t i = 0; i < len; i++) {
		if (maps[i]->size == 0)
			return runk_error(err, "linux.%s[%zu].size: 0", field, i);
		used += (size_t)sprintf(text + used, "%u %u %u\n", maps[i]->container_id,
					maps[i]->host_id, maps[i]->size);
	}
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return runk_error_errno(err, errno, "linux.%s: open %s", field, path);
	if (write(fd, text, used) != (ssize_t)used)
		return runk_error_errno(err, errno, "linux.%s: write %s", field, path);
	return 0;
}

int userns_write_maps(pid_t pid, const struct oci_linux *linux, runk_error_t *err)
{
	if (map_write(pid, "uid_map", linux->uid_mappings, linux->uid_mappings_len, "uidMappings",
		      err) < 0)
		return -1;
	return map_write(pid, "gid_map", linux->gid_mappings, linux->gid_mappings_len,
			 "gidMappings", err);
}

int net_loopback_up(runk_error_t *err)
{
	cleanup_close int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;

	if (sock < 0)
		return runk_error_errno(err, errno, "network namespace: socket");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return runk_error_errno(err, errno, "network namespace: get the flags of lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return runk_error_errno(err, errno, "network namespace: bring lo up");
	return 0;
}
