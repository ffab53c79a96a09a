/* CONV_2D optimized for cores without SIMD or FPU (RV32IMC), bit-exact with the reference
 * kernel (conv_2d.c), which stays the oracle and handles float32 and grouped convolution.
 *
 * int8 evaluation: output pixels are taken two at a time and output channels four at a time;
 * the 4x2 block's eight accumulators stay in registers while the inner loop walks the filter
 * window, so each loaded activation serves four channels and each loaded weight two pixels
 * (6 loads per 8 multiply-accumulates). The window is walked as contiguous runs: a filter row
 * of KW*C bytes when there is no horizontal dilation (the whole depth for 1x1 filters, which
 * makes the layer a GEMM), else one run of C bytes per tap. Border pixels use the same loop
 * over the part of the window inside the input (padding contributes nothing, as in the
 * reference); a pair whose two windows are clipped differently is computed as two pairs of a
 * pixel with itself. Requantization (opt_common.h) runs once per output, outside the loops. */
#include <stddef.h>

#include "conv_ref.h"
#include "kernels.h"
#include "opt_common.h"

typedef struct opt_conv {
    nml_conv_data ref;
    nml_rq rq;
    uint8_t use_ref; /* float32 or grouped: the reference evaluation */
} opt_conv;

static nml_status opt_conv_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    opt_conv *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    NML_TRY(nml_conv_2d_setup(ctx, node, p, &d->ref, 0));
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const nml_tensor *filter = nml_node_input(ctx, node, 1);
    const nml_tensor *output = nml_node_output(ctx, node, 0);
    const int32_t out_ch = filter->dims[0];
    d->use_ref = input->type != NML_INT8 || filter->dims[3] != input->dims[3];
    if (d->use_ref && input->type == NML_INT8)
        NML_TRY(nml_conv_multipliers(ctx, node, input, filter, output, out_ch, 0, &d->ref.mult,
                                     &d->ref.shift));
    if (!d->use_ref) NML_TRY(nml_ctx_request_scratch(ctx, node, (size_t)out_ch * sizeof(int32_t)));
    if (!d->use_ref)
        NML_TRY(nml_rq_conv(ctx, node, input, filter, output, out_ch, d->ref.act_min,
                            d->ref.act_max, nml_node_input(ctx, node, 2),
                            nml_rq_dot_bound((int64_t)filter->dims[1] * filter->dims[2] *
                                                 filter->dims[3],
                                             input->zero_point, 128),
                            &d->rq));
    node->data = d;
    return NML_OK;
}

/* The part of a filter window inside the input, as contiguous runs. */
typedef struct runs {
    int32_t rows, cols, len;    /* rows x cols runs of len bytes */
    int32_t x_row, x_col;       /* input pointer steps between rows / runs in a row */
    int32_t w_row_skip;         /* weights to skip after each row (clipped taps) */
    int32_t w_start;            /* first weight of the window part */
    int32_t full;               /* the whole window is inside the input */
} runs;

typedef struct geom {
    const int8_t *in, *filter;
    const int32_t *bias;
    int8_t *out;
    int32_t h, w, c, out_h, out_w, out_c, kh, kw, depth; /* depth = kh * kw * c */
    int32_t zp;                                           /* input zero point */
    const nml_window *win;
    const int32_t *folded_bias; /* bias - zp * sum of the channel's weights (scratch) */
} geom;

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

