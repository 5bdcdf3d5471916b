/* The QMP client against canned QEMU output: replies, errors, events, garbage. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "testlib.h"
#include "hypervisor/qmp.h"

#define GREETING                                                                                   \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "         \
	"\"package\": \"Debian\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define EVENT(name)                                                                                \
	"{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"" name                \
	"\", \"data\": {\"guest\": true}}\r\n"

static bool parses(const char *line, enum qmp_msg_kind want)
{
	cleanup_error runk_error_t err = NULL;
	enum qmp_msg_kind kind;
	yajl_val root = NULL;

	if (qmp_parse_message(line, &root, &kind, &err) < 0)
		return false;
	yajl_tree_free(root);
	return kind == want;
}

static bool rejected(const char *line)
{
	cleanup_error runk_error_t err = NULL;
	enum qmp_msg_kind kind;
	yajl_val root = NULL;

	if (qmp_parse_message(line, &root, &kind, &err) == 0) {
		yajl_tree_free(root);
		return false;
	}
	return err != NULL && err->msg != NULL;
}

static void test_parser(void)
{
	ok(parses(GREETING, QMP_MSG_GREETING), "greeting");
	ok(parses("{\"return\": {}}", QMP_MSG_RETURN), "empty return");
	ok(parses("{\"return\": [{\"thread-id\": 5}], \"id\": 3}", QMP_MSG_RETURN), "list return");
	ok(parses("{\"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}}", QMP_MSG_ERROR),
	   "error reply");
	ok(parses(EVENT("STOP"), QMP_MSG_EVENT), "event");
	ok(parses("{\"event\": \"RESUME\", \"timestamp\": {\"seconds\": 1}}", QMP_MSG_EVENT),
	   "event without data");

	ok(rejected(""), "empty line rejected");
	ok(rejected("{\"return\": }"), "truncated JSON rejected");
	ok(rejected("{\"return\": {}} {\"return\": {}}"), "two values on a line rejected");
	ok(rejected("[1, 2]"), "array rejected");
	ok(rejected("\"return\""), "bare string rejected");
	ok(rejected("{\"id\": 1}"), "object of no known kind rejected");
	ok(rejected("{\"return\": {}, \"error\": {\"class\": \"a\", \"desc\": \"b\"}}"),
	   "return and error together rejected");
	ok(rejected("{\"error\": \"boom\"}"), "error that is not an object rejected");
	ok(rejected("{\"error\": {\"class\": 1, \"desc\": \"b\"}}"), "error class not a string");
	ok(rejected("{\"error\": {\"class\": \"a\"}}"), "error without desc rejected");
	ok(rejected("{\"event\": 5, \"timestamp\": {}}"), "event name not a string rejected");
	ok(rejected("{\"event\": \"\", \"timestamp\": {}}"), "empty event name rejected");
	ok(rejected("{\"event\": \"X\", \"data\": [], \"timestamp\": {}}"),
	   "event data not an object rejected");
	ok(rejected("{\"event\": \"X\"}"), "event without timestamp rejected");
	ok(rejected("{\"QMP\": {\"version\": {\"qemu\": \"7.2\"}, \"capabilities\": []}}"),
	   "greeting with a string version rejected");
	ok(rejected("{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, "
		    "\"micro\": 0}}}}"),
	   "greeting without capabilities rejected");
}

/* A client connected to a peer that has already "said" script. */
static struct qmp *open_with(const char *script, int *peer, runk_error_t *err)
{
	struct qmp *q = NULL;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	if (write(sv[1], script, strlen(script)) != (ssize_t)strlen(script))
		return NULL;
	if (qmp_open(sv[0], 200, &q, err) < 0) {
		close(sv[1]);
		return NULL;
	}
	*peer = sv[1];
	return q;
}

