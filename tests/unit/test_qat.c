/* Quantization-aware training: the fake-quantization grid (hand-computed), the straight-through
 * gradient, weights fake-quantized exactly as the int8 quantizer stores them, the exported int8
 * model using the learned ranges and computing what the training graph computed, sparsity and
 * clusters surviving QAT, and refusals naming the operator or layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress_check.h"
#include "nanoml/cluster.h"
#include "nanoml/prune.h"
#include "nanoml/qat.h"
#include "nanoml/train_fit.h"
#include "nanoml/train_layers.h"
#include "test_util.h"
#include "train_check.h"

static void fake_quant_grid(void **state) {
    (void)state;
    /* [-1, 1]: scale 2/255, zero point round(-128 + 127.5) = -1 (half away from zero) */
    const float s = 2.0f / 255.0f;
    const float x[6] = {0.5f, -1.0f, 2.0f, 0.0f, 0.3f, -0.004f};
    float y[6];
    nml_fake_quant(x, 6, -1.0f, 1.0f, y);
    /* 0.5 / s = 63.75 -> 64 -> q 63 -> (63 + 1) s */
    assert_true(fabsf(y[0] - 64.0f * s) < 1e-7f);
    /* -1 / s = -127.5 -> -128 -> q -129 clamps to -128 -> (-128 + 1) s */
    assert_true(fabsf(y[1] + 127.0f * s) < 1e-7f);
    /* 2 / s = 255 -> q 254 clamps to 127 -> 128 s */
    assert_true(fabsf(y[2] - 128.0f * s) < 1e-7f);
    assert_true(y[3] == 0.0f); /* zero is exact */
    /* 0.3 / s = 38.25 -> 38; -0.004 / s = -0.51 -> -1 */
    assert_true(fabsf(y[4] - 38.0f * s) < 1e-7f);
    assert_true(fabsf(y[5] + 1.0f * s) < 1e-7f);
    /* a range that does not contain 0 is widened to [0, hi] (scale 4/255, zero point -128) */
    const float z[2] = {1.0f, 4.0f};
    float w[2];
    nml_fake_quant(z, 2, 1.0f, 4.0f, w);
    assert_true(fabsf(w[0] - roundf(1.0f / (4.0f / 255.0f)) * (4.0f / 255.0f)) < 1e-6f);
    assert_true(fabsf(w[1] - 4.0f) < 1e-6f);
}

static void straight_through_gradient(void **state) {
    (void)state;
    /* [-1, 1]: representable [-127 s, 128 s] = [-0.99608, 1.00392] */
    const float x[5] = {-1.0f, -0.99f, 0.0f, 1.0f, 1.01f}, dy[5] = {1, 2, 3, 4, 5};
    float dx[5];
    nml_fake_quant_grad(x, dy, 5, -1.0f, 1.0f, dx);
    assert_memory_equal(dx, ((const float[]){0, 2, 3, 4, 0}), sizeof dx);
}

static void weights_on_int8_grid(void **state) {
    (void)state;
    /* per row: scale max|w| / 127; 0.5 x 127 = 63.5 -> 64, 0.25 x 127 = 31.75 -> 32; an
     * all-zero row gets scale 1 */
    const float w[6] = {0.5f, -1.0f, 0.25f, 0.0f, 0.0f, 0.0f};
    const int32_t dims[2] = {2, 3};
    float out[6];
    nml_error err;
    assert_int_equal(nml_fake_quant_weights(w, 2, dims, 0, 127, out, &err), NML_OK);
    assert_true(fabsf(out[0] - 64.0f / 127.0f) < 1e-7f);
    assert_true(out[1] == -1.0f);
    assert_true(fabsf(out[2] - 32.0f / 127.0f) < 1e-7f);
    assert_true(out[3] == 0.0f && out[4] == 0.0f && out[5] == 0.0f);
}

/* ---- a small model through QAT ---- */

static void train(nml_net *net, const nml_data *d, int epochs);

/* 8x8x1 -> conv 4@3x3 tanh -> avgpool 2 -> sigmoid -> flatten -> dense 3 softmax, trained in
 * float on d when given (QAT fine-tunes a trained model) */
