/*
 * libFuzzer target for runk.conf: the input is the file.  runk_conf_load
 * either succeeds with every string set and the values in range, or fails
 * with a message; either way runk_conf_release frees everything (LeakSanitizer
 * checks).
 */
#include "config.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runkconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct runk_conf conf;
	runk_error_t err = NULL;
	char path[64];
	int ret;

	if (fd < 0)
		fd = memfd_create("runk.conf", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ret = runk_conf_load(path, &conf, &err);
	if (ret == 0) {
		if (err != NULL || conf.qemu_path == NULL || conf.kernel == NULL ||
		    conf.initrd == NULL || conf.kernel_params == NULL || conf.accel == NULL ||
		    conf.default_vcpus == NULL || conf.log_level == NULL || conf.source == NULL ||
		    conf.template_dir == NULL || conf.allowed_annotations == NULL)
			abort();
		if (strcmp(conf.accel, "auto") && strcmp(conf.accel, "kvm") &&
		    strcmp(conf.accel, "tcg"))
			abort();
	} else if (err == NULL) {
		abort(); /* a failure always says why */
	}
	runk_error_free(&err);
	runk_conf_release(&conf);
	return 0;
}
