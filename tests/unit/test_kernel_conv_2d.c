/* CONV_2D against hand computations. int8 expectations follow TFLite's requantization
 * y = RDBPOT(SRDHM(acc, m), -e) + zp_out: the high multiply rounds half up, then the shift
 * rounds half away from zero, so a real multiplier of 1/4 is m = 2^30, e = -1 (two roundings). */
#include <string.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernel_harness.h"
#include "kernels/kernels.h"

#define DIMS(...) ((const int32_t[]){__VA_ARGS__})

static void float_valid_with_bias(void **state) {
    (void)state;
    /* input 3x3 = 1..9, 2x2 filter [1 2; 3 4], bias 0.5, VALID stride 1 -> 2x2:
     * (0,0) = 1*1 + 2*2 + 3*4 + 4*5 = 37; (0,1) = 2 + 6 + 15 + 24 = 47;
     * (1,0) = 4 + 10 + 21 + 32 = 67; (1,1) = 5 + 12 + 24 + 36 = 77; all + 0.5 */
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 2, 3, 4}, b[1] = {0.5f}, out[4];
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_FLOAT32, 4, DIMS(1, 3, 3, 1), in, 0, 0},
                     (kh_spec){NML_FLOAT32, 4, DIMS(1, 2, 2, 1), w, 0, 0},
                     (kh_spec){NML_FLOAT32, 1, DIMS(1), b, 0, 0},
                     (kh_spec){NML_FLOAT32, 4, DIMS(1, 2, 2, 1), out, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_VALID;
    assert_int_equal(kh_run(&h, &nml_kernel_conv_2d, &p), NML_OK);
    kh_expect_f32_near(out, (const float[]){37.5f, 47.5f, 67.5f, 77.5f}, 4);
    kh_free(&h);
}

static void float_same_stride2_pads_after(void **state) {
    (void)state;
    /* input 4x4, x[r][c] = 4r + c + 1; SAME, stride 2, 3x3 filter: out = ceil(4/2) = 2,
     * total padding = (2-1)*2 + 3 - 4 = 1, all of it after (TFLite puts the odd pixel at the
     * bottom/right). Channel 0 sums the window, channel 1 takes its centre tap.
     *   (0,0): rows 0-2, cols 0-2: 1+2+3+5+6+7+9+10+11 = 54, centre x[1][1] = 6
     *   (0,1): rows 0-2, cols 2-3: 3+4+7+8+11+12 = 45,      centre x[1][3] = 8
     *   (1,0): rows 2-3, cols 0-2: 9+10+11+13+14+15 = 72,   centre x[3][1] = 14
     *   (1,1): rows 2-3, cols 2-3: 11+12+15+16 = 54,         centre x[3][3] = 16 */
    float in[16], w[18] = {0}, out[8];
    for (int i = 0; i < 16; i++)
        in[i] = (float)(i + 1);
    for (int i = 0; i < 9; i++)
        w[i] = 1.0f; /* filter [2][3][3][1]: channel 0 all ones */
    w[9 + 4] = 1.0f; /* channel 1: centre tap (1,1) */
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_FLOAT32, 4, DIMS(1, 4, 4, 1), in, 0, 0},
                     (kh_spec){NML_FLOAT32, 4, DIMS(2, 3, 3, 1), w, 0, 0}, KH_NO_BIAS,
                     (kh_spec){NML_FLOAT32, 4, DIMS(1, 2, 2, 2), out, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_SAME;
    p.stride_h = p.stride_w = 2;
    assert_int_equal(kh_run(&h, &nml_kernel_conv_2d, &p), NML_OK);
    kh_expect_f32_near(out, (const float[]){54, 6, 45, 8, 72, 14, 54, 16}, 8);
    kh_free(&h);
}

static void float_dilation2_relu6(void **state) {
    (void)state;
    /* input 5x5, x[r][c] = 5r + c + 1; 2x2 ones filter with dilation 2 (effective 3x3), VALID:
     * out 3x3, out(y,x) = x[y][x] + x[y][x+2] + x[y+2][x] + x[y+2][x+2] = 28 + 20y + 4x
     * (e.g. (2,2) = 13 + 15 + 23 + 25 = 76). Bias -30, RELU6 clamps to [0, 6]:
     * row 0: -2 -> 0, 2, 6; rows 1-2: >= 18 -> 6. */
    float in[25], w[4] = {1, 1, 1, 1}, b[1] = {-30}, out[9];
    for (int i = 0; i < 25; i++)
        in[i] = (float)(i + 1);
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_FLOAT32, 4, DIMS(1, 5, 5, 1), in, 0, 0},
                     (kh_spec){NML_FLOAT32, 4, DIMS(1, 2, 2, 1), w, 0, 0},
                     (kh_spec){NML_FLOAT32, 1, DIMS(1), b, 0, 0},
                     (kh_spec){NML_FLOAT32, 4, DIMS(1, 3, 3, 1), out, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_VALID;
    p.dilation_h = p.dilation_w = 2;
    p.activation = NML_ACT_RELU6;
    assert_int_equal(kh_run(&h, &nml_kernel_conv_2d, &p), NML_OK);
    kh_expect_f32_near(out, (const float[]){0, 2, 6, 6, 6, 6, 6, 6, 6}, 9);
    kh_free(&h);
}

