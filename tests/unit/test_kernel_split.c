/* SPLIT and SPLIT_V: equal parts, sizes with one -1, negative axes, and prepare errors. */
#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static nml_op_params splits(int n) {
    nml_op_params p;
    nml_op_params_default(&p);
    p.num_splits = n;
    return p;
}

static void split_equal(void **state) {
    (void)state;
    /* [2,4] split in 2 along axis 1 -> two [2,2] */
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, a[4], b[4];
    int32_t axis = 1;
    nml_kh h;
    kh_init(&h);
    int tax = kh_tensor(&h, NML_INT32, 0, NULL, &axis, 0, 0);
    kh_const(&h, tax);
    int ti = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 4}, x, 0, 0);
    int ta = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 2}, a, 0, 0);
    int tb = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 2}, b, 0, 0);
    kh_inputs(&h, 2, tax, ti);
    kh_outputs(&h, 2, ta, tb);
    nml_op_params p = splits(2);
    KH_EXPECT_OK(&h, &nml_kernel_split, &p);
    kh_expect_f32(a, (const float[]){1, 2, 5, 6}, 4);
    kh_expect_f32(b, (const float[]){3, 4, 7, 8}, 4);
    axis = -2; /* axis 0 -> two [1,4]: not the output shapes */
    KH_EXPECT_FAIL(&h, &nml_kernel_split, &p, NML_E_SHAPE,
                   "SPLIT: output 0 shape 2x2 does not match computed 1x4");
    axis = 1;
    p = splits(3);
    KH_EXPECT_FAIL(&h, &nml_kernel_split, &p, NML_E_FORMAT,
                   "SPLIT: has 2 outputs, num_splits is 3");
    kh_free(&h);
}

static void split_v_sizes(void **state) {
    (void)state;
    /* int8 [3,2] split along axis -2 into sizes {1, -1} -> [1,2] and [2,2] */
    int8_t x[6] = {1, 2, 3, 4, 5, 6}, a[2], b[4];
    int32_t sizes[2] = {1, -1};
    int64_t axis = -2;
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_INT8, 2, (int32_t[]){3, 2}, x, 0.5f, 0);
    int ts = kh_tensor(&h, NML_INT32, 1, (int32_t[]){2}, sizes, 0, 0);
    int tax = kh_tensor(&h, NML_INT64, 1, (int32_t[]){1}, &axis, 0, 0);
    kh_const(&h, ts);
    kh_const(&h, tax);
    int ta = kh_tensor(&h, NML_INT8, 2, (int32_t[]){1, 2}, a, 0.5f, 0);
    int tb = kh_tensor(&h, NML_INT8, 2, (int32_t[]){2, 2}, b, 0.5f, 0);
    kh_inputs(&h, 3, ti, ts, tax);
    kh_outputs(&h, 2, ta, tb);
    nml_op_params p = splits(2);
    KH_EXPECT_OK(&h, &nml_kernel_split_v, &p);
    kh_expect_i8(a, (const int8_t[]){1, 2}, 2);
    kh_expect_i8(b, (const int8_t[]){3, 4, 5, 6}, 4);
    sizes[1] = 1;
    KH_EXPECT_FAIL(&h, &nml_kernel_split_v, &p, NML_E_SHAPE,
                   "SPLIT_V: size_splits add up to 2, dimension 0 has 3");
    sizes[0] = -1, sizes[1] = -1;
    KH_EXPECT_FAIL(&h, &nml_kernel_split_v, &p, NML_E_FORMAT,
                   "SPLIT_V: size_splits entry 1 is -1 (one -1 allowed)");
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    float x[6] = {0}, a[3], b[3];
    int32_t axis = 0;
    nml_kh h;
    kh_init(&h);
    int tax = kh_tensor(&h, NML_INT32, 0, NULL, &axis, 0, 0);
    int ti = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){6}, x, 0, 0);
    int ta = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){3}, a, 0, 0);
    int tb = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){3}, b, 0, 0);
    int tc = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){3}, b, 0, 0);
    kh_inputs(&h, 2, tax, ti);
    kh_outputs(&h, 2, ta, tb);
    nml_op_params p = splits(2);
    KH_EXPECT_FAIL(&h, &nml_kernel_split, &p, NML_E_UNSUPPORTED,
                   "SPLIT: axis must be a constant tensor");
    kh_const(&h, tax);
    axis = 1;
    KH_EXPECT_FAIL(&h, &nml_kernel_split, &p, NML_E_FORMAT,
                   "SPLIT: axis 1 is out of range for rank 1");
    axis = 0;
    p = splits(4);
    kh_outputs(&h, 4, ta, tb, tc, tc);
    KH_EXPECT_FAIL(&h, &nml_kernel_split, &p, NML_E_SHAPE,
                   "SPLIT: dimension 0 of size 6 does not split into 4 equal parts");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_equal),
        cmocka_unit_test(split_v_sizes),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