/* Window of output pixel (b, oy, ox): its first input byte and its runs. */
static const int8_t *window_at(const geom *g, int32_t b, int32_t oy, int32_t ox, runs *r) {
    const nml_window *win = g->win;
    const int32_t iy0 = oy * win->stride_h - win->pad_h;
    const int32_t ix0 = ox * win->stride_w - win->pad_w;
    int32_t ky0, ky1, kx0, kx1;
    tap_range(iy0, g->kh, win->dilation_h, g->h, &ky0, &ky1);
    tap_range(ix0, g->kw, win->dilation_w, g->w, &kx0, &kx1);
    const int32_t taps_x = kx1 - kx0;
    r->rows = ky1 - ky0;
    r->x_row = win->dilation_h * g->w * g->c;
    if (win->dilation_w == 1) {
        r->cols = taps_x > 0 ? 1 : 0;
        r->len = taps_x * g->c;
        r->x_col = 0;
    } else {
        r->cols = taps_x;
        r->len = g->c;
        r->x_col = win->dilation_w * g->c;
    }
    r->w_row_skip = (g->kw - taps_x) * g->c;
    r->w_start = (ky0 * g->kw + kx0) * g->c;
    r->full = r->rows == g->kh && taps_x == g->kw;
    const int32_t iy = iy0 + ky0 * win->dilation_h, ix = ix0 + kx0 * win->dilation_w;
    if (r->rows == 0 || taps_x == 0) return g->in; /* nothing is read; iy, ix may lie outside */
    return g->in + ((b * g->h + iy) * g->w + ix) * g->c;
}

static int same_runs(const runs *a, const runs *b) {
    return a->rows == b->rows && a->cols == b->cols && a->len == b->len &&
           a->w_start == b->w_start && a->full == b->full;
}

/* One step of the 4x2 block: activations i of both pixels times weights i of four channels. */
#define NML_MAC_4X2(i, X)                                                                         \
    do {                                                                                          \
        const int32_t xa = X(p0[i]), xb = X(p1[i]);                                               \
        int32_t v = w0[i];                                                                        \
        a00 += v * xa;                                                                            \
        a01 += v * xb;                                                                            \
        v = w1[i];                                                                                \
        a10 += v * xa;                                                                            \
        a11 += v * xb;                                                                            \
        v = w2[i];                                                                                \
        a20 += v * xa;                                                                            \
        a21 += v * xb;                                                                            \
        v = w3[i];                                                                                \
        a30 += v * xa;                                                                            \
        a31 += v * xb;                                                                            \
    } while (0)

/* acc[2*j + k] = sum over the window's runs of w_j[i] * X(x_k[i]) for the four weight rows
 * w_j = w + j * depth (from the window's first weight) and the two pixels' windows x_k, with
 * X(x) = x - zp (dot_4x2_zp) or X(x) = x when the zero point is folded into the bias
 * (dot_4x2_raw, windows entirely inside the input). Out of line so that the 8 accumulators,
 * 6 pointers and temporaries get the registers to themselves (inlined, gcc spills pointers
 * inside the loop); the whole window in one call. */
#if defined(__GNUC__)
#define NML_NOINLINE __attribute__((noinline))
#else
#define NML_NOINLINE
#endif
#define NML_DEFINE_DOT_4X2(name, X)                                                               \
    NML_NOINLINE static void name(const int8_t *x0, const int8_t *x1, const int8_t *w,            \
                                  int32_t depth, const runs *r, int32_t zp, int32_t acc[8])       \
{                                                                                                  \
    const int8_t *w0 = w + r->w_start, *w1 = w0 + depth, *w2 = w1 + depth, *w3 = w2 + depth;       \
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0, a30 = 0, a31 = 0;                \
    const int32_t n4_len = r->len >> 2, tail = r->len & 3;                                         \
    /* runs: rows x cols; without horizontal dilation one run per row (cols == 1) */               \
    const int32_t x_next = r->cols > 1 ? r->x_col : r->x_row, w_skip_end = r->w_row_skip;          \
    int32_t runs_left = r->rows * r->cols, col = 0;                                                \
    (void)zp;                                                                                      \
    for (; runs_left > 0; runs_left--) {                                                           \
        const int8_t *p0 = x0, *p1 = x1;                                                           \
        int32_t n4 = n4_len;                                                                       \
        if (n4 > 0) do {                                                                           \
                NML_MAC_4X2(0, X);                                                                 \
                NML_MAC_4X2(1, X);                                                                 \
                NML_MAC_4X2(2, X);                                                                 \
                NML_MAC_4X2(3, X);                                                                 \
                p0 += 4, p1 += 4, w0 += 4, w1 += 4, w2 += 4, w3 += 4;                              \
            } while (--n4);                                                                        \
        /* the last len % 4 bytes without a loop (short runs are all tail) */                      \
        switch (tail) {                                                                            \
        case 3:                                                                                    \
            NML_MAC_4X2(2, X);                                                                     \
            /* fall through */                                                                     \
        case 2:                                                                                    \
            NML_MAC_4X2(1, X);                                                                     \
            /* fall through */                                                                     \
        case 1:                                                                                    \
            NML_MAC_4X2(0, X);                                                                     \
            /* fall through */                                                                     \
        default:                                                                                   \
            break;                                                                                 \
        }                                                                                          \
        w0 += tail, w1 += tail, w2 += tail, w3 += tail;                                            \
        if (++col == r->cols) { /* end of a row of runs: next row, skip clipped weights */         \
            col = 0;                                                                               \
            x0 += r->x_row - (r->cols - 1) * x_next * (r->cols > 1);                               \
            x1 += r->x_row - (r->cols - 1) * x_next * (r->cols > 1);                               \
            w0 += w_skip_end, w1 += w_skip_end, w2 += w_skip_end, w3 += w_skip_end;                \
        } else {                                                                                   \
            x0 += x_next, x1 += x_next;                                                            \
        }                                                                                          \
    }                                                                                              \
    acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11;                                        \
    acc[4] = a20, acc[5] = a21, acc[6] = a30, acc[7] = a31;                                        \
}

