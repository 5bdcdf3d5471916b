/*
 * config.json (runtime-spec 1.2, config.md and config-linux.md) and the
 * process document `exec --process` reads, which is config's "process".
 * Each struct of ocispec.h is one table below, leaves first.
 */
#include <stddef.h>
#include <string.h>

#include "table.h"

/* ---- process ---- */

static const struct oci_field box_fields[] = {
	OCI_NUM("height", OCI_UINT64, struct oci_box, height),
	OCI_NUM("width", OCI_UINT64, struct oci_box, width),
};
static OCI_TYPE(box_type, struct oci_box, box_fields);

static const struct oci_field user_fields[] = {
	OCI_NUM("uid", OCI_UINT32, struct oci_user, uid),
	OCI_NUM("gid", OCI_UINT32, struct oci_user, gid),
	OCI_NUM_OPT("umask", OCI_UINT32, struct oci_user, umask),
	OCI_U32V("additionalGids", struct oci_user, additional_gids),
	OCI_STR("username", struct oci_user, username),
};
static OCI_TYPE(user_type, struct oci_user, user_fields);

static const struct oci_field capabilities_fields[] = {
	OCI_STRV("bounding", struct oci_linux_capabilities, bounding),
	OCI_STRV("effective", struct oci_linux_capabilities, effective),
	OCI_STRV("inheritable", struct oci_linux_capabilities, inheritable),
	OCI_STRV("permitted", struct oci_linux_capabilities, permitted),
	OCI_STRV("ambient", struct oci_linux_capabilities, ambient),
};
static OCI_TYPE(capabilities_type, struct oci_linux_capabilities, capabilities_fields);

static const struct oci_field rlimit_fields[] = {
	OCI_STR_REQ("type", struct oci_posix_rlimit, type),
	OCI_NUM_REQ("hard", OCI_UINT64, struct oci_posix_rlimit, hard),
	OCI_NUM_REQ("soft", OCI_UINT64, struct oci_posix_rlimit, soft),
};
static OCI_TYPE(rlimit_type, struct oci_posix_rlimit, rlimit_fields);

static const struct oci_field io_priority_fields[] = {
	OCI_STR_REQ("class", struct oci_linux_io_priority, class),
	OCI_NUM("priority", OCI_INT64, struct oci_linux_io_priority, priority),
};
static OCI_TYPE(io_priority_type, struct oci_linux_io_priority, io_priority_fields);

static const struct oci_field scheduler_fields[] = {
	OCI_STR_REQ("policy", struct oci_scheduler, policy),
	OCI_NUM_OMIT("nice", OCI_INT32, struct oci_scheduler, nice),
	OCI_NUM_OMIT("priority", OCI_INT32, struct oci_scheduler, priority),
	OCI_STRV("flags", struct oci_scheduler, flags),
	OCI_NUM_OMIT("runtime", OCI_UINT64, struct oci_scheduler, runtime),
	OCI_NUM_OMIT("deadline", OCI_UINT64, struct oci_scheduler, deadline),
	OCI_NUM_OMIT("period", OCI_UINT64, struct oci_scheduler, period),
};
static OCI_TYPE(scheduler_type, struct oci_scheduler, scheduler_fields);

static const struct oci_field cpu_affinity_fields[] = {
	OCI_STR("initial", struct oci_cpu_affinity, initial),
	OCI_STR("final", struct oci_cpu_affinity, final),
};
static OCI_TYPE(cpu_affinity_type, struct oci_cpu_affinity, cpu_affinity_fields);

static const struct oci_field process_fields[] = {
	OCI_FLAG("terminal", struct oci_process, terminal),
	OCI_OBJ("consoleSize", struct oci_process, console_size, box_type),
	OCI_OBJ("user", struct oci_process, user, user_type),
	OCI_STRV("args", struct oci_process, args),
	OCI_STR("commandLine", struct oci_process, command_line),
	OCI_STRV("env", struct oci_process, env),
	OCI_STR_REQ("cwd", struct oci_process, cwd),
	OCI_OBJ("capabilities", struct oci_process, capabilities, capabilities_type),
	OCI_OBJV("rlimits", struct oci_process, rlimits, rlimit_type),
	OCI_FLAG("noNewPrivileges", struct oci_process, no_new_privileges),
	OCI_STR("apparmorProfile", struct oci_process, apparmor_profile),
	OCI_NUM_OPT("oomScoreAdj", OCI_INT64, struct oci_process, oom_score_adj),
	OCI_OBJ("scheduler", struct oci_process, scheduler, scheduler_type),
	OCI_STR("selinuxLabel", struct oci_process, selinux_label),
	OCI_OBJ("ioPriority", struct oci_process, io_priority, io_priority_type),
	OCI_OBJ("execCPUAffinity", struct oci_process, exec_cpu_affinity, cpu_affinity_type),
};
static OCI_TYPE(process_type, struct oci_process, process_fields);

