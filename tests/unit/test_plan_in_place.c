/* In-place element-wise operators (NML_KERNEL_IN_PLACE, src/runtime/kernel.h): chains of real
 * kernels (float32: ADD, LOGISTIC, TANH, RELU, SUB with a broadcast scalar, MUL of a tensor by
 * itself; int8: QUANTIZE, LOGISTIC, ADD) give the same output bytes with in-place planning as
 * with every kernel's flag cleared, for the optimized and the reference kernels, while the
 * activations shrink to the sizes worked out below. */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "nanoml/runtime.h"
#include "nanoml/runtime_host.h"
#include "test_util.h"
#include "tfl_builder.h"

#define N 64

/* A copy of a resolver with every kernel's in-place flag cleared. */
typedef struct plain_ops {
    nml_kernel kernels[128];
    const nml_kernel *ptrs[128];
    nml_op_resolver ops;
} plain_ops;

static void without_in_place(const nml_op_resolver *src, plain_ops *p) {
    assert_true(src->count <= 128);
    for (uint32_t i = 0; i < src->count; i++) {
        p->ptrs[i] = NULL;
        if (!src->kernels[i]) continue;
        p->kernels[i] = *src->kernels[i];
        p->kernels[i].flags = 0;
        p->ptrs[i] = &p->kernels[i];
    }
    p->ops.kernels = p->ptrs;
    p->ops.count = src->count;
}

typedef struct run {
    uint8_t out[N * 4];
    size_t activations, bound;
    int shared; /* operators writing into an input */
} run;

static void run_model(const uint8_t *data, size_t size, const nml_op_resolver *ops, const void *in,
                      size_t in_bytes, run *r) {
    nml_model m;
    nml_error err;
    assert_int_equal(nml_model_load(&m, data, size, &err), NML_OK);
    nml_interpreter it = {0};
    uint8_t *arena;
    if (nml_interpreter_init_alloc(&it, &m, ops, &arena, &err) != NML_OK) fail_msg("%s", err.msg);
    memcpy(nml_input(&it, 0)->data, in, in_bytes);
    if (nml_invoke(&it, &err) != NML_OK) fail_msg("%s", err.msg);
    /* the input is not overwritten */
    assert_memory_equal(nml_input(&it, 0)->data, in, in_bytes);
    memcpy(r->out, nml_output(&it, 0)->data, nml_output(&it, 0)->bytes);
    r->activations = it.activation_bytes;
    r->bound = it.activation_min_bytes;
    r->shared = 0; /* operators whose output is in one of their inputs' bytes */
    for (uint32_t i = 0; i < it.n_nodes; i++) {
        const nml_node *n = &it.nodes[i];
        for (uint32_t k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0 &&
                it.tensors[n->inputs[k]].data == it.tensors[n->outputs[0]].data) {
                r->shared++;
                break;
            }
    }
    free(arena);
}

/* Runs with and without in-place planning on both kernel sets; returns the in-place run of the
 * optimized kernels and the flag-free one in *plain. */
static void compare(const uint8_t *data, size_t size, const void *in, size_t in_bytes,
                    size_t out_bytes, run *with, run *plain) {
    static plain_ops p_all, p_ref;
    without_in_place(nml_ops_all(), &p_all);
    without_in_place(nml_ops_reference(), &p_ref);
    run ref_with, ref_plain;
    run_model(data, size, nml_ops_all(), in, in_bytes, with);
    run_model(data, size, &p_all.ops, in, in_bytes, plain);
    run_model(data, size, nml_ops_reference(), in, in_bytes, &ref_with);
    run_model(data, size, &p_ref.ops, in, in_bytes, &ref_plain);
    assert_memory_equal(with->out, plain->out, out_bytes);
    assert_memory_equal(ref_with.out, ref_plain.out, out_bytes);
    assert_memory_equal(with->out, ref_with.out, out_bytes);
    assert_int_equal(plain->shared, 0);
}

static uint32_t g_rng = 1;
static uint32_t rnd(void) {
    g_rng = g_rng * 1103515245u + 12345u;
    return g_rng >> 8;
}

/* x -> ADD c -> LOGISTIC -> TANH -> RELU -> SUB s (scalar) -> MUL itself -> ADD x -> out, 64
 * floats (256 B) each. x lives to the end. Without in-place two chain tensors live next to x
 * while each operator runs: 768 B. In place each operator after the first writes into its
 * dying input (the first cannot: its inputs are the subgraph input and a constant): 512 B. */
