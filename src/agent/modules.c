/*
 * Kernel modules for a modular guest kernel (Debian's generic one needs the
 * virtio, virtio-serial and 9p modules).  guest/ lists them in load order in
 * /lib/modules/runk.order, one path a line; there is no modules.dep and no
 * modprobe.  A kernel with everything built in ships no runk.order.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"

static int module_load(const char *path, runk_error_t *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return runk_error_errno(err, errno, "open module %s", path);
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
		return runk_error_errno(err, errno, "load module %s", path);
	return 0;
}

int modules_load(const char *order_path, runk_error_t *err)
{
	cleanup_fclose FILE *f = fopen(order_path, "re");
	cleanup_free char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		return runk_error_errno(err, errno, "open %s", order_path);
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *path = line + strspn(line, " \t");

		path[strcspn(path, " \t\r\n")] = '\0';
		if (path[0] == '\0' || path[0] == '#')
			continue;
		if (module_load(path, err) < 0)
			return -1;
		log_info("loaded %s", path);
	}
	return 0;
}
