/* spec.c: runc's default config.json. */
#ifndef RUNK_SPEC_H
#define RUNK_SPEC_H

#include <stdbool.h>

/* The default config.json as compact JSON (rootless: runc spec --rootless).  Caller frees. */
char *spec_default_text(bool rootless);

#endif