static void float_chain(void **state) {
    (void)state;
    static float c[N], s[1] = {0.25f};
    for (int i = 0; i < N; i++)
        c[i] = (float)((int)(rnd() % 200) - 100) / 50.0f;
    const int32_t dims[1] = {N}, one[1] = {1};
    tb_model *m = tb_new();
    int op_add = tb_opcode(m, NML_OP_ADD), op_log = tb_opcode(m, NML_OP_LOGISTIC),
        op_tanh = tb_opcode(m, NML_OP_TANH), op_relu = tb_opcode(m, NML_OP_RELU),
        op_sub = tb_opcode(m, NML_OP_SUB), op_mul = tb_opcode(m, NML_OP_MUL);
    int x = tb_add_tensor(m, NML_FLOAT32, 1, dims, 0, "x");
    int tc = tb_add_tensor(m, NML_FLOAT32, 1, dims, (uint32_t)tb_buffer(m, c, sizeof c), "c");
    int ts = tb_add_tensor(m, NML_FLOAT32, 1, one, (uint32_t)tb_buffer(m, s, sizeof s), "s");
    int t[7];
    for (int i = 0; i < 7; i++)
        t[i] = tb_add_tensor(m, NML_FLOAT32, 1, dims, 0, NULL);
    tb_add_op(m, op_add, 2, (int32_t[]){x, tc}, 1, (int32_t[]){t[0]});
    tb_add_op(m, op_log, 1, (int32_t[]){t[0]}, 1, (int32_t[]){t[1]});
    tb_add_op(m, op_tanh, 1, (int32_t[]){t[1]}, 1, (int32_t[]){t[2]});
    tb_add_op(m, op_relu, 1, (int32_t[]){t[2]}, 1, (int32_t[]){t[3]});
    tb_add_op(m, op_sub, 2, (int32_t[]){t[3], ts}, 1, (int32_t[]){t[4]});
    tb_add_op(m, op_mul, 2, (int32_t[]){t[4], t[4]}, 1, (int32_t[]){t[5]});
    tb_add_op(m, op_add, 2, (int32_t[]){t[5], x}, 1, (int32_t[]){t[6]});
    tb_io(m, 1, (int32_t[]){x}, 1, (int32_t[]){t[6]});
    size_t size;
    uint8_t *data = tb_build(m, &size);
    float in[N];
    for (int i = 0; i < N; i++)
        in[i] = (float)((int)(rnd() % 600) - 300) / 100.0f;
    run with, plain;
    compare(data, size, in, sizeof in, sizeof in, &with, &plain);
    assert_int_equal(plain.bound, 768);
    assert_int_equal(plain.activations, 768);
    assert_int_equal(with.bound, 512);
    assert_int_equal(with.activations, 512);
    assert_int_equal(with.shared, 6); /* every operator but the first */
    free(data);
    free(m);
}

static void quant(tb_model *m, int t, float scale, int64_t zp) {
    static float scales[16];
    static int64_t zps[16];
    static int n;
    scales[n] = scale;
    zps[n] = zp;
    tb_quant(m, t, 1, &scales[n], &zps[n], 0);
    n = (n + 1) % 16;
}

/* int8: x -> QUANTIZE (rescale) -> LOGISTIC -> ADD x -> out, 64 B each. Without in-place x and
 * two chain tensors: 192 B; in place (LOGISTIC into q, ADD into l): 128 B. */
static void int8_chain(void **state) {
    (void)state;
    const int32_t dims[1] = {N};
    tb_model *m = tb_new();
    int op_q = tb_opcode(m, NML_OP_QUANTIZE), op_log = tb_opcode(m, NML_OP_LOGISTIC),
        op_add = tb_opcode(m, NML_OP_ADD);
    int x = tb_add_tensor(m, NML_INT8, 1, dims, 0, "x");
    int q = tb_add_tensor(m, NML_INT8, 1, dims, 0, "q");
    int l = tb_add_tensor(m, NML_INT8, 1, dims, 0, "l");
    int out = tb_add_tensor(m, NML_INT8, 1, dims, 0, "out");
    quant(m, x, 0.05f, 3);
    quant(m, q, 0.1f, -2);
    quant(m, l, 1.0f / 256.0f, -128);
    quant(m, out, 0.08f, 1);
    tb_add_op(m, op_q, 1, (int32_t[]){x}, 1, (int32_t[]){q});
    tb_add_op(m, op_log, 1, (int32_t[]){q}, 1, (int32_t[]){l});
    tb_add_op(m, op_add, 2, (int32_t[]){l, x}, 1, (int32_t[]){out});
    tb_io(m, 1, (int32_t[]){x}, 1, (int32_t[]){out});
    size_t size;
    uint8_t *data = tb_build(m, &size);
    int8_t in[N];
    for (int i = 0; i < N; i++)
        in[i] = (int8_t)(rnd() & 0xff);
    run with, plain;
    compare(data, size, in, sizeof in, sizeof in, &with, &plain);
    assert_int_equal(plain.bound, 192);
    assert_int_equal(with.bound, 128);
    assert_int_equal(with.activations, 128);
    assert_int_equal(with.shared, 2); /* LOGISTIC and ADD */
    free(data);
    free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_chain),
        cmocka_unit_test(int8_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
