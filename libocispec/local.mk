# libocispec: the OCI runtime-spec documents as C structs, parsed and
# generated with yajl through one field table per struct.  Plain C + yajl +
# libc, so the static guest agent can link it too.
noinst_LIBRARIES += libocispec/libocispec.a
libocispec_libocispec_a_SOURCES = \
	libocispec/ocispec.h \
	libocispec/table.c libocispec/table.h \
	libocispec/config.c \
	libocispec/state.c \
	libocispec/features.c
