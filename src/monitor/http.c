/*
 * The HTTP endpoint (libmicrohttpd, a thread per connection: a request that
 * waits for a slow sandbox holds only its own thread):
 *   /metrics             every sandbox, and the monitor's own figures
 *   /metrics?sandbox=ID  one sandbox (404 if it is not known)
 *   /sandboxes           the ids tracked, one a line
 */
#include "config.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "monitor.h"

#define HTTP_MAX_CONNECTIONS 512
#define HTTP_IDLE_TIMEOUT_S  30

static const char exposition_type[] = "text/plain; version=0.0.4; charset=utf-8";

static enum MHD_Result respond(struct MHD_Connection *c, unsigned int code, const char *type,
			       char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned int code, const char *text)
{
	char *body = strdup(text);

	if (body == NULL)
		abort();
	return respond(c, code, "text/plain; charset=utf-8", body, strlen(body));
}

static enum MHD_Result serve_sandboxes(struct MHD_Connection *c)
{
	size_t n, len = 0;
	struct sandbox **v = cache_snapshot(NULL, true, &n);
	char *body = NULL;
	FILE *f = open_memstream(&body, &len);

	if (f == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", v[i]->id);
	fclose(f);
	cache_put_snapshot(v, n);
	return respond(c, MHD_HTTP_OK, "text/plain; charset=utf-8", body, len);
}

static enum MHD_Result serve_metrics(struct MHD_Connection *c)
{
	const char *id = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sandbox");
	size_t len = 0;
	char *page;

	if (id && *id == '\0')
		return respond_text(c, MHD_HTTP_BAD_REQUEST, "sandbox= needs an id\n");
	page = metrics_render(id, &len);
	if (page == NULL && id)
		return respond_text(c, MHD_HTTP_NOT_FOUND, "no such sandbox\n");
	if (page == NULL)
		return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "invalid exposition\n");
	return respond(c, MHD_HTTP_OK, exposition_type, page, len);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **state)
{
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(c);
	if (strcmp(url, "/sandboxes") == 0)
		return serve_sandboxes(c);
	if (strcmp(url, "/") == 0)
		return respond_text(c, MHD_HTTP_OK,
				    "runk-monitor: /metrics, /metrics?sandbox=ID, /sandboxes\n");
	return respond_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (every address). */
static int parse_address(const char *address, struct addrinfo **ai, runk_error_t *err)
{
	cleanup_free char *host = strdup(address);
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
		.ai_socktype = SOCK_STREAM,
	};
	char *port = host ? strrchr(host, ':') : NULL;
	char *name;
	int r;

	if (port == NULL || port[1] == '\0')
		return runk_error(err, "listen address `%s`: not HOST:PORT", address);
	*port++ = '\0';
	name = host;
	if (name[0] == '[') {
		size_t n = strlen(name);

		if (n < 2 || name[n - 1] != ']')
			return runk_error(err, "listen address `%s`: bad [IPv6] part", address);
		name[n - 1] = '\0';
		name++;
	}
	r = getaddrinfo(*name ? name : NULL, port, &hints, ai);
	if (r != 0)
		return runk_error(err, "listen address `%s`: %s", address, gai_strerror(r));
	return 0;
}

struct MHD_Daemon *http_start(const char *address, runk_error_t *err)
{
	struct addrinfo *ai = NULL;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	unsigned int flags =
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	char host[INET6_ADDRSTRLEN + 2] = "";

	if (parse_address(address, &ai, err) < 0)
		return NULL;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
	d = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT_S,
			     MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024), MHD_OPTION_END);
	freeaddrinfo(ai);
	if (d == NULL)
		return runk_error(err, "cannot listen on %s", address), NULL;
	/* Port 0 picks a free one: say which, tests read it from the log. */
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	monitor_log("listening on %s%s%s:%u", strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", info ? (unsigned int)info->port : 0);
	return d;
}
