/* Conv2D: im2col + one SGEMM per batch. Kernel [filters, kh, kw, in_c] (TFLite OHWI), so a
 * kernel row is exactly an im2col patch and out = cols * kernel^T. */
#include <string.h>

#include "conv_geom.h"
#include "layer_util.h"
#include "nanoml/train_gemm.h"
#include "nanoml/train_layers.h"

typedef struct conv2d {
    nml_conv2d_opts o;
    nml_conv_geom g;
    nml_param *kernel, *bias;
} conv2d;

static nml_status conv_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                             nml_error *err) {
    (void)n_in;
    conv2d *s = l->state;
    if (s->o.filters < 1)
        return nml_fail(err, NML_E_ARG, "filters must be at least 1 (got %d)", (int)s->o.filters);
    NML_TRY(nml_conv_geom_init(&s->g, &in[0], s->o.kernel_h, s->o.kernel_w, s->o.stride_h,
                               s->o.stride_w, s->o.same_padding, err));
    *out = nml_shape_3d(s->g.out_h, s->g.out_w, s->o.filters);
    return NML_OK;
}

static nml_status conv_params(nml_layer *l, int n_in, const nml_shape *in, const nml_shape *out,
                              nml_error *err) {
    (void)n_in, (void)out;
    conv2d *s = l->state;
    const int32_t kh = s->o.kernel_h, kw = s->o.kernel_w, c = in[0].dims[2], f = s->o.filters;
    nml_shape ks = {4, {f, kh, kw, c}};
    nml_init init = s->o.kernel_init ? s->o.kernel_init : NML_INIT_GLOROT_UNIFORM;
    NML_TRY(nml_layer_add_param(l, "kernel", &ks, init, kh * kw * c, kh * kw * f, 1, &s->kernel,
                                err));
    if (!s->o.no_bias) {
        nml_shape bs = nml_shape_1d(f);
        NML_TRY(nml_layer_add_param(l, "bias", &bs, NML_INIT_ZEROS, 0, 0, 1, &s->bias, err));
    }
    return NML_OK;
}

/* The batch is processed a few images at a time, so that a chunk's column matrix (and its
 * gradient) is still in cache when the SGEMM and col2im read it. The backward pass rebuilds the
 * columns instead of keeping a whole batch of them from the forward pass: im2col is cheaper than
 * a round trip of megabytes through memory. */
#define CHUNK_BYTES ((size_t)192 << 10)

static int32_t chunk_images(const conv2d *s, int32_t batch) {
    const size_t per_image =
        (size_t)nml_conv_rows(&s->g) * (size_t)nml_conv_patch(&s->g) * sizeof(float);
    size_t n = per_image ? CHUNK_BYTES / per_image : (size_t)batch;
    if (n < 1) n = 1;
    return n < (size_t)batch ? (int32_t)n : batch;
}

/* Column matrix of images [first, first + count) of a batch. */
static void columns(const conv2d *s, const nml_ftensor *in, int32_t first, int32_t count,
                    float *col) {
    const size_t in_count = nml_ftensor_sample_count(in);
    const size_t block = (size_t)nml_conv_rows(&s->g) * (size_t)nml_conv_patch(&s->g);
    for (int32_t i = 0; i < count; i++)
        nml_im2col(in->data + (size_t)(first + i) * in_count, &s->g, col + (size_t)i * block);
}

static nml_status conv_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    conv2d *s = l->state;
    const int32_t rows = nml_conv_rows(&s->g), k = nml_conv_patch(&s->g), n = s->o.filters;
    const float *w = nml_param_data(s->kernel), *bias = s->bias ? nml_param_data(s->bias) : NULL;
    if (nml_conv_is_identity(&s->g)) {
        nml_sgemm_bias(0, 1, f->batch * rows, n, k, f->in[0].data, k, w, k, bias, f->out->data,
                       n);
        return NML_OK;
    }
    const int32_t chunk = chunk_images(s, f->batch);
    float *col = nml_layer_scratch(l, 0, (size_t)chunk * rows * k * sizeof(float), err);
    if (!col) return err ? err->status : NML_E_NOMEM;
    for (int32_t b0 = 0; b0 < f->batch; b0 += chunk) {
        const int32_t nb = f->batch - b0 < chunk ? f->batch - b0 : chunk;
        columns(s, &f->in[0], b0, nb, col);
        nml_sgemm_bias(0, 1, nb * rows, n, k, col, k, w, k, bias,
                       f->out->data + (size_t)b0 * rows * n, n);
    }
    return NML_OK;
}

