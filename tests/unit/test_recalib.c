/* Activation recalibration: TFLite's affine parameters, the model reader, the float twin, range
 * observation through the runtime, requantization (shared groups, fixed outputs, biases) and the
 * float output rewrite. Every expected number is computed by hand in the comments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir_models.h"
#include "nanoml/recalib.h"
#include "nanoml/runtime_host.h"
#include "test_util.h"

/* ---- helpers ---- */

static int add_tensor(nml_ir *ir, const char *name, int type, int rank, const int32_t *dims,
                      const void *data, size_t bytes) {
    nml_error err;
    int index;
    if (nml_ir_add_tensor(ir, name, type, rank, dims, data, bytes, &index, &err) != NML_OK)
        fail_msg("%s", err.msg);
    return index;
}

static void set_q(nml_ir *ir, int t, float scale, int64_t zp) {
    nml_error err;
    if (nml_ir_set_quant(ir, t, 1, &scale, &zp, 0, &err) != NML_OK) fail_msg("%s", err.msg);
}

static void add_op(nml_ir *ir, int32_t builtin, int n_in, const int32_t *in, int32_t out) {
    nml_error err;
    nml_op_params p;
    nml_op_params_default(&p);
    if (nml_ir_add_op(ir, builtin, &p, n_in, in, 1, &out, NULL, &err) != NML_OK)
        fail_msg("%s", err.msg);
}

static void set_io(nml_ir *ir, int n_in, const int32_t *in, int32_t out) {
    nml_error err;
    if (nml_ir_set_io(ir, n_in, in, 1, &out, &err) != NML_OK) fail_msg("%s", err.msg);
}

/* Serializes, loads and initializes an IR; the caller frees *bytes and *arena. */
static void load_ir(const nml_ir *ir, uint8_t **bytes, nml_model *m, nml_interpreter *it,
                    uint8_t **arena) {
    nml_error err;
    size_t size;
    if (nml_ir_to_tflite(ir, bytes, &size, &err) != NML_OK) fail_msg("%s", err.msg);
    if (nml_model_load(m, *bytes, size, &err) != NML_OK) fail_msg("%s", err.msg);
    memset(it, 0, sizeof *it);
    if (nml_interpreter_init_alloc(it, m, nml_ops_all(), arena, &err) != NML_OK)
        fail_msg("%s", err.msg);
}

static void set_range(nml_act_ranges *r, int t, float lo, float hi) {
    r->lo[t] = lo;
    r->hi[t] = hi;
    r->seen[t] = 1;
}

/* ---- tests ---- */

static void test_int8_params(void **state) {
    (void)state;
    float s;
    int32_t z;
    nml_recalib_int8_params(0.f, 1.f, &s, &z); /* 1/255, -128 - 0 */
    assert_float_equal(s, 1.f / 255.f, 1e-9f);
    assert_int_equal(z, -128);
    nml_recalib_int8_params(-1.f, 1.f, &s, &z); /* 2/255; -128 + 127.5 = -0.5 -> -1 */
    assert_float_equal(s, 2.f / 255.f, 1e-9f);
    assert_int_equal(z, -1);
    nml_recalib_int8_params(2.f, 5.f, &s, &z); /* widened to [0, 5] */
    assert_float_equal(s, 5.f / 255.f, 1e-8f);
    assert_int_equal(z, -128);
    nml_recalib_int8_params(-3.f, -1.f, &s, &z); /* widened to [-3, 0]: -128 + 255 = 127 */
    assert_float_equal(s, 3.f / 255.f, 1e-8f);
    assert_int_equal(z, 127);
    nml_recalib_int8_params(-2.f, 6.f, &s, &z); /* 8/255; -128 + 63.75 = -64.25 -> -64 */
    assert_int_equal(z, -64);
    nml_recalib_int8_params(0.f, 0.f, &s, &z); /* all zero: any positive scale */
    assert_true(s > 0.f);
    assert_int_equal(z, -128);
}