/* ---- root, mounts, hooks ---- */

static const struct oci_field root_fields[] = {
	OCI_STR_REQ("path", struct oci_root, path),
	OCI_FLAG("readonly", struct oci_root, readonly),
};
static OCI_TYPE(root_type, struct oci_root, root_fields);

static const struct oci_field id_mapping_fields[] = {
	OCI_NUM_REQ("containerID", OCI_UINT32, struct oci_linux_id_mapping, container_id),
	OCI_NUM_REQ("hostID", OCI_UINT32, struct oci_linux_id_mapping, host_id),
	OCI_NUM_REQ("size", OCI_UINT32, struct oci_linux_id_mapping, size),
};
static OCI_TYPE(id_mapping_type, struct oci_linux_id_mapping, id_mapping_fields);

static const struct oci_field mount_fields[] = {
	OCI_STR_REQ("destination", struct oci_mount, destination),
	OCI_STR("type", struct oci_mount, type),
	OCI_STR("source", struct oci_mount, source),
	OCI_STRV("options", struct oci_mount, options),
	OCI_OBJV("uidMappings", struct oci_mount, uid_mappings, id_mapping_type),
	OCI_OBJV("gidMappings", struct oci_mount, gid_mappings, id_mapping_type),
};
static OCI_TYPE(mount_type, struct oci_mount, mount_fields);

static const struct oci_field hook_fields[] = {
	OCI_STR_REQ("path", struct oci_hook, path),
	OCI_STRV("args", struct oci_hook, args),
	OCI_STRV("env", struct oci_hook, env),
	OCI_NUM_OPT("timeout", OCI_INT64, struct oci_hook, timeout),
};
static OCI_TYPE(hook_type, struct oci_hook, hook_fields);

static const struct oci_field hooks_fields[] = {
	OCI_OBJV("prestart", struct oci_hooks, prestart, hook_type),
	OCI_OBJV("createRuntime", struct oci_hooks, create_runtime, hook_type),
	OCI_OBJV("createContainer", struct oci_hooks, create_container, hook_type),
	OCI_OBJV("startContainer", struct oci_hooks, start_container, hook_type),
	OCI_OBJV("poststart", struct oci_hooks, poststart, hook_type),
	OCI_OBJV("poststop", struct oci_hooks, poststop, hook_type),
};
static OCI_TYPE(hooks_type, struct oci_hooks, hooks_fields);

/* ---- linux ---- */

static const struct oci_field namespace_fields[] = {
	OCI_STR_REQ("type", struct oci_linux_namespace, type),
	OCI_STR("path", struct oci_linux_namespace, path),
};
static OCI_TYPE(namespace_type, struct oci_linux_namespace, namespace_fields);

static const struct oci_field time_offset_fields[] = {
	OCI_NUM_OMIT("secs", OCI_INT64, struct oci_linux_time_offset, secs),
	OCI_NUM_OMIT("nanosecs", OCI_UINT32, struct oci_linux_time_offset, nanosecs),
};
static OCI_TYPE(time_offset_type, struct oci_linux_time_offset, time_offset_fields);

static const struct oci_field device_fields[] = {
	OCI_STR_REQ("type", struct oci_linux_device, type),
	OCI_STR_REQ("path", struct oci_linux_device, path),
	OCI_NUM_OMIT("major", OCI_INT64, struct oci_linux_device, major),
	OCI_NUM_OMIT("minor", OCI_INT64, struct oci_linux_device, minor),
	OCI_NUM_OPT("fileMode", OCI_UINT32, struct oci_linux_device, file_mode),
	OCI_NUM_OPT("uid", OCI_UINT32, struct oci_linux_device, uid),
	OCI_NUM_OPT("gid", OCI_UINT32, struct oci_linux_device, gid),
};
static OCI_TYPE(device_type, struct oci_linux_device, device_fields);

static const struct oci_field device_cgroup_fields[] = {
	OCI_F("allow", OCI_BOOL, OCI_REQUIRED, struct oci_linux_device_cgroup, allow),
	OCI_STR("type", struct oci_linux_device_cgroup, type),
	OCI_NUM_OPT("major", OCI_INT64, struct oci_linux_device_cgroup, major),
	OCI_NUM_OPT("minor", OCI_INT64, struct oci_linux_device_cgroup, minor),
	OCI_STR("access", struct oci_linux_device_cgroup, access),
};
static OCI_TYPE(device_cgroup_type, struct oci_linux_device_cgroup, device_cgroup_fields);

