/* The malformed-model corpus: over 10,000 seeded mutations of the shared .tflite models, each
 * run through the whole runtime (tests/support/tfl_exercise.c): load + verify, init with every
 * real kernel inside a 256 KiB arena between guard bytes, one invoke. Every mutant must either
 * be rejected with a status and a message, or initialize and invoke to completion without
 * touching anything outside the used arena (guards, unused arena tail and model bytes are
 * compared afterwards). Mutation classes:
 *   truncate        the file cut at a random length
 *   bit flips       1 to 4 random bits
 *   swap offsets    two catalogued 4-byte offsets exchanged (tables, vectors, strings)
 *   huge dimension  a shape dimension set to 2^16 .. 2^31-1 (or 0 / negative)
 *   negative index  an operator input/output, graph input/output or buffer index set < 0
 *   bad opcode      an operator's opcode index set to the opcode count or beyond
 *   valid index     an operator's tensor index replaced by another valid one, so the graph
 *                   still loads but its shapes and types disagree (prepare must catch it)
 *   any field       1 to 3 hostile values in any catalogued field (tests/support/tfl_fields.h)
 * Fields are located by walking the model with the runtime's flatbuffer reader, so the
 * mutations hit real structure. Counts are printed per model and class; a failure names the
 * model, the trial and the class, and the run is reproducible from the fixed seeds.
 * NML_CORPUS_VERBOSE=1 prints every rejection message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/runtime_host.h"
#include "test_util.h"
#include "tfl_exercise.h"
#include "tfl_fields.h"

#define ARENA (256u << 10)
#define MAC_BUDGET 20000000ull /* person_detect (7.2 M MACs) runs; yolov8n is only prepared */

typedef enum mclass {
    M_TRUNCATE,
    M_BITFLIP,
    M_SWAP_OFFSETS,
    M_HUGE_DIM,
    M_NEGATIVE_INDEX,
    M_BAD_OPCODE,
    M_VALID_INDEX,
    M_ANY_FIELD,
    M_CLASSES
} mclass;

static const char *const CLASS_NAMES[M_CLASSES] = {
    "truncate",       "bit flips",  "swap offsets", "huge dimension",
    "negative index", "bad opcode", "valid index",  "any field"};

typedef struct tally {
    unsigned outcome[TFL_OUTCOMES];
    unsigned per_class[M_CLASSES];
    unsigned unchanged; /* mutations that happened to leave the bytes as they were */
    unsigned total;
} tally;

static tally grand;

static uint32_t rng_state;
static uint32_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void set_kind(uint8_t *buf, const tfl_fields *f, int kind, uint64_t value) {
    long i = tfl_fields_pick(f, kind, rng());
    if (i >= 0) tfl_field_set(buf, &f->items[i], value);
}

/* Applies one mutation of class c to buf; returns the length to use. */
static size_t mutate(mclass c, uint8_t *buf, size_t size, const tfl_fields *f) {
    static const uint64_t huge[] = {0x7fffffff, 0x10000, 1u << 20, 0x40000000, 0, 0xffffffff};
    static const uint64_t negative[] = {0xffffffff, 0xfffffffe, 0x80000000, 0xffffff00};
    static const int index_kinds[] = {TFL_F_OP_INPUT, TFL_F_OP_OUTPUT, TFL_F_GRAPH_IO,
                                      TFL_F_TENSOR_BUFFER};
    switch (c) {
    case M_TRUNCATE:
        return rng() % 8 ? rng() % size : rng() % (size < 256 ? size : 256);
    case M_BITFLIP:
        for (uint32_t k = 0, n = 1 + rng() % 4; k < n; k++)
            buf[rng() % size] ^= (uint8_t)(1u << (rng() % 8));
        return size;
    case M_SWAP_OFFSETS: {
        long a = tfl_fields_pick(f, TFL_F_OFFSET, rng()),
             b = tfl_fields_pick(f, TFL_F_OFFSET, rng());
        if (a >= 0 && b >= 0) {
            uint8_t tmp[4];
            memcpy(tmp, buf + f->items[a].pos, 4);
            memcpy(buf + f->items[a].pos, buf + f->items[b].pos, 4);
            memcpy(buf + f->items[b].pos, tmp, 4);
        }
        return size;
    }
    case M_HUGE_DIM:
        set_kind(buf, f, TFL_F_DIM, huge[rng() % 6]);
        return size;
    case M_NEGATIVE_INDEX:
        set_kind(buf, f, index_kinds[rng() % 4], negative[rng() % 4]);
        return size;
    case M_BAD_OPCODE: {
        long i = tfl_fields_pick(f, TFL_F_OP_OPCODE, rng());
        if (i >= 0) {
            uint64_t n = f->items[i].limit;
            const uint64_t v[] = {n, n + 1, n + 100, 0xffffffff, 0x80000000};
            tfl_field_set(buf, &f->items[i], v[rng() % 5]);
        }
        return size;
    }
    case M_VALID_INDEX: {
        long i = tfl_fields_pick(f, rng() % 3 ? TFL_F_OP_INPUT : TFL_F_OP_OUTPUT, rng());
        if (i >= 0 && f->items[i].limit)
            tfl_field_set(buf, &f->items[i], rng() % f->items[i].limit);
        return size;
    }
    default:
        for (uint32_t k = 0, n = 1 + rng() % 3; k < n; k++)
            tfl_field_mutate(buf, f, rng(), rng());
        return size;
    }
}