static void float_model(nml_ir *ir, uint64_t seed, const nml_data *d) {
    nml_net *net;
    nml_error err;
    assert_int_equal(nml_net_create(&net, "small", seed, &err), NML_OK);
    nml_net_input(net, "image", nml_shape_3d(8, 8, 1), NULL, &err);
    nml_net_add(net,
                nml_conv2d(&(nml_conv2d_opts){
                    .name = "c1", .filters = 4, .kernel = 3, .activation = NML_AFN_TANH}),
                &err);
    nml_net_add(net, nml_average_pooling2d(&(nml_pool2d_opts){.name = "s2", .pool = 2}), &err);
    nml_net_add(net, nml_activation_layer("s2_sigmoid", NML_AFN_SIGMOID), &err);
    nml_net_add(net, nml_flatten("flatten"), &err);
    nml_net_add(
        net, nml_dense(&(nml_dense_opts){.name = "out", .units = 3, .activation = NML_AFN_SOFTMAX}),
        &err);
    if (nml_net_build(net, 0, NULL, &err) != NML_OK) fail_msg("%s", err.msg);
    if (d) train(net, d, 10);
    cc_export(net, ir);
    nml_net_free(net);
}

enum { N = 240 };
typedef struct dataset {
    float x[N * 64], y[N];
    nml_data d;
} dataset;

/* Bright top, bright left or dark images: learnable in a few epochs. */
static void make_data(dataset *s) {
    nml_error err;
    tc_fill_uniform(s->x, N * 64, 0.0f, 0.3f, 21);
    for (int i = 0; i < N; i++) {
        const int c = i % 3;
        s->y[i] = (float)c;
        for (int p = 0; p < 64; p++) {
            const int r = p / 8, col = p % 8;
            if ((c == 0 && r < 3) || (c == 1 && col < 3)) s->x[i * 64 + p] += 0.7f;
        }
    }
    assert_int_equal(nml_data_from_arrays(&s->d, s->x, s->y, N, nml_shape_3d(8, 8, 1), 1, 3, &err),
                     NML_OK);
}

static void train(nml_net *net, const nml_data *d, int epochs) {
    nml_error err;
    nml_optim *opt;
    assert_int_equal(
        nml_optim_create(&opt, net, &(nml_optim_opts){.kind = NML_OPTIM_ADAM, .lr = 0.01f}, &err),
        NML_OK);
    nml_fit_opts fo = {.epochs = epochs, .batch = 16, .seed = 3};
    if (nml_fit(net, opt, d, &fo, NULL, &err) != NML_OK) fail_msg("fit: %s", err.msg);
    nml_optim_free(opt);
}

static nml_qat *qat_ok(const nml_ir *ir, int sparsity, int clusters) {
    nml_qat *q;
    nml_error err;
    /* with clusters: one scale per tensor, so that k centroids become k int8 codes */
    const nml_qat_opts o = {
        .preserve_sparsity = sparsity, .preserve_clusters = clusters, .per_tensor = clusters};
    if (nml_qat_create(&q, ir, &o, &err) != NML_OK) fail_msg("qat: %s", err.msg);
    return q;
}

static void export_int8(nml_qat *q, nml_ir *out, int per_tensor) {
    nml_error err;
    nml_quant_options o;
    nml_quant_options_default(&o);
    o.per_channel = !per_tensor;
    if (nml_qat_export(q, &o, NULL, out, NULL, &err) != NML_OK) fail_msg("export: %s", err.msg);
}

static const nml_ir_tensor *find(const nml_ir *ir, const char *name) {
    const int t = nml_ir_find_tensor(ir, name);
    if (t < 0) fail_msg("no tensor %s", name);
    return &ir->tensors[t];
}

