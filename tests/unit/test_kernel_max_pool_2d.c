/* MAX_POOL_2D against hand computations. */
#include <string.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernel_harness.h"
#include "kernels/kernels.h"

#define DIMS(...) ((const int32_t[]){__VA_ARGS__})

/* 3x3 input, 2x2 window, stride 2, SAME: out = ceil(3/2) = 2, total padding (2-1)*2 + 2 - 3 = 1,
 * all after. Windows: (0,0) = {x00 x01 x10 x11}, (0,1) = {x02 x12} (+ padding column),
 * (1,0) = {x20 x21} (+ padding row), (1,1) = {x22}. */
static nml_status run_pool(int type, void *in, void *out, float scale, int activation) {
    const nml_op_params p = kh_pool_params(NML_PAD_SAME, 2, 2, 2, 2, activation);
    return kh_run_pool(&nml_kernel_max_pool_2d, type, DIMS(1, 3, 3, 1), in, DIMS(1, 2, 2, 1), out,
                       scale, 0, &p);
}

static void max_float_ignores_padding(void **state) {
    (void)state;
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, out[4];
    assert_int_equal(run_pool(NML_FLOAT32, in, out, 0, 0), NML_OK);
    kh_expect_f32_near(out, (const float[]){5, 6, 8, 9}, 4);
    /* all negative: padding taps must not act as zeros: -1, max(-3, -6) = -3, -7, -9 */
    for (int i = 0; i < 9; i++)
        in[i] = -in[i];
    assert_int_equal(run_pool(NML_FLOAT32, in, out, 0, 0), NML_OK);
    kh_expect_f32_near(out, (const float[]){-1, -3, -7, -9}, 4);
}

static void max_same_3x3_leading_padding(void **state) {
    (void)state;
    /* x = -(1..9) (3x3), 3x3 window, stride 1, SAME: one padding row/column before and after;
     * padding taps must not act as zeros. Maxima of the taps inside:
     * (0,0) {-1 -2 -4 -5} -1; (0,1) {-1..-6} -1; (0,2) {-2 -3 -5 -6} -2;
     * (1,0) -1; (1,1) -1; (1,2) -2; (2,0) {-4 -5 -7 -8} -4; (2,1) -4; (2,2) {-5 -6 -8 -9} -5. */
    const nml_op_params p = kh_pool_params(NML_PAD_SAME, 3, 3, 1, 1, NML_ACT_NONE);
    float in[9] = {-1, -2, -3, -4, -5, -6, -7, -8, -9}, out[9];
    assert_int_equal(kh_run_pool(&nml_kernel_max_pool_2d, NML_FLOAT32, DIMS(1, 3, 3, 1), in,
                                 DIMS(1, 3, 3, 1), out, 0, 0, &p),
                     NML_OK);
    kh_expect_f32_near(out, (const float[]){-1, -1, -2, -1, -1, -2, -4, -4, -5}, 9);
    int8_t in8[9] = {-1, -2, -3, -4, -5, -6, -7, -8, -9}, out8[9];
    assert_int_equal(kh_run_pool(&nml_kernel_max_pool_2d, NML_INT8, DIMS(1, 3, 3, 1), in8,
                                 DIMS(1, 3, 3, 1), out8, 0.5f, 0, &p),
                     NML_OK);
    kh_expect_i8(out8, (const int8_t[]){-1, -1, -2, -1, -1, -2, -4, -4, -5}, 9);
}

static void max_int8_relu6(void **state) {
    (void)state;
    /* raw maxima 10, 12, 16, 18 (x = 2 * (1..9)); with scale 0.5 zp 0, RELU6 caps at
     * round(6 / 0.5) = 12 */
    int8_t in[9], out[4];
    for (int i = 0; i < 9; i++)
        in[i] = (int8_t)(2 * (i + 1));
    assert_int_equal(run_pool(NML_INT8, in, out, 0.5f, NML_ACT_NONE), NML_OK);
    kh_expect_i8(out, (const int8_t[]){10, 12, 16, 18}, 4);
    assert_int_equal(run_pool(NML_INT8, in, out, 0.5f, NML_ACT_RELU6), NML_OK);
    kh_expect_i8(out, (const int8_t[]){10, 12, 12, 12}, 4);
}

static void prepare_rejects_bad_nodes(void **state) {
    (void)state;
    int8_t in[9] = {0}, out[4];
    nml_kh h;
    kh_init(&h);
    kh_pool_node(&h, NML_INT8, DIMS(1, 3, 3, 1), in, DIMS(1, 2, 2, 1), out, 0.5f, 0);
    const int ti = 0; /* kh_pool_node: input 0, output 1 */
    nml_op_params p = kh_pool_params(NML_PAD_SAME, 2, 2, 2, 2, NML_ACT_NONE);
    assert_int_equal(kh_prepare(&h, &nml_kernel_max_pool_2d, &p), NML_OK);

    p.padding = NML_PAD_VALID; /* VALID 2x2 stride 2 over 3x3 gives 1x1 */
    assert_int_equal(kh_prepare(&h, &nml_kernel_max_pool_2d, &p), NML_E_SHAPE);
    assert_non_null(strstr(h.err.msg, "MAX_POOL_2D: output shape 1x2x2x1 does not match the "
                                      "computed 1x1x1x1"));
    p.padding = NML_PAD_SAME;

    p.filter_w = 0;
    assert_int_equal(kh_prepare(&h, &nml_kernel_max_pool_2d, &p), NML_E_SHAPE);
    assert_non_null(strstr(h.err.msg, "filter width is 0, must be >= 1"));
    p.filter_w = 2;

    h.tensors[ti].type = NML_INT16;
    assert_int_equal(kh_prepare(&h, &nml_kernel_max_pool_2d, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "input type int16 is not supported"));
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(max_float_ignores_padding),
        cmocka_unit_test(max_same_3x3_leading_padding),
        cmocka_unit_test(max_int8_relu6),
        cmocka_unit_test(prepare_rejects_bad_nodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
