/* Weight clustering: k-means on hand examples, the three centroid initializations (determinism
 * with a seed), centroid gradients against central differences, tied weights staying tied
 * through training, pruning-preserving clustering keeping every zero, and bad cluster counts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/cluster.h"
#include "nanoml/prune.h"
#include "nanoml/train_fit.h"
#include "nanoml/train_layers.h"
#include "test_util.h"
#include "train_check.h"

static void assert_near(double a, double b, double tol) {
    if (!(fabs(a - b) <= tol)) fail_msg("%.9g != %.9g (tolerance %g)", a, b, tol);
}

static void kmeans_hand_example(void **state) {
    (void)state;
    const float x[6] = {11, 1, 10, 3, 12, 2};
    float c[2];
    int32_t a[6];
    int it;
    nml_error err;
    /* linear init: 1 and 12; {1, 2, 3} and {10, 11, 12} -> means 2 and 11, then stable */
    assert_int_equal(nml_kmeans_1d(x, 6, 2, NML_CENTROIDS_LINEAR, 0, -1, c, a, &it, &err), NML_OK);
    assert_near(c[0], 2.0, 1e-6);
    assert_near(c[1], 11.0, 1e-6);
    assert_memory_equal(a, ((const int32_t[]){1, 0, 1, 0, 1, 0}), sizeof a);
    assert_int_equal(it, 1);
    /* no iterations: the initial centroids stay (TF-MOT) */
    assert_int_equal(nml_kmeans_1d(x, 6, 2, NML_CENTROIDS_LINEAR, 0, 0, c, a, &it, &err), NML_OK);
    assert_near(c[0], 1.0, 0);
    assert_near(c[1], 12.0, 0);
    assert_int_equal(it, 0);
    /* a value halfway between two centroids goes to the lower one */
    const float y[3] = {0, 1, 2};
    assert_int_equal(nml_kmeans_1d(y, 3, 2, NML_CENTROIDS_LINEAR, 0, 0, c, a, NULL, &err), NML_OK);
    assert_memory_equal(a, ((const int32_t[]){0, 0, 1}), 3 * sizeof(int32_t));
}

static void centroid_initializations(void **state) {
    (void)state;
    nml_error err;
    float c[4];
    /* linear: evenly spaced from min to max */
    const float x[4] = {0.5f, -1.0f, 3.0f, 0.0f};
    assert_int_equal(nml_centroids_init(x, 4, 3, NML_CENTROIDS_LINEAR, 0, c, &err), NML_OK);
    assert_near(c[0], -1.0, 0);
    assert_near(c[1], 1.0, 1e-7);
    assert_near(c[2], 3.0, 0);
    /* density: quantiles 0, 1/2, 1 of {0, 0, 0, 0, 1, 2, 10}: where the weights are */
    const float d[7] = {10, 0, 2, 0, 1, 0, 0};
    assert_int_equal(nml_centroids_init(d, 7, 3, NML_CENTROIDS_DENSITY, 0, c, &err), NML_OK);
    assert_near(c[0], 0.0, 0);
    assert_near(c[1], 0.0, 0);
    assert_near(c[2], 10.0, 0);
    /* quantiles 1/3 and 2/3 of 0..8 interpolate: 8/3 and 16/3 */
    const float e[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(nml_centroids_init(e, 9, 4, NML_CENTROIDS_DENSITY, 0, c, &err), NML_OK);
    assert_near(c[1], 8.0 / 3.0, 1e-6);
    assert_near(c[2], 16.0 / 3.0, 1e-6);
    /* k-means++: with k = the number of distinct values every value is drawn once (a value at
     * distance 0 has probability 0), in any seed */
    const float f[6] = {4, -2, 4, 7, -2, 1};
    for (uint64_t seed = 1; seed <= 5; seed++) {
        assert_int_equal(nml_centroids_init(f, 6, 4, NML_CENTROIDS_KMEANS_PP, seed, c, &err),
                         NML_OK);
        assert_memory_equal(c, ((const float[]){-2, 1, 4, 7}), sizeof c);
    }
    /* same seed, same draw; the draws are values of the data */
    float g[200], c1[8], c2[8];
    tc_fill_uniform(g, 200, -1.0f, 1.0f, 2);
    assert_int_equal(nml_centroids_init(g, 200, 8, NML_CENTROIDS_KMEANS_PP, 9, c1, &err), NML_OK);
    assert_int_equal(nml_centroids_init(g, 200, 8, NML_CENTROIDS_KMEANS_PP, 9, c2, &err), NML_OK);
    assert_memory_equal(c1, c2, sizeof c1);
    for (int j = 0; j < 8; j++) {
        int found = 0;
        for (int i = 0; i < 200; i++)
            found |= g[i] == c1[j];
        assert_true(found);
    }
}

/* A converged k-means: every value is at its nearest centroid, every centroid the mean of its
 * members. */
static void kmeans_fixed_point(void **state) {
    (void)state;
    enum { N = 500, K = 16 };
    float x[N], c[K];
    int32_t a[N];
    nml_error err;
    tc_fill_uniform(x, N, -0.3f, 0.3f, 4);
    for (int i = 0; i < N; i += 3)
        x[i] *= 0.1f; /* a denser middle */
    assert_int_equal(nml_kmeans_1d(x, N, K, NML_CENTROIDS_DENSITY, 0, -1, c, a, NULL, &err),
                     NML_OK);
    for (int j = 1; j < K; j++)
        assert_true(c[j - 1] <= c[j]);
    double sum[K] = {0};
    int count[K] = {0};
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < K; j++)
            assert_true(fabsf(x[i] - c[a[i]]) <= fabsf(x[i] - c[j]) + 1e-7f);
        sum[a[i]] += x[i];
        count[a[i]]++;
    }
    for (int j = 0; j < K; j++)
        if (count[j]) assert_near(c[j], sum[j] / count[j], 1e-6);
}

