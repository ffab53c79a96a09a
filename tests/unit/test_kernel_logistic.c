/* LOGISTIC against hand computations: 256 * sigmoid(q / 16) rounded, minus 128 (values of
 * sigmoid from its definition; none lies near a rounding boundary). */
#include <math.h>
#include <string.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernel_harness.h"
#include "kernels/kernels.h"

#define DIMS(...) ((const int32_t[]){__VA_ARGS__})

static void float_values_and_cutoffs(void **state) {
    (void)state;
    /* sigmoid(0) = 0.5, sigmoid(1) = 0.73105858, sigmoid(-1) = 0.26894142; above 16.619 the
     * reference returns exactly 1; below -9 it returns exp(x) (exp(-10) = 4.5399930e-05, while
     * the exact sigmoid(-10) = 4.5397869e-05) */
    float in[5] = {0, 1, -1, 20, -10}, out[5];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_FLOAT32, 1, DIMS(5), in, 0, 0},
                  (kh_spec){NML_FLOAT32, 1, DIMS(5), out, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_run(&h, &nml_kernel_logistic, &p), NML_OK);
    assert_true(fabsf(out[0] - 0.5f) < 1e-7f);
    assert_true(fabsf(out[1] - 0.73105858f) < 1e-6f);
    assert_true(fabsf(out[2] - 0.26894142f) < 1e-6f);
    assert_true(out[3] == 1.0f);
    assert_true(fabs(out[4] - 4.5399930e-05) < 1e-10);
    kh_free(&h);
}

static void int8_values_and_saturation(void **state) {
    (void)state;
    /* input scale 1/16 zp 3 (x = (q - 3) / 16), output 1/256 zp -128.
     * The input multiplier is 2^27 / 16 = 2^23 (significand 2^30, exponent 24), so the input
     * range radius is floor(15 * 2^27 / 2^24) = 120: |q - 3| >= 120 saturates.
     *   q - 3 =    0: 256 * 0.5        = 128      -> 0
     *   q - 3 =   16: 256 * 0.7310586  = 187.151  -> 59
     *   q - 3 =  -16: 256 * 0.2689414  = 68.849   -> -59
     *   q - 3 =   -8: 256 * 0.3775407  = 96.650   -> -31
     *   q - 3 =   32: 256 * 0.8807971  = 225.484  -> 97
     *   q - 3 =   64: 256 * 0.9820138  = 251.396  -> 123
     *   q - 3 =  112: 256 * 0.9990889  = 255.767  -> 256 -> 128, clamps to 127
     *   q - 3 = -112: 256 * 0.0009111  = 0.233    -> -128
     *   q - 3 =  124: radius -> 127;  q - 3 = -131: radius -> -128 */
    int8_t in[10] = {3, 19, -13, -5, 35, 67, 115, -109, 127, -128}, out[10];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT8, 1, DIMS(10), in, 1.0f / 16.0f, 3},
                  (kh_spec){NML_INT8, 1, DIMS(10), out, 1.0f / 256.0f, -128});
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_run(&h, &nml_kernel_logistic, &p), NML_OK);
    const int8_t want[10] = {0, 59, -59, -31, 97, 123, 127, -128, 127, -128};
    kh_expect_i8(out, want, 10);
    kh_free(&h);
}

static void prepare_rejects_other_output_quantization(void **state) {
    (void)state;
    int8_t in[2] = {0}, out[2];
    nml_kh h;
    kh_init(&h);
    const int to = kh_unary_node(&h, (kh_spec){NML_INT8, 1, DIMS(2), in, 0.1f, 0},
                                 (kh_spec){NML_INT8, 1, DIMS(2), out, 1.0f / 256.0f, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_prepare(&h, &nml_kernel_logistic, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "LOGISTIC: int8 output must have scale 1/256 and zero "
                                      "point -128 (has zero point 0)"));
    h.tensors[to].zero_point = -128;
    assert_int_equal(kh_prepare(&h, &nml_kernel_logistic, &p), NML_OK);
    h.tensors[to].scale = 1.0f / 128.0f;
    assert_int_equal(kh_prepare(&h, &nml_kernel_logistic, &p), NML_E_UNSUPPORTED);
    h.tensors[to].scale = 1.0f / 256.0f;
    h.tensors[to].type = NML_FLOAT32;
    assert_int_equal(kh_prepare(&h, &nml_kernel_logistic, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "output has type float32, expected int8"));
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_values_and_cutoffs),
        cmocka_unit_test(int8_values_and_saturation),
        cmocka_unit_test(prepare_rejects_other_output_quantization),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
