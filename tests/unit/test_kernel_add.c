/* ADD: broadcasting by numpy's rules, fused activations, TFLite's int8 requantization (checked
 * by hand and against TensorFlow Lite Micro's outputs for models/tflm/simple_add_model), and
 * every prepare error. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static nml_op_params params(int activation) {
    nml_op_params p;
    nml_op_params_default(&p);
    p.activation = (uint8_t)activation;
    return p;
}

static void float_broadcast_small(void **state) {
    (void)state;
    /* [2,1,3] + [2,1] -> [2,2,3]; out[i][j][k] = a[i][k] + b[j] */
    float a[6] = {1, 2, 3, 4, 5, 6}, b[2] = {10, 20}, out[12];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_FLOAT32, 3, (int32_t[]){2, 1, 3}, a, 0, 0},
                   (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 1}, b, 0, 0},
                   (kh_spec){NML_FLOAT32, 3, (int32_t[]){2, 2, 3}, out, 0, 0});
    nml_op_params p = params(NML_ACT_NONE);
    KH_EXPECT_OK(&h, &nml_kernel_add, &p);
    const float want[12] = {11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26};
    kh_expect_f32(out, want, 12);
    kh_free(&h);
}

static void float_broadcast_rank6(void **state) {
    (void)state;
    /* a [2,1,2,1,2,1] + b [1,2,1,2,1,2] -> [2,2,2,2,2,2]: every other axis broadcast in each
     * input, so no two neighbouring axes can be merged. Expected: by the definition. */
    float a[8], b[8], out[64];
    for (int i = 0; i < 8; i++)
        a[i] = (float)(i * 100), b[i] = (float)i;
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_FLOAT32, 6, (int32_t[]){2, 1, 2, 1, 2, 1}, a, 0, 0},
                   (kh_spec){NML_FLOAT32, 6, (int32_t[]){1, 2, 1, 2, 1, 2}, b, 0, 0},
                   (kh_spec){NML_FLOAT32, 6, (int32_t[]){2, 2, 2, 2, 2, 2}, out, 0, 0});
    nml_op_params p = params(NML_ACT_NONE);
    KH_EXPECT_OK(&h, &nml_kernel_add, &p);
    for (int i0 = 0; i0 < 2; i0++)
        for (int i1 = 0; i1 < 2; i1++)
            for (int i2 = 0; i2 < 2; i2++)
                for (int i3 = 0; i3 < 2; i3++)
                    for (int i4 = 0; i4 < 2; i4++)
                        for (int i5 = 0; i5 < 2; i5++) {
                            int o = ((((i0 * 2 + i1) * 2 + i2) * 2 + i3) * 2 + i4) * 2 + i5;
                            float want = a[i0 * 4 + i2 * 2 + i4] + b[i1 * 4 + i3 * 2 + i5];
                            assert_true(out[o] == want);
                        }
    kh_free(&h);
}

static void float_scalar_and_activations(void **state) {
    (void)state;
    /* rank-0 second input; RELU6 clamps to [0, 6] */
    float a[4] = {-3, 1, 5, 100}, s = 2, out[4];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 2}, a, 0, 0},
                   (kh_spec){NML_FLOAT32, 0, NULL, &s, 0, 0},
                   (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 2}, out, 0, 0});
    nml_op_params p = params(NML_ACT_RELU6);
    KH_EXPECT_OK(&h, &nml_kernel_add, &p);
    kh_expect_f32(out, (const float[]){0, 3, 6, 6}, 4);
    /* RELU_N1_TO_1: [-1, 1] */
    p = params(NML_ACT_RELU_N1_TO_1);
    KH_EXPECT_OK(&h, &nml_kernel_add, &p);
    kh_expect_f32(out, (const float[]){-1, 1, 1, 1}, 4);
    /* no activation still clamps to [-FLT_MAX, FLT_MAX] as TFLite does (inf -> FLT_MAX) */
    a[0] = INFINITY, a[1] = -INFINITY, a[2] = NAN;
    p = params(NML_ACT_NONE);
    KH_EXPECT_OK(&h, &nml_kernel_add, &p);
    assert_true(out[0] == FLT_MAX);
    assert_true(out[1] == -FLT_MAX);
    assert_true(out[2] != out[2]);
    kh_free(&h);
}

