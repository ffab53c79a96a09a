/* The operator order search (nanoml/op_order.h) and the reordered .tflite.
 * - hand-built graphs whose best peak is worked out below (a diamond where the big branch
 *   first is worse, a chain);
 * - seeded random graphs (plain, in-place and view operators, scratch): the search's result is
 *   checked against every topological order, each costed by the runtime itself (the
 *   interpreter's activation_min_bytes on the reordered model), so the search's own cost model
 *   is checked too; the greedy fallback gives a valid order no worse than the original;
 * - real models: a reordered FastestDet (float, imported here) gives the same output bytes as
 *   the original; person_detect and micro_speech still match their TFLM goldens after
 *   nml_reorder_model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "nanoml/ir.h"
#include "nanoml/op_order.h"
#include "nanoml/runtime.h"
#include "nanoml/runtime_host.h"
#include "onnx/import.h"
#include "test_util.h"
#include "tfl_builder.h"

/* ---- fake kernels: scratch per operator, keyed by its first output tensor (operator indices
 * change with the order) ---- */

static uint32_t g_scratch[TB_MAX_TENSORS];

static nml_status fake_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    return nml_ctx_request_scratch(ctx, node, g_scratch[node->outputs[0]]);
}

static nml_status fake_eval(nml_ctx *ctx, nml_node *node) {
    (void)ctx;
    (void)node;
    return NML_OK;
}

static const nml_kernel fake_plain = {NML_OP_ADD, "FAKE", fake_prepare, fake_eval, 0};
static const nml_kernel fake_in_place = {NML_OP_MUL, "FAKE_IN_PLACE", fake_prepare, fake_eval,
                                         NML_KERNEL_IN_PLACE};
static const nml_kernel *fake_table[3];
static nml_op_resolver fake_ops = {fake_table, 3};

static void init_fake_ops(void) {
    fake_table[0] = &fake_plain;
    fake_table[1] = &fake_in_place;
    fake_table[2] = nml_resolver_find(nml_ops_all(), NML_OP_RESHAPE, NULL);
}

static int act(tb_model *m, uint32_t bytes) {
    int32_t d = (int32_t)bytes;
    return tb_add_tensor(m, NML_INT8, 1, &d, 0, NULL);
}

typedef struct built {
    uint8_t *data;
    size_t size;
    nml_model model;
} built;

static void build(const tb_model *m, built *b) {
    nml_error err;
    b->data = tb_build(m, &b->size);
    if (nml_model_load(&b->model, b->data, b->size, &err) != NML_OK) fail_msg("%s", err.msg);
}

#define ARENA (1u << 20)
static uint8_t *g_arena;

/* The runtime's lower bound of the model run in `order`, or SIZE_MAX when it refuses it. */
static size_t runtime_bound(const built *b, const uint32_t *order, uint32_t n) {
    uint8_t *bytes;
    nml_error err;
    if (nml_tflite_reorder(b->data, b->size, order, n, &bytes, &err) != NML_OK)
        fail_msg("reorder: %s", err.msg);
    nml_model m;
    assert_int_equal(nml_model_load(&m, bytes, b->size, &err), NML_OK);
    nml_interpreter it = {0};
    size_t bound = SIZE_MAX;
    if (nml_interpreter_init(&it, &m, &fake_ops, g_arena, ARENA, &err) == NML_OK)
        bound = it.activation_min_bytes;
    free(bytes);
    return bound;
}

static void search(const built *b, uint64_t max_states, nml_op_order *o) {
    nml_error err;
    nml_order_options opt = {max_states};
    if (nml_order_search(&b->model, &fake_ops, &opt, o, &err) != NML_OK) fail_msg("%s", err.msg);
}

/* ---- hand-computed ---- */

