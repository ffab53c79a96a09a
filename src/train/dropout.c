/* Dropout (inverted): while training each value is kept with probability 1 - rate and scaled by
 * 1 / (1 - rate), so inference is the identity and the exporter drops the layer. */
#include <string.h>

#include "layer_util.h"
#include "nanoml/train_layers.h"

typedef struct dropout {
    float rate;
} dropout;

static nml_status dropout_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                                nml_error *err) {
    (void)n_in;
    const dropout *s = l->state;
    if (!(s->rate >= 0.0f && s->rate < 1.0f))
        return nml_fail(err, NML_E_ARG, "rate must be in [0, 1)");
    *out = in[0];
    return NML_OK;
}

static nml_status dropout_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    const dropout *s = l->state;
    const size_t n = nml_ftensor_count(f->out);
    if (!f->training || s->rate == 0.0f) {
        memcpy(f->out->data, f->in[0].data, n * sizeof(float));
        return NML_OK;
    }
    float *mask = nml_layer_scratch(l, 0, n * sizeof(float), err);
    if (!mask) return err ? err->status : NML_E_NOMEM;
    const float keep = 1.0f - s->rate, scale = 1.0f / keep;
    for (size_t i = 0; i < n; i++) {
        mask[i] = nml_rng_uniform(f->rng) < keep ? scale : 0.0f;
        f->out->data[i] = f->in[0].data[i] * mask[i];
    }
    return NML_OK;
}

static nml_status dropout_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    (void)err;
    const dropout *s = l->state;
    if (!b->din[0]) return NML_OK;
    const size_t n = nml_ftensor_count(b->out);
    if (s->rate == 0.0f) {
        memcpy(b->din[0], b->dout, n * sizeof(float));
        return NML_OK;
    }
    const float *mask = l->scratch[0];
    for (size_t i = 0; i < n; i++) b->din[0][i] = b->dout[i] * mask[i];
    return NML_OK;
}

static nml_status dropout_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    (void)l, (void)err;
    x->out = x->in[0];
    return NML_OK;
}

static const nml_layer_ops dropout_ops = {"Dropout", 1, 1, 0, dropout_shape, NULL,
                                          dropout_forward, dropout_backward, dropout_export,
                                          nml_layer_free_state};

nml_layer *nml_dropout(const char *name, float rate) {
    dropout s = {rate};
    return nml_layer_with_state(&dropout_ops, name, &s, sizeof s, NML_AFN_LINEAR);
}

int nml_layer_is_dropout(const nml_layer *l) { return l->ops == &dropout_ops; }
