/* Compression recipes: parsing (settings, defaults, errors with line numbers) and a whole
 * prune -> cluster -> QAT chain on a small model, whose int8 result must keep the sparsity and
 * the cluster count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress_check.h"
#include "nanoml/compress.h"
#include "nanoml/train_layers.h"
#include "test_util.h"
#include "train_check.h"

static void recipe_parses(void **state) {
    (void)state;
    const char *text = "# PCQAT on LeNet-5\n"
                       "\n"
                       "prune sparsity=0.5 schedule=polynomial epochs=2   # first\n"
                       "  cluster clusters=16 init=density preserve=sparsity skip=output\n"
                       "qat preserve=sparsity,clusters epochs=1 lr=2e-4\n";
    nml_recipe r;
    nml_error err;
    if (nml_recipe_parse(text, &r, &err) != NML_OK) fail_msg("%s", err.msg);
    assert_int_equal(r.n, 3);
    const nml_compress_step *p = &r.steps[0], *c = &r.steps[1], *q = &r.steps[2];
    assert_int_equal(p->kind, NML_STEP_PRUNE);
    assert_int_equal(p->line, 3);
    assert_true(p->prune.schedule.target_sparsity == 0.5f);
    assert_int_equal(p->prune.schedule.kind, NML_PRUNE_POLYNOMIAL);
    assert_int_equal(p->train.epochs, 2);
    assert_int_equal(p->end_auto, 1);
    assert_int_equal(c->kind, NML_STEP_CLUSTER);
    assert_int_equal(c->line, 4);
    assert_int_equal(c->cluster.clusters, 16);
    assert_int_equal(c->cluster.init, NML_CENTROIDS_DENSITY);
    assert_int_equal(c->cluster.preserve_sparsity, 1);
    assert_int_equal(c->cluster.n_layers, 1);
    assert_string_equal(c->cluster.layers[0].layer, "output");
    assert_int_equal(c->cluster.layers[0].clusters, 0);
    assert_int_equal(c->train.epochs, 1); /* default */
    assert_int_equal(q->kind, NML_STEP_QAT);
    assert_int_equal(q->qat.preserve_sparsity, 1);
    assert_int_equal(q->qat.preserve_clusters, 1);
    assert_int_equal(q->per_tensor_weights, 1); /* clusters stay codes */
    assert_true(q->train.lr == 2e-4f);
    nml_recipe_free(&r);
    /* per-layer targets, N:M, constant schedules, explicit weights */
    assert_int_equal(nml_recipe_parse("prune layers=c1:0.25,c5:0.9 skip=output structure=2:4 "
                                      "schedule=constant\n"
                                      "quantize mode=int8 calib=images:/x io=int8 "
                                      "weights=per-tensor\n",
                                      &r, &err),
                     NML_OK);
    assert_int_equal(r.steps[0].prune.n_layers, 3);
    assert_string_equal(r.steps[0].prune.layers[1].layer, "c5");
    assert_true(r.steps[0].prune.layers[1].sparsity == 0.9f);
    assert_true(r.steps[0].prune.layers[2].sparsity < 0.0f);
    assert_int_equal(r.steps[0].prune.structure, NML_PRUNE_NM);
    assert_int_equal(r.steps[0].prune.n, 2);
    assert_int_equal(r.steps[0].prune.m, 4);
    assert_int_equal(r.steps[0].prune.schedule.end_step, -1);
    assert_string_equal(r.steps[1].calib, "images:/x");
    assert_int_equal(r.steps[1].quant.io, NML_QIO_INT8);
    assert_int_equal(r.steps[1].quant.per_channel, 0);
    nml_recipe_free(&r);
    /* pack after a quantizing step, with and without settings */
    assert_int_equal(nml_recipe_parse("qat\npack sparse=no min-elements=64\n", &r, &err), NML_OK);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.steps[1].kind, NML_STEP_PACK);
    assert_int_equal(r.steps[1].line, 2);
    assert_int_equal(r.steps[1].pack.sparse, 0);
    assert_int_equal(r.steps[1].pack.clustered, 1);
    assert_int_equal(r.steps[1].pack.min_elements, 64);
    assert_int_equal(r.steps[1].train.epochs, 0);
    nml_recipe_free(&r);
    assert_int_equal(nml_recipe_parse("quantize\npack\n", &r, &err), NML_OK);
    assert_int_equal(r.steps[1].pack.sparse, 1);
    assert_int_equal(r.steps[1].pack.min_elements, 256);
    nml_recipe_free(&r);
}

