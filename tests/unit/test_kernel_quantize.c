/* QUANTIZE and DEQUANTIZE: TFLite's AffineQuantize (double division, ties away from zero,
 * saturation), Requantize (fixed-point s_in / s_out) and Dequantize, worked out by hand. */
#include <math.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static nml_op_params no_params(void) {
    nml_op_params p;
    nml_op_params_default(&p);
    return p;
}

static void float_to_int8_uint8_int16(void **state) {
    (void)state;
    float x[6] = {1.25f, -1.25f, 100, -100, 0.24f, NAN};
    int8_t q8[6];
    uint8_t u8[6];
    int16_t q16[2];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_FLOAT32, 1, (int32_t[]){6}, x, 0, 0},
                  (kh_spec){NML_INT8, 1, (int32_t[]){6}, q8, 0.5f, -1});
    nml_op_params p = no_params();
    KH_EXPECT_OK(&h, &nml_kernel_quantize, &p);
    /* 2.5 -> 3 - 1 = 2; -2.5 -> -3 - 1 = -4; 200 -> 127; -200 -> -128; 0.48 -> 0 - 1;
     * NaN -> zero point (TFLite leaves this undefined) */
    kh_expect_i8(q8, (const int8_t[]){2, -4, 127, -128, -1, -1}, 6);

    int tu = kh_tensor(&h, NML_UINT8, 1, (int32_t[]){6}, u8, 0.5f, 128);
    kh_outputs(&h, 1, tu);
    KH_EXPECT_OK(&h, &nml_kernel_quantize, &p);
    kh_expect_u8(u8, (const uint8_t[]){131, 125, 255, 0, 128, 128}, 6);

    /* int16 at scale 0.001f: the quotient is formed in double as TFLite does:
     * 0.0015f / (double)0.001f = 1.49999994 -> 1 (in float it would be 1.5f -> 2);
     * 1.0f / 0.001f = 999.99995 -> 1000 */
    float y[2] = {0.0015f, 1.0f};
    int ty = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){2}, y, 0, 0);
    int t16 = kh_tensor(&h, NML_INT16, 1, (int32_t[]){2}, q16, 0.001f, 0);
    kh_inputs(&h, 1, ty);
    kh_outputs(&h, 1, t16);
    KH_EXPECT_OK(&h, &nml_kernel_quantize, &p);
    assert_int_equal(q16[0], 1);
    assert_int_equal(q16[1], 1000);
    kh_free(&h);
}

/* int8 (0.5, zp 1) -> int8 (0.75, zp -3): multiplier 2/3 -> significand 1431655765, exponent 0;
 * y = srdhm(x - 1, 1431655765) - 3 */
static void requantize_int8(void **state) {
    (void)state;
    int8_t x[4] = {4, 2, -128, 127}, y[4];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){4}, x, 0.5f, 1},
                  (kh_spec){NML_INT8, 1, (int32_t[]){4}, y, 0.75f, -3});
    nml_op_params p = no_params();
    KH_EXPECT_OK(&h, &nml_kernel_quantize, &p);
    /* 3: (3 * 1431655765 + 2^30) / 2^31 = 2.4999999995 -> 2, -3 -> -1
     * 1: 1.17 -> 1 -> -2;  -129: -86.49999998 -> -86 -> -89;  126: 84.49999998 -> 84 -> 81 */
    kh_expect_i8(y, (const int8_t[]){-1, -2, -89, 81}, 4);
    kh_free(&h);
}

static void requantize_between_int8_and_uint8(void **state) {
    (void)state;
    int8_t s[3] = {-128, 0, 127};
    uint8_t u[3];
    nml_kh h;
    kh_init(&h);
    int ts = kh_tensor(&h, NML_INT8, 1, (int32_t[]){3}, s, 0.5f, 0);
    int tu = kh_tensor(&h, NML_UINT8, 1, (int32_t[]){3}, u, 0.5f, 128);
    kh_inputs(&h, 1, ts);
    kh_outputs(&h, 1, tu);
    nml_op_params p = no_params();
    KH_EXPECT_OK(&h, &nml_kernel_quantize, &p); /* same scale, zero point +128 */
    kh_expect_u8(u, (const uint8_t[]){0, 128, 255}, 3);
    u[0] = 10, u[1] = 128, u[2] = 200;
    kh_inputs(&h, 1, tu);
    kh_outputs(&h, 1, ts);
    KH_EXPECT_OK(&h, &nml_kernel_quantize, &p);
    kh_expect_i8(s, (const int8_t[]){-118, 0, 72}, 3);
    kh_free(&h);
}