static void float_grouped(void **state) {
    (void)state;
    /* 4 input channels, filter depth 2 -> 2 groups; output 0 sees channels 0-1 with [1 1],
     * output 1 sees channels 2-3 with [1 -1]: x = [1 2 3 4] -> [3, -1] */
    float in[4] = {1, 2, 3, 4}, w[4] = {1, 1, 1, -1}, out[2];
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_FLOAT32, 4, DIMS(1, 1, 1, 4), in, 0, 0},
                     (kh_spec){NML_FLOAT32, 4, DIMS(2, 1, 1, 2), w, 0, 0}, KH_NO_BIAS,
                     (kh_spec){NML_FLOAT32, 4, DIMS(1, 1, 1, 2), out, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_run(&h, &nml_kernel_conv_2d, &p), NML_OK);
    kh_expect_f32_near(out, (const float[]){3, -1}, 2);
    kh_free(&h);
}

/* 1x1 convolution over 3 pixels, 2 input and 2 output channels, per-channel weights.
 * input scale 0.5 zp -1 (x - zp = q + 1), filter scales [0.5, 0.25], output scale 1 zp 20:
 * M0 = 0.5 * 0.5 / 1 = 0.25 (m 2^30, e -1), M1 = 0.125 (m 2^30, e -2).
 * filter c0 = [1 2], c1 = [-3 4]; bias [8, -16].
 * pixel [3 5] -> [4 6]:   c0 acc 4 + 12 + 8 = 24 -> 6 exactly -> 26
 *                         c1 acc -12 + 24 - 16 = -4 -> -0.5: SRDHM gives -2, shift -> -1 -> 19
 * pixel [-128 127] -> [-127 128]:
 *                         c0 acc -127 + 256 + 8 = 137 -> 34.25: SRDHM 69, 69/2 = 34.5 -> 35
 *                            (two roundings) -> 55
 *                         c1 acc 381 + 512 - 16 = 877 -> SRDHM 439, 439/4 = 109.75 -> 110
 *                            -> 130, saturates at 127
 * pixel [-128 -128] -> [-127 -127]:
 *                         c0 acc -127 - 254 + 8 = -373 -> SRDHM -186, /2 = -93 -> -73
 *                         c1 acc 381 - 508 - 16 = -143 -> SRDHM -71, /4 = -17.75 -> -18 -> 2 */
static nml_status run_int8_per_channel(int activation, int8_t *out) {
    static int8_t in[6] = {3, 5, -128, 127, -128, -128};
    static int8_t w[4] = {1, 2, -3, 4};
    static int32_t b[2] = {8, -16};
    static const float scales[2] = {0.5f, 0.25f};
    static const int64_t zps[2] = {0, 0};
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_INT8, 4, DIMS(1, 1, 3, 2), in, 0.5f, -1},
                     (kh_spec){NML_INT8, 4, DIMS(2, 1, 1, 2), w, 0.5f, 0},
                     (kh_spec){NML_INT32, 1, DIMS(2), b, 0, 0},
                     (kh_spec){NML_INT8, 4, DIMS(1, 1, 3, 2), out, 1.0f, 20});
    const int tw = KH_WEIGHTS;
    kh_per_channel(&h, tw, scales, zps, 2, 0);
    nml_op_params p;
    nml_op_params_default(&p);
    p.activation = (uint8_t)activation;
    nml_status st = kh_run(&h, &nml_kernel_conv_2d, &p);
    kh_free(&h);
    return st;
}

static void int8_per_channel_zero_points_bias_saturation(void **state) {
    (void)state;
    int8_t out[6];
    assert_int_equal(run_int8_per_channel(NML_ACT_NONE, out), NML_OK);
    kh_expect_i8(out, (const int8_t[]){26, 19, 55, 127, -73, 2}, 6);
}

