/*
 * libocispec: config.json, process, state and features documents parsed,
 * generated, and refused with the exact JSON path of the problem.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocispec.h"
#include "testlib.h"

#ifndef OCISPEC_TESTDATA
#define OCISPEC_TESTDATA "tests/ocispec"
#endif

/* runc spec's default config.json, trimmed of nothing that matters here. */
static const char runc_default[] =
	"{\"ociVersion\":\"1.2.0\",\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},"
	"\"args\":[\"sh\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:"
	"/bin\",\"TERM=xterm\"],\"cwd\":\"/\",\"capabilities\":{\"bounding\":[\"CAP_AUDIT_WRITE\","
	"\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\","
	"\"CAP_NET_BIND_SERVICE\"],\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\","
	"\"CAP_NET_BIND_SERVICE\"]},\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,"
	"\"soft\":1024}],\"noNewPrivileges\":true},\"root\":{\"path\":\"rootfs\",\"readonly\":true}"
	","
	"\"hostname\":\"runc\",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":"
	"\"proc\"},{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":["
	"\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},{\"destination\":\"/dev/pts\","
	"\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\","
	"\"newinstance\","
	"\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},{\"destination\":\"/sys\",\"type\":\"sysfs\","
	"\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}],\"linux\":{"
	"\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},\"namespaces\":[{"
	"\"type\":"
	"\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"}"
	","
	"{\"type\":\"cgroup\"}],\"maskedPaths\":[\"/proc/acpi\",\"/proc/"
	"kcore\"],\"readonlyPaths\":["
	"\"/proc/bus\",\"/proc/sys\"]}}";