static const struct oci_field memory_fields[] = {
	OCI_NUM_OPT("limit", OCI_INT64, struct oci_linux_memory, limit),
	OCI_NUM_OPT("reservation", OCI_INT64, struct oci_linux_memory, reservation),
	OCI_NUM_OPT("swap", OCI_INT64, struct oci_linux_memory, swap),
	OCI_NUM_OPT("kernel", OCI_INT64, struct oci_linux_memory, kernel),
	OCI_NUM_OPT("kernelTCP", OCI_INT64, struct oci_linux_memory, kernel_tcp),
	OCI_NUM_OPT("swappiness", OCI_UINT64, struct oci_linux_memory, swappiness),
	OCI_BOOL_OPT("disableOOMKiller", struct oci_linux_memory, disable_oom_killer),
	OCI_BOOL_OPT("useHierarchy", struct oci_linux_memory, use_hierarchy),
	OCI_BOOL_OPT("checkBeforeUpdate", struct oci_linux_memory, check_before_update),
};
static OCI_TYPE(memory_type, struct oci_linux_memory, memory_fields);

static const struct oci_field cpu_fields[] = {
	OCI_NUM_OPT("shares", OCI_UINT64, struct oci_linux_cpu, shares),
	OCI_NUM_OPT("quota", OCI_INT64, struct oci_linux_cpu, quota),
	OCI_NUM_OPT("burst", OCI_UINT64, struct oci_linux_cpu, burst),
	OCI_NUM_OPT("period", OCI_UINT64, struct oci_linux_cpu, period),
	OCI_NUM_OPT("realtimeRuntime", OCI_INT64, struct oci_linux_cpu, realtime_runtime),
	OCI_NUM_OPT("realtimePeriod", OCI_UINT64, struct oci_linux_cpu, realtime_period),
	OCI_STR("cpus", struct oci_linux_cpu, cpus),
	OCI_STR("mems", struct oci_linux_cpu, mems),
	OCI_NUM_OPT("idle", OCI_INT64, struct oci_linux_cpu, idle),
};
static OCI_TYPE(cpu_type, struct oci_linux_cpu, cpu_fields);

static const struct oci_field pids_fields[] = {
	OCI_NUM_OPT("limit", OCI_INT64, struct oci_linux_pids, limit),
};
static OCI_TYPE(pids_type, struct oci_linux_pids, pids_fields);

static const struct oci_field weight_device_fields[] = {
	OCI_NUM_REQ("major", OCI_INT64, struct oci_linux_weight_device, major),
	OCI_NUM_REQ("minor", OCI_INT64, struct oci_linux_weight_device, minor),
	OCI_NUM_OPT("weight", OCI_UINT16, struct oci_linux_weight_device, weight),
	OCI_NUM_OPT("leafWeight", OCI_UINT16, struct oci_linux_weight_device, leaf_weight),
};
static OCI_TYPE(weight_device_type, struct oci_linux_weight_device, weight_device_fields);

static const struct oci_field throttle_device_fields[] = {
	OCI_NUM_REQ("major", OCI_INT64, struct oci_linux_throttle_device, major),
	OCI_NUM_REQ("minor", OCI_INT64, struct oci_linux_throttle_device, minor),
	OCI_NUM_REQ("rate", OCI_UINT64, struct oci_linux_throttle_device, rate),
};
static OCI_TYPE(throttle_device_type, struct oci_linux_throttle_device, throttle_device_fields);

#define BLOCK_IO_THROTTLE(K, M) OCI_OBJV(K, struct oci_linux_block_io, M, throttle_device_type)

static const struct oci_field block_io_fields[] = {
	OCI_NUM_OPT("weight", OCI_UINT16, struct oci_linux_block_io, weight),
	OCI_NUM_OPT("leafWeight", OCI_UINT16, struct oci_linux_block_io, leaf_weight),
	OCI_OBJV("weightDevice", struct oci_linux_block_io, weight_device, weight_device_type),
	BLOCK_IO_THROTTLE("throttleReadBpsDevice", throttle_read_bps_device),
	BLOCK_IO_THROTTLE("throttleWriteBpsDevice", throttle_write_bps_device),
	BLOCK_IO_THROTTLE("throttleReadIOPSDevice", throttle_read_iops_device),
	BLOCK_IO_THROTTLE("throttleWriteIOPSDevice", throttle_write_iops_device),
};
static OCI_TYPE(block_io_type, struct oci_linux_block_io, block_io_fields);

