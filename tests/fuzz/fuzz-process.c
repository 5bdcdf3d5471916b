/*
 * libFuzzer target for `runk exec --process FILE`: the input is process.json.
 * It takes the path runk takes -- libocispec parses it, generates the JSON
 * sent to the shim, the shim parses that again with the protocol's reader
 * and embeds it in the exec request -- and checks each step's promise: what
 * parses generates text that parses to the same text, and a request built
 * from it is one valid JSON object.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocispec.h"
#include "proto.h"

static void exec_request(const char *process)
{
	runk_error_t err = NULL;
	yajl_val parsed = proto_json_parse(process, strlen(process), &err);
	char *request = NULL;
	yajl_val req;

	if (parsed == NULL) {
		/* libocispec's output must read back: only the protocol's depth limit may refuse.
		 */
		char *text = runk_error_text(err);

		if (text == NULL || strstr(text, "nested") == NULL) {
			fprintf(stderr, "generated process does not parse: %s\n%s\n", text,
				process);
			abort();
		}
		free(text);
		runk_error_free(&err);
		return;
	}
	yajl_tree_free(parsed);
	if (asprintf(&request, "{\"op\":\"exec\",\"id\":\"c1\",\"stream\":2,\"process\":%s}",
		     process) < 0)
		abort();
	req = proto_json_parse(request, strlen(request), &err);
	if (req == NULL) {
		char *text = runk_error_text(err);

		if (text == NULL || strstr(text, "nested") == NULL) {
			fprintf(stderr, "exec request does not parse: %s\n%s\n", text, request);
			abort();
		}
		free(text);
	}
	runk_error_free(&err);
	yajl_tree_free(req);
	free(request);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *perr = NULL, *gen1 = NULL, *gen2 = NULL;
	struct oci_process *a = oci_process_parse_data((const char *)data, size, &perr);
	struct oci_process *b;

	if (a == NULL) {
		if (perr == NULL)
			abort(); /* a failure always says why */
		free(perr);
		return 0;
	}
	gen1 = oci_process_generate(a, &perr);
	if (gen1 == NULL) {
		fprintf(stderr, "process parsed but not generated: %s\n", perr);
		abort();
	}
	b = oci_process_parse_data(gen1, strlen(gen1), &perr);
	if (b == NULL) {
		fprintf(stderr, "generated %s, which does not parse: %s\n", gen1, perr);
		abort();
	}
	gen2 = oci_process_generate(b, &perr);
	if (gen2 == NULL || strcmp(gen1, gen2) != 0) {
		fprintf(stderr, "process round trip differs:\n%s\n%s\n", gen1, gen2 ? gen2 : perr);
		abort();
	}
	exec_request(gen1);
	free(gen1);
	free(gen2);
	oci_process_free(a);
	oci_process_free(b);
	return 0;
}
