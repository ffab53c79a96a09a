/* In-place pruning of int8 convolution weights: which weights and filters go, computed by hand
 * from the real magnitudes (|q - zero point| * per-channel scale), and the errors. */
#include <stdlib.h>
#include <string.h>

#include "ir_models.h"
#include "nanoml/ir.h"
#include "nanoml/prune_int8.h"
#include "nanoml/runtime.h"
#include "test_util.h"

static uint8_t *to_bytes(const nml_ir *ir, size_t *size) {
    nml_error err;
    uint8_t *b;
    if (nml_ir_to_tflite(ir, &b, size, &err) != NML_OK) fail_msg("%s", err.msg);
    return b;
}

/* The weights of the first operator of a .tflite in memory. */
static const int8_t *weights_of(const uint8_t *bytes, size_t size) {
    nml_model m;
    nml_model_op op;
    nml_tensor t;
    nml_error err;
    assert_int_equal(nml_model_load(&m, bytes, size, &err), NML_OK);
    assert_int_equal(nml_model_operator(&m, 0, &op, &err), NML_OK);
    assert_int_equal(nml_model_tensor(&m, (uint32_t)op.inputs[1], &t, &err), NML_OK);
    return t.data;
}

/* nml_test_model_conv_int8: w = [1, 2, 0, -1 | 2, 0, -2, 4] with channel scales 0.5 and 0.25,
 * real magnitudes [0.5, 1, 0, 0.5 | 0.5, 0, 0.5, 1].
 * 75%: round(6) weights: the zeros (2, 5), then the 0.5s by position (0, 3, 4, 6) -> only
 * positions 1 and 7 survive: [0, 2, 0, 0 | 0, 0, 0, 4]. Ranking by |q| instead would keep
 * positions 6 and 7 (|q| = 2 and 4). */
static void test_unstructured_by_real_magnitude(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_conv_int8(&ir);
    size_t size;
    uint8_t *b = to_bytes(&ir, &size);
    nml_prune_stats s;
    nml_error err;
    assert_int_equal(nml_prune_int8_convs(b, size,
                                          &(nml_prune_options){NML_PRUNE_WEIGHTS, 0.75f, NULL, 0},
                                          &s, &err),
                     NML_OK);
    const int8_t want[8] = {0, 2, 0, 0, 0, 0, 0, 4};
    assert_memory_equal(weights_of(b, size), want, 8);
    assert_int_equal(s.layers, 1);
    assert_int_equal(s.weights, 8);
    assert_int_equal(s.zero_before, 2);
    assert_int_equal(s.zero_after, 6);
    free(b);
    /* 10%: round(0.8) = 1 weight, an already-zero one: nothing changes */
    b = to_bytes(&ir, &size);
    assert_int_equal(nml_prune_int8_convs(
                         b, size, &(nml_prune_options){NML_PRUNE_WEIGHTS, 0.1f, NULL, 0}, &s, &err),
                     NML_OK);
    const int8_t same[8] = {1, 2, 0, -1, 2, 0, -2, 4};
    assert_memory_equal(weights_of(b, size), same, 8);
    assert_int_equal(s.zero_after, 2);
    free(b);
    /* a skipped operator keeps its weights */
    b = to_bytes(&ir, &size);
    const int32_t skip[1] = {0};
    nml_prune_options keep = {NML_PRUNE_WEIGHTS, 0.75f, skip, 1};
    assert_int_equal(nml_prune_int8_convs(b, size, &keep, &s, &err), NML_OK);
    assert_memory_equal(weights_of(b, size), same, 8);
    assert_int_equal(s.layers, 0);
    free(b);
    nml_ir_free(&ir);
}

static int add(nml_ir *ir, const char *name, int type, int rank, const int32_t *dims,
               const void *data, size_t bytes) {
    nml_error err;
    int i;
    if (nml_ir_add_tensor(ir, name, type, rank, dims, data, bytes, &i, &err) != NML_OK)
        fail_msg("%s", err.msg);
    return i;
}

