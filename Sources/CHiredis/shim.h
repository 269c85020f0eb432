#ifndef SMSHOOK_CHIREDIS_SHIM_H
#define SMSHOOK_CHIREDIS_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <errno.h>

/// errno of the calling thread, read right after a failed hiredis call.
static inline int chiredis_errno(void) { return errno; }

/// True when an idle connection has something to read (EOF, error or stray bytes): it is no longer usable.
static inline int chiredis_idle_socket_is_stale(int fd) {
    struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
    int n = poll(&p, 1, 0);
    return n != 0;
}

/// Names the calling thread (at most 15 bytes shown), so `top -H` and profilers show the Redis I/O threads.
static inline void chiredis_name_thread(const char *name) { pthread_setname_np(pthread_self(), name); }
#endif
