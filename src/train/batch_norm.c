/* BatchNormalization over the last dimension. Training normalizes with the batch statistics
 * (biased variance) and updates moving averages; inference uses the moving averages, which is
 * the per-channel affine map y = x * scale + shift the exporter folds into the preceding layer. */
#include <math.h>
#include <string.h>

#include "layer_util.h"
#include "nanoml/train_layers.h"

typedef struct batch_norm {
    float momentum, epsilon;
    int32_t channels;
    nml_param *gamma, *beta, *mean, *var;
} batch_norm;

static nml_status bn_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                           nml_error *err) {
    (void)n_in;
    batch_norm *s = l->state;
    if (!(s->momentum >= 0.0f && s->momentum < 1.0f) || !(s->epsilon > 0.0f))
        return nml_fail(err, NML_E_ARG, "momentum must be in [0, 1) and epsilon positive");
    s->channels = in[0].dims[in[0].rank - 1];
    *out = in[0];
    return NML_OK;
}

static nml_status bn_params(nml_layer *l, int n_in, const nml_shape *in, const nml_shape *out,
                            nml_error *err) {
    (void)n_in, (void)in, (void)out;
    batch_norm *s = l->state;
    nml_shape cs = nml_shape_1d(s->channels);
    NML_TRY(nml_layer_add_param(l, "gamma", &cs, NML_INIT_ONES, 0, 0, 1, &s->gamma, err));
    NML_TRY(nml_layer_add_param(l, "beta", &cs, NML_INIT_ZEROS, 0, 0, 1, &s->beta, err));
    NML_TRY(nml_layer_add_param(l, "moving_mean", &cs, NML_INIT_ZEROS, 0, 0, 0, &s->mean, err));
    NML_TRY(nml_layer_add_param(l, "moving_variance", &cs, NML_INIT_ONES, 0, 0, 0, &s->var, err));
    return NML_OK;
}

/* scratch 0: x_hat (batch x sample), scratch 1: 1 / sqrt(var + eps) per channel */
static nml_status bn_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    batch_norm *s = l->state;
    const int32_t c = s->channels;
    const size_t n = nml_ftensor_count(f->out), rows = n / (size_t)c;
    const float *x = f->in[0].data, *gamma = nml_param_data(s->gamma);
    const float *beta = nml_param_data(s->beta);
    float *y = f->out->data;
    if (!f->training) {
        const float *mm = nml_param_data(s->mean), *mv = nml_param_data(s->var);
        for (size_t r = 0; r < rows; r++)
            for (int32_t k = 0; k < c; k++) {
                size_t i = r * (size_t)c + k;
                y[i] = gamma[k] * (x[i] - mm[k]) / sqrtf(mv[k] + s->epsilon) + beta[k];
            }
        return NML_OK;
    }
    float *xhat = nml_layer_scratch(l, 0, n * sizeof(float), err);
    float *inv_std = nml_layer_scratch(l, 1, (size_t)c * sizeof(float), err);
    double *sum = nml_layer_scratch(l, 2, 2 * (size_t)c * sizeof(double), err);
    if (!xhat || !inv_std || !sum) return err ? err->status : NML_E_NOMEM;
    double *sq = sum + c;
    memset(sum, 0, 2 * (size_t)c * sizeof(double));
    for (size_t r = 0; r < rows; r++)
        for (int32_t k = 0; k < c; k++) sum[k] += x[r * (size_t)c + k];
    for (int32_t k = 0; k < c; k++) sum[k] /= (double)rows; /* now the mean */
    for (size_t r = 0; r < rows; r++)
        for (int32_t k = 0; k < c; k++) {
            double d = x[r * (size_t)c + k] - sum[k];
            sq[k] += d * d;
        }
    float *mm = s->mean->value, *mv = s->var->value;
    for (int32_t k = 0; k < c; k++) {
        double var = sq[k] / (double)rows;
        inv_std[k] = (float)(1.0 / sqrt(var + s->epsilon));
        mm[k] = s->momentum * mm[k] + (1.0f - s->momentum) * (float)sum[k];
        mv[k] = s->momentum * mv[k] + (1.0f - s->momentum) * (float)var;
    }
    for (size_t r = 0; r < rows; r++)
        for (int32_t k = 0; k < c; k++) {
            size_t i = r * (size_t)c + k;
            xhat[i] = (float)(x[i] - sum[k]) * inv_std[k];
            y[i] = gamma[k] * xhat[i] + beta[k];
        }
    return NML_OK;
}

