/* runk-monitor: options, signals, and the two halves (the watcher, the HTTP endpoint). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cleanup.h"
#include "monitor.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: runk-monitor [OPTION]...\n"
		"Serve Prometheus metrics for every runk sandbox.\n\n"
		"  -r, --root=DIR             a runk state root to watch (repeatable; default "
		"%s)\n"
		"  -l, --listen-address=ADDR  HOST:PORT, [V6]:PORT or :PORT (default %s;\n"
		"                             port 0 picks a free one and logs it)\n"
		"      --resync-delay=DUR     resync this long after the last event (default 2s)\n"
		"      --scrape-timeout=DUR   what a scrape waits for one sandbox (default 2s)\n"
		"      --min-interval=DUR     reuse a sandbox's figures this long (default 1s)\n"
		"      --root-retry=DUR       look for a missing root this often (default 1s)\n"
		"  -d, --debug                log every cache change and failed collection\n"
		"  -h, --help                 this help\n"
		"  -v, --version              the version\n\n"
		"DUR is a number of seconds, or a number followed by s or ms.\n",
		DEFAULT_ROOT, DEFAULT_LISTEN_ADDRESS);
}

enum { OPT_RESYNC = 256, OPT_TIMEOUT, OPT_INTERVAL, OPT_RETRY };

static int parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"root", required_argument, NULL, 'r'},
		{"listen-address", required_argument, NULL, 'l'},
		{"resync-delay", required_argument, NULL, OPT_RESYNC},
		{"scrape-timeout", required_argument, NULL, OPT_TIMEOUT},
		{"min-interval", required_argument, NULL, OPT_INTERVAL},
		{"root-retry", required_argument, NULL, OPT_RETRY},
		{"debug", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "r:l:dhv", longopts, NULL)) != -1) {
		uint64_t *duration = NULL;

		switch (c) {
		case 'r':
			if (optarg[0] != '/') {
				fprintf(stderr, "runk-monitor: --root must be absolute: %s\n",
					optarg);
				return -1;
			}
			monitor_opts.roots = realloc(monitor_opts.roots,
						     (monitor_opts.n_roots + 1) * sizeof(char *));
			if (monitor_opts.roots == NULL)
				abort();
			monitor_opts.roots[monitor_opts.n_roots++] = optarg;
			break;
		case 'l':
			monitor_opts.listen_address = optarg;
			break;
		case OPT_RESYNC:
			duration = &monitor_opts.resync_delay_ns;
			break;
		case OPT_TIMEOUT:
			duration = &monitor_opts.scrape_timeout_ns;
			break;
		case OPT_INTERVAL:
			duration = &monitor_opts.min_interval_ns;
			break;
		case OPT_RETRY:
			duration = &monitor_opts.root_retry_ns;
			break;
		case 'd':
			monitor_opts.debug = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'v':
			printf("runk-monitor %s (commit %s)\n", PACKAGE_VERSION, GIT_COMMIT);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		if (duration && parse_duration(optarg, duration) < 0) {
			fprintf(stderr, "runk-monitor: bad duration `%s` (e.g. 2s, 500ms)\n",
				optarg);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "runk-monitor: unexpected argument `%s`\n", argv[optind]);
		return -1;
	}
	if (monitor_opts.n_roots == 0) {
		static char *default_root[] = {(char *)DEFAULT_ROOT};

		monitor_opts.roots = default_root;
		monitor_opts.n_roots = 1;
	}
	if (monitor_opts.scrape_timeout_ns < 1000000 || monitor_opts.root_retry_ns < 1000000) {
		fprintf(stderr, "runk-monitor: timeouts must be at least 1ms\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	cleanup_error runk_error_t err = NULL;
	cleanup_close int stop_fd = -1;
	struct MHD_Daemon *daemon;
	sigset_t mask;
	int ret;

	if (parse_options(argc, argv) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	/* Blocked before any thread starts, so they all inherit it: only the signalfd sees them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	stop_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (stop_fd < 0) {
		perror("runk-monitor: signalfd");
		return 1;
	}
	histogram_init(&scrape_duration);
	daemon = http_start(monitor_opts.listen_address, &err);
	if (daemon == NULL) {
		cleanup_free char *text = runk_error_text(err);

		fprintf(stderr, "runk-monitor: %s\n", text);
		return 1;
	}
	ret = watch_run(stop_fd, &err);
	MHD_stop_daemon(daemon);
	if (ret < 0) {
		cleanup_free char *text = runk_error_text(err);

		fprintf(stderr, "runk-monitor: %s\n", text);
		return 1;
	}
	monitor_log("stopped");
	return 0;
}