static void int8_fused_relu_and_relu6(void **state) {
    (void)state;
    int8_t out[6];
    /* RELU: lower bound = zp + round(0 / 1) = 20 */
    assert_int_equal(run_int8_per_channel(NML_ACT_RELU, out), NML_OK);
    kh_expect_i8(out, (const int8_t[]){26, 20, 55, 127, 20, 20}, 6);
    /* RELU6: upper bound = zp + round(6 / 1) = 26 */
    assert_int_equal(run_int8_per_channel(NML_ACT_RELU6, out), NML_OK);
    kh_expect_i8(out, (const int8_t[]){26, 20, 26, 26, 20, 20}, 6);
}

static void int8_same_padding_skips_padded_taps(void **state) {
    (void)state;
    /* A single pixel with a 3x3 SAME filter: only the centre tap lies inside. The input zero
     * point is 10, so padded taps must contribute real 0 (be skipped), not w * (0 - 10):
     * acc = 1 * (14 - 10) = 4, M = 0.5 * 0.5 / 1 = 0.25 -> 1. Padding with raw zeros would give
     * 4 + 8 * (0 - 10) = -76 -> -19. */
    int8_t in[1] = {14}, w[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, out[1];
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_INT8, 4, DIMS(1, 1, 1, 1), in, 0.5f, 10},
                     (kh_spec){NML_INT8, 4, DIMS(1, 3, 3, 1), w, 0.5f, 0}, KH_NO_BIAS,
                     (kh_spec){NML_INT8, 4, DIMS(1, 1, 1, 1), out, 1.0f, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_SAME;
    assert_int_equal(kh_run(&h, &nml_kernel_conv_2d, &p), NML_OK);
    assert_int_equal(out[0], 1);
    kh_free(&h);
}

static void int8_double_rounding(void **state) {
    (void)state;
    /* M = 0.5 * 0.5 / 1 = 0.25 (m = 2^30, e = -1).
     * pixel 0: acc = 5: SRDHM(5, 2^30) = 3 (2.5 rounds up), RDBPOT(3, 1) = 2 (1.5 rounds away).
     *          TFLite's two roundings give 2 where rounding 1.25 once would give 1.
     * pixel 1: acc = 127: SRDHM = 64 (63.5 up), RDBPOT(64, 1) = 32 (31.75 -> 32) */
    int8_t in[2] = {5, 127}, w[1] = {1}, out[2];
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_INT8, 4, DIMS(1, 1, 2, 1), in, 0.5f, 0},
                     (kh_spec){NML_INT8, 4, DIMS(1, 1, 1, 1), w, 0.5f, 0}, KH_NO_BIAS,
                     (kh_spec){NML_INT8, 4, DIMS(1, 1, 2, 1), out, 1.0f, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_run(&h, &nml_kernel_conv_2d, &p), NML_OK);
    kh_expect_i8(out, (const int8_t[]){2, 32}, 2);
    /* weight -128: acc = -640 -> -160 and acc = -16256 -> -4064, both saturate at -128 */
    w[0] = -128;
    assert_int_equal(kh_run(&h, &nml_kernel_conv_2d, &p), NML_OK);
    kh_expect_i8(out, (const int8_t[]){-128, -128}, 2);
    kh_free(&h);
}

/* A small valid float conv the rejection tests modify one thing at a time. */
typedef struct conv_case {
    nml_kh h;
    float in[16], w[8], b[2], out[16];
    int ti, tw, tb, to;
    nml_op_params p;
} conv_case;

static void conv_case_init(conv_case *c) {
    memset(c, 0, sizeof *c);
    kh_init(&c->h);
    c->ti = kh_tensor(&c->h, NML_FLOAT32, 4, DIMS(1, 3, 3, 1), c->in, 0, 0);
    c->tw = kh_tensor(&c->h, NML_FLOAT32, 4, DIMS(2, 2, 2, 1), c->w, 0, 0);
    c->tb = kh_tensor(&c->h, NML_FLOAT32, 1, DIMS(2), c->b, 0, 0);
    c->to = kh_tensor(&c->h, NML_FLOAT32, 4, DIMS(1, 2, 2, 2), c->out, 0, 0);
    kh_inputs(&c->h, 3, c->ti, c->tw, c->tb);
    kh_outputs(&c->h, 1, c->to);
    nml_op_params_default(&c->p);
    c->p.padding = NML_PAD_VALID;
}

static void expect_reject(conv_case *c, nml_status st, const char *needle) {
    nml_status got = kh_prepare(&c->h, &nml_kernel_conv_2d, &c->p);
    if (got != st || !strstr(c->h.err.msg, needle))
        fail_msg("status %d message '%s', expected %d with '%s'", got, c->h.err.msg, st, needle);
    assert_non_null(strstr(c->h.err.msg, "CONV_2D: "));
    kh_free(&c->h);
}