static char *read_data(const char *name)
{
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", OCISPEC_TESTDATA, name);
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void test_runc_default(void)
{
	char *err = NULL;
	struct oci_config *c = oci_config_parse_data(runc_default, strlen(runc_default), &err);

	is_str(err, NULL, "runc default: no error");
	ok(c != NULL, "runc default: parses");
	if (c == NULL)
		return;
	is_str(c->oci_version, "1.2.0", "runc default: ociVersion");
	ok(c->process && c->process->terminal, "runc default: process.terminal");
	ok(c->process->user && c->process->user->uid == 0 && !c->process->user->has_umask,
	   "runc default: user uid 0, no umask");
	ok(c->process->args_len == 1 && strcmp(c->process->args[0], "sh") == 0 &&
		   c->process->args[1] == NULL,
	   "runc default: args NULL-terminated");
	is_str(c->process->cwd, "/", "runc default: cwd");
	ok(c->process->capabilities->bounding_len == 3 &&
		   c->process->capabilities->inheritable == NULL,
	   "runc default: capabilities, absent inheritable is NULL");
	ok(c->process->rlimits_len == 1 && c->process->rlimits[0]->hard == 1024,
	   "runc default: rlimits");
	ok(!c->process->has_oom_score_adj, "runc default: no oomScoreAdj");
	ok(c->root && c->root->readonly, "runc default: root readonly");
	is_str(c->root->path, "rootfs", "runc default: root.path");
	ok(c->mounts_len == 4 && c->mounts[4] == NULL, "runc default: 4 mounts");
	is_str(c->mounts[1]->options[2], "mode=755", "runc default: mount options");
	ok(c->linux && c->linux->namespaces_len == 6, "runc default: 6 namespaces");
	is_str(c->linux->namespaces[5]->type, "cgroup", "runc default: namespace type");
	ok(c->linux->namespaces[0]->path == NULL, "runc default: namespace without path");
	ok(c->linux->resources->devices_len == 1 && !c->linux->resources->devices[0]->allow &&
		   !c->linux->resources->devices[0]->has_major,
	   "runc default: device cgroup rule");
	ok(c->linux->resources->memory == NULL && c->linux->resources->cpu == NULL,
	   "runc default: no memory/cpu");
	ok(c->annotations == NULL && c->hooks == NULL, "runc default: no annotations/hooks");
	oci_config_free(c);
}

/* Every field of full-config.json, checked on the first parse and after a round trip. */
static void check_full(const struct oci_config *c, const char *when)
{
	const struct oci_process *p = c->process;
	const struct oci_linux *l = c->linux;
	const struct oci_linux_resources *r = l ? l->resources : NULL;

	if (p == NULL || l == NULL || r == NULL || c->root == NULL || c->hooks == NULL) {
		ok(0, "%s: has process, root, hooks, linux, resources", when);
		return;
	}
	is_str(c->oci_version, "1.2.0", "%s: ociVersion", when);
	ok(p->terminal && p->console_size->height == 25 && p->console_size->width == 80,
	   "%s: terminal, consoleSize", when);
	ok(p->user->uid == 1000 && p->user->gid == 1001 && p->user->has_umask &&
		   p->user->umask == 18 && p->user->additional_gids_len == 3 &&
		   p->user->additional_gids[2] == UINT32_MAX,
	   "%s: user", when);
	is_str(p->user->username, "alice", "%s: username", when);
	ok(p->args_len == 3 && strcmp(p->args[2], "echo hi") == 0, "%s: args", when);
	is_str(p->command_line, "sh -c \"echo hi\"", "%s: commandLine", when);
	ok(p->env_len == 2 && strcmp(p->env[1], "TERM=xterm") == 0, "%s: env", when);
	is_str(p->cwd, "/work", "%s: cwd", when);
	ok(p->capabilities->bounding_len == 2 && p->capabilities->effective_len == 1 &&
		   p->capabilities->inheritable != NULL && p->capabilities->inheritable_len == 0 &&
		   p->capabilities->permitted_len == 1 && p->capabilities->ambient_len == 1 &&
		   strcmp(p->capabilities->ambient[0], "CAP_CHOWN") == 0,
	   "%s: capabilities (empty inheritable kept)", when);
	ok(p->rlimits_len == 2 && p->rlimits[1]->hard == UINT64_MAX && p->rlimits[1]->soft == 0,
	   "%s: rlimits", when);
	ok(p->no_new_privileges, "%s: noNewPrivileges", when);
	is_str(p->apparmor_profile, "acme_secure_profile", "%s: apparmorProfile", when);
	ok(p->has_oom_score_adj && p->oom_score_adj == -1000, "%s: oomScoreAdj", when);
	ok(p->scheduler && strcmp(p->scheduler->policy, "SCHED_DEADLINE") == 0 &&
		   p->scheduler->nice == -20 && p->scheduler->priority == 99 &&
		   p->scheduler->flags_len == 1 && p->scheduler->runtime == 42000 &&
		   p->scheduler->deadline == 1000000 && p->scheduler->period == 1000000,
	   "%s: scheduler", when);
	is_str(p->selinux_label, "system_u:system_r:svirt_lxc_net_t:s0:c124,c675", "%s: selinux",
	       when);
	ok(p->io_priority && strcmp(p->io_priority->class, "IOPRIO_CLASS_IDLE") == 0 &&
		   p->io_priority->priority == 4,
	   "%s: ioPriority", when);
	ok(p->exec_cpu_affinity && strcmp(p->exec_cpu_affinity->initial, "7") == 0 &&
		   strcmp(p->exec_cpu_affinity->final, "0-3,7") == 0,
	   "%s: execCPUAffinity", when);
	ok(c->root->readonly && strcmp(c->root->path, "rootfs") == 0, "%s: root", when);
	is_str(c->hostname, "slartibartfast", "%s: hostname", when);
	is_str(c->domainname, "example.org", "%s: domainname", when);
	ok(c->mounts_len == 2 && c->mounts[1]->options_len == 2 &&
		   c->mounts[1]->uid_mappings_len == 1 &&
		   c->mounts[1]->uid_mappings[0]->host_id == 100000 &&
		   c->mounts[1]->gid_mappings[0]->host_id == 200000 &&
		   c->mounts[1]->gid_mappings[0]->size == 65536 && c->mounts[0]->options == NULL,
	   "%s: mounts", when);
	ok(c->hooks->prestart_len == 1 && c->hooks->prestart[0]->args_len == 2 &&
		   c->hooks->prestart[0]->env_len == 1 && !c->hooks->prestart[0]->has_timeout &&
		   c->hooks->create_runtime[0]->has_timeout &&
		   c->hooks->create_runtime[0]->timeout == 5 &&
		   strcmp(c->hooks->create_container[0]->path, "/usr/bin/create-container") == 0 &&
		   strcmp(c->hooks->start_container[0]->path, "/usr/bin/start-container") == 0 &&
		   c->hooks->poststart_len == 1 && c->hooks->poststop[0]->args_len == 2,
	   "%s: hooks", when);
	ok(c->annotations && c->annotations->len == 2 &&
		   strcmp(oci_string_map_get(c->annotations, "com.example.key2"), "value2") == 0,
	   "%s: annotations", when);
	ok(l->uid_mappings_len == 1 && l->uid_mappings[0]->size == 32000 &&
		   l->gid_mappings_len == 1 && l->gid_mappings[0]->host_id == 1000,
	   "%s: linux id mappings", when);
	ok(l->time_offsets && l->time_offsets->len == 2 &&
		   strcmp(l->time_offsets->keys[0], "monotonic") == 0 &&
		   l->time_offsets->values[0]->secs == INT64_MIN &&
		   l->time_offsets->values[0]->nanosecs == 999999999 &&
		   l->time_offsets->values[1]->secs == 1,
	   "%s: timeOffsets", when);
	is_str(oci_string_map_get(l->sysctl, "net.core.somaxconn"), "256", "%s: sysctl", when);
	ok(r->devices_len == 2 && r->devices[1]->allow && r->devices[1]->has_major &&
		   r->devices[1]->major == 10 && r->devices[1]->minor == 229 &&
		   strcmp(r->devices[1]->type, "c") == 0 &&
		   strcmp(r->devices[1]->access, "rw") == 0,
	   "%s: resources.devices", when);
	ok(r->memory && r->memory->has_limit && r->memory->limit == INT64_MAX &&
		   r->memory->reservation == 536870912 && r->memory->swap == -1 &&
		   r->memory->kernel == -1 && r->memory->has_kernel_tcp &&
		   r->memory->kernel_tcp == 0 && r->memory->has_swappiness &&
		   r->memory->swappiness == 0 && r->memory->has_disable_oom_killer &&
		   !r->memory->disable_oom_killer && r->memory->use_hierarchy &&
		   r->memory->has_check_before_update && r->memory->check_before_update,
	   "%s: memory", when);
	ok(r->cpu && r->cpu->shares == UINT64_MAX && r->cpu->has_quota && r->cpu->quota == -1 &&
		   r->cpu->burst == 1000 && r->cpu->period == 100000 &&
		   r->cpu->realtime_runtime == INT64_MIN && r->cpu->realtime_period == 1000000 &&
		   strcmp(r->cpu->cpus, "2-3") == 0 && strcmp(r->cpu->mems, "0-7") == 0 &&
		   r->cpu->has_idle && r->cpu->idle == 1,
	   "%s: cpu", when);
	ok(r->pids && r->pids->has_limit && r->pids->limit == 32771, "%s: pids", when);
	ok(r->block_io && r->block_io->weight == 10 && r->block_io->leaf_weight == 65535 &&
		   r->block_io->weight_device_len == 2 &&
		   r->block_io->weight_device[0]->weight == 500 &&
		   r->block_io->weight_device[0]->leaf_weight == 300 &&
		   !r->block_io->weight_device[1]->has_weight &&
		   r->block_io->throttle_read_bps_device[0]->rate == 600 &&
		   r->block_io->throttle_write_bps_device[0]->rate == UINT64_MAX &&
		   r->block_io->throttle_read_iops_device[0]->minor == 2 &&
		   r->block_io->throttle_write_iops_device[0]->minor == 3,
	   "%s: blockIO", when);
	ok(r->hugepage_limits_len == 2 && strcmp(r->hugepage_limits[1]->page_size, "64KB") == 0 &&
		   r->hugepage_limits[0]->limit == 209715200,
	   "%s: hugepageLimits", when);
	ok(r->network && r->network->class_id == 1048577 && r->network->priorities_len == 2 &&
		   strcmp(r->network->priorities[1]->name, "eth1") == 0 &&
		   r->network->priorities[1]->priority == 1000,
	   "%s: network", when);
	ok(r->rdma && r->rdma->len == 3 && strcmp(r->rdma->keys[1], "mlx4_0") == 0 &&
		   r->rdma->values[0]->hca_handles == 3 && !r->rdma->values[1]->has_hca_handles &&
		   r->rdma->values[1]->hca_objects == 1000 && !r->rdma->values[2]->has_hca_objects,
	   "%s: rdma", when);
	is_str(oci_string_map_get(r->unified, "memory.high"), "max", "%s: unified", when);
	is_str(l->cgroups_path, "/myRuntime/myContainer", "%s: cgroupsPath", when);
	ok(l->namespaces_len == 8 && strcmp(l->namespaces[1]->path, "/proc/1234/ns/net") == 0 &&
		   strcmp(l->namespaces[7]->type, "time") == 0,
	   "%s: namespaces", when);
	ok(l->devices_len == 2 && l->devices[0]->has_file_mode && l->devices[0]->file_mode == 438 &&
		   l->devices[0]->has_uid && l->devices[0]->has_gid && !l->devices[1]->has_uid &&
		   l->devices[1]->major == 8,
	   "%s: devices", when);
	ok(l->seccomp && strcmp(l->seccomp->default_action, "SCMP_ACT_ERRNO") == 0 &&
		   l->seccomp->default_errno_ret == 38 && l->seccomp->architectures_len == 2 &&
		   l->seccomp->flags_len == 1 &&
		   strcmp(l->seccomp->listener_path, "/run/seccomp-agent.socket") == 0 &&
		   strcmp(l->seccomp->listener_metadata, "metadata") == 0 &&
		   l->seccomp->syscalls_len == 2 && l->seccomp->syscalls[0]->errno_ret == 1 &&
		   !l->seccomp->syscalls[1]->has_errno_ret &&
		   l->seccomp->syscalls[1]->args[0]->value == UINT64_MAX &&
		   l->seccomp->syscalls[1]->args[0]->value_two == 1 &&
		   l->seccomp->syscalls[1]->args[1]->index == 1 &&
		   strcmp(l->seccomp->syscalls[1]->args[1]->op, "SCMP_CMP_EQ") == 0,
	   "%s: seccomp", when);
	is_str(l->rootfs_propagation, "slave", "%s: rootfsPropagation", when);
	ok(l->masked_paths_len == 2 && l->readonly_paths_len == 2, "%s: masked/readonly", when);
	is_str(l->mount_label, "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811",
	       "%s: mountLabel", when);
	ok(l->intel_rdt && strcmp(l->intel_rdt->clos_id, "guaranteed_group") == 0 &&
		   strcmp(l->intel_rdt->l3_cache_schema, "L3:0=7f0;1=1f") == 0 &&
		   strcmp(l->intel_rdt->mem_bw_schema, "MB:0=20;1=70") == 0 &&
		   l->intel_rdt->enable_cmt && l->intel_rdt->enable_mbm,
	   "%s: intelRdt", when);
	ok(l->personality && strcmp(l->personality->domain, "LINUX32") == 0 &&
		   l->personality->flags && l->personality->flags_len == 0,
	   "%s: personality", when);
}

static void test_full_round_trip(void)
{
	char *json = read_data("full-config.json");
	char *err = NULL, *gen1 = NULL, *gen2 = NULL, *pretty = NULL;
	struct oci_config *c1, *c2 = NULL, *c3 = NULL;

	ok(json != NULL, "full-config.json readable");
	if (json == NULL)
		return;
	c1 = oci_config_parse_data(json, strlen(json), &err);
	is_str(err, NULL, "full: parses");
	if (c1) {
		check_full(c1, "full");
		gen1 = oci_config_generate(c1, &err);
		is_str(err, NULL, "full: generates");
	}
	if (gen1) {
		c2 = oci_config_parse_data(gen1, strlen(gen1), &err);
		is_str(err, NULL, "full: generated JSON parses");
	}
	if (c2) {
		check_full(c2, "round trip");
		gen2 = oci_config_generate(c2, &err);
		is_str(gen2, gen1, "round trip: second generation identical");
		pretty = oci_config_generate_pretty(c2, &err);
		ok(pretty && strchr(pretty, '\t') && pretty[strlen(pretty) - 1] == '\n',
		   "pretty output is indented with tabs and ends in a newline");
	}
	if (pretty) {
		c3 = oci_config_parse_data(pretty, strlen(pretty), &err);
		ok(c3 != NULL, "pretty output parses");
		if (c3)
			check_full(c3, "pretty");
	}
	oci_config_free(c1);
	oci_config_free(c2);
	oci_config_free(c3);
	free(gen1);
	free(gen2);
	free(pretty);
	free(json);
}

struct bad_case {
	const char *json;
	const char *error;
};

/* The prefix every config below shares: a valid document up to "process". */
#define V "{\"ociVersion\":\"1.2.0\","
#define P V "\"process\":{\"cwd\":\"/\","
#define R V "\"linux\":{\"resources\":"

static const struct bad_case bad_configs[] = {
	{"{}", "ociVersion: missing"},
	{"[]", "config.json: expected an object, got array"},
	{"5", "config.json: expected an object, got number"},
	{"{\"ociVersion\":1}", "ociVersion: expected a string, got number"},
	{"{\"ociVersion\":null}", "ociVersion: missing"},
	{P "\"args\":{}}}", "process.args: expected an array, got object"},
	{P "\"args\":[\"a\",2]}}", "process.args[1]: expected a string, got number"},
	{V "\"process\":{\"args\":[\"sh\"]}}", "process.cwd: missing"},
	{P "\"terminal\":\"yes\"}}", "process.terminal: expected a boolean, got string"},
	{P "\"user\":{\"uid\":4294967296}}}",
	 "process.user.uid: 4294967296 is out of range for uint32"},
	{P "\"user\":{\"uid\":-1}}}", "process.user.uid: -1 is out of range for uint32"},
	{P "\"user\":{\"additionalGids\":[1,\"x\"]}}}",
	 "process.user.additionalGids[1]: expected an integer, got string"},
	{P "\"capabilities\":{\"bounding\":[\"CAP_KILL\",null]}}}",
	 "process.capabilities.bounding[1]: expected a string, got null"},
	{P "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1}]}}",
	 "process.rlimits[0].soft: missing"},
	{P "\"oomScoreAdj\":1.5}}", "process.oomScoreAdj: expected an integer, got 1.5"},
	{P "\"scheduler\":{\"policy\":\"SCHED_OTHER\",\"nice\":2147483648}}}",
	 "process.scheduler.nice: 2147483648 is out of range for int32"},
	{P "\"ioPriority\":{\"priority\":1}}}", "process.ioPriority.class: missing"},
	{V "\"root\":\"rootfs\"}", "root: expected an object, got string"},
	{V "\"root\":{\"readonly\":true}}", "root.path: missing"},
	{V "\"mounts\":{}}", "mounts: expected an array, got object"},
	{V "\"mounts\":[\"/proc\"]}", "mounts[0]: expected an object, got string"},
	{V "\"mounts\":[{\"destination\":\"/a\"},{\"destination\":\"/b\"},{\"destination\":1}]}",
	 "mounts[2].destination: expected a string, got number"},
	{V "\"mounts\":[{\"type\":\"proc\"}]}", "mounts[0].destination: missing"},
	{V "\"mounts\":[{\"destination\":\"/"
	   "a\",\"uidMappings\":[{\"containerID\":0,\"hostID\":1}]}]}",
	 "mounts[0].uidMappings[0].size: missing"},
	{V "\"hooks\":{\"prestart\":[{\"args\":[]}]}}", "hooks.prestart[0].path: missing"},
	{V "\"hooks\":{\"poststop\":[{\"path\":\"/x\",\"timeout\":\"5\"}]}}",
	 "hooks.poststop[0].timeout: expected an integer, got string"},
	{V "\"annotations\":[]}", "annotations: expected an object, got array"},
	{V "\"annotations\":{\"com.example\":true}}",
	 "annotations.com.example: expected a string, got boolean"},
	{V "\"linux\":[]}", "linux: expected an object, got array"},
	{V "\"linux\":{\"sysctl\":{\"net.ipv4.ip_forward\":1}}}",
	 "linux.sysctl.net.ipv4.ip_forward: expected a string, got number"},
	{V "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"path\":\"/x\"}]}}",
	 "linux.namespaces[1].type: missing"},
	{V "\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":-5}]}}",
	 "linux.uidMappings[0].size: -5 is out of range for uint32"},
	{V "\"linux\":{\"timeOffsets\":{\"boottime\":{\"nanosecs\":-1}}}}",
	 "linux.timeOffsets.boottime.nanosecs: -1 is out of range for uint32"},
	{V "\"linux\":{\"devices\":[{\"type\":\"c\",\"path\":\"/dev/x\",\"fileMode\":true}]}}",
	 "linux.devices[0].fileMode: expected an integer, got boolean"},
	{V "\"linux\":{\"cgroupsPath\":[]}}", "linux.cgroupsPath: expected a string, got array"},
	{R "{\"cpu\":{\"quota\":\"-1\"}}}}",
	 "linux.resources.cpu.quota: expected an integer, got string"},
	{R "{\"cpu\":{\"quota\":1.5}}}}",
	 "linux.resources.cpu.quota: expected an integer, got 1.5"},
	{R "{\"cpu\":{\"shares\":1e3}}}}",
	 "linux.resources.cpu.shares: expected an integer, got 1e3"},
	{R "{\"cpu\":{\"shares\":-1}}}}",
	 "linux.resources.cpu.shares: -1 is out of range for uint64"},
	{R "{\"cpu\":{\"shares\":18446744073709551616}}}}",
	 "linux.resources.cpu.shares: 18446744073709551616 is out of range for uint64"},
	{R "{\"cpu\":{\"quota\":9223372036854775808}}}}",
	 "linux.resources.cpu.quota: 9223372036854775808 is out of range for int64"},
	{R "{\"memory\":{\"limit\":-9223372036854775809}}}}",
	 "linux.resources.memory.limit: -9223372036854775809 is out of range for int64"},
	{R "{\"memory\":{\"disableOOMKiller\":1}}}}",
	 "linux.resources.memory.disableOOMKiller: expected a boolean, got number"},
	{R "{\"devices\":[{\"access\":\"rwm\"}]}}}", "linux.resources.devices[0].allow: missing"},
	{R "{\"pids\":{\"limit\":{}}}}}",
	 "linux.resources.pids.limit: expected an integer, got object"},
	{R "{\"blockIO\":{\"weight\":65536}}}}",
	 "linux.resources.blockIO.weight: 65536 is out of range for uint16"},
	{R "{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0}]}}}}",
	 "linux.resources.blockIO.throttleReadBpsDevice[0].rate: missing"},
	{R "{\"hugepageLimits\":[{\"pageSize\":\"2MB\"}]}}}",
	 "linux.resources.hugepageLimits[0].limit: missing"},
	{R "{\"network\":{\"priorities\":[{\"name\":\"eth0\",\"priority\":\"high\"}]}}}}",
	 "linux.resources.network.priorities[0].priority: expected an integer, got string"},
	{R "{\"rdma\":{\"mlx5_1\":3}}}}",
	 "linux.resources.rdma.mlx5_1: expected an object, got number"},
	{R "{\"rdma\":{\"mlx5_1\":{\"hcaHandles\":-1}}}}}",
	 "linux.resources.rdma.mlx5_1.hcaHandles: -1 is out of range for uint32"},
	{R "{\"unified\":{\"io.weight\":10}}}}",
	 "linux.resources.unified.io.weight: expected a string, got number"},
	{V "\"linux\":{\"seccomp\":{\"syscalls\":[]}}}", "linux.seccomp.defaultAction: missing"},
	{V "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":["
	   "\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1}]}]}}}",
	 "linux.seccomp.syscalls[0].args[0].op: missing"},
	{V "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":"
	   "\"SCMP_ACT_ERRNO\"}]}}}",
	 "linux.seccomp.syscalls[0].names: missing"},
	{V "\"linux\":{\"intelRdt\":{\"enableCMT\":\"true\"}}}",
	 "linux.intelRdt.enableCMT: expected a boolean, got string"},
	{V "\"linux\":{\"personality\":{\"flags\":[]}}}", "linux.personality.domain: missing"},
};

