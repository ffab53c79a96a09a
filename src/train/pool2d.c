/* AveragePooling2D and MaxPooling2D over NHWC windows. With "same" padding an average counts
 * only the window positions inside the image (as TensorFlow and TFLite do). Max pooling keeps
 * the winning input position of every output for the backward pass. */
#include <string.h>

#include "conv_geom.h"
#include "layer_util.h"
#include "nanoml/train_layers.h"
#include "vec4.h"

typedef struct pool2d {
    nml_pool2d_opts o;
    nml_conv_geom g;
    int is_max;
} pool2d;

static nml_status pool_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                             nml_error *err) {
    (void)n_in;
    pool2d *s = l->state;
    NML_TRY(nml_conv_geom_init(&s->g, &in[0], s->o.pool_h, s->o.pool_w, s->o.stride_h,
                               s->o.stride_w, s->o.same_padding, err));
    *out = nml_shape_3d(s->g.out_h, s->g.out_w, s->g.in_c);
    return NML_OK;
}

/* Window of output (oy, ox) clipped to the image: rows [*y0, *y1), columns [*x0, *x1). */
static void window(const nml_conv_geom *g, int32_t oy, int32_t ox, int32_t *y0, int32_t *y1,
                   int32_t *x0, int32_t *x1) {
    int32_t ys = oy * g->s_h - g->pad_top, xs = ox * g->s_w - g->pad_left;
    *y0 = ys < 0 ? 0 : ys;
    *x0 = xs < 0 ? 0 : xs;
    *y1 = ys + g->k_h < g->in_h ? ys + g->k_h : g->in_h;
    *x1 = xs + g->k_w < g->in_w ? xs + g->k_w : g->in_w;
}

/* Pointers to the window's input pixels (at most MAX_TAPS; returns 0 for larger windows). */
#define MAX_TAPS 64
static int window_taps(const nml_conv_geom *g, const float *in, int32_t oy, int32_t ox,
                       const float **taps) {
    int32_t y0, y1, x0, x1;
    window(g, oy, ox, &y0, &y1, &x0, &x1);
    if ((y1 - y0) * (x1 - x0) > MAX_TAPS) return 0;
    int n = 0;
    for (int32_t y = y0; y < y1; y++)
        for (int32_t x = x0; x < x1; x++) taps[n++] = in + ((size_t)y * g->in_w + x) * g->in_c;
    return n;
}

static void avg_forward_image(const nml_conv_geom *g, const float *in, float *out) {
    const int32_t c = g->in_c;
    const float *taps[MAX_TAPS];
    for (int32_t oy = 0; oy < g->out_h; oy++)
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            float *o = out + ((size_t)oy * g->out_w + ox) * c;
            const int n = window_taps(g, in, oy, ox, taps);
            if (n > 0) { /* one pass per channel over a few taps: no clearing, no re-reading */
                const float inv = 1.0f / (float)n;
                for (int32_t k = 0; k < c; k++) {
                    float sum = 0.0f;
                    for (int t = 0; t < n; t++) sum += taps[t][k];
                    o[k] = sum * inv;
                }
                continue;
            }
            int32_t y0, y1, x0, x1;
            window(g, oy, ox, &y0, &y1, &x0, &x1);
            const float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
            memset(o, 0, (size_t)c * sizeof(float));
            for (int32_t y = y0; y < y1; y++) {
                const float *p = in + ((size_t)y * g->in_w + x0) * c;
                for (int32_t x = x0; x < x1; x++, p += c) nml_axpy_into(o, inv, p, (size_t)c);
            }
        }
}

static void avg_backward_image(const nml_conv_geom *g, const float *dout, float *din) {
    const int32_t c = g->in_c;
    for (int32_t oy = 0; oy < g->out_h; oy++)
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            int32_t y0, y1, x0, x1;
            window(g, oy, ox, &y0, &y1, &x0, &x1);
            const float *d = dout + ((size_t)oy * g->out_w + ox) * c;
            const float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
            for (int32_t y = y0; y < y1; y++) {
                float *p = din + ((size_t)y * g->in_w + x0) * c;
                for (int32_t x = x0; x < x1; x++, p += c) nml_axpy_into(p, inv, d, (size_t)c);
            }
        }
}

