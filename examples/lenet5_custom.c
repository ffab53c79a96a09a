/* LeNet-5 with a user-defined layer (style 3 of 3). The F6 layer (84 units, tanh) is written
 * here against the public layer interface: a callback table with the output shape, the
 * parameters, forward, backward and (optionally) export to TFLite operators. The network applies
 * the layer's activation, so the layer computes only y = x W^T + b.
 *
 *   lenet5_custom [--epochs N] [--summary] [--out lenet5.tflite] */
#include "example_main.h"
#include "nanoml/train_gemm.h"
#include "nanoml/train_layers.h"

typedef struct my_dense {
    int32_t units, inputs;
    nml_param *w, *b; /* w is [units, inputs], the layout TFLite's FULLY_CONNECTED expects */
} my_dense;

static nml_status my_output_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                                  nml_error *err) {
    (void)n_in;
    my_dense *s = l->state;
    char shape[64];
    if (in[0].rank != 1)
        return nml_fail(err, NML_E_SHAPE, "input shape %s is not a vector",
                        nml_shape_str(&in[0], shape, sizeof shape));
    s->inputs = in[0].dims[0];
    *out = nml_shape_1d(s->units);
    return NML_OK;
}

static nml_status my_parameters(nml_layer *l, int n_in, const nml_shape *in, const nml_shape *out,
                                nml_error *err) {
    (void)n_in, (void)in, (void)out;
    my_dense *s = l->state;
    nml_shape ws = {2, {s->units, s->inputs}}, bs = nml_shape_1d(s->units);
    NML_TRY(nml_layer_add_param(l, "kernel", &ws, NML_INIT_GLOROT_UNIFORM, s->inputs, s->units, 1,
                                &s->w, err));
    return nml_layer_add_param(l, "bias", &bs, NML_INIT_ZEROS, 0, 0, 1, &s->b, err);
}

static nml_status my_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    (void)err;
    my_dense *s = l->state;
    nml_sgemm_bias(0, 1, f->batch, s->units, s->inputs, f->in[0].data, s->inputs,
                   nml_param_data(s->w), s->inputs, nml_param_data(s->b), f->out->data, s->units);
    return NML_OK;
}

static nml_status my_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    (void)err;
    my_dense *s = l->state;
    for (int32_t i = 0; i < b->batch; i++) /* weight gradients are added, never overwritten */
        for (int32_t u = 0; u < s->units; u++)
            s->b->grad[u] += b->dout[i * s->units + u];
    nml_sgemm(1, 0, s->units, s->inputs, b->batch, 1.0f, b->dout, s->units, b->in[0].data,
              s->inputs, 1.0f, s->w->grad, s->inputs);
    if (b->din[0]) /* NULL when nothing upstream needs a gradient */
        nml_sgemm(0, 0, b->batch, s->inputs, s->units, 1.0f, b->dout, s->units,
                  nml_param_data(s->w), s->inputs, 0.0f, b->din[0], s->inputs);
    return NML_OK;
}

static nml_status my_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    my_dense *s = l->state;
    int32_t w, b, y;
    NML_TRY(nml_export_const(x, l, "kernel", 2, s->w->shape.dims, nml_param_data(s->w), &w, err));
    NML_TRY(nml_export_const(x, l, "bias", 1, &s->units, nml_param_data(s->b), &b, err));
    NML_TRY(nml_export_activation(x, l->name, &x->out_shape, &y, err));
    nml_op_params p;
    nml_op_params_default(&p);
    NML_TRY(nml_export_op(x, l, NML_OP_FULLY_CONNECTED, &p, 3, (const int32_t[]){x->in[0], w, b}, y,
                          err));
    x->out = y;
    return NML_OK;
}

static void my_destroy(nml_layer *l) {
    free(l->state);
}

static const nml_layer_ops my_dense_ops = {
    .kind = "MyDense",
    .min_inputs = 1,
    .max_inputs = 1,
    .output_shape = my_output_shape,
    .parameters = my_parameters,
    .forward = my_forward,
    .backward = my_backward,
    .export_ir = my_export,
    .destroy = my_destroy,
};

static nml_layer *my_dense_layer(const char *name, int32_t units, nml_afn act) {
    my_dense *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->units = units;
    nml_layer *l = nml_layer_create(&my_dense_ops, name, s);
    if (!l) free(s);
    return nml_layer_set_activation(l, act);
}

/* LeNet-5 as in lenet5_sequential.c, with F6 the layer defined above. */
static nml_status define_model(nml_net **out, nml_error *err) {
    nml_net *net;
    NML_TRY(nml_net_create(&net, "lenet5", 1, err));
    int image;
    nml_net_input(net, "image", nml_shape_3d(32, 32, 1), &image, err);
    example_add_features(net, err); /* C1 .. Flatten (example_main.h) */
    nml_net_add(net, my_dense_layer("f6", 84, NML_AFN_TANH), err);
    nml_net_add(net, example_classifier(), err);
    return example_build(net, 0, NULL, out, err);
}

int main(int argc, char **argv) {
    return example_main(argc, argv, define_model);
}