/* Syntax errors: only the start is ours, the rest is yajl's. */
static const char *const bad_syntax[] = {
	"",
	"{\"ociVersion\": ",
	"{\"ociVersion\":\"1.2.0\"} x",
	"{\"ociVersion\":\"1.2.0\",}",
	"{'ociVersion':'1.2.0'}",
	"{\"ociVersion\":\"\\x\"}",
	"{\"ociVersion\":01}",
};

static void test_bad_configs(void)
{
	for (size_t i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		const struct bad_case *t = &bad_configs[i];
		char *err = NULL;
		struct oci_config *c = oci_config_parse_data(t->json, strlen(t->json), &err);

		ok(c == NULL, "bad config %zu refused", i);
		is_str(err, t->error, "bad config %zu: exact message", i);
		oci_config_free(c);
		free(err);
	}
	for (size_t i = 0; i < sizeof(bad_syntax) / sizeof(bad_syntax[0]); i++) {
		char *err = NULL;
		struct oci_config *c =
			oci_config_parse_data(bad_syntax[i], strlen(bad_syntax[i]), &err);
		const char *prefix = "config.json: invalid JSON: ";

		ok(c == NULL && err && strncmp(err, prefix, strlen(prefix)) == 0 &&
			   strlen(err) > strlen(prefix),
		   "syntax error %zu: %s", i, err ? err : "(none)");
		oci_config_free(c);
		free(err);
	}
}

