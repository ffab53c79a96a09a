/* Forward passes of the built-in layers against hand-computed values (written out below) and
 * against direct textbook loops written here independently of the library. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/train_layers.h"
#include "test_util.h"
#include "train_check.h"

/* Runs one layer on batch samples in inference (or training) mode; returns the output, which
 * lives until the network is freed. */
static const float *run(nml_net *net, const float *x, int32_t batch, int training) {
    nml_error err;
    if (nml_net_forward(net, &x, batch, training, &err) != NML_OK) fail_msg("%s", err.msg);
    return nml_net_output(net, 0);
}

static void set_param(nml_net *net, const char *name, const float *v) {
    nml_param *p = nml_layer_find_param(nml_net_layer(net, 0), name);
    assert_non_null(p);
    memcpy(p->value, v, p->count * sizeof(float));
}

static void assert_close(const float *got, const float *want, size_t n, float tol) {
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(got[i] - want[i]) <= tol))
            fail_msg("element %zu: got %.7g, expected %.7g", i, got[i], want[i]);
}

static const float one_to_nine[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static void conv2d_by_hand(void **state) {
    (void)state;
    const float ones[4] = {1, 1, 1, 1}, bias[1] = {1};
    /* valid 2x2 ones on 1..9: window sums 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9, plus bias 1 */
    nml_net *net = tc_single_layer_net(nml_shape_3d(3, 3, 1),
                                       nml_conv2d(&(nml_conv2d_opts){.filters = 1, .kernel = 2}));
    set_param(net, "kernel", ones);
    set_param(net, "bias", bias);
    assert_close(run(net, one_to_nine, 1, 0), (const float[]){13, 17, 25, 29}, 4, 0);
    nml_net_free(net);
    /* "same", stride 1: TensorFlow pads the extra row and column at the bottom and right, so
     * the last row sees 7+8, 8+9, 9 and the last column 3+6, 6+9, 9 */
    net = tc_single_layer_net(nml_shape_3d(3, 3, 1),
                              nml_conv2d(&(nml_conv2d_opts){.filters = 1, .kernel = 2,
                                                            .same_padding = 1, .no_bias = 1}));
    set_param(net, "kernel", ones);
    assert_close(run(net, one_to_nine, 1, 0), (const float[]){12, 16, 9, 24, 28, 15, 15, 17, 9},
                 9, 0);
    nml_net_free(net);
}

/* Direct NHWC convolution with an OHWI kernel and TensorFlow padding. */
static void conv_reference(const float *x, int h, int w, int c, const float *k, const float *b,
                           int f, int kh, int kw, int sh, int sw, int same, float *y, int *oh,
                           int *ow) {
    int pt = 0, pl = 0;
    if (same) {
        *oh = (h + sh - 1) / sh;
        *ow = (w + sw - 1) / sw;
        int ph = (*oh - 1) * sh + kh - h, pw = (*ow - 1) * sw + kw - w;
        pt = ph > 0 ? ph / 2 : 0;
        pl = pw > 0 ? pw / 2 : 0;
    } else {
        *oh = (h - kh) / sh + 1;
        *ow = (w - kw) / sw + 1;
    }
    for (int oy = 0; oy < *oh; oy++)
        for (int ox = 0; ox < *ow; ox++)
            for (int o = 0; o < f; o++) {
                double acc = b[o];
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                        for (int ci = 0; ci < c; ci++) {
                            int iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            acc += (double)x[(iy * w + ix) * c + ci] *
                                   k[((o * kh + ky) * kw + kx) * c + ci];
                        }
                y[(oy * *ow + ox) * f + o] = (float)acc;
            }
}

static void conv2d_against_direct_loops(void **state) {
    (void)state;
    const struct {
        int h, w, c, f, kh, kw, sh, sw, same;
    } cases[] = {{9, 7, 3, 5, 3, 3, 1, 1, 0}, {9, 7, 3, 5, 3, 2, 2, 1, 1},
                 {8, 8, 1, 6, 5, 5, 1, 1, 1}, {5, 6, 4, 17, 2, 3, 2, 3, 1},
                 {6, 6, 2, 3, 6, 6, 1, 1, 0}, {4, 5, 3, 2, 1, 1, 1, 1, 0}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int h = cases[t].h, w = cases[t].w, c = cases[t].c, f = cases[t].f;
        nml_net *net = tc_single_layer_net(
            nml_shape_3d(h, w, c),
            nml_conv2d(&(nml_conv2d_opts){.filters = f, .kernel_h = cases[t].kh,
                                          .kernel_w = cases[t].kw, .stride_h = cases[t].sh,
                                          .stride_w = cases[t].sw,
                                          .same_padding = cases[t].same}));
        nml_layer *l = nml_net_layer(net, 0);
        nml_param *k = nml_layer_find_param(l, "kernel"), *b = nml_layer_find_param(l, "bias");
        tc_fill_uniform(b->value, b->count, -1, 1, 8);
        enum { BATCH = 2 };
        float *x = malloc(sizeof(float) * BATCH * h * w * c);
        float *want = malloc(sizeof(float) * BATCH * h * w * f);
        tc_fill_uniform(x, (size_t)BATCH * h * w * c, -1, 1, 7);
        int oh = 0, ow = 0;
        for (int i = 0; i < BATCH; i++)
            conv_reference(x + i * h * w * c, h, w, c, k->value, b->value, f, cases[t].kh,
                           cases[t].kw, cases[t].sh, cases[t].sw, cases[t].same,
                           want + i * oh * ow * f, &oh, &ow);
        nml_shape os = nml_net_output_shape(net, 0);
        assert_int_equal(os.dims[0], oh);
        assert_int_equal(os.dims[1], ow);
        assert_close(run(net, x, BATCH, 0), want, (size_t)BATCH * oh * ow * f, 1e-5f);
        free(x);
        free(want);
        nml_net_free(net);
    }
}

static void depthwise_by_hand(void **state) {
    (void)state;
    /* 2x2x2 input, 2x2 kernel, multiplier 2: channel c feeds outputs 2c and 2c+1 */
    const float x[8] = {1, 10, 2, 20, 3, 30, 4, 40};
    /* kernel [1, 2, 2, 4]: tap (ky, kx) holds weights for outputs 0..3 */
    const float k[16] = {1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, -1};
    nml_net *net = tc_single_layer_net(
        nml_shape_3d(2, 2, 2),
        nml_depthwise_conv2d(&(nml_depthwise_conv2d_opts){.kernel = 2, .depth_multiplier = 2,
                                                          .no_bias = 1}));
    set_param(net, "kernel", k);
    /* out0 = 1+2+3+4 = 10 (channel 0, weights 1,1,1,1); out1 = 4 (0,0,0,1 on channel 0)
     * out2 = 10 (1,0,0,0 on channel 1); out3 = 20 - 40 = -20 (0,1,0,-1 on channel 1) */
    assert_close(run(net, x, 1, 0), (const float[]){10, 4, 10, -20}, 4, 0);
    nml_net_free(net);
}

static void pooling_by_hand(void **state) {
    (void)state;
    /* average 2x2 stride 2 "same" on 3x3: the windows at the edge average only real inputs:
     * (1+2+4+5)/4 = 3, (3+6)/2 = 4.5, (7+8)/2 = 7.5, 9/1 = 9 */
    nml_net *net = tc_single_layer_net(nml_shape_3d(3, 3, 1),
                                       nml_average_pooling2d(&(nml_pool2d_opts){.same_padding = 1}));
    assert_close(run(net, one_to_nine, 1, 0), (const float[]){3, 4.5f, 7.5f, 9}, 4, 0);
    nml_net_free(net);
    net = tc_single_layer_net(nml_shape_3d(3, 3, 1),
                              nml_max_pooling2d(&(nml_pool2d_opts){.stride = 1}));
    assert_close(run(net, one_to_nine, 1, 0), (const float[]){5, 6, 8, 9}, 4, 0);
    nml_net_free(net);
    /* two channels pool independently */
    const float x2[8] = {1, -1, 2, -2, 3, -3, 4, -4};
    net = tc_single_layer_net(nml_shape_3d(2, 2, 2), nml_max_pooling2d(&(nml_pool2d_opts){0}));
    assert_close(run(net, x2, 1, 0), (const float[]){4, -1}, 2, 0);
    nml_net_free(net);
}

static void dense_by_hand(void **state) {
    (void)state;
    /* kernel [units, inputs] = [[1, 0], [0, 1], [1, 1]], bias [0.5, 0, -1], x = [1, 2] */
    nml_net *net = tc_single_layer_net(nml_shape_1d(2),
                                       nml_dense(&(nml_dense_opts){.units = 3}));
    set_param(net, "kernel", (const float[]){1, 0, 0, 1, 1, 1});
    set_param(net, "bias", (const float[]){0.5f, 0, -1});
    assert_close(run(net, (const float[]){1, 2}, 1, 0), (const float[]){1.5f, 2, 2}, 3, 0);
    nml_net_free(net);
}

static void reshaping_layers(void **state) {
    (void)state;
    nml_net *net = tc_single_layer_net(
        nml_shape_3d(2, 1, 2),
        nml_zero_padding2d(&(nml_zero_padding2d_opts){.top = 1, .left = 1, .right = 1}));
    nml_shape s = nml_net_output_shape(net, 0);
    assert_int_equal(s.dims[0], 3);
    assert_int_equal(s.dims[1], 3);
    /* rows: [0 0 | 0 0 | 0 0], [0 0 | 1 2 | 0 0], [0 0 | 3 4 | 0 0] */
    const float want[18] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 3, 4, 0, 0};
    assert_close(run(net, (const float[]){1, 2, 3, 4}, 1, 0), want, 18, 0);
    nml_net_free(net);

    nml_error err;
    int x, a, b, c;
    assert_int_equal(nml_net_create(&net, "cat", 1, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_3d(1, 2, 1), &x, &err);
    nml_net_call1(net, nml_activation_layer(NULL, NML_AFN_LINEAR), x, &a, &err);
    nml_net_call1(net, nml_zero_padding2d(&(nml_zero_padding2d_opts){0}), x, &b, &err);
    nml_net_call(net, nml_concatenate(NULL), 3, (int[]){a, x, b}, &c, &err);
    assert_int_equal(nml_net_build(net, 1, &c, &err), NML_OK);
    assert_int_equal(nml_net_output_shape(net, 0).dims[2], 3);
    assert_close(run(net, (const float[]){5, 6}, 1, 0), (const float[]){5, 5, 5, 6, 6, 6}, 6, 0);
    nml_net_free(net);
}

static void batch_norm_modes(void **state) {
    (void)state;
    nml_net *net = tc_single_layer_net(nml_shape_1d(2),
                                       nml_batch_normalization(&(nml_batch_norm_opts){
                                           .momentum = 0.5f, .epsilon = 1e-3f}));
    set_param(net, "gamma", (const float[]){2, 1});
    set_param(net, "beta", (const float[]){1, 0});
    set_param(net, "moving_mean", (const float[]){1, -1});
    set_param(net, "moving_variance", (const float[]){4, 0.25f});
    /* inference: 2 * (3 - 1) / sqrt(4.001) + 1 and (0 + 1) / sqrt(0.251) */
    const float x[2] = {3, 0};
    assert_close(run(net, x, 1, 0),
                 (const float[]){(float)(2 * 2 / sqrt(4.001) + 1), (float)(1 / sqrt(0.251))}, 2,
                 1e-6f);
    /* training on a batch of two: channel 0 values {3, 5}: mean 4, variance 1 */
    const float xb[4] = {3, 0, 5, 0};
    const float *y = run(net, xb, 2, 1);
    const float n0 = (float)(1 / sqrt(1.001));
    assert_close(y, (const float[]){2 * -n0 + 1, 0, 2 * n0 + 1, 0}, 4, 1e-6f);
    /* moving averages: 0.5 * old + 0.5 * batch */
    nml_param *mm = nml_layer_find_param(nml_net_layer(net, 0), "moving_mean");
    nml_param *mv = nml_layer_find_param(nml_net_layer(net, 0), "moving_variance");
    assert_close(mm->value, (const float[]){2.5f, -0.5f}, 2, 1e-7f);
    assert_close(mv->value, (const float[]){2.5f, 0.125f}, 2, 1e-7f);
    nml_net_free(net);
}

static void dropout_modes(void **state) {
    (void)state;
    enum { N = 20000 };
    float *x = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++) x[i] = 1.0f;
    nml_net *net = tc_single_layer_net(nml_shape_1d(N), nml_dropout(NULL, 0.25f));
    const float *y = run(net, x, 1, 1);
    int zeros = 0;
    for (int i = 0; i < N; i++) {
        if (y[i] == 0.0f)
            zeros++;
        else
            assert_true(fabsf(y[i] - 1.0f / 0.75f) < 1e-6f);
    }
    /* binomial(20000, 0.25): mean 5000, standard deviation 61; 5 sigma either way */
    assert_true(zeros > 5000 - 306 && zeros < 5000 + 306);
    y = run(net, x, 1, 0);
    for (int i = 0; i < N; i++) assert_true(y[i] == 1.0f);
    nml_net_free(net);
    free(x);
}

