/* The memory planner, driven through the interpreter with fake kernels on hand-built and
 * seeded random graphs. Everything is checked independently of the planner's bookkeeping:
 * lifetimes are recomputed here from the operator lists, simultaneously live tensors and
 * scratch must not overlap, kernels verify that their inputs still hold what the producer
 * wrote, the arena is exact (N bytes work, N - 1 fail with a message giving N) and guard bytes
 * around the arena survive invoke. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "test_util.h"
#include "tfl_builder.h"

/* ---- fake kernels: per-node scratch and persistent sizes come from these tables ---- */

static uint32_t g_scratch[TB_MAX_OPS];
static uint32_t g_persist[TB_MAX_OPS];
static int g_corrupt; /* set when a kernel finds an input overwritten */

static uint8_t pattern(int32_t tensor) {
    return (uint8_t)(tensor * 29 + 7);
}

static nml_status fake_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    if (g_persist[node->index] && !nml_ctx_alloc_persistent(ctx, g_persist[node->index]))
        return NML_E_ARENA;
    return nml_ctx_request_scratch(ctx, node, g_scratch[node->index]);
}

static nml_status fake_eval(nml_ctx *ctx, nml_node *node) {
    for (uint32_t k = 0; k < node->n_inputs; k++) {
        nml_tensor *t = nml_node_input(ctx, node, k);
        if (!t || t->alloc != NML_ALLOC_ARENA) continue;
        const uint8_t *d = t->data;
        for (uint32_t b = 0; b < t->bytes; b++)
            if (d[b] != pattern(node->inputs[k])) g_corrupt = 1;
    }
    uint8_t *s = nml_ctx_scratch(ctx, node);
    if (s) memset(s, 0xee, node->scratch_bytes);
    for (uint32_t k = 0; k < node->n_outputs; k++) {
        nml_tensor *t = nml_node_output(ctx, node, k);
        memset(t->data, pattern(node->outputs[k]), t->bytes);
    }
    return NML_OK;
}

static const nml_kernel fake_kernel = {NML_OP_ADD, "FAKE", fake_prepare, fake_eval};
static const nml_kernel *const fake_table[] = {&fake_kernel};
static const nml_op_resolver fake_ops = {fake_table, 1};

/* ---- graphs ---- */

static int32_t dims1(uint32_t n) {
    return (int32_t)n;
}

static int add_act(tb_model *m, uint32_t bytes) {
    int32_t d = dims1(bytes);
    return tb_add_tensor(m, NML_INT8, 1, &d, 0, NULL);
}

typedef struct built {
    uint8_t *data;
    size_t size;
    nml_model model;
} built;

static void build(tb_model *m, built *b) {
    nml_error err;
    b->data = tb_build(m, &b->size);
    if (nml_model_load(&b->model, b->data, b->size, &err) != NML_OK) fail_msg("%s", err.msg);
}

/* ---- independent checks ---- */

typedef struct life {
    int first, last;
} life;

/* Lifetimes from the operator lists: graph inputs from 0, outputs to the end. */
static void lifetimes(const tb_model *m, life *l) {
    for (int t = 0; t < m->n_tensors; t++)
        l[t].first = l[t].last = -1;
    for (int i = 0; i < m->n_inputs; i++)
        l[m->inputs[i]].first = l[m->inputs[i]].last = 0;
    for (int o = 0; o < m->n_ops; o++) {
        for (int k = 0; k < m->ops[o].n_in; k++) {
            int32_t t = m->ops[o].in[k];
            if (t >= 0 && m->tensors[t].buffer == 0) l[t].last = o;
        }
        for (int k = 0; k < m->ops[o].n_out; k++) {
            int32_t t = m->ops[o].out[k];
            if (l[t].first < 0) l[t].first = o;
            if (l[t].last < o) l[t].last = o;
        }
    }
    for (int i = 0; i < m->n_outputs; i++)
        l[m->outputs[i]].last = m->n_ops - 1;
}

static int disjoint(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    return na == 0 || nb == 0 || a + na <= b || b + nb <= a;
}

/* No two buffers live at the same time share a byte; everything lies in the activation
 * region; returns the largest sum of live bytes over the operators. */