static void test_hostile_input(void)
{
	char deep[1024];
	char *err = NULL;
	struct oci_config *c;
	static const char nul[] = "{\"ociVersion\":\"1.2.0\"}\0{";

	memset(deep, '[', 600);
	strcpy(deep + 600, "]");
	c = oci_config_parse_data(deep, strlen(deep), &err);
	is_str(err, "config.json: invalid JSON: nested deeper than 128 levels",
	       "deep nesting refused");
	oci_config_free(c);
	free(err);

	c = oci_config_parse_data(nul, sizeof(nul) - 1, &err);
	is_str(err, "config.json: invalid JSON: NUL byte in the document", "NUL byte refused");
	oci_config_free(c);
	free(err);
}

/* A config whose linux.resources is BODY; returns the parsed document or NULL. */
static struct oci_config *parse_resources(const char *body, char **err)
{
	char json[1024];

	snprintf(json, sizeof(json), "{\"ociVersion\":\"1.2.0\",\"linux\":{\"resources\":%s}}",
		 body);
	return oci_config_parse_data(json, strlen(json), err);
}

static void test_numbers(void)
{
	char *err = NULL, *gen;
	struct oci_config *c;

	c = parse_resources("{\"cpu\":{\"quota\":-1,\"shares\":18446744073709551615,\"period\":0,"
			    "\"realtimeRuntime\":-9223372036854775808},"
			    "\"memory\":{\"limit\":9223372036854775807,\"swap\":-0}}",
			    &err);
	is_str(err, NULL, "edge numbers parse");
	if (c == NULL)
		return;
	ok(c->linux->resources->cpu->quota == -1, "quota -1");
	ok(c->linux->resources->cpu->shares == UINT64_MAX, "shares UINT64_MAX");
	ok(c->linux->resources->cpu->has_period && c->linux->resources->cpu->period == 0,
	   "explicit period 0 is present");
	ok(c->linux->resources->cpu->realtime_runtime == INT64_MIN, "realtimeRuntime INT64_MIN");
	ok(c->linux->resources->memory->limit == INT64_MAX, "memory limit INT64_MAX");
	ok(c->linux->resources->memory->has_swap && c->linux->resources->memory->swap == 0,
	   "-0 is 0");
	ok(!c->linux->resources->memory->has_reservation, "absent reservation has no flag");
	gen = oci_config_generate(c, &err);
	is_str(gen,
	       "{\"ociVersion\":\"1.2.0\",\"linux\":{\"resources\":{\"memory\":{\"limit\":"
	       "9223372036854775807,\"swap\":0},\"cpu\":{\"shares\":18446744073709551615,\"quota\":"
	       "-1,"
	       "\"period\":0,\"realtimeRuntime\":-9223372036854775808}}}}",
	       "edge numbers generated exactly");
	free(gen);
	oci_config_free(c);

	c = parse_resources("{\"blockIO\":{\"weight\":65535},\"network\":{\"classID\":4294967295}}",
			    &err);
	ok(c && c->linux->resources->block_io->weight == UINT16_MAX &&
		   c->linux->resources->network->class_id == UINT32_MAX,
	   "uint16 and uint32 maxima");
	oci_config_free(c);

	c = parse_resources("{\"memory\":{\"limit\":-9223372036854775808}}", &err);
	ok(c && c->linux->resources->memory->limit == INT64_MIN, "memory limit INT64_MIN");
	oci_config_free(c);

	c = parse_resources("{\"memory\":{\"swappiness\":1.0}}", &err);
	is_str(err, "linux.resources.memory.swappiness: expected an integer, got 1.0",
	       "1.0 is not an integer");
	oci_config_free(c);
	free(err);

	c = parse_resources("{\"cpu\":{\"quota\":-1e2}}", &err);
	is_str(err, "linux.resources.cpu.quota: expected an integer, got -1e2",
	       "-1e2 is not an integer");
	oci_config_free(c);
	free(err);

	c = parse_resources("{\"cpu\":{\"period\":99999999999999999999999}}", &err);
	is_str(err,
	       "linux.resources.cpu.period: 99999999999999999999999 is out of range for uint64",
	       "far out of range");
	oci_config_free(c);
	free(err);
}

