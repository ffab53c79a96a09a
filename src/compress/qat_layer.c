/* The FakeQuant layer: rounds its input onto an int8 grid in the forward pass and passes the
 * gradient straight through (zero where it clipped). Moving-average layers learn their range
 * from training batches; at export the layer is the identity and remembers where it stood, so
 * the learned range can be given to the quantizer for that tensor. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "compress/compress_internal.h"
#include "nanoml/quantize.h"
#include "nanoml/train_export.h"

enum { FQ_EMA, FQ_FIXED, FQ_FOLLOW };

struct nml_fq {
    int mode;
    float lo, hi, decay; /* FQ_EMA */
    int ready;           /* FQ_EMA: a training batch was seen */
    int64_t updates;
    float scale; /* FQ_FIXED */
    int32_t zero_point;
    const nml_fq *follow;
    int32_t exported;
};

/* Quantization in force; 0 when there is none yet (an untrained moving average). */
static int params(const nml_fq *q, float *s, int32_t *z) {
    while (q->mode == FQ_FOLLOW)
        q = q->follow;
    if (q->mode == FQ_FIXED) {
        *s = q->scale;
        *z = q->zero_point;
        return 1;
    }
    if (!q->ready) return 0;
    nml_quant_params(q->lo, q->hi, -128, 127, s, z);
    return 1;
}

static nml_status fq_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                           nml_error *err) {
    (void)l, (void)n_in, (void)err;
    *out = in[0];
    return NML_OK;
}

/* TF-MOT's moving average of the batch extremes, each widened to contain 0. The decay is
 * min(decay, (1 + n) / (10 + n)) after n updates (TensorFlow's ExponentialMovingAverage with
 * num_updates): early ranges follow the data quickly instead of freezing the first batch's
 * range, which would clip and stall a network whose activations still grow. */
static void observe(nml_fq *q, const float *x, size_t n) {
    float lo = 0.0f, hi = 0.0f;
    for (size_t i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    if (!q->ready) {
        q->lo = lo;
        q->hi = hi;
        q->ready = 1;
        return;
    }
    q->updates++;
    const float warm = (float)(1 + q->updates) / (float)(10 + q->updates);
    const float d = warm < q->decay ? warm : q->decay;
    q->lo -= (q->lo - lo) * (1.0f - d);
    q->hi -= (q->hi - hi) * (1.0f - d);
}

static nml_status fq_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    (void)err;
    nml_fq *q = l->state;
    const size_t n = nml_ftensor_count(f->out);
    if (q->mode == FQ_EMA && f->training) observe(q, f->in[0].data, n);
    float s;
    int32_t z;
    if (params(q, &s, &z))
        nml_fake_quant_sz(f->in[0].data, n, s, z, f->out->data);
    else
        memcpy(f->out->data, f->in[0].data, n * sizeof(float));
    return NML_OK;
}

static nml_status fq_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    (void)err;
    const nml_fq *q = l->state;
    if (!b->din[0]) return NML_OK;
    const size_t n = nml_ftensor_count(b->out);
    float s;
    int32_t z;
    if (params(q, &s, &z))
        nml_fake_quant_grad_sz(b->in[0].data, b->dout, n, s, z, b->din[0]);
    else
        memcpy(b->din[0], b->dout, n * sizeof(float));
    return NML_OK;
}

static nml_status fq_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    (void)err;
    nml_fq *q = l->state;
    q->exported = x->in[0];
    x->out = x->in[0];
    return NML_OK;
}

static void fq_destroy(nml_layer *l) {
    free(l->state);
}

static const nml_layer_ops fq_ops = {"FakeQuant", 1,          1,           0,         fq_shape,
                                     NULL,        fq_forward, fq_backward, fq_export, fq_destroy};

static nml_layer *make(const char *name, const nml_fq *init, nml_fq **state) {
    nml_fq *q = malloc(sizeof *q);
    if (!q) return NULL;
    *q = *init;
    q->exported = -1;
    nml_layer *l = nml_layer_create(&fq_ops, name, q);
    if (!l) free(q);
    *state = l ? q : NULL;
    return l;
}

nml_layer *nml_fq_layer_ema(const char *name, float decay, nml_fq **state) {
    const nml_fq init = {.mode = FQ_EMA, .decay = decay};
    return make(name, &init, state);
}

nml_layer *nml_fq_layer_fixed(const char *name, float scale, int32_t zero_point, nml_fq **state) {
    const nml_fq init = {.mode = FQ_FIXED, .scale = scale, .zero_point = zero_point};
    return make(name, &init, state);
}

nml_layer *nml_fq_layer_follow(const char *name, const nml_fq *follow, nml_fq **state) {
    const nml_fq init = {.mode = FQ_FOLLOW, .follow = follow};
    return make(name, &init, state);
}

int nml_fq_is_ema(const nml_fq *q) {
    return q->mode == FQ_EMA;
}

void nml_fq_range(const nml_fq *q, float *lo, float *hi, int *ready) {
    *lo = q->lo;
    *hi = q->hi;
    *ready = q->ready;
}

int32_t nml_fq_exported_tensor(const nml_fq *q) {
    return q->exported;
}