static size_t check_plan(const tb_model *m, nml_interpreter *it) {
    life l[TB_MAX_TENSORS];
    lifetimes(m, l);
    const uint8_t *act = it->arena + it->persistent_bytes, *end = it->arena + it->arena_used;
    for (int a = 0; a < m->n_tensors; a++) {
        nml_tensor *ta = &it->tensors[a];
        if (m->tensors[a].buffer) {
            assert_int_equal(ta->alloc, NML_ALLOC_CONST);
            continue;
        }
        if (l[a].first < 0) {
            assert_int_equal(ta->alloc, NML_ALLOC_NONE);
            continue;
        }
        assert_int_equal(ta->alloc, NML_ALLOC_ARENA);
        assert_int_equal(ta->first_use, l[a].first);
        assert_int_equal(ta->last_use, l[a].last);
        const uint8_t *da = ta->data;
        assert_true(da >= act && da + ta->bytes <= end);
        assert_int_equal((uintptr_t)da % 16, 0);
        for (int b = a + 1; b < m->n_tensors; b++) {
            nml_tensor *tb = &it->tensors[b];
            if (m->tensors[b].buffer || l[b].first < 0) continue;
            if (l[a].first > l[b].last || l[b].first > l[a].last) continue;
            if (!disjoint(da, ta->bytes, tb->data, tb->bytes))
                fail_msg("tensors %d and %d overlap while both live", a, b);
        }
    }
    size_t worst = 0;
    nml_ctx *ctx = it->ctx;
    for (int o = 0; o < m->n_ops; o++) {
        const nml_node *n = &it->nodes[o];
        const uint8_t *s = nml_ctx_scratch(ctx, n);
        size_t live = n->scratch_bytes;
        assert_int_equal(n->scratch_bytes, g_scratch[o]);
        if (s) assert_true(s >= act && s + n->scratch_bytes <= end);
        for (int t = 0; t < m->n_tensors; t++) {
            if (m->tensors[t].buffer || l[t].first < 0 || l[t].first > o || l[t].last < o) continue;
            live += it->tensors[t].bytes;
            if (s && !disjoint(s, n->scratch_bytes, it->tensors[t].data, it->tensors[t].bytes))
                fail_msg("scratch of operator %d overlaps live tensor %d", o, t);
        }
        if (live > worst) worst = live;
    }
    return worst;
}

#define GUARD 64

/* Inits in exactly `size` bytes surrounded by guard bytes, runs twice, checks the guards. */
static void run_guarded(const tb_model *m, const nml_model *model, size_t size) {
    uint8_t *block = nml_test_alloc16(size + 2 * GUARD + 16);
    memset(block, 0xa5, size + 2 * GUARD + 16);
    nml_interpreter it = {0};
    nml_error err;
    if (nml_interpreter_init(&it, model, &fake_ops, block + GUARD, size, &err) != NML_OK)
        fail_msg("init in %zu bytes: %s", size, err.msg);
    for (int run = 0; run < 2; run++) {
        for (int i = 0; i < m->n_inputs; i++) {
            nml_tensor *t = nml_input(&it, (uint32_t)i);
            memset(t->data, pattern(m->inputs[i]), t->bytes);
        }
        g_corrupt = 0;
        assert_int_equal(nml_invoke(&it, &err), NML_OK);
        assert_int_equal(g_corrupt, 0);
        for (int i = 0; i < m->n_outputs; i++) {
            nml_tensor *t = nml_output(&it, (uint32_t)i);
            for (uint32_t b = 0; b < t->bytes; b++)
                assert_int_equal(((uint8_t *)t->data)[b], pattern(m->outputs[i]));
        }
    }
    for (size_t i = 0; i < GUARD; i++) {
        assert_int_equal(block[i], 0xa5);
        assert_int_equal(block[GUARD + size + i], 0xa5);
    }
    free(block);
}

