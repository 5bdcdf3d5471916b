/*
 * The state document: what `runk state` prints (runtime-spec runtime.md
 * "State"), with the fields runc adds so tools reading runc's output work.
 */
#include <stddef.h>

#include "table.h"

static const struct oci_field state_fields[] = {
	OCI_STR_REQ("ociVersion", struct oci_state, oci_version),
	OCI_STR_REQ("id", struct oci_state, id),
	OCI_STR_REQ("status", struct oci_state, status),
	OCI_NUM_OMIT("pid", OCI_INT64, struct oci_state, pid),
	OCI_STR_REQ("bundle", struct oci_state, bundle),
	OCI_STR("rootfs", struct oci_state, rootfs),
	OCI_STR("created", struct oci_state, created),
	OCI_STR("owner", struct oci_state, owner),
	OCI_SMAP("annotations", struct oci_state, annotations),
};
static OCI_TYPE(state_type, struct oci_state, state_fields);

OCI_DEFINE_DOCUMENT(state, "state.json", state_type)
