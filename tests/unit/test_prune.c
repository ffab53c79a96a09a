/* Pruning: schedule values at given steps (hand-computed from TF-MOT's formulas), magnitude
 * masks with exact counts and ties, N:M pattern validity, pruning during training (sparsity
 * follows the schedule and stays exactly), and channel removal (the next layer shrinks, the
 * function does not change). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress_check.h"
#include "nanoml/prune.h"
#include "nanoml/train_fit.h"
#include "nanoml/train_layers.h"
#include "test_util.h"
#include "train_check.h"

static void assert_close(double a, double b) {
    if (fabs(a - b) > 1e-6) fail_msg("%.9g != %.9g", a, b);
}

/* ---- schedules ---- */

static void polynomial_schedule_values(void **state) {
    (void)state;
    nml_prune_schedule s;
    nml_prune_schedule_default(&s);
    s.kind = NML_PRUNE_POLYNOMIAL;
    s.initial_sparsity = 0.0f;
    s.target_sparsity = 0.8f;
    s.begin_step = 100;
    s.end_step = 1100;
    nml_error err;
    assert_int_equal(nml_prune_schedule_check(&s, &err), NML_OK);
    /* 0.8 + (0 - 0.8) (1 - p)^3 with p = (step - 100) / 1000 */
    assert_close(nml_prune_sparsity_at(&s, 100), 0.0);
    assert_close(nml_prune_sparsity_at(&s, 350), 0.8 - 0.8 * 0.421875); /* p = 1/4 */
    assert_close(nml_prune_sparsity_at(&s, 600), 0.7);                  /* p = 1/2 */
    assert_close(nml_prune_sparsity_at(&s, 1100), 0.8);
    assert_close(nml_prune_sparsity_at(&s, 50), 0.0);   /* before begin: initial */
    assert_close(nml_prune_sparsity_at(&s, 5000), 0.8); /* after end: target */
    /* updates every 100 steps from begin to end */
    assert_true(nml_prune_should_update(&s, 100));
    assert_false(nml_prune_should_update(&s, 150));
    assert_true(nml_prune_should_update(&s, 200));
    assert_true(nml_prune_should_update(&s, 1100));
    assert_false(nml_prune_should_update(&s, 1200));
    assert_false(nml_prune_should_update(&s, 0));
    /* an end that is not on the grid still gets its update */
    s.begin_step = 0;
    s.end_step = 250;
    assert_true(nml_prune_should_update(&s, 200));
    assert_true(nml_prune_should_update(&s, 250));
    assert_false(nml_prune_should_update(&s, 300));
    /* power 1 and an initial sparsity: linear from 0.2 to 0.6 */
    s.power = 1.0f;
    s.initial_sparsity = 0.2f;
    s.target_sparsity = 0.6f;
    s.end_step = 100;
    assert_close(nml_prune_sparsity_at(&s, 25), 0.3);
}

static void constant_schedule_values(void **state) {
    (void)state;
    nml_prune_schedule s;
    nml_prune_schedule_default(&s);
    s.target_sparsity = 0.5f;
    s.begin_step = 10;
    s.frequency = 5;
    assert_close(nml_prune_sparsity_at(&s, 10), 0.5);
    assert_close(nml_prune_sparsity_at(&s, 99999), 0.5);
    assert_false(nml_prune_should_update(&s, 9));
    assert_true(nml_prune_should_update(&s, 10));
    assert_false(nml_prune_should_update(&s, 12));
    assert_true(nml_prune_should_update(&s, 1000)); /* no end */
}

static void bad_schedules_are_named(void **state) {
    (void)state;
    nml_prune_schedule s;
    nml_error err;
    nml_prune_schedule_default(&s);
    s.target_sparsity = 1.0f;
    assert_int_equal(nml_prune_schedule_check(&s, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "sparsity 1 is outside [0, 1)"));
    s.target_sparsity = -0.25f;
    assert_int_equal(nml_prune_schedule_check(&s, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "-0.25"));
    s.target_sparsity = 0.5f;
    s.kind = NML_PRUNE_POLYNOMIAL;
    s.begin_step = 10;
    s.end_step = 10;
    assert_int_equal(nml_prune_schedule_check(&s, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "end step 10 > begin step 10"));
    s.end_step = 20;
    s.frequency = 0;
    assert_int_equal(nml_prune_schedule_check(&s, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "frequency 0"));
}

