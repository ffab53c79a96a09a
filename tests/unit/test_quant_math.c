/* The arithmetic of post-training quantization against hand computations written out below:
 * activation ranges to scale/zero point (TFLite converter rule), symmetric per-channel weights
 * (int8 and int4), int32 bias and its overflow guard, INT4 packing, float16 conversion (round to
 * nearest even, subnormals, infinities, NaN; all 65536 halves cross-checked with the runtime's
 * independent DEQUANTIZE kernel), histograms and the three calibrators. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "kernel_harness.h"
#include "kernels/kernels.h"
#include "nanoml/quantize.h"

#define DIMS(...) ((const int32_t[]){__VA_ARGS__})

static void expect_params(float lo, float hi, float want_scale, int32_t want_zp) {
    float s;
    int32_t zp;
    nml_quant_params(lo, hi, -128, 127, &s, &zp);
    if (s != want_scale || zp != want_zp)
        fail_msg("[%g, %g]: scale %.9g zp %d, want %.9g zp %d", (double)lo, (double)hi, (double)s,
                 zp, (double)want_scale, want_zp);
}

/* scale = (hi - lo) / 255 in float after widening to contain 0; zp = round(-128 - lo / scale)
 * with ties away from zero, clamped. */
static void activation_params(void **state) {
    (void)state;
    expect_params(0.0f, 6.0f, 6.0f / 255.0f, -128);  /* ReLU-like: zp at the bottom */
    expect_params(2.0f, 5.0f, 5.0f / 255.0f, -128);  /* widened to [0, 5] */
    expect_params(-3.0f, -1.0f, 3.0f / 255.0f, 127); /* widened to [-3, 0]: -128 + 255 */
    /* [-1, 1]: scale 2/255, -128 + 1 / (2/255) = -0.5 -> rounds away from zero to -1 */
    expect_params(-1.0f, 1.0f, 2.0f / 255.0f, -1);
    /* [-1, 3]: scale 4/255, -128 + 63.75 = -64.25 -> -64 */
    expect_params(-1.0f, 3.0f, 4.0f / 255.0f, -64);
    expect_params(0.0f, 0.0f, 1.0f, -128); /* {0}: any scale, nanoml uses 1 */
    float s;
    int32_t zp;
    /* uint8 grid: 2/255 rounds up in float (0.0078431377), so 0 - (-1 / scale) is 127.49999
     * in float, not 127.5: the zero point is 127 */
    nml_quant_params(-1.0f, 1.0f, 0, 255, &s, &zp);
    assert_true(s == 2.0f / 255.0f);
    assert_true(0.0f - (-1.0f / s) < 127.5f);
    assert_int_equal(zp, 127);
}

/* w = [[1, -2, 0.5], [0.25, 0, -0.125]]:
 *   per row (axis 0): scales 2/127 and 0.25/127; q = round(w * 127 / max):
 *     row 0: 63.5 -> 64, -127, 31.75 -> 32;  row 1: 127, 0, -63.5 -> -64
 *   per column (axis 1): maxima 1, 2, 0.5: col 0: 127, 31.75 -> 32; col 1: -127, 0;
 *     col 2: 127, -31.75 -> -32
 *   per tensor: max 2: 63.5 -> 64, -127, 31.75 -> 32, 15.875 -> 16, 0, -7.9375 -> -8 */
static void weights_per_channel(void **state) {
    (void)state;
    const float w[6] = {1.0f, -2.0f, 0.5f, 0.25f, 0.0f, -0.125f};
    float s[3];
    int8_t q[6];
    nml_error err;
    assert_int_equal(nml_weight_scales(w, 2, DIMS(2, 3), 0, 127, s, &err), NML_OK);
    assert_true(s[0] == 2.0f / 127.0f && s[1] == 0.25f / 127.0f);
    assert_int_equal(nml_quantize_weights(w, 2, DIMS(2, 3), 0, 127, s, q, &err), NML_OK);
    assert_memory_equal(q, ((const int8_t[]){64, -127, 32, 127, 0, -64}), 6);

    assert_int_equal(nml_weight_scales(w, 2, DIMS(2, 3), 1, 127, s, &err), NML_OK);
    assert_true(s[0] == 1.0f / 127.0f && s[1] == 2.0f / 127.0f && s[2] == 0.5f / 127.0f);
    assert_int_equal(nml_quantize_weights(w, 2, DIMS(2, 3), 1, 127, s, q, &err), NML_OK);
    assert_memory_equal(q, ((const int8_t[]){127, -127, 127, 32, 0, -32}), 6);

    assert_int_equal(nml_weight_scales(w, 2, DIMS(2, 3), -1, 127, s, &err), NML_OK);
    assert_true(s[0] == 2.0f / 127.0f);
    assert_int_equal(nml_quantize_weights(w, 2, DIMS(2, 3), -1, 127, s, q, &err), NML_OK);
    assert_memory_equal(q, ((const int8_t[]){64, -127, 32, 16, 0, -8}), 6);
}

