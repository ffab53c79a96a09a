/* DepthwiseConv2D: every input channel c is convolved with its own depth_multiplier filters,
 * giving output channel c * multiplier + m. Kernel [1, kh, kw, channels * multiplier] as in
 * TFLite. Direct loops: the innermost runs over contiguous NHWC channels. */
#include <string.h>

#include "conv_geom.h"
#include "layer_util.h"
#include "nanoml/train_layers.h"

typedef struct depthwise {
    nml_depthwise_conv2d_opts o;
    nml_conv_geom g;
    int32_t out_c;
    nml_param *kernel, *bias;
} depthwise;

static nml_status dw_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                           nml_error *err) {
    (void)n_in;
    depthwise *s = l->state;
    if (s->o.depth_multiplier < 1)
        return nml_fail(err, NML_E_ARG, "depth_multiplier must be at least 1 (got %d)",
                        (int)s->o.depth_multiplier);
    NML_TRY(nml_conv_geom_init(&s->g, &in[0], s->o.kernel_h, s->o.kernel_w, s->o.stride_h,
                               s->o.stride_w, s->o.same_padding, err));
    if ((int64_t)s->g.in_c * s->o.depth_multiplier > NML_MAX_DIM)
        return nml_fail(err, NML_E_LIMIT, "too many output channels");
    s->out_c = s->g.in_c * s->o.depth_multiplier;
    *out = nml_shape_3d(s->g.out_h, s->g.out_w, s->out_c);
    return NML_OK;
}

static nml_status dw_params(nml_layer *l, int n_in, const nml_shape *in, const nml_shape *out,
                            nml_error *err) {
    (void)n_in, (void)in, (void)out;
    depthwise *s = l->state;
    const int32_t kh = s->o.kernel_h, kw = s->o.kernel_w;
    nml_shape ks = {4, {1, kh, kw, s->out_c}};
    nml_init init = s->o.kernel_init ? s->o.kernel_init : NML_INIT_GLOROT_UNIFORM;
    /* Keras' fans for a depthwise kernel: receptive field times channels in / multiplier */
    NML_TRY(nml_layer_add_param(l, "kernel", &ks, init, kh * kw * s->g.in_c,
                                kh * kw * s->o.depth_multiplier, 1, &s->kernel, err));
    if (!s->o.no_bias) {
        nml_shape bs = nml_shape_1d(s->out_c);
        NML_TRY(nml_layer_add_param(l, "bias", &bs, NML_INIT_ZEROS, 0, 0, 1, &s->bias, err));
    }
    return NML_OK;
}

/* Kernel taps of output pixel (oy, ox) that fall inside the image: ky in [*ky0, *ky1), kx in
 * [*kx0, *kx1); the input pixel of tap (ky, kx) is (iy0 + ky, ix0 + kx). */
static void taps(const nml_conv_geom *g, int32_t oy, int32_t ox, int32_t *iy0, int32_t *ix0,
                 int32_t *ky0, int32_t *ky1, int32_t *kx0, int32_t *kx1) {
    *iy0 = oy * g->s_h - g->pad_top;
    *ix0 = ox * g->s_w - g->pad_left;
    *ky0 = *iy0 < 0 ? -*iy0 : 0;
    *kx0 = *ix0 < 0 ? -*ix0 : 0;
    *ky1 = g->in_h - *iy0 < g->k_h ? g->in_h - *iy0 : g->k_h;
    *kx1 = g->in_w - *ix0 < g->k_w ? g->in_w - *ix0 : g->k_w;
}

static void dw_forward_image(const depthwise *s, const float *in, const float *w, float *out) {
    const nml_conv_geom *g = &s->g;
    const int32_t mult = s->o.depth_multiplier, ch = g->in_c, oc = s->out_c;
    for (int32_t oy = 0; oy < g->out_h; oy++)
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            int32_t iy0, ix0, ky0, ky1, kx0, kx1;
            taps(g, oy, ox, &iy0, &ix0, &ky0, &ky1, &kx0, &kx1);
            float *y = out + ((size_t)oy * g->out_w + ox) * oc;
            for (int32_t ky = ky0; ky < ky1; ky++)
                for (int32_t kx = kx0; kx < kx1; kx++) {
                    const float *x = in + ((size_t)(iy0 + ky) * g->in_w + (ix0 + kx)) * ch;
                    const float *wk = w + ((size_t)ky * g->k_w + kx) * oc;
                    for (int32_t c = 0; c < ch; c++)
                        for (int32_t m = 0; m < mult; m++) y[c * mult + m] += x[c] * wk[c * mult + m];
                }
        }
}

/* Adds this image's kernel gradient into dw and, when din is not NULL, writes its input
 * gradient (din zeroed by the caller). */
