/* DEPTHWISE_CONV_2D against hand computations (requantization as in test_kernel_conv_2d.c:
 * SRDHM rounding half up, then a shift rounding half away from zero). */
#include <string.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernel_harness.h"
#include "kernels/kernels.h"

#define DIMS(...) ((const int32_t[]){__VA_ARGS__})

static void float_depth_multiplier2_same(void **state) {
    (void)state;
    /* input 1x1x3x2: channel 0 = [1 2 3], channel 1 = [10 20 30] along the width.
     * Filter 1x1x3x4 (depth multiplier 2; output channel = ic * 2 + m), SAME over width 3 with a
     * 3-wide filter: one padding column on each side.
     *   oc0 (ic0): taps [1 0 0] = left neighbour   -> [0(pad), 1, 2]
     *   oc1 (ic0): taps [0 0 1] = right neighbour  -> [2, 3, 0(pad)]
     *   oc2 (ic1): taps [1 1 1] = window sum       -> [30, 60, 50]
     *   oc3 (ic1): taps [0 2 0] = 2 x centre       -> [20, 40, 60]
     * bias [0.5, 0, 0, -100]. */
    float in[6] = {1, 10, 2, 20, 3, 30};
    float w[12] = {/* kx0 */ 1, 0, 1, 0, /* kx1 */ 0, 0, 1, 2, /* kx2 */ 0, 1, 1, 0};
    float b[4] = {0.5f, 0, 0, -100}, out[12];
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_FLOAT32, 4, DIMS(1, 1, 3, 2), in, 0, 0},
                     (kh_spec){NML_FLOAT32, 4, DIMS(1, 1, 3, 4), w, 0, 0},
                     (kh_spec){NML_FLOAT32, 1, DIMS(4), b, 0, 0},
                     (kh_spec){NML_FLOAT32, 4, DIMS(1, 1, 3, 4), out, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_SAME;
    p.depth_multiplier = 2;
    assert_int_equal(kh_run(&h, &nml_kernel_depthwise_conv_2d, &p), NML_OK);
    kh_expect_f32_near(out, (const float[]){0.5f, 2, 30, -80, 1.5f, 3, 60, -60, 2.5f, 0, 50, -40},
                       12);
    kh_free(&h);
}

static void float_dilation2(void **state) {
    (void)state;
    /* 3x3 input 1..9, 2x2 ones with dilation 2, VALID: x00 + x02 + x20 + x22 = 1+3+7+9 = 20 */
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 1, 1, 1}, out[1];
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_FLOAT32, 4, DIMS(1, 3, 3, 1), in, 0, 0},
                     (kh_spec){NML_FLOAT32, 4, DIMS(1, 2, 2, 1), w, 0, 0}, KH_NO_BIAS,
                     (kh_spec){NML_FLOAT32, 4, DIMS(1, 1, 1, 1), out, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_VALID;
    p.dilation_h = p.dilation_w = 2;
    assert_int_equal(kh_run(&h, &nml_kernel_depthwise_conv_2d, &p), NML_OK);
    kh_expect_f32_near(out, (const float[]){20}, 1);
    kh_free(&h);
}

/* input 4x4x1, scale 1, zp -5: x - zp = 4r + c + 1 (1..16), so q = 4r + c - 4.
 * filter 1x2x2x2 (multiplier 2), per-channel scales [1, 0.5] along dimension 3;
 * output scale 2, zp -10: M0 = 1 * 1 / 2 = 0.5, M1 = 1 * 0.5 / 2 = 0.25.
 * VALID 2x2 stride 2 -> 2x2 windows {1,2,5,6} {3,4,7,8} {9,10,13,14} {11,12,15,16}.
 *   oc0 = window sum + bias 2:      16, 24, 48, 56 -> x0.5 -> 8, 12, 24, 28 -> -2, 2, 14, 18
 *   oc1 = top-left - bottom-right: -5 each, + bias -3 = -8 -> x0.25 = -2 -> -12 */
