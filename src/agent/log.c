/* The agent's log: /dev/kmsg, so messages reach the serial console and dmesg. */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "agent.h"
#include "cleanup.h"

static int log_fd = -1;
static bool log_debug;

void agent_log_open(void)
{
	char cmdline[4096] = "";
	int fd;

	log_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (log_fd < 0)
		log_fd = open("/dev/console", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, cmdline, sizeof(cmdline) - 1);

		if (n > 0)
			cmdline[n] = '\0';
		close(fd);
	}
	log_debug = strstr(cmdline, "runk.debug") != NULL;
}

void agent_log(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (log_fd < 0 || (level > 3 && !log_debug))
		return;
	n = snprintf(line, sizeof(line), "<%d>runk-agent: ", level);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	/* Best effort: there is nowhere else to report a failing log. */
	if (write(log_fd, line, strlen(line)) < 0)
		return;
}

void agent_log_err(const char *what, runk_error_t err)
{
	cleanup_free char *text = runk_error_text(err);

	log_error("%s: %s", what, text);
}

void agent_power_off(void)
{
	char cmdline[4096] = "";
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, cmdline, sizeof(cmdline) - 1) < 0)
			cmdline[0] = '\0';
		close(fd);
	}
	sync();
	/*
	 * Without ACPI, RB_POWER_OFF only halts the CPU; such guests boot with
	 * reboot=t and QEMU runs with -no-reboot, so a reboot ends QEMU.
	 */
	if (strstr(cmdline, "acpi=off"))
		reboot(RB_AUTOBOOT);
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

void agent_fatal(const char *what, runk_error_t err)
{
	agent_log_err(what, err);
	log_error("fatal error, powering off");
	agent_power_off();
}
