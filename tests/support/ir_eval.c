#include "ir_eval.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ev {
    const nml_ir *ir;
    float **f; /* float data per tensor (activations owned, constants borrowed) */
    uint8_t *owned;
} ev;

static int64_t count_of(const nml_ir_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

static const nml_ir_tensor *T(const ev *e, int i) {
    return &e->ir->tensors[i];
}
static const int32_t *I32(const ev *e, int i) {
    return (const int32_t *)T(e, i)->data;
}

static float act(float v, int a) {
    switch (a) {
    case NML_ACT_RELU:
        return v < 0 ? 0 : v;
    case NML_ACT_RELU6:
        return v < 0 ? 0 : v > 6 ? 6 : v;
    case NML_ACT_RELU_N1_TO_1:
        return v < -1 ? -1 : v > 1 ? 1 : v;
    case NML_ACT_TANH:
        return tanhf(v);
    default:
        return v;
    }
}

/* TFLite's padding: output size and leading pad for one spatial axis. */
static void pad_axis(int padding, int in, int k, int stride, int dil, int *out, int *pad) {
    int eff = (k - 1) * dil + 1;
    if (padding == NML_PAD_SAME) {
        *out = (in + stride - 1) / stride;
        int total = (*out - 1) * stride + eff - in;
        *pad = total > 0 ? total / 2 : 0;
    } else {
        *out = (in - eff + stride) / stride;
        *pad = 0;
    }
}

static nml_status conv(ev *e, const nml_ir_op *o, int depthwise, nml_error *err) {
    const nml_ir_tensor *x = T(e, o->inputs[0]), *w = T(e, o->inputs[1]), *y = T(e, o->outputs[0]);
    const float *in = e->f[o->inputs[0]], *wt = e->f[o->inputs[1]];
    const float *b = o->n_inputs > 2 && o->inputs[2] >= 0 ? e->f[o->inputs[2]] : NULL;
    float *out = e->f[o->outputs[0]];
    const nml_op_params *p = &o->params;
    int n = x->dims[0], h = x->dims[1], wd = x->dims[2], ci = x->dims[3];
    int kh = w->dims[1], kw = w->dims[2], co = y->dims[3], oh, ow, ph, pw;
    pad_axis(p->padding, h, kh, p->stride_h, p->dilation_h, &oh, &ph);
    pad_axis(p->padding, wd, kw, p->stride_w, p->dilation_w, &ow, &pw);
    if (oh != y->dims[1] || ow != y->dims[2])
        return nml_fail(err, NML_E_SHAPE, "conv output %dx%d, tensor says %dx%d", oh, ow,
                        y->dims[1], y->dims[2]);
    int mult = depthwise ? co / ci : 1;
    for (int bn = 0; bn < n; bn++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int oc = 0; oc < co; oc++) {
                    double s = b ? b[oc] : 0;
                    for (int ky = 0; ky < kh; ky++) {
                        int iy = oy * p->stride_h - ph + ky * p->dilation_h;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < kw; kx++) {
                            int ix = ox * p->stride_w - pw + kx * p->dilation_w;
                            if (ix < 0 || ix >= wd) continue;
                            const float *px = in + (((size_t)bn * h + iy) * wd + ix) * ci;
                            if (depthwise) {
                                s += px[oc / mult] * wt[((size_t)ky * kw + kx) * co + oc];
                            } else {
                                const float *pw_ = wt + (((size_t)oc * kh + ky) * kw + kx) * ci;
                                for (int ic = 0; ic < ci; ic++)
                                    s += px[ic] * pw_[ic];
                            }
                        }
                    }
                    out[(((size_t)bn * oh + oy) * ow + ox) * co + oc] =
                        act((float)s, p->activation);
                }
    return NML_OK;
}

