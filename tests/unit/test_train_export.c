/* Export of trained networks to the host IR: operators, tensor layouts, batch-norm folding,
 * dropout removal and activation fusion, inspected directly in the nml_ir structure. Needs the
 * host IR (src/.../ir.c); in a tree without it, export must fail cleanly instead. */
#include <math.h>
#include <string.h>

#include "nanoml/train_export.h"
#include "nanoml/train_layers.h"
#include "nanoml/train_lenet5.h"
#include "test_util.h"
#include "train_check.h"


static void export_ok(const nml_net *net, nml_ir *ir) {
    nml_error err;
    nml_ir_init(ir);
    if (nml_net_export(net, ir, &err) != NML_OK) fail_msg("export: %s", err.msg);
}

static void assert_ops(const nml_ir *ir, const int32_t *want, int n) {
    assert_int_equal(ir->n_ops, n);
    for (int i = 0; i < n; i++)
        if (ir->ops[i].builtin != want[i])
            fail_msg("op %d is %s, expected %s", i, nml_op_name(ir->ops[i].builtin),
                     nml_op_name(want[i]));
}

static const nml_ir_tensor *tensor(const nml_ir *ir, int32_t i) {
    assert_true(i >= 0 && i < ir->n_tensors);
    return &ir->tensors[i];
}

static void assert_dims(const nml_ir_tensor *t, int rank, const int32_t *dims) {
    assert_int_equal(t->rank, rank);
    for (int i = 0; i < rank; i++) assert_int_equal(t->dims[i], dims[i]);
}

static void lenet5_operators_and_layouts(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    assert_int_equal(nml_lenet5(&net, NML_LENET5_CUSTOM, 1, &err), NML_OK);
    nml_ir ir;
    export_ok(net, &ir);
    const int32_t ops[] = {NML_OP_CONV_2D,         NML_OP_TANH,     NML_OP_AVERAGE_POOL_2D,
                           NML_OP_LOGISTIC,        NML_OP_CONV_2D,  NML_OP_TANH,
                           NML_OP_AVERAGE_POOL_2D, NML_OP_LOGISTIC, NML_OP_CONV_2D,
                           NML_OP_TANH,            NML_OP_RESHAPE,  NML_OP_FULLY_CONNECTED,
                           NML_OP_TANH,            NML_OP_FULLY_CONNECTED, NML_OP_SOFTMAX};
    assert_ops(&ir, ops, 15);
    assert_int_equal(ir.n_inputs, 1);
    assert_int_equal(ir.n_outputs, 1);
    assert_dims(tensor(&ir, ir.inputs[0]), 4, (const int32_t[]){1, 32, 32, 1});
    assert_dims(tensor(&ir, ir.outputs[0]), 2, (const int32_t[]){1, 10});
    assert_int_equal(ir.ops[14].outputs[0], ir.outputs[0]);
    /* CONV_2D: input, filter OHWI with the trained values, bias; valid padding, stride 1 */
    const nml_ir_op *c1 = &ir.ops[0];
    assert_int_equal(c1->n_inputs, 3);
    assert_int_equal(c1->inputs[0], ir.inputs[0]);
    const nml_ir_tensor *f = tensor(&ir, c1->inputs[1]);
    assert_dims(f, 4, (const int32_t[]){6, 5, 5, 1});
    const nml_param *k = nml_layer_find_param(nml_net_find_layer(net, "c1"), "kernel");
    assert_int_equal(f->data_bytes, 150 * sizeof(float));
    assert_memory_equal(f->data, k->value, 150 * sizeof(float));
    assert_int_equal(c1->params.padding, NML_PAD_VALID);
    assert_int_equal(c1->params.stride_w, 1);
    assert_int_equal(c1->params.activation, NML_ACT_NONE);
    /* pooling 2x2 stride 2 */
    assert_int_equal(ir.ops[2].params.filter_w, 2);
    assert_int_equal(ir.ops[2].params.stride_h, 2);
    /* flatten: [1, 120]; the custom F6 exports FULLY_CONNECTED with weights [84, 120] */
    assert_dims(tensor(&ir, ir.ops[10].outputs[0]), 2, (const int32_t[]){1, 120});
    assert_dims(tensor(&ir, ir.ops[11].inputs[1]), 2, (const int32_t[]){84, 120});
    assert_dims(tensor(&ir, ir.ops[13].inputs[1]), 2, (const int32_t[]){10, 84});
    assert_true(ir.ops[14].params.beta == 1.0f);
    /* parameters in the IR: exactly the 61,706 weights */
    uint64_t weights = 0;
    for (int i = 0; i < ir.n_tensors; i++)
        if (ir.tensors[i].type == NML_FLOAT32 && ir.tensors[i].data)
            weights += nml_ir_tensor_count(&ir.tensors[i]);
    assert_int_equal(weights, 61706);
    nml_ir_free(&ir);
    nml_net_free(net);
}

