/* .tflite -> trainable network import: the imported network computes what nanoml's runtime
 * computes for the same file (within 1e-5), on a LeNet-5 written by the exporter, on a branchy
 * model with every importable operator, and on TensorFlow's own hello_world_float.tflite (there
 * against TFLite Micro's reference outputs). Bad input is refused naming the operator or
 * tensor. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress_check.h"
#include "nanoml/train_import.h"
#include "nanoml/train_layers.h"
#include "nanoml/train_lenet5.h"
#include "test_util.h"
#include "train_check.h"

static nml_net *import_ok(const nml_ir *ir, int split) {
    nml_net *net;
    nml_error err;
    nml_import_opts o = {.split_activations = split};
    if (nml_net_from_ir(&net, ir, &o, &err) != NML_OK) fail_msg("import: %s", err.msg);
    return net;
}

/* The network's outputs on n samples vs the runtime's on the same IR. */
static double net_vs_runtime(nml_net *net, const nml_ir *ir, const float *x, int n) {
    nml_error err;
    const size_t no = cc_output_count(ir);
    float *want = malloc((size_t)n * no * sizeof(float));
    cc_run_ir(ir, x, n, want);
    if (nml_net_forward(net, &x, n, 0, &err) != NML_OK) fail_msg("forward: %s", err.msg);
    double d = cc_max_abs_diff(nml_net_output(net, 0), want, (size_t)n * no);
    free(want);
    return d;
}

static void lenet5_round_trip(void **state) {
    (void)state;
    nml_net *orig;
    nml_error err;
    assert_int_equal(nml_lenet5(&orig, NML_LENET5_SEQUENTIAL, 11, &err), NML_OK);
    /* non-zero biases, so copying them is tested too */
    for (int i = 0; i < nml_net_param_count(orig); i++) {
        nml_param *p = nml_net_param(orig, i);
        if (strstr(p->name, "bias")) tc_fill_uniform(p->value, p->count, -0.5f, 0.5f, 40u + i);
    }
    nml_ir exported, ir;
    cc_export(orig, &exported);
    cc_tflite_round_trip(&exported, &ir);
    nml_net *net = import_ok(&ir, 0);
    assert_int_equal(nml_net_weight_count(net), NML_LENET5_PARAMS);
    assert_int_equal(nml_net_layer_count(net), nml_net_layer_count(orig));
    /* the layers come back with their names and activations */
    assert_non_null(nml_net_find_layer(net, "c1"));
    assert_int_equal(nml_net_find_layer(net, "c1")->act, NML_AFN_TANH);
    assert_non_null(nml_net_find_layer(net, "s2_sigmoid"));
    assert_int_equal(nml_net_find_layer(net, "output")->act, NML_AFN_SOFTMAX);
    float x[4 * 32 * 32];
    tc_fill_uniform(x, sizeof x / sizeof x[0], 0.0f, 1.0f, 5);
    const double d = net_vs_runtime(net, &ir, x, 4);
    printf("lenet5: max |net - runtime| = %.3g\n", d);
    assert_true(d <= 1e-5);
    /* exporting the import again gives the same operators */
    nml_ir again;
    cc_export(net, &again);
    assert_int_equal(again.n_ops, exported.n_ops);
    for (int i = 0; i < again.n_ops; i++)
        assert_int_equal(again.ops[i].builtin, exported.ops[i].builtin);
    /* split activations: more layers, same function */
    nml_net *split = import_ok(&ir, 1);
    assert_true(nml_net_layer_count(split) > nml_net_layer_count(net));
    assert_true(net_vs_runtime(split, &ir, x, 4) <= 1e-5);
    nml_net_free(split);
    nml_ir_free(&again);
    nml_ir_free(&exported);
    nml_ir_free(&ir);
    nml_net_free(net);
    nml_net_free(orig);
}

/* Every importable operator: PAD, CONV_2D + RELU, DEPTHWISE_CONV_2D + RELU6, MAX_POOL_2D, ADD
 * + RELU, CONCATENATION, AVERAGE_POOL_2D, TANH, RESHAPE, FULLY_CONNECTED, LOGISTIC, SOFTMAX. */
