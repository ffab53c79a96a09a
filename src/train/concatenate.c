/* Concatenate: joins inputs along the last dimension (TFLite CONCATENATION on the last axis).
 * In NHWC every sample is a sequence of "rows" (all dimensions but the last), and the output
 * row is the input rows side by side. */
#include <string.h>

#include "layer_util.h"
#include "nanoml/train_layers.h"

static nml_status concat_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                               nml_error *err) {
    (void)l;
    char a[64], b[64];
    int64_t last = 0;
    const int32_t r = in[0].rank;
    for (int i = 0; i < n_in; i++) {
        int same = in[i].rank == r;
        for (int32_t d = 0; same && d < r - 1; d++) same = in[i].dims[d] == in[0].dims[d];
        if (!same)
            return nml_fail(err, NML_E_SHAPE, "input shapes %s (input 0) and %s (input %d) differ "
                            "in more than the last dimension", nml_shape_str(&in[0], a, sizeof a),
                            nml_shape_str(&in[i], b, sizeof b), i);
        last += in[i].dims[r - 1];
    }
    if (last > NML_MAX_DIM) return nml_fail(err, NML_E_LIMIT, "concatenated dimension too large");
    *out = in[0];
    out->dims[r - 1] = (int32_t)last;
    return NML_OK;
}

/* Forward: input rows into the output rows; backward: output-row gradients back to each input. */
static void concat_copy(const nml_ftensor *in, int n_in, float *out_data, size_t out_width,
                        size_t rows, float *const *din, const float *dout, int backward) {
    size_t offset = 0;
    for (int i = 0; i < n_in; i++) {
        const size_t w = (size_t)in[i].shape.dims[in[i].shape.rank - 1];
        for (size_t r = 0; r < rows; r++) {
            if (!backward)
                memcpy(out_data + r * out_width + offset, in[i].data + r * w, w * sizeof(float));
            else if (din[i])
                memcpy(din[i] + r * w, dout + r * out_width + offset, w * sizeof(float));
        }
        offset += w;
    }
}

static size_t rows_of(const nml_ftensor *t) {
    return nml_ftensor_count(t) / (size_t)t->shape.dims[t->shape.rank - 1];
}

static nml_status concat_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    (void)l, (void)err;
    const size_t width = (size_t)f->out->shape.dims[f->out->shape.rank - 1];
    concat_copy(f->in, f->n_in, f->out->data, width, rows_of(f->out), NULL, NULL, 0);
    return NML_OK;
}

static nml_status concat_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    (void)l, (void)err;
    const size_t width = (size_t)b->out->shape.dims[b->out->shape.rank - 1];
    concat_copy(b->in, b->n_in, NULL, width, rows_of(b->out), b->din, b->dout, 1);
    return NML_OK;
}

static nml_status concat_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    int32_t out;
    NML_TRY(nml_export_activation(x, l->name, &x->out_shape, &out, err));
    nml_op_params p;
    nml_op_params_default(&p);
    p.axis = x->out_shape.rank; /* the last axis once the batch dimension is prepended */
    p.activation = x->fused_activation;
    NML_TRY(nml_export_op(x, l, NML_OP_CONCATENATION, &p, x->n_in, x->in, out, err));
    x->out = out;
    return NML_OK;
}

static const nml_layer_ops concat_ops = {"Concatenate", 2, 0, NML_LAYER_FUSES_ACTIVATION,
                                         concat_shape, NULL, concat_forward, concat_backward,
                                         concat_export, NULL};

nml_layer *nml_concatenate(const char *name) { return nml_layer_create(&concat_ops, name, NULL); }
