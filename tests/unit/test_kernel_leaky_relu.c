/* LEAKY_RELU: float definition and TFLite's two-multiplier int8 scheme worked out by hand. */
#include <math.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static void float_alpha(void **state) {
    (void)state;
    float x[4] = {-2, 0, 3, -0.5f}, y[4];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 2}, x, 0, 0},
                  (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 2}, y, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.alpha = 0.1f;
    KH_EXPECT_OK(&h, &nml_kernel_leaky_relu, &p);
    kh_expect_f32(y, (const float[]){-2.0f * 0.1f, 0, 3, -0.5f * 0.1f}, 4);
    kh_free(&h);
}

/* input (0.5, 0) -> output (0.25, 0), alpha 0.25: identity multiplier 0.5 / 0.25 = 2
 * = (2^30, exponent 2), alpha multiplier 0.5 * 0.25 / 0.25 = 0.5 = (2^30, exponent 0). */
static void int8_two_multipliers(void **state) {
    (void)state;
    int8_t x[6] = {10, -10, -3, -5, 100, -128}, y[6];
    nml_kh h;
    kh_init(&h);
    const int to = kh_unary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){6}, x, 0.5f, 0},
                                 (kh_spec){NML_INT8, 1, (int32_t[]){6}, y, 0.25f, 0});
    const int ti = KH_INPUT;
    nml_op_params p;
    nml_op_params_default(&p);
    p.alpha = 0.25f;
    KH_EXPECT_OK(&h, &nml_kernel_leaky_relu, &p);
    /* 10 -> 20; -10 -> -5; -3 * 0.5 = -1.5: the doubling high multiply rounds ties up -> -1;
     * -5 * 0.5 = -2.5 -> -2; 100 -> 200 -> 127; -128 -> -64 */
    kh_expect_i8(y, (const int8_t[]){20, -5, -1, -2, 127, -64}, 6);
    /* zero points: input 4, output -3: x = 14 -> 2 * 10 - 3 = 17; x = -6 -> -10 * 0.5 - 3 = -8 */
    x[0] = 14, x[1] = -6;
    h.tensors[ti].zero_point = 4;
    h.tensors[to].zero_point = -3;
    KH_EXPECT_OK(&h, &nml_kernel_leaky_relu, &p);
    assert_int_equal(y[0], 17);
    assert_int_equal(y[1], -8);
    kh_free(&h);
}

static void int8_negative_alpha(void **state) {
    (void)state;
    /* alpha -0.5: multiplier 0.5 * -0.5 / 0.25 = -1 = (-2^30, exponent 1): negative inputs
     * flip sign */
    int8_t x[3] = {-10, -128, 6}, y[3];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){3}, x, 0.5f, 0},
                  (kh_spec){NML_INT8, 1, (int32_t[]){3}, y, 0.25f, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.alpha = -0.5f;
    KH_EXPECT_OK(&h, &nml_kernel_leaky_relu, &p);
    kh_expect_i8(y, (const int8_t[]){10, 127, 12}, 3);
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    int8_t q[2] = {0};
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){2}, q, 0.5f, 0},
                  (kh_spec){NML_INT8, 1, (int32_t[]){2}, q, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.alpha = 0.2f;
    KH_EXPECT_FAIL(&h, &nml_kernel_leaky_relu, &p, NML_E_FORMAT,
                   "LEAKY_RELU: output (int8) needs a positive finite quantization scale");
    p.alpha = NAN;
    KH_EXPECT_FAIL(&h, &nml_kernel_leaky_relu, &p, NML_E_FORMAT,
                   "LEAKY_RELU: alpha is not a number");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_alpha),
        cmocka_unit_test(int8_two_multipliers),
        cmocka_unit_test(int8_negative_alpha),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
