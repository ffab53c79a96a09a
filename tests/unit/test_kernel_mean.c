/* MEAN: float, and TFLite Micro's three int8 paths worked out by hand (the H,W fast path that
 * rounds, the same-quantization path that truncates, the rescaling path with the count folded
 * into the multiplier). */
#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static nml_op_params keep(int k) {
    nml_op_params p;
    nml_op_params_default(&p);
    p.keep_dims = (uint8_t)k;
    return p;
}

static void float_axes(void **state) {
    (void)state;
    float x[6] = {1, 2, 3, 4, 5, 7}, y[3];
    int32_t axis[1] = {1};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 3}, x, 0, 0},
                    (kh_spec){NML_INT32, 1, (int32_t[]){1}, axis, 0, 0},
                    (kh_spec){NML_FLOAT32, 1, (int32_t[]){2}, y, 0, 0});
    nml_op_params p = keep(0);
    KH_EXPECT_OK(&h, &nml_kernel_mean, &p);
    kh_expect_f32(y, (const float[]){2, 16.0f / 3.0f}, 2);
    /* axis -2 with keep_dims -> [1,3]: column means */
    axis[0] = -2;
    int to13 = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){1, 3}, y, 0, 0);
    kh_outputs(&h, 1, to13);
    p = keep(1);
    KH_EXPECT_OK(&h, &nml_kernel_mean, &p);
    kh_expect_f32(y, (const float[]){2.5f, 3.5f, 5}, 3);
    kh_free(&h);
}

static void float_global_pool(void **state) {
    (void)state;
    /* [1,2,2,2] over axes {1,2} with keep_dims -> [1,1,1,2] */
    float x[8] = {1, 10, 2, 20, 3, 30, 5, 50}, y[2];
    int32_t axis[2] = {1, 2};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_FLOAT32, 4, (int32_t[]){1, 2, 2, 2}, x, 0, 0},
                    (kh_spec){NML_INT32, 1, (int32_t[]){2}, axis, 0, 0},
                    (kh_spec){NML_FLOAT32, 4, (int32_t[]){1, 1, 1, 2}, y, 0, 0});
    nml_op_params p = keep(1);
    KH_EXPECT_OK(&h, &nml_kernel_mean, &p);
    kh_expect_f32(y, (const float[]){2.75f, 27.5f}, 2);
    kh_free(&h);
}

typedef struct fixture {
    nml_kh h;
    int ti, ta, to;
    int8_t x[4], y[1];
    int32_t axis[2];
} fixture;

/* [1,2,2,1] int8 reduced over the two spatial axes into [1,1,1,1] */
static void setup_hw(fixture *f, float in_scale, int in_zp, float out_scale, int out_zp) {
    kh_init(&f->h);
    f->ti = kh_tensor(&f->h, NML_INT8, 4, (int32_t[]){1, 2, 2, 1}, f->x, in_scale, in_zp);
    f->ta = kh_tensor(&f->h, NML_INT32, 1, (int32_t[]){2}, f->axis, 0, 0);
    kh_const(&f->h, f->ta);
    f->to = kh_tensor(&f->h, NML_INT8, 4, (int32_t[]){1, 1, 1, 1}, f->y, out_scale, out_zp);
    kh_inputs(&f->h, 2, f->ti, f->ta);
    kh_outputs(&f->h, 1, f->to);
}

static int8_t run(fixture *f, int8_t a, int8_t b, int8_t c, int8_t d) {
    f->x[0] = a, f->x[1] = b, f->x[2] = c, f->x[3] = d;
    nml_op_params p = keep(1);
    KH_EXPECT_OK(&f->h, &nml_kernel_mean, &p);
    return f->y[0];
}