static void dw_backward_image(const depthwise *s, const float *in, const float *w,
                              const float *dout, float *dw, float *din) {
    const nml_conv_geom *g = &s->g;
    const int32_t mult = s->o.depth_multiplier, ch = g->in_c, oc = s->out_c;
    for (int32_t oy = 0; oy < g->out_h; oy++)
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            int32_t iy0, ix0, ky0, ky1, kx0, kx1;
            taps(g, oy, ox, &iy0, &ix0, &ky0, &ky1, &kx0, &kx1);
            const float *dy = dout + ((size_t)oy * g->out_w + ox) * oc;
            for (int32_t ky = ky0; ky < ky1; ky++)
                for (int32_t kx = kx0; kx < kx1; kx++) {
                    const size_t in_off = ((size_t)(iy0 + ky) * g->in_w + (ix0 + kx)) * ch;
                    const size_t w_off = ((size_t)ky * g->k_w + kx) * oc;
                    const float *x = in + in_off;
                    float *dwk = dw + w_off;
                    for (int32_t c = 0; c < ch; c++)
                        for (int32_t m = 0; m < mult; m++)
                            dwk[c * mult + m] += x[c] * dy[c * mult + m];
                    if (!din) continue;
                    const float *wk = w + w_off;
                    float *dx = din + in_off;
                    for (int32_t c = 0; c < ch; c++)
                        for (int32_t m = 0; m < mult; m++)
                            dx[c] += wk[c * mult + m] * dy[c * mult + m];
                }
        }
}

static nml_status dw_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    (void)err;
    depthwise *s = l->state;
    const size_t in_count = nml_ftensor_sample_count(&f->in[0]);
    const size_t out_count = nml_ftensor_sample_count(f->out);
    const size_t pixels = (size_t)s->g.out_h * s->g.out_w;
    for (int32_t b = 0; b < f->batch; b++) {
        float *out = f->out->data + b * out_count;
        if (s->bias)
            nml_add_bias_rows(out, nml_param_data(s->bias), pixels, s->out_c);
        else
            memset(out, 0, out_count * sizeof(float));
        dw_forward_image(s, f->in[0].data + b * in_count, nml_param_data(s->kernel), out);
    }
    return NML_OK;
}

static nml_status dw_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    (void)err;
    depthwise *s = l->state;
    const size_t in_count = nml_ftensor_sample_count(&b->in[0]);
    const size_t out_count = nml_ftensor_sample_count(b->out);
    const size_t pixels = (size_t)s->g.out_h * s->g.out_w;
    if (s->bias) nml_bias_grad_rows(b->dout, s->bias->grad, pixels * (size_t)b->batch, s->out_c);
    if (b->din[0]) memset(b->din[0], 0, (size_t)b->batch * in_count * sizeof(float));
    for (int32_t i = 0; i < b->batch; i++)
        dw_backward_image(s, b->in[0].data + i * in_count, nml_param_data(s->kernel),
                          b->dout + i * out_count, s->kernel->grad,
                          b->din[0] ? b->din[0] + i * in_count : NULL);
    return NML_OK;
}

static nml_status dw_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    depthwise *s = l->state;
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = s->o.same_padding ? NML_PAD_SAME : NML_PAD_VALID;
    p.stride_h = s->o.stride_h;
    p.stride_w = s->o.stride_w;
    p.depth_multiplier = s->o.depth_multiplier;
    return nml_export_affine_op(x, l, s->kernel, s->bias, s->out_c, 1, NML_OP_DEPTHWISE_CONV_2D,
                                &p, err);
}

static const nml_layer_ops depthwise_ops = {
    "DepthwiseConv2D", 1, 1, NML_LAYER_FUSES_ACTIVATION | NML_LAYER_FOLDS_AFFINE,
    dw_shape, dw_params, dw_forward, dw_backward, dw_export, nml_layer_free_state};

nml_layer *nml_depthwise_conv2d(const nml_depthwise_conv2d_opts *o) {
    depthwise s;
    memset(&s, 0, sizeof s);
    s.o = *o;
    s.o.name = NULL;
    s.o.kernel_h = nml_pick(o->kernel_h, o->kernel, 0);
    s.o.kernel_w = nml_pick(o->kernel_w, o->kernel, 0);
    s.o.stride_h = nml_pick(o->stride_h, o->stride, 1);
    s.o.stride_w = nml_pick(o->stride_w, o->stride, 1);
    s.o.depth_multiplier = o->depth_multiplier ? o->depth_multiplier : 1;
    return nml_layer_with_state(&depthwise_ops, o->name, &s, sizeof s, o->activation);
}
