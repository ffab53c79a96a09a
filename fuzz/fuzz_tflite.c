/* .tflite end to end as the microcontroller sees it: verify the model, initialize it with every
 * kernel (prepare + plan) inside a fixed arena between guard bytes, run one inference on a
 * deterministic input, then check that nothing outside the arena's used part changed: not the
 * guards, not the unused tail of the arena, not the model bytes (constant tensors are read in
 * place and must stay read-only). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "nanoml/guard.h"
#include "nanoml/macs.h"
#include "nanoml/runtime_host.h"

#define MAX_MODEL (512u << 10) /* person_detect (294 KiB) fits */
#define ARENA (256u << 10)     /* person_detect needs 88 KiB */
#define MAC_BUDGET 20000000ull /* person_detect: 7.2 M; larger graphs only get prepared */
#define TAIL_SEED 0x7461696cu

static nml_guarded_arena arena;

/* Any byte pattern for integer inputs; small finite values for float inputs (float kernels on
 * NaN are still reached through constant tensors the fuzzer rewrites). */
static void fill_inputs(nml_interpreter *it) {
    for (uint32_t i = 0; i < nml_input_count(it); i++) {
        nml_tensor *t = nml_input(it, i);
        uint8_t *p = t->data;
        if (t->type == NML_FLOAT32) {
            for (uint32_t k = 0; k + 4 <= t->bytes; k += 4) {
                float v = (float)((int)(k * 37u % 257u) - 128) / 16.0f;
                memcpy(p + k, &v, 4);
            }
        } else {
            for (uint32_t k = 0; k < t->bytes; k++)
                p[k] = (uint8_t)(k * 131u + 17u);
        }
    }
}

static uint64_t total_macs(const nml_model *m) {
    uint64_t sum = 0, macs;
    for (uint32_t i = 0; i < m->n_operators; i++) {
        nml_fuzz_check(nml_model_op_macs(m, i, &macs, NULL) == NML_OK,
                       "MACs of a verified operator");
        sum = macs > UINT64_MAX - sum ? UINT64_MAX : sum + macs;
    }
    return sum;
}

/* Every planned tensor lies inside the used part of the arena. */
static void check_plan(const nml_interpreter *it) {
    nml_fuzz_check(it->arena_used <= it->arena_size, "arena_used within the arena");
    nml_fuzz_check(it->persistent_bytes + it->activation_bytes == it->arena_used,
                   "persistent + activations == arena_used");
    for (uint32_t i = 0; i < it->n_tensors; i++) {
        const nml_tensor *t = &it->tensors[i];
        if (t->alloc != NML_ALLOC_ARENA && t->alloc != NML_ALLOC_PERSIST) continue;
        uintptr_t lo = (uintptr_t)it->arena, p = (uintptr_t)t->data;
        nml_fuzz_check(t->data != NULL && p >= lo && p + t->bytes <= lo + it->arena_used,
                       "planned tensor inside the used arena");
    }
}

static nml_status one(const uint8_t *data, size_t size, nml_error *err) {
    nml_model model;
    NML_TRY(nml_model_load(&model, data, size, err));
    uint64_t macs = total_macs(&model);
    if (!arena.block && nml_guarded_arena_alloc(&arena, ARENA, err) != NML_OK) abort();
    memset(arena.arena, 0xcd, ARENA); /* same start state for every input: reproducible */

    nml_interpreter it = {0};
    NML_TRY(nml_interpreter_init(&it, &model, nml_ops_all(), arena.arena, ARENA, err));
    check_plan(&it);
    nml_guard_fill(arena.arena + it.arena_used, ARENA - it.arena_used, TAIL_SEED);
    if (macs > MAC_BUDGET) return NML_OK;

    uint8_t *before = malloc(size ? size : 1);
    nml_fuzz_check(before != NULL, "memory for the model copy");
    memcpy(before, data, size);
    fill_inputs(&it);
    nml_status st = nml_invoke(&it, err);
    nml_fuzz_check(nml_guarded_arena_check(&arena, NULL) == NML_OK, "guard bytes unchanged");
    nml_fuzz_check(nml_guard_find_change(arena.arena + it.arena_used, ARENA - it.arena_used,
                                         TAIL_SEED) == ARENA - it.arena_used,
                   "unused arena tail unchanged");
    nml_fuzz_check(memcmp(before, data, size) == 0, "model bytes unchanged by invoke");
    free(before);
    return st;
}

NML_FUZZ_TARGET(one, MAX_MODEL)
