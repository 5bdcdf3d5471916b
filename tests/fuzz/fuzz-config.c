/*
 * libFuzzer target for libocispec: every input is parsed as each document;
 * what parses must generate, parse again, and generate the same text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocispec.h"

#define ROUND_TRIP(doc, data, size)                                                                \
	do {                                                                                       \
		char *err = NULL, *gen1 = NULL, *gen2 = NULL;                                      \
		struct oci_##doc *a = oci_##doc##_parse_data((const char *)(data), (size), &err);  \
		struct oci_##doc *b = NULL;                                                        \
		if (a == NULL) {                                                                   \
			if (err == NULL)                                                           \
				abort(); /* a failure always says why */                           \
			free(err);                                                                 \
			break;                                                                     \
		}                                                                                  \
		gen1 = oci_##doc##_generate(a, &err);                                              \
		if (gen1 == NULL) {                                                                \
			fprintf(stderr, #doc ": parsed but not generated: %s\n", err);             \
			abort();                                                                   \
		}                                                                                  \
		b = oci_##doc##_parse_data(gen1, strlen(gen1), &err);                              \
		if (b == NULL) {                                                                   \
			fprintf(stderr, #doc ": generated %s, which does not parse: %s\n", gen1,   \
				err);                                                              \
			abort();                                                                   \
		}                                                                                  \
		gen2 = oci_##doc##_generate(b, &err);                                              \
		if (gen2 == NULL || strcmp(gen1, gen2) != 0) {                                     \
			fprintf(stderr, #doc ": round trip differs:\n%s\n%s\n", gen1,              \
				gen2 ? gen2 : err);                                                \
			abort();                                                                   \
		}                                                                                  \
		free(gen1);                                                                        \
		free(gen2);                                                                        \
		oci_##doc##_free(a);                                                               \
		oci_##doc##_free(b);                                                               \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ROUND_TRIP(config, data, size);
	ROUND_TRIP(process, data, size);
	ROUND_TRIP(state, data, size);
	ROUND_TRIP(features, data, size);
	return 0;
}
