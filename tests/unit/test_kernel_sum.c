/* SUM and REDUCE_MAX: float, TFLite's integer sum requantization worked out by hand, raw int8
 * maxima, and errors. */
#include <float.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static nml_op_params keep(int k) {
    nml_op_params p;
    nml_op_params_default(&p);
    p.keep_dims = (uint8_t)k;
    return p;
}

static void sum_float_and_int8(void **state) {
    (void)state;
    float x[6] = {1, 2, 3, 4, 5, 6}, y[2];
    int32_t axis[1] = {1};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 3}, x, 0, 0},
                    (kh_spec){NML_INT32, 1, (int32_t[]){1}, axis, 0, 0},
                    (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 1}, y, 0, 0});
    nml_op_params p = keep(1);
    KH_EXPECT_OK(&h, &nml_kernel_sum, &p);
    kh_expect_f32(y, (const float[]){6, 15}, 2);
    kh_free(&h);

    /* int8 [2,3] (0.5, zp 1) summed over axis 1 into (2.0, zp -3): multiplier 0.25 =
     * (2^30, exponent -1); q = rdbpot(srdhm(sum - 3, 2^30), 1) - 3 */
    int8_t q[6] = {3, 5, 7, 1, 2, 1}, qy[2];
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT8, 2, (int32_t[]){2, 3}, q, 0.5f, 1},
                    (kh_spec){NML_INT32, 1, (int32_t[]){1}, axis, 0, 0},
                    (kh_spec){NML_INT8, 1, (int32_t[]){2}, qy, 2.0f, -3});
    p = keep(0);
    KH_EXPECT_OK(&h, &nml_kernel_sum, &p);
    /* row 0: 15 - 3 = 12 -> srdhm(12, 2^30) = 6 -> 6 / 2 = 3 -> 0   (real 6.0 / 2 = 3)
     * row 1: 4 - 3 = 1 -> srdhm = (2^30 + 2^30) / 2^31 = 1 -> 1 / 2 = 0.5 -> 1 -> -2 */
    kh_expect_i8(qy, (const int8_t[]){0, -2}, 2);
    kh_free(&h);
}

static void reduce_max(void **state) {
    (void)state;
    float x[6] = {1, 9, 3, -4, -5, -6}, y[3];
    int32_t axis[1] = {0};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 3}, x, 0, 0},
                    (kh_spec){NML_INT32, 1, (int32_t[]){1}, axis, 0, 0},
                    (kh_spec){NML_FLOAT32, 1, (int32_t[]){3}, y, 0, 0});
    const int ta = KH_OPERAND;
    nml_op_params p = keep(0);
    KH_EXPECT_OK(&h, &nml_kernel_reduce_max, &p);
    kh_expect_f32(y, (const float[]){1, 9, 3}, 3);
    int8_t q[6] = {-128, -7, 3, -100, -8, 2}, qy[2];
    int tq = kh_tensor(&h, NML_INT8, 2, (int32_t[]){2, 3}, q, 0.5f, 0);
    int tqo = kh_tensor(&h, NML_INT8, 1, (int32_t[]){2}, qy, 0.5f, 0);
    axis[0] = -1;
    kh_inputs(&h, 2, tq, ta);
    kh_outputs(&h, 1, tqo);
    KH_EXPECT_OK(&h, &nml_kernel_reduce_max, &p);
    kh_expect_i8(qy, (const int8_t[]){3, 2}, 2);
    h.tensors[tqo].scale = 0.25f;
    KH_EXPECT_FAIL(&h, &nml_kernel_reduce_max, &p, NML_E_UNSUPPORTED,
                   "REDUCE_MAX: input and output have different quantization");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sum_float_and_int8),
        cmocka_unit_test(reduce_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
