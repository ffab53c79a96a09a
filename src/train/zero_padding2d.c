/* ZeroPadding2D: adds rows and columns of zeros around an image (TFLite PAD). */
#include <string.h>

#include "layer_util.h"
#include "nanoml/train_layers.h"

typedef struct zero_pad {
    int32_t top, bottom, left, right;
} zero_pad;

static nml_status zp_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                           nml_error *err) {
    (void)n_in;
    zero_pad *s = l->state;
    char buf[64];
    if (in[0].rank != 3)
        return nml_fail(err, NML_E_SHAPE, "input shape %s is not an image (expected HxWxC)",
                        nml_shape_str(&in[0], buf, sizeof buf));
    if (s->top < 0 || s->bottom < 0 || s->left < 0 || s->right < 0 || s->top > 65536 ||
        s->bottom > 65536 || s->left > 65536 || s->right > 65536)
        return nml_fail(err, NML_E_ARG, "bad padding %d,%d,%d,%d", (int)s->top, (int)s->bottom,
                        (int)s->left, (int)s->right);
    *out = nml_shape_3d(in[0].dims[0] + s->top + s->bottom, in[0].dims[1] + s->left + s->right,
                        in[0].dims[2]);
    return NML_OK;
}

static nml_status zp_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    (void)err;
    const zero_pad *s = l->state;
    const nml_shape *is = &f->in[0].shape, *os = &f->out->shape;
    const size_t row = (size_t)is->dims[1] * is->dims[2], orow = (size_t)os->dims[1] * os->dims[2];
    const size_t in_count = nml_ftensor_sample_count(&f->in[0]);
    const size_t out_count = nml_ftensor_sample_count(f->out);
    memset(f->out->data, 0, (size_t)f->batch * out_count * sizeof(float));
    for (int32_t b = 0; b < f->batch; b++)
        for (int32_t y = 0; y < is->dims[0]; y++)
            memcpy(f->out->data + b * out_count + (size_t)(y + s->top) * orow +
                       (size_t)s->left * is->dims[2],
                   f->in[0].data + b * in_count + (size_t)y * row, row * sizeof(float));
    return NML_OK;
}

static nml_status zp_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    (void)err;
    const zero_pad *s = l->state;
    if (!b->din[0]) return NML_OK;
    const nml_shape *is = &b->in[0].shape, *os = &b->out->shape;
    const size_t row = (size_t)is->dims[1] * is->dims[2], orow = (size_t)os->dims[1] * os->dims[2];
    const size_t in_count = nml_ftensor_sample_count(&b->in[0]);
    const size_t out_count = nml_ftensor_sample_count(b->out);
    for (int32_t i = 0; i < b->batch; i++)
        for (int32_t y = 0; y < is->dims[0]; y++)
            memcpy(b->din[0] + i * in_count + (size_t)y * row,
                   b->dout + i * out_count + (size_t)(y + s->top) * orow +
                       (size_t)s->left * is->dims[2],
                   row * sizeof(float));
    return NML_OK;
}

static nml_status zp_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    const zero_pad *s = l->state;
    const int32_t pads[8] = {0, 0, s->top, s->bottom, s->left, s->right, 0, 0};
    const int32_t dims[2] = {4, 2};
    int32_t pi, out;
    NML_TRY(nml_export_const_i32(x, l, "paddings", 2, dims, pads, &pi, err));
    NML_TRY(nml_export_activation(x, l->name, &x->out_shape, &out, err));
    nml_op_params p;
    nml_op_params_default(&p);
    const int32_t ins[2] = {x->in[0], pi};
    NML_TRY(nml_export_op(x, l, NML_OP_PAD, &p, 2, ins, out, err));
    x->out = out;
    return NML_OK;
}

static const nml_layer_ops zero_pad_ops = {"ZeroPadding2D", 1, 1, 0, zp_shape, NULL,
                                           zp_forward, zp_backward, zp_export,
                                           nml_layer_free_state};

nml_layer *nml_zero_padding2d(const nml_zero_padding2d_opts *o) {
    zero_pad s = {nml_pick(o->top, o->pad, 0), nml_pick(o->bottom, o->pad, 0),
                  nml_pick(o->left, o->pad, 0), nml_pick(o->right, o->pad, 0)};
    return nml_layer_with_state(&zero_pad_ops, o->name, &s, sizeof s, NML_AFN_LINEAR);
}