static nml_net *branchy_model(void) {
    nml_net *net;
    nml_error err;
    int x, p, c, d, m, a, s, cat, ap, t, f, fc, out;
    assert_int_equal(nml_net_create(&net, "branchy", 9, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_3d(8, 8, 3), &x, &err);
    nml_net_call1(net,
                  nml_zero_padding2d(&(nml_zero_padding2d_opts){
                      .name = "pad", .top = 1, .bottom = 1, .left = 2, .right = 0}),
                  x, &p, &err);
    nml_net_call1(net,
                  nml_conv2d(&(nml_conv2d_opts){.name = "conv",
                                                .filters = 4,
                                                .kernel_h = 3,
                                                .kernel_w = 3,
                                                .stride_w = 1,
                                                .stride_h = 1,
                                                .activation = NML_AFN_RELU}),
                  p, &c, &err);
    nml_net_call1(net,
                  nml_depthwise_conv2d(&(nml_depthwise_conv2d_opts){.name = "dw",
                                                                    .kernel = 3,
                                                                    .depth_multiplier = 2,
                                                                    .same_padding = 1,
                                                                    .activation = NML_AFN_RELU6}),
                  c, &d, &err);
    nml_net_call1(net, nml_max_pooling2d(&(nml_pool2d_opts){.name = "maxpool", .pool = 2}), d, &m,
                  &err);
    nml_net_call1(
        net,
        nml_conv2d(&(nml_conv2d_opts){.name = "proj", .filters = 8, .kernel = 1, .no_bias = 1}), m,
        &a, &err);
    nml_net_call(net, nml_layer_set_activation(nml_add("sum"), NML_AFN_RELU), 2, (int[]){a, m}, &s,
                 &err);
    nml_net_call(net, nml_concatenate("cat"), 2, (int[]){s, m}, &cat, &err);
    nml_net_call1(net, nml_average_pooling2d(&(nml_pool2d_opts){.name = "avg", .pool = 2}), cat,
                  &ap, &err);
    nml_net_call1(net, nml_activation_layer("squash", NML_AFN_TANH), ap, &t, &err);
    nml_net_call1(net, nml_flatten("flat"), t, &f, &err);
    nml_net_call1(
        net, nml_dense(&(nml_dense_opts){.name = "fc", .units = 6, .activation = NML_AFN_SIGMOID}),
        f, &fc, &err);
    nml_net_call1(
        net, nml_dense(&(nml_dense_opts){.name = "out", .units = 3, .activation = NML_AFN_SOFTMAX}),
        fc, &out, &err);
    if (nml_net_build(net, 1, &out, &err) != NML_OK) fail_msg("build: %s", err.msg);
    for (int i = 0; i < nml_net_param_count(net); i++) {
        nml_param *q = nml_net_param(net, i);
        tc_fill_uniform(q->value, q->count, -0.6f, 0.6f, 100u + i);
    }
    return net;
}

static void branchy_round_trip(void **state) {
    (void)state;
    nml_net *orig = branchy_model();
    nml_ir exported, ir;
    cc_export(orig, &exported);
    cc_tflite_round_trip(&exported, &ir);
    const int32_t want[] = {NML_OP_PAD,
                            NML_OP_CONV_2D,
                            NML_OP_DEPTHWISE_CONV_2D,
                            NML_OP_MAX_POOL_2D,
                            NML_OP_CONV_2D,
                            NML_OP_ADD,
                            NML_OP_CONCATENATION,
                            NML_OP_AVERAGE_POOL_2D,
                            NML_OP_TANH,
                            NML_OP_RESHAPE,
                            NML_OP_FULLY_CONNECTED,
                            NML_OP_LOGISTIC,
                            NML_OP_FULLY_CONNECTED,
                            NML_OP_SOFTMAX};
    assert_int_equal(ir.n_ops, 14);
    for (int i = 0; i < 14; i++)
        assert_int_equal(ir.ops[i].builtin, want[i]);
    nml_net *net = import_ok(&ir, 0);
    /* the exporter writes a zero bias for "proj", which has none: the import has 8 more */
    assert_int_equal(nml_net_weight_count(net), nml_net_weight_count(orig) + 8);
    float x[3 * 8 * 8 * 3];
    tc_fill_uniform(x, sizeof x / sizeof x[0], -1.0f, 1.0f, 6);
    const double d = net_vs_runtime(net, &ir, x, 3);
    printf("branchy: max |net - runtime| = %.3g\n", d);
    assert_true(d <= 1e-5);
    nml_ir_free(&exported);
    nml_ir_free(&ir);
    nml_net_free(net);
    nml_net_free(orig);
}

/* TensorFlow wrote this model (FULLY_CONNECTED with fused RELU); TFLite Micro computed the
 * reference outputs. */
static void hello_world_matches_tflm(void **state) {
    (void)state;
    const char *path = nml_test_shared("models/tflm/hello_world_float.tflite");
    if (!nml_test_exists(path)) skip();
    size_t size;
    uint8_t *bytes = nml_test_read(path, &size);
    nml_ir ir;
    nml_error err;
    assert_int_equal(nml_ir_from_tflite(&ir, bytes, size, &err), NML_OK);
    nml_net *net = import_ok(&ir, 0);
    assert_int_equal(nml_net_weight_count(net), 321);
    int checked = 0;
    double worst = 0.0;
    for (int i = 0; i < 64; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "golden/tflm-reference/hello_world_float/in_%03d.bin", i);
        const char *in_path = nml_test_shared(rel);
        if (!nml_test_exists(in_path)) break;
        snprintf(rel, sizeof rel, "golden/tflm-reference/hello_world_float/out_%03d.bin", i);
        size_t n_in, n_out;
        uint8_t *in = nml_test_read(in_path, &n_in),
                *out = nml_test_read(nml_test_shared(rel), &n_out);
        assert_int_equal(n_in, sizeof(float));
        assert_int_equal(n_out, sizeof(float));
        float x, y;
        memcpy(&x, in, 4);
        memcpy(&y, out, 4);
        const float *px = &x;
        assert_int_equal(nml_net_forward(net, &px, 1, 0, &err), NML_OK);
        const double d = fabs((double)nml_net_output(net, 0)[0] - y);
        worst = d > worst ? d : worst;
        free(in);
        free(out);
        checked++;
    }
    printf("hello_world: %d golden samples, max |net - TFLM| = %.3g\n", checked, worst);
    assert_true(checked > 0);
    assert_true(worst <= 1e-5);
    nml_net_free(net);
    nml_ir_free(&ir);
    free(bytes);
}