static void max_forward_image(const nml_conv_geom *g, const float *in, float *out,
                              int32_t *arg) {
    const int32_t c = g->in_c;
    for (int32_t oy = 0; oy < g->out_h; oy++)
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            int32_t y0, y1, x0, x1;
            window(g, oy, ox, &y0, &y1, &x0, &x1);
            const size_t o = ((size_t)oy * g->out_w + ox) * c;
            const size_t first = ((size_t)y0 * g->in_w + x0) * c;
            for (int32_t k = 0; k < c; k++) {
                out[o + k] = in[first + k];
                arg[o + k] = (int32_t)(first + k);
            }
            for (int32_t y = y0; y < y1; y++)
                for (int32_t x = x0; x < x1; x++) {
                    const size_t p = ((size_t)y * g->in_w + x) * c;
                    for (int32_t k = 0; k < c; k++)
                        if (in[p + k] > out[o + k]) {
                            out[o + k] = in[p + k];
                            arg[o + k] = (int32_t)(p + k);
                        }
                }
        }
}

static nml_status pool_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    pool2d *s = l->state;
    const size_t in_count = nml_ftensor_sample_count(&f->in[0]);
    const size_t out_count = nml_ftensor_sample_count(f->out);
    int32_t *arg = NULL;
    if (s->is_max) {
        arg = nml_layer_scratch(l, 0, (size_t)f->batch * out_count * sizeof(int32_t), err);
        if (!arg) return err ? err->status : NML_E_NOMEM;
    }
    for (int32_t b = 0; b < f->batch; b++) {
        const float *in = f->in[0].data + b * in_count;
        float *out = f->out->data + b * out_count;
        if (s->is_max)
            max_forward_image(&s->g, in, out, arg + b * out_count);
        else
            avg_forward_image(&s->g, in, out);
    }
    return NML_OK;
}

static nml_status pool_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    (void)err;
    pool2d *s = l->state;
    if (!b->din[0]) return NML_OK;
    const size_t in_count = nml_ftensor_sample_count(&b->in[0]);
    const size_t out_count = nml_ftensor_sample_count(b->out);
    memset(b->din[0], 0, (size_t)b->batch * in_count * sizeof(float));
    const int32_t *arg = l->scratch[0];
    for (int32_t i = 0; i < b->batch; i++) {
        const float *dout = b->dout + i * out_count;
        float *din = b->din[0] + i * in_count;
        if (s->is_max) {
            const int32_t *a = arg + i * out_count;
            for (size_t k = 0; k < out_count; k++) din[a[k]] += dout[k];
        } else {
            avg_backward_image(&s->g, dout, din);
        }
    }
    return NML_OK;
}

static nml_status pool_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    pool2d *s = l->state;
    int32_t out;
    NML_TRY(nml_export_activation(x, l->name, &x->out_shape, &out, err));
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = s->o.same_padding ? NML_PAD_SAME : NML_PAD_VALID;
    p.stride_h = s->o.stride_h;
    p.stride_w = s->o.stride_w;
    p.filter_h = s->o.pool_h;
    p.filter_w = s->o.pool_w;
    p.activation = x->fused_activation;
    NML_TRY(nml_export_op(x, l, s->is_max ? NML_OP_MAX_POOL_2D : NML_OP_AVERAGE_POOL_2D, &p, 1,
                          x->in, out, err));
    x->out = out;
    return NML_OK;
}

static const nml_layer_ops avg_pool_ops = {
    "AveragePooling2D", 1, 1, NML_LAYER_FUSES_ACTIVATION,
    pool_shape, NULL, pool_forward, pool_backward, pool_export, nml_layer_free_state};
static const nml_layer_ops max_pool_ops = {
    "MaxPooling2D", 1, 1, NML_LAYER_FUSES_ACTIVATION,
    pool_shape, NULL, pool_forward, pool_backward, pool_export, nml_layer_free_state};

static nml_layer *pool_create(const nml_layer_ops *ops, const nml_pool2d_opts *o, int is_max) {
    pool2d s;
    memset(&s, 0, sizeof s);
    s.o = *o;
    s.o.name = NULL;
    s.o.pool_h = nml_pick(o->pool_h, o->pool, 2);
    s.o.pool_w = nml_pick(o->pool_w, o->pool, 2);
    s.o.stride_h = nml_pick(o->stride_h, o->stride, s.o.pool_h);
    s.o.stride_w = nml_pick(o->stride_w, o->stride, s.o.pool_w);
    s.is_max = is_max;
    return nml_layer_with_state(ops, o->name, &s, sizeof s, NML_AFN_LINEAR);
}

nml_layer *nml_average_pooling2d(const nml_pool2d_opts *o) {
    return pool_create(&avg_pool_ops, o, 0);
}

nml_layer *nml_max_pooling2d(const nml_pool2d_opts *o) { return pool_create(&max_pool_ops, o, 1); }
