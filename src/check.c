/* runk check: can runk run a container here?  One line per check, with the fix when it fails. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "context.h"
#include "factory/factory.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/jail.h"
#include "util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static int failures;

static void report(bool ok, const char *what, const char *detail, const char *fix)
{
	printf("%-4s %-12s %s", ok ? "ok" : "fail", what, detail);
	if (!ok && fix)
		printf(" (fix: %s)", fix);
	printf("\n");
	if (!ok)
		failures++;
}

/* The first line a command prints that starts with prefix ("" = the first line), or NULL. */
static char *line_of(const char *path, const char *arg, const char *prefix)
{
	char *line = NULL;
	size_t cap = 0;
	int pipefd[2];
	FILE *f;
	pid_t pid;

	if (pipe(pipefd) < 0)
		return NULL;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		execl(path, path, arg, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	f = fdopen(pipefd[0], "r");
	while (f && getline(&line, &cap, f) >= 0 && strncmp(line, prefix, strlen(prefix)) != 0)
		;
	if (f == NULL || ferror(f) || feof(f)) {
		free(line);
		line = NULL;
	}
	if (f)
		fclose(f);
	else
		close(pipefd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (line)
		line[strcspn(line, "\n")] = '\0';
	return line;
}

static void check_qemu(const struct runk_conf *conf)
{
	cleanup_free char *version = NULL;
	char detail[512];

	if (access(conf->qemu_path, X_OK) < 0) {
		snprintf(detail, sizeof(detail), "%s: %s", conf->qemu_path, strerror(errno));
		report(false, "qemu", detail,
		       "apt-get install qemu-system-x86, or set [hypervisor] path");
		return;
	}
	version = line_of(conf->qemu_path, "--version", "");
	snprintf(detail, sizeof(detail), "%s (%s)", conf->qemu_path,
		 version ? version : "version unknown");
	report(version != NULL, "qemu", detail, "check that QEMU runs");
}

/* kernel.info, written by make guest next to the kernel: flavor=, version=. */
static void kernel_info(const char *kernel, char *out, size_t len)
{
	cleanup_free char *path = NULL, *text = NULL;
	const char *dir_end = strrchr(kernel, '/');
	char flavor[64] = "unknown", version[64] = "unknown";

	if (asprintf(&path, "%.*s/kernel.info", dir_end ? (int)(dir_end - kernel) : 1,
		     dir_end ? kernel : ".") < 0)
		abort();
	if (read_file(path, 4096, &text, NULL, NULL) == 0) {
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
			sscanf(line, "flavor=%63s", flavor);
			sscanf(line, "version=%63s", version);
		}
	}
	snprintf(out, len, "%s kernel %s", flavor, version);
}

static void check_file(const char *what, const char *path)
{
	char detail[600], info[160] = "";

	if (access(path, R_OK) < 0) {
		snprintf(detail, sizeof(detail), "%s: %s", path, strerror(errno));
		report(false, what, detail,
		       "run make guest && make install, or set [hypervisor] path");
		return;
	}
	if (strcmp(what, "kernel") == 0)
		kernel_info(path, info, sizeof(info));
	snprintf(detail, sizeof(detail), "%s%s%s%s", path, *info ? " (" : "", info,
		 *info ? ")" : "");
	report(true, what, detail, NULL);
}

static void check_accel(const struct runk_conf *conf)
{
	cleanup_error runk_error_t err = NULL;
	enum vm_accel requested, chosen;
	const char *why = NULL;
	char detail[256];

	if (vm_accel_parse(conf->accel, &requested, &err) < 0 ||
	    vm_accel_resolve(requested, &chosen, &why, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		report(false, "accelerator", text, "set [hypervisor] accel = tcg");
		return;
	}
	snprintf(detail, sizeof(detail), "%s (%s)", vm_accel_name(chosen),
		 why ? why : "configured");
	report(true, "accelerator", detail, NULL);
}

/* How QEMU is confined (hypervisor/jail.h, docs/SECURITY.md). */
static void check_jail(const struct runk_conf *conf)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_free char *sandbox = line_of(conf->qemu_path, "-help", "-sandbox");
	char detail[512];
	uid_t uid;
	gid_t gid;

	report(true, "sandbox",
	       sandbox ? "QEMU -sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
			 "resourcecontrol=deny"
		       : "off: this QEMU has no -sandbox (built without seccomp)",
	       NULL);
	if (!conf->jail) {
		report(true, "jail",
		       "off ([hypervisor] jail = false): QEMU sees the host's files as root", NULL);
		return;
	}
	if (conf->jail_user == NULL || *conf->jail_user == '\0') {
		snprintf(detail, sizeof(detail),
			 "on: QEMU pivoted into <state>/<id>/jail, as root with only %s, "
			 "no signals or ptrace to other processes",
			 vm_jail_root_caps());
		report(true, "jail", detail, NULL);
		return;
	}
	if (vm_jail_parse_user(conf->jail_user, &uid, &gid, &err) < 0) {
		cleanup_free char *text = runk_error_text(err);

		report(false, "jail", text,
		       "set [hypervisor] user to an existing unprivileged user");
		return;
	}
	snprintf(detail, sizeof(detail),
		 "on: QEMU pivoted into <state>/<id>/jail, as user %s (%u:%u) with no "
		 "capabilities, no signals or ptrace to other processes",
		 conf->jail_user, (unsigned int)uid, (unsigned int)gid);
	report(true, "jail", detail, NULL);
}

static void check_cgroups(void)
{
	cleanup_free char *controllers = NULL;
	struct statfs fs;
	char detail[512];

	if (statfs("/sys/fs/cgroup", &fs) < 0) {
		report(false, "cgroups", "/sys/fs/cgroup is not mounted",
		       "mount cgroup2 or cgroup v1");
		return;
	}
	if ((unsigned long)fs.f_type == CGROUP2_SUPER_MAGIC) {
		read_file("/sys/fs/cgroup/cgroup.controllers", 4096, &controllers, NULL, NULL);
		if (controllers)
			controllers[strcspn(controllers, "\n")] = '\0';
		snprintf(detail, sizeof(detail), "v2, controllers: %s",
			 controllers ? controllers : "none");
	} else {
		bool hybrid = statfs("/sys/fs/cgroup/unified", &fs) == 0 &&
			      (unsigned long)fs.f_type == CGROUP2_SUPER_MAGIC;

		snprintf(detail, sizeof(detail), "v1%s",
			 hybrid ? " (hybrid, v2 at /sys/fs/cgroup/unified)" : "");
	}
	report(true, "cgroups", detail, NULL);
}

/* Informational: templates are an optimisation, a VM boots cold without them. */
static void check_factory(const struct runk_conf *conf)
{
	cleanup_free char *summary = NULL;

	if (!conf->template_enabled) {
		report(true, "factory", "off ([factory] template = false): every VM boots cold",
		       NULL);
		return;
	}
	summary = factory_summary(conf);
	report(true, "factory", summary, NULL);
}

static int cmd_check(struct runk_globals *g, struct cli_parsed *p, runk_error_t *err)
{
	struct runk_conf conf;
	cleanup_error runk_error_t conf_err = NULL;
	char detail[512];

	(void)p;
	failures = 0;
	if (runk_conf_load(g->config_path, &conf, &conf_err) < 0) {
		cleanup_free char *text = runk_error_text(conf_err);

		report(false, "runk.conf", text, "correct the file named");
		runk_conf_release(&conf);
		return runk_error(err, "runk cannot run containers here: %d check(s) failed",
				  failures);
	}
	snprintf(detail, sizeof(detail), "%s", conf.source ? conf.source : "built-in defaults");
	report(true, "runk.conf", detail, NULL);
	check_qemu(&conf);
	check_file("kernel", conf.kernel);
	check_file("initrd", conf.initrd);
	check_accel(&conf);
	check_jail(&conf);
	check_cgroups();
	check_factory(&conf);
	runk_conf_release(&conf);
	if (failures)
		return runk_error(err, "runk cannot run containers here: %d check(s) failed",
				  failures);
	return 0;
}

const struct cli_command runk_cmd_check = {
	.name = "check",
	.usage = "",
	.summary = "check that runk can run containers here",
	.min_args = 0,
	.max_args = 0,
	.run = cmd_check,
};
