/*
 * VM templates, the guest's side.  A template's memory is shared by every
 * clone, so at boot it must not mount the share (a mounted 9p share blocks
 * migration, and the clone's share is its own) and must not have read
 * anything per-VM such as boot_id.  After restore the host sends ping,
 * settime, reseed (the clones' CRNG state is the template's until then) and
 * mount-share, then create.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"
#include "factory.h"

#define TEMPLATE_PARAM	 "runk.template=1"
#define RESEED_MIN_BYTES 32
#define RESEED_MAX_BYTES 512

static bool share_mounted;

bool factory_template_boot(void)
{
	static int cached = -1;
	char cmdline[4096] = "";
	const char *p;
	size_t len = strlen(TEMPLATE_PARAM);
	int fd;

	if (cached >= 0)
		return cached;
	cached = 0;
	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, cmdline, sizeof(cmdline) - 1);

		cmdline[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	/* A whole word: runk.template=10 is not it. */
	for (p = cmdline; (p = strstr(p, TEMPLATE_PARAM)) != NULL; p += len) {
		bool starts = p == cmdline || p[-1] == ' ';
		bool ends = p[len] == '\0' || p[len] == ' ' || p[len] == '\n';

		if (starts && ends) {
			cached = 1;
			break;
		}
	}
	return cached;
}

int factory_boot_share(runk_error_t *err)
{
	if (factory_template_boot()) {
		log_info("template boot: the share waits for mount-share");
		return 0;
	}
	if (share_mount(err) < 0)
		return -1;
	share_mounted = true;
	return 0;
}

int op_mount_share(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	if (share_mounted)
		return 0;
	if (share_mount(err) < 0)
		return -1;
	share_mounted = true;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long factory_hex_decode(const char *hex, unsigned char *buf, size_t size)
{
	size_t len = strlen(hex);

	if (len % 2 != 0 || len / 2 > size)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

int op_reseed(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	struct {
		struct rand_pool_info info;
		unsigned char bytes[RESEED_MAX_BYTES];
	} pool;
	cleanup_close int fd = -1;
	const char *hex;
	long n;

	if (proto_json_get_string(req, "entropy", &hex, err) < 0)
		return -1;
	n = factory_hex_decode(hex, pool.bytes, sizeof(pool.bytes));
	if (n < RESEED_MIN_BYTES)
		return runk_error(err, "\"entropy\": expected %d to %d bytes in hex",
				  RESEED_MIN_BYTES, RESEED_MAX_BYTES);
	pool.info.entropy_count = (int)n * 8;
	pool.info.buf_size = (int)n;
	fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return runk_error_errno(err, errno, "open /dev/urandom");
	if (ioctl(fd, RNDADDENTROPY, &pool.info) < 0)
		return runk_error_errno(err, errno, "RNDADDENTROPY");
	/* Without this the clones' CRNGs run on the template's key until the next timed reseed. */
	if (ioctl(fd, RNDRESEEDCRNG) < 0)
		return runk_error_errno(err, errno, "RNDRESEEDCRNG");
	explicit_bzero(pool.bytes, sizeof(pool.bytes));
	return 0;
}

int op_cpus(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	long long online = 0;

	if (proto_json_get_int(req, "online", 1, 4096, &online, err) < 0)
		return -1;
	/* The template booted with maxcpus=1: bring up cpu1..online-1, which must be present. */
	for (long long cpu = 1; cpu < online; cpu++) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%lld/online", cpu);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return runk_error_errno(err, errno, "vCPU %lld", cpu);
		if (write(fd, "1", 1) != 1) {
			int saved = errno;

			close(fd);
			return runk_error_errno(err, saved, "bring vCPU %lld online", cpu);
		}
		close(fd);
	}
	return 0;
}
