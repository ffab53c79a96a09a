/* Finite-difference checks of every layer's backward pass: the analytic gradient of
 * L = sum(output * r) w.r.t. the layer input and every weight must match central differences of
 * the forward pass (tests/support/train_check.c). */
#include <math.h>
#include <stdlib.h>

#include "nanoml/train_layers.h"
#include "nanoml/train_lenet5.h"
#include "test_util.h"
#include "train_check.h"

#define H 1e-2f
#define TOL 2e-3

static void check_layer(nml_shape in, nml_layer *layer, int32_t batch, const float *x) {
    nml_net *net = tc_single_layer_net(in, layer);
    tc_check_gradients(net, batch, x, H, TOL, 400);
    nml_net_free(net);
}

static void conv2d_valid(void **state) {
    (void)state;
    check_layer(nml_shape_3d(6, 5, 3),
                nml_conv2d(&(nml_conv2d_opts){.filters = 4, .kernel = 3}), 2, NULL);
}

static void conv2d_same_strided_tanh(void **state) {
    (void)state;
    check_layer(nml_shape_3d(7, 6, 2),
                nml_conv2d(&(nml_conv2d_opts){.filters = 3, .kernel_h = 3, .kernel_w = 2,
                                              .stride = 2, .same_padding = 1,
                                              .activation = NML_AFN_TANH}),
                2, NULL);
}

static void conv2d_without_im2col(void **state) {
    (void)state;
    /* 1x1 kernels and kernels as large as the input use the input as the column matrix */
    check_layer(nml_shape_3d(3, 4, 5), nml_conv2d(&(nml_conv2d_opts){.filters = 2, .kernel = 1}),
                2, NULL);
    check_layer(nml_shape_3d(3, 3, 2),
                nml_conv2d(&(nml_conv2d_opts){.filters = 7, .kernel = 3, .no_bias = 1}), 3,
                NULL);
}

static void conv2d_wide_gemm_panels(void **state) {
    (void)state;
    /* 37 filters and a 9x3x3 patch exercise full and partial SGEMM tiles in every product */
    check_layer(nml_shape_3d(9, 8, 3),
                nml_conv2d(&(nml_conv2d_opts){.filters = 37, .kernel = 3, .same_padding = 1}), 3,
                NULL);
}

static void depthwise_conv2d(void **state) {
    (void)state;
    check_layer(nml_shape_3d(5, 5, 3),
                nml_depthwise_conv2d(&(nml_depthwise_conv2d_opts){
                    .kernel = 3, .stride = 2, .same_padding = 1, .depth_multiplier = 2,
                    .activation = NML_AFN_SIGMOID}),
                2, NULL);
    check_layer(nml_shape_3d(6, 4, 2),
                nml_depthwise_conv2d(&(nml_depthwise_conv2d_opts){.kernel_h = 3, .kernel_w = 2}),
                2, NULL);
}

static void average_pooling(void **state) {
    (void)state;
    check_layer(nml_shape_3d(5, 5, 2),
                nml_average_pooling2d(&(nml_pool2d_opts){.pool = 3, .stride = 2,
                                                         .same_padding = 1}),
                2, NULL);
    check_layer(nml_shape_3d(4, 6, 3), nml_average_pooling2d(&(nml_pool2d_opts){0}), 2, NULL);
}

static void max_pooling(void **state) {
    (void)state;
    /* distinct values 0.05 apart, so no step of H changes which input wins */
    enum { N = 2 * 6 * 6 * 2 };
    float x[N];
    for (int i = 0; i < N; i++) x[i] = 0.05f * (float)((i * 37) % N) - 1.0f;
    check_layer(nml_shape_3d(6, 6, 2), nml_max_pooling2d(&(nml_pool2d_opts){0}), 2, x);
    check_layer(nml_shape_3d(6, 6, 2),
                nml_max_pooling2d(&(nml_pool2d_opts){.pool = 3, .stride = 2, .same_padding = 1}),
                2, x);
}

static void dense_softmax(void **state) {
    (void)state;
    check_layer(nml_shape_1d(13),
                nml_dense(&(nml_dense_opts){.units = 10, .activation = NML_AFN_SOFTMAX}), 3,
                NULL);
    check_layer(nml_shape_1d(30), nml_dense(&(nml_dense_opts){.units = 19, .no_bias = 1}), 7,
                NULL);
}

static void flatten(void **state) {
    (void)state;
    check_layer(nml_shape_3d(2, 3, 4), nml_flatten(NULL), 2, NULL);
}

static void zero_padding(void **state) {
    (void)state;
    check_layer(nml_shape_3d(3, 2, 2),
                nml_zero_padding2d(&(nml_zero_padding2d_opts){.top = 1, .bottom = 2, .left = 3}),
                2, NULL);
}

static void batch_normalization(void **state) {
    (void)state;
    check_layer(nml_shape_3d(3, 3, 4), nml_batch_normalization(&(nml_batch_norm_opts){0}), 3,
                NULL);
}

