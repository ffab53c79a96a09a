/* The fitting loop on small synthetic problems: a validation split, per-epoch history, MSE
 * regression, progress reports, and the checks between data and model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/train_fit.h"
#include "nanoml/train_layers.h"
#include "test_util.h"
#include "train_check.h"

/* Two classes split by the sign of x0 + x1 (points at least 0.1 from the boundary). */
enum { N = 400 };
static float xs[N * 2], ys[N];

static void make_blobs(void) {
    nml_rng rng;
    nml_rng_seed(&rng, 5);
    for (int i = 0; i < N;) {
        float a = nml_rng_range(&rng, -1, 1), b = nml_rng_range(&rng, -1, 1);
        if (fabsf(a + b) < 0.1f) continue;
        xs[2 * i] = a, xs[2 * i + 1] = b, ys[i] = a + b > 0 ? 1.0f : 0.0f;
        i++;
    }
}

static int reports, epoch_ends;
static void count_reports(const nml_fit_progress *p, void *user) {
    (void)user;
    reports++;
    epoch_ends += p->end_of_epoch;
    assert_true(p->done <= p->total);
}

static void classification_with_validation(void **state) {
    (void)state;
    make_blobs();
    nml_net *net = tc_single_layer_net(nml_shape_1d(2), nml_dense(&(nml_dense_opts){
                                                            .units = 2,
                                                            .activation = NML_AFN_SOFTMAX}));
    nml_data d;
    nml_error err;
    assert_int_equal(nml_data_from_arrays(&d, xs, ys, N, nml_shape_1d(2), 1, 2, &err), NML_OK);
    nml_optim *opt;
    nml_optim_opts oo = {.kind = NML_OPTIM_ADAM, .lr = 0.05f};
    assert_int_equal(nml_optim_create(&opt, net, &oo, &err), NML_OK);
    nml_fit_epoch hist[5];
    nml_fit_opts fo = {.epochs = 5, .batch = 20, .val_split = 0.25f, .seed = 3,
                       .loss = NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                       .on_progress = count_reports};
    reports = epoch_ends = 0;
    assert_int_equal(nml_fit(net, opt, &d, &fo, hist, &err), NML_OK);
    /* 300 training samples in batches of 20: 15 reports per epoch plus the epoch's end */
    assert_int_equal(epoch_ends, 5);
    assert_int_equal(reports, 5 * 16);
    assert_true(hist[4].loss < hist[0].loss);
    assert_true(hist[4].val_accuracy >= 0.97); /* linearly separable with a margin */
    assert_true(hist[0].val_loss > 0.0);
    /* evaluation of the held-out quarter agrees with the last epoch's validation */
    nml_eval_result r;
    int32_t confusion[4];
    assert_int_equal(nml_evaluate(net, &d, 300, 100, 7, fo.loss, &r, confusion, &err), NML_OK);
    assert_true(fabs(r.accuracy - hist[4].val_accuracy) < 1e-12);
    assert_int_equal(confusion[0] + confusion[1] + confusion[2] + confusion[3], 100);
    nml_optim_free(opt);
    nml_net_free(net);
}

static void regression_with_mse(void **state) {
    (void)state;
    /* y = 2 x - 1 */
    float x[64], y[64];
    for (int i = 0; i < 64; i++) x[i] = -1.0f + 2.0f * (float)i / 63.0f, y[i] = 2 * x[i] - 1;
    nml_net *net = tc_single_layer_net(nml_shape_1d(1), nml_dense(&(nml_dense_opts){.units = 1}));
    nml_data d;
    nml_error err;
    assert_int_equal(nml_data_from_arrays(&d, x, y, 64, nml_shape_1d(1), 1, 0, &err), NML_OK);
    nml_optim *opt;
    nml_optim_opts oo = {.kind = NML_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f};
    assert_int_equal(nml_optim_create(&opt, net, &oo, &err), NML_OK);
    nml_fit_opts fo = {.epochs = 40, .batch = 8, .loss = NML_LOSS_MSE, .seed = 1};
    assert_int_equal(nml_fit(net, opt, &d, &fo, NULL, &err), NML_OK);
    nml_layer *l = nml_net_layer(net, 0);
    assert_true(fabsf(nml_layer_find_param(l, "kernel")->value[0] - 2.0f) < 1e-3f);
    assert_true(fabsf(nml_layer_find_param(l, "bias")->value[0] + 1.0f) < 1e-3f);
    nml_eval_result r;
    assert_int_equal(nml_evaluate(net, &d, 0, 0, 16, NML_LOSS_MSE, &r, NULL, &err), NML_OK);
    assert_true(r.loss < 1e-6 && r.accuracy < 0.0);
    nml_optim_free(opt);
    nml_net_free(net);
}

static void data_must_fit_the_model(void **state) {
    (void)state;
    make_blobs();
    nml_net *net = tc_single_layer_net(nml_shape_1d(3), nml_dense(&(nml_dense_opts){
                                                            .units = 2,
                                                            .activation = NML_AFN_SOFTMAX}));
    nml_data d;
    nml_error err;
    assert_int_equal(nml_data_from_arrays(&d, xs, ys, N, nml_shape_1d(2), 1, 2, &err), NML_OK);
    nml_optim *opt;
    nml_optim_opts oo = {.kind = NML_OPTIM_ADAM};
    assert_int_equal(nml_optim_create(&opt, net, &oo, &err), NML_OK);
    nml_fit_opts fo = {.epochs = 1, .loss = NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY};
    assert_int_equal(nml_fit(net, opt, &d, &fo, NULL, &err), NML_E_SHAPE);
    if (!strstr(err.msg, "shape 2") || !strstr(err.msg, "input 3"))
        fail_msg("message: %s", err.msg);
    /* labels beyond the output (5 classes for 2 outputs) are caught before training */
    static float x3[N * 3], labels[N];
    for (int i = 0; i < N; i++) labels[i] = (float)(i % 5);
    nml_data d3;
    assert_int_equal(nml_data_from_arrays(&d3, x3, labels, N, nml_shape_1d(3), 1, 5, &err),
                     NML_OK);
    assert_int_equal(nml_fit(net, opt, &d3, &fo, NULL, &err), NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "5 classes"));
    /* a split that leaves nothing to train on */
    for (int i = 0; i < N; i++) labels[i] = (float)(i % 2);
    assert_int_equal(nml_data_from_arrays(&d3, x3, labels, N, nml_shape_1d(3), 1, 2, &err),
                     NML_OK);
    fo.val_split = 1.0f;
    assert_int_equal(nml_fit(net, opt, &d3, &fo, NULL, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "validation split"));
    nml_optim_free(opt);
    nml_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classification_with_validation),
        cmocka_unit_test(regression_with_mse),
        cmocka_unit_test(data_must_fit_the_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