static void int8_hw_fast_path_rounds(void **state) {
    (void)state;
    fixture f;
    setup_hw(&f, 0.5f, 0, 0.5f, 0);
    f.axis[0] = 1, f.axis[1] = 2;
    /* multiplier 1 = (2^30, 1); acc / 4 rounded half away from zero: (acc + 2) / 4 */
    assert_int_equal(run(&f, 1, 2, 3, 5), 3);      /* 11 / 4 = 2.75 -> 3 */
    assert_int_equal(run(&f, -1, -2, -3, -5), -3); /* (-11 - 2) / 4 -> -3 */
    assert_int_equal(run(&f, 1, 1, 0, 0), 1);      /* 0.5 -> 1 */
    assert_int_equal(run(&f, -1, -1, 0, 0), -1);   /* -0.5 -> -1 */
    f.axis[0] = 2, f.axis[1] = 1;                  /* either order */
    assert_int_equal(run(&f, 1, 2, 3, 5), 3);
    /* the same reduction spelled {-3, -2} is not TFLM's special case: with equal quantization
     * it takes the truncating path, 11 / 4 -> 2 */
    f.axis[0] = -3, f.axis[1] = -2;
    assert_int_equal(run(&f, 1, 2, 3, 5), 2);
    assert_int_equal(run(&f, -1, -2, -3, -5), -2);
    kh_free(&f.h);
    /* rescaling on the fast path: (0.5, zp 2) -> (0.25, zp -1): sum(x - 2) = 9 for
     * {3,4,5,5}, * 2 = 18, (18 + 2) / 4 = 5, -1 -> 4  (exact: mean 2.25 * 2 = 4.5 -> 5 - 1) */
    setup_hw(&f, 0.5f, 2, 0.25f, -1);
    f.axis[0] = 1, f.axis[1] = 2;
    assert_int_equal(run(&f, 3, 4, 5, 5), 4);
    kh_free(&f.h);
}

static void int8_rescaling_path(void **state) {
    (void)state;
    /* [3] over axis 0 into a scalar, (0.5, zp 1) -> (0.25, zp -2). multiplier 2 = (2^30, 2);
     * count 3: shift s = floor(log2 3) = 1, multiplier (2^30 << 1) / 3 = 715827882, exponent
     * 2 - 1 = 1. q = srdhm((sum - 1*3) << 1, 715827882) - 2. */
    int8_t x[3], y[1];
    int32_t axis[1] = {0};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){3}, x, 0.5f, 1},
                    (kh_spec){NML_INT32, 1, (int32_t[]){1}, axis, 0, 0},
                    (kh_spec){NML_INT8, 0, NULL, y, 0.25f, -2});
    nml_op_params p = keep(0);
    x[0] = 3, x[1] = 4, x[2] = 8; /* 12 -> 24: (24 * 715827882 + 2^30) / 2^31 = 8.4999 -> 8 */
    KH_EXPECT_OK(&h, &nml_kernel_mean, &p);
    assert_int_equal(y[0], 6);
    x[0] = 3, x[1] = 3, x[2] = 4; /* 7 -> 14: 5.1666 -> 5 (exact 4.67) */
    KH_EXPECT_OK(&h, &nml_kernel_mean, &p);
    assert_int_equal(y[0], 3);
    x[0] = x[1] = x[2] = 127; /* 378 -> 756: 252 -> 250 -> 127 */
    KH_EXPECT_OK(&h, &nml_kernel_mean, &p);
    assert_int_equal(y[0], 127);
    kh_free(&h);
}

static void duplicate_axes_and_errors(void **state) {
    (void)state;
    float x[6] = {1, 2, 3, 4, 5, 6}, y[2];
    int32_t axis[2] = {1, -1};
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 3}, x, 0, 0},
                   (kh_spec){NML_INT32, 1, (int32_t[]){2}, axis, 0, 0},
                   (kh_spec){NML_FLOAT32, 1, (int32_t[]){2}, y, 0, 0});
    const int ta = KH_INPUT2;
    nml_op_params p = keep(0);
    KH_EXPECT_FAIL(&h, &nml_kernel_mean, &p, NML_E_UNSUPPORTED,
                   "MEAN: axis must be a constant tensor");
    kh_const(&h, ta);
    KH_EXPECT_OK(&h, &nml_kernel_mean, &p); /* axis 1 twice */
    kh_expect_f32(y, (const float[]){2, 5}, 2);
    axis[1] = 2;
    KH_EXPECT_FAIL(&h, &nml_kernel_mean, &p, NML_E_FORMAT,
                   "MEAN: axis 2 is out of range for rank 2");
    axis[1] = 1;
    p = keep(1);
    KH_EXPECT_FAIL(&h, &nml_kernel_mean, &p, NML_E_SHAPE,
                   "MEAN: output shape 2 does not match computed 2x1");
    int tq = kh_tensor(&h, NML_INT8, 1, (int32_t[]){2}, y, 0.5f, 0);
    kh_outputs(&h, 1, tq);
    p = keep(0);
    KH_EXPECT_FAIL(&h, &nml_kernel_mean, &p, NML_E_UNSUPPORTED,
                   "MEAN: output has type int8, expected float32");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_axes),
        cmocka_unit_test(float_global_pool),
        cmocka_unit_test(int8_hw_fast_path_rounds),
        cmocka_unit_test(int8_rescaling_path),
        cmocka_unit_test(duplicate_axes_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
