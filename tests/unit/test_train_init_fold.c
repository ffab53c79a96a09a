/* LeNet-5's initialization options and the input-transform fold used to export a network trained
 * on standardized pixels. References: hand-computed centering; for the fold, the same network's
 * own forward pass on the transformed input before folding (the fold must not change the
 * function, only move the transform into the weights). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/train_layers.h"
#include "nanoml/train_lenet5.h"
#include "nanoml/train_net.h"
#include "nanoml/train_param.h"
#include "test_util.h"
#include "train_check.h"

/* Rows [1, 2, 3] and [0, 0, 6] have means 2 and 2: centered [-1, 0, 1] and [-2, -2, 4], times
 * gain 2: [-2, 0, 2] and [-4, -4, 8]. */
static void center_rows_by_hand(void **state) {
    (void)state;
    nml_param *p;
    nml_error err;
    nml_shape s = {2, {2, 3}};
    assert_int_equal(nml_param_create(&p, "w", &s, NML_INIT_ZEROS, 3, 2, 1, &err), NML_OK);
    const float v[6] = {1, 2, 3, 0, 0, 6}, want[6] = {-2, 0, 2, -4, -4, 8};
    memcpy(p->value, v, sizeof v);
    assert_int_equal(nml_param_center_rows(p, 2.0f, &err), NML_OK);
    for (int i = 0; i < 6; i++)
        assert_true(fabsf(p->value[i] - want[i]) < 1e-6f);
    const uint8_t mask[6] = {1, 1, 1, 1, 1, 0};
    assert_int_equal(nml_param_set_mask(p, mask, &err), NML_OK);
    assert_int_equal(nml_param_center_rows(p, 1.0f, &err), NML_E_UNSUPPORTED);
    nml_param_free(p);
}

static nml_net *lenet(nml_lenet5_style style, nml_lenet5_init init) {
    nml_net *net;
    nml_error err;
    if (nml_lenet5_with_init(&net, style, 7, init, &err) != NML_OK) fail_msg("%s", err.msg);
    return net;
}

static const nml_param *kernel(const nml_net *net, const char *layer) {
    const nml_layer *l = nml_net_find_layer(net, layer);
    assert_non_null(l);
    const nml_param *k = nml_layer_find_param(l, "kernel");
    assert_non_null(k);
    return k;
}

/* Centered: C3 and C5 filters sum to zero and are 4x the He draw (the same draw, since the seed
 * is the same: C1 and the dense layers are identical). He uniform: |w| <= sqrt(6 / fan_in). */
static void lenet5_centered_init(void **state) {
    (void)state;
    nml_net *he = lenet(NML_LENET5_SEQUENTIAL, NML_LENET5_INIT_HE);
    nml_net *cen = lenet(NML_LENET5_SEQUENTIAL, NML_LENET5_INIT_CENTERED);
    nml_net *glorot = lenet(NML_LENET5_SEQUENTIAL, NML_LENET5_INIT_GLOROT);
    const char *names[] = {"c3", "c5"};
    for (int n = 0; n < 2; n++) {
        const nml_param *h = kernel(he, names[n]), *c = kernel(cen, names[n]);
        const size_t rows = (size_t)h->shape.dims[0], per = h->count / rows;
        const float limit = sqrtf(6.0f / (float)per);
        for (size_t r = 0; r < rows; r++) {
            double hsum = 0.0, csum = 0.0;
            for (size_t i = 0; i < per; i++) {
                assert_true(fabsf(h->value[r * per + i]) <= limit);
                hsum += h->value[r * per + i];
                csum += c->value[r * per + i];
            }
            assert_true(fabs(csum) < 1e-4);
            const double mean = hsum / (double)per;
            for (size_t i = 0; i < per; i += 7)
                assert_true(fabs(c->value[r * per + i] - 4.0 * (h->value[r * per + i] - mean)) <
                            1e-5);
        }
    }
    assert_memory_equal(kernel(he, "c1")->value, kernel(cen, "c1")->value, 150 * sizeof(float));
    assert_memory_equal(kernel(he, "f6")->value, kernel(cen, "f6")->value,
                        120 * 84 * sizeof(float));
    /* Glorot: c1 limit sqrt(6 / (25 + 150)) = 0.185 < He's sqrt(6 / 25) = 0.49 */
    const nml_param *g1 = kernel(glorot, "c1");
    float gmax = 0.0f;
    for (size_t i = 0; i < g1->count; i++)
        gmax = fmaxf(gmax, fabsf(g1->value[i]));
    assert_true(gmax <= sqrtf(6.0f / 175.0f) && gmax > 0.1f);
    assert_int_equal(nml_net_weight_count(cen), NML_LENET5_PARAMS);
    nml_lenet5_init init;
    assert_int_equal(nml_lenet5_init_parse("glorot", &init), 0);
    assert_int_equal(init, NML_LENET5_INIT_GLOROT);
    assert_string_equal(nml_lenet5_init_name(NML_LENET5_INIT_CENTERED), "centered");
    assert_int_equal(nml_lenet5_init_parse("xavier", &init), -1);
    nml_net *bad;
    nml_error err;
    assert_int_equal(nml_lenet5_with_init(&bad, NML_LENET5_SEQUENTIAL, 1, (nml_lenet5_init)9, &err),
                     NML_E_ARG);
    nml_net_free(he);
    nml_net_free(cen);
    nml_net_free(glorot);
}