/* The twin of nml_test_model_conv_int8 computes with the dequantized weights
 * w0 = 0.5 * [1, 2, 0, -1] = [0.5, 1, 0, -0.5], w1 = 0.25 * [2, 0, -2, 4] = [0.5, 0, -0.5, 1]
 * and biases 4 * 0.25 = 1, -8 * 0.125 = -1. On x = [[1,2,3],[4,5,6],[7,8,9]]:
 *   channel 0: 0.5*1 + 1*2 + 0*4 - 0.5*5 + 1 = 1, then 2, 4, 5   -> average 3
 *   channel 1: 0.5*1 + 0*2 - 0.5*4 + 1*5 - 1 = 2.5, then 3.5, 5.5, 6.5 -> average 4.5 */
static void test_float_twin_and_ranges(void **state) {
    (void)state;
    nml_ir q, f;
    nml_error err;
    nml_test_model_conv_int8(&q);
    assert_int_equal(nml_recalib_float_twin(&q, &f, &err), NML_OK);
    assert_int_equal(f.n_tensors, q.n_tensors);
    const float *w = (const float *)f.tensors[1].data;
    const float w_want[8] = {0.5f, 1.f, 0.f, -0.5f, 0.5f, 0.f, -0.5f, 1.f};
    for (int i = 0; i < 8; i++)
        assert_float_equal(w[i], w_want[i], 0.f);
    const float *b = (const float *)f.tensors[2].data;
    assert_float_equal(b[0], 1.f, 0.f);
    assert_float_equal(b[1], -1.f, 0.f);
    assert_int_equal(f.tensors[0].type, NML_FLOAT32);
    assert_int_equal(f.tensors[0].n_q, 0);

    uint8_t *bytes, *arena;
    nml_model m;
    nml_interpreter it;
    load_ir(&f, &bytes, &m, &it, &arena);
    float *x = nml_input(&it, 0)->data;
    for (int i = 0; i < 9; i++)
        x[i] = (float)(i + 1);
    nml_act_ranges r;
    assert_int_equal(nml_act_ranges_init(&r, f.n_tensors, &err), NML_OK);
    assert_int_equal(nml_act_ranges_observe(&r, &it, &err), NML_OK);
    const float *y = nml_output(&it, 0)->data;
    assert_float_equal(y[0], 3.f, 1e-6f);
    assert_float_equal(y[1], 4.5f, 1e-6f);
    /* ranges by tensor index: 0 input, 3 conv, 4 relu, 5 pool; constants are not observed */
    assert_true(r.seen[0] && r.seen[3] && r.seen[4] && r.seen[5]);
    assert_false(r.seen[1] || r.seen[2]);
    assert_float_equal(r.lo[0], 1.f, 0.f);
    assert_float_equal(r.hi[0], 9.f, 0.f);
    assert_float_equal(r.lo[3], 1.f, 1e-6f);
    assert_float_equal(r.hi[3], 6.5f, 1e-6f);
    assert_float_equal(r.lo[5], 3.f, 1e-6f);
    assert_float_equal(r.hi[5], 4.5f, 1e-6f);
    /* a second input widens the ranges: x = -1 everywhere gives channel 0
     * -0.5 - 1 + 0 + 0.5 + 1 = 0 and channel 1 -0.5 + 0.5 - 1 - 1 = -2 */
    for (int i = 0; i < 9; i++)
        x[i] = -1.f;
    assert_int_equal(nml_act_ranges_observe(&r, &it, &err), NML_OK);
    assert_float_equal(r.lo[0], -1.f, 0.f);
    assert_float_equal(r.hi[0], 9.f, 0.f);
    assert_float_equal(r.lo[3], -2.f, 1e-6f);
    assert_float_equal(r.lo[4], 0.f, 1e-6f); /* after RELU */
    /* mean of the two observations' extremes: input ([1, 9] + [-1, -1]) / 2 = [0, 4];
     * conv ([1, 6.5] + [-2, 0]) / 2 = [-0.5, 3.25] */
    assert_int_equal(r.count[3], 2);
    nml_act_ranges_use_mean(&r);
    assert_float_equal(r.lo[0], 0.f, 0.f);
    assert_float_equal(r.hi[0], 4.f, 0.f);
    assert_float_equal(r.lo[3], -0.5f, 1e-6f);
    assert_float_equal(r.hi[3], 3.25f, 1e-6f);
    assert_false(r.seen[1]);
    nml_act_ranges_free(&r);
    free(arena);
    free(bytes);
    nml_ir_free(&f);
    nml_ir_free(&q);
}

