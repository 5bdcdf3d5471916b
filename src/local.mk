bin_PROGRAMS += src/runk
src_runk_SOURCES = src/runk.c
src_runk_LDADD = src/librunk/librunk.a $(YAJL_LIBS)