static void test_lenient(void)
{
	static const char json[] =
		"{\"ociVersion\":\"1.0.2\",\"solaris\":{\"x\":[1,{}]},\"process\":null,"
		"\"hostname\":\"a\",\"hostname\":\"b\",\"linux\":{\"futureField\":1,"
		"\"namespaces\":[{\"type\":\"pid\",\"extra\":[]}]}}";
	char *err = NULL;
	struct oci_config *c = oci_config_parse_data(json, strlen(json), &err);

	is_str(err, NULL, "unknown fields and null are accepted");
	ok(c && c->process == NULL, "null means absent");
	is_str(c ? c->hostname : NULL, "b", "a repeated key: the last one wins");
	ok(c && c->linux->namespaces_len == 1, "unknown nested fields ignored");
	oci_config_free(c);
}

static void test_process_document(void)
{
	static const char json[] = "{\"terminal\":false,\"user\":{\"uid\":1,\"gid\":2},"
				   "\"args\":[\"ls\",\"-l\"],\"env\":[\"A=1\"],\"cwd\":\"/tmp\","
				   "\"oomScoreAdj\":500}";
	char *err = NULL, *gen;
	struct oci_process *p = oci_process_parse_data(json, strlen(json), &err);

	is_str(err, NULL, "process document parses");
	if (p == NULL)
		return;
	ok(p->args_len == 2 && p->user->gid == 2 && p->oom_score_adj == 500,
	   "process document fields");
	gen = oci_process_generate(p, &err);
	is_str(gen,
	       "{\"user\":{\"uid\":1,\"gid\":2},\"args\":[\"ls\",\"-l\"],\"env\":[\"A=1\"],"
	       "\"cwd\":\"/tmp\",\"oomScoreAdj\":500}",
	       "process document generated");
	free(gen);
	oci_process_free(p);

	p = oci_process_parse_data("{\"args\":[1]}", strlen("{\"args\":[1]}"), &err);
	is_str(err, "args[0]: expected a string, got number", "process document error path");
	free(err);
	p = oci_process_parse_data("[", 1, &err);
	ok(p == NULL && err && strncmp(err, "process.json: invalid JSON: ", 28) == 0,
	   "process document syntax error names the document");
	free(err);
}

