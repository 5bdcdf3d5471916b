#ifndef RUNK_ID_H
#define RUNK_ID_H

#include "error.h"

#define RUNK_ID_MAX 1024

/*
 * The one place container ids are checked: non-empty, at most 1024 bytes,
 * [A-Za-z0-9][A-Za-z0-9_.+-]*.  That excludes "/", "." and "..", so an id is
 * always safe as a single path component under the state root.
 */
int runk_id_validate(const char *id, runk_error_t *err);

#endif
