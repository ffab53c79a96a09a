/* DEPTHWISE_CONV_2D optimized for cores without SIMD or FPU (RV32IMC), bit-exact with the
 * reference kernel (depthwise_conv_2d.c), which stays the oracle and evaluates everything but
 * plain int8 (int8 activations and weights): float32, hybrid, int4 weights. Three paths; the
 * input zero point is folded into the bias once per channel (bias - zp * sum of weights).
 *
 * Rows (3x3 windows, stride 1 or 2 along x, no dilation, any depth multiplier: MobileNet-style
 * layers): read in place from the NHWC input by three row pointers, padded rows from a row of
 * zero points, padded columns as per-channel constants; a window slides along the row keeping
 * the partial sums of the columns already loaded (rows_3x3). With stride 1, depth multiplier 1
 * and SAME padding, two output rows share each loaded column where their four window rows lie
 * inside the input, and the first and last rows take two input rows and six weights (the padded
 * row is a constant); outside the rows-and-5-wide variant stride 2 over one input channel loads
 * its column pairs at immediate offsets. The weights and bias are doubled, so the sums are
 * the doubled fast form's 2 * acc (opt_common.h): sums >= 0 requantize without the [acc < 0]
 * term or the clamp at lo, negative ones out of line. With stride 2 both ways and depth
 * multiplier 1 two output rows share their middle window row where their five window rows lie
 * inside the input (s2_pairs; not in the rows-and-5-wide variant: code size).
 *
 * Planes (depth multiplier 1, other filters): an input channel is copied into a scratch plane
 * with its padding made explicit, then each output channel it feeds runs over it with its
 * weights, bias and requantization in registers. 5-wide windows compute eight adjacent outputs
 * per weight row (doubled weights, the same requantization as the rows); other filter sizes
 * and dilations take a tap loop over the plane. Variants chosen by export link only some
 * paths: rows; rows and 5-wide planes of 4k columns (no tap loop); rows and planes; blocks.
 *
 * Other depth multipliers > 1 (e.g. micro_speech's 10x8 windows over one input channel):
 * output channels ic*M .. ic*M+M-1 share input channel ic, so four of them and two output
 * pixels form a block as in CONV_2D: per tap, two activation loads and four weight loads
 * (adjacent in memory) feed eight multiply-accumulates, read in place from the input. Pixels
 * whose windows lie inside the input use a bias with the zero point folded in (computed per
 * evaluation into scratch, 4 bytes per channel); windows clipped at the border subtract the
 * zero point per tap. With one input channel and 8-wide windows of stride 2 (micro_speech),
 * windows inside the input are computed eight outputs of one channel at a time (wide_8x2). */
#include <stddef.h>

#include "conv_ref.h"
#include "kernels.h"
#include "opt_common.h"
#include "opt_copy.h" /* nml_opt_fill: words, not picolibc's byte-per-iteration memset */

typedef struct opt_dw {
    nml_dwconv_data ref;
    nml_rq rq;
    int32_t plane_h, plane_w; /* > 0: the plane path (padded planes in scratch) */
    uint8_t rows;             /* the 3x3 rows path (rows_3x3) */
    uint8_t doubled;          /* the doubled fast form fits (rows_3x3 requantizes in it) */
    uint8_t use_ref;          /* not plain int8 (float32, hybrid, int4): the reference */
} opt_dw;

/* Planes larger than this (or filters with more taps) take the block path instead. */
#define PLANE_MAX_BYTES (1 << 16)
#define PLANE_MAX_TAPS 64

/* 3x3 windows without dilation, stride 1 or 2 along x: the sliding 3x3 plane path. */
static int fast_3x3(const nml_window *w) {
    return w->filter_h == 3 && w->filter_w == 3 && w->dilation_h == 1 &&
           w->dilation_w == 1 && (w->stride_w == 1 || w->stride_w == 2);
}

/* 3x3 windows that rows_3x3 reads in place: at most one padded column on either side, the
 * doubled fast requantization, an activation range that holds the output zero point
 * (rq_store). */
static int rows_3x3_fit(const opt_dw *d, int32_t in_w) {
    const nml_window *w = &d->ref.w;
    return fast_3x3(w) && d->rq.fast && d->doubled && d->rq.act_min <= d->rq.out_zp &&
           d->rq.act_max >= d->rq.out_zp && w->pad_w <= 1 &&
           (w->out_w - 1) * w->stride_w - w->pad_w + 3 <= in_w + 1;
}

/* The rows path (a row of input zero points in scratch), or the plane path: a scratch plane
 * holding every window of one input channel, padding included, and an output channel's weights
 * as int32. 32-bit arithmetic: the setup's window (nml_window_init) keeps (out - 1) * stride +
 * (filter - 1) * dilation + 1 <= 2^30 along both axes, in_w too, and output->dims[1..2] are
 * out_h, out_w. */
static nml_status plan_planes(nml_ctx *ctx, nml_node *node, opt_dw *d, const nml_tensor *input,
                              const nml_tensor *output) {
    const nml_window *w = &d->ref.w;
    if (rows_3x3_fit(d, input->dims[2])) {
        d->rows = 1;
        return nml_ctx_request_scratch(ctx, node, (size_t)input->dims[2] * input->dims[3]);
    }
    const int32_t ph = (w->out_h - 1) * w->stride_h + (w->filter_h - 1) * w->dilation_h + 1;
    const int32_t pw = (w->out_w - 1) * w->stride_w + (w->filter_w - 1) * w->dilation_w + 1;
    /* the filter's taps as a size (the block path's scratch): each side is below 2^30 */
    const size_t taps = (size_t)w->filter_h * (size_t)w->filter_w;
    /* depth multipliers > 1 only where the plane serves them well: 3x3 windows with stride 1
     * or 2 along x (the block path is better for large windows); the block path's scratch is
     * the folded biases. ph * pw > PLANE_MAX_BYTES without a 64-bit product: ph >= 1. */
    if ((d->ref.depth_multiplier != 1 && !fast_3x3(w)) || w->filter_h > PLANE_MAX_TAPS ||
        w->filter_w > PLANE_MAX_TAPS || w->filter_h * w->filter_w > PLANE_MAX_TAPS ||
        pw > PLANE_MAX_BYTES / ph)
        return nml_ctx_request_scratch(ctx, node, /* + dw_wide's weights (int8) */
                                       (size_t)output->dims[3] * sizeof(int32_t) + taps);
    d->plane_h = ph;
    d->plane_w = pw;
    /* + 4: plane_5wide's last quad of a row reads up to four bytes past the row */
    return nml_ctx_request_scratch(ctx, node, taps * 4 + (size_t)(ph * pw) + 4);
}

/* The requantization tables (filled here, or by the int8-only setup already: fill 0), and
 * whether the doubled fast form fits too (checked on the tables before nml_rq_finish rewrites
 * them). Here rather than in opt_common.c: models without these paths do not pay for it. */
NML_OPT_INLINE nml_status rq_tables_doubled(nml_ctx *ctx, nml_node *node, opt_dw *d, int64_t bound,
                                            const nml_tensor *input, const nml_tensor *filter,
                                            const nml_tensor *bias, const nml_tensor *output,
                                            int fill) {
    const int32_t n = filter->dims[3];
    if (fill) NML_TRY(nml_rq_conv_fill(ctx, node, input, filter, output, n, &d->rq));
    return nml_rq_finish_doubled(ctx, node, &d->rq, n, output->zero_point, d->ref.act_min,
                                 d->ref.act_max, bias, bound, 0, &d->doubled);
}

/* int8_only: the variant without the reference fallback (conv_ref.h); with_rows: a variant
 * with the rows path (rows_3x3 needs the doubled form); both constant per caller */
NML_OPT_INLINE nml_status prepare_variant(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                          int int8_only, int with_rows) {
    opt_dw *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    nml_tensor *t[4];
    if (int8_only) {
        NML_TRY(nml_dwconv_setup_int8(ctx, node, p, &d->ref, &d->rq, t));
    } else {
        NML_TRY(nml_dwconv_setup(ctx, node, p, &d->ref, 0));
        for (uint32_t i = 0; i < 3; i++)
            t[i] = nml_node_input(ctx, node, i);
        t[3] = nml_node_output(ctx, node, 0);
    }
    const nml_tensor *input = t[0], *filter = t[1], *output = t[3];
    /* one scratch region per node: the reference path's or the optimized path's (only the
     * kernel with the reference fallback reads use_ref) */
    if (!int8_only) d->use_ref = d->ref.mode != NML_CONV_INT8;
    if (!int8_only && d->use_ref) {
        NML_TRY(nml_dwconv_ref_finish(ctx, node, &d->ref));
    } else {
        const nml_tensor *bias = t[2];
        const int64_t bound =
            nml_rq_dot_bound((int64_t)filter->dims[1] * filter->dims[2], input->zero_point, 128);
        if (with_rows)
            NML_TRY(rq_tables_doubled(ctx, node, d, bound, input, filter, bias, output,
                                      !int8_only));
        else /* the blocks variant (int8-only, tables filled): the doubled form's check not
              * linked */
            NML_TRY(nml_rq_finish(ctx, node, &d->rq, filter->dims[3], output->zero_point,
                                  d->ref.act_min, d->ref.act_max, bias, bound));
        NML_TRY(plan_planes(ctx, node, d, input, output));
    }
    node->data = d;
    return NML_OK;
}

