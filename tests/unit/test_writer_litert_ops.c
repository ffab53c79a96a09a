/* Builtin options and operator versions of (nearly) every operator in ops.h, checked against
 * LiteRT: each case writes a one-operator model whose options change the result (strides,
 * padding, fused activations, axes, masks, block sizes, keep_dims, ...), runs it in LiteRT and
 * compares with the result worked out by hand in the comment. A wrong field id, union type,
 * default or version makes LiteRT reject the model or compute something else. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/file.h"
#include "nanoml/ir.h"
#include "oracle.h"
#include "test_util.h"

typedef struct tc {
    const char *dir;
    nml_ir ir;
} tc;

static int setup(void **state) {
    const char *why;
    if (!nml_test_oracles_available(&why)) {
        print_message("SKIP LiteRT oracle: %s\n", why);
        *state = NULL;
        return 0;
    }
    tc *c = calloc(1, sizeof *c);
    c->dir = nml_test_tmpdir();
    nml_ir_init(&c->ir);
    *state = c;
    return 0;
}

static int teardown(void **state) {
    tc *c = *state;
    if (c) {
        nml_ir_free(&c->ir);
        nml_test_tmpdir_remove(c->dir);
        free(c);
    }
    return 0;
}

static tc *get(void **state) {
    if (!*state) skip();
    return *state;
}

#define D(...) ((const int32_t[]){__VA_ARGS__})
#define F(...) ((const float[]){__VA_ARGS__})
#define I32(...) ((const int32_t[]){__VA_ARGS__})

/* Adds a tensor; data (constant) may be NULL (activation). */
static int T(tc *c, int type, int rank, const int32_t *dims, const void *data) {
    nml_ir_tensor probe;
    memset(&probe, 0, sizeof probe);
    probe.type = type;
    probe.rank = rank;
    for (int i = 0; i < rank; i++)
        probe.dims[i] = dims[i];
    size_t bytes = 0;
    nml_error err;
    if (data && nml_ir_tensor_bytes(&probe, &bytes, &err) != NML_OK) fail_msg("%s", err.msg);
    int idx;
    if (nml_ir_add_tensor(&c->ir, NULL, type, rank, dims, data, bytes, &idx, &err) != NML_OK)
        fail_msg("%s", err.msg);
    return idx;
}

static void Q(tc *c, int t, float scale, int64_t zero_point) {
    nml_error err;
    if (nml_ir_set_quant(&c->ir, t, 1, &scale, &zero_point, 0, &err) != NML_OK)
        fail_msg("%s", err.msg);
}

static void OP(tc *c, int32_t code, const nml_op_params *p, int n_in, const int32_t *in, int n_out,
               const int32_t *out) {
    nml_error err;
    if (nml_ir_add_op(&c->ir, code, p, n_in, in, n_out, out, NULL, &err) != NML_OK)
        fail_msg("%s", err.msg);
}

static nml_op_params P(void) {
    nml_op_params p;
    nml_op_params_default(&p);
    return p;
}

/* Makes in[] the graph inputs (fed with in_data[]) and out[] the outputs, runs LiteRT and
 * compares every output with want[] (floats within 1e-5 relative to max(1, |want|), other
 * types exactly), including its type and shape. */
static void check(tc *c, int n_in, const int32_t *in, const void *const *in_data, int n_out,
                  const int32_t *out, const void *const *want) {
    nml_error err;
    if (nml_ir_set_io(&c->ir, n_in, in, n_out, out, &err) != NML_OK) fail_msg("%s", err.msg);
    uint8_t *bytes;
    size_t size;
    if (nml_ir_to_tflite(&c->ir, &bytes, &size, &err) != NML_OK) fail_msg("writer: %s", err.msg);
    char model[512], paths[8][512], got_path[512];
    snprintf(model, sizeof model, "%s/model.tflite", c->dir);
    if (nml_write_file(model, bytes, size, &err) != NML_OK) fail_msg("%s", err.msg);
    free(bytes);
    const char *inputs[8];
    assert_true(n_in <= 8);
    for (int i = 0; i < n_in; i++) {
        const nml_ir_tensor *t = &c->ir.tensors[in[i]];
        snprintf(paths[i], sizeof paths[i], "%s/in%d.npy", c->dir, i);
        nml_test_npy_write(paths[i], t->type, t->rank, t->dims, in_data[i]);
        inputs[i] = paths[i];
    }
    nml_test_litert_run(model, c->dir, n_in, inputs);
    for (int o = 0; o < n_out; o++) {
        const nml_ir_tensor *t = &c->ir.tensors[out[o]];
        snprintf(got_path, sizeof got_path, "%s/out%d.npy", c->dir, o);
        int type, rank;
        int32_t dims[NML_MAX_RANK];
        void *got;
        size_t got_bytes;
        nml_test_npy_read(got_path, &type, &rank, dims, &got, &got_bytes);
        assert_int_equal(type, t->type);
        assert_int_equal(rank, t->rank);
        for (int i = 0; i < rank; i++)
            assert_int_equal(dims[i], t->dims[i]);
        size_t count = (size_t)nml_ir_tensor_count(t);
        for (size_t i = 0; i < count; i++) {
            if (type == NML_FLOAT32) {
                float g = ((float *)got)[i], w = ((const float *)want[o])[i];
                float tol = 1e-5f * (fabsf(w) > 1.0f ? fabsf(w) : 1.0f);
                if (!(fabsf(g - w) <= tol))
                    fail_msg("output %d element %zu: LiteRT %.7g, expected %.7g", o, i, (double)g,
                             (double)w);
            } else if (type == NML_INT32) {
                assert_int_equal(((int32_t *)got)[i], ((const int32_t *)want[o])[i]);
            } else if (type == NML_INT8) {
                assert_int_equal(((int8_t *)got)[i], ((const int8_t *)want[o])[i]);
            } else {
                fail_msg("output type %d not compared", type);
            }
        }
        free(got);
    }
}