static void quant(nml_ir *ir, int t, uint32_t n, const float *s, int32_t q_dim) {
    nml_error err;
    if (nml_ir_set_quant(ir, t, n, s, NULL, q_dim, &err) != NML_OK) fail_msg("%s", err.msg);
}

/* A 1x1 convolution (CONV_2D, OHWI) or depthwise convolution (1HWO) with the given weights. */
static void conv_model(nml_ir *ir, int depthwise, const int32_t *w_dims, const int8_t *w,
                       const float *w_scales, int channels, int in_c) {
    nml_ir_init(ir);
    int32_t d_in[4] = {1, 1, depthwise ? w_dims[2] : 1, in_c}, d_b[1] = {channels};
    int32_t d_out[4] = {1, 1, 1, channels};
    int32_t bias[8] = {7, 7, 7, 7, 7, 7, 7, 7};
    float b_scales[8], s_io = 1.f;
    for (int c = 0; c < channels; c++)
        b_scales[c] = w_scales[c];
    size_t n = (size_t)w_dims[0] * w_dims[1] * w_dims[2] * w_dims[3];
    int x = add(ir, "x", NML_INT8, 4, d_in, NULL, 0);
    int f = add(ir, "w", NML_INT8, 4, w_dims, w, n);
    int bt = add(ir, "b", NML_INT32, 1, d_b, bias, (size_t)channels * 4);
    int y = add(ir, "y", NML_INT8, 4, d_out, NULL, 0);
    quant(ir, x, 1, &s_io, 0);
    quant(ir, y, 1, &s_io, 0);
    quant(ir, f, (uint32_t)channels, w_scales, depthwise ? 3 : 0);
    quant(ir, bt, (uint32_t)channels, b_scales, 0);
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_VALID;
    nml_error err;
    int32_t out = y;
    if (nml_ir_add_op(ir, depthwise ? NML_OP_DEPTHWISE_CONV_2D : NML_OP_CONV_2D, &p, 3,
                      (int32_t[]){x, f, bt}, 1, &out, NULL, &err) != NML_OK ||
        nml_ir_set_io(ir, 1, (int32_t[]){x}, 1, &out, &err) != NML_OK)
        fail_msg("%s", err.msg);
}

/* Three filters of two weights, scales {1, 0.1, 0.5}: f0 = [1, -1] (L1 2), f1 = [5, 5] (L1 1),
 * f2 = [3, -3] (L1 3). 34%: round(1.02) = 1 filter -> f1 (by |q| it would have been f0).
 * 67%: round(2.01) = 2 -> f1 and f0. The bias stays. */
static void test_filters_by_real_l1(void **state) {
    (void)state;
    const int32_t dims[4] = {3, 1, 1, 2};
    const int8_t w[6] = {1, -1, 5, 5, 3, -3};
    const float scales[3] = {1.f, 0.1f, 0.5f};
    nml_ir ir;
    conv_model(&ir, 0, dims, w, scales, 3, 2);
    size_t size;
    uint8_t *b = to_bytes(&ir, &size);
    nml_prune_stats s;
    nml_error err;
    assert_int_equal(nml_prune_int8_convs(b, size,
                                          &(nml_prune_options){NML_PRUNE_FILTERS, 0.34f, NULL, 0},
                                          &s, &err),
                     NML_OK);
    const int8_t want1[6] = {1, -1, 0, 0, 3, -3};
    assert_memory_equal(weights_of(b, size), want1, 6);
    assert_int_equal(s.filters, 3);
    assert_int_equal(s.filters_pruned, 1);
    nml_model m;
    nml_model_op op;
    nml_tensor bias;
    assert_int_equal(nml_model_load(&m, b, size, &err), NML_OK);
    assert_int_equal(nml_model_operator(&m, 0, &op, &err), NML_OK);
    assert_int_equal(nml_model_tensor(&m, (uint32_t)op.inputs[2], &bias, &err), NML_OK);
    assert_int_equal(((const int32_t *)bias.data)[1], 7);
    free(b);
    b = to_bytes(&ir, &size);
    assert_int_equal(nml_prune_int8_convs(b, size,
                                          &(nml_prune_options){NML_PRUNE_FILTERS, 0.67f, NULL, 0},
                                          &s, &err),
                     NML_OK);
    const int8_t want2[6] = {0, 0, 0, 0, 3, -3};
    assert_memory_equal(weights_of(b, size), want2, 6);
    free(b);
    nml_ir_free(&ir);
}

