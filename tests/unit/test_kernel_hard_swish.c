/* HARD_SWISH: float definition and TFLite's int8 16-bit fixed-point pipeline traced by hand.
 * Quantization: input and output scale 1/16, zero point 0.
 *   hires scale = (1/128) * (1/16) = 2^-11; output multiplier 2^-11 / 2^-4 = 2^-7 -> Q31
 *   2^30, exponent -6 -> Q15 (2^30 + 2^15) >> 16 = 16384.
 *   relu-ish multiplier 2^-11 / (3 / 32768) = 16/3 -> float 5.33333349 -> Q31 1431655808,
 *   exponent 3 -> Q15 21845. */
#include <math.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static void float_values(void **state) {
    (void)state;
    float x[6] = {-4, -3, -1, 0, 1, 4}, y[6];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_FLOAT32, 1, (int32_t[]){6}, x, 0, 0},
                  (kh_spec){NML_FLOAT32, 1, (int32_t[]){6}, y, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_hard_swish, &p);
    /* x * min(6, max(0, x + 3)) / 6 */
    kh_expect_f32(y, (const float[]){-0.0f, -0.0f, -1.0f * 2.0f / 6.0f, 0, 1.0f * 4.0f / 6.0f, 4},
                  6);
    kh_free(&h);
}

static void int8_pipeline(void **state) {
    (void)state;
    int8_t x[8] = {16, 8, -16, 24, 48, -48, 127, -128}, y[8];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){8}, x, 1.0f / 16, 0},
                  (kh_spec){NML_INT8, 1, (int32_t[]){8}, y, 1.0f / 16, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_hard_swish, &p);
    /* x = 16 (1.0): hires 16 * 128 = 2048; on output scale srdhm16(2048, 16384) = 1024;
     *   relu-ish: 2048 << 2 = 8192, srdhm16(8192, 21845) = 5461, << 1 = 10922,
     *   (10922 + 32768) >> 1 = 21845; sdhm16(21845, 1024) = 682; 682 / 2^6 = 10.66 -> 11
     *   (exact 1 * 4/6 * 16 = 10.67)
     * x = 8 (0.5): 1024 -> 512; 4096 -> 2731 -> 5462 -> 19115; sdhm16 = 298; 298 / 64 = 4.66
     *   -> 5 (exact 4.67)
     * x = -16 (-1.0): -2048 -> -1024; -8192 -> -5461 -> -10922 -> 10923; sdhm16 = -341;
     *   -341 / 64 = -5.33 -> -5 (exact -5.33)
     * x = 24 (1.5): 3072 -> 1536; 12288 -> 8192 -> 16384 -> 24576; 1152 / 64 = 18 (exact 18)
     * x = 48 (3.0): relu-ish saturates at 32767; sdhm16(32767, 3072) = 3071; 47.98 -> 48
     * x = -48 and -128: relu-ish saturates at -32768 -> 0 -> 0
     * x = 127: 8127 / 64 = 126.98 -> 127 */
    kh_expect_i8(y, (const int8_t[]){11, 5, -5, 18, 48, 0, 127, 0}, 8);
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    int8_t x[2] = {0}, y[2];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){2}, x, 1.0f, 0},
                  (kh_spec){NML_INT8, 1, (int32_t[]){2}, y, 1e-6f, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    /* (1/128) / 1e-6 > 1: TFLite refuses output multipliers above one */
    KH_EXPECT_FAIL(&h, &nml_kernel_hard_swish, &p, NML_E_UNSUPPORTED,
                   "HARD_SWISH: output scale is too small for the input scale");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_values),
        cmocka_unit_test(int8_pipeline),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