static nml_status pool(ev *e, const nml_ir_op *o, int is_max, nml_error *err) {
    const nml_ir_tensor *x = T(e, o->inputs[0]), *y = T(e, o->outputs[0]);
    const float *in = e->f[o->inputs[0]];
    float *out = e->f[o->outputs[0]];
    const nml_op_params *p = &o->params;
    int n = x->dims[0], h = x->dims[1], wd = x->dims[2], ch = x->dims[3], oh, ow, ph, pw;
    pad_axis(p->padding, h, p->filter_h, p->stride_h, 1, &oh, &ph);
    pad_axis(p->padding, wd, p->filter_w, p->stride_w, 1, &ow, &pw);
    if (oh != y->dims[1] || ow != y->dims[2])
        return nml_fail(err, NML_E_SHAPE, "pool output %dx%d, tensor says %dx%d", oh, ow,
                        y->dims[1], y->dims[2]);
    for (int bn = 0; bn < n; bn++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int c = 0; c < ch; c++) {
                    double s = 0;
                    float m = -FLT_MAX;
                    int cnt = 0;
                    for (int ky = 0; ky < p->filter_h; ky++)
                        for (int kx = 0; kx < p->filter_w; kx++) {
                            int iy = oy * p->stride_h - ph + ky, ix = ox * p->stride_w - pw + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                            float v = in[(((size_t)bn * h + iy) * wd + ix) * ch + c];
                            s += v;
                            if (v > m) m = v;
                            cnt++;
                        }
                    float r = is_max ? m : (float)(s / (cnt ? cnt : 1));
                    out[(((size_t)bn * oh + oy) * ow + ox) * ch + c] = act(r, p->activation);
                }
    return NML_OK;
}

static void unflat(int64_t k, const nml_ir_tensor *t, int64_t *idx) {
    for (int i = t->rank - 1; i >= 0; i--) {
        idx[i] = k % t->dims[i];
        k /= t->dims[i];
    }
}

static int64_t flat(const int64_t *idx, const nml_ir_tensor *t) {
    int64_t k = 0;
    for (int i = 0; i < t->rank; i++)
        k = k * t->dims[i] + idx[i];
    return k;
}

static nml_status binary(ev *e, const nml_ir_op *o, nml_error *err) {
    const nml_ir_tensor *a = T(e, o->inputs[0]), *b = T(e, o->inputs[1]), *y = T(e, o->outputs[0]);
    const float *pa = e->f[o->inputs[0]], *pb = e->f[o->inputs[1]];
    float *out = e->f[o->outputs[0]];
    int64_t idx[NML_MAX_RANK], ia[NML_MAX_RANK], ib[NML_MAX_RANK];
    for (int64_t k = 0; k < count_of(y); k++) {
        unflat(k, y, idx);
        for (int i = 0; i < a->rank; i++) {
            int d = i + y->rank - a->rank;
            ia[i] = a->dims[i] == 1 ? 0 : idx[d];
        }
        for (int i = 0; i < b->rank; i++) {
            int d = i + y->rank - b->rank;
            ib[i] = b->dims[i] == 1 ? 0 : idx[d];
        }
        float u = pa[flat(ia, a)], v = pb[flat(ib, b)], r;
        switch (o->builtin) {
        case NML_OP_ADD:
            r = u + v;
            break;
        case NML_OP_SUB:
            r = u - v;
            break;
        case NML_OP_MUL:
            r = u * v;
            break;
        case NML_OP_DIV:
            r = u / v;
            break;
        case NML_OP_MAXIMUM:
            r = u > v ? u : v;
            break;
        case NML_OP_MINIMUM:
            r = u < v ? u : v;
            break;
        default:
            return nml_fail(err, NML_E_UNSUPPORTED, "binary op %d", o->builtin);
        }
        out[k] = act(r, o->params.activation);
    }
    return NML_OK;
}

static nml_status unary(ev *e, const nml_ir_op *o) {
    const float *in = e->f[o->inputs[0]];
    float *out = e->f[o->outputs[0]];
    for (int64_t k = 0; k < count_of(T(e, o->outputs[0])); k++) {
        float v = in[k];
        switch (o->builtin) {
        case NML_OP_RELU:
            v = v < 0 ? 0 : v;
            break;
        case NML_OP_RELU6:
            v = v < 0 ? 0 : v > 6 ? 6 : v;
            break;
        case NML_OP_RELU_N1_TO_1:
            v = v < -1 ? -1 : v > 1 ? 1 : v;
            break;
        case NML_OP_LOGISTIC:
            v = 1.0f / (1.0f + expf(-v));
            break;
        case NML_OP_TANH:
            v = tanhf(v);
            break;
        case NML_OP_EXP:
            v = expf(v);
            break;
        case NML_OP_LEAKY_RELU:
            v = v < 0 ? v * o->params.alpha : v;
            break;
        case NML_OP_ABS:
            v = fabsf(v);
            break;
        case NML_OP_NEG:
            v = -v;
            break;
        case NML_OP_SQRT:
            v = sqrtf(v);
            break;
        case NML_OP_FLOOR:
            v = floorf(v);
            break;
        case NML_OP_HARD_SWISH:
            v = v * (v + 3 < 0 ? 0 : v + 3 > 6 ? 6 : v + 3) / 6;
            break;
        default:
            break; /* RESHAPE */
        }
        out[k] = v;
    }
    return NML_OK;
}

