/* Flatten: any sample shape to a vector of the same NHWC-ordered values (TFLite RESHAPE). */
#include <string.h>

#include "layer_util.h"
#include "nanoml/train_layers.h"

static nml_status flatten_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                                nml_error *err) {
    (void)l, (void)n_in;
    size_t n = nml_shape_count(&in[0]);
    if (n == 0 || n > (size_t)NML_MAX_DIM) return nml_fail(err, NML_E_SHAPE, "bad input shape");
    *out = nml_shape_1d((int32_t)n);
    return NML_OK;
}

static nml_status flatten_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    (void)l, (void)err;
    memcpy(f->out->data, f->in[0].data, nml_ftensor_count(f->out) * sizeof(float));
    return NML_OK;
}

static nml_status flatten_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    (void)l, (void)err;
    if (b->din[0]) memcpy(b->din[0], b->dout, nml_ftensor_count(b->out) * sizeof(float));
    return NML_OK;
}

static nml_status flatten_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    const int32_t shape[2] = {1, x->out_shape.dims[0]}, two = 2;
    int32_t si, out;
    NML_TRY(nml_export_const_i32(x, l, "shape", 1, &two, shape, &si, err));
    NML_TRY(nml_export_activation(x, l->name, &x->out_shape, &out, err));
    nml_op_params p;
    nml_op_params_default(&p);
    p.new_shape_len = 2;
    p.new_shape[0] = shape[0];
    p.new_shape[1] = shape[1];
    const int32_t ins[2] = {x->in[0], si};
    NML_TRY(nml_export_op(x, l, NML_OP_RESHAPE, &p, 2, ins, out, err));
    x->out = out;
    return NML_OK;
}

static const nml_layer_ops flatten_ops = {"Flatten", 1, 1, 0, flatten_shape, NULL,
                                          flatten_forward, flatten_backward, flatten_export, NULL};

nml_layer *nml_flatten(const char *name) { return nml_layer_create(&flatten_ops, name, NULL); }
