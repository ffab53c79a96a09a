/* The end-to-end runtime check shared by the malformed corpus and the fuzzers. */
#include "tfl_exercise.h"

#include <stdlib.h>
#include <string.h>

#include "nanoml/guard.h"
#include "nanoml/macs.h"

#define TAIL_SEED 0x7461696cu

const char *tfl_outcome_name(tfl_outcome o) {
    static const char *const names[TFL_OUTCOMES] = {"rejected at load", "rejected at init",
                                                    "prepared only", "ran", "invoke failed"};
    return o < TFL_OUTCOMES ? names[o] : "?";
}

/* Any byte pattern for integer inputs; small finite values for float inputs (NaN still reaches
 * float kernels through constant tensors that mutations rewrite). */
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

/* Total MACs, or NULL with *macs untouched when an operator has none (must not happen for a
 * verified model). */
static const char *total_macs(const nml_model *m, uint64_t *total) {
    uint64_t sum = 0, macs;
    for (uint32_t i = 0; i < m->n_operators; i++) {
        if (nml_model_op_macs(m, i, &macs, NULL) != NML_OK)
            return "MACs of a verified operator could not be computed";
        sum = macs > UINT64_MAX - sum ? UINT64_MAX : sum + macs;
    }
    *total = sum;
    return NULL;
}

static const char *check_plan(const nml_interpreter *it) {
    if (it->arena_used > it->arena_size) return "arena_used exceeds the arena";
    if (it->persistent_bytes + it->activation_bytes != it->arena_used)
        return "persistent + activation bytes differ from arena_used";
    for (uint32_t i = 0; i < it->n_tensors; i++) {
        const nml_tensor *t = &it->tensors[i];
        if (t->alloc != NML_ALLOC_ARENA && t->alloc != NML_ALLOC_PERSIST) continue;
        uintptr_t lo = (uintptr_t)it->arena, p = (uintptr_t)t->data;
        if (!t->data || p < lo || p + t->bytes > lo + it->arena_used)
            return "a planned tensor lies outside the used arena";
    }
    return NULL;
}

static int message_ok(nml_status st, const nml_error *err) {
    return st > NML_OK && st <= NML_E_INTERNAL && st != NML_E_INTERNAL && err->status == st &&
           err->msg[0] != '\0' && memchr(err->msg, '\0', sizeof err->msg) != NULL;
}

static void fail_step(tfl_run *out, tfl_outcome o, nml_status st) {
    out->outcome = o;
    out->status = st;
    if (!message_ok(st, &out->err)) out->violation = "failure without a proper status and message";
}

static void invoke_and_check(const uint8_t *model, size_t size, nml_guarded_arena *arena,
                             nml_interpreter *it, tfl_run *out) {
    uint8_t *before = malloc(size ? size : 1);
    if (!before) {
        out->violation = "out of memory in the test";
        return;
    }
    memcpy(before, model, size);
    fill_inputs(it);
    nml_error_clear(&out->err);
    nml_status st = nml_invoke(it, &out->err);
    if (st != NML_OK)
        fail_step(out, TFL_INVOKE_FAILED, st);
    else
        out->outcome = TFL_RAN;
    size_t tail = arena->bytes - it->arena_used;
    if (nml_guarded_arena_check(arena, NULL) != NML_OK)
        out->violation = "guard bytes around the arena changed";
    else if (nml_guard_find_change(arena->arena + it->arena_used, tail, TAIL_SEED) != tail)
        out->violation = "the unused tail of the arena changed";
    else if (memcmp(before, model, size) != 0)
        out->violation = "invoke changed the model bytes";
    free(before);
}

void tfl_exercise(const uint8_t *model, size_t size, nml_guarded_arena *arena, uint64_t mac_budget,
                  tfl_run *out) {
    memset(out, 0, sizeof *out);
    nml_model m;
    nml_status st = nml_model_load(&m, model, size, &out->err);
    if (st != NML_OK) {
        fail_step(out, TFL_REJECTED_LOAD, st);
        return;
    }
    uint64_t macs = 0;
    if ((out->violation = total_macs(&m, &macs)) != NULL) return;

    memset(arena->arena, 0xcd, arena->bytes); /* the same start state for every input */
    nml_interpreter it = {0};
    nml_error_clear(&out->err);
    st = nml_interpreter_init(&it, &m, nml_ops_all(), arena->arena, arena->bytes, &out->err);
    if (st != NML_OK) {
        fail_step(out, TFL_REJECTED_INIT, st);
        if (nml_guarded_arena_check(arena, NULL) != NML_OK)
            out->violation = "guard bytes around the arena changed during a failed init";
        return;
    }
    if ((out->violation = check_plan(&it)) != NULL) return;
    nml_guard_fill(arena->arena + it.arena_used, arena->bytes - it.arena_used, TAIL_SEED);
    out->outcome = TFL_PREPARED;
    if (macs <= mac_budget) invoke_and_check(model, size, arena, &it, out);
}
