/*
 * The OCI runtime-spec (v1.2) documents as C structs: config.json, the
 * process document of `exec --process`, the state document and
 * features.json.
 *
 * Conventions, the same in every struct:
 *   - a field is named after its JSON key in snake_case;
 *   - strings are malloc'd, NULL when absent;
 *   - string arrays are `char **x; size_t x_len;`, also NULL-terminated;
 *     arrays of objects are `struct oci_y **x; size_t x_len;`.  An absent
 *     array is NULL, a present empty one is non-NULL with x_len == 0;
 *   - nested objects and maps are pointers, NULL when absent;
 *   - a scalar the spec makes optional has `bool has_x` beside it; the
 *     generator writes it only when has_x is set;
 *   - integers keep the spec's Go types (int64/uint64/int32/uint32/uint16)
 *     and their full range.
 *
 * Parse functions return NULL and set *err (malloc'd, e.g.
 * "linux.resources.cpu.quota: expected an integer, got string") on
 * failure.  Unknown fields are ignored, JSON null counts as absent.
 * Everything is freed with the document's free function, which takes NULL.
 */
#ifndef OCISPEC_H
#define OCISPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* GNU C predefines `linux` as 1, and the spec has a field of that name. */
#ifdef linux
#undef linux
#endif

/* JSON object of string values, in document order. */
struct oci_string_map {
	char **keys;
	char **values;
	size_t len;
};

/* The value of KEY in M, or NULL (also when M is NULL). */
const char *oci_string_map_get(const struct oci_string_map *m, const char *key);

/* Set KEY to VALUE in *M (creating the map if *M is NULL).  Returns 0, or -1 on ENOMEM. */
int oci_string_map_set(struct oci_string_map **m, const char *key, const char *value);

void oci_string_map_free(struct oci_string_map *m);

/* ---- config.json: process ---- */

struct oci_box {
	uint64_t height;
	uint64_t width;
};

struct oci_user {
	uint32_t uid;
	uint32_t gid;
	uint32_t umask;
	bool has_umask;
	uint32_t *additional_gids;
	size_t additional_gids_len;
	char *username;
};

struct oci_linux_capabilities {
	char **bounding;
	size_t bounding_len;
	char **effective;
	size_t effective_len;
	char **inheritable;
	size_t inheritable_len;
	char **permitted;
	size_t permitted_len;
	char **ambient;
	size_t ambient_len;
};

struct oci_posix_rlimit {
	char *type;
	uint64_t hard;
	uint64_t soft;
};

struct oci_linux_io_priority {
	char *class;
	int64_t priority;
};

struct oci_scheduler {
	char *policy;
	int32_t nice;
	int32_t priority;
	char **flags;
	size_t flags_len;
	uint64_t runtime;
	uint64_t deadline;
	uint64_t period;
};

struct oci_cpu_affinity {
	char *initial;
	char *final;
};

struct oci_process {
	bool terminal;
	struct oci_box *console_size;
	struct oci_user *user;
	char **args;
	size_t args_len;
	char *command_line;
	char **env;
	size_t env_len;
	char *cwd; /* required */
	struct oci_linux_capabilities *capabilities;
	struct oci_posix_rlimit **rlimits;
	size_t rlimits_len;
	bool no_new_privileges;
	char *apparmor_profile;
	int64_t oom_score_adj;
	bool has_oom_score_adj;
	char *selinux_label;
	struct oci_linux_io_priority *io_priority;
	struct oci_scheduler *scheduler;
	struct oci_cpu_affinity *exec_cpu_affinity;
};

/* ---- config.json: root, mounts, hooks ---- */

struct oci_root {
	char *path; /* required */
	bool readonly;
};