/* one input, one output */
static void check1(tc *c, int in, const void *in_data, int out, const void *want) {
    const void *ins[1] = {in_data};
    const void *wants[1] = {want};
    check(c, 1, (const int32_t[]){in}, ins, 1, (const int32_t[]){out}, wants);
}

/* ---- arithmetic with fused activations ---- */

/* [-1, 2, 5, 7] + 0.5, RELU6 -> [0, 2.5, 5.5, 6] */
static void test_add_relu6(void **state) {
    tc *c = get(state);
    int a = T(c, NML_FLOAT32, 1, D(4), NULL);
    int b = T(c, NML_FLOAT32, 1, D(4), F(0.5f, 0.5f, 0.5f, 0.5f));
    int y = T(c, NML_FLOAT32, 1, D(4), NULL);
    nml_op_params p = P();
    p.activation = NML_ACT_RELU6;
    OP(c, NML_OP_ADD, &p, 2, I32(a, b), 1, I32(y));
    check1(c, a, F(-1, 2, 5, 7), y, F(0, 2.5f, 5.5f, 6));
}

/* [1, 2, 3, 4] - 2, RELU -> [0, 0, 1, 2] */
static void test_sub_relu(void **state) {
    tc *c = get(state);
    int a = T(c, NML_FLOAT32, 1, D(4), NULL);
    int b = T(c, NML_FLOAT32, 1, D(4), F(2, 2, 2, 2));
    int y = T(c, NML_FLOAT32, 1, D(4), NULL);
    nml_op_params p = P();
    p.activation = NML_ACT_RELU;
    OP(c, NML_OP_SUB, &p, 2, I32(a, b), 1, I32(y));
    check1(c, a, F(1, 2, 3, 4), y, F(0, 0, 1, 2));
}

/* [0.5, -3, 2, 0.25] * [1, 1, 0.25, -2] = [0.5, -3, 0.5, -0.5], RELU_N1_TO_1 -> [0.5, -1, 0.5,
 * -0.5] */
static void test_mul_relu_n1_to_1(void **state) {
    tc *c = get(state);
    int a = T(c, NML_FLOAT32, 1, D(4), NULL);
    int b = T(c, NML_FLOAT32, 1, D(4), F(1, 1, 0.25f, -2));
    int y = T(c, NML_FLOAT32, 1, D(4), NULL);
    nml_op_params p = P();
    p.activation = NML_ACT_RELU_N1_TO_1;
    OP(c, NML_OP_MUL, &p, 2, I32(a, b), 1, I32(y));
    check1(c, a, F(0.5f, -3, 2, 0.25f), y, F(0.5f, -1, 0.5f, -0.5f));
}

/* [1, 3] / [2, 4] = [0.5, 0.75] */
static void test_div(void **state) {
    tc *c = get(state);
    int a = T(c, NML_FLOAT32, 1, D(2), NULL);
    int b = T(c, NML_FLOAT32, 1, D(2), F(2, 4));
    int y = T(c, NML_FLOAT32, 1, D(2), NULL);
    nml_op_params p = P();
    OP(c, NML_OP_DIV, &p, 2, I32(a, b), 1, I32(y));
    check1(c, a, F(1, 3), y, F(0.5f, 0.75f));
}

/* alpha 0.25: [-4, 2] -> [-1, 2] */
static void test_leaky_relu(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 1, D(2), NULL);
    int y = T(c, NML_FLOAT32, 1, D(2), NULL);
    nml_op_params p = P();
    p.alpha = 0.25f;
    OP(c, NML_OP_LEAKY_RELU, &p, 1, I32(x), 1, I32(y));
    check1(c, x, F(-4, 2), y, F(-1, 2));
}

/* ---- reductions (ReducerOptions.keep_dims) ---- */

/* mean over axis 1 of [[1,3],[5,9]], keep_dims -> shape 2x1: [2, 7] */
static void test_mean_keep_dims(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 2, D(2, 2), NULL);
    int axis = T(c, NML_INT32, 1, D(1), I32(1));
    int y = T(c, NML_FLOAT32, 2, D(2, 1), NULL);
    nml_op_params p = P();
    p.keep_dims = 1;
    OP(c, NML_OP_MEAN, &p, 2, I32(x, axis), 1, I32(y));
    check1(c, x, F(1, 3, 5, 9), y, F(2, 7));
}

/* sum over axis 0 of [[1,2],[3,4]] -> [4, 6] */
static void test_sum(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 2, D(2, 2), NULL);
    int axis = T(c, NML_INT32, 1, D(1), I32(0));
    int y = T(c, NML_FLOAT32, 1, D(2), NULL);
    nml_op_params p = P();
    OP(c, NML_OP_SUM, &p, 2, I32(x, axis), 1, I32(y));
    check1(c, x, F(1, 2, 3, 4), y, F(4, 6));
}

