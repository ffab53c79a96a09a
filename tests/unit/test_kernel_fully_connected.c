/* FULLY_CONNECTED against hand computations and TFLite's multiplier formulas. */
#include <string.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernel_harness.h"
#include "kernels/kernels.h"
#include "qmath.h"

#define DIMS(...) ((const int32_t[]){__VA_ARGS__})

static void float_batches_bias_relu(void **state) {
    (void)state;
    /* weights u0 = [1 0 -1], u1 = [0.5 0.5 0.5], bias [1 0], RELU.
     * batch 0 x = [1 2 3]:    u0 = 1 - 3 + 1 = -1 -> 0,  u1 = 3
     * batch 1 x = [-1 -2 -3]: u0 = -1 + 3 + 1 = 3,       u1 = -3 -> 0 */
    float in[6] = {1, 2, 3, -1, -2, -3}, w[6] = {1, 0, -1, 0.5f, 0.5f, 0.5f}, b[2] = {1, 0};
    float out[4];
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_FLOAT32, 2, DIMS(2, 3), in, 0, 0},
                     (kh_spec){NML_FLOAT32, 2, DIMS(2, 3), w, 0, 0},
                     (kh_spec){NML_FLOAT32, 1, DIMS(2), b, 0, 0},
                     (kh_spec){NML_FLOAT32, 2, DIMS(2, 2), out, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.activation = NML_ACT_RELU;
    assert_int_equal(kh_run(&h, &nml_kernel_fully_connected, &p), NML_OK);
    kh_expect_f32_near(out, (const float[]){0, 3, 3, 0}, 4);
    kh_free(&h);
}

static void output_shape_follows_keep_num_dims(void **state) {
    (void)state;
    /* input 1x2x3 has 2 rows of depth 3. Without keep_num_dims the output is [2, units];
     * with it, [1, 2, units]. Bias is optional (absent = -1). */
    float in[6] = {1, 2, 3, 4, 5, 6}, w[3] = {1, 1, 1}, out[2];
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_FLOAT32, 3, DIMS(1, 2, 3), in, 0, 0);
    int tw = kh_tensor(&h, NML_FLOAT32, 2, DIMS(1, 3), w, 0, 0);
    int to = kh_tensor(&h, NML_FLOAT32, 3, DIMS(1, 2, 1), out, 0, 0);
    kh_inputs(&h, 3, ti, tw, -1);
    kh_outputs(&h, 1, to);
    nml_op_params p;
    nml_op_params_default(&p);
    p.keep_num_dims = 1;
    assert_int_equal(kh_run(&h, &nml_kernel_fully_connected, &p), NML_OK);
    kh_expect_f32_near(out, (const float[]){6, 15}, 2);

    p.keep_num_dims = 0; /* now [2, 1] is required */
    assert_int_equal(kh_prepare(&h, &nml_kernel_fully_connected, &p), NML_E_SHAPE);
    assert_non_null(strstr(h.err.msg, "output shape 1x2x1 does not match the computed 2x1"));
    h.tensors[to].rank = 2;
    h.tensors[to].dims[0] = 2;
    h.tensors[to].dims[1] = 1;
    assert_int_equal(kh_run(&h, &nml_kernel_fully_connected, &p), NML_OK);
    kh_expect_f32_near(out, (const float[]){6, 15}, 2);
    kh_free(&h);
}

static void int8_per_tensor_zero_points(void **state) {
    (void)state;
    /* input scale 0.5 zp 2, weights scale 0.5 zp -1 (per-tensor weights may be asymmetric),
     * bias scale 0.25 = 0.5 * 0.5, output scale 1 zp -3: M = 0.25.
     * x = [4 0] -> x - zp = [2 -2]; w = [1 3] -> w - zp = [2 4];
     * acc = 4 - 8 + bias 10 = 6 -> 1.5: SRDHM(6, 2^30) = 3, RDBPOT(3, 1) = 2 -> 2 - 3 = -1 */
    int8_t in[2] = {4, 0}, w[2] = {1, 3}, out[1];
    int32_t b[1] = {10};
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_INT8, 2, DIMS(1, 2), in, 0.5f, 2},
                     (kh_spec){NML_INT8, 2, DIMS(1, 2), w, 0.5f, -1},
                     (kh_spec){NML_INT32, 1, DIMS(1), b, 0.25f, 0},
                     (kh_spec){NML_INT8, 2, DIMS(1, 1), out, 1.0f, -3});
    const int tb = KH_BIAS;
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_run(&h, &nml_kernel_fully_connected, &p), NML_OK);
    assert_int_equal(out[0], -1);

    /* TFLite insists the bias scale matches input x weights scale (within 2% of an output
     * step): 0.5 instead of 0.25 is rejected */
    h.tensors[tb].scale = 0.5f;
    assert_int_equal(kh_prepare(&h, &nml_kernel_fully_connected, &p), NML_E_FORMAT);
    assert_non_null(strstr(h.err.msg, "bias scale does not match"));
    kh_free(&h);
}