/* x(20) -> op0 -> p(50); left branch op1: p -> L1(500), op2: L1 -> L2(200); right branch
 * op3: p -> R1(300), op4: R1 -> R2(10); op5: (L2, R2) -> out(10).
 * File order (left first): op0 x+p 70, op1 p+L1 550, op2 p+L1+L2 750, op3 p+L2+R1 550,
 * op4 L2+R1+R2 510, op5 L2+R2+out 220: peak 750.
 * Right first (0 3 4 1 2 5): 70, p+R1 350, p+R1+R2 360, p+R2+L1 560, R2+L1+L2 710, 220: 710.
 * Interleaving the branches keeps L1 and R1 alive together (at least 50+500+300 = 850), so
 * 710 is the minimum and that order the only one reaching it. */
static void diamond_runs_the_small_result_branch_first(void **state) {
    (void)state;
    memset(g_scratch, 0, sizeof g_scratch);
    tb_model *m = tb_new();
    tb_opcode(m, NML_OP_ADD);
    int x = act(m, 20), p = act(m, 50), l1 = act(m, 500), l2 = act(m, 200), r1 = act(m, 300),
        r2 = act(m, 10), out = act(m, 10);
    tb_add_op(m, 0, 1, (int32_t[]){x}, 1, (int32_t[]){p});
    tb_add_op(m, 0, 1, (int32_t[]){p}, 1, (int32_t[]){l1});
    tb_add_op(m, 0, 1, (int32_t[]){l1}, 1, (int32_t[]){l2});
    tb_add_op(m, 0, 1, (int32_t[]){p}, 1, (int32_t[]){r1});
    tb_add_op(m, 0, 1, (int32_t[]){r1}, 1, (int32_t[]){r2});
    tb_add_op(m, 0, 2, (int32_t[]){l2, r2}, 1, (int32_t[]){out});
    tb_io(m, 1, (int32_t[]){x}, 1, (int32_t[]){out});
    built b;
    build(m, &b);
    nml_op_order o;
    search(&b, 0, &o);
    assert_int_equal(o.method, NML_ORDER_EXACT);
    assert_int_equal(o.original_peak, 750);
    assert_int_equal(o.peak, 710);
    const uint32_t want[6] = {0, 3, 4, 1, 2, 5};
    assert_memory_equal(o.order, want, sizeof want);
    assert_int_equal(runtime_bound(&b, o.order, o.n_ops), 710);

    /* the whole step: the rewritten model plans fewer bytes and is used */
    nml_reorder_result r;
    uint8_t *bytes;
    size_t size;
    nml_error err;
    assert_int_equal(nml_reorder_model(b.data, b.size, &fake_ops, NULL, &bytes, &size, &r, &err),
                     NML_OK);
    assert_int_equal(r.applied, 1);
    assert_int_equal(r.original_bound, 750);
    assert_int_equal(r.chosen_bound, 710);
    assert_true(r.chosen_activations < r.original_activations);
    assert_int_equal(size, b.size);
    /* only the operators vector differs: 6 slots of 4 bytes at most */
    size_t differ = 0;
    for (size_t i = 0; i < size; i++)
        differ += bytes[i] != b.data[i];
    assert_true(differ > 0 && differ <= 24);
    nml_reorder_result_free(&r);
    free(bytes);

    /* a non-topological order is refused */
    uint64_t peak;
    const uint32_t bad[6] = {1, 0, 2, 3, 4, 5};
    assert_int_equal(nml_order_peak(&b.model, &fake_ops, bad, 6, &peak, &err), NML_E_ARG);
    const uint32_t dup[6] = {0, 0, 2, 3, 4, 5};
    assert_int_equal(nml_tflite_reorder(b.data, b.size, dup, 6, &bytes, &err), NML_E_ARG);
    nml_op_order_free(&o);
    free(b.data);
    free(m);
}

/* a(100) -> b(300) -> c(40) -> d(8), scratch 64 on the second operator: one order, peak
 * max(100+300, 300+40+64, 40+8) = 404. */
