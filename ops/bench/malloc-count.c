/* LD_PRELOAD=malloc-count.so: counts the process's heap allocations (malloc, calloc, realloc, aligned allocations)
 * and their bytes, and writes "<allocations> <bytes>" to $MALLOC_COUNT_FILE at exit. For `make bench`
 * (ops/scripts/bench-allocs.sh); valgrind 3.19 cannot run Swift 6 binaries here. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static atomic_ulong count, bytes;

static void note(size_t n) { atomic_fetch_add_explicit(&count, 1, memory_order_relaxed); atomic_fetch_add_explicit(&bytes, n, memory_order_relaxed); }

void *malloc(size_t n) { note(n); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(a * b); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(n); return __libc_realloc(p, n); }
void *aligned_alloc(size_t a, size_t n) { note(n); return __libc_memalign(a, n); }
void *memalign(size_t a, size_t n) { note(n); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    note(n);
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("MALLOC_COUNT_FILE");
    if (!path) return;
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "%lu %lu\n", (unsigned long)atomic_load(&count), (unsigned long)atomic_load(&bytes));
    fclose(f);
}