/* linux.resources on its own, as `runk update --resources` and the agent read it. */
static void test_resources_document(void)
{
	static const char json[] = "{\"memory\":{\"limit\":134217728},"
				   "\"cpu\":{\"quota\":50000,\"period\":100000}}";
	char *err = NULL;
	struct oci_linux_resources *r = oci_linux_resources_parse_data(json, strlen(json), &err);

	is_str(err, NULL, "resources document parses");
	ok(r && r->memory && r->memory->limit == 134217728 && r->cpu && r->cpu->quota == 50000 &&
		   r->cpu->period == 100000,
	   "resources document fields");
	oci_linux_resources_free(r);
	r = oci_linux_resources_parse_data("{\"cpu\":{\"quota\":\"x\"}}",
					   strlen("{\"cpu\":{\"quota\":\"x\"}}"), &err);
	ok(r == NULL && err && strstr(err, "cpu.quota") != NULL,
	   "resources document error names the path: %s", err ? err : "(none)");
	free(err);
	err = NULL;
	r = oci_linux_resources_parse_data("[]", 2, &err);
	ok(r == NULL && err != NULL, "resources document must be an object");
	free(err);
}

static void test_files(void)
{
	char *err = NULL;
	struct oci_config *c = oci_config_parse_file(OCISPEC_TESTDATA "/full-config.json", &err);

	ok(c != NULL && err == NULL, "parse_file reads a config");
	oci_config_free(c);

	c = oci_config_parse_file(OCISPEC_TESTDATA "/does-not-exist.json", &err);
	ok(c == NULL && err && strstr(err, "does-not-exist.json: cannot open: ") != NULL,
	   "parse_file: missing file (%s)", err ? err : "");
	free(err);

	c = oci_config_parse_file(OCISPEC_TESTDATA "/truncated-config.json", &err);
	ok(c == NULL && err && strstr(err, "truncated-config.json: invalid JSON: ") != NULL,
	   "parse_file: syntax error names the file (%s)", err ? err : "");
	free(err);
}