static void dropout(void **state) {
    (void)state;
    check_layer(nml_shape_1d(50), nml_dropout(NULL, 0.4f), 2, NULL);
}

/* Inputs at least 0.1 from the kinks of relu (0) and relu6 (0 and 6). */
static void away_from_kinks(float *x, int n) {
    for (int i = 0; i < n; i++) {
        float v = -7.0f + 14.0f * (float)((i * 53) % n) / (float)n;
        if (fabsf(v) < 0.1f) v = 0.3f;
        if (fabsf(v - 6.0f) < 0.1f) v = 5.5f;
        x[i] = v;
    }
}

static void activations(void **state) {
    (void)state;
    const nml_afn smooth[] = {NML_AFN_LINEAR, NML_AFN_TANH, NML_AFN_SIGMOID, NML_AFN_SOFTMAX};
    for (size_t i = 0; i < sizeof smooth / sizeof smooth[0]; i++)
        check_layer(nml_shape_3d(2, 2, 5), nml_activation_layer(NULL, smooth[i]), 2, NULL);
    float x[2 * 40];
    away_from_kinks(x, 80);
    check_layer(nml_shape_1d(40), nml_activation_layer(NULL, NML_AFN_RELU), 2, x);
    check_layer(nml_shape_1d(40), nml_activation_layer(NULL, NML_AFN_RELU6), 2, x);
}

static void custom_layer(void **state) {
    (void)state;
    check_layer(nml_shape_1d(12), nml_lenet5_custom_dense(NULL, 9, NML_AFN_TANH), 3, NULL);
}

/* x -> conv -> tanh -> conv --+--> add -> concat(add, x) -> flatten -> dense softmax
 *  \__________________________/         /
 *   \__________________________________/
 * x feeds three layers and the add output two, so gradients from several consumers must add. */
static void functional_skip_connection(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    int x, a, b, s, c, f, y;
    assert_int_equal(nml_net_create(&net, "skip", 5, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_3d(5, 5, 2), &x, &err);
    nml_net_call1(net, nml_conv2d(&(nml_conv2d_opts){.filters = 3, .kernel = 3,
                                                     .same_padding = 1,
                                                     .activation = NML_AFN_TANH}),
                  x, &a, &err);
    nml_net_call1(net, nml_conv2d(&(nml_conv2d_opts){.filters = 2, .kernel = 3,
                                                     .same_padding = 1}),
                  a, &b, &err);
    nml_net_call(net, nml_add(NULL), 2, (int[]){x, b}, &s, &err);
    nml_net_call(net, nml_concatenate(NULL), 3, (int[]){s, x, s}, &c, &err);
    nml_net_call1(net, nml_flatten(NULL), c, &f, &err);
    nml_net_call1(net, nml_dense(&(nml_dense_opts){.units = 4, .activation = NML_AFN_SOFTMAX}),
                  f, &y, &err);
    if (nml_net_build(net, 1, &y, &err) != NML_OK) fail_msg("%s", err.msg);
    tc_check_gradients(net, 2, NULL, H, TOL, 300);
    nml_net_free(net);
}

static void add_three_inputs(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    int x, a, b, s;
    assert_int_equal(nml_net_create(&net, "add3", 5, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_1d(6), &x, &err);
    nml_net_call1(net, nml_dense(&(nml_dense_opts){.units = 6}), x, &a, &err);
    nml_net_call1(net, nml_dense(&(nml_dense_opts){.units = 6, .activation = NML_AFN_TANH}), a,
                  &b, &err);
    nml_net_call(net, nml_add(NULL), 3, (int[]){a, x, b}, &s, &err);
    if (nml_net_build(net, 1, &s, &err) != NML_OK) fail_msg("%s", err.msg);
    tc_check_gradients(net, 3, NULL, H, TOL, 300);
    nml_net_free(net);
}

static void lenet5_end_to_end(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    assert_int_equal(nml_lenet5(&net, NML_LENET5_SEQUENTIAL, 3, &err), NML_OK);
    tc_check_gradients(net, 2, NULL, H, TOL, 60);
    nml_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv2d_valid),
        cmocka_unit_test(conv2d_same_strided_tanh),
        cmocka_unit_test(conv2d_without_im2col),
        cmocka_unit_test(conv2d_wide_gemm_panels),
        cmocka_unit_test(depthwise_conv2d),
        cmocka_unit_test(average_pooling),
        cmocka_unit_test(max_pooling),
        cmocka_unit_test(dense_softmax),
        cmocka_unit_test(flatten),
        cmocka_unit_test(zero_padding),
        cmocka_unit_test(batch_normalization),
        cmocka_unit_test(dropout),
        cmocka_unit_test(activations),
        cmocka_unit_test(custom_layer),
        cmocka_unit_test(functional_skip_connection),
        cmocka_unit_test(add_three_inputs),
        cmocka_unit_test(lenet5_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