/* A 32x32 LeNet-5 trained on standardized pixels z = (x - m) / s, folded, must give on x what
 * it gave on z, for random images padded with 0 (whose standardized padding is -m / s). */
static void fold_keeps_the_function(void **state) {
    (void)state;
    const float m = 0.286f, s = 0.353f;
    nml_net *net = lenet(NML_LENET5_FUNCTIONAL, NML_LENET5_INIT_CENTERED);
    /* non-zero biases, so that the fold's bias change is exercised on top of them */
    nml_param *b1 = nml_layer_find_param(nml_net_find_layer(net, "c1"), "bias");
    for (int i = 0; i < 6; i++)
        b1->value[i] = 0.1f * (float)(i - 2);
    enum { B = 4, N = 32 * 32 };
    float *x = calloc((size_t)B * N, sizeof(float)), *z = malloc(sizeof(float) * B * N);
    float img[28 * 28];
    for (int b = 0; b < B; b++) {
        tc_fill_uniform(img, 28 * 28, 0, 1, 100 + (uint64_t)b);
        for (int r = 0; r < 28; r++)
            memcpy(&x[b * N + (r + 2) * 32 + 2], &img[r * 28], 28 * 4);
    }
    for (int i = 0; i < B * N; i++)
        z[i] = (x[i] - m) / s;
    nml_error err;
    const float *in = z;
    assert_int_equal(nml_net_forward(net, &in, B, 0, &err), NML_OK);
    float before[B * 10];
    memcpy(before, nml_net_output(net, 0), sizeof before);
    assert_int_equal(nml_net_fold_input_affine(net, 0, 1.0f / s, -m / s, &err), NML_OK);
    in = x;
    assert_int_equal(nml_net_forward(net, &in, B, 0, &err), NML_OK);
    const float *after = nml_net_output(net, 0);
    for (int i = 0; i < B * 10; i++)
        assert_true(fabsf(after[i] - before[i]) < 1e-5f);
    assert_int_equal(nml_net_fold_input_affine(net, 1, 1.0f, 0.0f, &err), NML_E_ARG);
    assert_int_equal(nml_net_fold_input_affine(net, 0, NAN, 0.0f, &err), NML_E_ARG);
    nml_net_free(net);
    free(x);
    free(z);
}

/* The input also feeds an average pool, which cannot absorb an offset: the fold is refused and
 * the convolution beside it keeps its weights (all or nothing). A "same" convolution is refused
 * too (its zero padding would not be transformed). */
static void fold_refuses_what_it_cannot_fold(void **state) {
    (void)state;
    nml_error err;
    nml_net *net;
    int x, a, p, cat, flat, out;
    assert_int_equal(nml_net_create(&net, "two", 3, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_3d(6, 6, 1), &x, &err);
    nml_net_call1(net, nml_conv2d(&(nml_conv2d_opts){.name = "conv", .filters = 2, .kernel = 3}), x,
                  &a, &err);
    nml_net_call1(net, nml_average_pooling2d(&(nml_pool2d_opts){.pool = 3, .stride = 1}), x, &p,
                  &err);
    const int both[2] = {a, p};
    nml_net_call(net, nml_concatenate("cat"), 2, both, &cat, &err);
    nml_net_call1(net, nml_flatten("flat"), cat, &flat, &err);
    nml_net_call1(net, nml_dense(&(nml_dense_opts){.units = 2}), flat, &out, &err);
    assert_int_equal(nml_net_build(net, 1, &out, &err), NML_OK);
    nml_param *k = nml_layer_find_param(nml_net_find_layer(net, "conv"), "kernel");
    float saved[18];
    memcpy(saved, k->value, sizeof saved);
    assert_int_equal(nml_net_fold_input_affine(net, 0, 2.0f, 1.0f, &err), NML_E_UNSUPPORTED);
    assert_memory_equal(saved, k->value, sizeof saved);
    nml_net_free(net);

    assert_int_equal(nml_net_create(&net, "same", 3, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_3d(6, 6, 1), &x, &err);
    nml_net_add(net, nml_conv2d(&(nml_conv2d_opts){.filters = 2, .kernel = 3, .same_padding = 1}),
                &err);
    assert_int_equal(nml_net_build(net, 0, NULL, &err), NML_OK);
    assert_int_equal(nml_net_fold_input_affine(net, 0, 2.0f, 1.0f, &err), NML_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "same"));
    nml_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(center_rows_by_hand),
        cmocka_unit_test(lenet5_centered_init),
        cmocka_unit_test(fold_keeps_the_function),
        cmocka_unit_test(fold_refuses_what_it_cannot_fold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
