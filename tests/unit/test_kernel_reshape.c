/* RESHAPE: shape from the constant second input (int32/int64, one -1), from the new_shape
 * option, or from the output tensor; element count and output-shape checks. */
#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static void shape_input_with_wildcard(void **state) {
    (void)state;
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {0};
    int32_t shape[2] = {3, -1};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 3}, x, 0, 0},
                    (kh_spec){NML_INT32, 1, (int32_t[]){2}, shape, 0, 0},
                    (kh_spec){NML_FLOAT32, 2, (int32_t[]){3, 2}, y, 0, 0});
    const int ti = KH_INPUT;
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_reshape, &p);
    kh_expect_f32(y, x, 6); /* row-major order is unchanged */
    /* int64 shape {-1} -> 6 elements: the output [3,2] no longer matches */
    int64_t shape64[1] = {-1};
    int t64 = kh_tensor(&h, NML_INT64, 1, (int32_t[]){1}, shape64, 0, 0);
    kh_const(&h, t64);
    kh_inputs(&h, 2, ti, t64);
    KH_EXPECT_FAIL(&h, &nml_kernel_reshape, &p, NML_E_SHAPE,
                   "RESHAPE: output shape 3x2 does not match computed 6");
    kh_free(&h);
}

static void option_and_output_shape(void **state) {
    (void)state;
    int8_t x[4] = {1, -2, 3, -4}, y[4] = {0};
    nml_kh h;
    kh_init(&h);
    const int to = kh_unary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){4}, x, 0.5f, 3},
                                 (kh_spec){NML_INT8, 3, (int32_t[]){1, 2, 2}, y, 0.5f, 3});
    nml_op_params p;
    nml_op_params_default(&p); /* no option: the output shape is taken as is */
    KH_EXPECT_OK(&h, &nml_kernel_reshape, &p);
    kh_expect_i8(y, x, 4);
    p.new_shape_len = 3;
    p.new_shape[0] = 1, p.new_shape[1] = -1, p.new_shape[2] = 2;
    KH_EXPECT_OK(&h, &nml_kernel_reshape, &p);
    p.new_shape[2] = 4;
    KH_EXPECT_FAIL(&h, &nml_kernel_reshape, &p, NML_E_SHAPE,
                   "RESHAPE: output shape 1x2x2 does not match computed 1x1x4");
    /* in place (the planner may alias input and output) */
    h.tensors[to].data = x;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_reshape, &p);
    kh_expect_i8(x, (const int8_t[]){1, -2, 3, -4}, 4);
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    float x[6] = {0}, y[6];
    int32_t two_wild[2] = {-1, -1}, bad[2] = {4, -1}, neg[2] = {-2, 3};
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){6}, x, 0, 0);
    int to = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 3}, y, 0, 0);
    int t5 = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){5}, y, 0, 0);
    int tw = kh_tensor(&h, NML_INT32, 1, (int32_t[]){2}, two_wild, 0, 0);
    int tb = kh_tensor(&h, NML_INT32, 1, (int32_t[]){2}, bad, 0, 0);
    int tn = kh_tensor(&h, NML_INT32, 1, (int32_t[]){2}, neg, 0, 0);
    int tq = kh_tensor(&h, NML_INT8, 2, (int32_t[]){2, 3}, y, 0.5f, 0);
    kh_const(&h, tw);
    kh_const(&h, tb);
    kh_const(&h, tn);
    nml_op_params p;
    nml_op_params_default(&p);
    kh_outputs(&h, 1, to);
    kh_inputs(&h, 2, ti, tw);
    KH_EXPECT_FAIL(&h, &nml_kernel_reshape, &p, NML_E_FORMAT,
                   "RESHAPE: new shape has more than one -1 (entries 0 and 1)");
    kh_inputs(&h, 2, ti, tb);
    KH_EXPECT_FAIL(&h, &nml_kernel_reshape, &p, NML_E_SHAPE,
                   "cannot infer the -1 entry: 6 elements are not a multiple of 4");
    kh_inputs(&h, 2, ti, tn);
    KH_EXPECT_FAIL(&h, &nml_kernel_reshape, &p, NML_E_FORMAT, "new shape entry 0 is -2");
    kh_inputs(&h, 1, ti);
    kh_outputs(&h, 1, t5);
    KH_EXPECT_FAIL(&h, &nml_kernel_reshape, &p, NML_E_SHAPE,
                   "RESHAPE: input 6 has 6 elements, output 5 has 5");
    kh_outputs(&h, 1, tq);
    KH_EXPECT_FAIL(&h, &nml_kernel_reshape, &p, NML_E_UNSUPPORTED,
                   "input type float32 differs from output type int8");
    p.new_shape_len = 7;
    kh_outputs(&h, 1, to);
    KH_EXPECT_FAIL(&h, &nml_kernel_reshape, &p, NML_E_LIMIT, "new_shape has 7 entries, at most 6");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shape_input_with_wildcard),
        cmocka_unit_test(option_and_output_shape),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
