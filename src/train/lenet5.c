/* LeNet-5 in the three definition styles. */
#include "nanoml/train_lenet5.h"

#include <stdlib.h>
#include <string.h>

#include "nanoml/train_export.h"
#include "nanoml/train_gemm.h"
#include "nanoml/train_layers.h"
#include "nanoml/train_param.h"

/* ---- the custom layer: a fully connected layer through the public callback interface ---- */

typedef struct custom_dense {
    int32_t units, inputs;
    nml_param *w, *b;
} custom_dense;

static nml_status cd_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                           nml_error *err) {
    (void)n_in;
    custom_dense *s = l->state;
    char buf[64];
    if (in[0].rank != 1)
        return nml_fail(err, NML_E_SHAPE, "input shape %s is not a vector",
                        nml_shape_str(&in[0], buf, sizeof buf));
    s->inputs = in[0].dims[0];
    *out = nml_shape_1d(s->units);
    return NML_OK;
}

static nml_status cd_params(nml_layer *l, int n_in, const nml_shape *in, const nml_shape *out,
                            nml_error *err) {
    (void)n_in, (void)in, (void)out;
    custom_dense *s = l->state;
    nml_shape ws = {2, {s->units, s->inputs}}, bs = nml_shape_1d(s->units);
    NML_TRY(nml_layer_add_param(l, "kernel", &ws, NML_INIT_GLOROT_UNIFORM, s->inputs, s->units, 1,
                                &s->w, err));
    return nml_layer_add_param(l, "bias", &bs, NML_INIT_ZEROS, 0, 0, 1, &s->b, err);
}

static nml_status cd_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    (void)err;
    custom_dense *s = l->state;
    const float *bias = nml_param_data(s->b);
    for (int32_t i = 0; i < f->batch; i++)
        memcpy(f->out->data + (size_t)i * s->units, bias, (size_t)s->units * sizeof(float));
    /* y = x W^T + b */
    nml_sgemm(0, 1, f->batch, s->units, s->inputs, 1.0f, f->in[0].data, s->inputs,
              nml_param_data(s->w), s->inputs, 1.0f, f->out->data, s->units);
    return NML_OK;
}

static nml_status cd_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    (void)err;
    custom_dense *s = l->state;
    for (int32_t i = 0; i < b->batch; i++)
        for (int32_t u = 0; u < s->units; u++) s->b->grad[u] += b->dout[(size_t)i * s->units + u];
    /* dW += dY^T X, dX = dY W */
    nml_sgemm(1, 0, s->units, s->inputs, b->batch, 1.0f, b->dout, s->units, b->in[0].data,
              s->inputs, 1.0f, s->w->grad, s->inputs);
    if (b->din[0])
        nml_sgemm(0, 0, b->batch, s->inputs, s->units, 1.0f, b->dout, s->units,
                  nml_param_data(s->w), s->inputs, 0.0f, b->din[0], s->inputs);
    return NML_OK;
}

static nml_status cd_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    custom_dense *s = l->state;
    int32_t wi, bi, out;
    const int32_t bdims[1] = {s->units};
    NML_TRY(nml_export_const(x, l, "kernel", 2, s->w->shape.dims, nml_param_data(s->w), &wi, err));
    NML_TRY(nml_export_const(x, l, "bias", 1, bdims, nml_param_data(s->b), &bi, err));
    NML_TRY(nml_export_activation(x, l->name, &x->out_shape, &out, err));
    nml_op_params p;
    nml_op_params_default(&p);
    const int32_t ins[3] = {x->in[0], wi, bi};
    NML_TRY(nml_export_op(x, l, NML_OP_FULLY_CONNECTED, &p, 3, ins, out, err));
    x->out = out;
    return NML_OK;
}

static void cd_destroy(nml_layer *l) { free(l->state); }

