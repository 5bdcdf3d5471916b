/* Small file and process helpers shared by the CLI and the shim. */
#ifndef RUNK_UTIL_H
#define RUNK_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* fsync a directory, so that a rename or a new entry in it survives a crash (best effort). */
void fsync_dir(const char *dir);

/* Write data to path atomically: a temp file in the same directory, fsync, rename, fsync the
 * directory. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      runk_error_t *err);

/* Read a whole file (NUL-terminated; *len excludes the NUL).  Refuses files over max_len. */
int read_file(const char *path, size_t max_len, char **data, size_t *len, runk_error_t *err);

/* mkdir -p with the given mode for directories it creates. */
int mkdir_p(const char *path, mode_t mode, runk_error_t *err);

/* Remove a directory tree without crossing into other file systems. */
int remove_tree(const char *path, runk_error_t *err);

/* Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat). */
int proc_start_time(pid_t pid, uint64_t *start_time, runk_error_t *err);

/* True if pid is alive and still the process that started at start_time (not a reused PID). */
bool proc_is_same(pid_t pid, uint64_t start_time);

/*
 * SIGKILL a process and its children (a shim and its QEMU) and wait, at most
 * timeout_ms, until none of them runs any more (zombies count as gone).
 * Returns 0 once all are gone.
 */
int kill_process_tree(pid_t pid, int timeout_ms);

/* write(2) all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);

/* Parse a signal as runc does: "KILL", "SIGKILL" or "9". */
int signal_parse(const char *text, int *signo, runk_error_t *err);

/* Now as RFC 3339 with nanoseconds, UTC ("2026-01-02T03:04:05.123456789Z"). */
void format_rfc3339_now(char *buf, size_t len);

/*
 * The signals a shim (or an exec client, or a pod member's shim) passes on to
 * the container's process, as runc's init or runc exec would receive them.
 */
void forwarded_signals_set(sigset_t *set);

/* stdin, stdout and stderr on /dev/null: a shim lets go of its caller's. */
void stdio_to_dev_null(void);

struct sockaddr_un;
/*
 * A unix socket address for path, for bind or connect.  A path longer than
 * sun_path (a CRI's 64-character container id under a deep --root) is
 * reached through a descriptor of its directory, /proc/self/fd/N/name:
 * *dir_fd is that descriptor (close it once bound or connected), else -1.
 */
int unix_sockaddr(const char *path, struct sockaddr_un *addr, int *dir_fd, runk_error_t *err);

/*
 * Exit the way a process in the guest did, so whoever waits for us sees its
 * status: exit code N, or killed by signal S (the shim, the exec-shim).
 */
__attribute__((noreturn)) void exit_like(int code, int signo);

#endif
