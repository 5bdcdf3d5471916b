# runk-monitor: Prometheus metrics for every sandbox (libmicrohttpd).
bin_PROGRAMS += src/monitor/runk-monitor
src_monitor_runk_monitor_SOURCES = \
	src/monitor/monitor.h \
	src/monitor/main.c src/monitor/util.c src/monitor/watch.c src/monitor/resync.c \
	src/monitor/cache.c src/monitor/scrape.c src/monitor/metrics.c src/monitor/render.c \
	src/monitor/http.c
src_monitor_runk_monitor_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) -pthread
src_monitor_runk_monitor_LDADD = src/librunk/librunk.a src/proto/libproto.a $(YAJL_LIBS) \
	$(MHD_LIBS) -lpthread

# Unit tests: the exposition format, escaping, the histogram, the resync decisions.
check_PROGRAMS += tests/test-monitor
TESTS += tests/test-monitor
tests_test_monitor_SOURCES = tests/test-monitor.c tests/testlib.h src/monitor/monitor.h \
	src/monitor/metrics.c src/monitor/resync.c src/monitor/util.c
tests_test_monitor_CPPFLAGS = -I$(top_srcdir)/src/monitor $(AM_CPPFLAGS)
tests_test_monitor_CFLAGS = $(AM_CFLAGS) -pthread
tests_test_monitor_LDADD = src/librunk/librunk.a -lpthread