/* ---- masks ---- */

static void magnitude_mask_counts_and_ties(void **state) {
    (void)state;
    const float w[8] = {0.5f, -0.1f, 0.3f, -0.3f, 0.0f, 0.2f, 0.1f, -0.7f};
    uint8_t mask[8];
    size_t pruned;
    nml_error err;
    /* 50%: keep round(8 x 0.5) = 4; the four smallest |w| are 0 (4), 0.1 (1), 0.1 (6), 0.2 (5) */
    assert_int_equal(nml_magnitude_mask(w, 8, 0.5f, mask, &pruned, &err), NML_OK);
    assert_int_equal(pruned, 4);
    assert_memory_equal(mask, ((const uint8_t[]){1, 0, 1, 1, 0, 0, 0, 1}), 8);
    /* 62.5%: one more; |w[2]| == |w[3]|, the lower index goes first */
    assert_int_equal(nml_magnitude_mask(w, 8, 0.625f, mask, &pruned, &err), NML_OK);
    assert_int_equal(pruned, 5);
    assert_memory_equal(mask, ((const uint8_t[]){1, 0, 0, 1, 0, 0, 0, 1}), 8);
    /* 0% prunes nothing; 0.3 of 8 keeps round(5.6) = 6 */
    assert_int_equal(nml_magnitude_mask(w, 8, 0.0f, mask, &pruned, &err), NML_OK);
    assert_int_equal(pruned, 0);
    assert_int_equal(nml_magnitude_mask(w, 8, 0.3f, mask, &pruned, &err), NML_OK);
    assert_int_equal(pruned, 2);
    /* a larger random layer: the count is exact and no kept weight is smaller than a pruned */
    float big[1000];
    uint8_t m[1000];
    tc_fill_uniform(big, 1000, -1.0f, 1.0f, 3);
    assert_int_equal(nml_magnitude_mask(big, 1000, 0.8f, m, &pruned, &err), NML_OK);
    size_t zeros = 0;
    float max_pruned = 0.0f, min_kept = 2.0f;
    for (int i = 0; i < 1000; i++) {
        zeros += !m[i];
        if (!m[i] && fabsf(big[i]) > max_pruned) max_pruned = fabsf(big[i]);
        if (m[i] && fabsf(big[i]) < min_kept) min_kept = fabsf(big[i]);
    }
    assert_int_equal(zeros, 800);
    assert_true(max_pruned <= min_kept);
    assert_int_equal(nml_magnitude_mask(w, 8, 1.0f, mask, &pruned, &err), NML_E_ARG);
}

static void nm_pattern_is_valid(void **state) {
    (void)state;
    /* a row of 10: groups of 4, 4 and 2 */
    const float w[10] = {1, -4, 3, 2, 0, 0, 0, 0, 5, -5};
    uint8_t mask[10];
    nml_error err;
    assert_int_equal(nml_nm_mask(w, 1, 10, 2, 4, mask, &err), NML_OK);
    /* -4 and 3 win; a tie of zeros keeps the first two; a group of 2 keeps both */
    assert_memory_equal(mask, ((const uint8_t[]){0, 1, 1, 0, 1, 1, 0, 0, 1, 1}), 10);
    /* random 84 x 120 kernel: every group of 4 keeps exactly its 2 largest */
    enum { R = 84, C = 120 };
    float *k = malloc(R * C * sizeof *k);
    uint8_t *km = malloc(R * C);
    tc_fill_uniform(k, R * C, -1.0f, 1.0f, 8);
    assert_int_equal(nml_nm_mask(k, R, C, 2, 4, km, &err), NML_OK);
    for (int g = 0; g < R * C; g += 4) {
        int kept = 0;
        float min_kept = 2.0f, max_pruned = 0.0f;
        for (int j = g; j < g + 4; j++) {
            kept += km[j];
            if (km[j])
                min_kept = fminf(min_kept, fabsf(k[j]));
            else
                max_pruned = fmaxf(max_pruned, fabsf(k[j]));
        }
        assert_int_equal(kept, 2);
        assert_true(max_pruned <= min_kept);
    }
    free(k);
    free(km);
    assert_int_equal(nml_nm_mask(w, 1, 10, 4, 4, mask, &err), NML_E_ARG);
}

