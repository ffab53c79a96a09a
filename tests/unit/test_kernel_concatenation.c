/* CONCATENATION: axes (negative too), copies when quantization matches, fixed-point
 * requantization when it does not (worked out by hand), and prepare errors. */
#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static nml_op_params axis(int a) {
    nml_op_params p;
    nml_op_params_default(&p);
    p.axis = a;
    return p;
}

static void float_axes(void **state) {
    (void)state;
    float a[4] = {1, 2, 3, 4}, b[2] = {5, 6}, y[6];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 2}, a, 0, 0},
                   (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 1}, b, 0, 0},
                   (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 3}, y, 0, 0});
    const int ta = KH_INPUT;
    nml_op_params p = axis(1);
    KH_EXPECT_OK(&h, &nml_kernel_concatenation, &p);
    kh_expect_f32(y, (const float[]){1, 2, 5, 3, 4, 6}, 6);
    p = axis(-1);
    KH_EXPECT_OK(&h, &nml_kernel_concatenation, &p);
    kh_expect_f32(y, (const float[]){1, 2, 5, 3, 4, 6}, 6);
    /* axis 0: [2,2] ++ [1,2] -> [3,2] */
    int tb0 = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){1, 2}, b, 0, 0);
    int to0 = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){3, 2}, y, 0, 0);
    kh_inputs(&h, 2, ta, tb0);
    kh_outputs(&h, 1, to0);
    p = axis(-2);
    KH_EXPECT_OK(&h, &nml_kernel_concatenation, &p);
    kh_expect_f32(y, (const float[]){1, 2, 3, 4, 5, 6}, 6);
    kh_free(&h);
}

static void int8_three_inputs_same_quant(void **state) {
    (void)state;
    /* YOLOv8n concatenates NHWC channels (axis 3) of equally quantized tensors: plain copies */
    int8_t a[2] = {1, 2}, b[4] = {3, 4, 5, 6}, c[2] = {-7, -8}, y[8];
    nml_kh h;
    kh_init(&h);
    int ta = kh_tensor(&h, NML_INT8, 4, (int32_t[]){1, 1, 2, 1}, a, 0.1f, 4);
    int tb = kh_tensor(&h, NML_INT8, 4, (int32_t[]){1, 1, 2, 2}, b, 0.1f, 4);
    int tc = kh_tensor(&h, NML_INT8, 4, (int32_t[]){1, 1, 2, 1}, c, 0.1f, 4);
    int to = kh_tensor(&h, NML_INT8, 4, (int32_t[]){1, 1, 2, 4}, y, 0.1f, 4);
    kh_inputs(&h, 3, ta, tb, tc);
    kh_outputs(&h, 1, to);
    nml_op_params p = axis(3);
    KH_EXPECT_OK(&h, &nml_kernel_concatenation, &p);
    kh_expect_i8(y, (const int8_t[]){1, 3, 4, -7, 2, 5, 6, -8}, 8);
    kh_free(&h);
}

/* input 0 (0.5, zp 1) differs from the output (0.75, zp -3): q = srdhm(x - 1, 1431655765) - 3
 * (multiplier 2/3, exponent 0); input 1 matches the output and is copied raw */
static void int8_requantizes_mismatched_input(void **state) {
    (void)state;
    int8_t a[3] = {4, 2, 127}, b[2] = {100, -100}, y[5];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){3}, a, 0.5f, 1},
                   (kh_spec){NML_INT8, 1, (int32_t[]){2}, b, 0.75f, -3},
                   (kh_spec){NML_INT8, 1, (int32_t[]){5}, y, 0.75f, -3});
    nml_op_params p = axis(0);
    KH_EXPECT_OK(&h, &nml_kernel_concatenation, &p);
    /* 3 -> 2.4999999995 -> 2 - 3 = -1; 1 -> 1.17 -> 1 - 3 = -2; 126 -> 84 - 3 = 81 */
    kh_expect_i8(y, (const int8_t[]){-1, -2, 81, 100, -100}, 5);
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    float a[4] = {0}, y[8];
    nml_kh h;
    kh_init(&h);
    int ta = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 2}, a, 0, 0);
    int tb = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){3, 2}, a, 0, 0);
    int t3 = kh_tensor(&h, NML_FLOAT32, 3, (int32_t[]){1, 2, 2}, a, 0, 0);
    int tq = kh_tensor(&h, NML_INT8, 2, (int32_t[]){2, 2}, a, 0.5f, 0);
    int to = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 4}, y, 0, 0);
    int to5 = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 5}, y, 0, 0);
    kh_outputs(&h, 1, to);
    kh_inputs(&h, 2, ta, ta);
    nml_op_params p = axis(2);
    KH_EXPECT_FAIL(&h, &nml_kernel_concatenation, &p, NML_E_FORMAT,
                   "CONCATENATION: axis 2 is out of range for rank 2");
    p = axis(-3);
    KH_EXPECT_FAIL(&h, &nml_kernel_concatenation, &p, NML_E_FORMAT, "axis -3 is out of range");
    p = axis(1);
    kh_inputs(&h, 2, ta, tb);
    KH_EXPECT_FAIL(&h, &nml_kernel_concatenation, &p, NML_E_SHAPE,
                   "input 1 shape 3x2 does not fit output 2x4 outside axis 1");
    kh_inputs(&h, 2, ta, t3);
    KH_EXPECT_FAIL(&h, &nml_kernel_concatenation, &p, NML_E_SHAPE,
                   "input 1 has rank 3, output has rank 2");
    kh_inputs(&h, 2, ta, tq);
    KH_EXPECT_FAIL(&h, &nml_kernel_concatenation, &p, NML_E_UNSUPPORTED,
                   "input 1 has type int8, expected float32");
    kh_inputs(&h, 2, ta, ta);
    kh_outputs(&h, 1, to5);
    KH_EXPECT_FAIL(&h, &nml_kernel_concatenation, &p, NML_E_SHAPE,
                   "inputs add up to 4 along axis 1, output has 5");
    kh_outputs(&h, 1, to);
    p.activation = NML_ACT_RELU;
    KH_EXPECT_FAIL(&h, &nml_kernel_concatenation, &p, NML_E_UNSUPPORTED,
                   "fused activation 1 is not supported");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_axes),
        cmocka_unit_test(int8_three_inputs_same_quant),
        cmocka_unit_test(int8_requantizes_mismatched_input),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
