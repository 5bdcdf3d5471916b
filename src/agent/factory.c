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

#define CPU_SYSFS "/sys/devices/system/cpu"
#define CPUS_MAX  4096

/* The vCPUs the kernel knows (online or not): cpu0, cpu1, ... up to the first missing one. */
static long long cpus_present(void)
{
	long long n = 1;

	for (; n < CPUS_MAX; n++) {
		char path[64];

		snprintf(path, sizeof(path), CPU_SYSFS "/cpu%lld", n);
		if (access(path, F_OK) < 0)
			break;
	}
	return n;
}

/* cpuK/online: 1 or 0; cpu0 has no such file and is always online. */
static int cpu_online(long long cpu, runk_error_t *err)
{
	char path[64], value[2] = "";
	cleanup_close int fd = -1;

	if (cpu == 0)
		return 1;
	snprintf(path, sizeof(path), CPU_SYSFS "/cpu%lld/online", cpu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, value, 1) != 1)
		return runk_error_errno(err, errno, "read %s", path);
	return value[0] == '1';
}

static int cpu_set_online(long long cpu, bool on, runk_error_t *err)
{
	char path[64];
	cleanup_close int fd = -1;

	snprintf(path, sizeof(path), CPU_SYSFS "/cpu%lld/online", cpu);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, on ? "1" : "0", 1) != 1)
		return runk_error_errno(err, errno, "%s vCPU %lld", on ? "bring up" : "take down",
					cpu);
	return 0;
}

int op_cpus(struct agent *agent, yajl_val req, struct proto_json *reply, runk_error_t *err)
{
	long long online = 0, present = cpus_present(), count = 0;

	if (proto_json_get_int(req, "online", 1, CPUS_MAX, &online, err) < 0)
		return -1;
	if (online > present)
		return runk_error(err, "\"online\": %lld vCPUs asked for, the VM has %lld", online,
				  present);
	/*
	 * cpu1..online-1 up (a clone of a maxcpus=1 template, a pod that grew),
	 * the rest down, highest first (a pod that shrank: the kernel moves
	 * their tasks away).  Up before down, so the count never dips.
	 */
	for (long long cpu = 1; cpu < online; cpu++) {
		int on = cpu_online(cpu, err);

		if (on < 0 || (!on && cpu_set_online(cpu, true, err) < 0))
			return -1;
	}
	for (long long cpu = present - 1; cpu >= online; cpu--) {
		int on = cpu_online(cpu, err);

		if (on < 0 || (on && cpu_set_online(cpu, false, err) < 0))
			return -1;
	}
	for (long long cpu = 0; cpu < present; cpu++) {
		int on = cpu_online(cpu, err);

		if (on < 0)
			return -1;
		count += on;
	}
	proto_json_add_int(reply, "online", count);
	return 0;
}