static const struct oci_field hugepage_limit_fields[] = {
	OCI_STR_REQ("pageSize", struct oci_linux_hugepage_limit, page_size),
	OCI_NUM_REQ("limit", OCI_UINT64, struct oci_linux_hugepage_limit, limit),
};
static OCI_TYPE(hugepage_limit_type, struct oci_linux_hugepage_limit, hugepage_limit_fields);

static const struct oci_field interface_priority_fields[] = {
	OCI_STR_REQ("name", struct oci_linux_interface_priority, name),
	OCI_NUM_REQ("priority", OCI_UINT32, struct oci_linux_interface_priority, priority),
};
static OCI_TYPE(interface_priority_type, struct oci_linux_interface_priority,
		interface_priority_fields);

static const struct oci_field network_fields[] = {
	OCI_NUM_OPT("classID", OCI_UINT32, struct oci_linux_network, class_id),
	OCI_OBJV("priorities", struct oci_linux_network, priorities, interface_priority_type),
};
static OCI_TYPE(network_type, struct oci_linux_network, network_fields);

static const struct oci_field rdma_fields[] = {
	OCI_NUM_OPT("hcaHandles", OCI_UINT32, struct oci_linux_rdma, hca_handles),
	OCI_NUM_OPT("hcaObjects", OCI_UINT32, struct oci_linux_rdma, hca_objects),
};
static OCI_TYPE(rdma_type, struct oci_linux_rdma, rdma_fields);

static const struct oci_field resources_fields[] = {
	OCI_OBJV("devices", struct oci_linux_resources, devices, device_cgroup_type),
	OCI_OBJ("memory", struct oci_linux_resources, memory, memory_type),
	OCI_OBJ("cpu", struct oci_linux_resources, cpu, cpu_type),
	OCI_OBJ("pids", struct oci_linux_resources, pids, pids_type),
	OCI_OBJ("blockIO", struct oci_linux_resources, block_io, block_io_type),
	OCI_OBJV("hugepageLimits", struct oci_linux_resources, hugepage_limits,
		 hugepage_limit_type),
	OCI_OBJ("network", struct oci_linux_resources, network, network_type),
	OCI_OMAP("rdma", struct oci_linux_resources, rdma, rdma_type),
	OCI_SMAP("unified", struct oci_linux_resources, unified),
};
static OCI_TYPE(resources_type, struct oci_linux_resources, resources_fields);

static const struct oci_field seccomp_arg_fields[] = {
	OCI_NUM_REQ("index", OCI_UINT64, struct oci_linux_seccomp_arg, index),
	OCI_NUM_REQ("value", OCI_UINT64, struct oci_linux_seccomp_arg, value),
	OCI_NUM_OMIT("valueTwo", OCI_UINT64, struct oci_linux_seccomp_arg, value_two),
	OCI_STR_REQ("op", struct oci_linux_seccomp_arg, op),
};
static OCI_TYPE(seccomp_arg_type, struct oci_linux_seccomp_arg, seccomp_arg_fields);

static const struct oci_field syscall_fields[] = {
	OCI_STRV_REQ("names", struct oci_linux_syscall, names),
	OCI_STR_REQ("action", struct oci_linux_syscall, action),
	OCI_NUM_OPT("errnoRet", OCI_UINT64, struct oci_linux_syscall, errno_ret),
	OCI_OBJV("args", struct oci_linux_syscall, args, seccomp_arg_type),
};
static OCI_TYPE(syscall_type, struct oci_linux_syscall, syscall_fields);

static const struct oci_field seccomp_fields[] = {
	OCI_STR_REQ("defaultAction", struct oci_linux_seccomp, default_action),
	OCI_NUM_OPT("defaultErrnoRet", OCI_UINT64, struct oci_linux_seccomp, default_errno_ret),
	OCI_STRV("architectures", struct oci_linux_seccomp, architectures),
	OCI_STRV("flags", struct oci_linux_seccomp, flags),
	OCI_STR("listenerPath", struct oci_linux_seccomp, listener_path),
	OCI_STR("listenerMetadata", struct oci_linux_seccomp, listener_metadata),
	OCI_OBJV("syscalls", struct oci_linux_seccomp, syscalls, syscall_type),
};
static OCI_TYPE(seccomp_type, struct oci_linux_seccomp, seccomp_fields);

