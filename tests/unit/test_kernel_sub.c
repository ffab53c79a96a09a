/* SUB: broadcasting, fused activation, TFLite's int8 requantization worked out by hand. */
#include <math.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static void float_broadcast(void **state) {
    (void)state;
    /* [2,3] - [3]: row minus the vector; RELU clamps negatives */
    float a[6] = {1, 2, 3, 10, 20, 30}, b[3] = {2, 2, 2}, out[6];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 3}, a, 0, 0},
                   (kh_spec){NML_FLOAT32, 1, (int32_t[]){3}, b, 0, 0},
                   (kh_spec){NML_FLOAT32, 2, (int32_t[]){2, 3}, out, 0, 0});
    const int ta = KH_INPUT;
    const int tb = KH_INPUT2;
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_sub, &p);
    kh_expect_f32(out, (const float[]){-1, 0, 1, 8, 18, 28}, 6);
    p.activation = NML_ACT_RELU;
    KH_EXPECT_OK(&h, &nml_kernel_sub, &p);
    kh_expect_f32(out, (const float[]){0, 0, 1, 8, 18, 28}, 6);
    /* the first operand broadcast: [3] - [2,3] */
    kh_inputs(&h, 2, tb, ta);
    p.activation = NML_ACT_NONE;
    KH_EXPECT_OK(&h, &nml_kernel_sub, &p);
    kh_expect_f32(out, (const float[]){1, 0, -1, -8, -18, -28}, 6);
    kh_free(&h);
}

/* scales 0.5 and 0.25 (zero points 0) -> 1.0 (zero point 0): the inputs are rescaled exactly
 * (multipliers 1/2 and 1/4 of twice the larger scale), the difference times 2^-20 is then
 * rounded half away from zero. */
static void int8_hand_computed(void **state) {
    (void)state;
    int8_t a[5] = {3, 1, 0, -128, 127}, b[5] = {5, 0, 2, 127, -128}, out[5];
    nml_kh h;
    kh_init(&h);
    const int to = kh_binary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){5}, a, 0.5f, 0},
                                  (kh_spec){NML_INT8, 1, (int32_t[]){5}, b, 0.25f, 0},
                                  (kh_spec){NML_INT8, 1, (int32_t[]){5}, out, 1.0f, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_sub, &p);
    /* 1.5 - 1.25 = 0.25 -> 0; 0.5 - 0 -> 1; 0 - 0.5 -> -1; -64 - 31.75 = -95.75 -> -96;
     * 63.5 + 32 = 95.5 -> 96 */
    kh_expect_i8(out, (const int8_t[]){0, 1, -1, -96, 96}, 5);
    /* output scale 0.5, zero point 100: 0.25 / 0.5 = 0.5 -> 1 -> 101; 1 -> 101; -1 -> 99;
     * -95.75 / 0.5 = -191.5 -> -192 + 100 = -92; 95.5 / 0.5 = 191 + 100 -> 127 (saturates) */
    h.tensors[to].scale = 0.5f;
    h.tensors[to].zero_point = 100;
    KH_EXPECT_OK(&h, &nml_kernel_sub, &p);
    kh_expect_i8(out, (const int8_t[]){101, 101, 99, -92, 127}, 5);
    kh_free(&h);
}

static void errors(void **state) {
    (void)state;
    float fa[4] = {0}, fo[4];
    nml_kh h;
    kh_init(&h);
    kh_binary_node(&h, (kh_spec){NML_FLOAT32, 1, (int32_t[]){4}, fa, 0, 0},
                   (kh_spec){NML_FLOAT32, 1, (int32_t[]){3}, fa, 0, 0},
                   (kh_spec){NML_FLOAT32, 1, (int32_t[]){4}, fo, 0, 0});
    const int ta = KH_INPUT;
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_FAIL(&h, &nml_kernel_sub, &p, NML_E_SHAPE,
                   "SUB: input shapes 4 and 3 do not broadcast");
    kh_inputs(&h, 2, ta, ta);
    p.activation = NML_ACT_SIGN_BIT;
    KH_EXPECT_FAIL(&h, &nml_kernel_sub, &p, NML_E_UNSUPPORTED,
                   "SUB: fused activation 5 is not supported");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_broadcast),
        cmocka_unit_test(int8_hand_computed),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