static const nml_layer_ops custom_dense_ops = {
    .kind = "CustomDense",
    .min_inputs = 1,
    .max_inputs = 1,
    .output_shape = cd_shape,
    .parameters = cd_params,
    .forward = cd_forward,
    .backward = cd_backward,
    .export_ir = cd_export,
    .destroy = cd_destroy,
};

nml_layer *nml_lenet5_custom_dense(const char *name, int32_t units, nml_afn act) {
    custom_dense *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->units = units;
    nml_layer *l = nml_layer_create(&custom_dense_ops, name, s);
    if (!l) free(s);
    return nml_layer_set_activation(l, act);
}

/* ---- the three definitions ---- */

/* He-uniform convolutions learn markedly faster here than Keras' default Glorot uniform (see
 * docs/training.md); the centered initialization starts from He uniform too. */
static nml_layer *conv(const char *name, int32_t filters, nml_lenet5_init init) {
    return nml_conv2d(&(nml_conv2d_opts){
        .name = name, .filters = filters, .kernel = 5, .activation = NML_AFN_TANH,
        .kernel_init = init == NML_LENET5_INIT_GLOROT ? NML_INIT_GLOROT_UNIFORM
                                                      : NML_INIT_HE_UNIFORM});
}

static nml_layer *pool(const char *name) {
    return nml_average_pooling2d(&(nml_pool2d_opts){.name = name, .pool = 2});
}

static nml_status sequential(nml_net *net, int custom, nml_lenet5_init init, nml_error *err) {
    int x;
    nml_net_input(net, "image", nml_shape_3d(32, 32, 1), &x, err);
    nml_net_add(net, conv("c1", 6, init), err);
    nml_net_add(net, pool("s2"), err);
    nml_net_add(net, nml_activation_layer("s2_sigmoid", NML_AFN_SIGMOID), err);
    nml_net_add(net, conv("c3", 16, init), err);
    nml_net_add(net, pool("s4"), err);
    nml_net_add(net, nml_activation_layer("s4_sigmoid", NML_AFN_SIGMOID), err);
    nml_net_add(net, conv("c5", 120, init), err);
    nml_net_add(net, nml_flatten("flatten"), err);
    if (custom)
        nml_net_add(net, nml_lenet5_custom_dense("f6", 84, NML_AFN_TANH), err);
    else
        nml_net_add(net, nml_dense(&(nml_dense_opts){.name = "f6", .units = 84,
                                                     .activation = NML_AFN_TANH}), err);
    nml_net_add(net, nml_dense(&(nml_dense_opts){.name = "output", .units = 10,
                                                 .activation = NML_AFN_SOFTMAX}), err);
    return nml_net_build(net, 0, NULL, err);
}

static nml_status functional(nml_net *net, nml_lenet5_init init, nml_error *err) {
    int x, c1, s2, a2, c3, s4, a4, c5, flat, f6, out;
    nml_net_input(net, "image", nml_shape_3d(32, 32, 1), &x, err);
    nml_net_call1(net, conv("c1", 6, init), x, &c1, err);
    nml_net_call1(net, pool("s2"), c1, &s2, err);
    nml_net_call1(net, nml_activation_layer("s2_sigmoid", NML_AFN_SIGMOID), s2, &a2, err);
    nml_net_call1(net, conv("c3", 16, init), a2, &c3, err);
    nml_net_call1(net, pool("s4"), c3, &s4, err);
    nml_net_call1(net, nml_activation_layer("s4_sigmoid", NML_AFN_SIGMOID), s4, &a4, err);
    nml_net_call1(net, conv("c5", 120, init), a4, &c5, err);
    nml_net_call1(net, nml_flatten("flatten"), c5, &flat, err);
    nml_net_call1(net, nml_dense(&(nml_dense_opts){.name = "f6", .units = 84,
                                                   .activation = NML_AFN_TANH}), flat, &f6, err);
    nml_net_call1(net, nml_dense(&(nml_dense_opts){.name = "output", .units = 10,
                                                   .activation = NML_AFN_SOFTMAX}), f6, &out, err);
    return nml_net_build(net, 1, &out, err);
}

