/* AVERAGE_POOL_2D against hand computations. */
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
    return kh_run_pool(&nml_kernel_average_pool_2d, type, DIMS(1, 3, 3, 1), in, DIMS(1, 2, 2, 1),
                       out, scale, 0, &p);
}

static void average_float_counts_only_valid_taps(void **state) {
    (void)state;
    /* x = 1..9: (0,0) = (1+2+4+5)/4 = 3; (0,1) = (3+6)/2 = 4.5; (1,0) = (7+8)/2 = 7.5;
     * (1,1) = 9. Counting padding as zeros would give 4.5/2 = 2.25 etc. */
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, out[4];
    assert_int_equal(run_pool(NML_FLOAT32, in, out, 0, 0), NML_OK);
    kh_expect_f32_near(out, (const float[]){3, 4.5f, 7.5f, 9}, 4);
}

static void average_int8_rounds_half_away(void **state) {
    (void)state;
    /* same windows on raw int8: 12/4 = 3; 9/2 = 4.5 -> 5; 15/2 = 7.5 -> 8; 9 */
    int8_t in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, out[4];
    assert_int_equal(run_pool(NML_INT8, in, out, 0.5f, NML_ACT_NONE), NML_OK);
    kh_expect_i8(out, (const int8_t[]){3, 5, 8, 9}, 4);
    /* negated: -3; -4.5 -> -5; -7.5 -> -8; -9 (half away from zero, not toward +inf) */
    for (int i = 0; i < 9; i++)
        in[i] = (int8_t)-in[i];
    assert_int_equal(run_pool(NML_INT8, in, out, 0.5f, NML_ACT_NONE), NML_OK);
    kh_expect_i8(out, (const int8_t[]){-3, -5, -8, -9}, 4);
    /* RELU with zero point 0 clamps the negative averages to 0 */
    assert_int_equal(run_pool(NML_INT8, in, out, 0.5f, NML_ACT_RELU), NML_OK);
    kh_expect_i8(out, (const int8_t[]){0, 0, 0, 0}, 4);
}

static void average_same_3x3_leading_padding(void **state) {
    (void)state;
    /* x = 1..9 (3x3), 3x3 window, stride 1, SAME: one padding row/column before and after.
     * Averages over the taps inside: corners 4 taps, edges 6, centre 9:
     * (0,0) {1 2 4 5} 12/4 = 3; (0,1) {1..6} 21/6 = 3.5; (0,2) {2 3 5 6} 4;
     * (1,0) {1 2 4 5 7 8} 27/6 = 4.5; (1,1) 45/9 = 5; (1,2) 33/6 = 5.5;
     * (2,0) {4 5 7 8} 6; (2,1) {4..9} 39/6 = 6.5; (2,2) {5 6 8 9} 7.
     * int8 rounds the halves away from zero: 3 4 4 5 5 6 6 7 7. */
    const nml_op_params p = kh_pool_params(NML_PAD_SAME, 3, 3, 1, 1, NML_ACT_NONE);
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, out[9];
    assert_int_equal(kh_run_pool(&nml_kernel_average_pool_2d, NML_FLOAT32, DIMS(1, 3, 3, 1), in,
                                 DIMS(1, 3, 3, 1), out, 0, 0, &p),
                     NML_OK);
    kh_expect_f32_near(out, (const float[]){3, 3.5f, 4, 4.5f, 5, 5.5f, 6, 6.5f, 7}, 9);
    int8_t in8[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, out8[9];
    assert_int_equal(kh_run_pool(&nml_kernel_average_pool_2d, NML_INT8, DIMS(1, 3, 3, 1), in8,
                                 DIMS(1, 3, 3, 1), out8, 0.5f, 0, &p),
                     NML_OK);
    kh_expect_i8(out8, (const int8_t[]){3, 4, 4, 5, 5, 6, 6, 7, 7}, 9);
}

static void average_int8_thirds(void **state) {
    (void)state;
    /* 1x3 windows, VALID: (1+1+2)/3 = 1.33 -> 1 ((4 + 1) / 3 = 1); (-1-1-2)/3 -> -1;
     * (2+2+1)/3 = 1.67 -> 2 ((5 + 1) / 3 = 2) */
    int8_t in[9] = {1, 1, 2, -1, -1, -2, 2, 2, 1}, out[3];
    const nml_op_params p = kh_pool_params(NML_PAD_VALID, 1, 3, 1, 3, NML_ACT_NONE);
    assert_int_equal(kh_run_pool(&nml_kernel_average_pool_2d, NML_INT8, DIMS(1, 1, 9, 1), in,
                                 DIMS(1, 1, 3, 1), out, 1.0f, 0, &p),
                     NML_OK);
    kh_expect_i8(out, (const int8_t[]){1, -1, 2}, 3);
}

static void prepare_rejects_bad_nodes(void **state) {
    (void)state;
    int8_t in[9] = {0}, out[4];
    nml_kh h;
    kh_init(&h);
    kh_pool_node(&h, NML_INT8, DIMS(1, 3, 3, 1), in, DIMS(1, 2, 2, 1), out, 0.5f, 0);
    const int to = 1; /* kh_pool_node: input 0, output 1 */
    nml_op_params p = kh_pool_params(NML_PAD_SAME, 2, 2, 2, 2, NML_ACT_NONE);
    assert_int_equal(kh_prepare(&h, &nml_kernel_average_pool_2d, &p), NML_OK);

    h.tensors[to].zero_point = 1; /* int8 pooling works on raw values: quantization must match */
    assert_int_equal(kh_prepare(&h, &nml_kernel_average_pool_2d, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "AVERAGE_POOL_2D: input and output quantization differ"));
    h.tensors[to].zero_point = 0;
    h.tensors[to].scale = 0.25f;
    assert_int_equal(kh_prepare(&h, &nml_kernel_average_pool_2d, &p), NML_E_UNSUPPORTED);
    h.tensors[to].scale = 0.5f;

    h.tensors[to].dims[3] = 2; /* pooling keeps the channel count */
    assert_int_equal(kh_prepare(&h, &nml_kernel_average_pool_2d, &p), NML_E_SHAPE);
    assert_non_null(strstr(h.err.msg, "output shape 1x2x2x2 does not match the computed 1x2x2x1"));
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(average_float_counts_only_valid_taps),
        cmocka_unit_test(average_int8_rounds_half_away),
        cmocka_unit_test(average_same_3x3_leading_padding),
        cmocka_unit_test(average_int8_thirds),
        cmocka_unit_test(prepare_rejects_bad_nodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