/* max over axis 1 of [[1,5],[7,2]], keep_dims -> 2x1: [5, 7] */
static void test_reduce_max(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 2, D(2, 2), NULL);
    int axis = T(c, NML_INT32, 1, D(1), I32(1));
    int y = T(c, NML_FLOAT32, 2, D(2, 1), NULL);
    nml_op_params p = P();
    p.keep_dims = 1;
    OP(c, NML_OP_REDUCE_MAX, &p, 2, I32(x, axis), 1, I32(y));
    check1(c, x, F(1, 5, 7, 2), y, F(5, 7));
}

/* ---- data movement ---- */

/* x = [[1,2,3],[4,5,6]], begin [1,1], end [2,0] with end_mask bit 1 (axis 1 runs to the end),
 * shrink_axis_mask bit 0 (drop axis 0) -> [5, 6] */
static void test_strided_slice_masks(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 2, D(2, 3), NULL);
    int begin = T(c, NML_INT32, 1, D(2), I32(1, 1));
    int end = T(c, NML_INT32, 1, D(2), I32(2, 0));
    int strides = T(c, NML_INT32, 1, D(2), I32(1, 1));
    int y = T(c, NML_FLOAT32, 1, D(2), NULL);
    nml_op_params p = P();
    p.end_mask = 2;
    p.shrink_axis_mask = 1;
    OP(c, NML_OP_STRIDED_SLICE, &p, 4, I32(x, begin, end, strides), 1, I32(y));
    check1(c, x, F(1, 2, 3, 4, 5, 6), y, F(5, 6));
}

/* gather columns [2, 0] (axis 1) of [[1,2,3],[4,5,6]] -> [[3,1],[6,4]] */
static void test_gather_axis(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 2, D(2, 3), NULL);
    int idx = T(c, NML_INT32, 1, D(2), I32(2, 0));
    int y = T(c, NML_FLOAT32, 2, D(2, 2), NULL);
    nml_op_params p = P();
    p.axis = 1;
    OP(c, NML_OP_GATHER, &p, 2, I32(x, idx), 1, I32(y));
    check1(c, x, F(1, 2, 3, 4, 5, 6), y, F(3, 1, 6, 4));
}

/* split [[1,2],[3,4]] along axis 1 into 2 -> [[1],[3]] and [[2],[4]] */
static void test_split(void **state) {
    tc *c = get(state);
    int axis = T(c, NML_INT32, 0, NULL, I32(1));
    int x = T(c, NML_FLOAT32, 2, D(2, 2), NULL);
    int y0 = T(c, NML_FLOAT32, 2, D(2, 1), NULL);
    int y1 = T(c, NML_FLOAT32, 2, D(2, 1), NULL);
    nml_op_params p = P();
    p.num_splits = 2;
    OP(c, NML_OP_SPLIT, &p, 2, I32(axis, x), 2, I32(y0, y1));
    const void *ins[1] = {F(1, 2, 3, 4)};
    const void *want[2] = {F(1, 3), F(2, 4)};
    check(c, 1, I32(x), ins, 2, I32(y0, y1), want);
}

/* split [1..5] (1x5) into sizes 2 and 3 along axis 1 -> [1,2] and [3,4,5] */
static void test_split_v(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 2, D(1, 5), NULL);
    int sizes = T(c, NML_INT32, 1, D(2), I32(2, 3));
    int axis = T(c, NML_INT32, 0, NULL, I32(1));
    int y0 = T(c, NML_FLOAT32, 2, D(1, 2), NULL);
    int y1 = T(c, NML_FLOAT32, 2, D(1, 3), NULL);
    nml_op_params p = P();
    p.num_splits = 2;
    OP(c, NML_OP_SPLIT_V, &p, 3, I32(x, sizes, axis), 2, I32(y0, y1));
    const void *ins[1] = {F(1, 2, 3, 4, 5)};
    const void *want[2] = {F(1, 2), F(3, 4, 5)};
    check(c, 1, I32(x), ins, 2, I32(y0, y1), want);
}

/* pack [1,2] and [3,4] along axis 1 -> [[1,3],[2,4]] */
static void test_pack(void **state) {
    tc *c = get(state);
    int a = T(c, NML_FLOAT32, 1, D(2), NULL);
    int b = T(c, NML_FLOAT32, 1, D(2), NULL);
    int y = T(c, NML_FLOAT32, 2, D(2, 2), NULL);
    nml_op_params p = P();
    p.axis = 1;
    OP(c, NML_OP_PACK, &p, 2, I32(a, b), 1, I32(y));
    const void *ins[2] = {F(1, 2), F(3, 4)};
    const void *want[1] = {F(1, 3, 2, 4)};
    check(c, 2, I32(a, b), ins, 1, I32(y), want);
}

/* unpack [[1,2],[3,4]] along axis 1 -> [1,3] and [2,4] */
static void test_unpack(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 2, D(2, 2), NULL);
    int y0 = T(c, NML_FLOAT32, 1, D(2), NULL);
    int y1 = T(c, NML_FLOAT32, 1, D(2), NULL);
    nml_op_params p = P();
    p.axis = 1;
    OP(c, NML_OP_UNPACK, &p, 1, I32(x), 2, I32(y0, y1));
    const void *ins[1] = {F(1, 2, 3, 4)};
    const void *want[2] = {F(1, 3), F(2, 4)};
    check(c, 1, I32(x), ins, 2, I32(y0, y1), want);
}

