/* RESIZE_BILINEAR: TFLite's integer (1/1024 steps, round half away at 2^20) and float paths,
 * worked out by hand, with half_pixel_centers. */
#include <math.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static void int8_2x2_to_3x3(void **state) {
    (void)state;
    /* scale (1024 * 2 + 1) / 3 = 683: positions 0, 683, 1366 -> (lo, hi) (0,0), (0,1), (1,1)
     * with weights (1024-w, w) for w = 0, 683, 342 */
    int8_t x[4] = {0, 10, 20, 40}, y[9];
    int32_t size[2] = {3, 3};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT8, 4, (int32_t[]){1, 2, 2, 1}, x, 0.5f, 0},
                    (kh_spec){NML_INT32, 1, (int32_t[]){2}, size, 0, 0},
                    (kh_spec){NML_INT8, 4, (int32_t[]){1, 3, 3, 1}, y, 0.5f, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_resize_bilinear, &p);
    /* (0,1): 10 * 1024 * 683 = 6993920, (+2^19) / 2^20 = 7.17 -> 7
     * (1,0): 20 * 683 * 1024 -> 13.84 -> 13
     * (1,1): 20*683*341 + 10*341*683 + 40*683*683 = 25646650 -> 24.96 -> 24
     * (1,2): (10*341 + 40*683) * 1024 = 31467520 -> 30.51 -> 30
     * (2,1): (20*341 + 40*683) * 1024 = 34959360 -> 33.84 -> 33; grid points are exact */
    kh_expect_i8(y, (const int8_t[]){0, 7, 10, 13, 24, 30, 20, 33, 40}, 9);
    /* negated input: rounding is symmetric (half away from zero) */
    for (int i = 0; i < 4; i++)
        x[i] = (int8_t)-x[i];
    KH_EXPECT_OK(&h, &nml_kernel_resize_bilinear, &p);
    kh_expect_i8(y, (const int8_t[]){0, -7, -10, -13, -24, -30, -20, -33, -40}, 9);
    kh_free(&h);
}

static void half_pixel_int8_and_float(void **state) {
    (void)state;
    /* width 2 -> 4 with half_pixel_centers: scale 512, positions 512i - 256 = -256, 256, 768,
     * 1280 -> (lo,hi) (0,0), (0,1), (0,1), (1,1); weights of the upper neighbour 256/1024 and
     * 768/1024 in the middle: 101 * 0.25 = 25.25 -> 25, 101 * 0.75 = 75.75 -> 76 */
    int8_t x[2] = {0, 101}, y[4];
    int32_t size[2] = {1, 4};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT8, 4, (int32_t[]){1, 1, 2, 1}, x, 0.5f, 0},
                    (kh_spec){NML_INT32, 1, (int32_t[]){2}, size, 0, 0},
                    (kh_spec){NML_INT8, 4, (int32_t[]){1, 1, 4, 1}, y, 0.5f, 0});
    const int ts = KH_OPERAND;
    nml_op_params p;
    nml_op_params_default(&p);
    p.half_pixel_centers = 1;
    KH_EXPECT_OK(&h, &nml_kernel_resize_bilinear, &p);
    kh_expect_i8(y, (const int8_t[]){0, 25, 76, 101}, 4);
    /* float: positions (i + 0.5) * 0.5 - 0.5 = -0.25, 0.25, 0.75, 1.25; the first clamps both
     * neighbours to 0 (weights 1.25 and -0.25 of the same pixel) */
    float fx[2] = {0, 101}, fy[4];
    int tfi = kh_tensor(&h, NML_FLOAT32, 4, (int32_t[]){1, 1, 2, 1}, fx, 0, 0);
    int tfo = kh_tensor(&h, NML_FLOAT32, 4, (int32_t[]){1, 1, 4, 1}, fy, 0, 0);
    kh_inputs(&h, 2, tfi, ts);
    kh_outputs(&h, 1, tfo);
    KH_EXPECT_OK(&h, &nml_kernel_resize_bilinear, &p);
    kh_expect_f32(fy, (const float[]){0, 25.25f, 75.75f, 101}, 4);
    /* align_corners: 2 -> 4, scale 1/3 in float: interior values 101/3 and 202/3 */
    p.half_pixel_centers = 0;
    p.align_corners = 1;
    KH_EXPECT_OK(&h, &nml_kernel_resize_bilinear, &p);
    assert_true(fy[0] == 0 && fy[3] == 101);
    assert_true(fabsf(fy[1] - 101.0f / 3) < 1e-4f && fabsf(fy[2] - 202.0f / 3) < 1e-4f);
    p.half_pixel_centers = 1;
    KH_EXPECT_FAIL(&h, &nml_kernel_resize_bilinear, &p, NML_E_FORMAT,
                   "RESIZE_BILINEAR: align_corners and half_pixel_centers cannot both be set");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(int8_2x2_to_3x3),
        cmocka_unit_test(half_pixel_int8_and_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