/* Depthwise filters [1, KH, KW, C] are quantized along dimension 3 (innermost): channel c is
 * every C-th value. w = [1, 2, -4, 0.5] as 1x2x1x2: channel 0 = {1, -4}, channel 1 = {2, 0.5};
 * an all-zero channel gets scale 1. int4: scale max/7, [0.875, -0.4375, 0.125] (exact in binary):
 * reciprocal 7 / 0.875 = 8 -> 7, -3.5 -> -4, 1. */
static void weights_depthwise_zero_and_int4(void **state) {
    (void)state;
    nml_error err;
    const float w[4] = {1.0f, 2.0f, -4.0f, 0.5f};
    float s[2];
    int8_t q[4];
    assert_int_equal(nml_weight_scales(w, 4, DIMS(1, 2, 1, 2), 3, 127, s, &err), NML_OK);
    assert_true(s[0] == 4.0f / 127.0f && s[1] == 2.0f / 127.0f);
    assert_int_equal(nml_quantize_weights(w, 4, DIMS(1, 2, 1, 2), 3, 127, s, q, &err), NML_OK);
    assert_memory_equal(q, ((const int8_t[]){32, 127, -127, 32}), 4); /* 31.75, 63.5 -> 32 */

    const float z[4] = {0.0f, 1.0f, 0.0f, -1.0f};
    assert_int_equal(nml_weight_scales(z, 2, DIMS(2, 2), 1, 127, s, &err), NML_OK);
    assert_true(s[0] == 1.0f && s[1] == 1.0f / 127.0f);
    assert_int_equal(nml_quantize_weights(z, 2, DIMS(2, 2), 1, 127, s, q, &err), NML_OK);
    assert_memory_equal(q, ((const int8_t[]){0, 127, 0, -127}), 4);

    const float v[3] = {0.875f, -0.4375f, 0.125f};
    assert_int_equal(nml_weight_scales(v, 1, DIMS(3), -1, 7, s, &err), NML_OK);
    assert_true(s[0] == 0.125f);
    assert_int_equal(nml_quantize_weights(v, 1, DIMS(3), -1, 7, s, q, &err), NML_OK);
    assert_memory_equal(q, ((const int8_t[]){7, -4, 1}), 3);

    const float bad[2] = {1.0f, NAN};
    assert_int_equal(nml_weight_scales(bad, 1, DIMS(2), -1, 127, s, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "element 1"));
}

/* Bias scale = input_scale * weight_scale (float product); q = round(b / scale):
 *   input 0.5, weights {0.01, 0.02}: scales 0.005, 0.01; b = {0.5, -1.0} -> 100, -100.
 *   b = 3e7 at scale 0.005 is 6e9 > INT32_MAX -> saturates to INT32_MAX. */
static void bias_int32(void **state) {
    (void)state;
    const float ws[2] = {0.01f, 0.02f};
    int32_t q[2];
    float s[2];
    nml_quantize_bias((const float[]){0.5f, -1.0f}, 2, 0.5f, ws, 2, q, s);
    assert_true(s[0] == 0.5f * 0.01f && s[1] == 0.5f * 0.02f);
    assert_int_equal(q[0], 100);
    assert_int_equal(q[1], -100);
    nml_quantize_bias((const float[]){3e7f, -3e7f}, 2, 0.5f, ws, 1, q, s);
    assert_true(s[1] == 0.5f * 0.01f); /* one weight scale broadcast */
    assert_int_equal(q[0], INT32_MAX);
    assert_int_equal(q[1], -INT32_MAX);
}

/* Overflow guard: |b| >= 0.5 * 0.5 * 0.001 * 2147483647 = 536870.9 needs a larger weight scale
 * 2 * |b| / (2147483647 * 0.5): b = 2e6 -> 0.0037252903; b = 1000 leaves 0.001 alone. */