/* nml_test_model_conv_int8 requantized with hand-made ranges:
 *   input: given as [-1, 1] -> scale 2/255, zero point -1
 *   conv [-2, 6] -> 8/255, -64;  relu [0, 6] and pool [0, 5] share one range (AVERAGE_POOL_2D
 *   passes its input's quantization through) [0, 6] -> 6/255, -128
 *   bias: weights {0.5, 0.25} * new input scale 2/255 = {1/255, 0.5/255}; the real biases 1 and
 *   -1 become round(1 * 255) = 255 and round(-1 * 510) = -510. Weights are unchanged. */
static void test_requantize_by_hand(void **state) {
    (void)state;
    nml_ir q;
    nml_error err;
    nml_test_model_conv_int8(&q);
    int8_t w_before[8];
    memcpy(w_before, q.tensors[1].data, 8);
    nml_act_ranges r;
    assert_int_equal(nml_act_ranges_init(&r, q.n_tensors, &err), NML_OK);
    set_range(&r, 3, -2.f, 6.f);
    set_range(&r, 4, 0.f, 6.f);
    set_range(&r, 5, 0.f, 5.f);
    nml_recalib_options opt = {-1.f, 1.f};
    nml_recalib_report rep;
    assert_int_equal(nml_recalib_requantize(&q, &r, &opt, &rep, &err), NML_OK);
    assert_float_equal(q.tensors[0].scales[0], 2.f / 255.f, 1e-9f);
    assert_int_equal(q.tensors[0].zero_points[0], -1);
    assert_float_equal(q.tensors[3].scales[0], 8.f / 255.f, 1e-8f);
    assert_int_equal(q.tensors[3].zero_points[0], -64);
    assert_float_equal(q.tensors[4].scales[0], 6.f / 255.f, 1e-8f);
    assert_int_equal(q.tensors[4].zero_points[0], -128);
    assert_float_equal(q.tensors[5].scales[0], 6.f / 255.f, 1e-8f);
    const int32_t *bias = (const int32_t *)q.tensors[2].data;
    assert_int_equal(bias[0], 255);
    assert_int_equal(bias[1], -510);
    assert_float_equal(q.tensors[2].scales[0], 1.f / 255.f, 1e-9f);
    assert_float_equal(q.tensors[2].scales[1], 0.5f / 255.f, 1e-9f);
    assert_memory_equal(q.tensors[1].data, w_before, 8);
    assert_float_equal(q.tensors[1].scales[1], 0.25f, 0.f);
    assert_int_equal(rep.activations, 4);
    assert_int_equal(rep.groups, 1);
    assert_int_equal(rep.biases, 1);
    assert_int_equal(rep.unobserved, 0);
    /* the result is a valid model for the runtime */
    uint8_t *bytes, *arena;
    nml_model m;
    nml_interpreter it;
    load_ir(&q, &bytes, &m, &it, &arena);
    free(arena);
    free(bytes);
    nml_act_ranges_free(&r);
    nml_ir_free(&q);
}

/* Recalibrated from the twin's own ranges, the int8 model reproduces the float result within its
 * output quantization: pool [3, 4.5] -> scale 4.5/255 = 0.0176; allow two steps. */
