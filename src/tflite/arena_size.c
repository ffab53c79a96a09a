/* Finding the exact arena a model needs, on the host. The interpreter reports the exact size
 * as soon as its persistent part fits (and a lower bound before that), so this normally takes
 * two or three attempts. */
#include <stdlib.h>

#include "nanoml/file.h"
#include "nanoml/runtime_host.h"

#define FIRST_TRY ((size_t)16 << 10)
#define LARGEST ((size_t)NML_MAX_TENSOR_BYTES)

/* 16-byte aligned, exactly `bytes` long (so AddressSanitizer sees every overrun). */
static uint8_t *alloc_arena(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 16, bytes ? bytes : 1) != 0) return NULL;
    return p;
}

/* Initializes it in a growing arena; on success *arena / *size hold the arena used. */
static nml_status grow_init(nml_interpreter *it, const nml_model *model, const nml_op_resolver *ops,
                            uint8_t **arena, size_t *size, nml_error *err) {
    size_t bytes = FIRST_TRY;
    for (;;) {
        uint8_t *a = alloc_arena(bytes);
        if (!a) return nml_fail(err, NML_E_NOMEM, "cannot allocate an arena of %zu bytes", bytes);
        nml_status st = nml_interpreter_init(it, model, ops, a, bytes, err);
        if (st == NML_OK) {
            *arena = a;
            *size = bytes;
            return NML_OK;
        }
        free(a);
        if (st != NML_E_ARENA) return st;
        /* Grow by at least half: a lower bound can rise by just one operator's persistent
         * data per try, which made sizing quadratic in the operator count (8192 operators:
         * 8192 tries, seconds). Overshooting is harmless: once init succeeds it->arena_used is
         * the exact size. */
        size_t at_least = bytes > LARGEST / 3 * 2 ? LARGEST : bytes + bytes / 2;
        size_t next = it->arena_used > at_least ? it->arena_used : at_least;
        if (next <= bytes || next > LARGEST)
            return nml_fail(err, NML_E_LIMIT, "the model needs an arena of more than %zu bytes",
                            LARGEST);
        bytes = next;
    }
}

nml_status nml_arena_size(const nml_model *model, const nml_op_resolver *ops, size_t *bytes,
                          nml_error *err) {
    nml_interpreter it = {0};
    uint8_t *arena = NULL;
    size_t size;
    *bytes = 0;
    NML_TRY(grow_init(&it, model, ops, &arena, &size, err));
    *bytes = it.arena_used;
    free(arena);
    return NML_OK;
}

nml_status nml_interpreter_init_alloc(nml_interpreter *it, const nml_model *model,
                                      const nml_op_resolver *ops, uint8_t **arena, nml_error *err) {
    size_t size;
    *arena = NULL;
    NML_TRY(grow_init(it, model, ops, arena, &size, err));
    if (size == it->arena_used) return NML_OK;
    size_t exact = it->arena_used;
    free(*arena);
    *arena = alloc_arena(exact);
    if (!*arena) return nml_fail(err, NML_E_NOMEM, "cannot allocate an arena of %zu bytes", exact);
    nml_status st = nml_interpreter_init(it, model, ops, *arena, exact, err);
    if (st != NML_OK) {
        free(*arena);
        *arena = NULL;
    }
    return st;
}

nml_status nml_load_model_file(const char *path, uint8_t **data, size_t *size, nml_model *model,
                               nml_error *err) {
    NML_TRY(nml_read_file(path, NML_MAX_MODEL_BYTES, data, size, err));
    nml_status st = nml_model_load(model, *data, *size, err);
    if (st != NML_OK) {
        free(*data);
        *data = NULL;
        *size = 0;
        return nml_error_prefix(err, "%s: ", path);
    }
    return NML_OK;
}