static char *read_peer(int peer)
{
	static char buf[4096];
	ssize_t n = recv(peer, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_session(void)
{
	cleanup_error runk_error_t err = NULL;
	yajl_val reply = NULL, event = NULL;
	struct qmp *q;
	int peer = -1, major, minor, micro;

	q = open_with(GREETING "{\"return\": {}, \"id\": 1}\r\n" EVENT("STOP") EVENT(
			      "RESUME") "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 4242}], "
					"\"id\": 2}\r\n"
					"\r\n" EVENT("SHUTDOWN") "{\"error\": {\"class\": "
								 "\"GenericError\", \"desc\": "
								 "\"boom\"}, \"id\": 3}\r\n"
								 "{\"return\": {}, \"id\": 99}\r\n",
		      &peer, &err);
	ok(q != NULL, "greeting + capabilities negotiated");
	if (q == NULL)
		return;
	qmp_version(q, &major, &minor, &micro);
	ok(major == 7 && minor == 2 && micro == 22, "version from the greeting");
	is_str(read_peer(peer), "{\"execute\":\"qmp_capabilities\",\"id\":1}\n",
	       "qmp_capabilities sent with id 1");

	ok(qmp_execute(q, "query-cpus-fast", NULL, &reply, &err) == 0,
	   "command reply found past two events");
	{
		yajl_val ret = qmp_return(reply);
		ok(YAJL_IS_ARRAY(ret) && ret->u.array.len == 1, "return value is the list");
	}
	yajl_tree_free(reply);
	is_str(read_peer(peer), "{\"execute\":\"query-cpus-fast\",\"id\":2}\n",
	       "command sent with the next id");

	ok(qmp_execute(q, "stop", "{\"x\":1}", NULL, &err) < 0, "error reply fails the command");
	ok(err && strstr(err->msg, "stop") && strstr(err->msg, "GenericError") &&
		   strstr(err->msg, "boom"),
	   "error names command, class and desc (%s)", err ? err->msg : "");
	runk_error_free(&err);
	is_str(read_peer(peer), "{\"execute\":\"stop\",\"arguments\":{\"x\":1},\"id\":3}\n",
	       "arguments passed through");

	ok(qmp_pop_event(q, &event) == 1 && strcmp(qmp_event_name(event), "STOP") == 0,
	   "events kept in order: STOP");
	yajl_tree_free(event);
	ok(qmp_wait_event(q, "SHUTDOWN", 0, &event, &err) == 1, "SHUTDOWN picked out of the queue");
	yajl_tree_free(event);
	ok(qmp_pop_event(q, &event) == 1 && strcmp(qmp_event_name(event), "RESUME") == 0,
	   "other events stay queued");
	yajl_tree_free(event);
	ok(qmp_pop_event(q, &event) == 0, "queue empty");

	ok(qmp_execute(q, "cont", NULL, NULL, &err) < 0 && err && strstr(err->msg, "id"),
	   "a reply with the wrong id is refused");
	runk_error_free(&err);

	ok(qmp_execute(q, "bad name\"", NULL, NULL, &err) < 0, "command names are checked");
	runk_error_free(&err);

	ok(qmp_execute(q, "cont", NULL, NULL, &err) < 0 && err && err->errnum == ETIMEDOUT,
	   "silence times out");
	runk_error_free(&err);
	ok(qmp_wait_event(q, "NOPE", 10, NULL, &err) == 0, "waiting for an event times out");

	close(peer);
	ok(qmp_execute(q, "cont", NULL, NULL, &err) < 0 && qmp_closed(q),
	   "a closed connection is reported");
	runk_error_free(&err);
	qmp_close(q);
}

static void test_bad_sessions(void)
{
	cleanup_error runk_error_t err = NULL;
	int peer = -1;

	ok(open_with("{\"return\": {}}\r\n", &peer, &err) == NULL, "no greeting: refused");
	runk_error_free(&err);
	ok(open_with(GREETING "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"x\"}, "
			      "\"id\": 1}\r\n",
		     &peer, &err) == NULL,
	   "capabilities refused: open fails");
	runk_error_free(&err);
	ok(open_with(GREETING "{\"return\": {}, \"id\": 1", &peer, &err) == NULL,
	   "a half line then silence: open fails");
	runk_error_free(&err);
}

static void test_quote(void)
{
	cleanup_free char *q = qmp_quote("exec:cat > \"/tmp/a b\"\n");

	is_str(q, "\"exec:cat > \\\"/tmp/a b\\\"\\n\"", "qmp_quote escapes");
}

int main(void)
{
	test_parser();
	test_session();
	test_bad_sessions();
	test_quote();
	return test_done();
}