static void test_recalibrated_model_tracks_float(void **state) {
    (void)state;
    nml_ir q, f;
    nml_error err;
    nml_test_model_conv_int8(&q);
    assert_int_equal(nml_recalib_float_twin(&q, &f, &err), NML_OK);
    uint8_t *bytes, *arena;
    nml_model m;
    nml_interpreter it;
    load_ir(&f, &bytes, &m, &it, &arena);
    float *x = nml_input(&it, 0)->data;
    for (int i = 0; i < 9; i++)
        x[i] = (float)(i + 1) / 9.f;
    nml_act_ranges r;
    assert_int_equal(nml_act_ranges_init(&r, q.n_tensors, &err), NML_OK);
    assert_int_equal(nml_act_ranges_observe(&r, &it, &err), NML_OK);
    float want[2];
    memcpy(want, nml_output(&it, 0)->data, sizeof want);
    free(arena);
    free(bytes);
    nml_recalib_options opt = {0.f, 0.f}; /* input from its observed range */
    assert_int_equal(nml_recalib_requantize(&q, &r, &opt, NULL, &err), NML_OK);
    load_ir(&q, &bytes, &m, &it, &arena);
    nml_tensor *in = nml_input(&it, 0);
    for (int i = 0; i < 9; i++) {
        float v = roundf(((float)(i + 1) / 9.f) / in->scale) + (float)in->zero_point;
        ((int8_t *)in->data)[i] = (int8_t)(v > 127.f ? 127.f : v);
    }
    assert_int_equal(nml_invoke(&it, &err), NML_OK);
    const nml_tensor *out = nml_output(&it, 0);
    for (int c = 0; c < 2; c++) {
        float got = out->scale * (float)(((const int8_t *)out->data)[c] - out->zero_point);
        assert_float_equal(got, want[c], 2.f * out->scale);
    }
    free(arena);
    free(bytes);
    nml_act_ranges_free(&r);
    nml_ir_free(&f);
    nml_ir_free(&q);
}

/* a [1,2], b [1,2] -> CONCATENATION -> c [1,4]: one range for all three, [-1, 2] u [0, 5] =
 * [-1, 5] -> scale 6/255, zero point round(-128 + 42.5) = round(-85.5) = -86. */
static void test_concat_shares_range(void **state) {
    (void)state;
    nml_ir q;
    nml_ir_init(&q);
    int32_t d2[2] = {1, 2}, d4[2] = {1, 4};
    int a = add_tensor(&q, "a", NML_INT8, 2, d2, NULL, 0);
    int b = add_tensor(&q, "b", NML_INT8, 2, d2, NULL, 0);
    int c = add_tensor(&q, "c", NML_INT8, 2, d4, NULL, 0);
    set_q(&q, a, 0.1f, 0);
    set_q(&q, b, 0.1f, 0);
    set_q(&q, c, 0.1f, 0);
    nml_error err;
    nml_op_params p;
    nml_op_params_default(&p);
    p.axis = 1;
    int32_t out = c;
    assert_int_equal(
        nml_ir_add_op(&q, NML_OP_CONCATENATION, &p, 2, (int32_t[]){a, b}, 1, &out, NULL, &err),
        NML_OK);
    set_io(&q, 2, (int32_t[]){a, b}, c);
    nml_act_ranges r;
    assert_int_equal(nml_act_ranges_init(&r, q.n_tensors, &err), NML_OK);
    set_range(&r, a, -1.f, 2.f);
    set_range(&r, b, 0.f, 5.f);
    set_range(&r, c, -1.f, 5.f);
    assert_int_equal(nml_recalib_requantize(&q, &r, NULL, NULL, &err), NML_OK);
    for (int t = 0; t < 3; t++) {
        assert_float_equal(q.tensors[t].scales[0], 6.f / 255.f, 1e-8f);
        assert_int_equal(q.tensors[t].zero_points[0], -86);
    }
    nml_act_ranges_free(&r);
    nml_ir_free(&q);
}

/* x -> LOGISTIC -> l, CONCATENATION(x, l): the group inherits LOGISTIC's fixed 1/256, -128; a
 * fixed input quantization (1/255) in the same group contradicts it and is refused. */