static void expect_error(const char *text, const char *want) {
    nml_recipe r;
    nml_error err;
    if (nml_recipe_parse(text, &r, &err) == NML_OK) fail_msg("'%s' parsed", text);
    printf("%s\n", err.msg);
    if (!strstr(err.msg, want)) fail_msg("'%s' lacks '%s'", err.msg, want);
    assert_int_equal(r.n, 0);
    assert_null(r.steps);
}

static void errors_name_line_and_setting(void **state) {
    (void)state;
    expect_error("# x\n\nprune sparsity=1.2\n",
                 "line 3: prune: sparsity=1.2: sparsity 1.2 is outside [0, 1)");
    expect_error("prune sparsity=-0.1\n", "sparsity -0.1 is outside [0, 1)");
    expect_error("prun sparsity=0.5\n", "line 1: unknown step 'prun' (prune, cluster, qat, "
                                        "quantize, pack)");
    expect_error("cluster clusters=0\n", "line 1: cluster: clusters=0: 0 clusters");
    expect_error("cluster clusters=300\n", "300 clusters: the number of clusters must be 1 to 256");
    expect_error("prune\nprune sparsity\n", "line 2: prune: 'sparsity' is not a setting");
    expect_error("prune sparcity=0.5\n", "unknown setting 'sparcity' (epochs, batch");
    expect_error("cluster sparsity=0.5\n", "unknown setting 'sparsity'");
    expect_error("prune\nqat\ncluster\n", "line 3: cluster cannot follow qat on line 2");
    expect_error("qat epochs=0\n", "at least 1 epoch");
    expect_error("# nothing\n\n", "the recipe has no steps");
    expect_error("prune begin=10 end=5\n", "end step 5 > begin step 10");
    expect_error("prune structure=4:2\n", "unknown structure '4:2'");
    expect_error("cluster layers=c1\n", "'c1' lacks ':CLUSTERS'");
    expect_error("prune layers=c1:1.5\n", "layers=c1:1.5: sparsity 1.5 is outside [0, 1)");
    expect_error("quantize mode=int2\n", "unknown value 'int2' (int8, int4, dynamic, float16)");
    expect_error("qat preserve=zeros\n", "cannot preserve 'zeros' (sparsity, clusters, none)");
    expect_error("prune epochs=two\n", "'two' is not an integer");
    expect_error("pack\n", "line 1: pack needs a quantized model: put qat or quantize before it");
    expect_error("prune\npack\n", "line 2: pack cannot follow prune on line 1");
    expect_error("qat\npack\nprune\n", "line 3: prune cannot follow pack on line 2");
    expect_error("qat\npack\npack\n",
                 "line 3: pack cannot follow pack on line 2: packing is the last step");
    expect_error("quantize\npack sparse=maybe\n", "line 2: pack: sparse=maybe: unknown value "
                                                  "'maybe' (yes, no)");
    expect_error("qat\npack clusters=16\n", "unknown setting 'clusters' (sparse, clustered, "
                                            "min-elements)");
}

/* ---- a chain on a small model ---- */

enum { N = 240 };