/* squeeze only dimension 0 of 1x2x1 -> 2x1 (squeezing all would give 2) */
static void test_squeeze_dims(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 3, D(1, 2, 1), NULL);
    int y = T(c, NML_FLOAT32, 2, D(2, 1), NULL);
    nml_op_params p = P();
    p.squeeze_len = 1;
    p.squeeze_dims[0] = 0;
    OP(c, NML_OP_SQUEEZE, &p, 1, I32(x), 1, I32(y));
    check1(c, x, F(7, 8), y, F(7, 8));
}

/* transpose [[1,2,3],[4,5,6]] -> [[1,4],[2,5],[3,6]] */
static void test_transpose(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 2, D(2, 3), NULL);
    int perm = T(c, NML_INT32, 1, D(2), I32(1, 0));
    int y = T(c, NML_FLOAT32, 2, D(3, 2), NULL);
    nml_op_params p = P();
    OP(c, NML_OP_TRANSPOSE, &p, 2, I32(x, perm), 1, I32(y));
    check1(c, x, F(1, 2, 3, 4, 5, 6), y, F(1, 4, 2, 5, 3, 6));
}

/* pad [7, 8] (1x2) by 1 before and 2 after on axis 1 -> [0, 7, 8, 0, 0]; PADV2 with -1 */
static void test_pad_padv2(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 2, D(1, 2), NULL);
    int pads = T(c, NML_INT32, 2, D(2, 2), I32(0, 0, 1, 2));
    int fill = T(c, NML_FLOAT32, 0, NULL, F(-1));
    int y = T(c, NML_FLOAT32, 2, D(1, 5), NULL);
    int y2 = T(c, NML_FLOAT32, 2, D(1, 5), NULL);
    nml_op_params p = P();
    OP(c, NML_OP_PAD, &p, 2, I32(x, pads), 1, I32(y));
    OP(c, NML_OP_PADV2, &p, 3, I32(x, pads, fill), 1, I32(y2));
    const void *ins[1] = {F(7, 8)};
    const void *want[2] = {F(0, 7, 8, 0, 0), F(-1, 7, 8, -1, -1)};
    check(c, 1, I32(x), ins, 2, I32(y, y2), want);
}

/* [1, 2, 3] padded by 1 on both sides: SYMMETRIC repeats the edge -> [1, 1, 2, 3, 3]
 * (REFLECT, the default, would give [2, 1, 2, 3, 2]) */
static void test_mirror_pad_symmetric(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 1, D(3), NULL);
    int pads = T(c, NML_INT32, 2, D(1, 2), I32(1, 1));
    int y = T(c, NML_FLOAT32, 1, D(5), NULL);
    nml_op_params p = P();
    p.mirror_mode = 1;
    OP(c, NML_OP_MIRROR_PAD, &p, 2, I32(x, pads), 1, I32(y));
    check1(c, x, F(1, 2, 3), y, F(1, 1, 2, 3, 3));
}

/* concat along axis -1 (the last): [-1, 2] and [-3] -> [-1, 2, -3] */
static void test_concat_negative_axis(void **state) {
    tc *c = get(state);
    int a = T(c, NML_FLOAT32, 2, D(1, 2), NULL);
    int b = T(c, NML_FLOAT32, 2, D(1, 1), NULL);
    int y = T(c, NML_FLOAT32, 2, D(1, 3), NULL);
    nml_op_params p = P();
    p.axis = -1;
    OP(c, NML_OP_CONCATENATION, &p, 2, I32(a, b), 1, I32(y));
    const void *ins[2] = {F(-1, 2), F(-3)};
    const void *want[1] = {F(-1, 2, -3)};
    check(c, 2, I32(a, b), ins, 1, I32(y), want);
}

/* x 1x2x4x1 = 1..8, block 2: block (0,0) = x[0][0], x[0][1], x[1][0], x[1][1] = 1, 2, 5, 6;
 * block (0,1) = 3, 4, 7, 8 -> 1x1x2x4. DEPTH_TO_SPACE maps it back. */
static void test_space_depth(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 4, D(1, 2, 4, 1), NULL);
    int s2d = T(c, NML_FLOAT32, 4, D(1, 1, 2, 4), NULL);
    int d2s = T(c, NML_FLOAT32, 4, D(1, 2, 4, 1), NULL);
    nml_op_params p = P();
    p.block_size = 2;
    OP(c, NML_OP_SPACE_TO_DEPTH, &p, 1, I32(x), 1, I32(s2d));
    OP(c, NML_OP_DEPTH_TO_SPACE, &p, 1, I32(s2d), 1, I32(d2s));
    const void *ins[1] = {F(1, 2, 3, 4, 5, 6, 7, 8)};
    const void *want[2] = {F(1, 2, 5, 6, 3, 4, 7, 8), F(1, 2, 3, 4, 5, 6, 7, 8)};
    check(c, 1, I32(x), ins, 2, I32(s2d, d2s), want);
}

/* slice begin [0, 1], size [2, 2] of [[1,2,3],[4,5,6]] -> [[2,3],[5,6]]; expand_dims axis 0 of
 * the result -> 1x2x2 */