static void test_fixed_outputs(void **state) {
    (void)state;
    nml_ir q;
    nml_ir_init(&q);
    int32_t d2[2] = {1, 2}, d4[2] = {1, 4};
    int x = add_tensor(&q, "x", NML_INT8, 2, d2, NULL, 0);
    int l = add_tensor(&q, "l", NML_INT8, 2, d2, NULL, 0);
    int c = add_tensor(&q, "c", NML_INT8, 2, d4, NULL, 0);
    set_q(&q, x, 0.1f, 0);
    set_q(&q, l, 1.f / 256.f, -128);
    set_q(&q, c, 1.f / 256.f, -128);
    add_op(&q, NML_OP_LOGISTIC, 1, (int32_t[]){x}, l);
    nml_error err;
    nml_op_params p;
    nml_op_params_default(&p);
    p.axis = 1;
    assert_int_equal(nml_ir_add_op(&q, NML_OP_CONCATENATION, &p, 2, (int32_t[]){x, l}, 1,
                                   (int32_t[]){c}, NULL, &err),
                     NML_OK);
    set_io(&q, 1, (int32_t[]){x}, c);
    nml_act_ranges r;
    assert_int_equal(nml_act_ranges_init(&r, q.n_tensors, &err), NML_OK);
    set_range(&r, x, -3.f, 3.f);
    set_range(&r, l, 0.05f, 0.95f);
    set_range(&r, c, -3.f, 3.f);
    nml_ir q2;
    assert_int_equal(nml_ir_clone(&q2, &q, &err), NML_OK);
    nml_recalib_report rep;
    assert_int_equal(nml_recalib_requantize(&q, &r, NULL, &rep, &err), NML_OK);
    assert_float_equal(q.tensors[x].scales[0], 1.f / 256.f, 0.f);
    assert_int_equal(q.tensors[x].zero_points[0], -128);
    assert_int_equal(rep.fixed, 1);
    nml_recalib_options opt = {0.f, 1.f};
    assert_int_equal(nml_recalib_requantize(&q2, &r, &opt, NULL, &err), NML_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "must share quantization"));
    nml_act_ranges_free(&r);
    nml_ir_free(&q);
    nml_ir_free(&q2);
}

/* x [1,2] (0.1, 0) -> LOGISTIC -> l (1/256, -128) -> QUANTIZE -> lq (0.1, 0);
 * CONCATENATION(x, lq) -> out [1,4] int8. As float output: DEQUANTIZE(x), DEQUANTIZE(l) (the
 * QUANTIZE only served the concatenation and is gone), float CONCATENATION. On x = [10, -20]
 * (real 1, -2): out = [1, -2, sigmoid(1) = 0.7311, sigmoid(-2) = 0.1192], the last two within
 * LOGISTIC's output step 1/256 (before, the 0.1 scale of lq rounded them to 0.7 and 0.1). */
static void test_float_output(void **state) {
    (void)state;
    nml_ir q;
    nml_ir_init(&q);
    int32_t d2[2] = {1, 2}, d4[2] = {1, 4};
    int x = add_tensor(&q, "x", NML_INT8, 2, d2, NULL, 0);
    int l = add_tensor(&q, "l", NML_INT8, 2, d2, NULL, 0);
    int lq = add_tensor(&q, "lq", NML_INT8, 2, d2, NULL, 0);
    int c = add_tensor(&q, "out", NML_INT8, 2, d4, NULL, 0);
    set_q(&q, x, 0.1f, 0);
    set_q(&q, l, 1.f / 256.f, -128);
    set_q(&q, lq, 0.1f, 0);
    set_q(&q, c, 0.1f, 0);
    add_op(&q, NML_OP_LOGISTIC, 1, (int32_t[]){x}, l);
    add_op(&q, NML_OP_QUANTIZE, 1, (int32_t[]){l}, lq);
    nml_error err;
    nml_op_params p;
    nml_op_params_default(&p);
    p.axis = 1;
    assert_int_equal(nml_ir_add_op(&q, NML_OP_CONCATENATION, &p, 2, (int32_t[]){x, lq}, 1,
                                   (int32_t[]){c}, NULL, &err),
                     NML_OK);
    set_io(&q, 1, (int32_t[]){x}, c);
    assert_int_equal(nml_recalib_float_output(&q, 0, &err), NML_OK);
    assert_int_equal(q.n_ops, 4);
    assert_int_equal(q.ops[0].builtin, NML_OP_LOGISTIC);
    assert_int_equal(q.ops[1].builtin, NML_OP_DEQUANTIZE);
    assert_int_equal(q.ops[2].builtin, NML_OP_DEQUANTIZE);
    assert_int_equal(q.ops[3].builtin, NML_OP_CONCATENATION);
    assert_int_equal(nml_ir_find_tensor(&q, "lq"), -1);
    assert_int_equal(q.tensors[q.outputs[0]].type, NML_FLOAT32);
    assert_int_equal(q.tensors[q.outputs[0]].n_q, 0);

    uint8_t *bytes, *arena;
    nml_model m;
    nml_interpreter it;
    load_ir(&q, &bytes, &m, &it, &arena);
    int8_t *in = nml_input(&it, 0)->data;
    in[0] = 10;
    in[1] = -20;
    assert_int_equal(nml_invoke(&it, &err), NML_OK);
    const float *y = nml_output(&it, 0)->data;
    assert_float_equal(y[0], 1.f, 1e-6f);
    assert_float_equal(y[1], -2.f, 1e-6f);
    assert_float_equal(y[2], 0.7311f, 1.f / 256.f);
    assert_float_equal(y[3], 0.1192f, 1.f / 256.f);
    free(arena);
    free(bytes);
    nml_ir_free(&q);
}