static nml_status bn_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    batch_norm *s = l->state;
    const int32_t c = s->channels;
    const size_t n = nml_ftensor_count(b->out), rows = n / (size_t)c;
    const float *xhat = l->scratch[0], *inv_std = l->scratch[1], *dy = b->dout;
    const float *gamma = nml_param_data(s->gamma);
    double *sums = nml_layer_scratch(l, 3, 2 * (size_t)c * sizeof(double), err);
    if (!sums) return err ? err->status : NML_E_NOMEM;
    double *sum_dy = sums, *sum_dy_xhat = sums + c;
    memset(sums, 0, 2 * (size_t)c * sizeof(double));
    for (size_t r = 0; r < rows; r++)
        for (int32_t k = 0; k < c; k++) {
            size_t i = r * (size_t)c + k;
            sum_dy[k] += dy[i];
            sum_dy_xhat[k] += (double)dy[i] * xhat[i];
        }
    for (int32_t k = 0; k < c; k++) {
        s->beta->grad[k] += (float)sum_dy[k];
        s->gamma->grad[k] += (float)sum_dy_xhat[k];
    }
    if (!b->din[0]) return NML_OK;
    /* dx = gamma / sigma * (dy - mean(dy) - x_hat * mean(dy * x_hat)) */
    for (size_t r = 0; r < rows; r++)
        for (int32_t k = 0; k < c; k++) {
            size_t i = r * (size_t)c + k;
            double centered = dy[i] - sum_dy[k] / (double)rows -
                              xhat[i] * sum_dy_xhat[k] / (double)rows;
            b->din[0][i] = (float)(gamma[k] * inv_std[k] * centered);
        }
    return NML_OK;
}

static const nml_layer_ops batch_norm_ops = {"BatchNormalization", 1, 1, 0, bn_shape, bn_params,
                                             bn_forward, bn_backward, NULL, nml_layer_free_state};

nml_layer *nml_batch_normalization(const nml_batch_norm_opts *o) {
    batch_norm s;
    memset(&s, 0, sizeof s);
    s.momentum = o->momentum != 0.0f ? o->momentum : 0.99f;
    s.epsilon = o->epsilon != 0.0f ? o->epsilon : 1e-3f;
    return nml_layer_with_state(&batch_norm_ops, o->name, &s, sizeof s, NML_AFN_LINEAR);
}

int nml_layer_is_batch_norm(const nml_layer *l) { return l->ops == &batch_norm_ops; }

nml_status nml_batch_norm_affine(const nml_layer *l, float **scale, float **shift,
                                 nml_error *err) {
    const batch_norm *s = l->state;
    *scale = malloc((size_t)s->channels * sizeof(float));
    *shift = malloc((size_t)s->channels * sizeof(float));
    if (!*scale || !*shift) {
        free(*scale);
        free(*shift);
        *scale = *shift = NULL;
        return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    const float *g = nml_param_data(s->gamma), *bt = nml_param_data(s->beta);
    const float *mm = nml_param_data(s->mean), *mv = nml_param_data(s->var);
    for (int32_t k = 0; k < s->channels; k++) {
        (*scale)[k] = g[k] / sqrtf(mv[k] + s->epsilon);
        (*shift)[k] = bt[k] - mm[k] * (*scale)[k];
    }
    return NML_OK;
}
