/* MAXIMUM and MINIMUM with broadcasting; int8 compares raw values under one quantization. */
#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static void float_broadcast(void **state) {
    (void)state;
    float a[4] = {-1, 5, 2, 8}, b[2] = {3, 4}, y[4];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 2}, a, 0, 0},
                   (kh_spec){NML_FLOAT32, 1, (int32_t[]){2}, b, 0, 0},
                   (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 2}, y, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_maximum, &p);
    kh_expect_f32(y, (const float[]){3, 5, 3, 8}, 4);
    KH_EXPECT_OK(&h, &nml_kernel_minimum, &p);
    kh_expect_f32(y, (const float[]){-1, 4, 2, 4}, 4);
    kh_free(&h);
}

static void int8_and_errors(void **state) {
    (void)state;
    int8_t a[3] = {-128, 0, 127}, b = 1, y[3];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){3}, a, 0.5f, 1},
                   (kh_spec){NML_INT8, 0, NULL, &b, 0.5f, 1},
                   (kh_spec){NML_INT8, 1, (int32_t[]){3}, y, 0.5f, 1});
    const int tb = KH_INPUT2;
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_maximum, &p);
    kh_expect_i8(y, (const int8_t[]){1, 1, 127}, 3);
    KH_EXPECT_OK(&h, &nml_kernel_minimum, &p);
    kh_expect_i8(y, (const int8_t[]){-128, 0, 1}, 3);
    h.tensors[tb].zero_point = 2;
    KH_EXPECT_FAIL(&h, &nml_kernel_minimum, &p, NML_E_UNSUPPORTED,
                   "MINIMUM: input 1 and output have different quantization (zero point 2 vs 1)");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_broadcast),
        cmocka_unit_test(int8_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