struct oci_linux_id_mapping {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

struct oci_mount {
	char *destination; /* required */
	char *type;
	char *source;
	char **options;
	size_t options_len;
	struct oci_linux_id_mapping **uid_mappings;
	size_t uid_mappings_len;
	struct oci_linux_id_mapping **gid_mappings;
	size_t gid_mappings_len;
};

struct oci_hook {
	char *path; /* required */
	char **args;
	size_t args_len;
	char **env;
	size_t env_len;
	int64_t timeout;
	bool has_timeout;
};

struct oci_hooks {
	struct oci_hook **prestart;
	size_t prestart_len;
	struct oci_hook **create_runtime;
	size_t create_runtime_len;
	struct oci_hook **create_container;
	size_t create_container_len;
	struct oci_hook **start_container;
	size_t start_container_len;
	struct oci_hook **poststart;
	size_t poststart_len;
	struct oci_hook **poststop;
	size_t poststop_len;
};

/* ---- config.json: linux ---- */

struct oci_linux_namespace {
	char *type; /* required */
	char *path;
};

struct oci_linux_time_offset {
	int64_t secs;
	uint32_t nanosecs;
};

/* linux.timeOffsets: clock name ("monotonic", "boottime") -> offset. */
struct oci_linux_time_offsets {
	char **keys;
	struct oci_linux_time_offset **values;
	size_t len;
};

struct oci_linux_device {
	char *type; /* required */
	char *path; /* required */
	int64_t major;
	int64_t minor;
	uint32_t file_mode;
	bool has_file_mode;
	uint32_t uid;
	bool has_uid;
	uint32_t gid;
	bool has_gid;
};

struct oci_linux_device_cgroup {
	bool allow;
	char *type;
	int64_t major;
	bool has_major;
	int64_t minor;
	bool has_minor;
	char *access;
};

struct oci_linux_memory {
	int64_t limit;
	bool has_limit;
	int64_t reservation;
	bool has_reservation;
	int64_t swap;
	bool has_swap;
	int64_t kernel;
	bool has_kernel;
	int64_t kernel_tcp;
	bool has_kernel_tcp;
	uint64_t swappiness;
	bool has_swappiness;
	bool disable_oom_killer;
	bool has_disable_oom_killer;
	bool use_hierarchy;
	bool has_use_hierarchy;
	bool check_before_update;
	bool has_check_before_update;
};

struct oci_linux_cpu {
	uint64_t shares;
	bool has_shares;
	int64_t quota;
	bool has_quota;
	uint64_t burst;
	bool has_burst;
	uint64_t period;
	bool has_period;
	int64_t realtime_runtime;
	bool has_realtime_runtime;
	uint64_t realtime_period;
	bool has_realtime_period;
	char *cpus;
	char *mems;
	int64_t idle;
	bool has_idle;
};

struct oci_linux_pids {
	int64_t limit;
	bool has_limit;
};

struct oci_linux_weight_device {
	int64_t major; /* required */
	int64_t minor; /* required */
	uint16_t weight;
	bool has_weight;
	uint16_t leaf_weight;
	bool has_leaf_weight;
};

struct oci_linux_throttle_device {
	int64_t major; /* required */
	int64_t minor; /* required */
	uint64_t rate; /* required */
};

struct oci_linux_block_io {
	uint16_t weight;
	bool has_weight;
	uint16_t leaf_weight;
	bool has_leaf_weight;
	struct oci_linux_weight_device **weight_device;
	size_t weight_device_len;
	struct oci_linux_throttle_device **throttle_read_bps_device;
	size_t throttle_read_bps_device_len;
	struct oci_linux_throttle_device **throttle_write_bps_device;
	size_t throttle_write_bps_device_len;
	struct oci_linux_throttle_device **throttle_read_iops_device;
	size_t throttle_read_iops_device_len;
	struct oci_linux_throttle_device **throttle_write_iops_device;
	size_t throttle_write_iops_device_len;
};

struct oci_linux_hugepage_limit {
	char *page_size; /* required */
	uint64_t limit;	 /* required */
};

struct oci_linux_interface_priority {
	char *name;	   /* required */
	uint32_t priority; /* required */
};

struct oci_linux_network {
	uint32_t class_id;
	bool has_class_id;
	struct oci_linux_interface_priority **priorities;
	size_t priorities_len;
};

struct oci_linux_rdma {
	uint32_t hca_handles;
	bool has_hca_handles;
	uint32_t hca_objects;
	bool has_hca_objects;
};

/* linux.resources.rdma: device name -> limits. */
struct oci_linux_rdma_map {
	char **keys;
	struct oci_linux_rdma **values;
	size_t len;
};

struct oci_linux_resources {
	struct oci_linux_device_cgroup **devices;
	size_t devices_len;
	struct oci_linux_memory *memory;
	struct oci_linux_cpu *cpu;
	struct oci_linux_pids *pids;
	struct oci_linux_block_io *block_io;
	struct oci_linux_hugepage_limit **hugepage_limits;
	size_t hugepage_limits_len;
	struct oci_linux_network *network;
	struct oci_linux_rdma_map *rdma;
	struct oci_string_map *unified;
};

struct oci_linux_seccomp_arg {
	uint64_t index; /* required */
	uint64_t value; /* required */
	uint64_t value_two;
	char *op; /* required */
};

struct oci_linux_syscall {
	char **names; /* required */
	size_t names_len;
	char *action; /* required */
	uint64_t errno_ret;
	bool has_errno_ret;
	struct oci_linux_seccomp_arg **args;
	size_t args_len;
};

struct oci_linux_seccomp {
	char *default_action; /* required */
	uint64_t default_errno_ret;
	bool has_default_errno_ret;
	char **architectures;
	size_t architectures_len;
	char **flags;
	size_t flags_len;
	char *listener_path;
	char *listener_metadata;
	struct oci_linux_syscall **syscalls;
	size_t syscalls_len;
};

struct oci_linux_intel_rdt {
	char *clos_id;
	char *l3_cache_schema;
	char *mem_bw_schema;
	bool enable_cmt;
	bool enable_mbm;
};

struct oci_linux_personality {
	char *domain;
	char **flags;
	size_t flags_len;
};

struct oci_linux {
	struct oci_linux_id_mapping **uid_mappings;
	size_t uid_mappings_len;
	struct oci_linux_id_mapping **gid_mappings;
	size_t gid_mappings_len;
	struct oci_linux_time_offsets *time_offsets;
	struct oci_string_map *sysctl;
	struct oci_linux_resources *resources;
	char *cgroups_path;
	struct oci_linux_namespace **namespaces;
	size_t namespaces_len;
	struct oci_linux_device **devices;
	size_t devices_len;
	struct oci_linux_seccomp *seccomp;
	char *rootfs_propagation;
	char **masked_paths;
	size_t masked_paths_len;
	char **readonly_paths;
	size_t readonly_paths_len;
	char *mount_label;
	struct oci_linux_intel_rdt *intel_rdt;
	struct oci_linux_personality *personality;
};

/* ---- the documents ---- */

struct oci_config {
	char *oci_version; /* required */
	struct oci_process *process;
	struct oci_root *root;
	char *hostname;
	char *domainname;
	struct oci_mount **mounts;
	size_t mounts_len;
	struct oci_hooks *hooks;
	struct oci_string_map *annotations;
	struct oci_linux *linux;
};

/* The state document (runtime-spec "State"), plus the fields runc adds. */
struct oci_state {
	char *oci_version; /* required */
	char *id;	   /* required */
	char *status;	   /* required */
	int64_t pid;	   /* written when non-zero */
	char *bundle;	   /* required */
	struct oci_string_map *annotations;
	char *rootfs;  /* runc */
	char *created; /* runc: RFC 3339 time */
	char *owner;   /* runc */
};

/* features.json: a "enabled" switch, used by several sections. */
struct oci_features_enabled {
	bool enabled;
	bool has_enabled;
};

struct oci_features_cgroup {
	bool v1;
	bool has_v1;
	bool v2;
	bool has_v2;
	bool systemd;
	bool has_systemd;
	bool systemd_user;
	bool has_systemd_user;
	bool rdma;
	bool has_rdma;
};

struct oci_features_seccomp {
	bool enabled;
	bool has_enabled;
	char **actions;
	size_t actions_len;
	char **operators;
	size_t operators_len;
	char **archs;
	size_t archs_len;
	char **known_flags;
	size_t known_flags_len;
	char **supported_flags;
	size_t supported_flags_len;
};

struct oci_features_mount_extensions {
	struct oci_features_enabled *idmap;
};

struct oci_features_linux {
	char **namespaces;
	size_t namespaces_len;
	char **capabilities;
	size_t capabilities_len;
	struct oci_features_cgroup *cgroup;
	struct oci_features_seccomp *seccomp;
	struct oci_features_enabled *apparmor;
	struct oci_features_enabled *selinux;
	struct oci_features_enabled *intel_rdt;
	struct oci_features_mount_extensions *mount_extensions;
};

struct oci_features {
	char *oci_version_min; /* required */
	char *oci_version_max; /* required */
	char **hooks;
	size_t hooks_len;
	char **mount_options;
	size_t mount_options_len;
	struct oci_features_linux *linux;
	struct oci_string_map *annotations;
	char **potentially_unsafe_config_annotations;
	size_t potentially_unsafe_config_annotations_len;
};

/*
 * For each document DOC in config, process, linux_resources (linux.resources
 * on its own), state, features:
 *
 *   struct oci_DOC *oci_DOC_parse_data(const char *json, size_t len, char **err);
 *   struct oci_DOC *oci_DOC_parse_file(const char *path, char **err);
 *   char *oci_DOC_generate(const struct oci_DOC *doc, char **err);         compact JSON
 *   char *oci_DOC_generate_pretty(const struct oci_DOC *doc, char **err);  indented, ends in \n
 *   void oci_DOC_free(struct oci_DOC *doc);
 *
 * generate fails (NULL, *err set) only when a required field is unset or a
 * string is not valid UTF-8.
 */
struct oci_config *oci_config_parse_data(const char *json, size_t len, char **err);
struct oci_config *oci_config_parse_file(const char *path, char **err);
char *oci_config_generate(const struct oci_config *config, char **err);
char *oci_config_generate_pretty(const struct oci_config *config, char **err);
void oci_config_free(struct oci_config *config);

/* The first entry of linux.namespaces of TYPE ("network", "ipc", ...), or NULL. */
const struct oci_linux_namespace *oci_config_namespace(const struct oci_config *config,
						       const char *type);

struct oci_process *oci_process_parse_data(const char *json, size_t len, char **err);
struct oci_process *oci_process_parse_file(const char *path, char **err);
char *oci_process_generate(const struct oci_process *process, char **err);
char *oci_process_generate_pretty(const struct oci_process *process, char **err);
void oci_process_free(struct oci_process *process);

struct oci_linux_resources *oci_linux_resources_parse_data(const char *json, size_t len,
							   char **err);
struct oci_linux_resources *oci_linux_resources_parse_file(const char *path, char **err);
char *oci_linux_resources_generate(const struct oci_linux_resources *resources, char **err);
char *oci_linux_resources_generate_pretty(const struct oci_linux_resources *resources, char **err);
void oci_linux_resources_free(struct oci_linux_resources *resources);

struct oci_state *oci_state_parse_data(const char *json, size_t len, char **err);
struct oci_state *oci_state_parse_file(const char *path, char **err);
char *oci_state_generate(const struct oci_state *state, char **err);
char *oci_state_generate_pretty(const struct oci_state *state, char **err);
void oci_state_free(struct oci_state *state);

struct oci_features *oci_features_parse_data(const char *json, size_t len, char **err);
struct oci_features *oci_features_parse_file(const char *path, char **err);
char *oci_features_generate(const struct oci_features *features, char **err);
char *oci_features_generate_pretty(const struct oci_features *features, char **err);
void oci_features_free(struct oci_features *features);

#endif