static void bad_cluster_counts(void **state) {
    (void)state;
    const float x[5] = {1, 2, 3, 4, 5};
    float c[NML_CLUSTERS_MAX + 1];
    nml_error err;
    assert_int_equal(nml_kmeans_1d(x, 5, 0, NML_CENTROIDS_LINEAR, 0, -1, c, NULL, NULL, &err),
                     NML_E_ARG);
    assert_non_null(strstr(err.msg, "0 clusters"));
    assert_int_equal(nml_kmeans_1d(x, 5, 300, NML_CENTROIDS_LINEAR, 0, -1, c, NULL, NULL, &err),
                     NML_E_ARG);
    assert_non_null(strstr(err.msg, "1 to 256"));
    assert_int_equal(nml_kmeans_1d(x, 5, 6, NML_CENTROIDS_LINEAR, 0, -1, c, NULL, NULL, &err),
                     NML_E_ARG);
    assert_non_null(strstr(err.msg, "6 clusters for 5 weights"));
    /* on a network: the message names the layer */
    nml_net *net;
    assert_int_equal(nml_net_create(&net, "n", 1, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_1d(3), NULL, &err);
    nml_net_add(net, nml_dense(&(nml_dense_opts){.name = "d", .units = 2}), &err);
    assert_int_equal(nml_net_build(net, 0, NULL, &err), NML_OK);
    nml_cluster_opts o;
    nml_cluster_opts_default(&o);
    o.clusters = 7;
    nml_clusterer *cl;
    assert_int_equal(nml_clusterer_create(&cl, net, &o, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "layer d: 7 clusters for 6 weights"));
    o.clusters = 0;
    assert_int_equal(nml_clusterer_create(&cl, net, &o, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "0 clusters"));
    nml_net_free(net);
}

/* ---- training the centroids ---- */

static nml_net *mlp(uint64_t seed) {
    nml_net *net;
    nml_error err;
    assert_int_equal(nml_net_create(&net, "mlp", seed, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_1d(4), NULL, &err);
    nml_net_add(net,
                nml_dense(&(nml_dense_opts){.name = "h", .units = 6, .activation = NML_AFN_TANH}),
                &err);
    nml_net_add(net, nml_dense(&(nml_dense_opts){.name = "y", .units = 2}), &err);
    if (nml_net_build(net, 0, NULL, &err) != NML_OK) fail_msg("%s", err.msg);
    return net;
}

static double loss_of(nml_net *net, const float *x, const float *t, int batch, int backward) {
    nml_error err;
    double l;
    if (nml_net_forward(net, &x, batch, backward, &err) != NML_OK) fail_msg("%s", err.msg);
    assert_int_equal(nml_loss_eval(NML_LOSS_MSE, nml_net_output(net, 0), t, batch, 2, &l,
                                   backward ? nml_net_output_grad(net, 0) : NULL, &err),
                     NML_OK);
    if (backward && nml_net_backward(net, &err) != NML_OK) fail_msg("%s", err.msg);
    return l;
}

/* dL/d centroid from the hook (every member's gradient) against (L(c + h) - L(c - h)) / 2h,
 * moving a centroid by moving all its members' stored values. */
static void centroid_gradients_match_differences(void **state) {
    (void)state;
    nml_net *net = mlp(3);
    nml_error err;
    nml_cluster_opts o;
    nml_cluster_opts_default(&o);
    o.clusters = 4;
    o.only_listed = 1;
    const nml_cluster_layer only[1] = {{"h", 4}};
    o.layers = only;
    o.n_layers = 1;
    nml_clusterer *cl;
    assert_int_equal(nml_clusterer_create(&cl, net, &o, &err), NML_OK);
    nml_param *k = nml_layer_find_param(nml_net_find_layer(net, "h"), "kernel");
    assert_true(nml_count_distinct(k->effective, k->count) <= 4);
    enum { B = 5 };
    float x[B * 4], t[B * 2];
    tc_fill_uniform(x, B * 4, -1.0f, 1.0f, 7);
    tc_fill_uniform(t, B * 2, -1.0f, 1.0f, 8);
    loss_of(net, x, t, B, 1);
    float grad[24];
    memcpy(grad, k->grad, sizeof grad);
    int checked = 0;
    for (size_t lead = 0; lead < k->count; lead++) {
        const float c = k->effective[lead];
        int first = 1; /* one check per centroid: at its first member */
        for (size_t j = 0; j < lead; j++)
            first &= k->effective[j] != c;
        if (!first) continue;
        int members = 0;
        for (size_t j = 0; j < k->count; j++) {
            members += k->effective[j] == c;
            if (k->effective[j] == c) assert_true(grad[j] == grad[lead]); /* shared gradient */
        }
        const float h = 1e-2f;
        float saved[24];
        memcpy(saved, k->value, sizeof saved);
        for (size_t j = 0; j < k->count; j++)
            k->value[j] = saved[j] + (saved[j] == c ? h : 0);
        const double up = loss_of(net, x, t, B, 0);
        for (size_t j = 0; j < k->count; j++)
            k->value[j] = saved[j] - (saved[j] == c ? h : 0);
        const double down = loss_of(net, x, t, B, 0);
        memcpy(k->value, saved, sizeof saved);
        const double numeric = (up - down) / (2.0 * h);
        printf("centroid %.4f (%d members): analytic %.6f numeric %.6f\n", c, members, grad[lead],
               numeric);
        assert_near(grad[lead], numeric, 1e-3 + 1e-2 * fabs(numeric));
        checked++;
    }
    assert_int_equal(checked, 4);
    nml_clusterer_free(cl);
    nml_net_free(net);
}

/* Fitting changes the centroids but not the assignments: still <= k values, members equal. */
static void tied_weights_stay_tied(void **state) {
    (void)state;
    nml_net *net = mlp(5);
    nml_error err;
    nml_cluster_opts o;
    nml_cluster_opts_default(&o);
    o.clusters = 3;
    nml_clusterer *cl;
    assert_int_equal(nml_clusterer_create(&cl, net, &o, &err), NML_OK);
    assert_int_equal(nml_clusterer_layer_count(cl), 2);
    nml_param *k = nml_layer_find_param(nml_net_find_layer(net, "h"), "kernel");
    float before[24];
    memcpy(before, k->effective, sizeof before);
    enum { N = 64 };
    float x[N * 4], t[N * 2];
    tc_fill_uniform(x, N * 4, -1.0f, 1.0f, 9);
    tc_fill_uniform(t, N * 2, -1.0f, 1.0f, 10);
    nml_data data;
    assert_int_equal(nml_data_from_arrays(&data, x, t, N, nml_shape_1d(4), 2, 0, &err), NML_OK);
    nml_optim *opt;
    assert_int_equal(
        nml_optim_create(&opt, net, &(nml_optim_opts){.kind = NML_OPTIM_ADAM, .lr = 0.01f}, &err),
        NML_OK);
    nml_fit_opts fo = {.epochs = 3, .batch = 8, .loss = NML_LOSS_MSE};
    assert_int_equal(nml_fit(net, opt, &data, &fo, NULL, &err), NML_OK);
    int moved = 0;
    for (size_t i = 0; i < 24; i++) {
        moved |= k->effective[i] != before[i];
        for (size_t j = 0; j < 24; j++)
            if (before[i] == before[j]) assert_true(k->effective[i] == k->effective[j]);
    }
    assert_true(moved);
    nml_cluster_layer_report r;
    nml_clusterer_layer_report(cl, 0, &r);
    assert_string_equal(r.layer, "h");
    assert_true(r.distinct <= 3);
    /* strip: plain weights, same outputs */
    float out1[N * 2];
    const float *px = x;
    assert_int_equal(nml_net_forward(net, &px, N, 0, &err), NML_OK);
    memcpy(out1, nml_net_output(net, 0), sizeof out1);
    assert_int_equal(nml_clusterer_strip(cl, &err), NML_OK);
    assert_true(k->effective == k->value);
    assert_int_equal(nml_net_forward(net, &px, N, 0, &err), NML_OK);
    assert_memory_equal(out1, nml_net_output(net, 0), sizeof out1);
    nml_optim_free(opt);
    nml_clusterer_free(cl);
    nml_net_free(net);
}

/* Half the weights pruned, then 4 clusters (one of them the zeros): after training exactly the
 * same weights are zero and there are at most 4 values. Without preservation the zeros go. */
static void pruning_preserving_clustering(void **state) {
    (void)state;
    for (int preserve = 1; preserve >= 0; preserve--) {
        nml_net *net = mlp(6);
        nml_error err;
        nml_param *k = nml_layer_find_param(nml_net_find_layer(net, "h"), "kernel");
        uint8_t mask[24];
        assert_int_equal(nml_magnitude_mask(k->value, 24, 0.5f, mask, NULL, &err), NML_OK);
        for (int i = 0; i < 24; i++)
            if (!mask[i]) k->value[i] = 0.0f;
        nml_cluster_opts o;
        nml_cluster_opts_default(&o);
        o.clusters = 4;
        o.preserve_sparsity = preserve;
        o.only_listed = 1;
        const nml_cluster_layer only[1] = {{"h", 4}};
        o.layers = only;
        o.n_layers = 1;
        nml_clusterer *cl;
        assert_int_equal(nml_clusterer_create(&cl, net, &o, &err), NML_OK);
        enum { N = 64 };
        float x[N * 4], t[N * 2];
        tc_fill_uniform(x, N * 4, -1.0f, 1.0f, 11);
        tc_fill_uniform(t, N * 2, -1.0f, 1.0f, 12);
        nml_data data;
        assert_int_equal(nml_data_from_arrays(&data, x, t, N, nml_shape_1d(4), 2, 0, &err), NML_OK);
        nml_optim *opt;
        assert_int_equal(nml_optim_create(&opt, net,
                                          &(nml_optim_opts){.kind = NML_OPTIM_ADAM, .lr = 0.01f},
                                          &err),
                         NML_OK);
        nml_fit_opts fo = {.epochs = 3, .batch = 8, .loss = NML_LOSS_MSE};
        assert_int_equal(nml_fit(net, opt, &data, &fo, NULL, &err), NML_OK);
        int zeros = 0, same = 1;
        for (int i = 0; i < 24; i++) {
            zeros += k->effective[i] == 0.0f;
            same &= (k->effective[i] == 0.0f) == !mask[i];
        }
        printf("preserve_sparsity=%d: %d zeros of 24, %zu distinct values\n", preserve, zeros,
               nml_count_distinct(k->effective, 24));
        if (preserve) {
            assert_int_equal(zeros, 12);
            assert_true(same);
            assert_true(nml_count_distinct(k->effective, 24) <= 4);
        } else {
            assert_true(zeros < 12);
        }
        nml_optim_free(opt);
        nml_clusterer_free(cl);
        nml_net_free(net);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kmeans_hand_example),
        cmocka_unit_test(centroid_initializations),
        cmocka_unit_test(kmeans_fixed_point),
        cmocka_unit_test(bad_cluster_counts),
        cmocka_unit_test(centroid_gradients_match_differences),
        cmocka_unit_test(tied_weights_stay_tied),
        cmocka_unit_test(pruning_preserving_clustering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