/* Output stage of a 4x2 block done inside the dot function, while the accumulators are still
 * in registers: the fast requantization of channels oc..oc+3 into o0 and o1. */
typedef struct out4x2 {
    const int32_t *bias; /* folded bias */
    const int32_t *mult;
    const int8_t *shift;
    int32_t zp, lo, hi;
} out4x2;

/* The struct's fields are copied to locals first: int8 stores may alias anything, so gcc would
 * reload them after every output. */
NML_OPT_INLINE void emit_4x2(out4x2 s, int32_t j, int32_t v0, int32_t v1, int8_t *o0,
                             int8_t *o1) {
    const nml_rq_ch ch = nml_rq_entry(s.mult, s.shift, j, s.zp);
    const int32_t b = s.bias[j];
    o0[j] = nml_rq_clamp(nml_rq_apply(nml_add_wrap(v0, b), ch), s.lo, s.hi);
    o1[j] = nml_rq_clamp(nml_rq_apply(nml_add_wrap(v1, b), ch), s.lo, s.hi);
}

/* Four output channels of two pixels over one contiguous run of len bytes with the zero point
 * folded (whole 1x1 windows: the GEMM case), requantized and stored. Nothing else is live
 * across its loop, so the 8 accumulators and 6 pointers stay in registers (3 instructions per
 * multiply-accumulate), and the accumulators never go through memory. */
NML_NOINLINE static void gemm_4x2(const int8_t *p0, const int8_t *p1, const int8_t *w0,
                                  int32_t depth, int32_t len, const out4x2 *s, int32_t oc,
                                  int8_t *o0, int8_t *o1) {
    const int8_t *w1 = w0 + depth, *w2 = w1 + depth, *w3 = w2 + depth;
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0, a30 = 0, a31 = 0;
#define NML_X_RAW(x) (x)
    int32_t n4 = len >> 2;
    if (n4 > 0) do {
            NML_MAC_4X2(0, NML_X_RAW);
            NML_MAC_4X2(1, NML_X_RAW);
            NML_MAC_4X2(2, NML_X_RAW);
            NML_MAC_4X2(3, NML_X_RAW);
            p0 += 4, p1 += 4, w0 += 4, w1 += 4, w2 += 4, w3 += 4;
        } while (--n4);
    for (n4 = len & 3; n4 > 0; n4--) {
        NML_MAC_4X2(0, NML_X_RAW);
        p0++, p1++, w0++, w1++, w2++, w3++;
    }
#undef NML_X_RAW
    out4x2 l = *s;
    l.bias += oc, l.mult += oc, l.shift += oc;
    o0 += oc, o1 += oc;
    emit_4x2(l, 0, a00, a01, o0, o1);
    emit_4x2(l, 1, a10, a11, o0, o1);
    emit_4x2(l, 2, a20, a21, o0, o1);
    emit_4x2(l, 3, a30, a31, o0, o1);
}