static nml_status opt_dw_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return prepare_variant(ctx, node, p, 0, 1);
}

static nml_status opt_dw_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return prepare_variant(ctx, node, p, 1, 1);
}

typedef struct geom {
    const int8_t *in, *filter;
    const int32_t *bias;
    int8_t *out;
    int32_t batches, h, w, c, out_h, out_w, out_c, kh, kw, mult;
    int32_t zp; /* input zero point */
    const nml_window *win;
    const nml_rq *rq;
    int32_t plane_h, plane_w; /* the plane path: the padded plane in scratch */
    const int32_t *folded;    /* block path: bias - zp * sum of the channel's weights (scratch) */
    uint8_t doubled;          /* the doubled fast form fits (plane_5wide requantizes in it) */
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

/* ---- planes ---- */

/* The channel's plane is copied into scratch with the padding made explicit (filled with the
 * input zero point), so every window is inside it: no border cases, taps at small constant
 * offsets, and the input zero point folds into the bias, sum w * (x - zp) = sum w * x -
 * zp * sum w, because padding now contributes w * zp - w * zp = 0 like in the reference. */
static void fill_plane(const geom *g, int8_t *plane, int32_t b, int32_t c) {
    /* locals: the int8 stores may alias the geometry, gcc would reload it for every byte */
    const int32_t step = g->c, pw = g->plane_w, pad_w = g->win->pad_w;
    const int32_t width = pad_w + g->w > pw ? pw - pad_w : g->w;
    int32_t rows = g->plane_h - g->win->pad_h < g->h ? g->plane_h - g->win->pad_h : g->h;
    const int8_t *s = g->in + (size_t)b * g->h * g->w * step + c;
    int8_t *dst = plane + g->win->pad_h * pw + pad_w;
    /* one pass over the rows' bytes: at a row's end both pointers jump to the next row;
     * bottom-tested loops (gcc -Os would test at the top and jump back) */
    const int32_t s_gap = (g->w - width) * step, d_gap = pw - width, quads = width >> 2;
    if (rows > 0 && width > 0) do {
            int8_t *const e4 = dst + 4 * quads, *const e = dst + width;
            if (dst != e4) do { /* strided gather, unrolled */
                    const int8_t x0 = *s, x1 = *(s += step), x2 = *(s += step),
                                 x3 = *(s += step);
                    s += step;
                    dst[0] = x0, dst[1] = x1, dst[2] = x2, dst[3] = x3;
                    dst += 4;
                } while (dst != e4);
            if (dst != e) do {
                    *dst++ = *s;
                    s += step;
                } while (dst != e);
            s += s_gap, dst += d_gap;
        } while (--rows);
}

/* ---- 3x3 windows read in place ---- */

/* An output channel of 3x3 windows (no dilation, stride 1 or 2 along x, at most one padded
 * column on either side), read straight from the NHWC input: three row pointers walk along the
 * window's rows, c bytes per pixel. Rows above or below the input point at a row of input zero
 * points (zrow), the padded columns' products are per-channel constants (lcol, rcol: zp times
 * the weights of the first or last window column), so there is no plane to fill and no border
 * case inside the loop. Along a row each loaded column is multiplied by the three weight
 * columns once and the partial sums of the outputs it belongs to roll along (stride 1: 3
 * loads, 9 multiply-adds per output; stride 2: 6 loads). Two rows whose four window rows lie
 * inside the input (stride 1, depth multiplier 1, SAME) go together: one pointer and the row
 * step reach the four rows, each column's four loads feed 18 multiply-adds, and the rows'
 * setup is paid once. Sums are uint32 and doubled (rq_store): the reference's int32
 * arithmetic wraps, and half the final sum is the reference's accumulator (nml_rq_finish
 * bounds it). Out of line and over all channels and rows, so registers are saved once per
 * layer and the weights stay in registers for a channel. */
typedef struct rows3 {
    const int8_t *in;   /* the channel's first input byte (batch b, channel ic) */
    const int8_t *zrow; /* w * c bytes of the input zero point */
    const geom *g;
    int32_t oc;                             /* the channel loop */
    int32_t h, row_bytes, c, stride_h, top; /* top: first window row of the next output row */
    int32_t zp;                             /* the input zero point */
    int32_t full_bytes; /* out_step * the outputs per row whose windows lie inside the input */
    int8_t *out_end;          /* the channel's output past its last row */
    uint8_t stride2;     /* stride 2 along x (else 1) */
    uint8_t left, right; /* the first/last window has a padded column */
    int32_t pair_top; /* output rows whose first window row iy is in [0, pair_top) go in pairs
                       * (stride 2: s2_pairs) */
    uint8_t edge2;    /* the pairs' layers with two rows or more: the first and last row with two
                       * window rows */
    int8_t *out;
    int32_t out_row, out_step; /* output pointer steps: per row, per pixel */
    uint32_t bias, lcol, rcol; /* 2 * bias (rows_channel); the padded columns' sums */
    const int8_t *in_b;        /* the batch's first input byte */
    int8_t *out_b;             /* the batch's first output byte */
    int32_t out_plane, top0;   /* output bytes per batch; the first window row */
    int32_t lo, hi;
    uint32_t k2n; /* the doubled form's constant with the [acc < 0] term, 0 for ReLU (rq_store) */
    uint8_t relu; /* lo is the output zero point */
    uint32_t mult, k2; /* the channel's doubled form: k2 = 1 + 2 * khi, sh = r + 1 */
    int32_t sh;
} rows3;

NML_OPT_INLINE const int8_t *row_at(const rows3 *pp, int32_t iy) {
    return (uint32_t)iy < (uint32_t)pp->h ? pp->in + iy * pp->row_bytes : pp->zrow;
}

/* Keeps gcc from merging the three row pointers into one index plus three bases (one add per
 * pointer either way, but the merged form needs an address add per load). */
#if defined(__GNUC__)
#define OPAQUE(p) __asm__("" : "+r"(p))
#else
#define OPAQUE(p) (void)0
#endif

#if defined(__GNUC__)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define LIKELY(x) (x)
#endif

/* The doubled fast form (opt_common.h) from acc2 = 2 * acc: the weights, bias and padded
 * columns' sums are doubled, so the sums come out of the loops doubled. */
NML_OPT_INLINE uint32_t mul_hi(uint32_t acc2, uint32_t mult) {
    return (uint32_t)((uint64_t)((int64_t)(int32_t)acc2 * (int64_t)mult) >> 32);
}

NML_OPT_INLINE void put_hi(int8_t *o, int32_t y, int32_t hi) {
    if (y > hi) y = hi;
    *(uint8_t *)o = (uint8_t)y; /* unsigned: gcc would sign-extend first */
}

/* The requantized output. The activation range holds the output zero point (rows_3x3_fit) and
 * the requantization is monotonic with the zero point at acc = 0: sums >= 0 need neither the
 * [acc < 0] term nor the clamp at lo (four instructions and the clamp at hi), negative ones
 * (out of line, their parameters read from memory: registers are for the weights) take the
 * term (in k2n) and only the clamp at lo, and give lo outright when lo is the zero point (ReLU,
 * ReLU6). 2 * acc may wrap only for a channel with a zero multiplier (nml_rq_doubled_fits),
 * whose output is the zero point on either branch. */
typedef struct neg_rq {
    uint32_t k2n; /* the doubled form's constant with the [acc < 0] term, 0 for ReLU */
    int32_t lo;
} neg_rq;

NML_OPT_INLINE void rq_store(int8_t *o, const volatile neg_rq *nq, uint32_t acc2,
                             uint32_t mult, uint32_t k2, int32_t sh, int32_t hi, int relu_test) {
    if (LIKELY((int32_t)acc2 >= 0)) {
        put_hi(o, (int32_t)(mul_hi(acc2, mult) + k2) >> sh, hi);
        return;
    }
    /* volatile, on the stack: loaded here (one load each), not kept in registers */
    const uint32_t k2n = nq->k2n;
    int32_t y = nq->lo;
    /* relu_test (constant per caller): k2n = 0 marks ReLU-like ranges, where every negative
     * sum gives lo; without it the sum is requantized, and ReLU's lo is still the result */
    if (!relu_test || k2n) {
        const int32_t v = (int32_t)(mul_hi(acc2, mult) + k2n) >> sh;
        if (v > y) y = v;
    }
    *o = (int8_t)y; /* not as put_hi stores: gcc would merge the stores and zero-extend first */
}

/* The next output channel's parameters into *pp (oc: the channel loop) but its weights and bias
 * (rows_weights); NULL when every channel of the batch is done, else the channel's first
 * weight. Out of line: rows_3x3 and rows_3x3_c1 share it. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static const int8_t *
rows_channel(rows3 *pp) {
    const geom *g = pp->g;
    if (pp->oc == pp->out_step) return NULL; /* out_step: out_c */
    const int32_t oc = pp->oc++;
    pp->in = pp->in_b + oc / g->mult;
    int8_t *out = pp->out_b + oc;
    pp->out = out;
    pp->out_end = out + pp->out_plane;
    pp->top = pp->top0;
    pp->bias = g->bias ? 2 * (uint32_t)g->bias[oc] : 0;
    const nml_rq *rq = g->rq;
    const int32_t i = oc * rq->step, r = rq->shift[i], shifted = r != 0;
    pp->mult = (uint32_t)rq->mult[i];
    /* k2 = 1 + 2 * khi (nml_rq_entry), odd; k2n with the [acc < 0] term */
    const uint32_t k2 = ((uint32_t)(1 + 2 * rq->out_zp) << r) + (uint32_t)shifted;
    pp->k2 = k2;
    pp->sh = r + 1;
    pp->k2n = k2 - 2 * (uint32_t)shifted;
    return g->filter + oc;
}

