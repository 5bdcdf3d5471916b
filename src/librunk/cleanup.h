/* Cleanup attributes: every owned resource is released on every return path. */
#ifndef RUNK_CLEANUP_H
#define RUNK_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_free_fn(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_close_fn(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void cleanup_fclose_fn(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void cleanup_dir_fn(DIR **d)
{
	if (*d)
		closedir(*d);
}

static inline void cleanup_strv_fn(char ***strv)
{
	if (*strv == NULL)
		return;
	for (char **s = *strv; *s; s++)
		free(*s);
	free(*strv);
}

#define cleanup_free   __attribute__((cleanup(cleanup_free_fn)))
#define cleanup_close  __attribute__((cleanup(cleanup_close_fn)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclose_fn)))
#define cleanup_dir    __attribute__((cleanup(cleanup_dir_fn)))
#define cleanup_strv   __attribute__((cleanup(cleanup_strv_fn)))

/* Hand ownership on: returns the value and leaves NULL behind. */
#define steal_pointer(pp)                                                                          \
	({                                                                                         \
		__typeof__(*(pp)) _stolen = *(pp);                                                 \
		*(pp) = NULL;                                                                      \
		_stolen;                                                                           \
	})

/* The same for file descriptors: returns the fd and leaves -1 behind. */
#define steal_fd(pfd)                                                                              \
	({                                                                                         \
		int _stolen = *(pfd);                                                              \
		*(pfd) = -1;                                                                       \
		_stolen;                                                                           \
	})

#endif