#define NML_X_MINUS_ZP(x) ((x) - zp)
#define NML_X_RAW(x) (x)
NML_DEFINE_DOT_4X2(dot_4x2_zp, NML_X_MINUS_ZP)
NML_DEFINE_DOT_4X2(dot_4x2_raw, NML_X_RAW)
#undef NML_X_MINUS_ZP
#undef NML_X_RAW
#undef NML_DEFINE_DOT_4X2
#undef NML_MAC_4X2

/* One channel, two pixels (the channels left over after blocks of four). */
static void dot_1x2(const int8_t *x0, const int8_t *x1, const int8_t *w, const runs *r,
                    int32_t zp, int32_t acc[2]) {
    const int8_t *w0 = w + r->w_start;
    int32_t a0 = 0, a1 = 0;
    for (int32_t row = 0; row < r->rows; row++) {
        const int8_t *p0 = x0 + row * r->x_row, *p1 = x1 + row * r->x_row;
        for (int32_t col = 0; col < r->cols; col++) {
            for (int32_t i = 0; i < r->len; i++) {
                const int32_t v = w0[i];
                a0 += v * (p0[i] - zp);
                a1 += v * (p1[i] - zp);
            }
            w0 += r->len;
            p0 += r->x_col;
            p1 += r->x_col;
        }
        w0 += r->w_row_skip;
    }
    acc[0] = a0, acc[1] = a1;
}

/* Requantizes n channels x 2 pixels (acc[2*j + k]) into o0[j], o1[j]. */
static void store_nx2(const nml_rq *rq, const int32_t *bias, int32_t oc, int32_t n,
                      const int32_t *acc, int8_t *o0, int8_t *o1) {
    if (!rq->fast) {
        for (int32_t j = 0; j < n; j++) {
            const int32_t b = bias ? bias[oc + j] : 0;
            o0[j] = nml_rq_slow(rq, oc + j, nml_add_wrap(acc[2 * j], b));
            o1[j] = nml_rq_slow(rq, oc + j, nml_add_wrap(acc[2 * j + 1], b));
        }
        return;
    }
    const int32_t lo = rq->act_min, hi = rq->act_max, i0 = oc * rq->step, zp = rq->out_zp;
    const int32_t *mult = rq->mult + i0;
    const int8_t *r = rq->shift + i0;
    const int32_t *b = bias ? bias + oc : NULL;
    for (int32_t j = 0; j < n; j++) {
        const nml_rq_ch ch = nml_rq_entry(mult, r, j * rq->step, zp);
        const int32_t bj = b ? b[j] : 0;
        o0[j] = nml_rq_clamp(nml_rq_apply(nml_add_wrap(acc[2 * j], bj), ch), lo, hi);
        o1[j] = nml_rq_clamp(nml_rq_apply(nml_add_wrap(acc[2 * j + 1], bj), ch), lo, hi);
    }
}

/* Every output channel of two pixels sharing their window shape. */
static void pixel_pair(const geom *g, const nml_rq *rq, const int8_t *x0, const int8_t *x1,
                       const runs *r, int8_t *o0, int8_t *o1) {
    int32_t acc[8];
    int32_t oc = 0;
    /* whole windows: the zero point is folded into the bias (sum w * x + bias - zp * sum w) */
    const int32_t *bias4 = r->full ? g->folded_bias : g->bias;
    const int gemm = r->full && r->rows * r->cols == 1 && rq->fast && rq->step;
    out4x2 so = {g->folded_bias, rq->mult, rq->shift, rq->out_zp, rq->act_min, rq->act_max};
    for (; oc + 4 <= g->out_c; oc += 4) {
        if (gemm) {
            gemm_4x2(x0, x1, g->filter + oc * g->depth + r->w_start, g->depth, r->len, &so, oc,
                     o0, o1);
            continue;
        }
        if (r->full)
            dot_4x2_raw(x0, x1, g->filter + oc * g->depth, g->depth, r, g->zp, acc);
        else
            dot_4x2_zp(x0, x1, g->filter + oc * g->depth, g->depth, r, g->zp, acc);
        store_nx2(rq, bias4, oc, 4, acc, o0 + oc, o1 + oc);
    }
    for (; oc < g->out_c; oc++) {
        dot_1x2(x0, x1, g->filter + oc * g->depth, r, g->zp, acc);
        store_nx2(rq, g->bias, oc, 1, acc, o0 + oc, o1 + oc);
    }
}

