/* TRANSPOSE: 2-D, the NHWC -> NCHW permutation YOLOv8n uses, rank 6, several element sizes,
 * int64 perm, and prepare errors. Expected values follow the definition
 * out[i0..ir] = in[i_perm^-1...]. */
#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static nml_op_params none(void) {
    nml_op_params p;
    nml_op_params_default(&p);
    return p;
}

static void two_d(void **state) {
    (void)state;
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6];
    int32_t perm[2] = {1, 0};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 3}, x, 0, 0},
                    (kh_spec){NML_INT32, 1, (int32_t[]){2}, perm, 0, 0},
                    (kh_spec){NML_FLOAT32, 2, (int32_t[]){3, 2}, y, 0, 0});
    nml_op_params p = none();
    KH_EXPECT_OK(&h, &nml_kernel_transpose, &p);
    kh_expect_f32(y, (const float[]){1, 4, 2, 5, 3, 6}, 6);
    kh_free(&h);
}

static void nhwc_to_nchw_int8(void **state) {
    (void)state;
    /* [1,2,3,4] perm [0,3,1,2] -> [1,4,2,3]; x[h][w][c] = 100h + 10w + c */
    int8_t x[24], y[24];
    for (int hh = 0; hh < 2; hh++)
        for (int w = 0; w < 3; w++)
            for (int c = 0; c < 4; c++)
                x[(hh * 3 + w) * 4 + c] = (int8_t)(50 * hh + 10 * w + c);
    int64_t perm[4] = {0, 3, 1, 2};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT8, 4, (int32_t[]){1, 2, 3, 4}, x, 0.5f, 0},
                    (kh_spec){NML_INT64, 1, (int32_t[]){4}, perm, 0, 0},
                    (kh_spec){NML_INT8, 4, (int32_t[]){1, 4, 2, 3}, y, 0.5f, 0});
    nml_op_params p = none();
    KH_EXPECT_OK(&h, &nml_kernel_transpose, &p);
    for (int c = 0; c < 4; c++)
        for (int hh = 0; hh < 2; hh++)
            for (int w = 0; w < 3; w++)
                assert_int_equal(y[(c * 2 + hh) * 3 + w], 50 * hh + 10 * w + c);
    kh_free(&h);
}

static void rank6_reverse_int16(void **state) {
    (void)state;
    /* dims 2,1,3,1,2,2 reversed -> 2,2,1,3,1,2 */
    int16_t x[24], y[24];
    for (int i = 0; i < 24; i++)
        x[i] = (int16_t)(i * 1000);
    int32_t perm[6] = {5, 4, 3, 2, 1, 0};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT16, 6, (int32_t[]){2, 1, 3, 1, 2, 2}, x, 0, 0},
                    (kh_spec){NML_INT32, 1, (int32_t[]){6}, perm, 0, 0},
                    (kh_spec){NML_INT16, 6, (int32_t[]){2, 2, 1, 3, 1, 2}, y, 0, 0});
    nml_op_params p = none();
    KH_EXPECT_OK(&h, &nml_kernel_transpose, &p);
    /* input index (a,0,c,0,e,f) has offset ((a*3 + c)*2 + e)*2 + f; output index (f,e,0,c,0,a)
     * has offset ((f*2 + e)*3 + c)*2 + a */
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 3; c++)
            for (int e = 0; e < 2; e++)
                for (int f = 0; f < 2; f++)
                    assert_int_equal(y[((f * 2 + e) * 3 + c) * 2 + a],
                                     x[((a * 3 + c) * 2 + e) * 2 + f]);
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    float x[6] = {0}, y[6];
    int32_t perm[2] = {1, 0}, dup[2] = {0, 0}, neg[2] = {-1, 0}, three[3] = {0, 1, 2};
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 3}, x, 0, 0);
    int tp = kh_tensor(&h, NML_INT32, 1, (int32_t[]){2}, perm, 0, 0);
    int td = kh_tensor(&h, NML_INT32, 1, (int32_t[]){2}, dup, 0, 0);
    int tn = kh_tensor(&h, NML_INT32, 1, (int32_t[]){2}, neg, 0, 0);
    int t3 = kh_tensor(&h, NML_INT32, 1, (int32_t[]){3}, three, 0, 0);
    int tf = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){2}, x, 0, 0);
    int to = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){3, 2}, y, 0, 0);
    int tbad = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 3}, y, 0, 0);
    kh_const(&h, td);
    kh_const(&h, tn);
    kh_const(&h, t3);
    kh_const(&h, tf);
    nml_op_params p = none();
    kh_outputs(&h, 1, to);
    kh_inputs(&h, 2, ti, tp);
    KH_EXPECT_FAIL(&h, &nml_kernel_transpose, &p, NML_E_UNSUPPORTED,
                   "TRANSPOSE: perm must be a constant tensor");
    kh_inputs(&h, 2, ti, td);
    KH_EXPECT_FAIL(&h, &nml_kernel_transpose, &p, NML_E_FORMAT,
                   "perm is not a permutation of 0..1 (entry 1 is 0)");
    kh_inputs(&h, 2, ti, tn);
    KH_EXPECT_FAIL(&h, &nml_kernel_transpose, &p, NML_E_FORMAT,
                   "perm is not a permutation of 0..1 (entry 0 is -1)");
    kh_inputs(&h, 2, ti, t3);
    KH_EXPECT_FAIL(&h, &nml_kernel_transpose, &p, NML_E_SHAPE,
                   "perm has 3 entries, input has rank 2");
    kh_inputs(&h, 2, ti, tf);
    KH_EXPECT_FAIL(&h, &nml_kernel_transpose, &p, NML_E_UNSUPPORTED,
                   "perm has type float32, expected int32 or int64");
    kh_const(&h, tp);
    kh_inputs(&h, 2, ti, tp);
    kh_outputs(&h, 1, tbad);
    KH_EXPECT_FAIL(&h, &nml_kernel_transpose, &p, NML_E_SHAPE,
                   "output shape 2x3 does not match computed 3x2");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_d),
        cmocka_unit_test(nhwc_to_nchw_int8),
        cmocka_unit_test(rank6_reverse_int16),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