static char *strv_a[] = {"a", NULL};

static void test_state(void)
{
	struct oci_state s = {
		.oci_version = "1.2.0",
		.id = "c1",
		.status = "running",
		.pid = 42,
		.bundle = "/b",
		.rootfs = "/b/rootfs",
		.created = "2024-01-02T03:04:05.123456789Z",
		.owner = "",
	};
	struct oci_state *back;
	char *err = NULL, *gen;

	ok(oci_string_map_set(&s.annotations, "k", "v1") == 0 &&
		   oci_string_map_set(&s.annotations, "k2", "v2") == 0 &&
		   oci_string_map_set(&s.annotations, "k", "v") == 0,
	   "string map set");
	ok(s.annotations->len == 2 && s.annotations->keys[2] == NULL, "set replaces a key");
	gen = oci_state_generate(&s, &err);
	is_str(gen,
	       "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"running\",\"pid\":42,"
	       "\"bundle\":\"/b\",\"rootfs\":\"/b/rootfs\",\"created\":"
	       "\"2024-01-02T03:04:05.123456789Z\",\"owner\":\"\",\"annotations\":{\"k\":\"v\","
	       "\"k2\":\"v2\"}}",
	       "state generated");
	back = gen ? oci_state_parse_data(gen, strlen(gen), &err) : NULL;
	ok(back && back->pid == 42 && strcmp(back->created, s.created) == 0 &&
		   strcmp(oci_string_map_get(back->annotations, "k2"), "v2") == 0,
	   "state parses back");
	oci_state_free(back);
	free(gen);
	oci_string_map_free(s.annotations);

	s.annotations = NULL;
	s.status = "stopped";
	s.pid = 0;
	s.rootfs = s.created = s.owner = NULL;
	gen = oci_state_generate(&s, &err);
	is_str(gen,
	       "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"stopped\",\"bundle\":\"/b\"}",
	       "stopped state has no pid");
	free(gen);

	s.id = NULL;
	gen = oci_state_generate(&s, &err);
	ok(gen == NULL, "state without id is not generated");
	is_str(err, "id: missing", "state without id: error");
	free(err);

	static const char no_bundle[] =
		"{\"ociVersion\":\"1.2.0\",\"id\":\"x\",\"status\":\"created\"}";
	back = oci_state_parse_data(no_bundle, strlen(no_bundle), &err);
	is_str(err, "bundle: missing", "state document requires bundle");
	free(err);
	oci_state_free(back);
}