static void test_slice_expand_dims(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 2, D(2, 3), NULL);
    int begin = T(c, NML_INT32, 1, D(2), I32(0, 1));
    int size = T(c, NML_INT32, 1, D(2), I32(2, 2));
    int axis = T(c, NML_INT32, 1, D(1), I32(0));
    int y = T(c, NML_FLOAT32, 2, D(2, 2), NULL);
    int e = T(c, NML_FLOAT32, 3, D(1, 2, 2), NULL);
    nml_op_params p = P();
    OP(c, NML_OP_SLICE, &p, 3, I32(x, begin, size), 1, I32(y));
    OP(c, NML_OP_EXPAND_DIMS, &p, 2, I32(y, axis), 1, I32(e));
    const void *ins[1] = {F(1, 2, 3, 4, 5, 6)};
    const void *want[2] = {F(2, 3, 5, 6), F(2, 3, 5, 6)};
    check(c, 1, I32(x), ins, 2, I32(y, e), want);
}

/* ---- convolution and pooling (padding, strides, dilation, multiplier, filter) ---- */

/* x = [[1,2,3],[4,5,6],[7,8,9]], 2x2 filter of ones, SAME, stride 2: output 2x2, padding only
 * after (total 1): sums 1+2+4+5 = 12, 3+6 = 9, 7+8 = 15, 9; bias -10 -> 2, -1, 5, -1; RELU ->
 * [2, 0, 5, 0] */
static void test_conv_same_stride_relu(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 4, D(1, 3, 3, 1), NULL);
    int w = T(c, NML_FLOAT32, 4, D(1, 2, 2, 1), F(1, 1, 1, 1));
    int b = T(c, NML_FLOAT32, 1, D(1), F(-10));
    int y = T(c, NML_FLOAT32, 4, D(1, 2, 2, 1), NULL);
    nml_op_params p = P();
    p.padding = NML_PAD_SAME;
    p.stride_w = p.stride_h = 2;
    p.activation = NML_ACT_RELU;
    OP(c, NML_OP_CONV_2D, &p, 3, I32(x, w, b), 1, I32(y));
    check1(c, x, F(1, 2, 3, 4, 5, 6, 7, 8, 9), y, F(2, 0, 5, 0));
}

/* dilation 2 spreads the 2x2 ones filter over the 3x3 corners: 1 + 3 + 7 + 9 = 20 */
static void test_conv_dilation(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 4, D(1, 3, 3, 1), NULL);
    int w = T(c, NML_FLOAT32, 4, D(1, 2, 2, 1), F(1, 1, 1, 1));
    int b = T(c, NML_FLOAT32, 1, D(1), F(0));
    int y = T(c, NML_FLOAT32, 4, D(1, 1, 1, 1), NULL);
    nml_op_params p = P();
    p.padding = NML_PAD_VALID;
    p.dilation_w = p.dilation_h = 2;
    OP(c, NML_OP_CONV_2D, &p, 3, I32(x, w, b), 1, I32(y));
    check1(c, x, F(1, 2, 3, 4, 5, 6, 7, 8, 9), y, F(20));
}

/* depth multiplier 2 on one channel x = [[1,2],[3,4]]: filter channel 0 all ones -> 10,
 * channel 1 [[1,0],[0,-1]] -> 1 - 4 = -3; bias [0, 1] -> [10, -2] */
static void test_depthwise_multiplier(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 4, D(1, 2, 2, 1), NULL);
    int w = T(c, NML_FLOAT32, 4, D(1, 2, 2, 2), F(1, 1, 1, 0, 1, 0, 1, -1));
    int b = T(c, NML_FLOAT32, 1, D(2), F(0, 1));
    int y = T(c, NML_FLOAT32, 4, D(1, 1, 1, 2), NULL);
    nml_op_params p = P();
    p.padding = NML_PAD_VALID;
    p.depth_multiplier = 2;
    OP(c, NML_OP_DEPTHWISE_CONV_2D, &p, 3, I32(x, w, b), 1, I32(y));
    check1(c, x, F(1, 2, 3, 4), y, F(10, -2));
}

/* transpose conv, 2x2 ones filter, stride 1, VALID, of [[1,2],[3,4]] scatters each input over a
 * 2x2 block of the 3x3 output: [[1,3,2],[4,10,6],[3,7,4]]; bias 1 adds one everywhere */
static void test_transpose_conv_bias(void **state) {
    tc *c = get(state);
    int shape = T(c, NML_INT32, 1, D(4), I32(1, 3, 3, 1));
    int w = T(c, NML_FLOAT32, 4, D(1, 2, 2, 1), F(1, 1, 1, 1));
    int x = T(c, NML_FLOAT32, 4, D(1, 2, 2, 1), NULL);
    int b = T(c, NML_FLOAT32, 1, D(1), F(1));
    int y = T(c, NML_FLOAT32, 4, D(1, 3, 3, 1), NULL);
    nml_op_params p = P();
    p.padding = NML_PAD_VALID;
    OP(c, NML_OP_TRANSPOSE_CONV, &p, 4, I32(shape, w, x, b), 1, I32(y));
    check1(c, x, F(1, 2, 3, 4), y, F(2, 4, 3, 5, 11, 7, 4, 8, 5));
}

/* average 2x2, stride 2, SAME over 1..9 (3x3): TFLite averages only in-image elements:
 * (1+2+4+5)/4 = 3, (3+6)/2 = 4.5, (7+8)/2 = 7.5, 9/1 = 9. Max 2x2 stride 1 VALID: 5 6 8 9. */