static void prepare_rejects_bad_nodes(void **state) {
    (void)state;
    conv_case c;
    conv_case_init(&c);
    assert_int_equal(kh_prepare(&c.h, &nml_kernel_conv_2d, &c.p), NML_OK); /* the base is valid */
    kh_free(&c.h);

    conv_case_init(&c);
    c.h.tensors[c.to].dims[1] = 3; /* VALID 2x2 over 3x3 gives 2x2, not 3x2 */
    expect_reject(&c, NML_E_SHAPE, "output shape 1x3x2x2 does not match the computed 1x2x2x2");

    conv_case_init(&c);
    c.h.tensors[c.tw].type = NML_INT8;
    expect_reject(&c, NML_E_UNSUPPORTED, "filter has type int8, expected float32");

    conv_case_init(&c);
    c.h.tensors[c.tb].dims[0] = 3;
    expect_reject(&c, NML_E_SHAPE, "bias has 3 elements, expected 2");

    conv_case_init(&c);
    c.p.stride_w = 0;
    expect_reject(&c, NML_E_FORMAT, "stride along width is 0");

    conv_case_init(&c);
    c.p.activation = NML_ACT_TANH;
    expect_reject(&c, NML_E_UNSUPPORTED, "fused activation 4 is not supported");

    conv_case_init(&c);
    c.h.tensors[c.tw].dims[3] = 2; /* filter depth 2 does not divide input depth 1 */
    expect_reject(&c, NML_E_SHAPE, "filter depth 2 does not divide the input depth 1");

    conv_case_init(&c);
    c.h.tensors[c.ti].rank = 3;
    expect_reject(&c, NML_E_SHAPE, "input has rank 3, expected 4");

    conv_case_init(&c);
    kh_inputs(&c.h, 1, c.ti);
    expect_reject(&c, NML_E_FORMAT, "has 1 inputs, expected 2 to 3");
}

static void prepare_rejects_bad_int8_quantization(void **state) {
    (void)state;
    int8_t in[4] = {0}, w[2] = {0}, out[4];
    static const float scales3[3] = {0.5f, 0.5f, 0.5f};
    static const float scales2[2] = {0.5f, 0.5f};
    static const int64_t zps_nonzero[2] = {0, 3};
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_INT8, 4, DIMS(1, 1, 2, 1), in, 0.5f, 0},
                     (kh_spec){NML_INT8, 4, DIMS(2, 1, 1, 1), w, 0.5f, 0}, KH_NO_BIAS,
                     (kh_spec){NML_INT8, 4, DIMS(1, 1, 2, 2), out, 1.0f, 0});
    const int ti = KH_INPUT;
    const int tw = KH_WEIGHTS;
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_prepare(&h, &nml_kernel_conv_2d, &p), NML_OK);

    kh_per_channel(&h, tw, scales3, NULL, 3, 0); /* 3 scales for 2 output channels */
    assert_int_equal(kh_prepare(&h, &nml_kernel_conv_2d, &p), NML_E_FORMAT);
    assert_non_null(strstr(h.err.msg, "3 per-channel scales for 2 output channels"));

    kh_per_channel(&h, tw, scales2, NULL, 2, 3); /* conv filters are quantized along dim 0 */
    assert_int_equal(kh_prepare(&h, &nml_kernel_conv_2d, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "quantized along dimension 3, expected 0"));

    kh_per_channel(&h, tw, scales2, zps_nonzero, 2, 0);
    assert_int_equal(kh_prepare(&h, &nml_kernel_conv_2d, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "filter zero point 3 on channel 1"));

    kh_per_channel(&h, tw, scales2, NULL, 2, 0);
    h.tensors[ti].scale = 0.0f;
    assert_int_equal(kh_prepare(&h, &nml_kernel_conv_2d, &p), NML_E_FORMAT);
    assert_non_null(strstr(h.err.msg, "input (int8) needs a positive finite quantization scale"));
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_valid_with_bias),
        cmocka_unit_test(float_same_stride2_pads_after),
        cmocka_unit_test(float_dilation2_relu6),
        cmocka_unit_test(float_grouped),
        cmocka_unit_test(int8_per_channel_zero_points_bias_saturation),
        cmocka_unit_test(int8_fused_relu_and_relu6),
        cmocka_unit_test(int8_same_padding_skips_padded_taps),
        cmocka_unit_test(int8_double_rounding),
        cmocka_unit_test(prepare_rejects_bad_nodes),
        cmocka_unit_test(prepare_rejects_bad_int8_quantization),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
