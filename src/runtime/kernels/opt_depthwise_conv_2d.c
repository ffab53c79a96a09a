/* DEPTHWISE_CONV_2D optimized for cores without SIMD or FPU (RV32IMC), bit-exact with the
 * reference kernel (depthwise_conv_2d.c), which stays the oracle and evaluates float32.
 *
 * Depth multiplier 1 (MobileNet-style layers): one channel at a time, so the channel's nine
 * 3x3 weights, its bias and its requantization stay in registers for the whole plane. Inside
 * the input a 3x3 window with stride 1 or 2 slides along the row and keeps the columns it has
 * already loaded, so each output costs 3 (stride 1) or 6 (stride 2) loads and 9 multiply-adds;
 * the input zero point is folded into the bias once per channel (bias - zp * sum of weights).
 * Border outputs, other filter sizes and dilations take the tap loop of the reference with the
 * window clipped to the input.
 *
 * Depth multiplier > 1 (e.g. a first layer over one input channel): output channels
 * ic*M .. ic*M+M-1 share input channel ic, so four of them and two output pixels form a block
 * as in CONV_2D: per tap, two activation loads and four weight loads (adjacent in memory) feed
 * eight multiply-accumulates. */
#include <stddef.h>

#include "conv_ref.h"
#include "kernels.h"
#include "opt_common.h"

typedef struct opt_dw {
    nml_dwconv_data ref;
    nml_rq rq;
    uint8_t use_ref; /* float32: the reference evaluation */
} opt_dw;

static nml_status opt_dw_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    opt_dw *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    NML_TRY(nml_dwconv_setup(ctx, node, p, &d->ref, 0));
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const nml_tensor *filter = nml_node_input(ctx, node, 1);
    const nml_tensor *output = nml_node_output(ctx, node, 0);
    d->use_ref = input->type != NML_INT8;
    if (!d->use_ref)
        NML_TRY(nml_rq_conv(
            ctx, node, input, filter, output, filter->dims[3], d->ref.act_min, d->ref.act_max,
            nml_node_input(ctx, node, 2),
            nml_rq_dot_bound((int64_t)filter->dims[1] * filter->dims[2], input->zero_point, 128),
            &d->rq));
    node->data = d;
    return NML_OK;
}

typedef struct geom {
    const int8_t *in, *filter;
    const int32_t *bias;
    int8_t *out;
    int32_t batches, h, w, c, out_h, out_w, out_c, kh, kw, mult;
    int32_t zp; /* input zero point */
    const nml_window *win;
    const nml_rq *rq;
} geom;

NML_OPT_INLINE int8_t requant(const nml_rq *rq, nml_rq_ch ch, int32_t oc, int32_t acc) {
    if (rq->fast) return nml_rq_clamp(nml_rq_apply(acc, ch), rq->act_min, rq->act_max);
    return nml_rq_slow(rq, oc, acc);
}

/* Taps [lo, hi) of one dimension whose input coordinate i0 + k * dil lies in [0, n). */
static void tap_range(int32_t i0, int32_t k, int32_t dil, int32_t n, int32_t *lo, int32_t *hi) {
    int32_t l = 0, h = k;
    if (i0 < 0) l = (-i0 + dil - 1) / dil;
    const int32_t room = n - 1 - i0;
    if (room < 0)
        h = 0;
    else if (room / dil + 1 < k)
        h = room / dil + 1;
    if (h < l) h = l;
    *lo = l;
    *hi = h;
}

/* ---- depth multiplier 1 ---- */

