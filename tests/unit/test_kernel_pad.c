/* PAD and PADV2: paddings per dimension, pad values (0, zero point, constant_values), int32 and
 * int64 paddings, and every prepare error. */
#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static nml_op_params none(void) {
    nml_op_params p;
    nml_op_params_default(&p);
    return p;
}

static void float_2d(void **state) {
    (void)state;
    /* [2,3] padded [[1,0],[0,2]] -> [3,5]: one row on top, two columns on the right */
    float x[6] = {1, 2, 3, 4, 5, 6}, y[15];
    int32_t pads[4] = {1, 0, 0, 2};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 3}, x, 0, 0},
                    (kh_spec){NML_INT32, 2, (int32_t[]){2, 2}, pads, 0, 0},
                    (kh_spec){NML_FLOAT32, 2, (int32_t[]){3, 5}, y, 0, 0});
    const int ti = KH_INPUT;
    const int tp = KH_OPERAND;
    nml_op_params p = none();
    KH_EXPECT_OK(&h, &nml_kernel_pad, &p);
    kh_expect_f32(y, (const float[]){0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0}, 15);
    /* PADV2 with constant 9.5 */
    float c = 9.5f;
    int tc = kh_tensor(&h, NML_FLOAT32, 0, NULL, &c, 0, 0);
    kh_const(&h, tc);
    kh_inputs(&h, 3, ti, tp, tc);
    KH_EXPECT_OK(&h, &nml_kernel_padv2, &p);
    kh_expect_f32(
        y, (const float[]){9.5f, 9.5f, 9.5f, 9.5f, 9.5f, 1, 2, 3, 9.5f, 9.5f, 4, 5, 6, 9.5f, 9.5f},
        15);
    kh_free(&h);
}

static void int8_image_style(void **state) {
    (void)state;
    /* YOLOv8n pads NHWC activations by one pixel: [1,2,2,1] with [[0,0],[1,1],[1,1],[0,0]],
     * int64 paddings here; the pad value is the zero point -5 */
    int8_t x[4] = {1, 2, 3, 4}, y[16];
    int64_t pads[8] = {0, 0, 1, 1, 1, 1, 0, 0};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT8, 4, (int32_t[]){1, 2, 2, 1}, x, 0.1f, -5},
                    (kh_spec){NML_INT64, 2, (int32_t[]){4, 2}, pads, 0, 0},
                    (kh_spec){NML_INT8, 4, (int32_t[]){1, 4, 4, 1}, y, 0.1f, -5});
    const int ti = KH_INPUT;
    const int tp = KH_OPERAND;
    nml_op_params p = none();
    KH_EXPECT_OK(&h, &nml_kernel_pad, &p);
    kh_expect_i8(y, (const int8_t[]){-5, -5, -5, -5, -5, 1, 2, -5, -5, 3, 4, -5, -5, -5, -5, -5},
                 16);
    /* PADV2 with an int8 constant in the output's quantization */
    int8_t c = 7;
    int tc = kh_tensor(&h, NML_INT8, 1, (int32_t[]){1}, &c, 0.1f, -5);
    kh_inputs(&h, 3, ti, tp, tc);
    KH_EXPECT_OK(&h, &nml_kernel_padv2, &p);
    assert_int_equal(y[0], 7);
    assert_int_equal(y[5], 1);
    kh_free(&h);
}