static void mirror_pad(ev *e, const nml_ir_op *o) {
    const nml_ir_tensor *x = T(e, o->inputs[0]), *y = T(e, o->outputs[0]);
    const int32_t *pd = I32(e, o->inputs[1]);
    int sym = o->params.mirror_mode == 1;
    int64_t idx[NML_MAX_RANK];
    for (int64_t k = 0; k < count_of(y); k++) {
        unflat(k, y, idx);
        for (int i = 0; i < y->rank; i++) {
            int64_t v = idx[i] - pd[2 * i], n = x->dims[i];
            if (v < 0) v = sym ? -v - 1 : -v;
            if (v >= n) v = sym ? 2 * n - v - 1 : 2 * n - v - 2;
            idx[i] = v;
        }
        e->f[o->outputs[0]][k] = e->f[o->inputs[0]][flat(idx, x)];
    }
}

static void softmax(ev *e, const nml_ir_op *o) {
    const nml_ir_tensor *x = T(e, o->inputs[0]);
    int64_t inner = x->dims[x->rank - 1], rows = count_of(x) / inner;
    const float *in = e->f[o->inputs[0]];
    float *out = e->f[o->outputs[0]];
    for (int64_t r = 0; r < rows; r++) {
        float m = -FLT_MAX;
        double s = 0;
        for (int64_t i = 0; i < inner; i++)
            m = in[r * inner + i] > m ? in[r * inner + i] : m;
        for (int64_t i = 0; i < inner; i++)
            s += exp((in[r * inner + i] - m) * o->params.beta);
        for (int64_t i = 0; i < inner; i++) {
            double z = (in[r * inner + i] - m) * o->params.beta;
            out[r * inner + i] =
                (float)(o->builtin == NML_OP_LOG_SOFTMAX ? z - log(s) : exp(z) / s);
        }
    }
}

static void concat(ev *e, const nml_ir_op *o) {
    const nml_ir_tensor *y = T(e, o->outputs[0]);
    int axis = o->params.axis < 0 ? o->params.axis + y->rank : o->params.axis;
    int64_t outer = 1, inner = 1, off = 0;
    for (int i = 0; i < axis; i++)
        outer *= y->dims[i];
    for (int i = axis + 1; i < y->rank; i++)
        inner *= y->dims[i];
    float *out = e->f[o->outputs[0]];
    for (int64_t a = 0; a < outer; a++)
        for (int k = 0; k < o->n_inputs; k++) {
            int64_t blk = T(e, o->inputs[k])->dims[axis] * inner;
            memcpy(out + off, e->f[o->inputs[k]] + a * blk, (size_t)blk * sizeof(float));
            off += blk;
        }
}

static void gather(ev *e, const nml_ir_op *o) {
    const nml_ir_tensor *x = T(e, o->inputs[0]), *ix = T(e, o->inputs[1]);
    int axis = o->params.axis < 0 ? o->params.axis + x->rank : o->params.axis;
    int64_t outer = 1, inner = 1, n = count_of(ix), off = 0;
    for (int i = 0; i < axis; i++)
        outer *= x->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        inner *= x->dims[i];
    const int32_t *sel = I32(e, o->inputs[1]);
    float *out = e->f[o->outputs[0]];
    for (int64_t a = 0; a < outer; a++)
        for (int64_t k = 0; k < n; k++) {
            memcpy(out + off, e->f[o->inputs[0]] + (a * x->dims[axis] + sel[k]) * inner,
                   (size_t)inner * sizeof(float));
            off += inner;
        }
}

static void transpose(ev *e, const nml_ir_op *o) {
    const nml_ir_tensor *x = T(e, o->inputs[0]), *y = T(e, o->outputs[0]);
    const int32_t *perm = I32(e, o->inputs[1]);
    int64_t idx[NML_MAX_RANK], src[NML_MAX_RANK];
    for (int64_t k = 0; k < count_of(y); k++) {
        unflat(k, y, idx);
        for (int i = 0; i < y->rank; i++)
            src[perm[i]] = idx[i];
        e->f[o->outputs[0]][k] = e->f[o->inputs[0]][flat(src, x)];
    }
}

