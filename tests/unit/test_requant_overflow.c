/* The output zero point added to a requantized value (nml_add_zp_clamp, qmath.h): when a
 * malformed model's scale ratio saturates the multiplier, the requantized value reaches the
 * int32 limits and the sum with the zero point would overflow int32 (undefined behaviour, which
 * the sanitizer build makes fatal). Each kernel that adds the zero point is run on such a node
 * here; the expected outputs are computed by hand below, and the helper itself is compared with
 * the sum formed in 64 bits, which is the result whenever the int32 sum does not overflow.
 *
 * The saturated multiplier: a scale ratio of 2^40 is beyond the largest representable one, so
 * the multiplier is significand 2^31 - 1 with exponent 30 (nml_quantize_multiplier). A
 * difference d = q - zp_in is then shifted left by 30 with int32 wrap-around (as the reference
 * does) and multiplied with TFLite's SaturatingRoundingDoublingHighMul, so only d mod 4 matters:
 *   d = 0 mod 4: (d << 30) = 0      -> 0
 *   d = 1 mod 4: (d << 30) = 2^30   -> (2^30 (2^31 - 1) + 2^30) / 2^31 = 2^30
 *   d = 2 mod 4: (d << 30) = -2^31  -> -(2^31 - 1)           (+ zero point -100: below int32)
 *   d = 3 mod 4: (d << 30) = -2^30  -> trunc((-2^61 + 1) / 2^31) = -(2^30 - 1)
 * With output zero point -100 and the int8 range, the outputs are -100, 127, -128, -128. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernel_harness.h"
#include "kernels/kernels.h"
#include "qmath.h"
#include "test_rng.h"

#define DIMS(...) ((const int32_t[]){__VA_ARGS__})
#define HUGE_RATIO 1099511627776.0f /* 2^40 */
#define OUT_SCALE (1.0f / HUGE_RATIO)
#define OUT_ZP -100

static nml_op_params defaults(void) {
    nml_op_params p;
    nml_op_params_default(&p);
    return p;
}

/* The hand-computed output for difference d (the table in the header comment). */
static int8_t saturated_output(int32_t d) {
    static const int8_t by_residue[4] = {OUT_ZP, 127, -128, -128};
    return by_residue[(uint32_t)d & 3u];
}

/* Every int8 value -128..127 as input, in order. */
static void all_int8(int8_t *x) {
    for (int i = 0; i < 256; i++)
        x[i] = (int8_t)(i - 128);
}

/* out[i] against saturated_output(x[i] - zp_in) for n elements. */
static void expect_saturated(const int8_t *x, int32_t zp_in, const int8_t *out, int n) {
    for (int i = 0; i < n; i++)
        if (out[i] != saturated_output(x[i] - zp_in))
            fail_msg("element %d (input %d): %d, expected %d", i, x[i], out[i],
                     saturated_output(x[i] - zp_in));
}

/* ---- the helper ---- */

static int32_t clamp64(int64_t s, int32_t lo, int32_t hi) {
    return s < lo ? lo : (s > hi ? hi : (int32_t)s);
}

static void helper_equals_the_sum_clamped_in_64_bits(void **state) {
    (void)state;
    rng_state = 0x5eed1234u;
    const int32_t edges[] = {INT32_MIN,
                             INT32_MIN + 1,
                             INT32_MIN + 127,
                             INT32_MIN + 128,
                             INT32_MAX,
                             INT32_MAX - 1,
                             INT32_MAX - 127,
                             INT32_MAX - 128,
                             0,
                             1,
                             -1,
                             1 << 30};
    const int32_t ranges[][2] = {{-128, 127}, {0, 255}, {-32768, 32767}, {-100, 127}, {5, 5}};
    for (int k = 0; k < 200000; k++) {
        /* the first values within 64 of an edge (wrapping past it is another int32), then any */
        const int32_t v = k < 12 * 129
                              ? (int32_t)((uint32_t)edges[k % 12] + (uint32_t)(k / 12 - 64))
                              : (int32_t)rnd();
        const int32_t *r = ranges[k % 5];
        const int32_t lo = r[0], hi = r[1];
        const int32_t zp = k % 7 == 0 ? rnd_in(-65536, 65535) : rnd_in(-32768, 32767);
        const int32_t got = nml_add_zp_clamp(v, zp, lo, hi);
        const int32_t want = clamp64((int64_t)v + zp, lo, hi);
        if (got != want) fail_msg("v %d zp %d [%d, %d]: %d, expected %d", v, zp, lo, hi, got, want);
    }
}