/* int8 scales 0.5 (zp 10), 0.25 (zp -5) -> 1.0 (zp 3). TFLite's pipeline:
 * twice_max = 1.0; input multipliers 0.5 -> (2^30, shift 0) and 0.25 -> (2^30, shift -1);
 * output multiplier 1.0 / (2^20 * 1.0) = 2^-20 -> (2^30, shift -19).
 * x = 13, y = -1: (13-10) << 20 = 3145728, * 0.5 = 1572864; (-1+5) << 20 = 4194304,
 * * 0.25 = 1048576; sum 2621440 * 2^-20 = 2.5 -> rounds away from zero to 3; + zp 3 = 6. */
static void int8_hand_computed(void **state) {
    (void)state;
    int8_t a[6] = {13, 11, 9, 10, 127, -128};
    int8_t b[6] = {-1, -5, -5, -7, 127, -128};
    int8_t out[6];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){6}, a, 0.5f, 10},
                   (kh_spec){NML_INT8, 1, (int32_t[]){6}, b, 0.25f, -5},
                   (kh_spec){NML_INT8, 1, (int32_t[]){6}, out, 1.0f, 3});
    nml_op_params p = params(NML_ACT_NONE);
    KH_EXPECT_OK(&h, &nml_kernel_add, &p);
    /* 13,-1: 1.5 + 1.0 = 2.5 -> 3 (+3) = 6
     * 11,-5: 0.5 + 0 = 0.5 -> 1 (ties away from zero) -> 4
     * 9,-5: -0.5 + 0 -> -1 -> 2
     * 10,-7: 0 + -0.5 -> -1 -> 2
     * 127,127: 58.5 + 33 = 91.5 -> 92 -> 95
     * -128,-128: -69 + -30.75 = -99.75 -> -100 -> -97 */
    kh_expect_i8(out, (const int8_t[]){6, 4, 2, 2, 95, -97}, 6);
    kh_free(&h);
}

static void int8_saturation_and_fused_activation(void **state) {
    (void)state;
    /* scales 0.5, 0.25 -> 0.5 (zp 0): output multiplier 2^-19 */
    int8_t a[4] = {127, -128, 20, -4}, b[4] = {127, -128, 0, 0}, out[4];
    nml_kh h;
    kh_init(&h);
    const int to = kh_binary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){4}, a, 0.5f, 0},
                                  (kh_spec){NML_INT8, 1, (int32_t[]){4}, b, 0.25f, 0},
                                  (kh_spec){NML_INT8, 1, (int32_t[]){4}, out, 0.5f, 0});
    nml_op_params p = params(NML_ACT_NONE);
    KH_EXPECT_OK(&h, &nml_kernel_add, &p);
    /* 63.5 + 31.75 = 95.25 / 0.5 = 190.5 -> 127; -64 - 32 = -96 / 0.5 = -192 -> -128;
     * 10 / 0.5 = 20; -2 / 0.5 = -4 */
    kh_expect_i8(out, (const int8_t[]){127, -128, 20, -4}, 4);
    /* RELU6 at output scale 0.5: quantized 6 = round(6 / 0.5) = 12, quantized 0 = 0 */
    p = params(NML_ACT_RELU6);
    KH_EXPECT_OK(&h, &nml_kernel_add, &p);
    kh_expect_i8(out, (const int8_t[]){12, 0, 12, 0}, 4);
    /* RELU with output zero point -10: lower bound -10 + round(0 / 0.5) = -10 */
    h.tensors[to].zero_point = -10;
    p = params(NML_ACT_RELU);
    KH_EXPECT_OK(&h, &nml_kernel_add, &p);
    /* 190.5 - 10 -> 127; -192 - 10 -> -10; 20 - 10 = 10; -4 - 10 = -14 -> -10 */
    kh_expect_i8(out, (const int8_t[]){127, -10, 10, -10}, 4);
    kh_free(&h);
}

static void int8_broadcast_scalar(void **state) {
    (void)state;
    /* [1,2,3] + [1,1,1] (YOLOv8n adds constants this way); scales 1 and 1 -> 1: the output
     * multiplier is 2 / 2^20 = 2^-19, input multipliers 1/2 each */
    int8_t a[6] = {-3, -2, -1, 0, 1, 2}, b[1] = {5}, out[6];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_INT8, 3, (int32_t[]){1, 2, 3}, a, 1.0f, 0},
                   (kh_spec){NML_INT8, 3, (int32_t[]){1, 1, 1}, b, 1.0f, 0},
                   (kh_spec){NML_INT8, 3, (int32_t[]){1, 2, 3}, out, 1.0f, 0});
    nml_op_params p = params(NML_ACT_NONE);
    KH_EXPECT_OK(&h, &nml_kernel_add, &p);
    kh_expect_i8(out, (const int8_t[]){2, 3, 4, 5, 6, 7}, 6);
    kh_free(&h);
}