/* Depthwise weights 1x1x2x3 (H, W, O): channels run along the last dimension.
 * w(0,0,:) = [1, 4, 2], w(0,1,:) = [1, 4, 2], unit scales: L1 per channel [2, 8, 4];
 * 34% -> channel 0, i.e. elements 0 and 3. */
static void test_depthwise_filters(void **state) {
    (void)state;
    const int32_t dims[4] = {1, 1, 2, 3};
    const int8_t w[6] = {1, 4, 2, 1, 4, 2};
    const float scales[3] = {1.f, 1.f, 1.f};
    nml_ir ir;
    conv_model(&ir, 1, dims, w, scales, 3, 3);
    size_t size;
    uint8_t *b = to_bytes(&ir, &size);
    nml_error err;
    assert_int_equal(nml_prune_int8_convs(b, size,
                                          &(nml_prune_options){NML_PRUNE_FILTERS, 0.34f, NULL, 0},
                                          NULL, &err),
                     NML_OK);
    const int8_t want[6] = {0, 4, 2, 0, 4, 2};
    assert_memory_equal(weights_of(b, size), want, 6);
    free(b);
    nml_ir_free(&ir);
}

static void test_errors(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_fc_float(&ir); /* no convolution: nothing to do */
    size_t size;
    uint8_t *b = to_bytes(&ir, &size);
    nml_prune_stats s;
    nml_error err;
    assert_int_equal(nml_prune_int8_convs(
                         b, size, &(nml_prune_options){NML_PRUNE_WEIGHTS, 0.1f, NULL, 0}, &s, &err),
                     NML_OK);
    assert_int_equal(s.layers, 0);
    assert_int_equal(nml_prune_int8_convs(
                         b, size, &(nml_prune_options){NML_PRUNE_WEIGHTS, 1.5f, NULL, 0}, &s, &err),
                     NML_E_ARG);
    free(b);
    nml_ir_free(&ir);
    uint8_t junk[32] = {0};
    assert_int_equal(nml_prune_int8_convs(junk, sizeof junk,
                                          &(nml_prune_options){NML_PRUNE_WEIGHTS, 0.1f, NULL, 0},
                                          NULL, &err),
                     NML_E_FORMAT);
}

/* A float convolution is refused with the operator named. */
static void test_float_weights_refused(void **state) {
    (void)state;
    nml_ir ir;
    nml_ir_init(&ir);
    int32_t d_x[4] = {1, 1, 1, 1}, d_w[4] = {1, 1, 1, 1};
    float w = 1.f;
    int x = add(&ir, "x", NML_FLOAT32, 4, d_x, NULL, 0);
    int f = add(&ir, "w", NML_FLOAT32, 4, d_w, &w, 4);
    int y = add(&ir, "y", NML_FLOAT32, 4, d_x, NULL, 0);
    nml_op_params p;
    nml_op_params_default(&p);
    nml_error err;
    int32_t out = y;
    assert_int_equal(
        nml_ir_add_op(&ir, NML_OP_CONV_2D, &p, 3, (int32_t[]){x, f, -1}, 1, &out, NULL, &err),
        NML_OK);
    assert_int_equal(nml_ir_set_io(&ir, 1, (int32_t[]){x}, 1, &out, &err), NML_OK);
    size_t size;
    uint8_t *b = to_bytes(&ir, &size);
    assert_int_equal(nml_prune_int8_convs(b, size,
                                          &(nml_prune_options){NML_PRUNE_WEIGHTS, 0.1f, NULL, 0},
                                          NULL, &err),
                     NML_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "operator 0 (CONV_2D): weights 1 (w)"));
    free(b);
    nml_ir_free(&ir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unstructured_by_real_magnitude),
        cmocka_unit_test(test_filters_by_real_l1),
        cmocka_unit_test(test_depthwise_filters),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_float_weights_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