/* The channel's weights doubled (rq_store) into w00..w22 and its doubled bias with the input
 * zero point folded in, 2 * (bias - zp * sum w), wrapping like the reference's int32
 * arithmetic; the padded columns' sums into *pp. */
#define ROWS_WEIGHTS(pp, f)                                                                      \
    const int32_t out_c = (pp)->out_step;                                                       \
    const int32_t w00 = 2 * f[0], w01 = 2 * f[out_c], w02 = 2 * f[2 * out_c];                  \
    f += 3 * out_c;                                                                              \
    const int32_t w10 = 2 * f[0], w11 = 2 * f[out_c], w12 = 2 * f[2 * out_c];                  \
    f += 3 * out_c;                                                                              \
    int32_t w20 = 2 * f[0], w21 = 2 * f[out_c], w22 = 2 * f[2 * out_c];                        \
    const int32_t zp_ = (pp)->zp, left_ = w00 + w10 + w20, right_ = w02 + w12 + w22;           \
    const uint32_t bias =                                                                       \
        (pp)->bias - (uint32_t)zp_ * (uint32_t)(left_ + right_ + w01 + w11 + w21);              \
    (pp)->lcol = (uint32_t)(zp_ * left_);                                                       \
    (pp)->rcol = (uint32_t)(zp_ * right_)

/* Two output rows of a stride-2 layer (both ways, depth multiplier 1) whose five window rows
 * iy .. iy + 4 lie inside the input: the middle one is both rows' window row, so a column pair
 * takes ten loads for two outputs (twelve one row at a time), and one pointer reaches them,
 * walking up the middle column of a window and down its last one (the next window's first),
 * rb bytes per row and c per column: an add per load, one pointer in registers. The rows'
 * setup is paid once. Returns the output pointer at the rows' last window when it has a padded
 * column (pp->right), its sums without that column in *e0 (first row) and *e1 (second). */
NML_OPT_INLINE int8_t *s2_pairs(rows3 *pp, int32_t iy, int32_t w00, int32_t w01, int32_t w02,
                                int32_t w10, int32_t w11, int32_t w12, int32_t w20, int32_t w21,
                                int32_t w22, uint32_t bias, const volatile neg_rq *nq,
                                uint32_t mult, uint32_t k2, int32_t sh, int32_t hi, int c1,
                                uint32_t *e0, uint32_t *e1) {
    const int32_t rb = pp->row_bytes, c = pp->c, orow = pp->out_row;
    const int8_t *q = pp->in + iy * rb;
    int8_t *o = pp->out;
    int8_t *const end = o + pp->full_bytes;
    pp->top = iy + 4;
    pp->out = o + 2 * orow;
    uint32_t ba, bb; /* the two rows' sums of the window's columns loaded so far */
    int32_t x;
    if (pp->left) {
        ba = bb = bias + pp->lcol;
        q += 4 * rb;
    } else { /* the first column, down: the first windows' first column */
        x = *q, q += rb, ba = bias + w00 * x;
        OPAQUE(q);
        x = *q, q += rb, ba += w10 * x;
        OPAQUE(q);
        x = *q, q += rb, ba += w20 * x, bb = bias + w00 * x;
        OPAQUE(q);
        x = *q, q += rb, bb += w10 * x;
        OPAQUE(q);
        x = *q, q += c, bb += w20 * x;
    }
    /* a window's middle column, up from the fifth row to the first */
#define S2_MIDDLE()                                                                              \
    do {                                                                                         \
        x = *q, q -= rb, bb += w21 * x;                                                          \
        x = *q, q -= rb, bb += w11 * x;                                                          \
        x = *q, q -= rb, bb += w01 * x, ba += w21 * x;                                           \
        x = *q, q -= rb, ba += w11 * x;                                                          \
        x = *q, q += c, ba += w01 * x;                                                           \
    } while (0)
    while (o != end) {
        S2_MIDDLE();
        /* the last column, down: the windows' sums, and the next windows' first column */
        uint32_t a, b;
        OPAQUE(q);
        x = *q, q += rb, a = ba + w02 * x, ba = bias + w00 * x;
        OPAQUE(q);
        x = *q, q += rb, a += w12 * x, ba += w10 * x;
        OPAQUE(q);
        x = *q, q += rb, a += w22 * x, ba += w20 * x, b = bb + w02 * x, bb = bias + w00 * x;
        OPAQUE(q);
        x = *q, q += rb, b += w12 * x, bb += w10 * x;
        OPAQUE(q);
        x = *q, q += c, b += w22 * x, bb += w20 * x;
        rq_store(o, nq, a, mult, k2, sh, hi, c1);
        rq_store(o + orow, nq, b, mult, k2, sh, hi, c1);
        o += c;
    }
    if (pp->right) S2_MIDDLE(); /* the last windows' middle column (the last is padding) */
#undef S2_MIDDLE
    *e0 = ba, *e1 = bb;
    return o;
}

/* c1 (constant per caller): the loop for one input channel with stride 2, the stride-2 row
 * pairs (s2_pairs) and the ReLU shortcut of rq_store are linked (not in the rows-and-5-wide
 * variant: FastestDet's code stays smaller) */