static void int8_per_tensor_multiplier_uses_float_product(void **state) {
    (void)state;
    /* TFLite's GetQuantizedConvolutionMultipler computes input_scale * weights_scale in float
     * and only then divides in double. With scales 0.1f, 0.3f and output 1000 the float product
     * changes the Q31 significand, and an accumulator of 2916666 (exact result 87.49998...)
     * lands on different sides of the rounding boundary: 87 with the float product, 88 with a
     * double product. Build that accumulator from int8 values:
     *   180 taps of 127 * 127 = 2903220, one tap 105 * 127 = 13335, one tap 111 * 1 = 111. */
    const float in_scale = 0.1f, w_scale = 0.3f, out_scale = 1000.0f;
    int32_t m_float, m_double;
    int e_float, e_double;
    const float product = in_scale * w_scale;
    nml_quantize_multiplier((double)product / (double)out_scale, &m_float, &e_float);
    nml_quantize_multiplier((double)in_scale * (double)w_scale / (double)out_scale, &m_double,
                            &e_double);
    assert_int_equal(nml_mul_by_qm(2916666, m_float, e_float), 87);   /* the reference */
    assert_int_equal(nml_mul_by_qm(2916666, m_double, e_double), 88); /* the trap */

    enum { DEPTH = 182 };
    int8_t in[DEPTH], w[DEPTH], out[1];
    for (int i = 0; i < 180; i++)
        in[i] = w[i] = 127;
    in[180] = 127;
    w[180] = 105;
    in[181] = 1;
    w[181] = 111;
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_INT8, 2, DIMS(1, DEPTH), in, in_scale, 0},
                     (kh_spec){NML_INT8, 2, DIMS(1, DEPTH), w, w_scale, 0}, KH_NO_BIAS,
                     (kh_spec){NML_INT8, 2, DIMS(1, 1), out, out_scale, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_run(&h, &nml_kernel_fully_connected, &p), NML_OK);
    assert_int_equal(out[0], 87);
    kh_free(&h);
}

static void int8_per_channel_saturation_relu6(void **state) {
    (void)state;
    /* per-channel weight scales [1, 0.25] (dimension 0), input scale 1 zp 0, output scale 1:
     * u0 = [1 1], u1 = [4 1]; x = [100 100]: u0 = 200 -> saturates at 127; u1 = 500 * 0.25 = 125
     * x = [-100 -60]: u0 = -160 -> -128; u1 = -460 * 0.25 = -115 */
    int8_t in[4] = {100, 100, -100, -60}, w[4] = {1, 1, 4, 1}, out[4];
    static const float scales[2] = {1.0f, 0.25f};
    nml_kh h;
    kh_init(&h);
    const int to = kh_weighted_node(&h, (kh_spec){NML_INT8, 2, DIMS(2, 2), in, 1.0f, 0},
                                    (kh_spec){NML_INT8, 2, DIMS(2, 2), w, 1.0f, 0}, KH_NO_BIAS,
                                    (kh_spec){NML_INT8, 2, DIMS(2, 2), out, 1.0f, 0});
    const int tw = KH_WEIGHTS;
    kh_per_channel(&h, tw, scales, NULL, 2, 0);
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_run(&h, &nml_kernel_fully_connected, &p), NML_OK);
    kh_expect_i8(out, (const int8_t[]){127, 125, -128, -115}, 4);

    /* RELU6 with output scale 0.5: upper bound round(6 / 0.5) = 12, lower 0; the outputs are
     * now 400, 250, -320, -230 before clamping */
    h.tensors[to].scale = 0.5f;
    p.activation = NML_ACT_RELU6;
    assert_int_equal(kh_run(&h, &nml_kernel_fully_connected, &p), NML_OK);
    kh_expect_i8(out, (const int8_t[]){12, 12, 0, 0}, 4);
    kh_free(&h);
}

static void prepare_rejects_bad_nodes(void **state) {
    (void)state;
    float in[6] = {0}, w[6] = {0}, b[3] = {0}, out[4];
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_FLOAT32, 2, DIMS(2, 3), in, 0, 0);
    int tw = kh_tensor(&h, NML_FLOAT32, 2, DIMS(2, 3), w, 0, 0);
    int tb = kh_tensor(&h, NML_FLOAT32, 1, DIMS(3), b, 0, 0);
    int to = kh_tensor(&h, NML_FLOAT32, 2, DIMS(2, 2), out, 0, 0);
    kh_inputs(&h, 2, ti, tw);
    kh_outputs(&h, 1, to);
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_prepare(&h, &nml_kernel_fully_connected, &p), NML_OK);

    kh_inputs(&h, 3, ti, tw, tb); /* 3 biases for 2 units */
    assert_int_equal(kh_prepare(&h, &nml_kernel_fully_connected, &p), NML_E_SHAPE);
    assert_non_null(strstr(h.err.msg, "FULLY_CONNECTED: bias has 3 elements, expected 2"));
    kh_inputs(&h, 2, ti, tw);

    h.tensors[tw].dims[1] = 4; /* 6 input elements are not a multiple of depth 4 */
    assert_int_equal(kh_prepare(&h, &nml_kernel_fully_connected, &p), NML_E_SHAPE);
    assert_non_null(
        strstr(h.err.msg, "input has 6 elements, not a multiple of the weights depth 4"));
    h.tensors[tw].dims[1] = 3;

    p.weights_format = 1;
    assert_int_equal(kh_prepare(&h, &nml_kernel_fully_connected, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "weights format 1 is not supported"));
    p.weights_format = 0;

    h.tensors[tw].type = NML_INT8; /* hybrid float input with int8 weights */
    assert_int_equal(kh_prepare(&h, &nml_kernel_fully_connected, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "weights has type int8, expected float32"));
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_batches_bias_relu),
        cmocka_unit_test(output_shape_follows_keep_num_dims),
        cmocka_unit_test(int8_per_tensor_zero_points),
        cmocka_unit_test(int8_per_tensor_multiplier_uses_float_product),
        cmocka_unit_test(int8_per_channel_saturation_relu6),
        cmocka_unit_test(prepare_rejects_bad_nodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
