/* OCI hooks that run on the host: prestart, createRuntime, poststart, poststop. */
#ifndef RUNK_HOOKS_H
#define RUNK_HOOKS_H

#include <stddef.h>

#include "error.h"
#include "ocispec.h"

/*
 * Run hooks in order, each with the state JSON on its stdin, honouring its
 * timeout (seconds).  The first that fails or times out stops the run; the
 * error names the hook kind and path.
 */
int hooks_run(const char *kind, struct oci_hook **hooks, size_t n, const char *state_json,
	      runk_error_t *err);

/*
 * Every hook path must be absolute (runtime-spec: "path MUST be absolute"):
 * a relative one would run whatever the caller's working directory holds.
 * The error names the JSON path, e.g. hooks.prestart[0].path.
 */
int hooks_check_paths(const struct oci_hooks *hooks, const char *config_path, runk_error_t *err);

#endif