static void activation_functions(void **state) {
    (void)state;
    enum { N = 4001 };
    float *x = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++) x[i] = -20.0f + 0.01f * (float)i;
    const nml_afn fns[] = {NML_AFN_TANH, NML_AFN_SIGMOID, NML_AFN_RELU, NML_AFN_RELU6};
    for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
        nml_net *net = tc_single_layer_net(nml_shape_1d(N), nml_activation_layer(NULL, fns[f]));
        const float *y = run(net, x, 1, 0);
        for (int i = 0; i < N; i++) {
            double v = x[i], want = 0.0;
            switch (fns[f]) {
            case NML_AFN_TANH: want = tanh(v); break;
            case NML_AFN_SIGMOID: want = 1.0 / (1.0 + exp(-v)); break;
            case NML_AFN_RELU: want = v > 0 ? v : 0; break;
            default: want = v < 0 ? 0 : (v > 6 ? 6 : v); break;
            }
            /* a few float ulps, absolute near zero */
            double tol = 4e-7 * (fabs(want) > 1e-1 ? fabs(want) : 1e-1);
            if (!(fabs(y[i] - want) <= tol))
                fail_msg("%d at %g: %.9g vs %.9g", (int)fns[f], v, y[i], want);
        }
        nml_net_free(net);
    }
    /* softmax over the last dimension: [1, 2, 3] -> e^k / (e + e^2 + e^3) per row */
    nml_net *net = tc_single_layer_net(nml_shape_1d(3),
                                       nml_activation_layer(NULL, NML_AFN_SOFTMAX));
    const double s = exp(1) + exp(2) + exp(3);
    assert_close(run(net, (const float[]){1, 2, 3, 1001, 1002, 1003}, 2, 0),
                 (const float[]){(float)(exp(1) / s), (float)(exp(2) / s), (float)(exp(3) / s),
                                 (float)(exp(1) / s), (float)(exp(2) / s), (float)(exp(3) / s)},
                 6, 1e-7f);
    nml_net_free(net);
    free(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv2d_by_hand),      cmocka_unit_test(conv2d_against_direct_loops),
        cmocka_unit_test(depthwise_by_hand),   cmocka_unit_test(pooling_by_hand),
        cmocka_unit_test(dense_by_hand),       cmocka_unit_test(reshaping_layers),
        cmocka_unit_test(batch_norm_modes),    cmocka_unit_test(dropout_modes),
        cmocka_unit_test(activation_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