/* ---- kernels with the saturated multiplier (UBSan: no overflow) ---- */

static void quantize_kernels(void **state) {
    (void)state;
    const nml_kernel *const k[3] = {&nml_kernel_quantize, &nml_kernel_quantize_opt,
                                    &nml_kernel_quantize_opt_int8};
    int8_t x[256], out[256];
    all_int8(x);
    for (int j = 0; j < 3; j++) {
        /* 256 elements: the optimized kernels build their table at prepare; 8: computed */
        const int32_t sizes[2] = {256, 8};
        for (int s = 0; s < 2; s++) {
            const int32_t n = sizes[s];
            const int8_t *in = n == 256 ? x : x + 124; /* -4..3: every residue twice */
            nml_kh h;
            kh_init(&h);
            kh_unary_node(&h, (kh_spec){NML_INT8, 1, DIMS(n), (void *)in, 1.0f, 0},
                          (kh_spec){NML_INT8, 1, DIMS(n), out, OUT_SCALE, OUT_ZP});
            nml_op_params p = defaults();
            KH_EXPECT_OK(&h, k[j], &p);
            expect_saturated(in, 0, out, n);
            kh_free(&h);
        }
    }
}

static void quantize_int16_to_int8(void **state) {
    (void)state;
    /* int16 input, zero point 1000: the differences -4..3 again */
    int16_t x[8];
    int8_t d8[8], out[8];
    for (int i = 0; i < 8; i++) {
        x[i] = (int16_t)(1000 - 4 + i);
        d8[i] = (int8_t)(i - 4);
    }
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT16, 1, DIMS(8), x, 1.0f, 1000},
                  (kh_spec){NML_INT8, 1, DIMS(8), out, OUT_SCALE, OUT_ZP});
    nml_op_params p = defaults();
    KH_EXPECT_OK(&h, &nml_kernel_quantize, &p);
    expect_saturated(d8, 0, out, 8);
    kh_free(&h);
}

static void concatenation_requantized_input(void **state) {
    (void)state;
    /* input 0 requantized (scale 1 -> 2^-40), input 1 shares the output's quantization and is
     * copied */
    const nml_kernel *const k[2] = {&nml_kernel_concatenation, &nml_kernel_concatenation_opt};
    int8_t a[256], b[4] = {1, -2, 3, -4}, out[260];
    all_int8(a);
    for (int j = 0; j < 2; j++) {
        nml_kh h;
        kh_init(&h);
        int ta = kh_tensor(&h, NML_INT8, 2, DIMS(1, 256), a, 1.0f, 0);
        int tb = kh_tensor(&h, NML_INT8, 2, DIMS(1, 4), b, OUT_SCALE, OUT_ZP);
        int to = kh_tensor(&h, NML_INT8, 2, DIMS(1, 260), out, OUT_SCALE, OUT_ZP);
        kh_inputs(&h, 2, ta, tb);
        kh_outputs(&h, 1, to);
        nml_op_params p = defaults();
        p.axis = 1;
        KH_EXPECT_OK(&h, k[j], &p);
        expect_saturated(a, 0, out, 256);
        assert_memory_equal(out + 256, b, 4);
        kh_free(&h);
    }
}

static void mul_int8(void **state) {
    (void)state;
    /* (a - 0) * (b - (-1)) with b = 0: the product is a; ratio 1 * 1 / 2^-40 */
    int8_t a[256], b[1] = {0}, out[256];
    all_int8(a);
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_INT8, 1, DIMS(256), a, 1.0f, 0},
                   (kh_spec){NML_INT8, 1, DIMS(1), b, 1.0f, -1},
                   (kh_spec){NML_INT8, 1, DIMS(256), out, OUT_SCALE, OUT_ZP});
    nml_op_params p = defaults();
    KH_EXPECT_OK(&h, &nml_kernel_mul, &p);
    expect_saturated(a, 0, out, 256);
    kh_free(&h);
}