static void test_features(void)
{
	char *namespaces[] = {"cgroup", "ipc", "mount", "network", "pid", "user", "uts", NULL};
	char *caps[] = {"CAP_CHOWN", "CAP_KILL", NULL};
	char *hooks[] = {"prestart", "createRuntime", "poststop", NULL};
	char *actions[] = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", NULL};
	struct oci_features_cgroup cgroup = {.v1 = false,
					     .has_v1 = true,
					     .v2 = true,
					     .has_v2 = true,
					     .systemd = true,
					     .has_systemd = true};
	struct oci_features_seccomp seccomp = {
		.enabled = true, .has_enabled = true, .actions = actions, .actions_len = 2};
	struct oci_features_enabled yes = {.enabled = true, .has_enabled = true};
	struct oci_features_enabled no = {.enabled = false, .has_enabled = true};
	struct oci_features_mount_extensions mext = {.idmap = &no};
	struct oci_features_linux lf = {
		.namespaces = namespaces,
		.namespaces_len = 7,
		.capabilities = caps,
		.capabilities_len = 2,
		.cgroup = &cgroup,
		.seccomp = &seccomp,
		.apparmor = &no,
		.selinux = &no,
		.intel_rdt = &no,
		.mount_extensions = &mext,
	};
	struct oci_features f = {
		.oci_version_min = "1.0.0",
		.oci_version_max = "1.2.0",
		.hooks = hooks,
		.hooks_len = 3,
		.mount_options = strv_a,
		.mount_options_len = 1,
		.linux = &lf,
	};
	struct oci_features *back;
	char *err = NULL, *gen;

	(void)yes;
	oci_string_map_set(&f.annotations, "org.opencontainers.runc.version", "runk 0.1.0");
	gen = oci_features_generate(&f, &err);
	is_str(gen,
	       "{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.2.0\",\"hooks\":[\"prestart\","
	       "\"createRuntime\",\"poststop\"],\"mountOptions\":[\"a\"],\"linux\":{\"namespaces\":"
	       "["
	       "\"cgroup\",\"ipc\",\"mount\",\"network\",\"pid\",\"user\",\"uts\"],"
	       "\"capabilities\":["
	       "\"CAP_CHOWN\",\"CAP_KILL\"],\"cgroup\":{\"v1\":false,\"v2\":true,\"systemd\":true},"
	       "\"seccomp\":{\"enabled\":true,\"actions\":[\"SCMP_ACT_ALLOW\",\"SCMP_ACT_ERRNO\"]},"
	       "\"apparmor\":{\"enabled\":false},\"selinux\":{\"enabled\":false},\"intelRdt\":{"
	       "\"enabled\":false},\"mountExtensions\":{\"idmap\":{\"enabled\":false}}},"
	       "\"annotations\":{\"org.opencontainers.runc.version\":\"runk 0.1.0\"}}",
	       "features generated");
	back = gen ? oci_features_parse_data(gen, strlen(gen), &err) : NULL;
	ok(back && back->linux->cgroup->has_v1 && !back->linux->cgroup->v1 &&
		   !back->linux->cgroup->has_rdma && back->linux->seccomp->actions_len == 2 &&
		   back->linux->mount_extensions->idmap->has_enabled,
	   "features parse back");
	oci_features_free(back);
	free(gen);

	gen = oci_features_generate_pretty(&f, &err);
	ok(gen && strncmp(gen, "{\n\t\"ociVersionMin\": \"1.0.0\",\n", 29) == 0,
	   "features pretty-printed");
	free(gen);
	oci_string_map_free(f.annotations);
}

static void test_generate_errors(void)
{
	struct oci_root root = {.path = NULL};
	struct oci_config c = {.oci_version = "1.2.0", .root = &root};
	char *err = NULL, *gen;

	gen = oci_config_generate(&c, &err);
	ok(gen == NULL, "root without path not generated");
	is_str(err, "root.path: missing", "generate: missing required nested field");
	free(err);

	root.path = "ro\xff";
	gen = oci_config_generate(&c, &err);
	is_str(err, "root.path: invalid UTF-8 in a string", "generate: invalid UTF-8");
	free(gen);
	free(err);

	gen = oci_config_generate(NULL, &err);
	ok(gen == NULL && err != NULL, "generate NULL document");
	free(err);

	oci_config_free(NULL);
	oci_process_free(NULL);
	oci_state_free(NULL);
	oci_features_free(NULL);
	oci_string_map_free(NULL);
	ok(oci_string_map_get(NULL, "x") == NULL, "free functions and get accept NULL");
}

int main(void)
{
	test_runc_default();
	test_full_round_trip();
	test_bad_configs();
	test_hostile_input();
	test_numbers();
	test_lenient();
	test_process_document();
	test_resources_document();
	test_files();
	test_state();
	test_features();
	test_generate_errors();
	return test_done();
}