static nml_status conv_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    conv2d *s = l->state;
    const int32_t rows = nml_conv_rows(&s->g), k = nml_conv_patch(&s->g), n = s->o.filters;
    const float *w = nml_param_data(s->kernel);
    if (s->bias) nml_bias_grad_rows(b->dout, s->bias->grad, (size_t)b->batch * rows, n);
    if (nml_conv_is_identity(&s->g)) {
        const int32_t m = b->batch * rows;
        nml_sgemm(1, 0, n, k, m, 1.0f, b->dout, n, b->in[0].data, k, 1.0f, s->kernel->grad, k);
        if (b->din[0]) nml_sgemm(0, 0, m, k, n, 1.0f, b->dout, n, w, k, 0.0f, b->din[0], k);
        return NML_OK;
    }
    const int32_t chunk = chunk_images(s, b->batch);
    const size_t block = (size_t)rows * k;
    float *col = nml_layer_scratch(l, 0, (size_t)chunk * block * sizeof(float), err);
    float *dcol = b->din[0] ? nml_layer_scratch(l, 1, (size_t)chunk * block * sizeof(float), err)
                            : NULL;
    if (!col || (b->din[0] && !dcol)) return err ? err->status : NML_E_NOMEM;
    const size_t in_count = nml_ftensor_sample_count(&b->in[0]);
    if (b->din[0]) memset(b->din[0], 0, (size_t)b->batch * in_count * sizeof(float));
    for (int32_t b0 = 0; b0 < b->batch; b0 += chunk) {
        const int32_t nb = b->batch - b0 < chunk ? b->batch - b0 : chunk;
        const float *dout = b->dout + (size_t)b0 * rows * n;
        columns(s, &b->in[0], b0, nb, col);
        nml_sgemm(1, 0, n, k, nb * rows, 1.0f, dout, n, col, k, 1.0f, s->kernel->grad, k);
        if (!dcol) continue;
        nml_sgemm(0, 0, nb * rows, k, n, 1.0f, dout, n, w, k, 0.0f, dcol, k);
        for (int32_t i = 0; i < nb; i++)
            nml_col2im(dcol + (size_t)i * block, &s->g, b->din[0] + (size_t)(b0 + i) * in_count);
    }
    return NML_OK;
}

static nml_status conv_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    conv2d *s = l->state;
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = s->o.same_padding ? NML_PAD_SAME : NML_PAD_VALID;
    p.stride_h = s->o.stride_h;
    p.stride_w = s->o.stride_w;
    const size_t inner = s->kernel->count / (size_t)s->o.filters;
    return nml_export_affine_op(x, l, s->kernel, s->bias, s->o.filters, inner, NML_OP_CONV_2D, &p,
                                err);
}

static const nml_layer_ops conv2d_ops = {
    "Conv2D", 1, 1, NML_LAYER_FUSES_ACTIVATION | NML_LAYER_FOLDS_AFFINE,
    conv_shape, conv_params, conv_forward, conv_backward, conv_export, nml_layer_free_state};

nml_layer *nml_conv2d(const nml_conv2d_opts *o) {
    conv2d s;
    memset(&s, 0, sizeof s);
    s.o = *o;
    s.o.name = NULL; /* the caller's string need not outlive the call */
    s.o.kernel_h = nml_pick(o->kernel_h, o->kernel, 0);
    s.o.kernel_w = nml_pick(o->kernel_w, o->kernel, 0);
    s.o.stride_h = nml_pick(o->stride_h, o->stride, 1);
    s.o.stride_w = nml_pick(o->stride_w, o->stride, 1);
    return nml_layer_with_state(&conv2d_ops, o->name, &s, sizeof s, o->activation);
}

nml_status nml_conv2d_fold_input_affine(nml_layer *l, float scale, float offset, nml_error *err) {
    if (!l || l->ops != &conv2d_ops)
        return nml_fail(err, NML_E_UNSUPPORTED, "%s (%s): only a Conv2D layer can absorb an input "
                        "scale and offset", l ? l->name : "(null)", l ? l->ops->kind : "none");
    conv2d *s = l->state;
    if (!s->kernel)
        return nml_fail(err, NML_E_ARG, "%s: the layer is not part of a built network", l->name);
    if (s->o.same_padding)
        return nml_fail(err, NML_E_UNSUPPORTED, "%s: a 'same' convolution pads with zeros, which "
                        "an input offset would change; only 'valid' folds exactly", l->name);
    if (!s->bias)
        return nml_fail(err, NML_E_UNSUPPORTED, "%s: no bias to absorb the input offset", l->name);
    if (s->kernel->mask || s->kernel->hook.forward || s->bias->hook.forward)
        return nml_fail(err, NML_E_UNSUPPORTED, "%s: a masked or transformed kernel cannot be "
                        "folded", l->name);
    const size_t f = (size_t)s->o.filters, taps = s->kernel->count / f;
    float *k = s->kernel->value, *b = s->bias->value;
    for (size_t o = 0; o < f; o++) {
        double sum = 0.0;
        for (size_t t = 0; t < taps; t++) {
            sum += k[o * taps + t];
            k[o * taps + t] *= scale;
        }
        b[o] += (float)((double)offset * sum);
    }
    return NML_OK;
}