/* The full set of checks; returns the exact arena size. */
static size_t check_graph(tb_model *m) {
    built b;
    build(m, &b);
    nml_interpreter it = {0};
    nml_error err;
    size_t big = 4u << 20;
    uint8_t *arena = nml_test_alloc16(big);
    if (nml_interpreter_init(&it, &b.model, &fake_ops, arena, big, &err) != NML_OK)
        fail_msg("%s", err.msg);
    size_t n = it.arena_used;
    assert_int_equal(n, it.persistent_bytes + it.activation_bytes);
    size_t worst = check_plan(m, &it);
    assert_int_equal(it.activation_min_bytes, worst);
    assert_true(it.activation_bytes >= it.activation_min_bytes);

    /* deterministic: a second init gives the same plan */
    uint32_t offsets[TB_MAX_TENSORS];
    for (int t = 0; t < m->n_tensors; t++)
        offsets[t] = it.tensors[t].arena_offset;
    assert_int_equal(nml_interpreter_init(&it, &b.model, &fake_ops, arena, n, &err), NML_OK);
    assert_int_equal(it.arena_used, n);
    for (int t = 0; t < m->n_tensors; t++)
        if (it.tensors[t].alloc == NML_ALLOC_ARENA)
            assert_int_equal(it.tensors[t].arena_offset, offsets[t]);

    run_guarded(m, &b.model, n);

    /* one byte less fails, naming the exact size */
    char want[64];
    snprintf(want, sizeof want, "the model needs %zu bytes", n);
    assert_int_equal(nml_interpreter_init(&it, &b.model, &fake_ops, arena, n - 1, &err),
                     NML_E_ARENA);
    if (!strstr(err.msg, want)) fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
    assert_int_equal(it.arena_used, n);
    assert_int_equal(it.ready, 0);
    assert_int_equal(nml_invoke(&it, &err), NML_E_STATE);

    /* far too small: a lower bound */
    assert_int_equal(nml_interpreter_init(&it, &b.model, &fake_ops, arena, 64, &err), NML_E_ARENA);
    assert_non_null(strstr(err.msg, "needs at least"));
    assert_true(it.arena_used > 64 && it.arena_used <= n);
    free(arena);
    free(b.data);
    return n;
}

/* ---- hand-computed plans ---- */

static size_t table_bytes(uint32_t n_tensors, uint32_t n_nodes) {
    size_t a = (n_tensors * sizeof(nml_tensor) + 15) / 16 * 16;
    size_t b = (n_nodes * sizeof(nml_node) + 15) / 16 * 16;
    return a + b + (sizeof(nml_ctx) + 15) / 16 * 16;
}

/* a(100) -> op0 -> b(200) -> op1 -> c(50). Largest first: b at 0; a lives with b, so it goes
 * to the first 16-aligned offset after b, 208; c lives with b only, also 208 (a is dead by
 * then). End 308. Live bytes: op0 a + b = 300, op1 b + c = 250. */
static void chain_plan(void **state) {
    (void)state;
    memset(g_scratch, 0, sizeof g_scratch);
    memset(g_persist, 0, sizeof g_persist);
    tb_model *m = tb_new();
    tb_opcode(m, NML_OP_ADD);
    int a = add_act(m, 100), b = add_act(m, 200), c = add_act(m, 50);
    tb_add_op(m, 0, 1, (int32_t[]){a}, 1, (int32_t[]){b});
    tb_add_op(m, 0, 1, (int32_t[]){b}, 1, (int32_t[]){c});
    tb_io(m, 1, (int32_t[]){a}, 1, (int32_t[]){c});
    built bm;
    build(m, &bm);
    nml_interpreter it = {0};
    nml_error err;
    uint8_t *arena = nml_test_alloc16(1 << 16);
    assert_int_equal(nml_interpreter_init(&it, &bm.model, &fake_ops, arena, 1 << 16, &err), NML_OK);
    assert_int_equal(it.tensors[b].arena_offset, 0);
    assert_int_equal(it.tensors[a].arena_offset, 208);
    assert_int_equal(it.tensors[c].arena_offset, 208);
    assert_int_equal(it.activation_bytes, 308);
    assert_int_equal(it.activation_min_bytes, 300);
    assert_int_equal(it.persistent_bytes, table_bytes(3, 2));
    assert_int_equal(it.arena_used, table_bytes(3, 2) + 308);
    free(arena);
    free(bm.data);
    check_graph(m);
    free(m);
}

/* in(64) -> op0 -> x(32); in -> op1 (scratch 100) -> y(48); x, y -> op2 -> out(16).
 * Lifetimes: in 0-1, x 0-2, y 1-2, out 2, scratch 1. Largest first: scratch at 0; in after
 * it (112); y clear of scratch and in: 176; x clear of scratch, in and y: 224; out only meets
 * x and y: 0. End 256. Live bytes: op1 = 64 + 32 + 48 + 100 = 244 is the largest. Operator
 * persistent data (40 + 8 bytes, each rounded to 8) sits before the activations. */