/* The layers after the sigmoids see inputs in (0.27, 0.73): a 0.5 offset that couples every
 * weight with the bias, and a slope of about 1/4 that shrinks what they pass on. Zero-sum filters
 * cancel the offset at the start and a gain of 4 restores the signal's scale. */
static nml_status center_after_sigmoids(nml_net *net, nml_error *err) {
    static const char *const layers[] = {"c3", "c5"};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        nml_layer *l = nml_net_find_layer(net, layers[i]);
        nml_param *k = l ? nml_layer_find_param(l, "kernel") : NULL;
        if (!k) return nml_fail(err, NML_E_ARG, "LeNet-5 has no %s kernel", layers[i]);
        NML_TRY(nml_param_center_rows(k, NML_LENET5_CENTERED_GAIN, err));
    }
    return NML_OK;
}

nml_status nml_lenet5(nml_net **out, nml_lenet5_style style, uint64_t seed, nml_error *err) {
    return nml_lenet5_with_init(out, style, seed, NML_LENET5_INIT_CENTERED, err);
}

nml_status nml_lenet5_with_init(nml_net **out, nml_lenet5_style style, uint64_t seed,
                                nml_lenet5_init init, nml_error *err) {
    *out = NULL;
    if (init != NML_LENET5_INIT_CENTERED && init != NML_LENET5_INIT_HE &&
        init != NML_LENET5_INIT_GLOROT)
        return nml_fail(err, NML_E_ARG, "unknown LeNet-5 initialization %d", (int)init);
    if (style != NML_LENET5_SEQUENTIAL && style != NML_LENET5_FUNCTIONAL &&
        style != NML_LENET5_CUSTOM)
        return nml_fail(err, NML_E_ARG, "unknown LeNet-5 style %d", (int)style);
    nml_net *net;
    NML_TRY(nml_net_create(&net, "lenet5", seed, err));
    nml_status st = style == NML_LENET5_FUNCTIONAL
                        ? functional(net, init, err)
                        : sequential(net, style == NML_LENET5_CUSTOM, init, err);
    if (st == NML_OK && init == NML_LENET5_INIT_CENTERED) st = center_after_sigmoids(net, err);
    if (st != NML_OK) {
        nml_net_free(net);
        return st;
    }
    *out = net;
    return NML_OK;
}

const char *nml_lenet5_style_name(nml_lenet5_style style) {
    switch (style) {
    case NML_LENET5_SEQUENTIAL: return "sequential";
    case NML_LENET5_FUNCTIONAL: return "functional";
    case NML_LENET5_CUSTOM: return "custom";
    }
    return "?";
}

int nml_lenet5_style_parse(const char *name, nml_lenet5_style *style) {
    static const nml_lenet5_style all[] = {NML_LENET5_SEQUENTIAL, NML_LENET5_FUNCTIONAL,
                                           NML_LENET5_CUSTOM};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, nml_lenet5_style_name(all[i])) == 0) {
            *style = all[i];
            return 0;
        }
    return -1;
}

const char *nml_lenet5_init_name(nml_lenet5_init init) {
    switch (init) {
    case NML_LENET5_INIT_CENTERED: return "centered";
    case NML_LENET5_INIT_HE: return "he";
    case NML_LENET5_INIT_GLOROT: return "glorot";
    }
    return "?";
}

int nml_lenet5_init_parse(const char *name, nml_lenet5_init *init) {
    static const nml_lenet5_init all[] = {NML_LENET5_INIT_CENTERED, NML_LENET5_INIT_HE,
                                          NML_LENET5_INIT_GLOROT};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, nml_lenet5_init_name(all[i])) == 0) {
            *init = all[i];
            return 0;
        }
    return -1;
}
