/* Host-side conveniences around the runtime (malloc, files). Not for the microcontroller. */
#ifndef NANOML_RUNTIME_HOST_H
#define NANOML_RUNTIME_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads a .tflite file into a new 16-byte aligned buffer (*data, free() it after the model and
 * every interpreter using it) and verifies it into *model. Errors name the path. */
nml_status nml_load_model_file(const char *path, uint8_t **data, size_t *size, nml_model *model,
                               nml_error *err);

/* The exact arena size the model needs with these kernels: grows a malloc'd arena until
 * nml_interpreter_init succeeds, then reports its arena_used. */
nml_status nml_arena_size(const nml_model *model, const nml_op_resolver *ops, size_t *bytes,
                          nml_error *err);

/* nml_interpreter_init with a malloc'd arena of exactly the needed size in *arena (free() it
 * when done with the interpreter). On failure *arena is NULL. */
nml_status nml_interpreter_init_alloc(nml_interpreter *it, const nml_model *model,
                                      const nml_op_resolver *ops, uint8_t **arena, nml_error *err);

/* An arena of exactly `bytes` bytes between two guard regions (nanoml/guard.h), in one malloc'd
 * block. Under AddressSanitizer the guards are also poisoned, so a stray access stops at once
 * with a stack trace; elsewhere (plain builds, valgrind) nml_guarded_arena_check finds it. */
typedef struct nml_guarded_arena {
    uint8_t *block; /* NML_GUARDED_BYTES(bytes), 16-byte aligned */
    uint8_t *arena; /* block + NML_GUARD_BYTES */
    size_t bytes;
} nml_guarded_arena;

nml_status nml_guarded_arena_alloc(nml_guarded_arena *g, size_t bytes, nml_error *err);
/* NML_OK when both guards are unchanged; otherwise NML_E_INTERNAL with a message saying how
 * far before or after the arena the first changed byte is. */
nml_status nml_guarded_arena_check(const nml_guarded_arena *g, nml_error *err);
void nml_guarded_arena_free(nml_guarded_arena *g);

#ifdef __cplusplus
}
#endif
#endif