static void int8_matches_tflm_simple_add(void **state) {
    (void)state;
    /* models/tflm/simple_add_model.tflite: one ADD, no activation, tensors 1x128x128x1 int8:
     * in0 scale 0x1.4d9f48p-5 zp -2, in1 scale 0x1.51e252p-5 zp -1, out 0x1.de3a4ep-5 zp -3.
     * The expected bytes are TFLite Micro's reference-kernel outputs. */
    for (int k = 0; k < 8; k++) {
        char rel[128];
        size_t n0, n1, no;
        snprintf(rel, sizeof rel, "golden/tflm-reference/simple_add_model/in0_%03d.bin", k);
        uint8_t *in0 = nml_test_read(nml_test_shared(rel), &n0);
        snprintf(rel, sizeof rel, "golden/tflm-reference/simple_add_model/in1_%03d.bin", k);
        uint8_t *in1 = nml_test_read(nml_test_shared(rel), &n1);
        snprintf(rel, sizeof rel, "golden/tflm-reference/simple_add_model/out_%03d.bin", k);
        uint8_t *want = nml_test_read(nml_test_shared(rel), &no);
        assert_int_equal(n0, 16384);
        assert_int_equal(n1, 16384);
        assert_int_equal(no, 16384);
        int8_t *out = calloc(1, 16384);
        int32_t dims[4] = {1, 128, 128, 1};
        nml_kh h;
        kh_init(&h);
        kh_binary_node(&h, (kh_spec){NML_INT8, 4, dims, in0, 0x1.4d9f48p-5f, -2},
                       (kh_spec){NML_INT8, 4, dims, in1, 0x1.51e252p-5f, -1},
                       (kh_spec){NML_INT8, 4, dims, out, 0x1.de3a4ep-5f, -3});
        nml_op_params p = params(NML_ACT_NONE);
        KH_EXPECT_OK(&h, &nml_kernel_add, &p);
        kh_expect_i8(out, (const int8_t *)want, 16384);
        kh_free(&h);
        free(out);
        free(in0);
        free(in1);
        free(want);
    }
}

