#ifndef SMSHOOK_CALLOCATOR_H
#define SMSHOOK_CALLOCATOR_H

#include <stdint.h>

/// jemalloc's version when it is the process's malloc, else NULL.
const char *smshook_allocator_version(void);

/// The options this binary gives jemalloc (`MALLOC_CONF` in the environment adds to them and wins).
const char *smshook_allocator_options(void);

/// jemalloc's arenas for the threads (`opt.narenas`; one more serves only huge blocks), or -1 when malloc is not
/// jemalloc.
int smshook_allocator_arenas(void);

/// Bytes the calling thread has allocated so far through jemalloc, or -1 when malloc is not jemalloc.
int64_t smshook_allocator_thread_allocated(void);

#endif
