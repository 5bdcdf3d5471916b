noinst_LIBRARIES += src/librunk/librunk.a
src_librunk_librunk_a_SOURCES = \
	src/librunk/cleanup.h \
	src/librunk/error.c src/librunk/error.h \
	src/librunk/log.c src/librunk/log.h \
	src/librunk/id.c src/librunk/id.h \
	src/librunk/util.c src/librunk/util.h \
	src/librunk/state.c src/librunk/state.h \
	src/librunk/runkconf.c src/librunk/runkconf.h