static void chain_keeps_its_order(void **state) {
    (void)state;
    memset(g_scratch, 0, sizeof g_scratch);
    tb_model *m = tb_new();
    tb_opcode(m, NML_OP_ADD);
    int a = act(m, 100), bb = act(m, 300), c = act(m, 40), d = act(m, 8);
    g_scratch[c] = 64;
    tb_add_op(m, 0, 1, (int32_t[]){a}, 1, (int32_t[]){bb});
    tb_add_op(m, 0, 1, (int32_t[]){bb}, 1, (int32_t[]){c});
    tb_add_op(m, 0, 1, (int32_t[]){c}, 1, (int32_t[]){d});
    tb_io(m, 1, (int32_t[]){a}, 1, (int32_t[]){d});
    built b;
    build(m, &b);
    nml_op_order o;
    search(&b, 0, &o);
    assert_int_equal(o.method, NML_ORDER_EXACT);
    assert_int_equal(o.peak, 404);
    assert_int_equal(o.original_peak, 404);
    assert_true(nml_order_is_identity(&o));
    assert_int_equal(o.states, 4); /* {}, {0}, {0,1}, {0,1,2} */
    nml_op_order_free(&o);
    free(b.data);
    free(m);
}

/* x(64) -> op0 -> a(96) -> op1 (in place) -> b(96) -> op2 -> out(32), x also read by op2.
 * op1 may write into a (a dies there): live x+a 160 instead of x+a+b 256. */
static void in_place_output_shares_the_dying_input(void **state) {
    (void)state;
    memset(g_scratch, 0, sizeof g_scratch);
    tb_model *m = tb_new();
    tb_opcode(m, NML_OP_ADD);
    tb_opcode(m, NML_OP_MUL);
    int x = act(m, 64), a = act(m, 96), b2 = act(m, 96), out = act(m, 32);
    tb_add_op(m, 0, 1, (int32_t[]){x}, 1, (int32_t[]){a});
    tb_add_op(m, 1, 1, (int32_t[]){a}, 1, (int32_t[]){b2});
    tb_add_op(m, 0, 2, (int32_t[]){b2, x}, 1, (int32_t[]){out});
    tb_io(m, 1, (int32_t[]){x}, 1, (int32_t[]){out});
    built b;
    build(m, &b);
    nml_interpreter it = {0};
    nml_error err;
    assert_int_equal(nml_interpreter_init(&it, &b.model, &fake_ops, g_arena, ARENA, &err), NML_OK);
    assert_ptr_equal(it.tensors[b2].data, it.tensors[a].data);
    /* op0 x+a 160, op1 x+a 160, op2 x+b+out 192 */
    assert_int_equal(it.activation_min_bytes, 192);
    nml_op_order o;
    search(&b, 0, &o);
    assert_int_equal(o.peak, 192);
    nml_op_order_free(&o);
    free(b.data);
    free(m);
}

/* ---- random graphs against every topological order ---- */

static uint32_t g_rng;
static uint32_t rnd(uint32_t n) {
    g_rng = g_rng * 1103515245u + 12345u;
    return (g_rng >> 8) % n;
}

static void random_graph(tb_model *m, int n_ops) {
    static const int32_t one[1] = {1};
    tb_opcode(m, NML_OP_ADD);
    tb_opcode(m, NML_OP_MUL);
    tb_opcode(m, NML_OP_RESHAPE);
    int avail[64], n_avail = 0;
    int read[TB_MAX_TENSORS] = {0};
    int x = act(m, 8 + rnd(200));
    avail[n_avail++] = x;
    for (int i = 0; i < n_ops; i++) {
        int kind = (int)rnd(4); /* 0, 1 plain, 2 in place, 3 view */
        int a = avail[rnd((uint32_t)n_avail)], bsrc = avail[rnd((uint32_t)n_avail)];
        uint32_t a_bytes = (uint32_t)m->tensors[a].dims[0];
        if (kind == 3) {
            /* tb_build reads buffer data later: the values must outlive this call */
            static int32_t shape_vals[TB_MAX_OPS];
            shape_vals[i] = (int32_t)a_bytes;
            int shape =
                tb_add_tensor(m, NML_INT32, 1, one,
                              (uint32_t)tb_buffer(m, &shape_vals[i], sizeof(int32_t)), NULL);
            int out = act(m, a_bytes);
            tb_add_op(m, 2, 2, (int32_t[]){a, shape}, 1, (int32_t[]){out});
            avail[n_avail++] = out;
            read[a] = 1;
            continue;
        }
        int out = act(m, kind == 2 ? a_bytes : 8 + rnd(400));
        g_scratch[out] = rnd(3) == 0 ? 16 + rnd(100) : 0;
        int n_in = a == bsrc ? 1 : 2;
        if (kind < 2 && rnd(3) == 0) { /* two outputs */
            int out2 = act(m, 8 + rnd(300));
            tb_add_op(m, 0, n_in, (int32_t[]){a, bsrc}, 2, (int32_t[]){out, out2});
            avail[n_avail++] = out2;
        } else {
            tb_add_op(m, kind == 2 ? 1 : 0, n_in, (int32_t[]){a, bsrc}, 1, (int32_t[]){out});
        }
        avail[n_avail++] = out;
        read[a] = read[bsrc] = 1;
    }
    int outs[8], n_out = 0;
    for (int k = 1; k < n_avail && n_out < 8; k++)
        if (!read[avail[k]]) outs[n_out++] = avail[k];
    if (n_out == 0) outs[n_out++] = avail[n_avail - 1];
    tb_io(m, 1, (int32_t[]){x}, n_out, outs);
}