static const struct oci_field intel_rdt_fields[] = {
	OCI_STR("closID", struct oci_linux_intel_rdt, clos_id),
	OCI_STR("l3CacheSchema", struct oci_linux_intel_rdt, l3_cache_schema),
	OCI_STR("memBwSchema", struct oci_linux_intel_rdt, mem_bw_schema),
	OCI_FLAG("enableCMT", struct oci_linux_intel_rdt, enable_cmt),
	OCI_FLAG("enableMBM", struct oci_linux_intel_rdt, enable_mbm),
};
static OCI_TYPE(intel_rdt_type, struct oci_linux_intel_rdt, intel_rdt_fields);

static const struct oci_field personality_fields[] = {
	OCI_STR_REQ("domain", struct oci_linux_personality, domain),
	OCI_STRV("flags", struct oci_linux_personality, flags),
};
static OCI_TYPE(personality_type, struct oci_linux_personality, personality_fields);

static const struct oci_field linux_fields[] = {
	OCI_OBJV("uidMappings", struct oci_linux, uid_mappings, id_mapping_type),
	OCI_OBJV("gidMappings", struct oci_linux, gid_mappings, id_mapping_type),
	OCI_OMAP("timeOffsets", struct oci_linux, time_offsets, time_offset_type),
	OCI_SMAP("sysctl", struct oci_linux, sysctl),
	OCI_OBJ("resources", struct oci_linux, resources, resources_type),
	OCI_STR("cgroupsPath", struct oci_linux, cgroups_path),
	OCI_OBJV("namespaces", struct oci_linux, namespaces, namespace_type),
	OCI_OBJV("devices", struct oci_linux, devices, device_type),
	OCI_OBJ("seccomp", struct oci_linux, seccomp, seccomp_type),
	OCI_STR("rootfsPropagation", struct oci_linux, rootfs_propagation),
	OCI_STRV("maskedPaths", struct oci_linux, masked_paths),
	OCI_STRV("readonlyPaths", struct oci_linux, readonly_paths),
	OCI_STR("mountLabel", struct oci_linux, mount_label),
	OCI_OBJ("intelRdt", struct oci_linux, intel_rdt, intel_rdt_type),
	OCI_OBJ("personality", struct oci_linux, personality, personality_type),
};
static OCI_TYPE(linux_type, struct oci_linux, linux_fields);

/* ---- the document ---- */

static const struct oci_field config_fields[] = {
	OCI_STR_REQ("ociVersion", struct oci_config, oci_version),
	OCI_OBJ("process", struct oci_config, process, process_type),
	OCI_OBJ("root", struct oci_config, root, root_type),
	OCI_STR("hostname", struct oci_config, hostname),
	OCI_STR("domainname", struct oci_config, domainname),
	OCI_OBJV("mounts", struct oci_config, mounts, mount_type),
	OCI_OBJ("hooks", struct oci_config, hooks, hooks_type),
	OCI_SMAP("annotations", struct oci_config, annotations),
	OCI_OBJ("linux", struct oci_config, linux, linux_type),
};
static OCI_TYPE(config_type, struct oci_config, config_fields);

OCI_DEFINE_DOCUMENT(config, "config.json", config_type)
OCI_DEFINE_DOCUMENT(process, "process.json", process_type)
/* linux.resources alone: what `runk update --resources` and the agent's update carry. */
OCI_DEFINE_DOCUMENT(linux_resources, "resources", resources_type)

const struct oci_linux_namespace *oci_config_namespace(const struct oci_config *config,
						       const char *type)
{
	const struct oci_linux *l = config->linux;

	for (size_t i = 0; l && i < l->namespaces_len; i++)
		if (l->namespaces[i]->type && strcmp(l->namespaces[i]->type, type) == 0)
			return l->namespaces[i];
	return NULL;
}

/* The generic map code sees these through struct oci_object_map. */
_Static_assert(offsetof(struct oci_linux_rdma_map, values) ==
			       offsetof(struct oci_object_map, values) &&
		       offsetof(struct oci_linux_rdma_map, len) ==
			       offsetof(struct oci_object_map, len),
	       "oci_linux_rdma_map layout");
_Static_assert(offsetof(struct oci_linux_time_offsets, values) ==
			       offsetof(struct oci_object_map, values) &&
		       offsetof(struct oci_linux_time_offsets, len) ==
			       offsetof(struct oci_object_map, len),
	       "oci_linux_time_offsets layout");
_Static_assert(offsetof(struct oci_string_map, values) == offsetof(struct oci_object_map, values) &&
		       offsetof(struct oci_string_map, len) == offsetof(struct oci_object_map, len),
	       "oci_string_map layout");
