# The host <-> guest wire format.  The host links libproto.a; the agent
# compiles the same sources into its static binary (src/agent/local.mk).
proto_sources = \
	src/proto/proto.c src/proto/proto.h \
	src/proto/proto-json.c

noinst_LIBRARIES += src/proto/libproto.a
src_proto_libproto_a_SOURCES = $(proto_sources)