static void diamond_plan_with_scratch(void **state) {
    (void)state;
    memset(g_scratch, 0, sizeof g_scratch);
    memset(g_persist, 0, sizeof g_persist);
    g_scratch[1] = 100;
    g_persist[0] = 40;
    g_persist[2] = 5;
    tb_model *m = tb_new();
    tb_opcode(m, NML_OP_ADD);
    int in = add_act(m, 64), x = add_act(m, 32), y = add_act(m, 48), out = add_act(m, 16);
    tb_add_op(m, 0, 1, (int32_t[]){in}, 1, (int32_t[]){x});
    tb_add_op(m, 0, 1, (int32_t[]){in}, 1, (int32_t[]){y});
    tb_add_op(m, 0, 2, (int32_t[]){x, y}, 1, (int32_t[]){out});
    tb_io(m, 1, (int32_t[]){in}, 1, (int32_t[]){out});
    built bm;
    build(m, &bm);
    nml_interpreter it = {0};
    nml_error err;
    uint8_t *arena = nml_test_alloc16(1 << 16);
    assert_int_equal(nml_interpreter_init(&it, &bm.model, &fake_ops, arena, 1 << 16, &err), NML_OK);
    assert_int_equal(it.nodes[1].scratch_offset, 0);
    assert_int_equal(it.tensors[in].arena_offset, 112);
    assert_int_equal(it.tensors[y].arena_offset, 176);
    assert_int_equal(it.tensors[x].arena_offset, 224);
    assert_int_equal(it.tensors[out].arena_offset, 0);
    assert_int_equal(it.activation_bytes, 256);
    assert_int_equal(it.activation_min_bytes, 244);
    assert_int_equal(it.persistent_bytes, table_bytes(4, 3) + 48);
    free(arena);
    free(bm.data);
    check_graph(m);
    free(m);
}

/* ---- random graphs ---- */

static uint32_t rng_state;
static uint32_t rng(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

static const uint8_t const_data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static tb_model *random_graph(void) {
    tb_model *m = tb_new();
    tb_opcode(m, NML_OP_ADD);
    int32_t avail[TB_MAX_TENSORS];
    int n_avail = 0;
    int32_t d16 = 16;
    int cbuf = tb_buffer(m, const_data, 16);
    int konst = tb_add_tensor(m, NML_INT8, 1, &d16, (uint32_t)cbuf, "const");
    int n_in = 1 + (int)(rng() % 2);
    int32_t inputs[2];
    for (int i = 0; i < n_in; i++)
        avail[n_avail++] = inputs[i] = add_act(m, 1 + rng() % 2000);
    int n_ops = 1 + (int)(rng() % 40);
    int32_t last_out[2] = {0, 0};
    int n_last = 0;
    for (int o = 0; o < n_ops && m->n_tensors < TB_MAX_TENSORS - 3; o++) {
        int32_t in[5], out[2];
        int ni = 0, no = 1 + (int)(rng() % 2);
        int reads = 1 + (int)(rng() % 3);
        for (int k = 0; k < reads; k++)
            in[ni++] = avail[rng() % (uint32_t)n_avail];
        if (rng() % 4 == 0) in[ni++] = konst;
        if (rng() % 8 == 0) in[ni++] = -1;
        for (int k = 0; k < no; k++) {
            uint32_t bytes = rng() % 16 == 0 ? 0 : 1 + rng() % 3000;
            out[k] = add_act(m, bytes);
            avail[n_avail++] = out[k];
        }
        g_scratch[o] = rng() % 3 == 0 ? 1 + rng() % 1500 : 0;
        g_persist[o] = rng() % 64;
        tb_add_op(m, 0, ni, in, no, out);
        memcpy(last_out, out, sizeof out);
        n_last = no;
    }
    int32_t outputs[3];
    int n_out = 0;
    for (int k = 0; k < n_last; k++)
        outputs[n_out++] = last_out[k];
    outputs[n_out++] = avail[rng() % (uint32_t)n_avail]; /* maybe an input or an early tensor */
    tb_io(m, n_in, inputs, n_out, outputs);
    return m;
}

static void random_graphs(void **state) {
    (void)state;
    rng_state = 2024u;
    for (int g = 0; g < 150; g++) {
        memset(g_scratch, 0, sizeof g_scratch);
        memset(g_persist, 0, sizeof g_persist);
        tb_model *m = random_graph();
        check_graph(m);
        free(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chain_plan),
        cmocka_unit_test(diamond_plan_with_scratch),
        cmocka_unit_test(random_graphs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