/* Output (b, oy, ox) of channel c by the reference's tap loop over the clipped window. */
static int8_t dw_tap_loop(const geom *g, nml_rq_ch ch, int32_t c, int32_t bias, int32_t b,
                          int32_t oy, int32_t ox) {
    const nml_window *win = g->win;
    const int32_t iy0 = oy * win->stride_h - win->pad_h, ix0 = ox * win->stride_w - win->pad_w;
    int32_t ky0, ky1, kx0, kx1;
    tap_range(iy0, g->kh, win->dilation_h, g->h, &ky0, &ky1);
    tap_range(ix0, g->kw, win->dilation_w, g->w, &kx0, &kx1);
    int32_t acc = 0;
    for (int32_t ky = ky0; ky < ky1; ky++) {
        const int32_t row = (b * g->h + iy0 + ky * win->dilation_h) * g->w;
        const int8_t *w = g->filter + ky * g->kw * g->c + c;
        for (int32_t kx = kx0; kx < kx1; kx++)
            acc += w[kx * g->c] * (g->in[(row + ix0 + kx * win->dilation_w) * g->c + c] - g->zp);
    }
    return requant(g->rq, ch, c, nml_add_wrap(acc, bias));
}

/* The nine weights of a 3x3 channel and its bias with the input zero point folded in. */
typedef struct taps9 {
    int32_t w00, w01, w02, w10, w11, w12, w20, w21, w22;
    int32_t bias; /* bias - zp * sum(w), wrapping like the reference's int32 arithmetic */
} taps9;

static taps9 load_taps9(const geom *g, int32_t c, int32_t bias) {
    const int8_t *f = g->filter + c;
    const int32_t s = g->c;
    taps9 t;
    t.w00 = f[0], t.w01 = f[s], t.w02 = f[2 * s];
    t.w10 = f[3 * s], t.w11 = f[4 * s], t.w12 = f[5 * s];
    t.w20 = f[6 * s], t.w21 = f[7 * s], t.w22 = f[8 * s];
    const int32_t sum = t.w00 + t.w01 + t.w02 + t.w10 + t.w11 + t.w12 + t.w20 + t.w21 + t.w22;
    t.bias = nml_add_wrap(bias, -g->zp * sum);
    return t;
}

/* Outputs [ox0, ox1) of row oy whose 3x3 windows (dilation 1) lie inside the input; the
 * window slides by stride 1 or 2 and keeps its last loaded columns. */
static void dw3x3_row(const geom *g, const taps9 *t, nml_rq_ch ch, int32_t c, int32_t b,
                      int32_t oy, int32_t ox0, int32_t ox1) {
    const nml_window *win = g->win;
    const int32_t s = g->c, row = g->w * g->c;
    const int32_t iy0 = oy * win->stride_h - win->pad_h, ix0 = ox0 * win->stride_w - win->pad_w;
    const int8_t *p = g->in + ((b * g->h + iy0) * g->w + ix0) * s + c;
    int8_t *o = g->out + ((b * g->out_h + oy) * g->out_w + ox0) * s + c;
    const nml_rq *rq = g->rq;
    int32_t a0 = p[0], a1 = p[row], a2 = p[2 * row];
    int32_t b0 = 0, b1 = 0, b2 = 0;
    p += s;
    int32_t n = ox1 - ox0;
    if (win->stride_w == 1) {
        b0 = p[0], b1 = p[row], b2 = p[2 * row];
        p += s;
        for (; n > 0; n--) {
            const int32_t c0 = p[0], c1 = p[row], c2 = p[2 * row];
            p += s;
            int32_t acc = t->w00 * a0 + t->w01 * b0 + t->w02 * c0;
            acc += t->w10 * a1 + t->w11 * b1 + t->w12 * c1;
            acc += t->w20 * a2 + t->w21 * b2 + t->w22 * c2;
            *o = requant(rq, ch, c, nml_add_wrap(acc, t->bias));
            o += s;
            a0 = b0, a1 = b1, a2 = b2;
            b0 = c0, b1 = c1, b2 = c2;
        }
    } else {
        for (; n > 0; n--) {
            b0 = p[0], b1 = p[row], b2 = p[2 * row];
            p += s;
            const int32_t c0 = p[0], c1 = p[row], c2 = p[2 * row];
            p += s;
            int32_t acc = t->w00 * a0 + t->w01 * b0 + t->w02 * c0;
            acc += t->w10 * a1 + t->w11 * b1 + t->w12 * c1;
            acc += t->w20 * a2 + t->w21 * b2 + t->w22 * c2;
            *o = requant(rq, ch, c, nml_add_wrap(acc, t->bias));
            o += s;
            a0 = c0, a1 = c1, a2 = c2;
        }
    }
}