static void small_model(nml_ir *ir, nml_data *d, float *x, float *y) {
    nml_net *net;
    nml_error err;
    tc_fill_uniform(x, N * 64, 0.0f, 0.3f, 31);
    for (int i = 0; i < N; i++) {
        const int c = i % 3;
        y[i] = (float)c;
        for (int p = 0; p < 64; p++)
            if ((c == 0 && p / 8 < 3) || (c == 1 && p % 8 < 3)) x[i * 64 + p] += 0.7f;
    }
    assert_int_equal(nml_data_from_arrays(d, x, y, N, nml_shape_3d(8, 8, 1), 1, 3, &err), NML_OK);
    assert_int_equal(nml_net_create(&net, "small", 4, &err), NML_OK);
    nml_net_input(net, "image", nml_shape_3d(8, 8, 1), NULL, &err);
    nml_net_add(net,
                nml_conv2d(&(nml_conv2d_opts){
                    .name = "c1", .filters = 8, .kernel = 3, .activation = NML_AFN_TANH}),
                &err);
    nml_net_add(net, nml_flatten("flatten"), &err);
    nml_net_add(net,
                nml_dense(&(nml_dense_opts){.name = "f2", .units = 16, .activation = NML_AFN_TANH}),
                &err);
    nml_net_add(
        net, nml_dense(&(nml_dense_opts){.name = "out", .units = 3, .activation = NML_AFN_SOFTMAX}),
        &err);
    assert_int_equal(nml_net_build(net, 0, NULL, &err), NML_OK);
    nml_optim *opt;
    assert_int_equal(
        nml_optim_create(&opt, net, &(nml_optim_opts){.kind = NML_OPTIM_ADAM, .lr = 0.01f}, &err),
        NML_OK);
    nml_fit_opts fo = {.epochs = 5, .batch = 16};
    assert_int_equal(nml_fit(net, opt, d, &fo, NULL, &err), NML_OK);
    nml_optim_free(opt);
    cc_export(net, ir);
    nml_net_free(net);
}

static void pcqat_chain_keeps_structure(void **state) {
    (void)state;
    float *x = malloc(N * 64 * sizeof *x), y[N];
    nml_data d;
    nml_ir model, out;
    nml_error err;
    small_model(&model, &d, x, y);
    nml_recipe r;
    assert_int_equal(nml_recipe_parse("prune sparsity=0.5 epochs=2 frequency=5 lr=1e-3\n"
                                      "cluster clusters=8 preserve=sparsity epochs=1 lr=1e-3\n"
                                      "qat preserve=sparsity,clusters epochs=1 lr=1e-3\n",
                                      &r, &err),
                     NML_OK);
    const nml_compress_env env = {.train = &d, .log = stdout};
    if (nml_compress_run(&model, &r, &env, &out, &err) != NML_OK) fail_msg("%s", err.msg);
    nml_weight_stats ws;
    assert_int_equal(nml_weight_stats_of(&out, &ws, &err), NML_OK);
    printf("int8 result: %llu weights, %llu zero, at most %u codes per layer\n",
           (unsigned long long)ws.kernel, (unsigned long long)ws.zeros, ws.max_distinct);
    assert_int_equal(ws.layers, 3);
    assert_true(ws.zeros * 2 >= ws.kernel - 3); /* 50% per layer, rounded per layer */
    assert_true(ws.max_distinct <= 8);
    /* the int8 model still classifies the training data */
    float *p = malloc(N * 3 * sizeof *p);
    cc_run_ir(&out, x, N, p);
    int correct = 0;
    for (int i = 0; i < N; i++)
        correct += nml_argmax(p + 3 * i, 3) == (int)y[i];
    printf("int8 accuracy %d/%d\n", correct, N);
    assert_true(correct >= N * 9 / 10);
    /* the pack step stores f2's 50% zeros and 8 values compactly (c1 and out are under the
     * 256-weight minimum) and the runtime computes the same outputs from it */
    nml_compress_step pack;
    const char *words[1] = {"min-elements=256"};
    assert_int_equal(nml_compress_step_parse("pack", 1, words, &pack, &err), NML_OK);
    nml_ir packed;
    if (nml_compress_step_run(&out, &pack, &env, &packed, &err) != NML_OK) fail_msg("%s", err.msg);
    int n_packed = 0, f2 = -1;
    for (int t = 0; t < packed.n_tensors; t++)
        if (packed.tensors[t].pack) {
            n_packed++;
            f2 = t;
        }
    assert_int_equal(n_packed, 1);
    assert_int_equal(packed.tensors[f2].dims[0], 16); /* f2: [16, 288] */
    /* 288 x 16 weights: a bitmask (1 bit each) + 3-bit or 4-bit indices of the non-zero half */
    assert_true(packed.tensors[f2].data_bytes < 4608 / 2);
    float *pp = malloc(N * 3 * sizeof *pp);
    cc_run_ir(&packed, x, N, pp);
    assert_memory_equal(p, pp, N * 3 * sizeof *pp);
    free(pp);
    nml_ir_free(&packed);
    free(p);
    nml_ir_free(&out);
    /* a step that needs data without any */
    const nml_compress_env none = {0};
    assert_int_equal(nml_compress_run(&model, &r, &none, &out, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "line 1 (prune): fine-tuning needs training data"));
    nml_recipe_free(&r);
    nml_ir_free(&model);
    free(x);
}