/* Output pixel counter in (batch, row, column) order. */
typedef struct pixel {
    int32_t b, y, x;
} pixel;

static void next_pixel(const geom *g, pixel *p) {
    if (++p->x == g->out_w) {
        p->x = 0;
        if (++p->y == g->out_h) {
            p->y = 0;
            p->b++;
        }
    }
}

/* 1x1 filter, stride 1, no padding: pixel i's window is input pixel i, all alike. */
static int pointwise(const geom *g) {
    const nml_window *w = g->win;
    return g->kh == 1 && g->kw == 1 && w->stride_h == 1 && w->stride_w == 1 && w->pad_h == 0 &&
           w->pad_w == 0 && g->out_h == g->h && g->out_w == g->w;
}

static void conv_int8_opt(const geom *g, const nml_rq *rq, int32_t batches) {
    const int32_t total = batches * g->out_h * g->out_w;
    if (pointwise(g)) {
        runs r = {1, 1, g->c, 0, 0, 0, 0, 1};
        for (int32_t i = 0; i < total; i += 2) {
            const int32_t j = i + 1 < total ? i + 1 : i;
            pixel_pair(g, rq, g->in + i * g->c, g->in + j * g->c, &r, g->out + i * g->out_c,
                       g->out + j * g->out_c);
        }
        return;
    }
    pixel a = {0, 0, 0};
    for (int32_t i = 0; i < total; i += 2) {
        pixel b = a;
        if (i + 1 < total) next_pixel(g, &b);
        runs ra, rb;
        const int8_t *xa = window_at(g, a.b, a.y, a.x, &ra);
        const int8_t *xb = window_at(g, b.b, b.y, b.x, &rb);
        int8_t *oa = g->out + (int32_t)i * g->out_c;
        int8_t *ob = i + 1 < total ? oa + g->out_c : oa;
        if (same_runs(&ra, &rb)) {
            pixel_pair(g, rq, xa, xb, &ra, oa, ob);
        } else {
            pixel_pair(g, rq, xa, xa, &ra, oa, oa);
            pixel_pair(g, rq, xb, xb, &rb, ob, ob);
        }
        a = b;
        next_pixel(g, &a);
    }
}

static nml_status opt_conv_eval(nml_ctx *ctx, nml_node *node) {
    const opt_conv *d = node->data;
    if (d->use_ref) {
        nml_conv_2d_eval_ref(ctx, node, &d->ref);
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
    g.h = input->dims[1];
    g.w = input->dims[2];
    g.c = input->dims[3];
    g.out_h = output->dims[1];
    g.out_w = output->dims[2];
    g.out_c = output->dims[3];
    g.kh = filter->dims[1];
    g.kw = filter->dims[2];
    g.depth = g.kh * g.kw * g.c;
    g.zp = -d->ref.input_offset;
    g.win = &d->ref.w;
    int32_t *folded = nml_ctx_scratch(ctx, node);
    for (int32_t c = 0; c < g.out_c; c++) {
        const int8_t *w = g.filter + c * g.depth;
        int32_t sum = 0; /* |sum| <= depth * 128: the accumulator check bounds zp * sum */
        for (int32_t i = 0; i < g.depth; i++)
            sum += w[i];
        folded[c] = nml_add_wrap(g.bias ? g.bias[c] : 0, -g.zp * sum);
    }
    g.folded_bias = folded;
    conv_int8_opt(&g, &d->rq, input->dims[0]);
    return NML_OK;
}

const nml_kernel nml_kernel_conv_2d_opt = {NML_OP_CONV_2D, "CONV_2D", opt_conv_prepare,
                                           opt_conv_eval};