static void filter_mask_prunes_rows(void **state) {
    (void)state;
    /* 4 rows of 3; norms 3, 1, 5, 1 */
    const float w[12] = {3, 0, 0, 0, 1, 0, 3, 4, 0, 0, 0, -1};
    uint8_t mask[12];
    size_t pruned;
    nml_error err;
    assert_int_equal(nml_filter_mask(w, 4, 3, 0.5f, mask, &pruned, &err), NML_OK);
    assert_int_equal(pruned, 2);
    assert_memory_equal(mask, ((const uint8_t[]){1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0}), 12);
    /* 25%: one row, the tie of norm 1 goes to the lower index */
    assert_int_equal(nml_filter_mask(w, 4, 3, 0.25f, mask, &pruned, &err), NML_OK);
    assert_memory_equal(mask, ((const uint8_t[]){1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1}), 12);
    /* at least one row stays */
    assert_int_equal(nml_filter_mask(w, 4, 3, 0.95f, mask, &pruned, &err), NML_OK);
    assert_int_equal(pruned, 3);
}

/* ---- pruning while training ---- */

static nml_net *small_mlp(void) {
    nml_net *net;
    nml_error err;
    assert_int_equal(nml_net_create(&net, "mlp", 4, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_1d(8), NULL, &err);
    nml_net_add(net,
                nml_dense(&(nml_dense_opts){.name = "h", .units = 16, .activation = NML_AFN_TANH}),
                &err);
    nml_net_add(
        net, nml_dense(&(nml_dense_opts){.name = "out", .units = 3, .activation = NML_AFN_SOFTMAX}),
        &err);
    if (nml_net_build(net, 0, NULL, &err) != NML_OK) fail_msg("%s", err.msg);
    return net;
}

typedef struct watch {
    nml_pruner *p;
    nml_net *net;
    int64_t steps;
    int bad;
} watch;

static size_t masked(const nml_param *k) {
    size_t n = 0;
    for (size_t i = 0; k->mask && i < k->count; i++)
        n += !k->mask[i];
    return n;
}

/* After each update the hidden layer holds exactly the scheduled number of zeros. */
static nml_status on_step(void *user, int64_t step, nml_error *err) {
    watch *w = user;
    NML_TRY(nml_pruner_step(w->p, step, err));
    w->steps++;
    nml_param *k = nml_layer_find_param(nml_net_find_layer(w->net, "h"), "kernel");
    if (step == 0 || step == 10 || step == 20 || step == 30) {
        /* polynomial 0 -> 0.75 over steps 0..30, power 3, every 10 steps; 128 weights */
        const double p = (double)step / 30.0, s = 0.75 * (1.0 - pow(1.0 - p, 3.0));
        const size_t want = 128 - (size_t)floor(128.0 * (1.0 - s) + 0.5);
        if (masked(k) != want) w->bad = 1;
    }
    for (size_t i = 0; i < k->count; i++)
        if (k->mask && !k->mask[i] && k->value[i] != 0.0f) w->bad = 2;
    return NML_OK;
}

static void pruning_follows_schedule_during_fit(void **state) {
    (void)state;
    nml_net *net = small_mlp();
    nml_error err;
    enum { N = 200 };
    float x[N * 8], y[N];
    tc_fill_uniform(x, N * 8, -1.0f, 1.0f, 1);
    for (int i = 0; i < N; i++)
        y[i] = (float)(i % 3);
    nml_data data;
    assert_int_equal(nml_data_from_arrays(&data, x, y, N, nml_shape_1d(8), 1, 3, &err), NML_OK);
    nml_prune_opts po = {.structure = NML_PRUNE_UNSTRUCTURED};
    nml_prune_schedule_default(&po.schedule);
    po.schedule.kind = NML_PRUNE_POLYNOMIAL;
    po.schedule.target_sparsity = 0.75f;
    po.schedule.end_step = 30;
    po.schedule.frequency = 10;
    const nml_prune_layer only[1] = {{"out", -1.0f}}; /* leave the output layer dense */
    po.layers = only;
    po.n_layers = 1;
    nml_pruner *p;
    assert_int_equal(nml_pruner_create(&p, net, &po, &err), NML_OK);
    assert_int_equal(nml_pruner_layer_count(p), 1);
    nml_optim *opt;
    assert_int_equal(nml_optim_create(&opt, net, &(nml_optim_opts){.kind = NML_OPTIM_ADAM}, &err),
                     NML_OK);
    watch w = {p, net, 0, 0};
    nml_fit_opts fo = {.epochs = 5, .batch = 20, .on_step = on_step, .step_user = &w};
    assert_int_equal(nml_fit(net, opt, &data, &fo, NULL, &err), NML_OK);
    assert_int_equal(w.steps, 50); /* 10 batches x 5 epochs */
    assert_int_equal(w.bad, 0);
    nml_prune_layer_report r;
    nml_pruner_layer_report(p, 0, &r);
    assert_string_equal(r.layer, "h");
    assert_int_equal(r.zeros, 96); /* exactly 75% of 128 */
    size_t zeros = 0;
    const nml_param *k = nml_layer_find_param(nml_net_find_layer(net, "h"), "kernel");
    for (size_t i = 0; i < k->count; i++)
        zeros += k->value[i] == 0.0f;
    assert_int_equal(zeros, 96);
    nml_optim_free(opt);
    nml_pruner_free(p);
    nml_net_free(net);
}

static void bad_targets_are_named(void **state) {
    (void)state;
    nml_net *net = small_mlp();
    nml_error err;
    nml_pruner *p;
    nml_prune_opts po = {.structure = NML_PRUNE_UNSTRUCTURED};
    nml_prune_schedule_default(&po.schedule);
    po.schedule.target_sparsity = 0.5f;
    const nml_prune_layer bad[1] = {{"h", 1.5f}};
    po.layers = bad;
    po.n_layers = 1;
    assert_int_equal(nml_pruner_create(&p, net, &po, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "layer h: sparsity 1.5 is outside [0, 1)"));
    const nml_prune_layer missing[1] = {{"nope", 0.5f}};
    po.layers = missing;
    assert_int_equal(nml_pruner_create(&p, net, &po, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "'nope'"));
    /* filter pruning of the output layer would delete classes */
    const nml_prune_layer out[1] = {{"out", 0.5f}};
    po.layers = out;
    po.structure = NML_PRUNE_FILTERS;
    assert_int_equal(nml_pruner_create(&p, net, &po, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "model's outputs"));
    nml_net_free(net);
}

/* ---- channel removal ---- */

/* 12x12x1 -> conv 4@3x3 tanh -> avgpool 2 -> sigmoid -> conv 6@3x3 tanh -> flatten -> dense 5
 * tanh -> dense 3 softmax, with some filters and units zeroed (biases kept non-zero, so their
 * constants must be folded). */
static nml_net *mini_lenet(int same_second) {
    nml_net *net;
    nml_error err;
    assert_int_equal(nml_net_create(&net, "mini", 2, &err), NML_OK);
    nml_net_input(net, "image", nml_shape_3d(12, 12, 1), NULL, &err);
    nml_net_add(net,
                nml_conv2d(&(nml_conv2d_opts){
                    .name = "c1", .filters = 4, .kernel = 3, .activation = NML_AFN_TANH}),
                &err);
    nml_net_add(net, nml_average_pooling2d(&(nml_pool2d_opts){.name = "s2", .pool = 2}), &err);
    nml_net_add(net, nml_activation_layer("s2_sigmoid", NML_AFN_SIGMOID), &err);
    nml_net_add(net,
                nml_conv2d(&(nml_conv2d_opts){.name = "c3",
                                              .filters = 6,
                                              .kernel = 3,
                                              .same_padding = same_second,
                                              .activation = NML_AFN_TANH}),
                &err);
    nml_net_add(net, nml_flatten("flatten"), &err);
    nml_net_add(net,
                nml_dense(&(nml_dense_opts){.name = "f5", .units = 5, .activation = NML_AFN_TANH}),
                &err);
    nml_net_add(
        net, nml_dense(&(nml_dense_opts){.name = "out", .units = 3, .activation = NML_AFN_SOFTMAX}),
        &err);
    if (nml_net_build(net, 0, NULL, &err) != NML_OK) fail_msg("%s", err.msg);
    for (int i = 0; i < nml_net_param_count(net); i++) {
        nml_param *q = nml_net_param(net, i);
        tc_fill_uniform(q->value, q->count, -0.8f, 0.8f, 70u + i);
    }
    nml_param *c1 = nml_layer_find_param(nml_net_find_layer(net, "c1"), "kernel");
    memset(c1->value + 1 * 9, 0, 9 * sizeof(float)); /* filters 1 and 3 */
    memset(c1->value + 3 * 9, 0, 9 * sizeof(float));
    nml_param *c3 = nml_layer_find_param(nml_net_find_layer(net, "c3"), "kernel");
    memset(c3->value + 4 * 36, 0, 36 * sizeof(float)); /* filter 4 of 6 (3x3x4 weights each) */
    nml_param *f5 = nml_layer_find_param(nml_net_find_layer(net, "f5"), "kernel");
    const size_t f5_in = f5->count / 5;
    memset(f5->value + 2 * f5_in, 0, f5_in * sizeof(float)); /* unit 2 */
    return net;
}

static const nml_ir_tensor *weights_of(const nml_ir *ir, int op) {
    return &ir->tensors[ir->ops[op].inputs[1]];
}

static void channel_removal_keeps_function(void **state) {
    (void)state;
    nml_net *net = mini_lenet(0);
    nml_ir ir;
    cc_export(net, &ir);
    enum { S = 5 };
    float x[S * 144], before[S * 3], after[S * 3];
    tc_fill_uniform(x, S * 144, 0.0f, 1.0f, 12);
    cc_run_ir(&ir, x, S, before);
    nml_channel_report r;
    nml_error err;
    assert_int_equal(nml_remove_zero_channels(&ir, &r, &err), NML_OK);
    assert_int_equal(r.removed, 4);
    assert_int_equal(r.kept_zero, 0);
    /* c1 lost 2 filters, c3 its 2 input channels and 1 filter, f5 the 9 inputs of that filter
     * and 1 unit, out 1 input */
    int conv[2], fc[2], nc = 0, nf = 0;
    for (int i = 0; i < ir.n_ops; i++) {
        if (ir.ops[i].builtin == NML_OP_CONV_2D) conv[nc++] = i;
        if (ir.ops[i].builtin == NML_OP_FULLY_CONNECTED) fc[nf++] = i;
    }
    assert_int_equal(nc, 2);
    assert_int_equal(nf, 2);
    const int32_t c1[4] = {2, 3, 3, 1}, c3[4] = {5, 3, 3, 2}, f5[2] = {4, 45}, out[2] = {3, 4};
    assert_memory_equal(weights_of(&ir, conv[0])->dims, c1, sizeof c1);
    assert_memory_equal(weights_of(&ir, conv[1])->dims, c3, sizeof c3);
    assert_memory_equal(weights_of(&ir, fc[0])->dims, f5, sizeof f5);
    assert_memory_equal(weights_of(&ir, fc[1])->dims, out, sizeof out);
    assert_true(r.weights_after < r.weights_before);
    cc_run_ir(&ir, x, S, after);
    const double d = cc_max_abs_diff(before, after, S * 3);
    printf("channel removal: %llu -> %llu weights, max output change %.3g\n",
           (unsigned long long)r.weights_before, (unsigned long long)r.weights_after, d);
    assert_true(d <= 1e-5);
    nml_ir_free(&ir);
    nml_net_free(net);
}

/* With SAME padding the second convolution sees the removed channels' non-zero constants only
 * inside the image, so those channels must stay (and are reported). */
static void nonzero_constant_into_padding_stays(void **state) {
    (void)state;
    nml_net *net = mini_lenet(1);
    nml_ir ir;
    cc_export(net, &ir);
    nml_channel_report r;
    nml_error err;
    assert_int_equal(nml_remove_zero_channels(&ir, &r, &err), NML_OK);
    assert_int_equal(r.removed, 2); /* the c3 filter and the f5 unit */
    assert_int_equal(r.kept_zero, 2);
    assert_non_null(strstr(r.note, "padding"));
    nml_ir_free(&ir);
    nml_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(polynomial_schedule_values),
        cmocka_unit_test(constant_schedule_values),
        cmocka_unit_test(bad_schedules_are_named),
        cmocka_unit_test(magnitude_mask_counts_and_ties),
        cmocka_unit_test(nm_pattern_is_valid),
        cmocka_unit_test(filter_mask_prunes_rows),
        cmocka_unit_test(pruning_follows_schedule_during_fit),
        cmocka_unit_test(bad_targets_are_named),
        cmocka_unit_test(channel_removal_keeps_function),
        cmocka_unit_test(nonzero_constant_into_padding_stays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