static void relu_family(void **state) {
    (void)state;
    /* RELU and RELU6 clamp below at the output zero point -100 (0 in real terms); above, 6 /
     * 2^-40 is beyond int8, so both keep 127 */
    const nml_kernel *const k[2] = {&nml_kernel_relu, &nml_kernel_relu6};
    int8_t x[256], out[256];
    all_int8(x);
    for (int j = 0; j < 2; j++) {
        nml_kh h;
        kh_init(&h);
        kh_unary_node(&h, (kh_spec){NML_INT8, 1, DIMS(256), x, 1.0f, 0},
                      (kh_spec){NML_INT8, 1, DIMS(256), out, OUT_SCALE, OUT_ZP});
        nml_op_params p = defaults();
        KH_EXPECT_OK(&h, k[j], &p);
        for (int i = 0; i < 256; i++) {
            const int8_t want = saturated_output(x[i]) < OUT_ZP ? OUT_ZP : saturated_output(x[i]);
            if (out[i] != want)
                fail_msg("%s input %d: %d, expected %d", k[j]->name, x[i], out[i], want);
        }
        kh_free(&h);
    }
}

static void leaky_relu_int8(void **state) {
    (void)state;
    /* alpha 0.5: the negative side's ratio 2^39 saturates as well, to the same multiplier */
    int8_t x[256], out[256];
    all_int8(x);
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT8, 1, DIMS(256), x, 1.0f, 0},
                  (kh_spec){NML_INT8, 1, DIMS(256), out, OUT_SCALE, OUT_ZP});
    nml_op_params p = defaults();
    p.alpha = 0.5f;
    KH_EXPECT_OK(&h, &nml_kernel_leaky_relu, &p);
    expect_saturated(x, 0, out, 256);
    kh_free(&h);
}

static void sum_and_mean_over_one_element(void **state) {
    (void)state;
    /* [256, 1] reduced over axis 1: each output is its one input rescaled (MEAN's rescaling path
     * folds the count 1 into the multiplier unchanged) */
    const nml_kernel *const k[2] = {&nml_kernel_sum, &nml_kernel_mean};
    int8_t x[256], out[256];
    int32_t axis[1] = {1};
    all_int8(x);
    for (int j = 0; j < 2; j++) {
        nml_kh h;
        kh_init(&h);
        kh_operand_node(&h, (kh_spec){NML_INT8, 2, DIMS(256, 1), x, 1.0f, 0},
                        (kh_spec){NML_INT32, 1, DIMS(1), axis, 0, 0},
                        (kh_spec){NML_INT8, 1, DIMS(256), out, OUT_SCALE, OUT_ZP});
        nml_op_params p = defaults();
        KH_EXPECT_OK(&h, k[j], &p);
        expect_saturated(x, 0, out, 256);
        kh_free(&h);
    }
}

static void mean_hw_rounding_division_near_int32_max(void **state) {
    (void)state;
    /* MEAN over H and W of a 1x256x256x1 input (n = 65536), zero point -128, scale 256, output
     * scale 1 + 2^-23: the multiplier of 256 / (1 + 2^-23) is significand 2^31 - 256 with
     * exponent 8. The inputs are 0 except one -1, so the sum of q - zp is 65536 * 128 - 1 =
     * 2^23 - 1; shifted left by 8 that is 2^31 - 256, and the doubling high multiply gives
     * floor(((2^31 - 256)^2 + 2^30) / 2^31) = 2^31 - 512. The reference then divides by n with
     * (acc + n / 2) / n, whose sum 2^31 - 512 + 32768 is beyond int32; the exact quotient is
     * 32768, which the int8 output clamps to 127. */
    enum { N = 256 * 256 };
    int8_t *x = calloc(N, 1), out[1];
    int32_t axis[2] = {1, 2};
    assert_non_null(x);
    x[12345] = -1;
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT8, 4, DIMS(1, 256, 256, 1), x, 256.0f, -128},
                    (kh_spec){NML_INT32, 1, DIMS(2), axis, 0, 0},
                    (kh_spec){NML_INT8, 4, DIMS(1, 1, 1, 1), out, 1.0f + 1.0f / 8388608.0f, 0});
    nml_op_params p = defaults();
    p.keep_dims = 1;
    KH_EXPECT_OK(&h, &nml_kernel_mean, &p);
    assert_int_equal(out[0], 127);
    kh_free(&h);
    free(x);
}

/* ---- weighted kernels (the zero-point sum wrapped around before: defined, but not the bound) */

typedef struct weighted_case {
    const nml_kernel *k;
    int rank;
} weighted_case;

static const weighted_case weighted[] = {
    {&nml_kernel_fully_connected, 2},   {&nml_kernel_fully_connected_opt, 2},
    {&nml_kernel_conv_2d, 4},           {&nml_kernel_conv_2d_opt, 4},
    {&nml_kernel_depthwise_conv_2d, 4}, {&nml_kernel_depthwise_conv_2d_opt, 4}};