typedef struct brute {
    const built *b;
    uint32_t n, order[16], used, preds[16];
    size_t best, orders;
    int mismatch;
} brute;

/* Every topological order; each is costed by the runtime and by nml_order_peak, which must
 * agree. */
static void enumerate(brute *s, uint32_t depth) {
    if (depth == s->n) {
        size_t bound = runtime_bound(s->b, s->order, s->n);
        uint64_t peak;
        nml_error err;
        if (nml_order_peak(&s->b->model, &fake_ops, s->order, s->n, &peak, &err) != NML_OK)
            fail_msg("order peak: %s", err.msg);
        if (bound != peak) s->mismatch = 1;
        if (bound < s->best) s->best = bound;
        s->orders++;
        return;
    }
    for (uint32_t v = 0; v < s->n; v++) {
        if ((s->used >> v) & 1u || (s->preds[v] & ~s->used)) continue;
        s->used |= 1u << v;
        s->order[depth] = v;
        enumerate(s, depth + 1);
        s->used &= ~(1u << v);
    }
}

/* operator v must follow the writers of its inputs */
static void find_preds(const tb_model *m, brute *s) {
    for (int v = 0; v < m->n_ops; v++) {
        s->preds[v] = 0;
        for (int k = 0; k < m->ops[v].n_in; k++)
            for (int u = 0; u < v; u++)
                for (int j = 0; j < m->ops[u].n_out; j++)
                    if (m->ops[u].out[j] == m->ops[v].in[k]) s->preds[v] |= 1u << u;
    }
}

static void search_is_the_minimum_over_all_orders(void **state) {
    (void)state;
    size_t total_orders = 0;
    int improved = 0;
    for (uint32_t seed = 1; seed <= 24; seed++) {
        g_rng = seed * 7919u;
        memset(g_scratch, 0, sizeof g_scratch);
        tb_model *m = tb_new();
        random_graph(m, 5 + (int)(seed % 3));
        built b;
        build(m, &b);
        brute s = {&b, (uint32_t)m->n_ops, {0}, 0, {0}, SIZE_MAX, 0, 0};
        find_preds(m, &s);
        enumerate(&s, 0);
        if (s.mismatch)
            fail_msg("seed %u: the search's cost model disagrees with the runtime", (unsigned)seed);
        total_orders += s.orders;
        nml_op_order o;
        search(&b, 0, &o);
        if (o.method != NML_ORDER_EXACT || o.peak != s.best)
            fail_msg("seed %u: search %llu (%s), best of %zu orders %zu", (unsigned)seed,
                     (unsigned long long)o.peak, nml_order_method_name(o.method), s.orders, s.best);
        assert_int_equal(runtime_bound(&b, o.order, o.n_ops), o.peak);
        improved += o.peak < o.original_peak;

        /* the fallback: too few states for the exact search */
        nml_op_order g;
        search(&b, 2, &g);
        assert_int_equal(g.method, NML_ORDER_GREEDY);
        assert_true(g.peak <= g.original_peak && g.peak >= s.best);
        assert_int_equal(runtime_bound(&b, g.order, g.n_ops), g.peak);
        nml_op_order_free(&g);
        nml_op_order_free(&o);
        free(b.data);
        free(m);
    }
    /* the graphs must exercise the search: several orders each, some better than the file's */
    assert_true(total_orders > 24 * 3);
    assert_true(improved > 0);
}