static void test_pools(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 4, D(1, 3, 3, 1), NULL);
    int avg = T(c, NML_FLOAT32, 4, D(1, 2, 2, 1), NULL);
    int mx = T(c, NML_FLOAT32, 4, D(1, 2, 2, 1), NULL);
    nml_op_params p = P();
    p.padding = NML_PAD_SAME;
    p.stride_w = p.stride_h = 2;
    p.filter_w = p.filter_h = 2;
    OP(c, NML_OP_AVERAGE_POOL_2D, &p, 1, I32(x), 1, I32(avg));
    p.padding = NML_PAD_VALID;
    p.stride_w = p.stride_h = 1;
    OP(c, NML_OP_MAX_POOL_2D, &p, 1, I32(x), 1, I32(mx));
    const void *ins[1] = {F(1, 2, 3, 4, 5, 6, 7, 8, 9)};
    const void *want[2] = {F(3, 4.5f, 7.5f, 9), F(5, 6, 8, 9)};
    check(c, 1, I32(x), ins, 2, I32(avg, mx), want);
}

/* FULLY_CONNECTED without bias (2 inputs, version 6) and keep_num_dims: x 1x2x3 rows e0, e1
 * pick the columns of W = [[1,0,-1],[0.5,2,0.25]] -> 1x2x2 [[1, 0.5], [0, 2]] */
static void test_fc_keep_num_dims_no_bias(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 3, D(1, 2, 3), NULL);
    int w = T(c, NML_FLOAT32, 2, D(2, 3), F(1, 0, -1, 0.5f, 2, 0.25f));
    int y = T(c, NML_FLOAT32, 3, D(1, 2, 2), NULL);
    nml_op_params p = P();
    p.keep_num_dims = 1;
    OP(c, NML_OP_FULLY_CONNECTED, &p, 2, I32(x, w), 1, I32(y));
    check1(c, x, F(1, 0, 0, 0, 1, 0), y, F(1, 0.5f, 0, 2));
}

/* int8 FULLY_CONNECTED (version 4), all scales 1, zero points 0, so it is integer arithmetic:
 * W = [[1,2],[3,-1]], bias [5, 0], x = [3, -2] -> [3 - 4 + 5, 9 + 2 + 0] = [4, 11] */
static void test_fc_int8(void **state) {
    tc *c = get(state);
    const int8_t wq[4] = {1, 2, 3, -1};
    int x = T(c, NML_INT8, 2, D(1, 2), NULL);
    int w = T(c, NML_INT8, 2, D(2, 2), wq);
    int b = T(c, NML_INT32, 1, D(2), I32(5, 0));
    int y = T(c, NML_INT8, 2, D(1, 2), NULL);
    Q(c, x, 1.0f, 0);
    Q(c, w, 1.0f, 0);
    Q(c, b, 1.0f, 0);
    Q(c, y, 1.0f, 0);
    nml_op_params p = P();
    OP(c, NML_OP_FULLY_CONNECTED, &p, 3, I32(x, w, b), 1, I32(y));
    const int8_t xin[2] = {3, -2}, want[2] = {4, 11};
    check1(c, x, xin, y, want);
}

/* softmax with beta 0.5 of [0, 2 ln 3] = softmax([0, ln 3]) = [1/4, 3/4] */
static void test_softmax_beta(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 2, D(1, 2), NULL);
    int y = T(c, NML_FLOAT32, 2, D(1, 2), NULL);
    nml_op_params p = P();
    p.beta = 0.5f;
    OP(c, NML_OP_SOFTMAX, &p, 1, I32(x), 1, I32(y));
    check1(c, x, F(0, 2 * logf(3)), y, F(0.25f, 0.75f));
}

/* A·Bᵀ with adj_y: A = [[1,2],[3,4]], B = [[5,6],[7,8]] -> [[17,23],[39,53]]
 * (A·B would be [[19,22],[43,50]]) */
static void test_batch_matmul_adj_y(void **state) {
    tc *c = get(state);
    int a = T(c, NML_FLOAT32, 3, D(1, 2, 2), NULL);
    int b = T(c, NML_FLOAT32, 3, D(1, 2, 2), NULL);
    int y = T(c, NML_FLOAT32, 3, D(1, 2, 2), NULL);
    nml_op_params p = P();
    p.adj_y = 1;
    OP(c, NML_OP_BATCH_MATMUL, &p, 2, I32(a, b), 1, I32(y));
    const void *ins[2] = {F(1, 2, 3, 4), F(5, 6, 7, 8)};
    const void *want[1] = {F(17, 23, 39, 53)};
    check(c, 2, I32(a, b), ins, 1, I32(y), want);
}

/* ---- resizing ---- */

/* bilinear 1x2 -> 1x4 with align_corners: source x = dst * (2-1)/(4-1) -> 0, 1/3, 2/3, 1 of
 * [0, 4] -> [0, 4/3, 8/3, 4]. Nearest 1x2 -> 1x3 with half_pixel_centers: source
 * floor((dst + 0.5) * 2/3) = 0, 1, 1 -> [10, 20, 20] (without: floor(dst*2/3) = 0, 0, 1). */