static nml_op_params weighted_params(void) {
    nml_op_params p = defaults();
    p.stride_h = p.stride_w = 1;
    p.dilation_h = p.dilation_w = 1;
    p.depth_multiplier = 1;
    return p;
}

static void weighted_kernels_saturated_multiplier(void **state) {
    (void)state;
    /* 256 outputs of a 1x1 filter of weight 1, no bias: acc = input, ratio 1 * 1 / 2^-40 (x = 2:
     * -(2^31 - 1) - 100 wrapped to 127 before) */
    int8_t x[256], w[1] = {1}, out[256];
    all_int8(x);
    for (size_t j = 0; j < sizeof weighted / sizeof weighted[0]; j++) {
        const int r = weighted[j].rank;
        nml_kh h;
        kh_init(&h);
        kh_weighted_node(
            &h, (kh_spec){NML_INT8, r, r == 2 ? DIMS(256, 1) : DIMS(1, 1, 256, 1), x, 1.0f, 0},
            (kh_spec){NML_INT8, r, r == 2 ? DIMS(1, 1) : DIMS(1, 1, 1, 1), w, 1.0f, 0}, KH_NO_BIAS,
            (kh_spec){NML_INT8, r, r == 2 ? DIMS(256, 1) : DIMS(1, 1, 256, 1), out, OUT_SCALE,
                      OUT_ZP});
        nml_op_params p = weighted_params();
        KH_EXPECT_OK(&h, weighted[j].k, &p);
        for (int i = 0; i < 256; i++)
            if (out[i] != saturated_output(x[i]))
                fail_msg("%s input %d: %d, expected %d", weighted[j].k->name, x[i], out[i],
                         saturated_output(x[i]));
        kh_free(&h);
    }
}

static void convolutions_bias_near_int32_max(void **state) {
    (void)state;
    /* input 1 (scale 1 + 2^-15, zero point 0), weight 1 (scale 1 - 2^-15), bias 2^31 - 2:
     * acc = 2^31 - 1. The convolutions' multiplier (1 + 2^-15)(1 - 2^-15) / 1 = 1 - 2^-30,
     * exact in double, is significand 2^31 - 2 with exponent 0: floor(((2^31 - 1)(2^31 - 2) +
     * 2^30) / 2^31) = 2^31 - 3, and + zero point 10 is beyond int32: the output is 127 (the sum
     * wrapped to -2^31 + 7 before, giving -128). (FULLY_CONNECTED rounds the scale product to
     * float, which keeps its multiplier's significand 128 or more below 2^31: its int8 zero
     * point cannot overflow this side.) */
    for (size_t j = 2; j < sizeof weighted / sizeof weighted[0]; j++) {
        int8_t x[1] = {1}, w[1] = {1}, out[1] = {0};
        int32_t bias[1] = {INT32_MAX - 1};
        nml_kh h;
        kh_init(&h);
        kh_weighted_node(&h, (kh_spec){NML_INT8, 4, DIMS(1, 1, 1, 1), x, 1.0f + 1.0f / 32768.0f, 0},
                         (kh_spec){NML_INT8, 4, DIMS(1, 1, 1, 1), w, 1.0f - 1.0f / 32768.0f, 0},
                         (kh_spec){NML_INT32, 1, DIMS(1), bias, 1.0f, 0},
                         (kh_spec){NML_INT8, 4, DIMS(1, 1, 1, 1), out, 1.0f, 10});
        nml_op_params p = weighted_params();
        KH_EXPECT_OK(&h, weighted[j].k, &p);
        if (out[0] != 127) fail_msg("%s: %d, expected 127", weighted[j].k->name, out[0]);
        kh_free(&h);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(helper_equals_the_sum_clamped_in_64_bits),
        cmocka_unit_test(quantize_kernels),
        cmocka_unit_test(quantize_int16_to_int8),
        cmocka_unit_test(concatenation_requantized_input),
        cmocka_unit_test(mul_int8),
        cmocka_unit_test(relu_family),
        cmocka_unit_test(leaky_relu_int8),
        cmocka_unit_test(sum_and_mean_over_one_element),
        cmocka_unit_test(mean_hw_rounding_division_near_int32_max),
        cmocka_unit_test(weighted_kernels_saturated_multiplier),
        cmocka_unit_test(convolutions_bias_near_int32_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
