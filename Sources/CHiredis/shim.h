#ifndef SMSHOOK_CHIREDIS_SHIM_H
#define SMSHOOK_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <poll.h>
#include <errno.h>
#include <sys/prctl.h>

/// errno of the calling thread, read right after a failed hiredis call.
static inline int chiredis_errno(void) { return errno; }

/// True when an idle connection has something to read (EOF, error or stray bytes): it is no longer usable.
static inline int chiredis_idle_socket_is_stale(int fd) {
    struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
    int n = poll(&p, 1, 0);
    return n != 0;
}

/// Names the calling thread (first 15 bytes), so `top -H` and profilers show the Redis I/O threads. prctl rather
/// than pthread_setname_np, which needs _GNU_SOURCE (and that changes glibc's types under Swift's Glibc module).
static inline void chiredis_name_thread(const char *name) { prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }
#endif
