/*
 * libFuzzer target for the QMP client: the input is what QEMU "sends" on the
 * socket.  It goes through the real reader -- greeting, capabilities
 * negotiation, a command and its reply, events queued and waited for -- over
 * a socket pair, so line splitting, the line limit and id matching are
 * exercised, not only the JSON checks.  Each line is also fed to
 * qmp_parse_message on its own.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hypervisor/qmp.h"

static void parse_each_line(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char *save = NULL;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		runk_error_t err = NULL;
		enum qmp_msg_kind kind;
		yajl_val root = NULL;

		if (qmp_parse_message(line, &root, &kind, &err) == 0) {
			if (root == NULL || err != NULL)
				abort(); /* success means a message and no error */
			yajl_tree_free(root);
		} else if (err == NULL) {
			abort(); /* a failure always says why */
		}
		runk_error_free(&err);
	}
	free(text);
}

/* The whole session as runk's QEMU driver runs it, against the input as QEMU. */
static void session(const uint8_t *data, size_t size)
{
	int sv[2];
	runk_error_t err = NULL;
	struct qmp *q = NULL;
	yajl_val v = NULL;
	size_t done = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	/* -max_len keeps inputs well under the socket buffer: one write, then EOF. */
	while (done < size) {
		ssize_t n = write(sv[1], data + done, size - done);

		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	shutdown(sv[1], SHUT_WR);
	if (qmp_open(sv[0], 200, &q, &err) < 0) {
		if (err == NULL)
			abort();
		runk_error_free(&err);
		close(sv[1]);
		return;
	}
	if (qmp_execute(q, "query-status", NULL, &v, &err) == 0) {
		if (qmp_return(v) == NULL)
			abort(); /* a valid reply always has a return */
		yajl_tree_free(v);
	}
	runk_error_free(&err);
	v = NULL;
	if (qmp_wait_event(q, "STOP", 0, &v, &err) == 1) {
		if (strcmp(qmp_event_name(v), "STOP") != 0)
			abort();
		yajl_tree_free(v);
	}
	runk_error_free(&err);
	while (qmp_pop_event(q, &v) == 1) {
		if (qmp_event_name(v) == NULL)
			abort();
		yajl_tree_free(v);
	}
	qmp_close(q);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_each_line(data, size);
	session(data, size);
	return 0;
}
