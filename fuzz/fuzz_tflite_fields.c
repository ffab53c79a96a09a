/* Structure-aware .tflite fuzzing. The input is a short mutation program applied to one of the
 * shared models: byte 0 picks the model, then up to 8 records of 6 bytes each pick a catalogued
 * field (3 bytes) and a hostile value for it (3 bytes) (tests/support/tfl_fields.h: shape
 * dimensions, tensor indices, types, quantization, offsets, option fields, ...). libFuzzer
 * mutates the small program, so every execution is a structurally meaningful model that goes
 * through the same end-to-end checks as fuzz_tflite. Inputs refer to the files in
 * $NML_SHARED_DIR/models/tflm, which are read-only, so saved inputs stay reproducible. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "nanoml/file.h"
#include "tfl_exercise.h"
#include "tfl_fields.h"

#define ARENA (256u << 10)
#define MAC_BUDGET 20000000ull
#define RECORD 6
#define MAX_RECORDS 8

static const char *const MODELS[] = {"hello_world_float", "hello_world_int8",
                                     "micro_speech_quantized", "simple_add_model", "person_detect"};
#define N_MODELS (sizeof MODELS / sizeof MODELS[0])

typedef struct base {
    uint8_t *data;
    size_t size;
    tfl_fields fields;
} base;

static base bases[N_MODELS];
static nml_guarded_arena arena;

static void load_bases(void) {
    const char *shared = getenv("NML_SHARED_DIR");
    if (!shared || !*shared) shared = NML_SHARED_DIR;
    for (size_t i = 0; i < N_MODELS; i++) {
        char path[1024];
        nml_error err;
        snprintf(path, sizeof path, "%s/models/tflm/%s.tflite", shared, MODELS[i]);
        if (nml_read_file(path, 1u << 20, &bases[i].data, &bases[i].size, &err) != NML_OK ||
            tfl_fields_collect(bases[i].data, bases[i].size, &bases[i].fields, &err) != NML_OK) {
            fprintf(stderr, "fuzz_tflite_fields: %s (set NML_SHARED_DIR)\n", err.msg);
            abort();
        }
    }
    nml_error err;
    if (nml_guarded_arena_alloc(&arena, ARENA, &err) != NML_OK) abort();
}

static uint32_t u24(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static nml_status one(const uint8_t *data, size_t size, nml_error *err) {
    if (!arena.block) load_bases();
    if (size < 1 + RECORD) return NML_OK;
    const base *b = &bases[data[0] % N_MODELS];
    uint8_t *model = NULL;
    if (posix_memalign((void **)&model, 16, b->size) != 0) abort();
    memcpy(model, b->data, b->size);
    for (size_t k = 0; k < MAX_RECORDS && 1 + RECORD * (k + 1) <= size; k++) {
        const uint8_t *rec = data + 1 + RECORD * k;
        tfl_field_mutate(model, &b->fields, u24(rec), u24(rec + 3));
    }
    tfl_run r;
    tfl_exercise(model, b->size, &arena, MAC_BUDGET, &r);
    free(model);
    nml_fuzz_check(r.violation == NULL, r.violation ? r.violation : "");
    *err = r.err;
    return r.status;
}

NML_FUZZ_TARGET(one, 1 + RECORD * MAX_RECORDS)