/* The range [lo, hi) of outputs along one dimension whose 3x3 window lies inside [0, n). */
static void inner_range(int32_t n, int32_t out, int32_t stride, int32_t pad, int32_t *lo,
                        int32_t *hi) {
    int32_t l = (pad + stride - 1) / stride;
    int32_t h = n >= 3 ? (n - 3 + pad) / stride + 1 : 0;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

static void dw_plane(const geom *g, int32_t c) {
    const nml_window *win = g->win;
    const nml_rq_ch ch = g->rq->fast ? nml_rq_channel(g->rq, c) : (nml_rq_ch){0, 0, 0, 0};
    const int32_t bias = g->bias ? g->bias[c] : 0;
    const int fast3x3 = g->kh == 3 && g->kw == 3 && win->dilation_h == 1 &&
                        win->dilation_w == 1 && (win->stride_w == 1 || win->stride_w == 2);
    taps9 t = {0};
    int32_t oy_lo = 0, oy_hi = 0, ox_lo = 0, ox_hi = 0;
    if (fast3x3) {
        t = load_taps9(g, c, bias);
        inner_range(g->h, g->out_h, win->stride_h, win->pad_h, &oy_lo, &oy_hi);
        inner_range(g->w, g->out_w, win->stride_w, win->pad_w, &ox_lo, &ox_hi);
    }
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t oy = 0; oy < g->out_h; oy++) {
            int8_t *o = g->out + (b * g->out_h + oy) * g->out_w * g->c + c;
            int32_t lo = 0, hi = 0;
            if (fast3x3 && oy >= oy_lo && oy < oy_hi) lo = ox_lo, hi = ox_hi;
            for (int32_t ox = 0; ox < lo; ox++)
                o[ox * g->c] = dw_tap_loop(g, ch, c, bias, b, oy, ox);
            if (hi > lo) dw3x3_row(g, &t, ch, c, b, oy, lo, hi);
            /* hi >= lo always; hi == 0 when the row has no inner part */
            for (int32_t ox = hi; ox < g->out_w; ox++)
                o[ox * g->c] = dw_tap_loop(g, ch, c, bias, b, oy, ox);
        }
    }
}

/* ---- depth multiplier > 1 ---- */

/* The clipped window of output pixel (b, oy, ox) for input channel 0. */
typedef struct win_part {
    const int8_t *x; /* first input byte (channel 0) */
    int32_t ky0, ky1, kx0, kx1;
} win_part;

static void window_at(const geom *g, int32_t b, int32_t oy, int32_t ox, win_part *p) {
    const nml_window *win = g->win;
    const int32_t iy0 = oy * win->stride_h - win->pad_h, ix0 = ox * win->stride_w - win->pad_w;
    tap_range(iy0, g->kh, win->dilation_h, g->h, &p->ky0, &p->ky1);
    tap_range(ix0, g->kw, win->dilation_w, g->w, &p->kx0, &p->kx1);
    const int32_t iy = iy0 + p->ky0 * win->dilation_h, ix = ix0 + p->kx0 * win->dilation_w;
    const int empty = p->ky0 == p->ky1 || p->kx0 == p->kx1; /* coordinates may lie outside */
    p->x = empty ? g->in : g->in + ((b * g->h + iy) * g->w + ix) * g->c;
}

static int same_part(const win_part *a, const win_part *b) {
    return a->ky0 == b->ky0 && a->ky1 == b->ky1 && a->kx0 == b->kx0 && a->kx1 == b->kx1;
}

/* The taps of a clipped window for a block of output channels: `rows` rows of `taps` taps;
 * activations x_step bytes apart within a row and x_row apart from row to row, weights w_step
 * and w_row apart. */
typedef struct taps {
    int32_t rows, taps, x_step, x_row, w_step, w_row;
} taps;