NML_OPT_INLINE void rows_3x3_body(rows3 *arg, int c1) {
    /* *pp is reached through a volatile slot in the loops, so that gcc gives the register to a
     * weight (it would keep pp in one for the outputs' rare branches and spill two weights) */
    rows3 *volatile slot = arg;
    rows3 *pp = arg;
    volatile neg_rq nq;
    nq.lo = pp->lo;
next_channel:
    pp = slot;
    const int8_t *f = rows_channel(pp);
    if (!f) return;
    ROWS_WEIGHTS(pp, f);
    const uint32_t mult = pp->mult, k2 = pp->k2;
    const int32_t sh = pp->sh;
    /* k2n = 0 marks ReLU-like ranges (rq_store; k2n is odd otherwise); the rows-and-5-wide
     * variant (c1 = 0) tests no ReLU shortcut */
    nq.k2n = c1 && pp->relu ? 0 : pp->k2n;
    const int32_t hi = pp->hi, c = pp->c;
    /* the row loop's state lives in *pp (top, out): registers are short in the loops below */
    for (;; pp = slot) {
        if (pp->out == pp->out_end) break;
        const int32_t iy = pp->top, rb = pp->row_bytes;
        int8_t *o;
        uint32_t e0, e1 = 0; /* the right edges' sums */
        int32_t next;
        if ((uint32_t)iy < (uint32_t)pp->pair_top) {
            if (c1 && pp->stride2) { /* stride-2 pairs (s2_pairs) */
                o = s2_pairs(pp, iy, w00, w01, w02, w10, w11, w12, w20, w21, w22, bias, &nq,
                             mult, k2, sh, hi, c1, &e0, &e1);
                pp = slot;
                if (!pp->right) continue;
                next = pp->out_row;
                goto right_edge;
            }
            /* two output rows whose four window rows lie inside the input, rb bytes apart;
             * input and output pixels are c bytes apart, input and output rows rb */
            const int8_t *r = pp->in + iy * rb, *q;
            o = pp->out;
            /* in memory: a register for the sums */
            int8_t *volatile const end = o + pp->full_bytes;
            pp->top = iy + 2;
            pp->out = o + 2 * rb;
            int32_t x0, x1, x2, x3;
#define LOAD_COLUMN()                                                                            \
    do {                                                                                         \
        x0 = *r, q = r + rb;                                                                     \
        OPAQUE(q);                                                                               \
        x1 = *q, q += rb;                                                                        \
        OPAQUE(q);                                                                               \
        x2 = *q, q += rb, x3 = *q, r += c;                                                       \
        OPAQUE(r);                                                                               \
    } while (0)
            /* output rows as long as input rows: one padded column on either side */
            uint32_t ba = bias + pp->lcol, bb = ba; /* the windows from the last column on */
            LOAD_COLUMN(); /* a: the outputs before b */
            uint32_t aa = ba + w01 * x0 + w11 * x1 + w21 * x2;
            uint32_t ab = bb + w01 * x1 + w11 * x2 + w21 * x3;
            ba = bias + w00 * x0 + w10 * x1 + w20 * x2;
            bb = bias + w00 * x1 + w10 * x2 + w20 * x3;
            if (o != end) do { /* bottom-tested: one branch per column */
                LOAD_COLUMN();
                const uint32_t acc_a = aa + w02 * x0 + w12 * x1 + w22 * x2;
                const uint32_t acc_b = ab + w02 * x1 + w12 * x2 + w22 * x3;
                aa = ba + w01 * x0 + w11 * x1 + w21 * x2;
                ab = bb + w01 * x1 + w11 * x2 + w21 * x3;
                ba = bias + w00 * x0 + w10 * x1 + w20 * x2;
                bb = bias + w00 * x1 + w10 * x2 + w20 * x3;
                rq_store(o, &nq, acc_a, mult, k2, sh, hi, c1);
                rq_store(o + rb, &nq, acc_b, mult, k2, sh, hi, c1);
                o += c;
            } while (o != end);
#undef LOAD_COLUMN
            e0 = aa, e1 = ab, next = rb;
            goto right_edge;
        }
        const int8_t *r0, *r1, *r2;
        /* the window rows inside the input (most rows): 0 <= iy < h - 2 (an input of one row
         * has no iy >= 0: a 3x3 window over it is padded, iy = -1) */
        if ((uint32_t)iy < (uint32_t)(pp->h - 2)) {
            r0 = pp->in + iy * rb, r1 = r0 + rb, r2 = r1 + rb;
        } else if (pp->edge2) {
            /* the first or last output row of a SAME stride-1 layer (depth multiplier 1, at
             * least two rows): one window row is padding, whose products are the constant zp
             * times its weights (folded into be), so two input rows and six weights remain: the
             * middle window row (ra, weights w1*) and the other one inside (rz, weights w2*).
             * The last row's top window row takes the bottom weights' place: w2* are not used
             * again for the channel (its last row), so no registers are needed for the swap */
            const int8_t *ra = pp->in + (iy + 1) * rb, *rz = ra + rb;
            int32_t pad_sum = w00 + w01 + w02, pad_r = w02; /* pad_r: its last column's */
            if (iy >= 0) {
                rz = ra - rb;
                pad_sum = w20 + w21 + w22, pad_r = w22;
                w20 = w00, w21 = w01, w22 = w02;
            }
            const int32_t zp = pp->zp;
            o = pp->out;
            int8_t *const end = o + pp->full_bytes; /* c == out_step, as for the pairs */
            pp->top = iy + 1;
            pp->out = o + pp->out_row;
            /* be: bias and the padded row's sum */
            const uint32_t be = bias + (uint32_t)zp * (uint32_t)pad_sum;
            int32_t x0 = *ra, x1 = *rz;
            uint32_t a = be + (uint32_t)zp * (uint32_t)(w10 + w20) + w11 * x0 + w21 * x1;
            uint32_t b = be + w10 * x0 + w20 * x1;
            ra += c, rz += c;
            if (o != end) do {
                    x0 = *ra, x1 = *rz;
                    ra += c, rz += c;
                    OPAQUE(ra);
                    OPAQUE(rz);
                    const uint32_t acc = a + w12 * x0 + w22 * x1;
                    a = b + w11 * x0 + w21 * x1;
                    b = be + w10 * x0 + w20 * x1;
                    rq_store(o, &nq, acc, mult, k2, sh, hi, c1);
                    o += c;
                } while (o != end);
            /* the padded last column: right_edge adds rcol, zp times the column's weights, of
             * which the padded row's is in be already */
            e0 = a - (uint32_t)zp * (uint32_t)pad_r, next = 0;
            goto right_edge;
        } else {
            r0 = row_at(pp, iy), r1 = row_at(pp, iy + 1), r2 = row_at(pp, iy + 2);
        }
        o = pp->out;
        const int32_t s = pp->out_step; /* per row: a register in these loops only */
        int8_t *const end = o + pp->full_bytes;
        pp->top = iy + pp->stride_h;
        pp->out = o + pp->out_row;
        uint32_t b; /* the output whose window starts at the last loaded column */
        if (pp->left) {
            b = bias + pp->lcol;
        } else {
            b = bias + w00 * *r0 + w10 * *r1 + w20 * *r2;
            r0 += c, r1 += c, r2 += c;
        }
        if (!pp->stride2) {
            int32_t x0 = *r0, x1 = *r1, x2 = *r2; /* a: the output before b */
            uint32_t a = b + w01 * x0 + w11 * x1 + w21 * x2;
            b = bias + w00 * x0 + w10 * x1 + w20 * x2;
            r0 += c, r1 += c, r2 += c;
            if (o != end) do {
                    x0 = *r0, x1 = *r1, x2 = *r2;
                    r0 += c, r1 += c, r2 += c;
                    OPAQUE(r0);
                    OPAQUE(r1);
                    OPAQUE(r2);
                    const uint32_t acc = a + w02 * x0 + w12 * x1 + w22 * x2;
                    a = b + w01 * x0 + w11 * x1 + w21 * x2;
                    b = bias + w00 * x0 + w10 * x1 + w20 * x2;
                    rq_store(o, &nq, acc, mult, k2, sh, hi, c1);
                    o += s;
                } while (o != end);
            b = a; /* the last window, if its third column is padding */
            pp = slot;
        } else {
            /* two columns per output, c bytes apart: with one input channel (a first layer over
             * a grayscale image, depth multiplier > 1) at an immediate offset, an add less per
             * row and output */
#define STRIDE2_LOOP(step)                                                                       \
    if (o != end) do {                                                                           \
            b += w01 * *r0 + w11 * *r1 + w21 * *r2;                                              \
            const int32_t x0 = r0[step], x1 = r1[step], x2 = r2[step];                           \
            r0 += 2 * (step), r1 += 2 * (step), r2 += 2 * (step);                                \
            OPAQUE(r0);                                                                          \
            OPAQUE(r1);                                                                          \
            OPAQUE(r2);                                                                          \
            const uint32_t acc = b + w02 * x0 + w12 * x1 + w22 * x2;                             \
            b = bias + w00 * x0 + w10 * x1 + w20 * x2;                                           \
            rq_store(o, &nq, acc, mult, k2, sh, hi, c1);                                           \
            o += s;                                                                              \
        } while (o != end)
            if (c1 && c == 1) {
                STRIDE2_LOOP(1);
            } else {
                STRIDE2_LOOP(c);
            }
#undef STRIDE2_LOOP
            pp = slot;
            if (!pp->right) continue; /* one test of right per row */
            b += w01 * *r0 + w11 * *r1 + w21 * *r2;
        }
        if (!pp->right) continue;
        e0 = b, next = 0;
      right_edge: /* the last window of the row (and of the pair's second row, next bytes on) */
        for (;;) {
            pp = slot;
            rq_store(o, &nq, e0 + pp->rcol, mult, k2, sh, hi, c1);
            if (!next) break;
            o += next, e0 = e1, next = 0;
        }
    }
    goto next_channel;
}

/* gcc -Os merges the two output branches' common tail (cross-jumping), which costs every
 * output a jump; the attribute keeps the tails apart (gcc only). */
#if defined(__GNUC__) && !defined(__clang__)
#define ROWS_ATTR __attribute__((noinline, optimize("no-crossjumping")))
#elif defined(__GNUC__)
#define ROWS_ATTR __attribute__((noinline))
#else
#define ROWS_ATTR
#endif
ROWS_ATTR static void rows_3x3(rows3 *arg) {
    rows_3x3_body(arg, 0);
}

ROWS_ATTR static void rows_3x3_c1(rows3 *arg) {
    rows_3x3_body(arg, 1);
}
#undef ROWS_ATTR

/* A plane's outputs of a 5-wide filter (stride 1 along x, no horizontal dilation, any height),
 * eight adjacent outputs at a time (the last four of a row alone: their neighbours' sums are
 * dropped): per filter row its five weights are loaded once and twelve activations feed 40
 * multiply-adds (instead of a weight and an activation load per multiply-add). The weights are
 * doubled and the sums start at the doubled bias, so they are the doubled form's 2 * acc
 * (opt_common.h) as they come out of the loop. Columns past the last multiple of four are left
 * to plane_any. */
/* The doubled form's parameters for sums of 2 * acc (put_acc2). */
typedef struct rq2 {
    uint32_t mult, k2, k2n;
    int32_t sh, lo, hi;
} rq2;

typedef struct plane5 {
    const int8_t *plane;
    int32_t row_step, y_tap, kh, out_h, quads;
    int8_t *out;
    int32_t out_row, out_step; /* output pointer steps: per row, per pixel */
    uint32_t bias2;            /* 2 * bias, wrapping like the reference's int32 sums */
    rq2 q; /* k2n: k2 with the [acc < 0] term (-2 when r >= 1); sh = r + 1 */
} plane5;

NML_OPT_INLINE void put_out(int8_t *o, int32_t acc, int32_t bias, nml_rq_ch ch, int32_t lo,
                            int32_t hi) {
    *o = nml_rq_clamp(nml_rq_apply(nml_add_wrap(acc, bias), ch), lo, hi);
}

/* The doubled form from acc2 = 2 * acc. The activation range holds the output zero point
 * (five_fit), and the requantization is monotonic with the zero point at acc = 0, so sums
 * >= 0 only clamp at hi and negative ones only at lo. 2 * acc may wrap only for a channel with
 * a zero multiplier (nml_rq_doubled_fits), whose output is the zero point either way. */
