/* TANH against hand computations: 128 * tanh(q / 16) rounded (values of tanh from its
 * definition; none lies near a rounding boundary). */
#include <math.h>
#include <string.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernel_harness.h"
#include "kernels/kernels.h"

#define DIMS(...) ((const int32_t[]){__VA_ARGS__})

static void float_values(void **state) {
    (void)state;
    /* tanh(0) = 0, tanh(1) = 0.76159416, tanh(-2) = -0.96402758 */
    float in[3] = {0, 1, -2}, out[3];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_FLOAT32, 1, DIMS(3), in, 0, 0},
                  (kh_spec){NML_FLOAT32, 1, DIMS(3), out, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_run(&h, &nml_kernel_tanh, &p), NML_OK);
    assert_true(out[0] == 0.0f);
    assert_true(fabsf(out[1] - 0.76159416f) < 1e-6f);
    assert_true(fabsf(out[2] + 0.96402758f) < 1e-6f);
    kh_free(&h);
}

static void int8_values_and_saturation(void **state) {
    (void)state;
    /* input scale 1/16 zp 0, output 1/128 zp 0; input range radius 120 as for LOGISTIC.
     *   q =   0: 0
     *   q =   8: 128 * 0.4621172 = 59.151  -> 59;   q = -8 -> -59
     *   q =  16: 128 * 0.7615942 = 97.484  -> 97;   q = -16 -> -97
     *   q =  24: 128 * 0.9051483 = 115.859 -> 116
     *   q =  48: 128 * 0.9950548 = 127.367 -> 127
     *   q =  64: 128 * 0.9993293 = 127.914 -> 128, clamps to 127;  q = -64 -> -128
     *   q = 127, -128: beyond the radius -> 127, -128 */
    int8_t in[12] = {0, 8, -8, 16, -16, 24, 48, 64, -64, 127, -128, 120}, out[12];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT8, 1, DIMS(12), in, 1.0f / 16.0f, 0},
                  (kh_spec){NML_INT8, 1, DIMS(12), out, 1.0f / 128.0f, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_run(&h, &nml_kernel_tanh, &p), NML_OK);
    const int8_t want[12] = {0, 59, -59, 97, -97, 116, 127, 127, -128, 127, -128, 127};
    kh_expect_i8(out, want, 12);
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
    assert_int_equal(kh_prepare(&h, &nml_kernel_tanh, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "TANH: int8 output must have scale 1/128 and zero point 0"));
    h.tensors[to].scale = 1.0f / 128.0f;
    assert_int_equal(kh_prepare(&h, &nml_kernel_tanh, &p), NML_OK);
    h.tensors[to].zero_point = -128;
    assert_int_equal(kh_prepare(&h, &nml_kernel_tanh, &p), NML_E_UNSUPPORTED);
    h.tensors[to].zero_point = 0;
    h.tensors[to].dims[0] = 3;
    assert_int_equal(kh_prepare(&h, &nml_kernel_tanh, &p), NML_E_SHAPE);
    assert_non_null(strstr(h.err.msg, "input shape 2 does not match output shape 3"));
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_values),
        cmocka_unit_test(int8_values_and_saturation),
        cmocka_unit_test(prepare_rejects_other_output_quantization),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