static void test_resize(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 4, D(1, 1, 2, 1), NULL);
    int x2 = T(c, NML_FLOAT32, 4, D(1, 1, 2, 1), NULL);
    int size4 = T(c, NML_INT32, 1, D(2), I32(1, 4));
    int size3 = T(c, NML_INT32, 1, D(2), I32(1, 3));
    int bl = T(c, NML_FLOAT32, 4, D(1, 1, 4, 1), NULL);
    int nn = T(c, NML_FLOAT32, 4, D(1, 1, 3, 1), NULL);
    nml_op_params p = P();
    p.align_corners = 1;
    OP(c, NML_OP_RESIZE_BILINEAR, &p, 2, I32(x, size4), 1, I32(bl));
    p = P();
    p.half_pixel_centers = 1;
    OP(c, NML_OP_RESIZE_NEAREST_NEIGHBOR, &p, 2, I32(x2, size3), 1, I32(nn));
    const void *ins[2] = {F(0, 4), F(10, 20)};
    const void *want[2] = {F(0, 4.0f / 3, 8.0f / 3, 4), F(10, 20, 20)};
    check(c, 2, I32(x, x2), ins, 2, I32(bl, nn), want);
}

/* ---- type conversions ---- */

/* QUANTIZE to int8 (scale 0.5, zero point 1): round(x / 0.5) + 1 of [1, -2, 0.2] = [3, -3, 1];
 * DEQUANTIZE back: (q - 1) * 0.5 = [1, -2, 0]; CAST float -> int32 truncates [1.7, -2.2] to
 * [1, -2]; ARG_MAX (int32 output) of [1, 5, 2, 0] is 1; SHAPE of a 2x3 tensor is [2, 3], plus [10,
 * 20] gives [12, 23] (LiteRT computes SHAPE at prepare time into its own buffer, so the test reads
 * it through an ADD rather than as a graph output). */
static void test_conversions(void **state) {
    tc *c = get(state);
    int x = T(c, NML_FLOAT32, 1, D(3), NULL);
    int q = T(c, NML_INT8, 1, D(3), NULL);
    int dq = T(c, NML_FLOAT32, 1, D(3), NULL);
    Q(c, q, 0.5f, 1);
    int cx = T(c, NML_FLOAT32, 1, D(2), NULL);
    int ci = T(c, NML_INT32, 1, D(2), NULL);
    int ax = T(c, NML_FLOAT32, 2, D(1, 4), NULL);
    int axis = T(c, NML_INT32, 1, D(1), I32(1));
    int am = T(c, NML_INT32, 1, D(1), NULL);
    int sx = T(c, NML_FLOAT32, 2, D(2, 3), NULL);
    int sh = T(c, NML_INT32, 1, D(2), NULL);
    int offs = T(c, NML_INT32, 1, D(2), I32(10, 20));
    int shs = T(c, NML_INT32, 1, D(2), NULL);
    nml_op_params p = P();
    OP(c, NML_OP_QUANTIZE, &p, 1, I32(x), 1, I32(q));
    OP(c, NML_OP_DEQUANTIZE, &p, 1, I32(q), 1, I32(dq));
    OP(c, NML_OP_CAST, &p, 1, I32(cx), 1, I32(ci));
    OP(c, NML_OP_ARG_MAX, &p, 2, I32(ax, axis), 1, I32(am));
    OP(c, NML_OP_SHAPE, &p, 1, I32(sx), 1, I32(sh));
    OP(c, NML_OP_ADD, &p, 2, I32(sh, offs), 1, I32(shs));
    const int8_t want_q[3] = {3, -3, 1};
    const void *ins[4] = {F(1, -2, 0.2f), F(1.7f, -2.2f), F(1, 5, 2, 0), F(0, 0, 0, 0, 0, 0)};
    const void *want[5] = {want_q, F(1, -2, 0), I32(1, -2), I32(1), I32(12, 23)};
    check(c, 4, I32(x, cx, ax, sx), ins, 5, I32(q, dq, ci, am, shs), want);
}

/* ---- operators without options or with empty options tables ---- */

/* x = [-2, -0.5, 0.25, 4]:
 *   NEG [2, 0.5, -0.25, -4]          ABS [2, 0.5, 0.25, 4]         SQUARE [4, 0.25, 0.0625, 16]
 *   RELU [0, 0, 0.25, 4]             RELU6 same                    RELU_N1_TO_1 [-1, -0.5, 0.25, 1]
 *   FLOOR [-2, -1, 0, 4]             HARD_SWISH x*relu6(x+3)/6 = [-2*1/6, -0.5*2.5/6,
 *                                    0.25*3.25/6, 4*6/6] = [-1/3, -5/24, 13/96, 4]
 * r = [4, 0.25]: SQRT [2, 0.5], RSQRT [0.5, 2]
 * a = [1, 4], b = [3, 2]: MAXIMUM [3, 4], MINIMUM [1, 2], SQUARED_DIFFERENCE [4, 4],
 *   POW [1, 16]
 * z = [0, ln 3]: LOG_SOFTMAX [ln 1/4, ln 3/4]; LOGISTIC(0) = 1/2, LOGISTIC(ln 3) = 3/4;
 *   TANH(0) = 0, TANH(ln 3) = (9 - 1)/(9 + 1) = 0.8; EXP [1, 3];
 *   L2_NORMALIZATION of [3, 4] = [0.6, 0.8]; PRELU of [-2, 3] with alpha [0.5, 0.25] = [-1, 3] */
