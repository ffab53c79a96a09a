/* GATHER: axes, negative axis, scalar index (FastestDet's channel shuffle), batch_dims, int64
 * indices, and out-of-range indices (error at prepare when constant, at eval otherwise, never
 * a read outside params). */
#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static nml_op_params gp(int axis, int batch_dims) {
    nml_op_params p;
    nml_op_params_default(&p);
    p.axis = axis;
    p.batch_dims = batch_dims;
    return p;
}

static void rows_and_columns(void **state) {
    (void)state;
    float x[6] = {1, 2, 3, 4, 5, 6}, y[4];
    int32_t idx[2] = {2, 0};
    nml_kh h;
    kh_init(&h);
    /* axis 0 of [3,2] with indices {2,0} -> rows 2 and 0 */
    int ti = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){3, 2}, x, 0, 0);
    int tx = kh_tensor(&h, NML_INT32, 1, (int32_t[]){2}, idx, 0, 0);
    int to = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 2}, y, 0, 0);
    kh_inputs(&h, 2, ti, tx);
    kh_outputs(&h, 1, to);
    nml_op_params p = gp(0, 0);
    KH_EXPECT_OK(&h, &nml_kernel_gather, &p);
    kh_expect_f32(y, (const float[]){5, 6, 1, 2}, 4);
    /* axis -1 of [2,3] with indices {2,0} -> columns 2 and 0 */
    int t23 = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 3}, x, 0, 0);
    kh_inputs(&h, 2, t23, tx);
    p = gp(-1, 0);
    KH_EXPECT_OK(&h, &nml_kernel_gather, &p);
    kh_expect_f32(y, (const float[]){3, 1, 6, 4}, 4);
    kh_free(&h);
}

static void scalar_index_int8_int64(void **state) {
    (void)state;
    /* [4,2] int8, scalar int64 index 3 on axis 0 -> [2] (rank drops by one) */
    int8_t x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[2];
    int64_t idx = 3;
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT8, 2, (int32_t[]){4, 2}, x, 0.5f, 1},
                    (kh_spec){NML_INT64, 0, NULL, &idx, 0, 0},
                    (kh_spec){NML_INT8, 1, (int32_t[]){2}, y, 0.5f, 1});
    nml_op_params p = gp(0, 0);
    KH_EXPECT_OK(&h, &nml_kernel_gather, &p);
    kh_expect_i8(y, (const int8_t[]){7, 8}, 2);
    kh_free(&h);
}

static void batch_dims(void **state) {
    (void)state;
    /* params [2,3], indices [2,2] = {{0,2},{1,1}}, axis 1, batch_dims 1 -> [2,2]:
     * out[b][j] = params[b][indices[b][j]] */
    float x[6] = {10, 11, 12, 20, 21, 22}, y[4];
    int32_t idx[4] = {0, 2, 1, 1};
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 3}, x, 0, 0},
                   (kh_spec){NML_INT32, 2, (int32_t[]){2, 2}, idx, 0, 0},
                   (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 2}, y, 0, 0});
    nml_op_params p = gp(1, 1);
    KH_EXPECT_OK(&h, &nml_kernel_gather, &p);
    kh_expect_f32(y, (const float[]){10, 12, 21, 21}, 4);
    p = gp(1, -1); /* -1 + indices rank 2 = 1 */
    KH_EXPECT_OK(&h, &nml_kernel_gather, &p);
    kh_expect_f32(y, (const float[]){10, 12, 21, 21}, 4);
    kh_free(&h);
}

static void out_of_range_indices(void **state) {
    (void)state;
    float x[6] = {0}, y[4] = {-1, -1, -1, -1};
    int32_t idx[2] = {1, 3};
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){3, 2}, x, 0, 0},
                   (kh_spec){NML_INT32, 1, (int32_t[]){2}, idx, 0, 0},
                   (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 2}, y, 0, 0});
    const int tx = KH_INPUT2;
    nml_op_params p = gp(0, 0);
    /* computed indices: prepare passes, eval refuses before copying anything */
    assert_int_equal(kh_prepare(&h, &nml_kernel_gather, &p), NML_OK);
    assert_int_equal(kh_eval(&h), NML_E_ARG);
    assert_non_null(strstr(h.err.msg, "GATHER: index 3 at position 1 is out of range [0, 3)"));
    kh_expect_f32(y, (const float[]){-1, -1, -1, -1}, 4);
    idx[1] = -1;
    assert_int_equal(kh_eval(&h), NML_E_ARG);
    assert_non_null(strstr(h.err.msg, "index -1 at position 1"));
    /* constant indices are checked at prepare */
    kh_const(&h, tx);
    KH_EXPECT_FAIL(&h, &nml_kernel_gather, &p, NML_E_ARG, "index -1 at position 1");
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    float x[6] = {0}, y[6];
    int32_t idx[2] = {0, 1};
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){3, 2}, x, 0, 0);
    int tx = kh_tensor(&h, NML_INT32, 1, (int32_t[]){2}, idx, 0, 0);
    int tfx = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){2}, idx, 0, 0);
    int to = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 2}, y, 0, 0);
    int tbad = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 3}, y, 0, 0);
    kh_outputs(&h, 1, to);
    kh_inputs(&h, 2, ti, tfx);
    nml_op_params p = gp(0, 0);
    KH_EXPECT_FAIL(&h, &nml_kernel_gather, &p, NML_E_UNSUPPORTED,
                   "GATHER: indices have type float32, expected int32 or int64");
    kh_inputs(&h, 2, ti, tx);
    p = gp(2, 0);
    KH_EXPECT_FAIL(&h, &nml_kernel_gather, &p, NML_E_FORMAT, "axis 2 is out of range for rank 2");
    p = gp(0, 1);
    KH_EXPECT_FAIL(&h, &nml_kernel_gather, &p, NML_E_FORMAT,
                   "batch_dims 1 is invalid for axis 0, params rank 2, indices rank 1");
    p = gp(0, 0);
    kh_outputs(&h, 1, tbad);
    KH_EXPECT_FAIL(&h, &nml_kernel_gather, &p, NML_E_SHAPE,
                   "output shape 2x3 does not match computed 2x2");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_and_columns), cmocka_unit_test(scalar_index_int8_int64),
        cmocka_unit_test(batch_dims),       cmocka_unit_test(out_of_range_indices),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
