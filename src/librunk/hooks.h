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

#endif