static void pad(ev *e, const nml_ir_op *o) {
    const nml_ir_tensor *x = T(e, o->inputs[0]), *y = T(e, o->outputs[0]);
    const int32_t *pd = I32(e, o->inputs[1]);
    float fill = o->builtin == NML_OP_PADV2 ? e->f[o->inputs[2]][0] : 0.0f;
    int64_t idx[NML_MAX_RANK];
    for (int64_t k = 0; k < count_of(y); k++) {
        unflat(k, y, idx);
        int inside = 1;
        for (int i = 0; i < y->rank; i++) {
            idx[i] -= pd[2 * i];
            if (idx[i] < 0 || idx[i] >= x->dims[i]) inside = 0;
        }
        e->f[o->outputs[0]][k] = inside ? e->f[o->inputs[0]][flat(idx, x)] : fill;
    }
}

static void resize_nearest(ev *e, const nml_ir_op *o) {
    const nml_ir_tensor *x = T(e, o->inputs[0]), *y = T(e, o->outputs[0]);
    int ac = o->params.align_corners, hpc = o->params.half_pixel_centers;
    for (int64_t k = 0; k < count_of(y); k++) {
        int64_t idx[4];
        unflat(k, y, idx);
        for (int a = 1; a <= 2; a++) {
            int in = x->dims[a], out = y->dims[a];
            float scale =
                ac && out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
            float v = ((float)idx[a] + (hpc ? 0.5f : 0.0f)) * scale;
            int64_t r = ac ? (int64_t)roundf(v) : (int64_t)floorf(v);
            if (r > in - 1) r = in - 1;
            if (hpc && r < 0) r = 0;
            idx[a] = r;
        }
        e->f[o->outputs[0]][k] = e->f[o->inputs[0]][flat(idx, x)];
    }
}

static void strided_slice(ev *e, const nml_ir_op *o) {
    const nml_ir_tensor *x = T(e, o->inputs[0]), *y = T(e, o->outputs[0]);
    const int32_t *b = I32(e, o->inputs[1]), *st = I32(e, o->inputs[3]);
    int64_t idx[NML_MAX_RANK];
    for (int64_t k = 0; k < count_of(y); k++) {
        unflat(k, y, idx);
        for (int i = 0; i < y->rank; i++)
            idx[i] = b[i] + idx[i] * st[i];
        e->f[o->outputs[0]][k] = e->f[o->inputs[0]][flat(idx, x)];
    }
}

static void split(ev *e, const nml_ir_op *o) {
    int in = o->builtin == NML_OP_SPLIT ? o->inputs[1] : o->inputs[0];
    const nml_ir_tensor *x = T(e, in);
    int axis = o->params.axis;
    int64_t outer = 1, inner = 1, off = 0;
    for (int i = 0; i < axis; i++)
        outer *= x->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        inner *= x->dims[i];
    for (int64_t a = 0; a < outer; a++)
        for (int k = 0; k < o->n_outputs; k++) {
            int64_t blk = T(e, o->outputs[k])->dims[axis] * inner;
            memcpy(e->f[o->outputs[k]] + a * blk, e->f[in] + off, (size_t)blk * sizeof(float));
            off += blk;
        }
}

static void fully_connected(ev *e, const nml_ir_op *o) {
    const nml_ir_tensor *w = T(e, o->inputs[1]);
    int64_t n = w->dims[0], k = w->dims[1], m = count_of(T(e, o->inputs[0])) / k;
    const float *b = o->n_inputs > 2 && o->inputs[2] >= 0 ? e->f[o->inputs[2]] : NULL;
    for (int64_t r = 0; r < m; r++)
        for (int64_t j = 0; j < n; j++) {
            double s = b ? b[j] : 0;
            for (int64_t i = 0; i < k; i++)
                s += e->f[o->inputs[0]][r * k + i] * e->f[o->inputs[1]][j * k + i];
            e->f[o->outputs[0]][r * n + j] = act((float)s, o->params.activation);
        }
}