static void int32_and_rank1(void **state) {
    (void)state;
    int32_t x[2] = {-7, 8}, y[5], pads[2] = {2, 1};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT32, 1, (int32_t[]){2}, x, 0, 0},
                    (kh_spec){NML_INT32, 2, (int32_t[]){1, 2}, pads, 0, 0},
                    (kh_spec){NML_INT32, 1, (int32_t[]){5}, y, 0, 0});
    nml_op_params p = none();
    KH_EXPECT_OK(&h, &nml_kernel_pad, &p);
    kh_expect_i32(y, (const int32_t[]){0, 0, -7, 8, 0}, 5);
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    float x[4] = {0}, y[16];
    int32_t pads[4] = {1, 1, 1, 1}, negp[4] = {-1, 0, 0, 0}, short_p[2] = {1, 1};
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 2}, x, 0, 0);
    int tp = kh_tensor(&h, NML_INT32, 2, (int32_t[]){2, 2}, pads, 0, 0);
    int tn = kh_tensor(&h, NML_INT32, 2, (int32_t[]){2, 2}, negp, 0, 0);
    int ts = kh_tensor(&h, NML_INT32, 2, (int32_t[]){1, 2}, short_p, 0, 0);
    int to = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){4, 4}, y, 0, 0);
    int tbad = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){4, 3}, y, 0, 0);
    int tc2 = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){2}, y, 0, 0);
    int tci = kh_tensor(&h, NML_INT32, 0, NULL, y, 0, 0);
    kh_const(&h, tn);
    kh_const(&h, ts);
    nml_op_params p = none();
    kh_outputs(&h, 1, to);
    kh_inputs(&h, 2, ti, tp);
    KH_EXPECT_FAIL(&h, &nml_kernel_pad, &p, NML_E_UNSUPPORTED,
                   "PAD: paddings must be a constant tensor");
    kh_const(&h, tp);
    kh_inputs(&h, 2, ti, tn);
    KH_EXPECT_FAIL(&h, &nml_kernel_pad, &p, NML_E_FORMAT,
                   "PAD: negative padding -1,0 on dimension 0");
    kh_inputs(&h, 2, ti, ts);
    KH_EXPECT_FAIL(&h, &nml_kernel_pad, &p, NML_E_SHAPE,
                   "PAD: paddings has 2 values (rank 2), expected shape 2x2");
    kh_inputs(&h, 2, ti, tp);
    kh_outputs(&h, 1, tbad);
    KH_EXPECT_FAIL(&h, &nml_kernel_pad, &p, NML_E_SHAPE,
                   "PAD: output shape 4x3 does not match computed 4x4");
    kh_outputs(&h, 1, to);
    kh_inputs(&h, 3, ti, tp, tc2);
    KH_EXPECT_FAIL(&h, &nml_kernel_pad, &p, NML_E_FORMAT, "PAD: has 3 inputs, expected 2");
    KH_EXPECT_FAIL(&h, &nml_kernel_padv2, &p, NML_E_SHAPE,
                   "PADV2: constant_values has 2 elements, expected 1");
    kh_inputs(&h, 3, ti, tp, tci);
    KH_EXPECT_FAIL(&h, &nml_kernel_padv2, &p, NML_E_UNSUPPORTED,
                   "PADV2: constant_values has type int32, expected float32");
    /* padded dimensions past 2^31 - 1: 2 + (2^31 - 1), and 2 + 2^30 + 2^30 (neither padding
     * alone too large); 2 + (2^31 - 3) is the largest (then the output shape is wrong) */
    int32_t big1[4] = {0x7fffffff, 0, 0, 0}, big2[4] = {0x40000000, 0x40000000, 0, 0};
    int32_t edge[4] = {0x7ffffffd, 0, 0, 0};
    int tb1 = kh_tensor(&h, NML_INT32, 2, (int32_t[]){2, 2}, big1, 0, 0);
    int tb2 = kh_tensor(&h, NML_INT32, 2, (int32_t[]){2, 2}, big2, 0, 0);
    int te = kh_tensor(&h, NML_INT32, 2, (int32_t[]){2, 2}, edge, 0, 0);
    kh_const(&h, tb1);
    kh_const(&h, tb2);
    kh_const(&h, te);
    kh_inputs(&h, 2, ti, tb1);
    KH_EXPECT_FAIL(&h, &nml_kernel_pad, &p, NML_E_LIMIT, "PAD: padded dimension 0 is too large");
    kh_inputs(&h, 2, ti, tb2);
    KH_EXPECT_FAIL(&h, &nml_kernel_pad, &p, NML_E_LIMIT, "PAD: padded dimension 0 is too large");
    kh_inputs(&h, 2, ti, te);
    KH_EXPECT_FAIL(&h, &nml_kernel_pad, &p, NML_E_SHAPE,
                   "PAD: output shape 4x4 does not match computed 2147483647x2");
    kh_free(&h);

    int8_t q[4] = {0}, qo[16], c = 0;
    kh_init(&h);
    ti = kh_tensor(&h, NML_INT8, 2, (int32_t[]){2, 2}, q, 0.5f, 0);
    tp = kh_tensor(&h, NML_INT32, 2, (int32_t[]){2, 2}, pads, 0, 0);
    kh_const(&h, tp);
    to = kh_tensor(&h, NML_INT8, 2, (int32_t[]){4, 4}, qo, 0.25f, 0);
    int tc = kh_tensor(&h, NML_INT8, 0, NULL, &c, 0.5f, 1);
    kh_inputs(&h, 2, ti, tp);
    kh_outputs(&h, 1, to);
    KH_EXPECT_FAIL(&h, &nml_kernel_pad, &p, NML_E_UNSUPPORTED,
                   "PAD: input and output have different quantization (zero point 0 vs 0, "
                   "different scales)");
    h.tensors[to].scale = 0.5f;
    kh_inputs(&h, 3, ti, tp, tc);
    KH_EXPECT_FAIL(&h, &nml_kernel_padv2, &p, NML_E_UNSUPPORTED,
                   "PADV2: constant_values and output have different quantization (zero point 1 "
                   "vs 0)");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_2d),
        cmocka_unit_test(int8_image_style),
        cmocka_unit_test(int32_and_rank1),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