NML_OPT_INLINE void put_acc2(int8_t *o, uint32_t acc2, rq2 q) {
    const uint32_t x = (uint32_t)((uint64_t)((int64_t)(int32_t)acc2 * (int64_t)q.mult) >> 32);
    int32_t y;
    if (LIKELY((int32_t)acc2 >= 0)) {
        y = (int32_t)(x + q.k2) >> q.sh;
        if (y > q.hi) y = q.hi;
    } else {
        y = (int32_t)(x + q.k2n) >> q.sh;
        if (y < q.lo) y = q.lo;
    }
    *(uint8_t *)o = (uint8_t)y; /* unsigned: gcc would sign-extend first */
}

#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noinline, optimize("no-tree-reassoc")))
#elif defined(__GNUC__)
__attribute__((noinline))
#endif
static void
plane_5wide(plane5 *pp, const int32_t *wk) {
    const int8_t *base = pp->plane;
    int8_t *orow = pp->out;
    for (int32_t oy = pp->out_h; oy > 0; oy--, base += pp->row_step, orow += pp->out_row) {
        const int8_t *col = base;
        int8_t *o = orow;
        for (int32_t q = pp->quads; q > 0; q -= 2, col += 8) {
            const int8_t *row = col;
            const int32_t *w = wk;
            const int32_t y_tap = pp->y_tap;
            int32_t kh = pp->kh;
            /* |a| <= 2 * 128 * 128 * taps: no overflow; a4..a7 of a last single quad read up to
             * four bytes past the plane's row (the plane has four spare bytes) and are dropped */
            uint32_t a0 = pp->bias2, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
                     a7 = a0;
            do {
                const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4];
                int32_t x = row[0];
                a0 += w0 * x;
                x = row[1], a0 += w1 * x, a1 += w0 * x;
                x = row[2], a0 += w2 * x, a1 += w1 * x, a2 += w0 * x;
                x = row[3], a0 += w3 * x, a1 += w2 * x, a2 += w1 * x, a3 += w0 * x;
                x = row[4], a0 += w4 * x, a1 += w3 * x, a2 += w2 * x, a3 += w1 * x;
                a4 += w0 * x;
                x = row[5], a1 += w4 * x, a2 += w3 * x, a3 += w2 * x, a4 += w1 * x;
                a5 += w0 * x;
                x = row[6], a2 += w4 * x, a3 += w3 * x, a4 += w2 * x, a5 += w1 * x;
                a6 += w0 * x;
                x = row[7], a3 += w4 * x, a4 += w3 * x, a5 += w2 * x, a6 += w1 * x;
                a7 += w0 * x;
                x = row[8], a4 += w4 * x, a5 += w3 * x, a6 += w2 * x, a7 += w1 * x;
                x = row[9], a5 += w4 * x, a6 += w3 * x, a7 += w2 * x;
                x = row[10], a6 += w4 * x, a7 += w3 * x;
                x = row[11], a7 += w4 * x;
                row += y_tap, w += 5;
            } while (--kh);
            /* the output parameters are read here, after the taps, from memory: kept in
             * registers across the loop above they would push the weights out of them;
             * requantized from registers (through an array it costs 6 more per output) */
            const int32_t s = pp->out_step;
            const rq2 r = pp->q;
            put_acc2(o, a0, r), put_acc2(o + s, a1, r);
            o += 2 * s;
            put_acc2(o, a2, r), put_acc2(o + s, a3, r);
            o += 2 * s;
            if (q == 1) break;
            put_acc2(o, a4, r), put_acc2(o + s, a5, r);
            o += 2 * s;
            put_acc2(o, a6, r), put_acc2(o + s, a7, r);
            o += 2 * s;
        }
    }
}

/* The requantization the 5-wide planes take: the doubled fast form, with an activation range
 * that holds the output zero point (every fused activation's does). */
static int five_rq(const nml_rq *rq, uint8_t doubled) {
    return rq->fast && doubled && rq->act_min <= rq->out_zp && rq->act_max >= rq->out_zp;
}

static int five_wide(const geom *g) {
    const nml_window *win = g->win;
    return g->kw == 5 && win->dilation_w == 1 && win->stride_w == 1 && g->out_w >= 4 &&
           five_rq(g->rq, g->doubled);
}

/* Any filter size, stride and dilation (columns from first_col on). */
static void plane_any(const geom *g, const int8_t *plane, const int32_t *wk, int32_t bias,
                      nml_rq_ch ch, int32_t c, int8_t *out, int32_t first_col) {
    const nml_window *win = g->win;
    const int32_t pw = g->plane_w, x_tap = win->dilation_w, y_tap = win->dilation_h * pw;
    for (int32_t oy = 0; oy < g->out_h; oy++) {
        int32_t ox = first_col;
        for (; ox < g->out_w; ox++) {
            const int8_t *row = plane + oy * win->stride_h * pw + ox * win->stride_w;
            const int32_t *w = wk;
            int32_t acc = 0;
            for (int32_t ky = 0; ky < g->kh; ky++, row += y_tap) {
                const int8_t *q = row;
                for (int32_t kx = 0; kx < g->kw; kx++, q += x_tap)
                    acc += *w++ * *q;
            }
            out[(oy * g->out_w + ox) * g->out_c] = requant(g->rq, ch, c, nml_add_wrap(acc, bias));
        }
    }
}

/* The weights of output channel oc as int32 (wk), times 2^dbl, and its bias with the input zero
 * point folded in: bias - zp * sum w, wrapping like the reference's int32 arithmetic. rows5
 * (constant per caller): 5-wide filters only, no taps past the rows of five. */
static int32_t load_weights(const geom *g, int32_t *wk, int32_t oc, int dbl, int rows5) {
    const int32_t taps = g->kh * g->kw, out_c = g->out_c, scale = 1 << dbl;
    int32_t sum = 0;
    const int8_t *f = g->filter + oc;
    int32_t t = 0;
    for (; t + 5 <= taps; t += 5, f += 5 * out_c) { /* a filter row of 5x5, 5 per step */
        const int8_t *q = f;
        const int32_t v0 = *q, v1 = *(q += out_c), v2 = *(q += out_c), v3 = *(q += out_c),
                      v4 = *(q += out_c);
        wk[t] = v0 * scale, wk[t + 1] = v1 * scale, wk[t + 2] = v2 * scale;
        wk[t + 3] = v3 * scale, wk[t + 4] = v4 * scale;
        sum += v0 + v1 + v2 + v3 + v4;
    }
    for (; !rows5 && t < taps; t++, f += out_c) {
        const int32_t v = *f;
        wk[t] = v * scale;
        sum += v;
    }
    return nml_add_wrap(g->bias ? g->bias[oc] : 0, -g->zp * sum);
}

/* Output channel oc (input channel oc / mult) over the plane in scratch; tap_loop (constant per
 * caller): plane_any is linked (0: the variant that only takes 5-wide planes of 4k columns). */
NML_OPT_INLINE void plane_channel(const geom *g, plane5 *pp, int32_t *wk, int32_t b, int32_t oc,
                                  int tap_loop) {
    const int five = !tap_loop || five_wide(g); /* without the tap loop: 5-wide (rows5) */
    const int32_t bias = load_weights(g, wk, oc, five, !tap_loop), out_c = g->out_c;
    int8_t *out = g->out + (size_t)b * g->out_h * g->out_w * out_c + oc;
    /* without the tap loop the requantization is fast (five_rq) */
    const nml_rq_ch ch =
        !tap_loop || g->rq->fast ? nml_rq_channel(g->rq, oc) : (nml_rq_ch){0, 0, 0, 0};
    const int8_t *plane = pp->plane;
    int32_t first_col = 0;
    if (five) {
        /* the channel's fields (planes_body set the layer's) */
        const uint32_t k2 = 1 + 2 * ch.khi;
        pp->out = out;
        pp->bias2 = (uint32_t)bias << 1;
        pp->q.mult = ch.mult;
        pp->q.k2 = k2;
        pp->q.k2n = k2 + (ch.neg_mask & ~1u);
        pp->q.sh = ch.r + 1;
        plane_5wide(pp, wk);
        first_col = g->out_w & ~3;
        /* the columns left over: plane_any takes the weights as they are */
        if (tap_loop && first_col < g->out_w) load_weights(g, wk, oc, 0, 0);
    }
    if (tap_loop && first_col < g->out_w) plane_any(g, plane, wk, bias, ch, oc, out, first_col);
}

/* Each input channel's plane once, then the mult output channels it feeds. */
NML_OPT_INLINE void planes_body(const geom *g, int8_t *scratch, int tap_loop) {
    const int32_t taps = g->kh * g->kw;
    int32_t *wk = (int32_t *)(void *)scratch;
    int8_t *plane = scratch + (size_t)taps * sizeof *wk;
    nml_opt_fill(plane, (uint8_t)(int8_t)g->zp, (uint32_t)(g->plane_h * g->plane_w + 4));
    /* plane_5wide's parameters that hold for the layer, set once */
    plane5 pp;
    pp.plane = plane;
    pp.row_step = g->win->stride_h * g->plane_w;
    pp.y_tap = g->win->dilation_h * g->plane_w;
    pp.kh = g->kh;
    pp.out_h = g->out_h;
    pp.quads = g->out_w >> 2;
    pp.out_row = g->out_w * g->out_c;
    pp.out_step = g->out_c;
    pp.q.lo = g->rq->act_min;
    pp.q.hi = g->rq->act_max;
    for (int32_t b = 0; b < g->batches; b++) {
        for (int32_t c = 0; c < g->c; c++) {
            fill_plane(g, plane, b, c);
            for (int32_t m = 0; m < g->mult; m++)
                plane_channel(g, &pp, wk, b, c * g->mult + m, tap_loop);
        }
    }
}