static void int8_per_channel_stride2_zero_points(void **state) {
    (void)state;
    int8_t in[16], out[8];
    for (int i = 0; i < 16; i++)
        in[i] = (int8_t)(i - 4);
    int8_t w[8] = {/* (0,0) */ 1, 1, /* (0,1) */ 1, 0,
                   /* (1,0) */ 1, 0, /* (1,1) */ 1, -1};
    int32_t b[2] = {2, -3};
    static const float scales[2] = {1.0f, 0.5f};
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_INT8, 4, DIMS(1, 4, 4, 1), in, 1.0f, -5},
                     (kh_spec){NML_INT8, 4, DIMS(1, 2, 2, 2), w, 1.0f, 0},
                     (kh_spec){NML_INT32, 1, DIMS(2), b, 0, 0},
                     (kh_spec){NML_INT8, 4, DIMS(1, 2, 2, 2), out, 2.0f, -10});
    const int tw = KH_WEIGHTS;
    kh_per_channel(&h, tw, scales, NULL, 2, 3);
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_VALID;
    p.stride_h = p.stride_w = 2;
    p.depth_multiplier = 2;
    assert_int_equal(kh_run(&h, &nml_kernel_depthwise_conv_2d, &p), NML_OK);
    kh_expect_i8(out, (const int8_t[]){-2, -12, 2, -12, 14, -12, 18, -12}, 8);

    /* RELU6 with output scale 2, zp -10: [zp + round(0/2), zp + round(6/2)] = [-10, -7] */
    p.activation = NML_ACT_RELU6;
    assert_int_equal(kh_run(&h, &nml_kernel_depthwise_conv_2d, &p), NML_OK);
    kh_expect_i8(out, (const int8_t[]){-7, -10, -7, -10, -7, -10, -7, -10}, 8);
    /* RELU_N1_TO_1: [zp + round(-1/2), zp + round(1/2)] = [-11, -9] (0.5 rounds away) */
    p.activation = NML_ACT_RELU_N1_TO_1;
    assert_int_equal(kh_run(&h, &nml_kernel_depthwise_conv_2d, &p), NML_OK);
    kh_expect_i8(out, (const int8_t[]){-9, -11, -9, -11, -9, -11, -9, -11}, 8);
    kh_free(&h);
}

static void prepare_rejects_bad_nodes(void **state) {
    (void)state;
    int8_t in[4] = {0}, w[4] = {0}, out[4];
    static const float scales[2] = {0.5f, 0.5f};
    nml_kh h;
    kh_init(&h);
    const int to =
        kh_weighted_node(&h, (kh_spec){NML_INT8, 4, DIMS(1, 1, 2, 2), in, 0.5f, 0},
                         (kh_spec){NML_INT8, 4, DIMS(1, 1, 1, 2), w, 0.5f, 0}, KH_NO_BIAS,
                         (kh_spec){NML_INT8, 4, DIMS(1, 1, 2, 2), out, 1.0f, 0});
    const int tw = KH_WEIGHTS;
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_prepare(&h, &nml_kernel_depthwise_conv_2d, &p), NML_OK);

    p.depth_multiplier = 2; /* 2 input channels x 2 = 4, but the filter has 2 */
    assert_int_equal(kh_prepare(&h, &nml_kernel_depthwise_conv_2d, &p), NML_E_SHAPE);
    assert_non_null(strstr(h.err.msg,
                           "DEPTHWISE_CONV_2D: filter has 2 channels, expected input depth 2 x "
                           "depth multiplier 2"));
    p.depth_multiplier = 1;

    kh_per_channel(&h, tw, scales, NULL, 2, 0); /* depthwise filters are quantized along dim 3 */
    assert_int_equal(kh_prepare(&h, &nml_kernel_depthwise_conv_2d, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "quantized along dimension 0, expected 3"));
    kh_per_channel(&h, tw, scales, NULL, 2, 3);
    assert_int_equal(kh_prepare(&h, &nml_kernel_depthwise_conv_2d, &p), NML_OK);

    h.tensors[tw].dims[0] = 2;
    assert_int_equal(kh_prepare(&h, &nml_kernel_depthwise_conv_2d, &p), NML_E_SHAPE);
    assert_non_null(strstr(h.err.msg, "filter dimension 0 is 2, expected 1"));
    h.tensors[tw].dims[0] = 1;

    h.tensors[to].dims[2] = 1;
    assert_int_equal(kh_prepare(&h, &nml_kernel_depthwise_conv_2d, &p), NML_E_SHAPE);
    assert_non_null(strstr(h.err.msg, "output shape 1x1x1x2 does not match the computed 1x1x2x2"));
    h.tensors[to].dims[2] = 2;

    h.tensors[to].type = NML_FLOAT32;
    assert_int_equal(kh_prepare(&h, &nml_kernel_depthwise_conv_2d, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "output has type float32, expected int8"));
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_depth_multiplier2_same),
        cmocka_unit_test(float_dilation2),
        cmocka_unit_test(int8_per_channel_stride2_zero_points),
        cmocka_unit_test(prepare_rejects_bad_nodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