/* conv (no activation) -> batch norm -> relu folds into one CONV_2D with fused RELU whose
 * weights are w * g / sqrt(v + eps) and bias (b - m) * g / sqrt(v + eps) + beta. */
static void batch_norm_folds_and_relu_fuses(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    int x, c, n, r, f, y;
    assert_int_equal(nml_net_create(&net, "bn", 3, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_3d(4, 4, 1), &x, &err);
    nml_net_call1(net, nml_conv2d(&(nml_conv2d_opts){.name = "conv", .filters = 2, .kernel = 3}),
                  x, &c, &err);
    nml_net_call1(net, nml_batch_normalization(&(nml_batch_norm_opts){.name = "bn",
                                                                      .epsilon = 0.01f}),
                  c, &n, &err);
    nml_net_call1(net, nml_activation_layer("relu", NML_AFN_RELU), n, &r, &err);
    nml_net_call1(net, nml_flatten(NULL), r, &f, &err);
    nml_net_call1(net, nml_dense(&(nml_dense_opts){.units = 3}), f, &y, &err);
    assert_int_equal(nml_net_build(net, 1, &y, &err), NML_OK);
    nml_layer *bn = nml_net_find_layer(net, "bn");
    const float g[2] = {2.0f, 0.5f}, be[2] = {0.1f, -0.3f}, m[2] = {0.2f, -1.0f},
                v[2] = {0.99f, 3.99f};
    memcpy(nml_layer_find_param(bn, "gamma")->value, g, sizeof g);
    memcpy(nml_layer_find_param(bn, "beta")->value, be, sizeof be);
    memcpy(nml_layer_find_param(bn, "moving_mean")->value, m, sizeof m);
    memcpy(nml_layer_find_param(bn, "moving_variance")->value, v, sizeof v);
    nml_param *kw = nml_layer_find_param(nml_net_find_layer(net, "conv"), "kernel");
    nml_param *kb = nml_layer_find_param(nml_net_find_layer(net, "conv"), "bias");
    kb->value[0] = 0.4f, kb->value[1] = -0.2f;
    nml_ir ir;
    export_ok(net, &ir);
    assert_ops(&ir, (const int32_t[]){NML_OP_CONV_2D, NML_OP_RESHAPE, NML_OP_FULLY_CONNECTED}, 3);
    assert_int_equal(ir.ops[0].params.activation, NML_ACT_RELU);
    const float *w = (const float *)tensor(&ir, ir.ops[0].inputs[1])->data;
    const float *b = (const float *)tensor(&ir, ir.ops[0].inputs[2])->data;
    for (int o = 0; o < 2; o++) {
        /* sqrt(v + eps) = sqrt(1) = 1 for channel 0 and sqrt(4) = 2 for channel 1 */
        const float scale = o == 0 ? 2.0f / 1.0f : 0.5f / 2.0f;
        for (int i = 0; i < 9; i++)
            assert_true(fabsf(w[o * 9 + i] - kw->value[o * 9 + i] * scale) < 1e-6f);
        const float want = (kb->value[o] - m[o]) * scale + be[o];
        assert_true(fabsf(b[o] - want) < 1e-6f);
    }
    nml_ir_free(&ir);
    nml_net_free(net);
}

static void dropout_disappears_and_ops_map(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    int x, p, d, dw, mp, a, s, cat, fl, h, dr, y;
    assert_int_equal(nml_net_create(&net, "mix", 3, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_3d(6, 6, 2), &x, &err);
    nml_net_call1(net, nml_zero_padding2d(&(nml_zero_padding2d_opts){.top = 1, .left = 2}), x, &p,
                  &err);
    nml_net_call1(net, nml_depthwise_conv2d(&(nml_depthwise_conv2d_opts){
                           .kernel = 3, .depth_multiplier = 2, .activation = NML_AFN_RELU6}),
                  p, &d, &err);
    nml_net_call1(net, nml_conv2d(&(nml_conv2d_opts){.filters = 4, .kernel = 1,
                                                     .activation = NML_AFN_TANH}),
                  d, &dw, &err);
    nml_net_call1(net, nml_max_pooling2d(&(nml_pool2d_opts){.pool = 2}), dw, &mp, &err);
    nml_net_call1(net, nml_conv2d(&(nml_conv2d_opts){.filters = 4, .kernel = 1}), mp, &a, &err);
    nml_net_call(net, nml_add(NULL), 2, (int[]){mp, a}, &s, &err);
    nml_net_call(net, nml_concatenate(NULL), 2, (int[]){s, mp}, &cat, &err);
    nml_net_call1(net, nml_flatten(NULL), cat, &fl, &err);
    nml_net_call1(net, nml_dense(&(nml_dense_opts){.units = 5, .activation = NML_AFN_RELU}), fl,
                  &h, &err);
    nml_net_call1(net, nml_dropout(NULL, 0.5f), h, &dr, &err);
    nml_net_call1(net, nml_dense(&(nml_dense_opts){.units = 3, .activation = NML_AFN_SIGMOID}),
                  dr, &y, &err);
    assert_int_equal(nml_net_build(net, 1, &y, &err), NML_OK);
    nml_ir ir;
    export_ok(net, &ir);
    const int32_t ops[] = {NML_OP_PAD,         NML_OP_DEPTHWISE_CONV_2D, NML_OP_CONV_2D,
                           NML_OP_TANH,        NML_OP_MAX_POOL_2D,       NML_OP_CONV_2D,
                           NML_OP_ADD,         NML_OP_CONCATENATION,     NML_OP_RESHAPE,
                           NML_OP_FULLY_CONNECTED, NML_OP_FULLY_CONNECTED, NML_OP_LOGISTIC};
    assert_ops(&ir, ops, 12);
    /* PAD paddings [[0, 0], [1, 0], [2, 0], [0, 0]] */
    const nml_ir_tensor *pads = tensor(&ir, ir.ops[0].inputs[1]);
    assert_int_equal(pads->type, NML_INT32);
    assert_dims(pads, 2, (const int32_t[]){4, 2});
    assert_memory_equal(pads->data, ((const int32_t[]){0, 0, 1, 0, 2, 0, 0, 0}),
                        8 * sizeof(int32_t));
    assert_int_equal(ir.ops[1].params.activation, NML_ACT_RELU6);
    assert_int_equal(ir.ops[1].params.depth_multiplier, 2);
    assert_dims(tensor(&ir, ir.ops[1].inputs[1]), 4, (const int32_t[]){1, 3, 3, 4});
    assert_int_equal(ir.ops[7].params.axis, 3);
    assert_int_equal(ir.ops[9].params.activation, NML_ACT_RELU);
    /* the dropout vanished: the second dense reads the first one's output */
    assert_int_equal(ir.ops[10].inputs[0], ir.ops[9].outputs[0]);
    nml_ir_free(&ir);
    nml_net_free(net);
}

static void unfoldable_batch_norm_is_reported(void **state) {
    (void)state;
    nml_net *net;
    nml_error err;
    int x, c, n;
    assert_int_equal(nml_net_create(&net, "bn", 3, &err), NML_OK);
    nml_net_input(net, "x", nml_shape_3d(4, 4, 1), &x, &err);
    nml_net_call1(net, nml_conv2d(&(nml_conv2d_opts){.filters = 2, .kernel = 3,
                                                     .activation = NML_AFN_TANH}),
                  x, &c, &err);
    nml_net_call1(net, nml_batch_normalization(&(nml_batch_norm_opts){.name = "late_bn"}), c, &n,
                  &err);
    assert_int_equal(nml_net_build(net, 1, &n, &err), NML_OK);
    nml_ir ir;
    nml_ir_init(&ir);
    assert_int_equal(nml_net_export(net, &ir, &err), NML_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "late_bn"));
    nml_ir_free(&ir);
    nml_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lenet5_operators_and_layouts),
        cmocka_unit_test(batch_norm_folds_and_relu_fuses),
        cmocka_unit_test(dropout_disappears_and_ops_map),
        cmocka_unit_test(unfoldable_batch_norm_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