static void qat_exports_learned_ranges(void **state) {
    (void)state;
    dataset *s = malloc(sizeof *s);
    make_data(s);
    nml_ir ir, q8;
    float_model(&ir, 5, &s->d);
    nml_qat *q = qat_ok(&ir, 0, 0);
    nml_net *net = nml_qat_net(q);
    /* fake quantization layers: input, conv output, dense output (moving averages), tanh,
     * pooling (follows tanh), sigmoid; the model's softmax output stays float in training */
    int fq = 0;
    for (int i = 0; i < nml_net_layer_count(net); i++)
        fq += strcmp(nml_net_layer(net, i)->ops->kind, "FakeQuant") == 0;
    assert_int_equal(fq, 6);
    assert_int_equal(nml_qat_range_count(q), 3);
    nml_error err;
    nml_quant_options o;
    nml_quant_options_default(&o);
    assert_int_equal(nml_qat_export(q, &o, NULL, &q8, NULL, &err), NML_E_STATE);
    assert_non_null(strstr(err.msg, "no learned range"));
    train(net, &s->d, 2);
    export_int8(q, &q8, 0);
    /* the int8 activations carry the learned ranges */
    for (int i = 0; i < nml_qat_range_count(q); i++) {
        const char *layer;
        float lo, hi, scale;
        int32_t zp;
        nml_qat_range(q, i, &layer, &lo, &hi);
        char tensor[64];
        snprintf(tensor, sizeof tensor, "%.*s", (int)(strlen(layer) - 3), layer); /* "c1/fq" */
        const nml_ir_tensor *t = find(&q8, tensor);
        if (t->n_q == 0) { /* the float input: its int8 copy after the QUANTIZE */
            strcat(tensor, "_int8");
            t = find(&q8, tensor);
        }
        assert_int_equal(t->n_q, 1);
        nml_quant_params(lo, hi, -128, 127, &scale, &zp);
        printf("%s: learned [%g, %g] -> scale %g zero point %d; int8 model %g %d\n", tensor, lo, hi,
               scale, zp, t->scales[0], (int)t->zero_points[0]);
        assert_true(t->scales[0] == scale);
        assert_int_equal(t->zero_points[0], zp);
    }
    /* the int8 weights are the fake-quantized weights the network trained with */
    const nml_param *k = nml_layer_find_param(nml_net_find_layer(net, "c1"), "kernel");
    const nml_ir_tensor *w = find(&q8, "c1/kernel");
    assert_int_equal(w->type, NML_INT8);
    for (size_t i = 0; i < k->count; i++) {
        const float deq = (float)((const int8_t *)w->data)[i] * w->scales[i / 9];
        assert_true(fabsf(deq - k->effective[i]) <= 1e-6f * fabsf(k->effective[i]) + 1e-9f);
    }
    /* the int8 model computes what the training graph computed */
    float *want = malloc(N * 3 * sizeof *want);
    const float *px = s->x;
    assert_int_equal(nml_net_forward(net, &px, N, 0, &err), NML_OK);
    memcpy(want, nml_net_output(net, 0), N * 3 * sizeof *want);
    float *got = malloc(N * 3 * sizeof *got);
    cc_run_ir(&q8, s->x, N, got);
    int agree = 0, correct = 0;
    for (int i = 0; i < N; i++) {
        agree += nml_argmax(want + i * 3, 3) == nml_argmax(got + i * 3, 3);
        correct += nml_argmax(got + i * 3, 3) == (int)s->y[i];
    }
    const double d = cc_max_abs_diff(want, got, N * 3);
    printf("QAT graph vs int8 runtime: max |diff| %.4f, argmax agree %d/%d, int8 accuracy %d/%d\n",
           d, agree, N, correct, N);
    assert_true(d <= 4.0 / 256.0); /* a few int8 steps of the softmax output */
    assert_true(agree >= N - 2);
    assert_true(correct >= N * 9 / 10);
    free(want);
    free(got);
    nml_ir_free(&q8);
    nml_qat_free(q);
    nml_ir_free(&ir);
    free(s);
}

static size_t int8_zeros(const nml_ir_tensor *t) {
    size_t z = 0;
    for (uint64_t i = 0; i < nml_ir_tensor_count(t); i++)
        z += ((const int8_t *)t->data)[i] == 0;
    return z;
}

/* Half of the dense kernel pruned: sparsity-preserving QAT keeps every zero (in the trained
 * weights and in the int8 model); plain QAT does not. */
static void sparsity_survives_qat(void **state) {
    (void)state;
    dataset *s = malloc(sizeof *s);
    make_data(s);
    for (int preserve = 1; preserve >= 0; preserve--) {
        nml_ir ir, q8;
        float_model(&ir, 6, &s->d);
        const int wt = nml_ir_find_tensor(&ir, "out/kernel");
        float *w = (float *)(void *)ir.tensors[wt].data;
        uint8_t mask[108];
        nml_error err;
        assert_int_equal(nml_magnitude_mask(w, 108, 0.5f, mask, NULL, &err), NML_OK);
        for (int i = 0; i < 108; i++)
            if (!mask[i]) w[i] = 0.0f;
        nml_qat *q = qat_ok(&ir, preserve, 0);
        train(nml_qat_net(q), &s->d, 2);
        const nml_param *k =
            nml_layer_find_param(nml_net_find_layer(nml_qat_net(q), "out"), "kernel");
        int zeros = 0, kept = 1;
        for (int i = 0; i < 108; i++) {
            zeros += k->value[i] == 0.0f;
            if (!mask[i] && k->value[i] != 0.0f) kept = 0;
        }
        export_int8(q, &q8, 0);
        const nml_ir_tensor *t = find(&q8, "out/kernel");
        printf("preserve_sparsity=%d: %d zero weights of 108 after QAT, %zu in int8\n", preserve,
               zeros, int8_zeros(t));
        if (preserve) {
            assert_true(kept);
            assert_int_equal(zeros, 54);
            for (int i = 0; i < 108; i++)
                if (!mask[i]) assert_int_equal(((const int8_t *)t->data)[i], 0);
        } else {
            assert_true(zeros < 54);
        }
        nml_ir_free(&q8);
        nml_qat_free(q);
        nml_ir_free(&ir);
    }
    free(s);
}

