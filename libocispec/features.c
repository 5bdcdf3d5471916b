/* features.json: what `runk features` prints (runtime-spec features.md, features-linux.md). */
#include <stddef.h>

#include "table.h"

static const struct oci_field enabled_fields[] = {
	OCI_BOOL_OPT("enabled", struct oci_features_enabled, enabled),
};
static OCI_TYPE(enabled_type, struct oci_features_enabled, enabled_fields);

static const struct oci_field cgroup_fields[] = {
	OCI_BOOL_OPT("v1", struct oci_features_cgroup, v1),
	OCI_BOOL_OPT("v2", struct oci_features_cgroup, v2),
	OCI_BOOL_OPT("systemd", struct oci_features_cgroup, systemd),
	OCI_BOOL_OPT("systemdUser", struct oci_features_cgroup, systemd_user),
	OCI_BOOL_OPT("rdma", struct oci_features_cgroup, rdma),
};
static OCI_TYPE(cgroup_type, struct oci_features_cgroup, cgroup_fields);

static const struct oci_field seccomp_fields[] = {
	OCI_BOOL_OPT("enabled", struct oci_features_seccomp, enabled),
	OCI_STRV("actions", struct oci_features_seccomp, actions),
	OCI_STRV("operators", struct oci_features_seccomp, operators),
	OCI_STRV("archs", struct oci_features_seccomp, archs),
	OCI_STRV("knownFlags", struct oci_features_seccomp, known_flags),
	OCI_STRV("supportedFlags", struct oci_features_seccomp, supported_flags),
};
static OCI_TYPE(seccomp_type, struct oci_features_seccomp, seccomp_fields);

static const struct oci_field mount_extensions_fields[] = {
	OCI_OBJ("idmap", struct oci_features_mount_extensions, idmap, enabled_type),
};
static OCI_TYPE(mount_extensions_type, struct oci_features_mount_extensions,
		mount_extensions_fields);

static const struct oci_field linux_fields[] = {
	OCI_STRV("namespaces", struct oci_features_linux, namespaces),
	OCI_STRV("capabilities", struct oci_features_linux, capabilities),
	OCI_OBJ("cgroup", struct oci_features_linux, cgroup, cgroup_type),
	OCI_OBJ("seccomp", struct oci_features_linux, seccomp, seccomp_type),
	OCI_OBJ("apparmor", struct oci_features_linux, apparmor, enabled_type),
	OCI_OBJ("selinux", struct oci_features_linux, selinux, enabled_type),
	OCI_OBJ("intelRdt", struct oci_features_linux, intel_rdt, enabled_type),
	OCI_OBJ("mountExtensions", struct oci_features_linux, mount_extensions,
		mount_extensions_type),
};
static OCI_TYPE(linux_type, struct oci_features_linux, linux_fields);

static const struct oci_field features_fields[] = {
	OCI_STR_REQ("ociVersionMin", struct oci_features, oci_version_min),
	OCI_STR_REQ("ociVersionMax", struct oci_features, oci_version_max),
	OCI_STRV("hooks", struct oci_features, hooks),
	OCI_STRV("mountOptions", struct oci_features, mount_options),
	OCI_OBJ("linux", struct oci_features, linux, linux_type),
	OCI_SMAP("annotations", struct oci_features, annotations),
	OCI_STRV("potentiallyUnsafeConfigAnnotations", struct oci_features,
		 potentially_unsafe_config_annotations),
};
static OCI_TYPE(features_type, struct oci_features, features_fields);

OCI_DEFINE_DOCUMENT(features, "features.json", features_type)