static void int32_with_relu(void **state) {
    (void)state;
    int32_t a[3] = {-5, 7, 2147483647}, b[3] = {2, 3, 1}, out[3];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_INT32, 1, (int32_t[]){3}, a, 0, 0},
                   (kh_spec){NML_INT32, 1, (int32_t[]){3}, b, 0, 0},
                   (kh_spec){NML_INT32, 1, (int32_t[]){3}, out, 0, 0});
    nml_op_params p = params(NML_ACT_RELU);
    KH_EXPECT_OK(&h, &nml_kernel_add, &p);
    /* -3 -> 0; 10; INT32_MAX + 1 wraps to INT32_MIN -> 0 */
    kh_expect_i32(out, (const int32_t[]){0, 10, 0}, 3);
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    float fa[6] = {0}, fb[6] = {0}, fo[6];
    int8_t qa[6] = {0}, qo[6];
    nml_op_params p = params(NML_ACT_NONE);
    nml_kh h;

    kh_init(&h);
    int ta = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){6}, fa, 0, 0);
    int to = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){6}, fo, 0, 0);
    kh_inputs(&h, 1, ta);
    kh_outputs(&h, 1, to);
    KH_EXPECT_FAIL(&h, &nml_kernel_add, &p, NML_E_FORMAT, "ADD: has 1 inputs, expected 2");
    kh_free(&h);

    kh_init(&h); /* shapes that do not broadcast */
    ta = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 3}, fa, 0, 0);
    int tb = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){2}, fb, 0, 0);
    to = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 3}, fo, 0, 0);
    kh_inputs(&h, 2, ta, tb);
    kh_outputs(&h, 1, to);
    KH_EXPECT_FAIL(&h, &nml_kernel_add, &p, NML_E_SHAPE,
                   "input shapes 2x3 and 2 do not broadcast (dimension 1: 3 vs 2)");
    kh_free(&h);

    kh_init(&h); /* output shape differs from the broadcast shape */
    ta = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 3}, fa, 0, 0);
    tb = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){3}, fb, 0, 0);
    to = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){3, 2}, fo, 0, 0);
    kh_inputs(&h, 2, ta, tb);
    kh_outputs(&h, 1, to);
    KH_EXPECT_FAIL(&h, &nml_kernel_add, &p, NML_E_SHAPE,
                   "output shape 3x2 does not match computed 2x3");
    kh_free(&h);

    kh_init(&h); /* mixed input types */
    ta = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){6}, fa, 0, 0);
    tb = kh_tensor(&h, NML_INT8, 1, (int32_t[]){6}, qa, 0.5f, 0);
    to = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){6}, fo, 0, 0);
    kh_inputs(&h, 2, ta, tb);
    kh_outputs(&h, 1, to);
    KH_EXPECT_FAIL(&h, &nml_kernel_add, &p, NML_E_UNSUPPORTED,
                   "input 1 has type int8, expected float32");
    kh_free(&h);

    kh_init(&h); /* unsupported type */
    ta = kh_tensor(&h, NML_INT16, 1, (int32_t[]){3}, fa, 0.5f, 0);
    tb = kh_tensor(&h, NML_INT16, 1, (int32_t[]){3}, fb, 0.5f, 0);
    to = kh_tensor(&h, NML_INT16, 1, (int32_t[]){3}, fo, 0.5f, 0);
    kh_inputs(&h, 2, ta, tb);
    kh_outputs(&h, 1, to);
    KH_EXPECT_FAIL(&h, &nml_kernel_add, &p, NML_E_UNSUPPORTED,
                   "output type int16 is not supported");
    kh_free(&h);

    kh_init(&h); /* int8 problems */
    ta = kh_tensor(&h, NML_INT8, 1, (int32_t[]){6}, qa, 1.0f, 0);
    tb = kh_tensor(&h, NML_INT8, 1, (int32_t[]){6}, qa, 1.0f, 0);
    to = kh_tensor(&h, NML_INT8, 1, (int32_t[]){6}, qo, 0.0f, 0);
    kh_inputs(&h, 2, ta, tb);
    kh_outputs(&h, 1, to);
    KH_EXPECT_FAIL(&h, &nml_kernel_add, &p, NML_E_FORMAT,
                   "output (int8) needs a positive finite quantization scale");
    /* 2 * 1.0 / (2^20 * 1e-7) ~ 19 >= 1: TFLite refuses this too */
    h.tensors[to].scale = 1e-7f;
    KH_EXPECT_FAIL(&h, &nml_kernel_add, &p, NML_E_UNSUPPORTED, "output scale is too small");
    h.tensors[to].scale = 1.0f;
    h.tensors[tb].zero_point = 200;
    KH_EXPECT_FAIL(&h, &nml_kernel_add, &p, NML_E_FORMAT,
                   "input 1 zero point 200 is outside int8 range");
    h.tensors[tb].zero_point = 0;
    p.activation = NML_ACT_TANH;
    KH_EXPECT_FAIL(&h, &nml_kernel_add, &p, NML_E_UNSUPPORTED,
                   "fused activation 4 is not supported");
    p.activation = NML_ACT_NONE;
    const float scales[2] = {1.0f, 2.0f};
    kh_per_channel(&h, ta, scales, NULL, 2, 0);
    KH_EXPECT_FAIL(&h, &nml_kernel_add, &p, NML_E_UNSUPPORTED,
                   "input 0 has per-channel quantization (2 scales), expected one");
    kh_free(&h);

    kh_init(&h); /* constant output */
    ta = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){6}, fa, 0, 0);
    to = kh_tensor(&h, NML_FLOAT32, 1, (int32_t[]){6}, fo, 0, 0);
    kh_const(&h, to);
    kh_inputs(&h, 2, ta, ta);
    kh_outputs(&h, 1, to);
    KH_EXPECT_FAIL(&h, &nml_kernel_add, &p, NML_E_FORMAT, "output 0 is a constant tensor");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_broadcast_small),
        cmocka_unit_test(float_broadcast_rank6),
        cmocka_unit_test(float_scalar_and_activations),
        cmocka_unit_test(int8_hand_computed),
        cmocka_unit_test(int8_saturation_and_fused_activation),
        cmocka_unit_test(int8_broadcast_scalar),
        cmocka_unit_test(int8_matches_tflm_simple_add),
        cmocka_unit_test(int32_with_relu),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
