/* SQUEEZE and EXPAND_DIMS: shape rules and errors; data is copied unchanged. */
#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static void squeeze_all_and_listed(void **state) {
    (void)state;
    float x[3] = {1, 2, 3}, y[3];
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_FLOAT32, 4, (int32_t[]){1, 3, 1, 1}, x, 0, 0);
    int t3 = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){3}, y, 0, 0);
    int t31 = kh_tensor(&h, NML_FLOAT32, 3, (int32_t[]){1, 3, 1}, y, 0, 0);
    kh_inputs(&h, 1, ti);
    kh_outputs(&h, 1, t3);
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_squeeze, &p); /* no list: every size-1 dimension goes */
    kh_expect_f32(y, x, 3);
    p.squeeze_len = 1;
    p.squeeze_dims[0] = -1; /* only the last */
    kh_outputs(&h, 1, t31);
    KH_EXPECT_OK(&h, &nml_kernel_squeeze, &p);
    p.squeeze_dims[0] = 1;
    KH_EXPECT_FAIL(&h, &nml_kernel_squeeze, &p, NML_E_SHAPE,
                   "SQUEEZE: cannot squeeze dimension 1 of size 3");
    p.squeeze_dims[0] = 4;
    KH_EXPECT_FAIL(&h, &nml_kernel_squeeze, &p, NML_E_FORMAT, "axis 4 is out of range for rank 4");
    p.squeeze_dims[0] = 0;
    KH_EXPECT_FAIL(&h, &nml_kernel_squeeze, &p, NML_E_SHAPE,
                   "output shape 1x3x1 does not match computed 3x1x1");
    kh_free(&h);
}

static void expand_dims(void **state) {
    (void)state;
    int8_t x[6] = {1, 2, 3, 4, 5, 6}, y[6];
    int32_t axis = -1;
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT8, 2, (int32_t[]){2, 3}, x, 0.5f, 0},
                    (kh_spec){NML_INT32, 0, NULL, &axis, 0, 0},
                    (kh_spec){NML_INT8, 3, (int32_t[]){2, 3, 1}, y, 0.5f, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_expand_dims, &p); /* -1 appends */
    kh_expect_i8(y, x, 6);
    axis = 0;
    KH_EXPECT_FAIL(&h, &nml_kernel_expand_dims, &p, NML_E_SHAPE,
                   "EXPAND_DIMS: output shape 2x3x1 does not match computed 1x2x3");
    axis = 3;
    KH_EXPECT_FAIL(&h, &nml_kernel_expand_dims, &p, NML_E_FORMAT,
                   "axis 3 is out of range for rank 3");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(squeeze_all_and_listed),
        cmocka_unit_test(expand_dims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