/* acc[2*j + k] = sum over the taps of w[j] * (x_k - zp) for four adjacent output channels j
 * and two pixels k. Out of line so that its accumulators and pointers get the registers to
 * themselves. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
taps_4x2(const int8_t *x0, const int8_t *x1, const int8_t *w, const taps *t, int32_t zp,
         int32_t acc[8]) {
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0, a30 = 0, a31 = 0;
    const int32_t x_step = t->x_step, w_step = t->w_step;
    int32_t r = t->rows;
    if (r > 0 && t->taps > 0) do { /* bottom-tested loops: one branch per iteration */
            const int8_t *q0 = x0, *q1 = x1, *wk = w;
            int32_t n = t->taps;
            do {
                const int32_t xa = *q0 - zp, xb = *q1 - zp;
                int32_t v = wk[0];
                a00 += v * xa, a01 += v * xb;
                v = wk[1], a10 += v * xa, a11 += v * xb;
                v = wk[2], a20 += v * xa, a21 += v * xb;
                v = wk[3], a30 += v * xa, a31 += v * xb;
                q0 += x_step, q1 += x_step, wk += w_step;
            } while (--n);
            x0 += t->x_row, x1 += t->x_row, w += t->w_row;
        } while (--r);
    acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11;
    acc[4] = a20, acc[5] = a21, acc[6] = a30, acc[7] = a31;
}

/* The same for one pixel (acc[2*j]): pixels whose windows are clipped unlike their
 * neighbour's. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
taps_4x1(const int8_t *x0, const int8_t *w, const taps *t, int32_t zp, int32_t acc[8]) {
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const int32_t x_step = t->x_step, w_step = t->w_step;
    int32_t r = t->rows;
    if (r > 0 && t->taps > 0) do {
            const int8_t *q0 = x0, *wk = w;
            int32_t n = t->taps;
            do {
                const int32_t xa = *q0 - zp;
                a0 += wk[0] * xa, a1 += wk[1] * xa, a2 += wk[2] * xa, a3 += wk[3] * xa;
                q0 += x_step, wk += w_step;
            } while (--n);
            x0 += t->x_row, w += t->w_row;
        } while (--r);
    acc[0] = a0, acc[2] = a1, acc[4] = a2, acc[6] = a3;
}

/* One output channel, two pixels (acc[0], acc[1]): channels left after blocks of four. */
static void taps_1x2(const int8_t *x0, const int8_t *x1, const int8_t *w, const taps *t,
                     int32_t zp, int32_t acc[2]) {
    int32_t a0 = 0, a1 = 0;
    for (int32_t r = 0; r < t->rows; r++) {
        for (int32_t k = 0; k < t->taps; k++) {
            const int32_t v = w[r * t->w_row + k * t->w_step];
            const int32_t i = r * t->x_row + k * t->x_step;
            a0 += v * (x0[i] - zp), a1 += v * (x1[i] - zp);
        }
    }
    acc[0] = a0, acc[1] = a1;
}

/* Requantizes acc[2*j + k] for channels oc .. oc+n-1 into oa (k = 0) and, if ob, ob (k = 1). */
static void store_block(const geom *g, int32_t oc, int32_t n, const int32_t *acc, int8_t *oa,
                        int8_t *ob) {
    for (int32_t j = 0; j < n; j++) {
        int32_t va = acc[2 * j], vb = acc[2 * j + 1];
        if (g->bias) {
            va = nml_add_wrap(va, g->bias[oc + j]);
            vb = nml_add_wrap(vb, g->bias[oc + j]);
        }
        const nml_rq_ch ch = g->rq->fast ? nml_rq_channel(g->rq, oc + j) : (nml_rq_ch){0, 0, 0, 0};
        oa[oc + j] = requant(g->rq, ch, oc + j, va);
        if (ob) ob[oc + j] = requant(g->rq, ch, oc + j, vb);
    }
}