static void quantized_model_is_refused(void **state) {
    (void)state;
    const char *path = nml_test_shared("models/tflm/hello_world_int8.tflite");
    if (!nml_test_exists(path)) skip();
    size_t size;
    uint8_t *bytes = nml_test_read(path, &size);
    nml_ir ir;
    nml_net *net = NULL;
    nml_error err;
    assert_int_equal(nml_ir_from_tflite(&ir, bytes, size, &err), NML_OK);
    assert_int_equal(nml_net_from_ir(&net, &ir, NULL, &err), NML_E_UNSUPPORTED);
    assert_null(net);
    printf("int8 model: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "int8"));
    assert_non_null(strstr(err.msg, "float32 model"));
    nml_ir_free(&ir);
    free(bytes);
}

static void unsupported_operator_is_named(void **state) {
    (void)state;
    nml_ir ir;
    nml_error err;
    nml_ir_init(&ir);
    const int32_t dims[2] = {1, 4};
    const float k[4] = {1, 2, 3, 4};
    int x, c, y;
    assert_int_equal(nml_ir_add_tensor(&ir, "x", NML_FLOAT32, 2, dims, NULL, 0, &x, &err), NML_OK);
    assert_int_equal(nml_ir_add_tensor(&ir, "k", NML_FLOAT32, 2, dims, k, sizeof k, &c, &err),
                     NML_OK);
    assert_int_equal(nml_ir_add_tensor(&ir, "y", NML_FLOAT32, 2, dims, NULL, 0, &y, &err), NML_OK);
    const int32_t in[2] = {x, c}, out = y;
    assert_int_equal(nml_ir_add_op(&ir, NML_OP_MUL, NULL, 2, in, 1, &out, NULL, &err), NML_OK);
    assert_int_equal(nml_ir_set_io(&ir, 1, &in[0], 1, &out, &err), NML_OK);
    assert_int_equal(nml_import_check(&ir, &err), NML_E_UNSUPPORTED);
    printf("MUL: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "operator 0 (MUL)"));
    nml_ir_free(&ir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lenet5_round_trip),
        cmocka_unit_test(branchy_round_trip),
        cmocka_unit_test(hello_world_matches_tflm),
        cmocka_unit_test(quantized_model_is_refused),
        cmocka_unit_test(unsupported_operator_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
