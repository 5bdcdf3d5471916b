/*
 * Warming a pooled VM.  Under TCG a restored QEMU starts with an empty
 * translation cache: the first container pays for translating every guest
 * kernel and agent path that creating, starting and ending a container
 * takes (measured: a first `exec` of /bin/true 255 ms, the next ones 55).
 * So before a pooled VM is parked, its keeper runs one throw-away container
 * in it through the agent's ordinary requests: mount-share, create (config
 * and rootfs read over 9p), start (execve from the share), the exit event,
 * delete.  The claim then finds those paths translated.
 *
 * The container is runc's default (runk spec) running /warm, a minimal
 * static x86-64 executable that exits 0, written here into
 * <share>/<WARM_ID>/rootfs.  Nothing of it is left when the VM is parked:
 * the guest deleted the container and the bundle is removed from the share.
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "factory/factory.h"
#include "ocispec.h"
#include "proto.h"
#include "spec.h"
#include "util.h"

#define WARM_ID	    "runk-pool-warm-up"
#define WARM_STREAM 1
#define WARM_BASE   0x400000

/* _exit(0): xor %edi,%edi; mov $60,%eax; syscall */
static const unsigned char exit_code[] = {0x31, 0xff, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x0f, 0x05};

struct tiny_elf {
	Elf64_Ehdr ehdr;
	Elf64_Phdr phdr;
	unsigned char code[sizeof(exit_code)];
} __attribute__((packed));

static int write_exit_program(const char *path, runk_error_t *err)
{
	struct tiny_elf elf = {
		.ehdr = {.e_ident = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
				     EV_CURRENT, ELFOSABI_SYSV},
			 .e_type = ET_EXEC,
			 .e_machine = EM_X86_64,
			 .e_version = EV_CURRENT,
			 .e_entry = WARM_BASE + offsetof(struct tiny_elf, code),
			 .e_phoff = offsetof(struct tiny_elf, phdr),
			 .e_ehsize = sizeof(Elf64_Ehdr),
			 .e_phentsize = sizeof(Elf64_Phdr),
			 .e_phnum = 1},
		.phdr = {.p_type = PT_LOAD,
			 .p_flags = PF_R | PF_X,
			 .p_vaddr = WARM_BASE,
			 .p_paddr = WARM_BASE,
			 .p_filesz = sizeof(struct tiny_elf),
			 .p_memsz = sizeof(struct tiny_elf),
			 .p_align = 0x1000},
	};
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);

	memcpy(elf.code, exit_code, sizeof(exit_code));
	if (fd < 0 || write_all(fd, &elf, sizeof(elf)) < 0)
		return runk_error_errno(err, errno, "write `%s`", path);
	return 0;
}

/* runk spec's container, without a terminal, running /warm. */
static int write_config(const char *path, runk_error_t *err)
{
	cleanup_free char *text = spec_default_text(false), *parse_error = NULL, *json = NULL;
	struct oci_config *config = oci_config_parse_data(text, strlen(text), &parse_error);

	if (config == NULL)
		return runk_error(err, "internal error: default spec: %s", parse_error);
	config->process->terminal = false;
	free(config->process->args[0]);
	config->process->args[0] = strdup("/warm");
	if (config->process->args[0] == NULL)
		abort();
	json = oci_config_generate(config, &parse_error);
	oci_config_free(config);
	if (json == NULL)
		return runk_error(err, "internal error: generate the warm-up config: %s",
				  parse_error);
	return write_file_atomic(path, json, strlen(json), 0644, err);
}

/* With the mount points made here, the guest only reads the bundle. */
static int write_bundle(const char *dir, runk_error_t *err)
{
	static const char *const mount_points[] = {"proc", "dev", "sys"};
	cleanup_free char *rootfs = NULL, *program = NULL, *config = NULL;

	if (asprintf(&rootfs, "%s/rootfs", dir) < 0 || asprintf(&program, "%s/warm", rootfs) < 0 ||
	    asprintf(&config, "%s/config.json", dir) < 0)
		abort();
	if (mkdir_p(rootfs, 0755, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(mount_points) / sizeof(mount_points[0]); i++) {
		cleanup_free char *path = NULL;

		if (asprintf(&path, "%s/%s", rootfs, mount_points[i]) < 0)
			abort();
		if (mkdir(path, 0755) < 0)
			return runk_error_errno(err, errno, "mkdir `%s`", path);
	}
	if (write_exit_program(program, err) < 0 || write_config(config, err) < 0)
		return -1;
	return 0;
}

static int request(struct agent_conn *agent, const char *op, runk_error_t *err)
{
	struct proto_json *json = proto_json_new();

	proto_json_add_string(json, "op", op);
	proto_json_add_string(json, "id", WARM_ID);
	if (strcmp(op, "create") == 0)
		proto_json_add_int(json, "stream", WARM_STREAM);
	if (factory_agent_call(agent, json, err) < 0)
		return runk_error_prefix(err, "warm-up %s", op);
	return 0;
}

/* As a shim drives one: the share, create, start, its exit, delete. */
static int container_life(struct agent_conn *agent, runk_error_t *err)
{
	if (factory_agent_simple(agent, "mount-share", err) < 0 ||
	    request(agent, "create", err) < 0 || request(agent, "start", err) < 0 ||
	    factory_agent_wait_exit(agent, WARM_STREAM, err) < 0)
		return -1;
	return request(agent, "delete", err);
}

int factory_warm(struct agent_conn *agent, const char *share, runk_error_t *err)
{
	cleanup_free char *dir = NULL;
	int ret;

	if (asprintf(&dir, "%s/%s", share, WARM_ID) < 0)
		abort();
	if (write_bundle(dir, err) < 0) {
		remove_tree(dir, NULL);
		return -1;
	}
	ret = container_life(agent, err);
	remove_tree(dir, NULL);
	return ret;
}