static void bias_overflow_guard(void **state) {
    (void)state;
    float ws[2] = {0.001f, 0.001f};
    assert_int_equal(
        nml_adjust_weight_scales_for_bias((const float[]){2e6f, 1000.0f}, 2, 0.5f, ws, 2), 1);
    assert_float_equal(ws[0], 4e6 / (2147483647.0 * 0.5), 1e-9);
    assert_true(ws[1] == 0.001f);
    float one = 0.001f;
    assert_int_equal(
        nml_adjust_weight_scales_for_bias((const float[]){100.0f, -2e6f}, 2, 0.5f, &one, 1), 1);
    assert_float_equal(one, 4e6 / (2147483647.0 * 0.5), 1e-9);
}

/* [1, 2, 3, -1, -8]: low nibble first -> 0x21, 0xF3, 0x08 (last high nibble empty). */
static void int4_packing(void **state) {
    (void)state;
    uint8_t p[3] = {0xaa, 0xaa, 0xaa};
    nml_int4_pack((const int8_t[]){1, 2, 3, -1, -8}, 5, p);
    assert_memory_equal(p, ((const uint8_t[]){0x21, 0xF3, 0x08}), 3);
}

static float f_of(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* binary16: 1 = 0x3C00, ulp at 1 is 2^-10; max 65504 = 0x7BFF; smallest subnormal 2^-24. */
static void float16_rounding(void **state) {
    (void)state;
    assert_int_equal(nml_f32_to_f16(1.0f), 0x3C00);
    assert_int_equal(nml_f32_to_f16(-2.0f), 0xC000);
    assert_int_equal(nml_f32_to_f16(0.1f), 0x2E66);                /* 0.0999755859375 (nearest) */
    assert_int_equal(nml_f32_to_f16(1.0f + 0x1p-11f), 0x3C00);     /* tie -> even (down) */
    assert_int_equal(nml_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3C02); /* tie -> even (up) */
    assert_int_equal(nml_f32_to_f16(1.0f + 0x1p-11f + 0x1p-20f), 0x3C01); /* above the tie */
    assert_int_equal(nml_f32_to_f16(65504.0f), 0x7BFF);
    assert_int_equal(nml_f32_to_f16(65519.0f), 0x7BFF);
    assert_int_equal(nml_f32_to_f16(65520.0f), 0x7C00); /* tie with 2^16: even is infinity */
    assert_int_equal(nml_f32_to_f16(1e10f), 0x7C00);
    assert_int_equal(nml_f32_to_f16(0x1p-24f), 0x0001);
    assert_int_equal(nml_f32_to_f16(0x1p-25f), 0x0000);        /* tie between 0 and 2^-24 */
    assert_int_equal(nml_f32_to_f16(1.5f * 0x1p-25f), 0x0001); /* above the tie */
    assert_int_equal(nml_f32_to_f16(3.0f * 0x1p-25f), 0x0002); /* tie 1.5 ulp -> even 2 */
    assert_int_equal(nml_f32_to_f16(1023.0f * 0x1p-24f), 0x03FF);
    assert_int_equal(nml_f32_to_f16(0x1p-14f), 0x0400);
    assert_int_equal(nml_f32_to_f16(0x1p-14f - 0x1p-26f), 0x0400); /* rounds up into normals */
    assert_int_equal(nml_f32_to_f16(1e-10f), 0x0000);
    assert_int_equal(nml_f32_to_f16(-0.0f), 0x8000);
    assert_int_equal(nml_f32_to_f16(INFINITY), 0x7C00);
    assert_int_equal(nml_f32_to_f16(-INFINITY), 0xFC00);
    const uint16_t nan = nml_f32_to_f16(NAN);
    assert_true((nan & 0x7C00) == 0x7C00 && (nan & 0x03FF) != 0);
    assert_true((nml_f32_to_f16(f_of(0x7f800001u)) & 0x03FF) != 0); /* signaling NaN stays NaN */
    assert_true(nml_f16_to_f32(0x0001) == 0x1p-24f);
    assert_true(nml_f16_to_f32(0x7BFF) == 65504.0f);
    assert_true(isinf(nml_f16_to_f32(0xFC00)) && nml_f16_to_f32(0xFC00) < 0);
    assert_true(isnan(nml_f16_to_f32(0x7E00)));
}

/* Every half converts to float and back unchanged (NaN stays NaN), agrees with the runtime's own
 * DEQUANTIZE float16 kernel, and midpoints between neighbours round to the even one. */
static void float16_exhaustive(void **state) {
    (void)state;
    static uint16_t all[65536];
    static float deq[65536];
    for (uint32_t i = 0; i < 65536; i++)
        all[i] = (uint16_t)i;
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_FLOAT16, 1, DIMS(65536), all, 0, 0);
    int to = kh_tensor(&h, NML_FLOAT32, 1, DIMS(65536), deq, 0, 0);
    kh_inputs(&h, 1, ti);
    kh_outputs(&h, 1, to);
    assert_int_equal(kh_run(&h, &nml_kernel_dequantize, NULL), NML_OK);
    kh_free(&h);
    for (uint32_t i = 0; i < 65536; i++) {
        const float f = nml_f16_to_f32((uint16_t)i);
        if (isnan(f)) {
            assert_true(isnan(deq[i]));
            const uint16_t back = nml_f32_to_f16(f);
            assert_true((back & 0x7C00) == 0x7C00 && (back & 0x3FF));
            continue;
        }
        if (memcmp(&f, &deq[i], 4) != 0) fail_msg("half 0x%04x: %g vs kernel %g", i, f, deq[i]);
        if (nml_f32_to_f16(f) != i) fail_msg("half 0x%04x does not round-trip", i);
        /* midpoint to the next half of the same sign (finite, below the largest) */
        if ((i & 0x7fff) < 0x7BFF) {
            const float g = nml_f16_to_f32((uint16_t)(i + 1));
            const double mid = ((double)f + (double)g) / 2.0;
            const uint16_t want = (i & 1) ? (uint16_t)(i + 1) : (uint16_t)i;
            if (nml_f32_to_f16((float)mid) != want)
                fail_msg("midpoint after 0x%04x: got 0x%04x, want 0x%04x", i,
                         nml_f32_to_f16((float)mid), want);
        }
    }
}