static void dequantize_types(void **state) {
    (void)state;
    int8_t q8[3] = {13, -128, 3};
    uint8_t u8[2] = {0, 255};
    int16_t q16[1] = {1000};
    float y[3];
    nml_kh h;
    kh_init(&h);
    int t8 = kh_tensor(&h, NML_INT8, 1, (int32_t[]){3}, q8, 0.1f, 3);
    int tu = kh_tensor(&h, NML_UINT8, 1, (int32_t[]){2}, u8, 0.5f, 128);
    int t16 = kh_tensor(&h, NML_INT16, 1, (int32_t[]){1}, q16, 0.001f, 0);
    int to3 = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){3}, y, 0, 0);
    int to2 = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){2}, y, 0, 0);
    int to1 = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){1}, y, 0, 0);
    nml_op_params p = no_params();
    kh_inputs(&h, 1, t8);
    kh_outputs(&h, 1, to3);
    KH_EXPECT_OK(&h, &nml_kernel_dequantize, &p);
    /* (double)0.1f * 10 = 1.0000000149 -> 1.0f; (double)0.1f * -131 = -13.1000001952 ->
     * nearest float -13.1000003815 (= -13.1f); 0 */
    kh_expect_f32(y, (const float[]){1.0f, -13.1f, 0.0f}, 3);
    kh_inputs(&h, 1, tu);
    kh_outputs(&h, 1, to2);
    KH_EXPECT_OK(&h, &nml_kernel_dequantize, &p);
    kh_expect_f32(y, (const float[]){-64.0f, 63.5f}, 2);
    kh_inputs(&h, 1, t16);
    kh_outputs(&h, 1, to1);
    KH_EXPECT_OK(&h, &nml_kernel_dequantize, &p);
    kh_expect_f32(y, (const float[]){1.0f}, 1);
    kh_free(&h);
}

static void dequantize_float16(void **state) {
    (void)state;
    /* IEEE half bit patterns */
    uint16_t x[10] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400,
                      0x7c00, 0xfc00, 0x8000, 0x3555, 0x7e00};
    float y[10];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_FLOAT16, 1, (int32_t[]){10}, x, 0, 0},
                  (kh_spec){NML_FLOAT32, 1, (int32_t[]){10}, y, 0, 0});
    nml_op_params p = no_params();
    KH_EXPECT_OK(&h, &nml_kernel_dequantize, &p);
    /* 1, -2, largest half 65504, smallest subnormal 2^-24, smallest normal 2^-14, +inf, -inf,
     * -0, 0x3555 = 1.0101010101b * 2^-2 = 0.333251953125, NaN */
    kh_expect_f32(y,
                  (const float[]){1, -2, 65504, 0x1p-24f, 0x1p-14f, INFINITY, -INFINITY, -0.0f,
                                  0.333251953125f, NAN},
                  10);
    assert_true(signbit(y[7]));
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    float f[2] = {0};
    int8_t q[2] = {0};
    int32_t i32[2] = {0};
    nml_kh h;
    kh_init(&h);
    int tf = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){2}, f, 0, 0);
    int tq = kh_tensor(&h, NML_INT8, 1, (int32_t[]){2}, q, 0.0f, 0);
    int ti = kh_tensor(&h, NML_INT32, 1, (int32_t[]){2}, i32, 0, 0);
    nml_op_params p = no_params();
    kh_inputs(&h, 1, tf);
    kh_outputs(&h, 1, tq);
    KH_EXPECT_FAIL(&h, &nml_kernel_quantize, &p, NML_E_FORMAT,
                   "QUANTIZE: output (int8) needs a positive finite quantization scale");
    kh_outputs(&h, 1, tf);
    KH_EXPECT_FAIL(&h, &nml_kernel_quantize, &p, NML_E_UNSUPPORTED,
                   "QUANTIZE: output type float32 is not supported");
    kh_inputs(&h, 1, ti);
    kh_outputs(&h, 1, tq);
    KH_EXPECT_FAIL(&h, &nml_kernel_quantize, &p, NML_E_UNSUPPORTED,
                   "QUANTIZE: input type int32 is not supported");
    kh_inputs(&h, 1, tq);
    kh_outputs(&h, 1, tf);
    KH_EXPECT_FAIL(&h, &nml_kernel_dequantize, &p, NML_E_FORMAT,
                   "DEQUANTIZE: input (int8) needs a positive finite quantization scale");
    kh_inputs(&h, 1, tf);
    KH_EXPECT_FAIL(&h, &nml_kernel_dequantize, &p, NML_E_UNSUPPORTED,
                   "DEQUANTIZE: input type float32 is not supported");
    h.tensors[tq].scale = 0.5f;
    kh_inputs(&h, 1, tq);
    kh_outputs(&h, 1, tq);
    KH_EXPECT_FAIL(&h, &nml_kernel_dequantize, &p, NML_E_UNSUPPORTED,
                   "DEQUANTIZE: output has type int8, expected float32");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_to_int8_uint8_int16),
        cmocka_unit_test(requantize_int8),
        cmocka_unit_test(requantize_between_int8_and_uint8),
        cmocka_unit_test(dequantize_types),
        cmocka_unit_test(dequantize_float16),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