static void test_twin_turns_quantize_into_identity(void **state) {
    (void)state;
    nml_ir q, f;
    nml_ir_init(&q);
    int32_t d2[2] = {1, 2};
    int x = add_tensor(&q, "x", NML_INT8, 2, d2, NULL, 0);
    int y = add_tensor(&q, "y", NML_INT8, 2, d2, NULL, 0);
    set_q(&q, x, 0.1f, 0);
    set_q(&q, y, 0.5f, 3);
    add_op(&q, NML_OP_QUANTIZE, 1, (int32_t[]){x}, y);
    set_io(&q, 1, (int32_t[]){x}, y);
    nml_error err;
    assert_int_equal(nml_recalib_float_twin(&q, &f, &err), NML_OK);
    assert_int_equal(f.ops[0].builtin, NML_OP_RESHAPE);
    assert_int_equal(f.n_tensors, 3); /* the shape tensor is appended */
    uint8_t *bytes, *arena;
    nml_model m;
    nml_interpreter it;
    load_ir(&f, &bytes, &m, &it, &arena);
    float *in = nml_input(&it, 0)->data;
    in[0] = 0.123f;
    in[1] = -7.f;
    assert_int_equal(nml_invoke(&it, &err), NML_OK);
    const float *out = nml_output(&it, 0)->data;
    assert_float_equal(out[0], 0.123f, 0.f);
    assert_float_equal(out[1], -7.f, 0.f);
    free(arena);
    free(bytes);
    nml_ir_free(&f);
    nml_ir_free(&q);
}

static void test_requantize_errors(void **state) {
    (void)state;
    nml_ir q;
    nml_ir_init(&q);
    int32_t d2[2] = {1, 2};
    int x = add_tensor(&q, "x", NML_UINT8, 2, d2, NULL, 0);
    int y = add_tensor(&q, "y", NML_UINT8, 2, d2, NULL, 0);
    set_q(&q, x, 0.1f, 128);
    set_q(&q, y, 0.1f, 128);
    add_op(&q, NML_OP_RELU, 1, (int32_t[]){x}, y);
    set_io(&q, 1, (int32_t[]){x}, y);
    nml_act_ranges r;
    nml_error err;
    assert_int_equal(nml_act_ranges_init(&r, q.n_tensors, &err), NML_OK);
    assert_int_equal(nml_recalib_requantize(&q, &r, NULL, NULL, &err), NML_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "only per-tensor int8 activations"));
    assert_int_equal(nml_recalib_float_output(&q, 3, &err), NML_E_ARG);
    nml_act_ranges_free(&r);
    nml_ir_free(&q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int8_params),
        cmocka_unit_test(test_float_twin_and_ranges),
        cmocka_unit_test(test_requantize_by_hand),
        cmocka_unit_test(test_recalibrated_model_tracks_float),
        cmocka_unit_test(test_concat_shares_range),
        cmocka_unit_test(test_fixed_outputs),
        cmocka_unit_test(test_float_output),
        cmocka_unit_test(test_twin_turns_quantize_into_identity),
        cmocka_unit_test(test_requantize_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
