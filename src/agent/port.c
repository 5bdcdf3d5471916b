/* The two links to the host: the 9p share and the agent's virtio-serial port. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"

/* Devices probe asynchronously after the modules load: wait this long for them. */
#define DEVICE_WAIT_MS 10000
#define DEVICE_POLL_MS 5

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int share_mount(runk_error_t *err)
{
	int last = 0;

	for (long waited = 0; waited <= DEVICE_WAIT_MS; waited += DEVICE_POLL_MS) {
		if (mount("share", AGENT_SHARE_DIR, "9p", 0,
			  "trans=virtio,version=9p2000.L,msize=262144,cache=none") == 0)
			return 0;
		last = errno;
		/* ENOENT: no 9p device with that tag yet. */
		if (last != ENOENT && last != ENODEV)
			break;
		sleep_ms(DEVICE_POLL_MS);
	}
	return runk_error_errno(err, last, "mount 9p share on %s", AGENT_SHARE_DIR);
}

/* /sys/class/virtio-ports/<vportNpM>/name holds the name QEMU gave the port. */
static int port_find(char *dev, size_t size)
{
	cleanup_dir DIR *dir = opendir("/sys/class/virtio-ports");
	struct dirent *de;

	if (dir == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		char path[512], name[64] = "";
		cleanup_close int fd = -1;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, name, sizeof(name) - 1);
		if (n <= 0)
			continue;
		name[n] = '\0';
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, "agent") == 0) {
			snprintf(dev, size, "/dev/%s", de->d_name);
			return 0;
		}
	}
	return -1;
}

int port_open(runk_error_t *err)
{
	char dev[300] = "";
	int fd = -1, last = ENOENT;

	for (long waited = 0; waited <= DEVICE_WAIT_MS; waited += DEVICE_POLL_MS) {
		if (dev[0] == '\0' && port_find(dev, sizeof(dev)) < 0) {
			sleep_ms(DEVICE_POLL_MS);
			continue;
		}
		/* devtmpfs creates the node a moment after sysfs shows the port. */
		fd = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0) {
			log_info("agent port is %s", dev);
			return fd;
		}
		last = errno;
		sleep_ms(DEVICE_POLL_MS);
	}
	if (dev[0] == '\0')
		return runk_error(err, "no virtio-serial port named \"agent\"");
	return runk_error_errno(err, last, "open %s", dev);
}
