/* Shared helpers of the built-in layers. */
#include "layer_util.h"

#include <string.h>

#include "vec4.h"

nml_layer *nml_layer_with_state(const nml_layer_ops *ops, const char *name, const void *state,
                                size_t bytes, nml_afn act) {
    void *copy = malloc(bytes);
    if (!copy) return NULL;
    memcpy(copy, state, bytes);
    nml_layer *l = nml_layer_create(ops, name, copy);
    if (!l) {
        free(copy);
        return NULL;
    }
    l->act = act;
    return l;
}

void nml_layer_free_state(nml_layer *l) {
    free(l->state);
    l->state = NULL;
}

/* Row-by-row loops over few channels are all overhead, so both helpers work on the flat array
 * in periods of `period` floats, a multiple of both the channel count and 4 (period / channels
 * rows at a time), and deal with the remaining rows one by one. */
static size_t bias_period(int32_t channels) {
    size_t c = (size_t)channels;
    return c % 4 == 0 ? c : (c % 2 == 0 ? 2 * c : 4 * c);
}

void nml_add_bias_rows(float *out, const float *bias, size_t rows, int32_t channels) {
    const size_t c = (size_t)channels, period = bias_period(channels), total = rows * c;
    if (rows * c < period || period > 1024) {
        for (size_t r = 0; r < rows; r++) memcpy(out + r * c, bias, c * sizeof(float));
        return;
    }
    for (size_t i = 0; i < period; i++) out[i] = bias[i % c];
    size_t i = period;
    for (; i + period <= total; i += period) memcpy(out + i, out, period * sizeof(float));
    for (; i < total; i++) out[i] = bias[(i % period) % c];
}

void nml_bias_grad_rows(const float *dout, float *db, size_t rows, int32_t channels) {
    const size_t c = (size_t)channels, period = bias_period(channels), total = rows * c;
    float acc[1024];
    if (period > sizeof acc / sizeof acc[0]) {
        for (size_t r = 0; r < rows; r++) nml_add_into(db, dout + r * c, c);
        return;
    }
    memset(acc, 0, period * sizeof(float));
    size_t i = 0;
    for (; i + period <= total; i += period) nml_add_into(acc, dout + i, period);
    for (; i < total; i++) acc[i % period] += dout[i];
    for (size_t k = 0; k < period; k++) db[k % c] += acc[k];
}

nml_status nml_export_affine(const nml_export_ctx *x, const nml_param *kernel,
                             const nml_param *bias, int32_t channels, size_t inner, float **w,
                             float **b, nml_error *err) {
    *w = malloc(kernel->count * sizeof(float));
    *b = calloc((size_t)channels, sizeof(float));
    if (!*w || !*b) {
        free(*w);
        free(*b);
        *w = *b = NULL;
        return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    const float *kv = nml_param_data(kernel);
    memcpy(*w, kv, kernel->count * sizeof(float));
    if (bias) memcpy(*b, nml_param_data(bias), (size_t)channels * sizeof(float));
    if (x->fold_scale) {
        for (size_t i = 0; i < kernel->count; i++) (*w)[i] *= x->fold_scale[(i / inner) % channels];
        for (int32_t c = 0; c < channels; c++)
            (*b)[c] = (*b)[c] * x->fold_scale[c] + x->fold_shift[c];
    }
    return NML_OK;
}

nml_status nml_export_affine_op(nml_export_ctx *x, const nml_layer *l, const nml_param *kernel,
                                const nml_param *bias, int32_t channels, size_t inner,
                                int32_t builtin, nml_op_params *p, nml_error *err) {
    float *w = NULL, *b = NULL;
    NML_TRY(nml_export_affine(x, kernel, bias, channels, inner, &w, &b, err));
    int32_t wi, bi, out;
    const int32_t bdims[1] = {channels};
    nml_status st = nml_export_const(x, l, "kernel", kernel->shape.rank, kernel->shape.dims, w,
                                     &wi, err);
    if (st == NML_OK) st = nml_export_const(x, l, "bias", 1, bdims, b, &bi, err);
    free(w);
    free(b);
    NML_TRY(st);
    NML_TRY(nml_export_activation(x, l->name, &x->out_shape, &out, err));
    p->activation = x->fused_activation;
    const int32_t ins[3] = {x->in[0], wi, bi};
    NML_TRY(nml_export_op(x, l, builtin, p, 3, ins, out, err));
    x->out = out;
    return NML_OK;
}
