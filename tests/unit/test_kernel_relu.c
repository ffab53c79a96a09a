/* RELU and RELU6: float clamps and TFLite Micro's int8 semantics worked out by hand. */
#include <math.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static nml_op_params no_params(void) {
    nml_op_params p;
    nml_op_params_default(&p);
    return p;
}

static void relu_float(void **state) {
    (void)state;
    float x[5] = {-2, -0.0f, 0.5f, 3, NAN}, y[5];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_FLOAT32, 1, (int32_t[]){5}, x, 0, 0},
                  (kh_spec){NML_FLOAT32, 1, (int32_t[]){5}, y, 0, 0});
    nml_op_params p = no_params();
    KH_EXPECT_OK(&h, &nml_kernel_relu, &p);
    kh_expect_f32(y, (const float[]){0, -0.0f, 0.5f, 3, NAN}, 5);
    KH_EXPECT_OK(&h, &nml_kernel_relu6, &p);
    x[3] = 7;
    KH_EXPECT_OK(&h, &nml_kernel_relu6, &p);
    kh_expect_f32(y, (const float[]){0, -0.0f, 0.5f, 6, NAN}, 5);
    kh_free(&h);
}

/* input scale 0.5 zp -10, output scale 0.25 zp 5: multiplier 2 = (2^30, exponent 2);
 * y = 5 + 2 * (x + 10), clamped below at the output zero point 5 */
static void relu_int8_requantizes(void **state) {
    (void)state;
    int8_t x[5] = {-20, -10, -9, 0, 60}, y[5];
    nml_kh h;
    kh_init(&h);
    const int to = kh_unary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){5}, x, 0.5f, -10},
                                 (kh_spec){NML_INT8, 1, (int32_t[]){5}, y, 0.25f, 5});
    nml_op_params p = no_params();
    KH_EXPECT_OK(&h, &nml_kernel_relu, &p);
    /* -20: 5 - 20 -> 5; -10: 5; -9: 7; 0: 25; 60: 145 -> 127 */
    kh_expect_i8(y, (const int8_t[]){5, 5, 7, 25, 127}, 5);
    /* same quantization: identity above the zero point */
    h.tensors[to].scale = 0.5f;
    h.tensors[to].zero_point = -10;
    KH_EXPECT_OK(&h, &nml_kernel_relu, &p);
    kh_expect_i8(y, (const int8_t[]){-10, -10, -9, 0, 60}, 5);
    kh_free(&h);
}

static void relu6_int8(void **state) {
    (void)state;
    int8_t x[4] = {-3, 5, 20, 127}, y[4];
    nml_kh h;
    kh_init(&h);
    const int to = kh_unary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){4}, x, 0.5f, 0},
                                 (kh_spec){NML_INT8, 1, (int32_t[]){4}, y, 0.5f, 0});
    const int ti = KH_INPUT;
    nml_op_params p = no_params();
    /* same quantization (TFLM): clamp to [0, round(6 / 0.5) = 12] */
    KH_EXPECT_OK(&h, &nml_kernel_relu6, &p);
    kh_expect_i8(y, (const int8_t[]){0, 5, 12, 12}, 4);
    /* scale 0.01: quantized 6 = 600 saturates to 127, so only the lower clamp acts */
    h.tensors[ti].scale = h.tensors[to].scale = 0.01f;
    KH_EXPECT_OK(&h, &nml_kernel_relu6, &p);
    kh_expect_i8(y, (const int8_t[]){0, 5, 20, 127}, 4);
    /* output (0.25, -128) differs from input (0.5, 0): y = -128 + 2x clamped to
     * [-128, -128 + round(6 / 0.25) = -104] */
    x[0] = -4, x[1] = 3, x[2] = 20, x[3] = 12;
    h.tensors[ti].scale = 0.5f;
    h.tensors[to].scale = 0.25f;
    h.tensors[to].zero_point = -128;
    KH_EXPECT_OK(&h, &nml_kernel_relu6, &p);
    kh_expect_i8(y, (const int8_t[]){-128, -122, -104, -104}, 4);
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    int8_t q[4] = {0};
    float f[4] = {0};
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_INT8, 1, (int32_t[]){4}, q, 0.5f, 0);
    int to = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){4}, f, 0, 0);
    int t3 = kh_tensor(&h, NML_INT8, 1, (int32_t[]){3}, q, 0.5f, 0);
    int t16 = kh_tensor(&h, NML_INT16, 1, (int32_t[]){4}, q, 0.5f, 0);
    kh_inputs(&h, 1, ti);
    kh_outputs(&h, 1, to);
    nml_op_params p = no_params();
    KH_EXPECT_FAIL(&h, &nml_kernel_relu, &p, NML_E_UNSUPPORTED,
                   "RELU: output has type float32, expected int8");
    kh_outputs(&h, 1, t3);
    KH_EXPECT_FAIL(&h, &nml_kernel_relu6, &p, NML_E_SHAPE,
                   "RELU6: input shape 4 does not match output shape 3");
    kh_inputs(&h, 1, t16);
    KH_EXPECT_FAIL(&h, &nml_kernel_relu, &p, NML_E_UNSUPPORTED,
                   "RELU: input type int16 is not supported");
    kh_inputs(&h, 2, ti, ti);
    KH_EXPECT_FAIL(&h, &nml_kernel_relu6, &p, NML_E_FORMAT, "RELU6: has 2 inputs, expected 1");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relu_float),
        cmocka_unit_test(relu_int8_requantizes),
        cmocka_unit_test(relu6_int8),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