/* Every output channel of pixel a (and of pixel b when pb is given: same clipping). */
static void dw_pixels(const geom *g, const win_part *pa, const win_part *pb, int8_t *oa,
                      int8_t *ob) {
    const int32_t m = g->mult;
    taps t;
    t.rows = pa->ky1 - pa->ky0;
    t.taps = pa->kx1 - pa->kx0;
    t.x_step = g->win->dilation_w * g->c;
    t.x_row = g->win->dilation_h * g->w * g->c;
    t.w_step = g->out_c;
    t.w_row = g->kw * g->out_c;
    const int8_t *w0 = g->filter + (pa->ky0 * g->kw + pa->kx0) * g->out_c;
    int32_t acc[8];
    for (int32_t ic = 0; ic < g->c; ic++) {
        const int8_t *xa = pa->x + ic, *xb = pb ? pb->x + ic : NULL;
        int32_t j = 0;
        for (; j + 4 <= m; j += 4) {
            const int32_t oc = ic * m + j;
            if (pb)
                taps_4x2(xa, xb, w0 + oc, &t, g->zp, acc);
            else
                taps_4x1(xa, w0 + oc, &t, g->zp, acc);
            store_block(g, oc, 4, acc, oa, pb ? ob : NULL);
        }
        for (; j < m; j++) {
            const int32_t oc = ic * m + j;
            taps_1x2(xa, pb ? xb : xa, w0 + oc, &t, g->zp, acc);
            store_block(g, oc, 1, acc, oa, pb ? ob : NULL);
        }
    }
}

static void next_pixel(const geom *g, int32_t *b, int32_t *y, int32_t *x) {
    if (++*x == g->out_w) {
        *x = 0;
        if (++*y == g->out_h) *y = 0, ++*b;
    }
}

static void dw_multiplier(const geom *g) {
    const int32_t total = g->batches * g->out_h * g->out_w;
    int32_t b = 0, y = 0, x = 0;
    for (int32_t i = 0; i < total; i += 2) {
        int32_t b2 = b, y2 = y, x2 = x;
        if (i + 1 < total) next_pixel(g, &b2, &y2, &x2);
        win_part pa, pb;
        window_at(g, b, y, x, &pa);
        window_at(g, b2, y2, x2, &pb);
        int8_t *oa = g->out + i * g->out_c;
        int8_t *ob = i + 1 < total ? oa + g->out_c : oa;
        if (same_part(&pa, &pb)) {
            dw_pixels(g, &pa, &pb, oa, ob);
        } else {
            dw_pixels(g, &pa, NULL, oa, NULL);
            dw_pixels(g, &pb, NULL, ob, NULL);
        }
        b = b2, y = y2, x = x2;
        next_pixel(g, &b, &y, &x);
    }
}

static nml_status opt_dw_eval(nml_ctx *ctx, nml_node *node) {
    const opt_dw *d = node->data;
    if (d->use_ref) {
        nml_dwconv_eval_ref(ctx, node, &d->ref);
        return NML_OK;
    }
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const nml_tensor *filter = nml_node_input(ctx, node, 1);
    const nml_tensor *bias = nml_node_input(ctx, node, 2);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    geom g;
    g.in = input->data;
    g.filter = filter->data;
    g.bias = bias ? bias->data : NULL;
    g.out = output->data;
    g.batches = input->dims[0];
    g.h = input->dims[1];
    g.w = input->dims[2];
    g.c = input->dims[3];
    g.out_h = output->dims[1];
    g.out_w = output->dims[2];
    g.out_c = output->dims[3];
    g.kh = filter->dims[1];
    g.kw = filter->dims[2];
    g.mult = d->ref.depth_multiplier;
    g.zp = -d->ref.input_offset;
    g.win = &d->ref.w;
    g.rq = &d->rq;
    if (g.mult == 1)
        for (int32_t c = 0; c < g.c; c++)
            dw_plane(&g, c);
    else
        dw_multiplier(&g);
    return NML_OK;
}

const nml_kernel nml_kernel_depthwise_conv_2d_opt = {NML_OP_DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D",
                                                     opt_dw_prepare, opt_dw_eval};