/* `trials` mutants of one model; classes weighted by `weights` (M_CLASSES entries). */
static void run_model(const char *rel, unsigned trials, const unsigned *weights, uint32_t seed) {
    size_t size;
    uint8_t *data = nml_test_read(nml_test_shared(rel), &size);
    tfl_fields f;
    nml_error err;
    if (tfl_fields_collect(data, size, &f, &err) != NML_OK) fail_msg("%s: %s", rel, err.msg);
    nml_guarded_arena arena;
    assert_int_equal(nml_guarded_arena_alloc(&arena, ARENA, &err), NML_OK);
    const char *v = getenv("NML_CORPUS_VERBOSE"); /* 1: print every rejection message */
    int verbose = v && *v == '1';
    unsigned weight_sum = 0;
    for (int c = 0; c < M_CLASSES; c++)
        weight_sum += weights[c];

    tally t;
    memset(&t, 0, sizeof t);
    rng_state = seed;
    for (unsigned trial = 0; trial < trials; trial++) {
        unsigned w = rng() % weight_sum;
        mclass c = 0;
        while (w >= weights[c])
            w -= weights[c++];
        uint8_t *copy = nml_test_alloc16(size);
        memcpy(copy, data, size);
        size_t len = mutate(c, copy, size, &f);
        if (len == size && memcmp(copy, data, size) == 0) t.unchanged++;
        uint8_t *exact = copy;
        if (len != size) { /* truncated: its own exact-size block, so ASan sees overreads */
            exact = nml_test_alloc16(len);
            memcpy(exact, copy, len);
        }
        tfl_run r;
        tfl_exercise(exact, len, &arena, MAC_BUDGET, &r);
        if (r.violation)
            fail_msg("%s trial %u (%s, seed %u): %s [%s: %s]", rel, trial, CLASS_NAMES[c],
                     (unsigned)seed, r.violation, tfl_outcome_name(r.outcome), r.err.msg);
        if (verbose && r.status != NML_OK)
            printf("%s #%u %s: %s: %s\n", rel, trial, CLASS_NAMES[c], tfl_outcome_name(r.outcome),
                   r.err.msg);
        t.outcome[r.outcome]++;
        t.per_class[c]++;
        t.total++;
        if (exact != copy) free(exact);
        free(copy);
    }
    assert_int_equal(nml_guarded_arena_check(&arena, &err), NML_OK);
    print_message("%-48s %5u mutants: %5u rejected at load, %4u at init, %4u prepared only, "
                  "%4u ran, %3u invoke errors (%u unchanged)\n",
                  rel, t.total, t.outcome[TFL_REJECTED_LOAD], t.outcome[TFL_REJECTED_INIT],
                  t.outcome[TFL_PREPARED], t.outcome[TFL_RAN], t.outcome[TFL_INVOKE_FAILED],
                  t.unchanged);
    for (int o = 0; o < TFL_OUTCOMES; o++)
        grand.outcome[o] += t.outcome[o];
    for (int c = 0; c < M_CLASSES; c++)
        grand.per_class[c] += t.per_class[c];
    grand.unchanged += t.unchanged;
    grand.total += t.total;
    nml_guarded_arena_free(&arena);
    tfl_fields_free(&f);
    free(data);
}

/* truncate, bit flips, swap offsets, huge dim, negative index, bad opcode, valid index, any */
static const unsigned SMALL_MIX[M_CLASSES] = {2, 2, 2, 2, 2, 1, 3, 4};
static const unsigned HEADER_MIX[M_CLASSES] = {2, 3, 4, 1, 1, 1, 0, 0};

static void small_models(void **state) {
    (void)state;
    run_model("models/tflm/hello_world_float.tflite", 2500, SMALL_MIX, 1);
    run_model("models/tflm/hello_world_int8.tflite", 2500, SMALL_MIX, 2);
    run_model("models/tflm/micro_speech_quantized.tflite", 2500, SMALL_MIX, 3);
    run_model("models/tflm/simple_add_model.tflite", 2000, SMALL_MIX, 4);
}

/* person_detect: every mutant that loads runs a 7 M MAC inference, so fewer of them. */
static void person_detect(void **state) {
    (void)state;
    run_model("models/tflm/person_detect.tflite", 400, SMALL_MIX, 5);
}

/* yolov8n is too big for the arena (5 MB), so this exercises the verifier and init's
 * rejection on a large real model: headers, offsets and truncations. */
static void yolov8n_headers(void **state) {
    (void)state;
    run_model("models/yolov8n/yolov8n_full_integer_quant.tflite", 300, HEADER_MIX, 6);
}

static void totals(void **state) {
    (void)state;
    print_message("total %u mutants: %u rejected at load, %u rejected at init, %u prepared only, "
                  "%u ran to completion, %u invoke errors; 0 guard, tail or model-byte "
                  "changes\n",
                  grand.total, grand.outcome[TFL_REJECTED_LOAD], grand.outcome[TFL_REJECTED_INIT],
                  grand.outcome[TFL_PREPARED], grand.outcome[TFL_RAN],
                  grand.outcome[TFL_INVOKE_FAILED]);
    for (int c = 0; c < M_CLASSES; c++)
        print_message("  %-15s %5u\n", CLASS_NAMES[c], grand.per_class[c]);
    assert_true(grand.total >= 10000);
    for (int c = 0; c < M_CLASSES; c++)
        assert_true(grand.per_class[c] >= 100);
    /* the corpus is only useful if it reaches every stage */
    assert_true(grand.outcome[TFL_REJECTED_LOAD] > 0);
    assert_true(grand.outcome[TFL_REJECTED_INIT] > 0);
    assert_true(grand.outcome[TFL_RAN] > 0);
    /* inconsistent shapes and types are caught by prepare, never discovered by invoke: none
     * of the operators in these models can fail on input data alone */
    assert_int_equal(grand.outcome[TFL_INVOKE_FAILED], 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_models),
        cmocka_unit_test(person_detect),
        cmocka_unit_test(yolov8n_headers),
        cmocka_unit_test(totals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
