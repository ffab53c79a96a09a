/* Activation: a standalone nonlinearity. The layer itself is the identity; the network applies
 * and differentiates its activation like any layer's. At export it becomes the activation
 * operator, or disappears into the producing operator when that can fuse it. */
#include <string.h>

#include "layer_util.h"
#include "nanoml/train_layers.h"

static nml_status act_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                            nml_error *err) {
    (void)l, (void)n_in, (void)err;
    *out = in[0];
    return NML_OK;
}

static nml_status act_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    (void)l, (void)err;
    memcpy(f->out->data, f->in[0].data, nml_ftensor_count(f->out) * sizeof(float));
    return NML_OK;
}

static nml_status act_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    (void)l, (void)err;
    if (b->din[0]) memcpy(b->din[0], b->dout, nml_ftensor_count(b->out) * sizeof(float));
    return NML_OK;
}

static nml_status act_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    (void)l, (void)err;
    x->out = x->in[0]; /* the exporter appends the activation operator */
    return NML_OK;
}

static const nml_layer_ops activation_ops = {"Activation", 1, 1, 0, act_shape, NULL,
                                             act_forward, act_backward, act_export, NULL};

nml_layer *nml_activation_layer(const char *name, nml_afn act) {
    return nml_layer_set_activation(nml_layer_create(&activation_ops, name, NULL), act);
}

int nml_layer_is_activation(const nml_layer *l) { return l->ops == &activation_ops; }