static void test_elementwise(void **state) {
    tc *c = get(state);
    nml_op_params p = P();
    int x = T(c, NML_FLOAT32, 1, D(4), NULL);
    int r = T(c, NML_FLOAT32, 1, D(2), NULL);
    int a = T(c, NML_FLOAT32, 1, D(2), NULL);
    int b = T(c, NML_FLOAT32, 1, D(2), NULL);
    int z = T(c, NML_FLOAT32, 2, D(1, 2), NULL);
    int l2 = T(c, NML_FLOAT32, 2, D(1, 2), NULL);
    int pr = T(c, NML_FLOAT32, 1, D(2), NULL);
    int alpha = T(c, NML_FLOAT32, 1, D(2), F(0.5f, 0.25f));
    const int32_t unary[8] = {NML_OP_NEG,   NML_OP_ABS,          NML_OP_SQUARE, NML_OP_RELU,
                              NML_OP_RELU6, NML_OP_RELU_N1_TO_1, NML_OP_FLOOR,  NML_OP_HARD_SWISH};
    int32_t outs[24];
    int n = 0;
    for (int i = 0; i < 8; i++) {
        outs[n] = T(c, NML_FLOAT32, 1, D(4), NULL);
        OP(c, unary[i], &p, 1, I32(x), 1, &outs[n]);
        n++;
    }
    const int32_t on_r[2] = {NML_OP_SQRT, NML_OP_RSQRT};
    for (int i = 0; i < 2; i++) {
        outs[n] = T(c, NML_FLOAT32, 1, D(2), NULL);
        OP(c, on_r[i], &p, 1, I32(r), 1, &outs[n]);
        n++;
    }
    const int32_t binary[4] = {NML_OP_MAXIMUM, NML_OP_MINIMUM, NML_OP_SQUARED_DIFFERENCE,
                               NML_OP_POW};
    for (int i = 0; i < 4; i++) {
        outs[n] = T(c, NML_FLOAT32, 1, D(2), NULL);
        OP(c, binary[i], &p, 2, I32(a, b), 1, &outs[n]);
        n++;
    }
    const int32_t on_z[4] = {NML_OP_LOG_SOFTMAX, NML_OP_LOGISTIC, NML_OP_TANH, NML_OP_EXP};
    for (int i = 0; i < 4; i++) {
        outs[n] = T(c, NML_FLOAT32, 2, D(1, 2), NULL);
        OP(c, on_z[i], &p, 1, I32(z), 1, &outs[n]);
        n++;
    }
    outs[n] = T(c, NML_FLOAT32, 2, D(1, 2), NULL);
    OP(c, NML_OP_L2_NORMALIZATION, &p, 1, I32(l2), 1, &outs[n]);
    n++;
    outs[n] = T(c, NML_FLOAT32, 1, D(2), NULL);
    OP(c, NML_OP_PRELU, &p, 2, I32(pr, alpha), 1, &outs[n]);
    n++;

    const void *ins[7] = {F(-2, -0.5f, 0.25f, 4), F(4, 0.25f), F(1, 4), F(3, 2),
                          F(0, logf(3)),          F(3, 4),     F(-2, 3)};
    const void *want[20] = {F(2, 0.5f, -0.25f, -4),
                            F(2, 0.5f, 0.25f, 4),
                            F(4, 0.25f, 0.0625f, 16),
                            F(0, 0, 0.25f, 4),
                            F(0, 0, 0.25f, 4),
                            F(-1, -0.5f, 0.25f, 1),
                            F(-2, -1, 0, 4),
                            F(-1.0f / 3, -5.0f / 24, 13.0f / 96, 4),
                            F(2, 0.5f),
                            F(0.5f, 2),
                            F(3, 4),
                            F(1, 2),
                            F(4, 4),
                            F(1, 16),
                            F(logf(0.25f), logf(0.75f)),
                            F(0.5f, 0.75f),
                            F(0, 0.8f),
                            F(1, 3),
                            F(0.6f, 0.8f),
                            F(-1, 3)};
    assert_int_equal(n, 20);
    check(c, 7, I32(x, r, a, b, z, l2, pr), ins, n, outs, want);
}

int main(void) {
#define CASE(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        CASE(test_add_relu6),
        CASE(test_sub_relu),
        CASE(test_mul_relu_n1_to_1),
        CASE(test_div),
        CASE(test_leaky_relu),
        CASE(test_mean_keep_dims),
        CASE(test_sum),
        CASE(test_reduce_max),
        CASE(test_strided_slice_masks),
        CASE(test_gather_axis),
        CASE(test_split),
        CASE(test_split_v),
        CASE(test_pack),
        CASE(test_unpack),
        CASE(test_squeeze_dims),
        CASE(test_transpose),
        CASE(test_pad_padv2),
        CASE(test_mirror_pad_symmetric),
        CASE(test_concat_negative_axis),
        CASE(test_space_depth),
        CASE(test_slice_expand_dims),
        CASE(test_conv_same_stride_relu),
        CASE(test_conv_dilation),
        CASE(test_depthwise_multiplier),
        CASE(test_transpose_conv_bias),
        CASE(test_pools),
        CASE(test_fc_keep_num_dims_no_bias),
        CASE(test_fc_int8),
        CASE(test_softmax_beta),
        CASE(test_batch_matmul_adj_y),
        CASE(test_resize),
        CASE(test_conversions),
        CASE(test_elementwise),
    };
#undef CASE
    return cmocka_run_group_tests(tests, NULL, NULL);
}
