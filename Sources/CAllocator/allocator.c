#include "CAllocator.h"

#include <stddef.h>

#if defined(__linux__)
// jemalloc's shared library is linked into the binary (Package.swift) and loaded before libc, so its malloc serves the
// whole process, libraries and libc itself included. It reads `malloc_conf` (this definition wins over its own) at
// its first allocation, before main. One arena for all threads: with an arena per thread (jemalloc's default is four
// per core) memory a burst freed in one served no other, and the peak under batches grew with each burst. MALLOC_CONF
// in the environment is read after this and wins.
const char *malloc_conf = "narenas:1";

int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

const char *smshook_allocator_version(void) {
    const char *version = NULL;
    size_t length = sizeof(version);
    return mallctl("version", &version, &length, NULL, 0) == 0 ? version : NULL;
}

const char *smshook_allocator_options(void) { return malloc_conf; }

int smshook_allocator_arenas(void) {
    unsigned arenas = 0;
    size_t length = sizeof(arenas);
    return mallctl("opt.narenas", &arenas, &length, NULL, 0) == 0 ? (int)arenas : -1;
}

int64_t smshook_allocator_thread_allocated(void) {
    uint64_t bytes = 0;
    size_t length = sizeof(bytes);
    return mallctl("thread.allocated", &bytes, &length, NULL, 0) == 0 ? (int64_t)bytes : -1;
}
#else
const char *smshook_allocator_version(void) { return NULL; }
const char *smshook_allocator_options(void) { return ""; }
int smshook_allocator_arenas(void) { return -1; }
int64_t smshook_allocator_thread_allocated(void) { return -1; }
#endif