/* Pruned 50% and clustered to 8 values (zero included): PCQAT keeps both in int8. */
static void clusters_and_sparsity_survive_pcqat(void **state) {
    (void)state;
    dataset *s = malloc(sizeof *s);
    make_data(s);
    nml_ir ir, q8;
    float_model(&ir, 7, &s->d);
    const int wt = nml_ir_find_tensor(&ir, "out/kernel");
    float *w = (float *)(void *)ir.tensors[wt].data;
    uint8_t mask[108];
    nml_error err;
    assert_int_equal(nml_magnitude_mask(w, 108, 0.5f, mask, NULL, &err), NML_OK);
    /* 54 zeros and 7 distinct non-zero values */
    static const float values[7] = {-0.6f, -0.4f, -0.2f, 0.1f, 0.3f, 0.5f, 0.7f};
    for (int i = 0, j = 0; i < 108; i++)
        w[i] = mask[i] ? values[j++ % 7] : 0.0f;
    nml_qat *q = qat_ok(&ir, 1, 1);
    train(nml_qat_net(q), &s->d, 2);
    const nml_param *k = nml_layer_find_param(nml_net_find_layer(nml_qat_net(q), "out"), "kernel");
    assert_true(nml_count_distinct(k->effective, 108) <= 8);
    /* exporting with other scales than trained is refused */
    nml_quant_options po;
    nml_quant_options_default(&po);
    assert_int_equal(nml_qat_export(q, &po, NULL, &q8, NULL, &err), NML_E_ARG);
    export_int8(q, &q8, 1);
    const nml_ir_tensor *t = find(&q8, "out/kernel");
    assert_int_equal(t->n_q, 1);
    float codes[108];
    for (int i = 0; i < 108; i++)
        codes[i] = (float)((const int8_t *)t->data)[i];
    const size_t distinct = nml_count_distinct(codes, 108);
    printf("PCQAT: %zu distinct int8 codes, %zu zeros in int8\n", distinct, int8_zeros(t));
    assert_true(distinct <= 8);
    for (int i = 0; i < 108; i++)
        if (!mask[i]) assert_int_equal(((const int8_t *)t->data)[i], 0);
    nml_ir_free(&q8);
    nml_qat_free(q);
    nml_ir_free(&ir);
    free(s);
}

static void refusals_are_named(void **state) {
    (void)state;
    nml_ir ir;
    nml_error err;
    nml_qat *q;
    /* an operator QAT cannot handle */
    nml_ir_init(&ir);
    const int32_t dims[2] = {1, 4};
    const float k[4] = {1, 2, 3, 4};
    int x, c, y;
    assert_int_equal(nml_ir_add_tensor(&ir, "x", NML_FLOAT32, 2, dims, NULL, 0, &x, &err), NML_OK);
    assert_int_equal(nml_ir_add_tensor(&ir, "k", NML_FLOAT32, 2, dims, k, sizeof k, &c, &err),
                     NML_OK);
    assert_int_equal(nml_ir_add_tensor(&ir, "y", NML_FLOAT32, 2, dims, NULL, 0, &y, &err), NML_OK);
    const int32_t in[2] = {x, c}, out = y;
    assert_int_equal(nml_ir_add_op(&ir, NML_OP_EXP, NULL, 1, in, 1, &out, NULL, &err), NML_OK);
    assert_int_equal(nml_ir_set_io(&ir, 1, &in[0], 1, &out, &err), NML_OK);
    assert_int_equal(nml_qat_create(&q, &ir, NULL, &err), NML_E_UNSUPPORTED);
    printf("%s\n", err.msg);
    assert_non_null(strstr(err.msg, "operator 0 (EXP)"));
    nml_ir_free(&ir);
    /* cluster-preserving QAT on an unclustered model */
    nml_net *net;
    assert_int_equal(nml_net_create(&net, "wide", 1, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_1d(30), NULL, &err);
    nml_net_add(net, nml_dense(&(nml_dense_opts){.name = "wide", .units = 20}), &err);
    assert_int_equal(nml_net_build(net, 0, NULL, &err), NML_OK);
    cc_export(net, &ir);
    nml_qat_opts o = {.preserve_clusters = 1};
    assert_int_equal(nml_qat_create(&q, &ir, &o, &err), NML_E_ARG);
    printf("%s\n", err.msg);
    assert_non_null(strstr(err.msg, "layer wide: 600 distinct weight values"));
    nml_ir_free(&ir);
    nml_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fake_quant_grid),
        cmocka_unit_test(straight_through_gradient),
        cmocka_unit_test(weights_on_int8_grid),
        cmocka_unit_test(qat_exports_learned_ranges),
        cmocka_unit_test(sparsity_survives_qat),
        cmocka_unit_test(clusters_and_sparsity_survive_pcqat),
        cmocka_unit_test(refusals_are_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