/* Hand-counted: a dense layer [2, 3] = {0, 1, 1, 0, 2, 0} with 2 biases: 8 parameters, 6
 * weights, 3 zeros, 3 distinct values; its float16 form (behind DEQUANTIZE) counts the same. */
static void weight_stats_count(void **state) {
    (void)state;
    nml_ir ir, half;
    nml_error err;
    nml_ir_init(&ir);
    const int32_t xd[2] = {1, 3}, wd[2] = {2, 3}, bd[1] = {2}, yd[2] = {1, 2};
    const float w[6] = {0, 1, 1, 0, 2, 0}, b[2] = {0.5f, 0.5f};
    int x, wt, bt, y;
    assert_int_equal(nml_ir_add_tensor(&ir, "x", NML_FLOAT32, 2, xd, NULL, 0, &x, &err), NML_OK);
    assert_int_equal(nml_ir_add_tensor(&ir, "w", NML_FLOAT32, 2, wd, w, sizeof w, &wt, &err),
                     NML_OK);
    assert_int_equal(nml_ir_add_tensor(&ir, "b", NML_FLOAT32, 1, bd, b, sizeof b, &bt, &err),
                     NML_OK);
    assert_int_equal(nml_ir_add_tensor(&ir, "y", NML_FLOAT32, 2, yd, NULL, 0, &y, &err), NML_OK);
    const int32_t in[3] = {x, wt, bt}, out = y;
    assert_int_equal(nml_ir_add_op(&ir, NML_OP_FULLY_CONNECTED, NULL, 3, in, 1, &out, NULL, &err),
                     NML_OK);
    assert_int_equal(nml_ir_set_io(&ir, 1, &in[0], 1, &out, &err), NML_OK);
    nml_weight_stats ws;
    assert_int_equal(nml_weight_stats_of(&ir, &ws, &err), NML_OK);
    assert_int_equal(ws.params, 8);
    assert_int_equal(ws.kernel, 6);
    assert_int_equal(ws.zeros, 3);
    assert_int_equal(ws.max_distinct, 3);
    assert_int_equal(ws.layers, 1);
    nml_quant_options o;
    nml_quant_options_default(&o);
    o.mode = NML_QUANT_FLOAT16;
    assert_int_equal(nml_quantize(&ir, &half, &o, NULL, NULL, &err), NML_OK);
    assert_int_equal(nml_weight_stats_of(&half, &ws, &err), NML_OK);
    assert_int_equal(ws.params, 8);
    assert_int_equal(ws.zeros, 3);
    assert_int_equal(ws.max_distinct, 3);
    nml_ir_free(&half);
    o.mode = NML_QUANT_DYNAMIC; /* per-row scales 1/127, 2/127: codes 0 127 127 / 0 127 0 */
    assert_int_equal(nml_quantize(&ir, &half, &o, NULL, NULL, &err), NML_OK);
    assert_int_equal(nml_weight_stats_of(&half, &ws, &err), NML_OK);
    assert_int_equal(ws.zeros, 3);
    assert_int_equal(ws.max_distinct, 2);
    nml_ir_free(&half);
    nml_ir_free(&ir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recipe_parses),
        cmocka_unit_test(errors_name_line_and_setting),
        cmocka_unit_test(pcqat_chain_keeps_structure),
        cmocka_unit_test(weight_stats_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
