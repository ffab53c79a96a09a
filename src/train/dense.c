/* Dense: y = x * kernel^T + bias with the kernel stored [units, inputs] as TFLite's
 * FULLY_CONNECTED expects. */
#include <string.h>

#include "layer_util.h"
#include "nanoml/train_gemm.h"
#include "nanoml/train_layers.h"

typedef struct dense {
    nml_dense_opts o;
    int32_t inputs;
    nml_param *kernel, *bias;
} dense;

static nml_status dense_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                              nml_error *err) {
    (void)n_in;
    dense *s = l->state;
    char buf[64];
    if (s->o.units < 1)
        return nml_fail(err, NML_E_ARG, "units must be at least 1 (got %d)", (int)s->o.units);
    if (in[0].rank != 1)
        return nml_fail(err, NML_E_SHAPE, "input shape %s is not a vector (expected shape N; "
                        "add a Flatten layer)", nml_shape_str(&in[0], buf, sizeof buf));
    s->inputs = in[0].dims[0];
    *out = nml_shape_1d(s->o.units);
    return NML_OK;
}

static nml_status dense_params(nml_layer *l, int n_in, const nml_shape *in, const nml_shape *out,
                               nml_error *err) {
    (void)n_in, (void)in, (void)out;
    dense *s = l->state;
    nml_shape ks = {2, {s->o.units, s->inputs}};
    nml_init init = s->o.kernel_init ? s->o.kernel_init : NML_INIT_GLOROT_UNIFORM;
    NML_TRY(nml_layer_add_param(l, "kernel", &ks, init, s->inputs, s->o.units, 1, &s->kernel,
                                err));
    if (!s->o.no_bias) {
        nml_shape bs = nml_shape_1d(s->o.units);
        NML_TRY(nml_layer_add_param(l, "bias", &bs, NML_INIT_ZEROS, 0, 0, 1, &s->bias, err));
    }
    return NML_OK;
}

static nml_status dense_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    (void)err;
    dense *s = l->state;
    const int32_t n = s->o.units, k = s->inputs;
    nml_sgemm_bias(0, 1, f->batch, n, k, f->in[0].data, k, nml_param_data(s->kernel), k,
                   s->bias ? nml_param_data(s->bias) : NULL, f->out->data, n);
    return NML_OK;
}

static nml_status dense_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    (void)err;
    dense *s = l->state;
    const int32_t n = s->o.units, k = s->inputs;
    if (s->bias) nml_bias_grad_rows(b->dout, s->bias->grad, (size_t)b->batch, n);
    nml_sgemm(1, 0, n, k, b->batch, 1.0f, b->dout, n, b->in[0].data, k, 1.0f, s->kernel->grad, k);
    if (b->din[0])
        nml_sgemm(0, 0, b->batch, k, n, 1.0f, b->dout, n, nml_param_data(s->kernel), k, 0.0f,
                  b->din[0], k);
    return NML_OK;
}

static nml_status dense_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    dense *s = l->state;
    nml_op_params p;
    nml_op_params_default(&p);
    return nml_export_affine_op(x, l, s->kernel, s->bias, s->o.units, (size_t)s->inputs,
                                NML_OP_FULLY_CONNECTED, &p, err);
}

static const nml_layer_ops dense_ops = {
    "Dense", 1, 1, NML_LAYER_FUSES_ACTIVATION | NML_LAYER_FOLDS_AFFINE,
    dense_shape, dense_params, dense_forward, dense_backward, dense_export, nml_layer_free_state};

nml_layer *nml_dense(const nml_dense_opts *o) {
    dense s;
    memset(&s, 0, sizeof s);
    s.o = *o;
    s.o.name = NULL;
    return nml_layer_with_state(&dense_ops, o->name, &s, sizeof s, o->activation);
}
