/* A host arena between guard regions. The guards are checked by pattern (nanoml/guard.h, the
 * same code the firmware runs) and, where a memory checker is present, also marked
 * inaccessible so that reads are caught too, not only writes. */
#include <stdlib.h>

#include "nanoml/guard.h"
#include "nanoml/runtime_host.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NML_HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define NML_HAVE_ASAN 1
#endif

#if defined(NML_HAVE_ASAN)
#include <sanitizer/asan_interface.h>
#define GUARD_CLOSE(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define GUARD_OPEN(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#elif defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define GUARD_CLOSE(p, n) VALGRIND_MAKE_MEM_NOACCESS(p, n)
#define GUARD_OPEN(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)
#endif
#endif
#ifndef GUARD_CLOSE
#define GUARD_CLOSE(p, n) ((void)(p), (void)(n))
#define GUARD_OPEN(p, n) ((void)(p), (void)(n))
#endif

static uint8_t *guard_after(const nml_guarded_arena *g) {
    return g->block + NML_GUARD_BYTES + g->bytes;
}

static void close_guards(const nml_guarded_arena *g) {
    GUARD_CLOSE(g->block, NML_GUARD_BYTES);
    GUARD_CLOSE(guard_after(g), NML_GUARD_BYTES);
}

static void open_guards(const nml_guarded_arena *g) {
    GUARD_OPEN(g->block, NML_GUARD_BYTES);
    GUARD_OPEN(guard_after(g), NML_GUARD_BYTES);
}

nml_status nml_guarded_arena_alloc(nml_guarded_arena *g, size_t bytes, nml_error *err) {
    g->block = g->arena = NULL;
    g->bytes = 0;
    if (bytes > NML_MAX_TENSOR_BYTES)
        return nml_fail(err, NML_E_LIMIT, "arena of %zu bytes exceeds the limit of %lu bytes",
                        bytes, (unsigned long)NML_MAX_TENSOR_BYTES);
    void *p = NULL;
    if (posix_memalign(&p, 16, NML_GUARDED_BYTES(bytes)) != 0)
        return nml_fail(err, NML_E_NOMEM, "cannot allocate an arena of %zu bytes", bytes);
    g->block = p;
    g->bytes = bytes;
    g->arena = nml_guard_setup(g->block, bytes);
    close_guards(g);
    return NML_OK;
}

nml_status nml_guarded_arena_check(const nml_guarded_arena *g, nml_error *err) {
    if (!g || !g->block) return nml_fail(err, NML_E_ARG, "no guarded arena");
    long where;
    open_guards(g);
    int intact = nml_guard_intact(g->block, g->bytes, &where);
    close_guards(g);
    if (intact) return NML_OK;
    if (where < 0)
        return nml_fail(err, NML_E_INTERNAL,
                        "memory %ld bytes before the arena was overwritten (guard bytes changed)",
                        -where);
    return nml_fail(err, NML_E_INTERNAL,
                    "memory %lu bytes past the end of the %zu-byte arena was overwritten (guard "
                    "bytes changed)",
                    (unsigned long)((size_t)where - g->bytes + 1), g->bytes);
}

void nml_guarded_arena_free(nml_guarded_arena *g) {
    if (!g || !g->block) return;
    open_guards(g);
    free(g->block);
    g->block = g->arena = NULL;
    g->bytes = 0;
}