/* Bins over [-limit, limit): with limit 1 and 4096 bins the width is 1/2048; 0.999 lands in bin
 * floor(1.999 * 2048) = 4093. Growing to 4 by doubling twice merges it into (4093 + 2048) / 2 =
 * 3070, then (3070 + 2048) / 2 = 2559 = floor((0.999 + 4) / 8 * 4096): exact. A value equal to
 * the limit is counted in the top bin. */
static void histogram_bins_and_growth(void **state) {
    (void)state;
    nml_histogram *h = malloc(sizeof *h);
    nml_hist_init(h);
    assert_true(nml_hist_add(h, (const float[]){0.0f, 0.0f}, 2));
    assert_true(h->limit == 0.0);
    assert_true(nml_hist_add(h, (const float[]){1.0f, 0.999f, -0.5f}, 3));
    assert_true(h->limit == 1.0);
    assert_int_equal(h->bins[2048], 2); /* the two early zeros */
    assert_int_equal(h->bins[4093], 1);
    assert_int_equal(h->bins[4095], 1); /* 1.0 = limit: the last bin */
    assert_int_equal(h->bins[1024], 1); /* -0.5: (0.5) * 2048 */
    assert_true(nml_hist_add(h, (const float[]){3.0f}, 1));
    assert_true(h->limit == 4.0);
    /* 0.999 and 1.0 (kept in the top bin [1 - w, 1) while the limit was 1) */
    assert_int_equal(h->bins[2559], 2);
    assert_int_equal(h->bins[3584], 1); /* 3.0: 7/8 * 4096 */
    assert_int_equal(h->bins[2048], 2);
    assert_int_equal(h->total, 6);
    assert_true(h->min == -0.5f && h->max == 3.0f);
    assert_false(nml_hist_add(h, (const float[]){1.0f, NAN}, 2));
    assert_int_equal(h->total, 6);
    free(h);
}

static nml_histogram *hand_histogram(double limit, float min, float max) {
    nml_histogram *h = malloc(sizeof *h);
    nml_hist_init(h);
    h->limit = limit;
    h->min = min;
    h->max = max;
    return h;
}

static void put(nml_histogram *h, int bin, uint64_t count) {
    h->bins[bin] += count;
    h->total += count;
}

/* limit 1: width w = 1/2048, bin 2560 = [0.25, 0.25 + w). 9990 values there, 10 in bin 3891
 * (~0.9). P = 99.9: hi is where 9990 of 10000 values are reached: the top of bin 2560; lo is
 * where 10 are reached: 10/9990 into bin 2560. Min/max report the extremes. */
