/* Building networks: shape inference errors, naming, sticky errors, the three LeNet-5 styles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/train_layers.h"
#include "nanoml/train_lenet5.h"
#include "test_util.h"
#include "train_check.h"

static void assert_contains(const char *text, const char *part) {
    if (!strstr(text, part)) fail_msg("'%s' does not contain '%s'", text, part);
}

static void mismatch_names_layer_and_both_shapes(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    int x, a, b, s;
    assert_int_equal(nml_net_create(&net, "bad", 1, &err), NML_OK);
    nml_net_input(net, "image", nml_shape_3d(14, 14, 6), &x, &err);
    nml_net_call1(net, nml_conv2d(&(nml_conv2d_opts){.name = "branch_a", .filters = 6,
                                                     .kernel = 3, .same_padding = 1}),
                  x, &a, &err);
    nml_net_call1(net, nml_conv2d(&(nml_conv2d_opts){.name = "branch_b", .filters = 16,
                                                     .kernel = 3, .same_padding = 1}),
                  x, &b, &err);
    assert_int_equal(nml_net_call(net, nml_add("merge"), 2, (int[]){a, b}, &s, &err),
                     NML_E_SHAPE);
    assert_contains(err.msg, "merge (Add)");
    assert_contains(err.msg, "14x14x6");
    assert_contains(err.msg, "14x14x16");
    assert_int_equal(s, -1);
    /* sticky: later calls and the build repeat the first error */
    int d;
    nml_error later;
    assert_int_equal(nml_net_call1(net, nml_flatten(NULL), a, &d, &later), NML_E_SHAPE);
    assert_string_equal(later.msg, err.msg);
    assert_int_equal(nml_net_build(net, 0, NULL, &later), NML_E_SHAPE);
    assert_string_equal(later.msg, err.msg);
    nml_net_free(net);
}

static void dense_needs_a_vector(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    int x;
    assert_int_equal(nml_net_create(&net, "bad", 1, &err), NML_OK);
    nml_net_input(net, "image", nml_shape_3d(5, 5, 16), &x, &err);
    assert_int_equal(nml_net_add(net, nml_dense(&(nml_dense_opts){.name = "f6", .units = 84}),
                                 &err),
                     NML_E_SHAPE);
    assert_contains(err.msg, "f6 (Dense)");
    assert_contains(err.msg, "5x5x16");
    assert_contains(err.msg, "Flatten");
    nml_net_free(net);
}

static void kernel_larger_than_input(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    int x;
    assert_int_equal(nml_net_create(&net, "bad", 1, &err), NML_OK);
    nml_net_input(net, "image", nml_shape_3d(4, 4, 16), &x, &err);
    assert_int_equal(nml_net_add(net, nml_conv2d(&(nml_conv2d_opts){.name = "c5", .filters = 120,
                                                                    .kernel = 5}),
                                 &err),
                     NML_E_SHAPE);
    assert_contains(err.msg, "c5 (Conv2D)");
    assert_contains(err.msg, "5x5");
    assert_contains(err.msg, "4x4x16");
    nml_net_free(net);
}