/* ---- real models ---- */

static uint8_t *run_model(const uint8_t *data, size_t size, const uint8_t *in, size_t in_size,
                          size_t *out_size) {
    nml_model m;
    nml_error err;
    if (nml_model_load(&m, data, size, &err) != NML_OK) fail_msg("%s", err.msg);
    nml_interpreter it = {0};
    uint8_t *arena;
    if (nml_interpreter_init_alloc(&it, &m, nml_ops_all(), &arena, &err) != NML_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(nml_input(&it, 0)->bytes, in_size);
    memcpy(nml_input(&it, 0)->data, in, in_size);
    if (nml_invoke(&it, &err) != NML_OK) fail_msg("%s", err.msg);
    nml_tensor *o = nml_output(&it, 0);
    uint8_t *out = malloc(o->bytes);
    memcpy(out, o->data, o->bytes);
    *out_size = o->bytes;
    free(arena);
    return out;
}

/* A random topological order of the model's operators (seeded), not the identity. */
static void random_topological(const nml_model *m, uint32_t *order, uint32_t seed) {
    uint32_t n = m->n_operators;
    uint8_t *done = calloc(n, 1), *written = calloc(m->n_tensors, 1);
    for (uint32_t i = 0; i < m->n_inputs; i++)
        written[nml_model_input(m, i)] = 1;
    g_rng = seed;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t ready[512], n_ready = 0;
        for (uint32_t v = 0; v < n && n_ready < 512; v++) {
            nml_model_op op;
            nml_error err;
            if (done[v] || nml_model_operator(m, v, &op, &err) != NML_OK) continue;
            int ok = 1;
            for (uint32_t j = 0; j < op.n_inputs && ok; j++) {
                nml_tensor t;
                if (op.inputs[j] < 0) continue;
                nml_model_tensor(m, (uint32_t)op.inputs[j], &t, &err);
                if (t.alloc != NML_ALLOC_CONST && !written[op.inputs[j]]) ok = 0;
            }
            if (ok) ready[n_ready++] = v;
        }
        assert_true(n_ready > 0);
        uint32_t v = ready[rnd(n_ready)];
        nml_model_op op;
        nml_error err;
        nml_model_operator(m, v, &op, &err);
        for (uint32_t j = 0; j < op.n_outputs; j++)
            written[op.outputs[j]] = 1;
        done[v] = 1;
        order[k] = v;
    }
    free(done);
    free(written);
}