static void dw_planes(const geom *g, int8_t *scratch) {
    planes_body(g, scratch, 1);
}

/* 5-wide windows over 4k output columns only (rows_five_fit). */
static void dw_planes_five(const geom *g, int8_t *scratch) {
    planes_body(g, scratch, 0);
}

/* Every output channel by rows_3x3; scratch: a row of input zero points. */
NML_OPT_INLINE void dw_rows(const geom *g, int8_t *zrow, int c1) {
    const nml_window *win = g->win;
    const int32_t row_bytes = g->w * g->c;
    rows3 pp;
    pp.zrow = zrow;
    pp.h = g->h;
    pp.zp = g->zp;
    pp.row_bytes = row_bytes;
    pp.c = g->c;
    pp.stride_h = win->stride_h;
    pp.stride2 = (uint8_t)(win->stride_w == 2);
    pp.left = (uint8_t)(win->pad_w > 0);
    pp.right = (uint8_t)((g->out_w - 1) * win->stride_w - win->pad_w + 3 > g->w);
    pp.full_bytes = (g->out_w - pp.right) * g->out_c;
    pp.out_row = g->out_w * g->out_c;
    pp.out_step = g->out_c;
    pp.lo = g->rq->act_min;
    pp.hi = g->rq->act_max;
    if (c1) pp.relu = (uint8_t)(pp.lo == g->rq->out_zp); /* rq_store's ReLU test is c1's */
    /* pairs: stride 1, depth multiplier 1 and output rows as long as input rows (SAME: one
     * padded row and column on every side, so the second row of a pair whose four window rows
     * lie inside the input exists) */
    const int same1 = win->stride_h == 1 && win->stride_w == 1 && win->pad_h == 1 &&
                      g->mult == 1 && pp.out_row == row_bytes;
    pp.pair_top = same1 && g->h > 3 ? g->h - 3 : 0;
    /* stride 2 both ways and depth multiplier 1 (not in the rows-and-5-wide variant: code
     * size): pairs where the five window rows lie inside the input, a second output row below */
    if (c1 && win->stride_h == 2 && win->stride_w == 2 && g->mult == 1) {
        int32_t s2_top = (g->out_h - 1) * 2 - win->pad_h;
        if (s2_top > g->h - 4) s2_top = g->h - 4;
        if (s2_top > 0) pp.pair_top = s2_top;
    }
    pp.edge2 = (uint8_t)(same1 && g->h >= 2);
    pp.g = g;
    pp.out_plane = g->out_h * pp.out_row;
    pp.top0 = -win->pad_h;
    /* the row of zero points, read (row_at) only where a window row is padding: VALID layers
     * over a padded input (FastestDet's stride-2 layers) skip it. SAME pads the bottom at least
     * as much as the top (nml_window_init), so a padded top row implies a padded bottom one. */
    if ((g->out_h - 1) * win->stride_h - win->pad_h + 3 > g->h)
        nml_opt_fill(zrow, (uint8_t)(int8_t)g->zp, (uint32_t)row_bytes);
    pp.in_b = g->in;
    pp.out_b = g->out;
    for (int32_t b = g->batches; b > 0; b--) { /* rows_3x3 per batch: its channel loop is simpler */
        pp.oc = 0;
        if (c1)
            rows_3x3_c1(&pp);
        else
            rows_3x3(&pp);
        pp.in_b += g->h * row_bytes;
        pp.out_b += pp.out_plane;
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
typedef struct tap_walk {
    int32_t rows, taps, x_step, x_row, w_step, w_row;
} tap_walk;

/* acc[2*j + k] = sum over the taps of w[j] * (x_k - zp) for four adjacent output channels j
 * and two pixels k; sub (constant per caller) = 0 leaves the zero point out (planes fold it
 * into the bias). */
NML_OPT_INLINE void taps_4x2_body(const int8_t *x0, const int8_t *x1, const int8_t *w,
                                  const tap_walk *t, int32_t zp, int32_t acc[8], int sub) {
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0, a30 = 0, a31 = 0;
    const int32_t x_step = t->x_step, w_step = t->w_step;
    int32_t r = t->rows;
    if (r > 0 && t->taps > 0) do { /* bottom-tested loops: one branch per iteration */
            const int8_t *q0 = x0, *q1 = x1, *wk = w;
            int32_t n = t->taps;
            do {
                const int32_t xa = sub ? *q0 - zp : *q0, xb = sub ? *q1 - zp : *q1;
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

/* Out of line so that its accumulators and pointers get the registers to themselves. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
taps_4x2(const int8_t *x0, const int8_t *x1, const int8_t *w, const tap_walk *t, int32_t zp,
         int32_t acc[8]) {
    taps_4x2_body(x0, x1, w, t, zp, acc, 1);
}

/* The same without the zero point (windows inside the input: folded into the bias). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
inner_taps_4x2(const int8_t *x0, const int8_t *x1, const int8_t *w, const tap_walk *t,
               int32_t acc[8]) {
    taps_4x2_body(x0, x1, w, t, 0, acc, 0);
}

/* The same for one pixel (acc[2*j]): pixels whose windows are clipped unlike their
 * neighbour's. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
taps_4x1(const int8_t *x0, const int8_t *w, const tap_walk *t, int32_t zp, int32_t acc[8]) {
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
static void taps_1x2(const int8_t *x0, const int8_t *x1, const int8_t *w, const tap_walk *t,
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
static void store_block(const geom *g, const int32_t *bias, int32_t oc, int32_t n,
                        const int32_t *acc, int8_t *oa, int8_t *ob) {
    for (int32_t j = 0; j < n; j++) {
        int32_t va = acc[2 * j], vb = acc[2 * j + 1];
        if (bias) {
            va = nml_add_wrap(va, bias[oc + j]);
            vb = nml_add_wrap(vb, bias[oc + j]);
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
    tap_walk t;
    t.rows = pa->ky1 - pa->ky0;
    t.taps = pa->kx1 - pa->kx0;
    t.x_step = g->win->dilation_w * g->c;
    t.x_row = g->win->dilation_h * g->w * g->c;
    t.w_step = g->out_c;
    t.w_row = g->kw * g->out_c;
    const int8_t *w0 = g->filter + (pa->ky0 * g->kw + pa->kx0) * g->out_c;
    const int whole = t.rows == g->kh && t.taps == g->kw; /* inside the input */
    int32_t acc[8];
    for (int32_t ic = 0; ic < g->c; ic++) {
        const int8_t *xa = pa->x + ic, *xb = pb ? pb->x + ic : NULL;
        int32_t j = 0;
        for (; j + 4 <= m; j += 4) {
            const int32_t oc = ic * m + j;
            if (pb && whole) {
                inner_taps_4x2(xa, xb, w0 + oc, &t, acc);
                store_block(g, g->folded, oc, 4, acc, oa, ob);
                continue;
            }
            if (pb)
                taps_4x2(xa, xb, w0 + oc, &t, g->zp, acc);
            else
                taps_4x1(xa, w0 + oc, &t, g->zp, acc);
            store_block(g, g->bias, oc, 4, acc, oa, pb ? ob : NULL);
        }
        for (; j < m; j++) {
            const int32_t oc = ic * m + j;
            taps_1x2(xa, pb ? xb : xa, w0 + oc, &t, g->zp, acc);
            store_block(g, g->bias, oc, 1, acc, oa, pb ? ob : NULL);
        }
    }
}

/* One pixel, eight adjacent output channels (acc[j]): a tap's activation is loaded once for
 * eight multiply-adds whose weights lie side by side. The pixels of one input channel that the
 * wide region leaves (windows clipped by the padding along x). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
taps_8x1(const int8_t *x0, const int8_t *w, const tap_walk *t, int32_t zp, int32_t acc[8]) {
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    const int32_t x_step = t->x_step, w_step = t->w_step;
    int32_t r = t->rows;
    if (r > 0 && t->taps > 0) do {
            const int8_t *q = x0, *wk = w;
            int32_t n = t->taps;
            do {
                const int32_t xa = *q - zp;
                a0 += wk[0] * xa, a1 += wk[1] * xa, a2 += wk[2] * xa, a3 += wk[3] * xa;
                a4 += wk[4] * xa, a5 += wk[5] * xa, a6 += wk[6] * xa, a7 += wk[7] * xa;
                q += x_step, wk += w_step;
            } while (--n);
            x0 += t->x_row, w += t->w_row;
        } while (--r);
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
    acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
}

/* Every output channel of pixel a, eight at a time (one input channel, out_c a multiple of 8). */
static void dw_edge(const geom *g, const win_part *pa, int8_t *oa) {
    tap_walk t;
    t.rows = pa->ky1 - pa->ky0;
    t.taps = pa->kx1 - pa->kx0;
    t.x_step = g->win->dilation_w;
    t.x_row = g->win->dilation_h * g->w;
    t.w_step = g->out_c;
    t.w_row = g->kw * g->out_c;
    const int8_t *w0 = g->filter + (pa->ky0 * g->kw + pa->kx0) * g->out_c;
    int32_t acc[8];
    for (int32_t oc = 0; oc < g->out_c; oc += 8) {
        taps_8x1(pa->x, w0 + oc, &t, g->zp, acc);
        for (int32_t j = 0; j < 8; j++) {
            const int32_t v = g->bias ? nml_add_wrap(acc[j], g->bias[oc + j]) : acc[j];
            oa[oc + j] = requant(g->rq, nml_rq_channel(g->rq, oc + j), oc + j, v);
        }
    }
}

static void next_pixel(const geom *g, int32_t *b, int32_t *y, int32_t *x) {
    if (++*x == g->out_w) {
        *x = 0;
        if (++*y == g->out_h) *y = 0, ++*b;
    }
}

/* folded[oc] = bias[oc] - zp * (sum of channel oc's weights), for windows inside the input. */
static void fold_biases(const geom *g, int32_t *folded) {
    const int32_t taps = g->kh * g->kw, out_c = g->out_c;
    for (int32_t oc = 0; oc < out_c; oc++) {
        int32_t sum = 0;
        const int8_t *f = g->filter + oc;
        for (int32_t t = 0; t < taps; t++, f += out_c)
            sum += *f;
        folded[oc] = nml_add_wrap(g->bias ? g->bias[oc] : 0, -g->zp * sum);
    }
}

/* ---- one input channel, 8-wide windows with stride 2 along x (micro_speech) ---- */

/* With a single input channel the input is itself a plane: windows inside it are read in place,
 * consecutive pixels one byte apart. Eight adjacent outputs of one output channel at a time:
 * per filter row its eight weights are loaded once and 22 activations feed 64 multiply-adds
 * (the blocks below load a weight per two multiply-adds). The other pixels (windows clipped by
 * the padding, the columns left over) take the blocks. */
/* the tallest filter whose clipped rows dw_wide sums from a table on the stack */
#define WIDE_MAX_KH 16

typedef struct wide8 {
    const int8_t *x; /* the first window's top-left input byte */
    int32_t kh, row_step;
    int8_t *out;
    int32_t out_step, bias, lo, hi; /* bias: with the zero point folded in */
} wide8;

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
wide_8x2(const wide8 *pp, const int8_t *wk, const nml_rq_ch *chp) {
    const int8_t *row = pp->x, *w = wk;
    const int32_t row_step = pp->row_step;
    int32_t kh = pp->kh;
    /* |a| <= 128 * 128 * taps: no overflow; the folded bias wraps like the reference */
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    do {
        const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
        const int32_t w6 = w[6], w7 = w[7];
        int32_t x;
        x = row[0], a0 += w0 * x;
        x = row[1], a0 += w1 * x;
        x = row[2], a0 += w2 * x, a1 += w0 * x;
        x = row[3], a0 += w3 * x, a1 += w1 * x;
        x = row[4], a0 += w4 * x, a1 += w2 * x, a2 += w0 * x;
        x = row[5], a0 += w5 * x, a1 += w3 * x, a2 += w1 * x;
        x = row[6], a0 += w6 * x, a1 += w4 * x, a2 += w2 * x, a3 += w0 * x;
        x = row[7], a0 += w7 * x, a1 += w5 * x, a2 += w3 * x, a3 += w1 * x;
        x = row[8], a1 += w6 * x, a2 += w4 * x, a3 += w2 * x, a4 += w0 * x;
        x = row[9], a1 += w7 * x, a2 += w5 * x, a3 += w3 * x, a4 += w1 * x;
        x = row[10], a2 += w6 * x, a3 += w4 * x, a4 += w2 * x, a5 += w0 * x;
        x = row[11], a2 += w7 * x, a3 += w5 * x, a4 += w3 * x, a5 += w1 * x;
        x = row[12], a3 += w6 * x, a4 += w4 * x, a5 += w2 * x, a6 += w0 * x;
        x = row[13], a3 += w7 * x, a4 += w5 * x, a5 += w3 * x, a6 += w1 * x;
        x = row[14], a4 += w6 * x, a5 += w4 * x, a6 += w2 * x, a7 += w0 * x;
        x = row[15], a4 += w7 * x, a5 += w5 * x, a6 += w3 * x, a7 += w1 * x;
        x = row[16], a5 += w6 * x, a6 += w4 * x, a7 += w2 * x;
        x = row[17], a5 += w7 * x, a6 += w5 * x, a7 += w3 * x;
        x = row[18], a6 += w6 * x, a7 += w4 * x;
        x = row[19], a6 += w7 * x, a7 += w5 * x;
        x = row[20], a7 += w6 * x;
        x = row[21], a7 += w7 * x;
        row += row_step, w += 8;
    } while (--kh);
    const nml_rq_ch ch = *chp;
    const int32_t bias = pp->bias, lo = pp->lo, hi = pp->hi, s = pp->out_step;
    int8_t *o = pp->out;
    put_out(o, a0, bias, ch, lo, hi), put_out(o + s, a1, bias, ch, lo, hi);
    o += 2 * s;
    put_out(o, a2, bias, ch, lo, hi), put_out(o + s, a3, bias, ch, lo, hi);
    o += 2 * s;
    put_out(o, a4, bias, ch, lo, hi), put_out(o + s, a5, bias, ch, lo, hi);
    o += 2 * s;
    put_out(o, a6, bias, ch, lo, hi), put_out(o + s, a7, bias, ch, lo, hi);
}

/* Output pixels [y0, y1) x [x0, x0 + 8 * octs) of every batch whose windows lie inside the input
 * along x and have at least one filter row inside it (rows clipped by the top or bottom padding
 * read only their filter rows inside), or octs = 0. */
typedef struct wide_region {
    int32_t y0, y1, x0, octs;
} wide_region;

/* Filter rows [*ky0, *ky1) of output row y lie inside the input. */
static void wide_rows(const geom *g, int32_t y, int32_t *ky0, int32_t *ky1) {
    const nml_window *win = g->win;
    const int32_t iy = y * win->stride_h - win->pad_h, dil = win->dilation_h;
    *ky0 = iy < 0 ? (-iy + dil - 1) / dil : 0;
    *ky1 = iy >= g->h ? 0 : (g->h - 1 - iy) / dil + 1;
    if (*ky1 > g->kh) *ky1 = g->kh;
}

static void wide_region_of(const geom *g, wide_region *r) {
    const nml_window *win = g->win;
    r->y0 = r->y1 = r->x0 = r->octs = 0;
    if (g->c != 1 || g->kw != 8 || win->stride_w != 2 || win->dilation_w != 1 || !g->rq->fast ||
        g->kh > WIDE_MAX_KH)
        return;
    /* the output rows with a filter row inside the input; a dilated filter over a shorter input
     * may have none in between (no wide region then) */
    int32_t y0 = 0, y1 = g->out_h, a, b;
    while (y0 < y1 && (wide_rows(g, y0, &a, &b), a >= b))
        y0++;
    while (y1 > y0 && (wide_rows(g, y1 - 1, &a, &b), a >= b))
        y1--;
    for (int32_t y = y0; y < y1; y++)
        if (wide_rows(g, y, &a, &b), a >= b) return;
    r->y0 = y0, r->y1 = y1;
    /* first and last+1 output columns whose windows start at >= 0 and end inside */
    r->x0 = (win->pad_w + 1) / 2;
    int32_t x1 = g->w - 8 + win->pad_w < 0 ? 0 : (g->w - 8 + win->pad_w) / 2 + 1;
    if (x1 > g->out_w) x1 = g->out_w;
    if (r->y0 < r->y1 && r->x0 + 8 <= x1) r->octs = (x1 - r->x0) / 8;
}

static int in_wide(const wide_region *r, int32_t y, int32_t x) {
    return r->octs && y >= r->y0 && y < r->y1 && x >= r->x0 && x < r->x0 + 8 * r->octs;
}

/* The wide region, channel by channel (weights copied to scratch once per channel). A row
 * clipped by the padding sums its filter rows inside the input only; its bias then gives back
 * the zero point's share of the rows left out (folded[] holds it for the whole window). */
static void dw_wide(const geom *g, const wide_region *r, int8_t *wk) {
    const nml_window *win = g->win;
    const int32_t taps = g->kh * 8, out_c = g->out_c;
    int32_t row_sum[WIDE_MAX_KH + 1]; /* row_sum[k]: sum of filter rows [0, k) */
    wide8 pp;
    pp.row_step = win->dilation_h * g->w;
    pp.out_step = out_c;
    pp.lo = g->rq->act_min;
    pp.hi = g->rq->act_max;
    for (int32_t oc = 0; oc < out_c; oc++) {
        const int8_t *f = g->filter + oc;
        row_sum[0] = 0;
        for (int32_t t = 0; t < taps; t++, f += out_c) {
            wk[t] = *f;
            if (t % 8 == 0) row_sum[t / 8 + 1] = row_sum[t / 8];
            row_sum[t / 8 + 1] += *f;
        }
        const nml_rq_ch ch = nml_rq_channel(g->rq, oc);
        for (int32_t b = 0; b < g->batches; b++) {
            for (int32_t y = r->y0; y < r->y1; y++) {
                int32_t ky0, ky1;
                wide_rows(g, y, &ky0, &ky1);
                const int32_t outside = row_sum[g->kh] - (row_sum[ky1] - row_sum[ky0]);
                pp.bias = nml_add_wrap(g->folded[oc], g->zp * outside);
                pp.kh = ky1 - ky0;
                const int32_t iy = y * win->stride_h - win->pad_h + ky0 * win->dilation_h;
                const int32_t ix = r->x0 * 2 - win->pad_w;
                pp.x = g->in + ((size_t)b * g->h + iy) * g->w + ix;
                pp.out = g->out + (((size_t)b * g->out_h + y) * g->out_w + r->x0) * out_c + oc;
                for (int32_t q = 0; q < r->octs; q++, pp.x += 16, pp.out += 8 * out_c)
                    wide_8x2(&pp, wk + ky0 * 8, &ch);
            }
        }
    }
}

/* wk: scratch for dw_wide's weights */
static void dw_multiplier(const geom *g, int8_t *wk) {
    const int32_t total = g->batches * g->out_h * g->out_w;
    wide_region r;
    wide_region_of(g, &r);
    /* the pixels around the wide region, eight channels per activation load */
    const int edges = r.octs && g->out_c % 8 == 0;
    int32_t b = 0, y = 0, x = 0;
    for (int32_t i = 0; i < total; i += 2) {
        int32_t b2 = b, y2 = y, x2 = x;
        if (i + 1 < total) next_pixel(g, &b2, &y2, &x2);
        int8_t *oa = g->out + i * g->out_c;
        int8_t *ob = i + 1 < total ? oa + g->out_c : oa;
        const int wa = in_wide(&r, y, x), wb = i + 1 < total && in_wide(&r, y2, x2);
        /* windows only for the pixels evaluated here (dw_wide takes the others) */
        win_part pa = {0}, pb = {0};
        if (!wa) window_at(g, b, y, x, &pa);
        if (!wb) window_at(g, b2, y2, x2, &pb);
        if (edges) {
            if (!wa) dw_edge(g, &pa, oa);
            if (!wb && i + 1 < total) dw_edge(g, &pb, ob);
        } else if (!wa && !wb && same_part(&pa, &pb)) {
            dw_pixels(g, &pa, &pb, oa, ob);
        } else {
            if (!wa) dw_pixels(g, &pa, NULL, oa, NULL);
            if (!wb && i + 1 < total) dw_pixels(g, &pb, NULL, ob, NULL);
        }
        b = b2, y = y2, x = x2;
        next_pixel(g, &b, &y, &x);
    }
    if (r.octs) dw_wide(g, &r, wk);
}

/* The paths a variant has (constant per caller): all, the planes (rows and planes), the rows
 * alone, or the blocks (depth multiplier path). */
enum { ALL_PATHS, PLANES_ONLY, ROWS_ONLY, BLOCKS_ONLY, ROWS_FIVE };

NML_OPT_INLINE nml_status eval_variant(nml_ctx *ctx, nml_node *node, int paths) {
    const opt_dw *d = node->data;
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
    g.plane_h = d->plane_h;
    g.plane_w = d->plane_w;
    g.doubled = d->doubled;
    void *scratch = nml_ctx_scratch(ctx, node); /* every path's (once: less code) */
    if (paths == ROWS_ONLY || (paths != BLOCKS_ONLY && d->rows)) {
        dw_rows(&g, scratch, paths != ROWS_FIVE);
    } else if (paths == ROWS_FIVE) {
        dw_planes_five(&g, scratch);
    } else if (paths == PLANES_ONLY || (paths == ALL_PATHS && d->plane_h > 0)) {
        dw_planes(&g, scratch);
    } else {
        int32_t *folded = scratch;
        fold_biases(&g, folded);
        g.folded = folded;
        dw_multiplier(&g, (int8_t *)(folded + g.out_c));
    }
    return NML_OK;
}

static nml_status opt_dw_eval_int8(nml_ctx *ctx, nml_node *node) {
    return eval_variant(ctx, node, ALL_PATHS);
}

/* The planes variant (chosen by `nanoml export` when every DEPTHWISE_CONV_2D of the model takes
 * the plane path with depth multiplier 1 or 3x3 windows, small planes): int8-only, without the
 * blocks of four channels (planes or clipped windows). */
static nml_status opt_dw_prepare_planes(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(prepare_variant(ctx, node, p, 1, 1));
    const opt_dw *d = node->data;
    if ((d->plane_h == 0 && !d->rows) ||
        (d->ref.depth_multiplier > 1 && !fast_3x3(&d->ref.w)))
        return nml_kernel_fail(
            ctx, node, NML_E_UNSUPPORTED,
            "the planes-only kernel needs depth multiplier 1 or 3x3 windows (stride 1 or 2 "
            "along x, no dilation), and a window plane of at most %d bytes and %d taps "
            "(depth multiplier %d)",
            PLANE_MAX_BYTES, PLANE_MAX_TAPS, (int)d->ref.depth_multiplier);
    return NML_OK;
}

static nml_status opt_dw_eval_planes(nml_ctx *ctx, nml_node *node) {
    return eval_variant(ctx, node, PLANES_ONLY);
}

/* The rows-and-5-wide variant (chosen by `nanoml export` when every DEPTHWISE_CONV_2D of the
 * model takes the rows path or 5-wide planes whose output width is a multiple of 4, e.g.
 * FastestDet): the planes variant without the tap loop over the plane (plane_any). */
static nml_status opt_dw_prepare_rows5(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(prepare_variant(ctx, node, p, 1, 1));
    const opt_dw *d = node->data;
    const nml_window *w = &d->ref.w;
    /* out_w >= 1 (nml_window_init): a multiple of 4 is at least 4 */
    const int five = d->plane_h > 0 && w->filter_w == 5 && w->dilation_w == 1 && w->stride_w == 1 &&
                     w->out_w % 4 == 0 && five_rq(&d->rq, d->doubled);
    if (!d->rows && !five)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "the rows-and-5-wide kernel needs 3x3 windows the rows path reads "
                               "in place, or 5-wide windows (stride 1 and no dilation along x, "
                               "depth multiplier 1) over a multiple of 4 output columns");
    return NML_OK;
}

/* The rows variant (chosen by `nanoml export` when every DEPTHWISE_CONV_2D of the model has 3x3
 * windows that rows_3x3 reads in place, e.g. person_detect): int8-only, rows_3x3 alone. */
static nml_status opt_dw_prepare_rows(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(prepare_variant(ctx, node, p, 1, 1));
    const opt_dw *d = node->data;
    if (!d->rows)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "the rows-only kernel needs 3x3 windows with stride 1 or 2 along "
                               "x, no dilation, at most one padded column on either side and "
                               "multipliers below 1");
    return NML_OK;
}

static nml_status opt_dw_eval_rows5(nml_ctx *ctx, nml_node *node) {
    return eval_variant(ctx, node, ROWS_FIVE);
}

static nml_status opt_dw_eval_rows(nml_ctx *ctx, nml_node *node) {
    return eval_variant(ctx, node, ROWS_ONLY);
}

/* The blocks variant (chosen by `nanoml export` when every DEPTHWISE_CONV_2D of the model takes
 * the depth multiplier path, e.g. micro_speech): int8-only, without the rows and planes. */
static nml_status opt_dw_prepare_blocks(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(prepare_variant(ctx, node, p, 1, 0));
    const opt_dw *d = node->data;
    if (d->plane_h > 0 || d->rows)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "the blocks-only kernel needs a depth multiplier > 1 with windows "
                               "other than 3x3 (stride 1 or 2 along x, no dilation), or a "
                               "window plane over %d bytes or %d taps (depth multiplier %d)",
                               PLANE_MAX_BYTES, PLANE_MAX_TAPS, (int)d->ref.depth_multiplier);
    return NML_OK;
}

static nml_status opt_dw_eval_blocks(nml_ctx *ctx, nml_node *node) {
    return eval_variant(ctx, node, BLOCKS_ONLY);
}

static nml_status opt_dw_eval(nml_ctx *ctx, nml_node *node) {
    const opt_dw *d = node->data;
    if (d->use_ref) {
        nml_dwconv_eval_ref(ctx, node, &d->ref);
        return NML_OK;
    }
    return opt_dw_eval_int8(ctx, node);
}

const nml_kernel nml_kernel_depthwise_conv_2d_opt = {NML_OP_DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D",
                                                     opt_dw_prepare, opt_dw_eval};
const nml_kernel nml_kernel_depthwise_conv_2d_opt_int8 = {
    NML_OP_DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D", opt_dw_prepare_int8, opt_dw_eval_int8};
const nml_kernel nml_kernel_depthwise_conv_2d_opt_planes = {
    NML_OP_DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D", opt_dw_prepare_planes, opt_dw_eval_planes};
const nml_kernel nml_kernel_depthwise_conv_2d_opt_rows5 = {
    NML_OP_DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D", opt_dw_prepare_rows5, opt_dw_eval_rows5};
const nml_kernel nml_kernel_depthwise_conv_2d_opt_rows = {
    NML_OP_DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D", opt_dw_prepare_rows, opt_dw_eval_rows};
const nml_kernel nml_kernel_depthwise_conv_2d_opt_blocks = {
    NML_OP_DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D", opt_dw_prepare_blocks, opt_dw_eval_blocks};