static nml_status run_op(ev *e, const nml_ir_op *o, nml_error *err) {
    switch (o->builtin) {
    case NML_OP_CONV_2D:
        return conv(e, o, 0, err);
    case NML_OP_DEPTHWISE_CONV_2D:
        return conv(e, o, 1, err);
    case NML_OP_MAX_POOL_2D:
        return pool(e, o, 1, err);
    case NML_OP_AVERAGE_POOL_2D:
        return pool(e, o, 0, err);
    case NML_OP_ADD:
    case NML_OP_SUB:
    case NML_OP_MUL:
    case NML_OP_DIV:
    case NML_OP_MAXIMUM:
    case NML_OP_MINIMUM:
        return binary(e, o, err);
    case NML_OP_RELU:
    case NML_OP_RELU6:
    case NML_OP_RELU_N1_TO_1:
    case NML_OP_LOGISTIC:
    case NML_OP_TANH:
    case NML_OP_EXP:
    case NML_OP_LEAKY_RELU:
    case NML_OP_ABS:
    case NML_OP_NEG:
    case NML_OP_SQRT:
    case NML_OP_FLOOR:
    case NML_OP_HARD_SWISH:
    case NML_OP_RESHAPE:
        return unary(e, o);
    case NML_OP_MIRROR_PAD:
        mirror_pad(e, o);
        return NML_OK;
    case NML_OP_SOFTMAX:
    case NML_OP_LOG_SOFTMAX:
        softmax(e, o);
        return NML_OK;
    case NML_OP_CONCATENATION:
        concat(e, o);
        return NML_OK;
    case NML_OP_GATHER:
        gather(e, o);
        return NML_OK;
    case NML_OP_TRANSPOSE:
        transpose(e, o);
        return NML_OK;
    case NML_OP_PAD:
    case NML_OP_PADV2:
        pad(e, o);
        return NML_OK;
    case NML_OP_RESIZE_NEAREST_NEIGHBOR:
        resize_nearest(e, o);
        return NML_OK;
    case NML_OP_STRIDED_SLICE:
        strided_slice(e, o);
        return NML_OK;
    case NML_OP_SPLIT:
    case NML_OP_SPLIT_V:
        split(e, o);
        return NML_OK;
    case NML_OP_FULLY_CONNECTED:
        fully_connected(e, o);
        return NML_OK;
    default:
        return nml_fail(err, NML_E_UNSUPPORTED, "test evaluator: operator %s",
                        nml_op_name(o->builtin));
    }
}

nml_status nml_test_ir_eval(const nml_ir *ir, const float *const *inputs, float **outputs,
                            nml_error *err) {
    ev e = {ir, calloc((size_t)ir->n_tensors + 1, sizeof(float *)),
            calloc((size_t)ir->n_tensors + 1, 1)};
    nml_status s = e.f && e.owned ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    for (int i = 0; s == NML_OK && i < ir->n_tensors; i++) {
        const nml_ir_tensor *t = &ir->tensors[i];
        if (t->data) {
            e.f[i] = (float *)t->data; /* int32 constants are read through I32() */
        } else {
            e.f[i] = calloc((size_t)count_of(t) + 1, sizeof(float));
            e.owned[i] = 1;
            if (!e.f[i]) s = nml_fail(err, NML_E_NOMEM, "out of memory");
        }
    }
    for (int i = 0; s == NML_OK && i < ir->n_inputs; i++)
        memcpy(e.f[ir->inputs[i]], inputs[i], (size_t)count_of(&ir->tensors[ir->inputs[i]]) * 4);
    for (int i = 0; s == NML_OK && i < ir->n_ops; i++) {
        s = run_op(&e, &ir->ops[i], err);
        if (s != NML_OK)
            nml_error_prefix(err, "op %d (%s): ", i, ir->ops[i].name ? ir->ops[i].name : "");
    }
    for (int i = 0; s == NML_OK && i < ir->n_outputs; i++) {
        size_t bytes = (size_t)count_of(&ir->tensors[ir->outputs[i]]) * 4;
        outputs[i] = malloc(bytes + 4);
        if (!outputs[i])
            s = nml_fail(err, NML_E_NOMEM, "out of memory");
        else
            memcpy(outputs[i], e.f[ir->outputs[i]], bytes);
    }
    for (int i = 0; e.f && e.owned && i < ir->n_tensors; i++)
        if (e.owned[i]) free(e.f[i]);
    free(e.f);
    free(e.owned);
    return s;
}