static void calibrator_minmax_percentile(void **state) {
    (void)state;
    nml_histogram *h = hand_histogram(1.0, 0.25f, 0.9f);
    put(h, 2560, 9990);
    put(h, 3891, 10);
    nml_error err;
    float lo, hi;
    assert_int_equal(nml_hist_range(h, NML_CALIB_MINMAX, 0, &lo, &hi, &err), NML_OK);
    assert_true(lo == 0.25f && hi == 0.9f);
    const double w = 1.0 / 2048.0;
    assert_int_equal(nml_hist_range(h, NML_CALIB_PERCENTILE, 99.9, &lo, &hi, &err), NML_OK);
    assert_float_equal(hi, 0.25 + w, 1e-7);
    assert_float_equal(lo, 0.25 + 10.0 / 9990.0 * w, 1e-7);
    assert_int_equal(nml_hist_range(h, NML_CALIB_PERCENTILE, 100.0, &lo, &hi, &err), NML_OK);
    assert_true(lo == 0.25f && hi == 0.9f);
    assert_int_equal(nml_hist_range(h, NML_CALIB_PERCENTILE, 40.0, &lo, &hi, &err), NML_E_ARG);
    nml_hist_init(h);
    assert_int_equal(nml_hist_range(h, NML_CALIB_MINMAX, 0, &lo, &hi, &err), NML_E_STATE);
    free(h);
}

/* Error model: scale 1, zero point -128 represents [0, 255]. A bin inside contributes
 * count * 1/12; limit 512 gives width 0.25: bin 3072 = [256, 256.25) lies above 255 and
 * contributes density * ((256.25 - 255)^3 - (256 - 255)^3) / 3 with density count / 0.25. */
static void quant_error_model(void **state) {
    (void)state;
    nml_histogram *h = hand_histogram(512.0, 0.0f, 256.25f);
    put(h, 2100, 12); /* [13, 13.25): inside */
    assert_float_equal(nml_hist_quant_error(h, 1.0f, -128), 12.0 / 12.0, 1e-12);
    put(h, 3072, 3);
    const double above = 3.0 / 0.25 * (1.25 * 1.25 * 1.25 - 1.0) / 3.0;
    assert_float_equal(nml_hist_quant_error(h, 1.0f, -128), 1.0 + above, 1e-9);
    free(h);
}

/* MSE: N values near 0.5 and one outlier near 100 (limit 128, width 1/16: bins 2056 and 3648 =
 * [100, 100.0625)). Clipping at h (scale h/255, zero point -128) costs about
 *   f(h) = N * (h/255)^2 / 12 + (100.03 - h)^2,
 * minimal at h* = 2 * 100.03 / (2 + 2N / (255^2 * 12)): 43.9 for N = 10^6. The calibrator
 * searches h in steps of max/256, so it must land within a step of h*; min/max would keep 100. */
static void calibrator_mse(void **state) {
    (void)state;
    nml_histogram *h = hand_histogram(128.0, 0.5f, 100.0625f);
    const double n = 1e6;
    put(h, 2056, (uint64_t)n);
    put(h, 3648, 1);
    nml_error err;
    float lo, hi;
    assert_int_equal(nml_hist_range(h, NML_CALIB_MSE, 0, &lo, &hi, &err), NML_OK);
    const double mid = 100.03125, want = 2.0 * mid / (2.0 + 2.0 * n / (255.0 * 255.0 * 12.0));
    if (fabs(hi - want) > 100.0625 / 256.0 + 1e-3)
        fail_msg("MSE picked %g, the hand optimum is %g", (double)hi, want);
    assert_true(lo == 0.0f);
    /* without the outlier the full range is best */
    nml_histogram *u = hand_histogram(1.0, -1.0f, 1.0f);
    for (int i = 0; i < NML_HIST_BINS; i++)
        put(u, i, 100);
    assert_int_equal(nml_hist_range(u, NML_CALIB_MSE, 0, &lo, &hi, &err), NML_OK);
    assert_true(hi > 0.99f && lo < -0.99f);
    free(h);
    free(u);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(activation_params),
        cmocka_unit_test(weights_per_channel),
        cmocka_unit_test(weights_depthwise_zero_and_int4),
        cmocka_unit_test(bias_int32),
        cmocka_unit_test(bias_overflow_guard),
        cmocka_unit_test(int4_packing),
        cmocka_unit_test(float16_rounding),
        cmocka_unit_test(float16_exhaustive),
        cmocka_unit_test(histogram_bins_and_growth),
        cmocka_unit_test(calibrator_minmax_percentile),
        cmocka_unit_test(quant_error_model),
        cmocka_unit_test(calibrator_mse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