static void concatenate_and_options_errors(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    int x, y, a, c;
    assert_int_equal(nml_net_create(&net, "bad", 1, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_3d(4, 4, 2), &x, &err);
    nml_net_input(net, "y", nml_shape_3d(4, 5, 2), &y, &err);
    assert_int_equal(nml_net_call(net, nml_concatenate("cat"), 2, (int[]){x, y}, &c, &err),
                     NML_E_SHAPE);
    assert_contains(err.msg, "cat (Concatenate)");
    assert_contains(err.msg, "4x4x2");
    assert_contains(err.msg, "4x5x2");
    nml_net_free(net);

    assert_int_equal(nml_net_create(&net, "bad", 1, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_3d(4, 4, 2), &x, &err);
    assert_int_equal(nml_net_call1(net, nml_conv2d(&(nml_conv2d_opts){.kernel = 3}), x, &a, &err),
                     NML_E_ARG);
    assert_contains(err.msg, "conv2d_1 (Conv2D): filters must be at least 1");
    nml_net_free(net);
}

static void names_and_ownership(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    int x, a, b;
    assert_int_equal(nml_net_create(&net, "names", 1, &err), NML_OK);
    nml_net_input(net, NULL, nml_shape_1d(4), &x, &err);
    nml_net_call1(net, nml_dense(&(nml_dense_opts){.units = 3}), x, &a, &err);
    nml_net_call1(net, nml_dense(&(nml_dense_opts){.units = 2}), a, &b, &err);
    assert_string_equal(nml_net_layer(net, 0)->name, "dense_1");
    assert_string_equal(nml_net_layer(net, 1)->name, "dense_2");
    assert_non_null(nml_layer_find_param(nml_net_layer(net, 1), "kernel"));
    assert_string_equal(nml_layer_find_param(nml_net_layer(net, 1), "bias")->name,
                        "dense_2/bias");
    /* a duplicate name is an error, and the rejected layer is freed (checked by ASan) */
    int c;
    assert_int_equal(nml_net_call1(net, nml_flatten("dense_1"), b, &c, &err), NML_E_ARG);
    assert_contains(err.msg, "'dense_1' is already used");
    nml_net_free(net);

    /* a layer can be called only once */
    assert_int_equal(nml_net_create(&net, "twice", 1, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_1d(4), &x, &err);
    nml_layer *shared = nml_dense(&(nml_dense_opts){.units = 4});
    assert_int_equal(nml_net_call1(net, shared, x, &a, &err), NML_OK);
    assert_int_equal(nml_net_call1(net, shared, a, &b, &err), NML_E_ARG);
    assert_contains(err.msg, "already part of a network");
    nml_net_free(net);

    /* a constructor that failed (NULL) is reported at the call */
    assert_int_equal(nml_net_create(&net, "null", 1, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_1d(4), &x, &err);
    assert_int_equal(nml_net_call1(net, NULL, x, &a, &err), NML_E_NOMEM);
    nml_net_free(net);
}

static nml_net *lenet(nml_lenet5_style style, uint64_t seed) {
    nml_net *net;
    nml_error err;
    if (nml_lenet5(&net, style, seed, &err) != NML_OK) fail_msg("%s", err.msg);
    return net;
}

/* 61,706 is the study's figure; by hand: conv 6 * (25 + 1) = 156, conv 16 * (6 * 25 + 1) = 2,416,
 * conv 120 * (16 * 25 + 1) = 48,120, dense 84 * (120 + 1) = 10,164, dense 10 * (84 + 1) = 850. */
static void lenet5_styles_are_the_same_network(void **state) {
    (void)state;
    assert_int_equal(156 + 2416 + 48120 + 10164 + 850, 61706);
    const nml_lenet5_style styles[] = {NML_LENET5_SEQUENTIAL, NML_LENET5_FUNCTIONAL,
                                       NML_LENET5_CUSTOM};
    nml_net *ref = lenet(NML_LENET5_SEQUENTIAL, 11);
    assert_int_equal(nml_net_weight_count(ref), 61706);
    const size_t per_layer[] = {156, 0, 0, 2416, 0, 0, 48120, 0, 10164, 850};
    assert_int_equal(nml_net_layer_count(ref), 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(nml_layer_weight_count(nml_net_layer(ref, i)), per_layer[i]);
    enum { B = 3 };
    float *x = malloc(sizeof(float) * B * 32 * 32);
    tc_fill_uniform(x, B * 32 * 32, 0, 1, 5);
    nml_error err;
    const float *in = x;
    assert_int_equal(nml_net_forward(ref, &in, B, 0, &err), NML_OK);
    for (size_t s = 1; s < sizeof styles / sizeof styles[0]; s++) {
        nml_net *net = lenet(styles[s], 11);
        assert_int_equal(nml_net_weight_count(net), 61706);
        assert_int_equal(nml_net_layer_count(net), nml_net_layer_count(ref));
        for (int i = 0; i < nml_net_layer_count(ref); i++) {
            nml_layer *a = nml_net_layer(ref, i), *b = nml_net_layer(net, i);
            assert_true(nml_shape_equal(&a->out_shape, &b->out_shape));
            assert_int_equal(a->act, b->act);
            assert_int_equal(nml_layer_weight_count(a), nml_layer_weight_count(b));
        }
        /* same seed, same weights, same function */
        assert_int_equal(nml_net_forward(net, &in, B, 0, &err), NML_OK);
        assert_memory_equal(nml_net_output(net, 0), nml_net_output(ref, 0),
                            B * 10 * sizeof(float));
        nml_net_free(net);
    }
    /* the custom style really uses the callback layer */
    nml_net *custom = lenet(NML_LENET5_CUSTOM, 11);
    assert_string_equal(nml_net_layer(custom, 8)->ops->kind, "CustomDense");
    nml_net_free(custom);
    nml_net_free(ref);
    free(x);
}

static void summary_lists_layers(void **state) {
    (void)state;
    nml_net *net = lenet(NML_LENET5_FUNCTIONAL, 1);
    char buf[4096] = {0};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    assert_non_null(f);
    nml_net_summary(net, f);
    fclose(f);
    assert_contains(buf, "c1 (Conv2D, tanh)");
    assert_contains(buf, "28x28x6");
    assert_contains(buf, "48,120");
    assert_contains(buf, "Total params: 61,706");
    nml_net_free(net);
}

static void forward_rejects_bad_use(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    int x;
    assert_int_equal(nml_net_create(&net, "n", 1, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_1d(2), &x, &err);
    nml_net_add(net, nml_dense(&(nml_dense_opts){.units = 2}), &err);
    const float v[2] = {1, 2};
    const float *in = v;
    assert_int_equal(nml_net_forward(net, &in, 1, 0, &err), NML_E_STATE); /* not built */
    assert_int_equal(nml_net_build(net, 0, NULL, &err), NML_OK);
    assert_int_equal(nml_net_forward(net, &in, 0, 0, &err), NML_E_ARG);
    assert_int_equal(nml_net_backward(net, &err), NML_E_STATE); /* no forward yet */
    assert_int_equal(nml_net_forward(net, &in, 1, 0, &err), NML_OK);
    assert_int_equal(nml_net_backward(net, &err), NML_E_STATE); /* inference forward */
    nml_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mismatch_names_layer_and_both_shapes),
        cmocka_unit_test(dense_needs_a_vector),
        cmocka_unit_test(kernel_larger_than_input),
        cmocka_unit_test(concatenate_and_options_errors),
        cmocka_unit_test(names_and_ownership),
        cmocka_unit_test(lenet5_styles_are_the_same_network),
        cmocka_unit_test(summary_lists_layers),
        cmocka_unit_test(forward_rejects_bad_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