static void reordered_fastestdet_gives_the_same_bytes(void **state) {
    (void)state;
    const char *path = nml_test_shared("models/fastestdet/FastestDet.onnx");
    if (!nml_test_exists(path)) skip();
    size_t onnx_size;
    uint8_t *onnx = nml_test_read(path, &onnx_size);
    nml_onnx_import_options opt;
    nml_onnx_import_options_default(&opt);
    nml_error err;
    assert_int_equal(nml_onnx_parse_shape("1x3x86x128", opt.input_shape, &opt.n_input_shape, &err),
                     NML_OK);
    nml_ir ir;
    nml_ir_init(&ir);
    if (nml_onnx_import(onnx, onnx_size, &opt, &ir, NULL, &err) != NML_OK)
        fail_msg("import: %s", err.msg);
    uint8_t *data;
    size_t size;
    assert_int_equal(nml_ir_to_tflite(&ir, &data, &size, &err), NML_OK);
    nml_model m;
    assert_int_equal(nml_model_load(&m, data, size, &err), NML_OK);

    uint32_t *order = malloc(m.n_operators * sizeof *order);
    int moved = 0;
    for (uint32_t seed = 11; !moved; seed++) {
        random_topological(&m, order, seed);
        for (uint32_t k = 0; k < m.n_operators; k++)
            moved += order[k] != k;
    }
    uint8_t *re;
    assert_int_equal(nml_tflite_reorder(data, size, order, m.n_operators, &re, &err), NML_OK);
    size_t in_size = 86 * 128 * 3 * sizeof(float), n0, n1;
    float *in = malloc(in_size);
    g_rng = 5;
    for (size_t i = 0; i < in_size / sizeof(float); i++)
        in[i] = (float)rnd(1000) / 1000.0f;
    uint8_t *out0 = run_model(data, size, (uint8_t *)in, in_size, &n0);
    uint8_t *out1 = run_model(re, size, (uint8_t *)in, in_size, &n1);
    assert_true(moved > 0);
    assert_int_equal(n0, n1);
    assert_memory_equal(out0, out1, n0);

    /* the search: exact on this graph, never above the file's order, consistent with the
     * runtime's plan of the model it writes */
    nml_reorder_result r;
    uint8_t *best;
    size_t best_size;
    assert_int_equal(
        nml_reorder_model(data, size, nml_ops_all(), NULL, &best, &best_size, &r, &err), NML_OK);
    assert_int_equal(r.order.method, NML_ORDER_EXACT);
    assert_true(r.order.peak <= r.order.original_peak);
    assert_int_equal(r.order.original_peak, r.original_bound);
    if (r.applied) assert_int_equal(r.chosen_bound, r.order.peak);
    nml_reorder_result_free(&r);
    free(best);
    free(out0);
    free(out1);
    free(in);
    free(re);
    free(order);
    free(data);
    nml_ir_free(&ir);
    free(onnx);
}

static void check_golden(const char *model, const char *in_name, const char *out_name) {
    char p[256];
    snprintf(p, sizeof p, "models/tflm/%s.tflite", model);
    const char *path = nml_test_shared(p);
    if (!nml_test_exists(path)) skip();
    size_t size, n_in, n_want, n_out;
    uint8_t *data = nml_test_read(path, &size);
    uint8_t *re;
    size_t re_size;
    nml_reorder_result r;
    nml_error err;
    assert_int_equal(nml_reorder_model(data, size, nml_ops_all(), NULL, &re, &re_size, &r, &err),
                     NML_OK);
    assert_int_equal(r.order.method, NML_ORDER_EXACT);
    assert_true(r.order.peak <= r.order.original_peak);
    snprintf(p, sizeof p, "golden/tflm-reference/%s/%s", model, in_name);
    uint8_t *in = nml_test_read(nml_test_shared(p), &n_in);
    snprintf(p, sizeof p, "golden/tflm-reference/%s/%s", model, out_name);
    uint8_t *want = nml_test_read(nml_test_shared(p), &n_want);
    uint8_t *got = run_model(re, re_size, in, n_in, &n_out);
    assert_int_equal(n_out, n_want);
    assert_memory_equal(got, want, n_want);
    nml_reorder_result_free(&r);
    free(got);
    free(want);
    free(in);
    free(re);
    free(data);
}

static void person_detect_matches_tflm_after_reordering(void **state) {
    (void)state;
    check_golden("person_detect", "in_person.bin", "out_person.bin");
}

static void micro_speech_matches_tflm_after_reordering(void **state) {
    (void)state;
    check_golden("micro_speech_quantized", "in_000.bin", "out_000.bin");
}

static int setup(void **state) {
    (void)state;
    init_fake_ops();
    g_arena = nml_test_alloc16(ARENA);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    free(g_arena);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(diamond_runs_the_small_result_branch_first),
        cmocka_unit_test(chain_keeps_its_order),
        cmocka_unit_test(in_place_output_shares_the_dying_input),
        cmocka_unit_test(search_is_the_minimum_over_all_orders),
        cmocka_unit_test(reordered_fastestdet_gives_the_same_bytes),
        cmocka_unit_test(person_detect_matches_tflm_after_reordering),
        cmocka_unit_test(micro_speech_matches_tflm_after_reordering),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
