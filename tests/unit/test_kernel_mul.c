/* MUL: broadcasting, fused activation and TFLite's int8 requantization, worked out by hand
 * including the double rounding of the fixed-point multiply. */
#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static void float_broadcast(void **state) {
    (void)state;
    /* [2,1,2] * [1,3,1] -> [2,3,2]; out[i][j][k] = a[i][k] * b[j] */
    float a[4] = {1, 2, 3, 4}, b[3] = {1, 10, -1}, out[12];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_FLOAT32, 3, (int32_t[]){2, 1, 2}, a, 0, 0},
                   (kh_spec){NML_FLOAT32, 3, (int32_t[]){1, 3, 1}, b, 0, 0},
                   (kh_spec){NML_FLOAT32, 3, (int32_t[]){2, 3, 2}, out, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_mul, &p);
    kh_expect_f32(out, (const float[]){1, 2, 10, 20, -1, -2, 3, 4, 30, 40, -3, -4}, 12);
    kh_free(&h);
}

/* scales 0.5 * 0.5 / 0.75 = 1/3 -> significand round(2/3 * 2^31) = 1431655765, shift -1.
 * q = rdbpot(srdhm(prod, 1431655765), 1) where srdhm rounds (prod * 1431655765 + 2^30) / 2^31
 * toward zero for positive products. */
static void int8_double_rounding(void **state) {
    (void)state;
    int8_t a[7] = {3, 1, 2, 3, -1, 127, -128}, b[7] = {5, 1, 1, 1, 1, 127, 127}, out[7];
    nml_kh h;
    kh_init(&h);
    const int to = kh_binary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){7}, a, 0.5f, 0},
                                  (kh_spec){NML_INT8, 1, (int32_t[]){7}, b, 0.5f, 0},
                                  (kh_spec){NML_INT8, 1, (int32_t[]){7}, out, 0.75f, 0});
    const int ta = KH_INPUT;
    const int tb = KH_INPUT2;
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_mul, &p);
    /* 15: (21474836475 + 2^30) / 2^31 = 10.49 -> 10, /2 = 5           (exact: 5)
     * 1:  (1431655765 + 2^30) / 2^31 = 1.17 -> 1, /2 = 0.5 -> 1        (exact 0.33 would be 0)
     * 2:  (2863311530 + 2^30) / 2^31 = 1.83 -> 1, /2 -> 1              (exact 0.67)
     * 3:  (4294967295 + 2^30) / 2^31 = 2.4999999995 -> 2, /2 = 1       (exact 1)
     * -1: (-1431655765 - 2^30 + 1) / 2^31 = -1.17 -> -1, /2 = -0.5 -> -1
     * 16129 / 3 = 5376.3 -> 127; -16256 / 3 -> -128 */
    kh_expect_i8(out, (const int8_t[]){5, 1, 1, 1, -1, 127, -128}, 7);
    /* zero points: in 1 and -2, out 5: (4-1) * (3+2) = 15 -> 5 + 5 = 10 */
    a[0] = 4, b[0] = 3;
    h.tensors[ta].zero_point = 1;
    h.tensors[tb].zero_point = -2;
    h.tensors[to].zero_point = 5;
    KH_EXPECT_OK(&h, &nml_kernel_mul, &p);
    assert_int_equal(out[0], 10);
    /* RELU: lower bound is the output zero point 5; (1-1)*(1+2) = 0 -> 5, (-1-1)*(1+2) = -6
     * -> -2 + 5 = 3 -> 5 */
    a[1] = 1, b[1] = 1, a[2] = -1, b[2] = 1;
    p.activation = NML_ACT_RELU;
    KH_EXPECT_OK(&h, &nml_kernel_mul, &p);
    assert_int_equal(out[0], 10);
    assert_int_equal(out[1], 5);
    assert_int_equal(out[2], 5);
    kh_free(&h);
}

static void int8_broadcast_constant(void **state) {
    (void)state;
    /* YOLOv8n multiplies [1,2,8400] by a [1,1,1] constant; here [1,2,3] * [1,1,1] with
     * scales 1 * 0.5 / 1 = 0.5 -> significand 2^30, shift 0 */
    int8_t a[6] = {-3, -1, 0, 1, 3, 100}, c = 1, out[6];
    nml_kh h;
    kh_init(&h);
    int ta = kh_tensor(&h, NML_INT8, 3, (int32_t[]){1, 2, 3}, a, 1.0f, 0);
    int tc = kh_tensor(&h, NML_INT8, 3, (int32_t[]){1, 1, 1}, &c, 0.5f, 0);
    kh_const(&h, tc);
    int to = kh_tensor(&h, NML_INT8, 3, (int32_t[]){1, 2, 3}, out, 1.0f, 0);
    kh_inputs(&h, 2, ta, tc);
    kh_outputs(&h, 1, to);
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_mul, &p);
    /* x * 0.5 with exponent 0 is only the doubling high multiply, whose nudge rounds ties
     * toward +infinity: (-3 * 2^30 + 1 - 2^30) / 2^31 = -1.9999 -> -1 (so -1.5 -> -1),
     * -0.5 -> (-2^31 + 1) / 2^31 -> 0, 0.5 -> 1, 1.5 -> 2, 50 */
    kh_expect_i8(out, (const int8_t[]){-1, 0, 0, 1, 2, 50}, 6);
    kh_free(&h);
}

static void int32_mul(void **state) {
    (void)state;
    int32_t a[3] = {-3, 4, 65536}, b[3] = {5, 2, 65536}, out[3];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_INT32, 1, (int32_t[]){3}, a, 0, 0},
                   (kh_spec){NML_INT32, 1, (int32_t[]){3}, b, 0, 0},
                   (kh_spec){NML_INT32, 1, (int32_t[]){3}, out, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.activation = NML_ACT_RELU6;
    KH_EXPECT_OK(&h, &nml_kernel_mul, &p);
    /* -15 -> 0, 8 -> 6, 2^32 wraps to 0 */
    kh_expect_i32(out, (const int32_t[]){0, 6, 0}, 3);
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    int8_t q[4] = {0};
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){4}, q, 0.5f, 0},
                   (kh_spec){NML_INT8, 1, (int32_t[]){4}, q, 0.0f, 0},
                   (kh_spec){NML_INT8, 1, (int32_t[]){4}, q, 0.5f, 0});
    const int ta = KH_INPUT;
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_FAIL(&h, &nml_kernel_mul, &p, NML_E_FORMAT,
                   "MUL: input 1 (int8) needs a positive finite quantization scale");
    kh_inputs(&h, 2, ta, -1);
    KH_EXPECT_FAIL(&h, &nml_kernel_mul, &p, NML_E_FORMAT, "MUL: an input is missing");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_broadcast),
        cmocka_unit_test(int8_double_rounding),
        cmocka_unit_test(int8_broadcast_constant),
        cmocka_unit_test(int32_mul),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
