/* CONV_2D optimized for cores without SIMD or FPU (RV32IMC), bit-exact with the reference
 * kernel (conv_2d.c), which stays the oracle and evaluates everything but plain int8 (int8
 * activations and weights, not grouped): float32, hybrid, int4 weights, grouped convolution.
 *
 * int8 evaluation is a GEMM over blocks of 8 output pixels x 2 output channels. A block's eight
 * windows are gathered once into scratch, interleaved (byte i of window k at col[8 i + k]), so
 * one pointer with immediate offsets reaches all eight; then, for each pair of channels, 16
 * accumulators stay in registers over the filter depth: each loaded weight serves eight pixels
 * and each loaded activation two channels (10 loads per 16 multiply-accumulates, 172
 * instructions per 64 MACs with gcc's priority register allocator, which this file selects
 * for itself on RV32). The pair's accumulators then go to memory and
 * are requantized in the doubled fast form (opt_common.h, ~13 instructions per output; under a
 * ReLU-like activation ~9 for a nonnegative sum and ~5 for a negative one, emit_pair) with
 * constants from the fast tables. Gathering is tap-major with eight source pointers when the
 * eight windows lie inside the input (a 1x1 layer's pixels, or any block away from the padding;
 * a block may span two output rows), so a 1-channel 5x5 layer pays about 2.4 instructions per
 * window byte instead of a loop per 5-byte row; windows that touch the padding are copied one
 * by one (im2col), padding taps set to the input zero point. Every window is then whole, so the
 * input zero point folds into the bias:
 * sum w * (x - zp) + bias = sum w * x + (bias - zp * sum w), the folded bias computed once per
 * evaluation into scratch (padding contributes w * zp - w * zp = 0, as in the reference). An odd
 * last channel is redone with the one before it (rewriting equal values). A one-channel layer
 * turns the block around: the filter is the shared operand of an 8-row dot over the eight
 * windows (opt_dot.h).
 *
 * Scratch: 4 bytes per output channel (the folded biases) and the block's 8 x depth bytes, the
 * latter capped (NML_BLOCK_SCRATCH_CAP): deeper layers go pixel by pixel. Records of all the
 * per-channel constants (20 bytes per channel) would save ~2% of the instructions but grew the
 * arena peak of person_detect and LeNet-5, whose peak layers are these convolutions.
 *
 * The last total % 8 pixels, layers of fewer than eight (a classifier's 5x5 conv over a 5x5
 * map) and layers over the cap go pixel by pixel: the window (in place for a 1x1 layer), eight
 * channels per activation load and zero-point subtraction (opt_dot.h), fewer than eight two at
 * a time, with the layer's own bias (a folded bias would cost such a layer one more pass over
 * all its weights: as many loads as its MACs).
 *
 * Two kinds of layers have block loops of their own, where the 2x8 blocks' fixed costs weighed
 * as much as their MACs: shallow 1x1 layers (depth 8 or 16) under ReLU-like activations
 * (shallow_pairs) and 5-wide filters over one input channel (c1_blocks); see there. */
#include <stddef.h>

#include "conv_ref.h"
#include "kernels.h"
#include "opt_common.h"
#include "opt_copy.h"
#include "opt_dot.h"

/* The 2x8 block's MAC loop holds 21 values: gcc's default (Chaitin-Briggs) register allocator
 * spills four of them per iteration on RV32, the priority allocator none (3.8% fewer
 * instructions on FastestDet's and person_detect's CONV_2D, measured). Chosen here rather than
 * by a per-file flag so that every build of this file has it: the nanoml firmware, X-HEEP's
 * own CMake build of an exported application, LTO links (the same code as with
 * -fira-algorithm=priority, compared object for object). */
#if defined(__riscv) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("ira-algorithm=priority")
#endif

/* Output pixels per block of the GEMM (gemm_2x8) */
#define NML_BLOCK_PIXELS 8
/* The most scratch bytes a block's eight windows may take: deeper layers (8 * depth above it,
 * e.g. 3x3 over more than 113 channels) go pixel by pixel, one window of scratch (none for a
 * 1x1 layer) at ~3.6 instead of ~3 instructions per MAC, so that no layer's scratch grows
 * without bound with its depth. */
#define NML_BLOCK_SCRATCH_CAP 8192

typedef struct opt_conv {
    nml_conv_data ref;
    nml_rq rq;
    uint8_t use_ref; /* not plain int8 (float32, hybrid, int4) or grouped: the reference */
    uint8_t blocks;  /* the 8-pixel blocks (at least 8 pixels, windows within the cap) */
    uint8_t shallow; /* 8 or 16: a shallow pointwise layer of that depth (shallow_pairs) */
    uint8_t c1;      /* a one-channel input at stride 1 along x: its rows (c1_blocks) */
} opt_conv;

/* The requantization tables (filled here, or by the int8-only setup already: fill 0). The
 * blocks requantize in the doubled fast form: a layer it does not fit (|acc| near 2^30, shifts
 * of 31) takes the reference arithmetic (a bound that rules out the fast form). */
NML_OPT_INLINE nml_status requant_tables(nml_ctx *ctx, nml_node *node, opt_conv *d, int64_t depth,
                                         nml_tensor *const *t, int fill) {
    const nml_tensor *input = t[0], *filter = t[1], *bias = t[2], *output = t[3];
    const int32_t out_ch = filter->dims[0];
    const int64_t bound = nml_rq_dot_bound(depth, input->zero_point, 128);
    uint8_t doubled;
    if (fill) NML_TRY(nml_rq_conv_fill(ctx, node, input, filter, output, out_ch, &d->rq));
    return nml_rq_finish_doubled(ctx, node, &d->rq, out_ch, output->zero_point, d->ref.act_min,
                                 d->ref.act_max, bias, bound, 1, &doubled);
}

/* The node's input, filter, bias and output (the int8-only setup gives them). */
static void node_tensors(nml_ctx *ctx, const nml_node *node, nml_tensor **t) {
    for (uint32_t i = 0; i < 3; i++)
        t[i] = nml_node_input(ctx, node, i);
    t[3] = nml_node_output(ctx, node, 0);
}

/* A 1x1 filter at stride 1 without padding: every window is one input pixel. */
static int is_pointwise(const nml_tensor *filter, const nml_tensor *input, const nml_tensor *output,
                        const nml_window *w) {
    return filter->dims[1] == 1 && filter->dims[2] == 1 && output->dims[1] == input->dims[1] &&
           output->dims[2] == input->dims[2] && w->stride_h == 1 && w->stride_w == 1 &&
           w->pad_h == 0 && w->pad_w == 0;
}

/* The kernel variants: all of CONV_2D; int8 only (no reference fallback, conv_ref.h, and no
 * c1_block rows); lean: int8 with the fast requantization, single pixels only in layers of at
 * least eight channels (no reference arithmetic after the blocks, no two-channel dot, no
 * shallow_pairs: less code for models whose layers all qualify), refusing c1_block's layers;
 * lean c1: the lean one with the rows. Constant per caller. */
enum { VARIANT_FULL, VARIANT_INT8, VARIANT_LEAN, VARIANT_LEAN_C1 };

NML_OPT_INLINE nml_status prepare_variant(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                          int variant) {
    const int int8_only = variant != VARIANT_FULL;
    const int lean = variant == VARIANT_LEAN || variant == VARIANT_LEAN_C1; /* no shallow path */
    opt_conv *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    nml_tensor *t[4];
    if (int8_only) {
        NML_TRY(nml_conv_2d_setup_int8(ctx, node, p, &d->ref, &d->rq, t));
    } else {
        NML_TRY(nml_conv_2d_setup(ctx, node, p, &d->ref, 0));
        node_tensors(ctx, node, t);
    }
    const nml_tensor *input = t[0], *filter = t[1], *output = t[3];
    const int32_t out_ch = filter->dims[0];
    /* the reference path gets its tables and its scratch, the optimized one its own scratch:
     * a node has one scratch region, sized for the path chosen here */
    d->use_ref = d->ref.mode != NML_CONV_INT8 || filter->dims[3] != input->dims[3];
    if (int8_only && d->use_ref)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "the int8-only kernel does not do grouped convolution (filter "
                               "depth %d, input depth %d)",
                               (int)filter->dims[3], (int)input->dims[3]);
    if (d->use_ref) {
        NML_TRY(nml_conv_2d_ref_finish(ctx, node, &d->ref));
    } else {
        /* blocks: the folded biases, then a block's eight windows; pixel by pixel: one window.
         * A 1x1 layer's windows are its input pixels, but its blocks interleave them (a
         * one-channel layer reads them in place). */
        const size_t depth = (size_t)filter->dims[1] * filter->dims[2] * filter->dims[3];
        const int32_t pixels = output->dims[0] * output->dims[1] * output->dims[2];
        const int pointwise = is_pointwise(filter, input, output, &d->ref.w);
        size_t bytes = pointwise ? 0 : depth;
        d->blocks = pixels >= NML_BLOCK_PIXELS && NML_BLOCK_PIXELS * depth <= NML_BLOCK_SCRATCH_CAP;
        if (d->blocks)
            bytes = (size_t)out_ch * sizeof(int32_t) +
                    (pointwise && out_ch == 1 ? 0 : NML_BLOCK_PIXELS * depth);
        NML_TRY(requant_tables(ctx, node, d, (int64_t)depth, t, !int8_only));
        if (!lean && d->blocks && pointwise && out_ch > 1 && (depth == 8 || depth == 16) &&
            d->rq.fast && d->rq.act_min >= d->rq.out_zp) {
            d->shallow = (uint8_t)depth;
            bytes = (size_t)out_ch * sizeof(int32_t); /* the folded biases: no windows */
        }
        NML_TRY(nml_ctx_request_scratch(ctx, node, bytes));
        /* c1_block's layers; the lean variant refuses them: a model with one links the variant
         * that has the rows (export takes the leanest variant every node accepts) */
        const nml_window *w = &d->ref.w;
        d->c1 = (uint8_t)(d->blocks && d->rq.fast && input->dims[3] == 1 && filter->dims[2] == 5 &&
                          w->stride_w == 1 && w->dilation_w == 1);
        if (lean && (((pixels % NML_BLOCK_PIXELS != 0 || !d->blocks) && out_ch < 8) ||
                     !d->rq.fast || (variant == VARIANT_LEAN && d->c1)))
            return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                                   "the lean kernel needs the fast requantization and, with %d "
                                   "output pixels, at least 8 channels (%d), and takes no 5-wide "
                                   "filter over one input channel at stride 1",
                                   (int)pixels, (int)out_ch);
    }
    node->data = d;
    return NML_OK;
}

static nml_status opt_conv_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return prepare_variant(ctx, node, p, VARIANT_FULL);
}

static nml_status opt_conv_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return prepare_variant(ctx, node, p, VARIANT_INT8);
}

static nml_status opt_conv_prepare_lean(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return prepare_variant(ctx, node, p, VARIANT_LEAN);
}

static nml_status opt_conv_prepare_lean_c1(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return prepare_variant(ctx, node, p, VARIANT_LEAN_C1);
}

typedef struct geom {
    const int8_t *in, *filter;
    int8_t *out;
    int32_t h, w, c, out_h, out_w, out_c, kh, kw, depth; /* depth = kh * kw * c */
    int32_t zp;                                          /* input zero point */
    const nml_window *win;
    int32_t *fb;   /* per output channel: the folded bias (scratch) */
    int8_t *col;   /* NML_BLOCK_PIXELS interleaved windows (scratch) */
    int pointwise; /* 1x1 filter, stride 1, no padding */
} geom;

/* Output pixel counter in (batch, row, column) order. */
typedef struct pixel {
    int32_t b, y, x;
} pixel;

/* Output pixel i (the blocks start each block here: two divisions instead of eight
 * next_pixel calls). */
static pixel pixel_at(const geom *g, int32_t i) {
    pixel p;
    const int32_t row = i / g->out_w;
    p.x = i - row * g->out_w;
    p.b = row / g->out_h;
    p.y = row - p.b * g->out_h;
    return p;
}

static void next_pixel(const geom *g, pixel *p) {
    if (++p->x == g->out_w) {
        p->x = 0;
        if (++p->y == g->out_h) {
            p->y = 0;
            p->b++;
        }
    }
}

/* n bytes from src to dst, dst advancing by step (1: a plain window; NML_BLOCK_PIXELS: one
 * window of an interleaved block). */
static void copy_bytes(int8_t *dst, const int8_t *src, int32_t n, int32_t step) {
    for (; n >= 4; n -= 4, src += 4, dst += 4 * step) /* unrolled: every window is copied */
        dst[0] = src[0], dst[step] = src[1], dst[2 * step] = src[2], dst[3 * step] = src[3];
    for (; n > 0; n--, dst += step)
        *dst = *src++;
}

static void fill_bytes(int8_t *dst, int8_t v, int32_t n, int32_t step) {
    for (; n > 0; n--, dst += step)
        *dst = v;
}

/* Window of output pixel p copied to dst (byte i at dst[i * step]), padding taps set to the
 * zero point; a filter row inside the input without horizontal dilation is one run. The
 * blocks' windows that lie inside the input take gather_taps instead. */
static void im2col(const geom *g, const pixel *p, int8_t *dst, int32_t step) {
    const nml_window *win = g->win;
    const int32_t iy0 = p->y * win->stride_h - win->pad_h, ix0 = p->x * win->stride_w - win->pad_w;
    const int32_t row_bytes = g->kw * g->c;
    const int whole_rows = win->dilation_w == 1 && ix0 >= 0 && ix0 + g->kw <= g->w;
    const int8_t zp = (int8_t)g->zp;
    for (int32_t ky = 0; ky < g->kh; ky++, dst += row_bytes * step) {
        const int32_t iy = iy0 + ky * win->dilation_h;
        if (iy < 0 || iy >= g->h) {
            fill_bytes(dst, zp, row_bytes, step);
            continue;
        }
        const int8_t *src = g->in + ((size_t)(p->b * g->h + iy) * g->w) * g->c;
        if (whole_rows) {
            copy_bytes(dst, src + ix0 * g->c, row_bytes, step);
            continue;
        }
        for (int32_t kx = 0; kx < g->kw; kx++) {
            const int32_t ix = ix0 + kx * win->dilation_w;
            if (ix >= 0 && ix < g->w)
                copy_bytes(dst + kx * g->c * step, src + ix * g->c, g->c, step);
            else
                fill_bytes(dst + kx * g->c * step, zp, g->c, step);
        }
    }
}

#if defined(__GNUC__)
#define NML_NOINLINE __attribute__((noinline))
#else
#define NML_NOINLINE
#endif

/* n taps of eight windows, tap j of window k at q[k][off + j], copied tap-major into dst (tap j
 * of window k at dst[8 * j + k]): eight pointers in registers, so the loads and stores take
 * immediate offsets, four taps per step (one pointer increment per window per four taps). */
static void gather_taps(int8_t *dst, const int8_t *const *q, size_t off, int32_t n) {
    const int8_t *q0 = q[0] + off, *q1 = q[1] + off, *q2 = q[2] + off, *q3 = q[3] + off;
    const int8_t *q4 = q[4] + off, *q5 = q[5] + off, *q6 = q[6] + off, *q7 = q[7] + off;
#define NML_TAP8(j)                                                                                \
    do {                                                                                           \
        dst[8 * (j)] = q0[j], dst[8 * (j) + 1] = q1[j], dst[8 * (j) + 2] = q2[j];                  \
        dst[8 * (j) + 3] = q3[j], dst[8 * (j) + 4] = q4[j], dst[8 * (j) + 5] = q5[j];              \
        dst[8 * (j) + 6] = q6[j], dst[8 * (j) + 7] = q7[j];                                        \
    } while (0)
    for (; n >= 4; n -= 4, dst += 32) {
        NML_TAP8(0);
        NML_TAP8(1);
        NML_TAP8(2);
        NML_TAP8(3);
        q0 += 4, q1 += 4, q2 += 4, q3 += 4, q4 += 4, q5 += 4, q6 += 4, q7 += 4;
    }
    for (; n > 0; n--, dst += 8) {
        NML_TAP8(0);
        q0++, q1++, q2++, q3++, q4++, q5++, q6++, q7++;
    }
#undef NML_TAP8
}

/* The interleaved windows of the eight pixels from a on into col. When every window lies
 * inside the input without horizontal dilation (all but a layer's border pixels; the block
 * may span two output rows), each filter row is one tap-major copy of eight runs (a filter row
 * of a 1-channel 5x5 layer is 5 bytes: copied window by window, the loop overhead would cost
 * more than the bytes); otherwise window by window. */
static void gather_block(const geom *g, pixel a, int8_t *col) {
    const nml_window *win = g->win;
    const int32_t span_h = (g->kh - 1) * win->dilation_h, row = g->kw * g->c;
    const int8_t *q[NML_BLOCK_PIXELS];
    int inside = win->dilation_w == 1;
    int32_t x = a.x, y = a.y, b = a.b; /* counted here: next_pixel per pixel costs more */
    int32_t ix0 = x * win->stride_w - win->pad_w, iy0 = y * win->stride_h - win->pad_h;
    int32_t line = (b * g->h + iy0) * g->w; /* may be negative: a pointer only when inside */
    for (int32_t k = 0; k < NML_BLOCK_PIXELS && inside; k++) {
        inside = iy0 >= 0 && iy0 + span_h < g->h && ix0 >= 0 && ix0 + g->kw <= g->w;
        if (inside) q[k] = g->in + (size_t)(line + ix0) * g->c;
        ix0 += win->stride_w;
        if (++x == g->out_w) {
            x = 0, ix0 = -win->pad_w, iy0 += win->stride_h;
            if (++y == g->out_h) y = 0, iy0 = -win->pad_h, b++;
            line = (b * g->h + iy0) * g->w;
        }
    }
    if (inside) {
        const size_t row_step = (size_t)win->dilation_h * g->w * g->c;
        for (int32_t ky = 0; ky < g->kh; ky++)
            gather_taps(col + ky * NML_BLOCK_PIXELS * row, q, ky * row_step, row);
        return;
    }
    for (int32_t k = 0; k < NML_BLOCK_PIXELS; k++, next_pixel(g, &a))
        im2col(g, &a, col + k, NML_BLOCK_PIXELS);
}

/* One step of the 2x8 block: activations i of the eight interleaved windows times weight i of
 * both channels. */
#define NML_MAC_2X8(i)                                                                             \
    do {                                                                                           \
        const int32_t u = w0[i], v = w1[i];                                                        \
        int32_t t = p[8 * (i)];                                                                    \
        a0 += u * t, b0 += v * t, t = p[8 * (i) + 1];                                              \
        a1 += u * t, b1 += v * t, t = p[8 * (i) + 2];                                              \
        a2 += u * t, b2 += v * t, t = p[8 * (i) + 3];                                              \
        a3 += u * t, b3 += v * t, t = p[8 * (i) + 4];                                              \
        a4 += u * t, b4 += v * t, t = p[8 * (i) + 5];                                              \
        a5 += u * t, b5 += v * t, t = p[8 * (i) + 6];                                              \
        a6 += u * t, b6 += v * t, t = p[8 * (i) + 7];                                              \
        a7 += u * t, b7 += v * t;                                                                  \
    } while (0)

/* A block's channel pairs: the pair of oc is oc and oc + 1 (an odd last channel is redone with
 * the one before it; one-channel layers take one_channel_blocks). Kept in memory and read
 * through one pointer: gcc would otherwise hold the loop's state in the registers the inner
 * loop needs. */
typedef struct pairs {
    const int8_t *x;      /* the eight interleaved windows */
    const int8_t *filter; /* the whole filter */
    int8_t *o;            /* pixel k's channel c at o[k * out_c + c] */
    const int32_t *fb;    /* the layer's folded biases; NULL for the reference requantization:
                           * the caller requantizes the 16 sums in acc (without the bias) */
    const int32_t *mult;  /* its requantization tables (fast) */
    const int8_t *shift;
    int32_t step;
    int32_t depth, oc, end, out_c, lo, hi;
    int32_t *acc; /* a pair's 16 accumulators (channel-major) */
    uint32_t c1;  /* 1 + 2 * the output zero point */
    int32_t ch;    /* the pair's first channel (emit_pair) */
    int32_t relu; /* act_min == the output zero point: emit_pair's short form */
    int32_t last; /* the last pair's first channel: out_c - 2 */
} pairs;

/* The first channel of the pair of q->oc. */
static inline int32_t pair_first(const pairs *q) {
    return q->oc < q->last ? q->oc : q->last;
}

/* The per-layer fields of a block state (pixel_blocks, c1_blocks). */
static void pairs_init(pairs *q, const geom *g, const nml_rq *rq, int32_t *acc) {
    q->x = g->col;
    q->filter = g->filter;
    q->depth = g->depth;
    q->out_c = g->out_c;
    q->fb = rq->fast ? g->fb : NULL; /* slow: the caller requantizes unbiased sums */
    q->mult = rq->mult;
    q->shift = rq->shift;
    q->step = rq->step;
    q->lo = rq->act_min;
    q->hi = rq->act_max;
    q->acc = acc;
    q->c1 = 1u + 2u * (uint32_t)rq->out_zp;
    q->relu = rq->act_min == rq->out_zp;
    q->last = g->out_c - 2; /* at least 2 channels (eval_variant) */
}

/* The pair's 16 accumulators (folded biases included) requantized in the doubled fast form
 * (opt_common.h) into its two channels of the eight pixels. From memory: requantized from
 * registers, the constants' extra live values made gcc spill in the MAC loop (3.6% more
 * instructions). Under a ReLU-like activation (act_min == the output zero point, q->relu) a
 * negative accumulator gives act_min (both roundings keep a negative sum at or below 0, see
 * shallow_pairs), and a nonnegative one needs neither the negative-sum correction nor the lower
 * clamp: about half the instructions per output. Loops, not unrolled: the two forms take less
 * code than one unrolled form did. */
NML_OPT_INLINE void emit_pair(const pairs *q) {
    /* in locals: the int8 stores may alias q, gcc would reload its fields for the second
     * channel */
    const int32_t stride = q->out_c, lo = q->lo, hi = q->hi, step = q->step, relu = q->relu;
    const int32_t ch = q->ch;
    const int32_t *acc = q->acc, *mults = q->mult;
    const int8_t *shifts = q->shift;
    int8_t *const out = q->o;
    const uint32_t c1 = q->c1;
    for (int32_t j = 0; j < 2; j++) {
        const int32_t c = ch + j;
        /* the doubled form's constants (opt_common.h) from the fast tables: with
         * c1 = 1 + 2 * zp, K2 = 1 + 2 * khi = (c1 << r) + [r > 0] */
        const int32_t i = c * step, r = shifts[i];
        const uint32_t mult = (uint32_t)mults[i], nz = (uint32_t)(r != 0);
        const uint32_t k2 = (c1 << r) + nz, neg2 = (0u - nz) << 1;
        const int32_t r1 = r + 1;
        const int32_t *end = acc + NML_BLOCK_PIXELS;
        int8_t *o = out + c;
        if (relu) {
#define NML_EMIT_RELU(k)                                                                           \
    do {                                                                                           \
        const int32_t v = acc[k];                                                                  \
        int32_t y = lo;                                                                            \
        if (v >= 0) {                                                                              \
            const int32_t x2 = (int32_t)((uint32_t)v << 1);                                        \
            y = (int32_t)((uint32_t)(((int64_t)x2 * (int64_t)mult) >> 32) + k2) >> r1;             \
            if (y > hi) y = hi;                                                                    \
        }                                                                                          \
        o[(k)*stride] = (int8_t)y;                                                                 \
    } while (0)
            do {
                NML_EMIT_RELU(0);
                NML_EMIT_RELU(1);
                NML_EMIT_RELU(2);
                NML_EMIT_RELU(3);
                o += 4 * stride;
            } while ((acc += 4) != end);
#undef NML_EMIT_RELU
        } else {
#define NML_EMIT(k)                                                                                \
    o[(k)*stride] = nml_rq_clamp(nml_rq_apply_doubled(acc[k], mult, k2, neg2, r1), lo, hi)
            do {
                NML_EMIT(0);
                NML_EMIT(1);
                o += 2 * stride;
            } while ((acc += 2) != end);
#undef NML_EMIT
        }
    }
}

/* A compiler barrier (no instruction): values computed before it are read again from memory
 * after it, so they do not occupy registers across the loop before it. */
#if defined(__GNUC__)
#define NML_REGISTER_BARRIER() __asm__ volatile("" ::: "memory")
#else
#define NML_REGISTER_BARRIER() ((void)0)
#endif

/* Channel pairs from q->oc on while oc < q->end, of the eight pixels whose windows are
 * interleaved at q->x (byte i of window k at x[8 * i + k]), requantized into q->o; or, for the
 * slow requantization, the 16 accumulators of one pair into q->acc (channel-major). Each loaded
 * weight serves eight pixels and each loaded activation two channels: 10 loads per 16
 * multiply-accumulates, with the 16 accumulators, three pointers and the two weights in
 * registers (the interleaving keeps the eight windows on one pointer). The fast form starts
 * the accumulators at the folded biases (no partial sum can wrap: with the bias, nml_rq_finish
 * bounds every sum of up to depth products). Out of line and over all pairs: small depths pay
 * the call once per block. gcc's default register allocator spills four of the 21 live values
 * per iteration here (3.8% more instructions on FastestDet's and person_detect's CONV_2D): the
 * pragma at the top of this file selects the priority allocator, which keeps them all in
 * registers. */
/* Hosts with 16 general registers (x86-64, 32-bit Arm) cannot hold the block's 16
 * accumulators with its pointers and weights: gcc spills them in every step (FastestDet on
 * x86-64: 4.6 instructions per MAC). There the block runs as two halves of four pixels, eight
 * accumulators each; every accumulator sums the same products in the same order. */
#if defined(__x86_64__) || defined(__i386__) || defined(__arm__)
#define NML_FEW_REGISTERS 1
static void mac_2x4(const int8_t *p, const int8_t *w0, const int8_t *w1, int32_t depth, int32_t i0,
                    int32_t i1, int32_t acc[8]) {
    int32_t a0 = i0, a1 = i0, a2 = i0, a3 = i0, b0 = i1, b1 = i1, b2 = i1, b3 = i1;
    for (int32_t n = 0; n < depth; n++, p += 8) {
        const int32_t u = w0[n], v = w1[n];
        int32_t t = p[0];
        a0 += u * t, b0 += v * t, t = p[1];
        a1 += u * t, b1 += v * t, t = p[2];
        a2 += u * t, b2 += v * t, t = p[3];
        a3 += u * t, b3 += v * t;
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
    acc[4] = b0, acc[5] = b1, acc[6] = b2, acc[7] = b3;
}
#else
#define NML_FEW_REGISTERS 0
#endif

NML_NOINLINE static void gemm_2x8(pairs *block) {
    pairs *volatile held = block; /* on the stack while the MAC loop needs every register */
    for (pairs *q = block; q->oc < q->end; q->oc += 2) {
        const int32_t c0 = pair_first(q), depth = q->depth;
        q->ch = c0;
        const int8_t *p = q->x, *w0 = q->filter + c0 * depth, *w1 = w0 + depth;
        const int32_t *fb = q->fb;
        int32_t i0 = 0, i1 = 0;
        if (fb) i0 = fb[c0], i1 = fb[c0 + 1];
        int32_t a0 = i0, a1 = i0, a2 = i0, a3 = i0, a4 = i0, a5 = i0, a6 = i0, a7 = i0;
        int32_t b0 = i1, b1 = i1, b2 = i1, b3 = i1, b4 = i1, b5 = i1, b6 = i1, b7 = i1;
#if NML_FEW_REGISTERS
        int32_t lo[8], hi[8];
        mac_2x4(p, w0, w1, depth, i0, i1, lo);
        mac_2x4(p + 4, w0, w1, depth, i0, i1, hi);
        a0 = lo[0], a1 = lo[1], a2 = lo[2], a3 = lo[3], b0 = lo[4], b1 = lo[5], b2 = lo[6];
        b3 = lo[7], a4 = hi[0], a5 = hi[1], a6 = hi[2], a7 = hi[3], b4 = hi[4], b5 = hi[5];
        b6 = hi[6], b7 = hi[7];
#else
        const int8_t *stop = p + 8 * depth;
        for (int32_t n = depth & 3; n > 0; n--, p += 8, w0++, w1++)
            NML_MAC_2X8(0);
        if (p != stop) do { /* tested at the bottom: no jump back to a test at the top */
                NML_MAC_2X8(0);
                NML_MAC_2X8(1);
                NML_MAC_2X8(2);
                NML_MAC_2X8(3);
                p += 32, w0 += 4, w1 += 4;
            } while (p != stop);
#endif
        NML_REGISTER_BARRIER(); /* c0, c1, depth: read again, not held across the loop */
        q = held;
        int32_t *acc = q->acc;
        acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
        acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
        acc[8] = b0, acc[9] = b1, acc[10] = b2, acc[11] = b3;
        acc[12] = b4, acc[13] = b5, acc[14] = b6, acc[15] = b7;
        if (!q->fb) return;
        emit_pair(q);
    }
}
#undef NML_MAC_2X8

/* Requantizes v (the bias included) into o[c] (the paths off the blocks' registers): the
 * doubled fast form (a fast layer qualifies for it: requant_tables), or the reference
 * arithmetic. */
static void requant_one(const nml_rq *rq, int32_t c, int32_t v, int8_t *o) {
    if (!rq->fast) {
        o[c] = nml_rq_slow(rq, c, v);
        return;
    }
    /* the doubled form's constants as emit_pair builds them (no branch on r) */
    const int32_t i = c * rq->step, r = rq->shift[i];
    const uint32_t nz = (uint32_t)(r != 0), k2 = ((1u + 2u * (uint32_t)rq->out_zp) << r) + nz;
    const int32_t y = nml_rq_apply_doubled(v, (uint32_t)rq->mult[i], k2, (0u - nz) << 1, r + 1);
    o[c] = nml_rq_clamp(y, rq->act_min, rq->act_max);
}

/* 5-wide filters over one-channel inputs at stride 1 along x (a grayscale image's first layer,
 * LeNet-5's C1): the eight windows of a block inside one output row start at consecutive
 * bytes, so within a filter row pixel k's tap j is p[k + j], and the block's eight values of a
 * tap are the previous tap's shifted by one byte. One channel at a time, eight accumulators and
 * eight activations in registers: each tap loads one weight and one new activation for eight
 * multiply-accumulates (the registers rotate), and nothing is gathered (the tap-major copy of
 * a block's 8 x 25 bytes cost ~0.8 instructions per MAC of LeNet-5's C1). The window rows are
 * read again for every channel. Blocks that span two output rows or meet the padding take the
 * 2x8 blocks. The width is a constant (no test after each tap, ~0.25 instructions per MAC);
 * other widths take the 2x8 blocks: a model links this only for such a layer (the lean
 * variant refuses it, nml_kernel_conv_2d_opt_lean_c1 takes it). */
#define NML_C1_TAP(j, r0, r1, r2, r3, r4, r5, r6, r7)                                              \
    do {                                                                                           \
        const int32_t u = v[j];                                                                    \
        a0 += u * r0, a1 += u * r1, a2 += u * r2, a3 += u * r3;                                    \
        a4 += u * r4, a5 += u * r5, a6 += u * r6, a7 += u * r7;                                    \
    } while (0)

/* The sums of two channels (filters w0 and w0 + depth) over the windows at p, into acc[0..7]
 * and acc[8..15] (each holding its starting value in acc[0], acc[8]); kw: the filter width,
 * at most 8 taps per turn of the rotation (constant per caller). */
NML_OPT_INLINE void c1_pair(const int8_t *p, const int8_t *w0, int32_t kh, const int32_t kw,
                            int32_t row, int32_t depth, int32_t *acc) {
    for (int32_t ch = 0; ch < 2; ch++, acc += NML_BLOCK_PIXELS) {
        const int8_t *s = p, *w = w0 + ch * depth;
        int32_t a0 = acc[0], a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int32_t ky = 0; ky < kh; ky++, s += row, w += kw) {
            int32_t t0 = s[0], t1 = s[1], t2 = s[2], t3 = s[3], t4 = s[4], t5 = s[5];
            int32_t t6 = s[6], t7 = s[7];
            const int8_t *q = s + 8, *v = w;
            for (int32_t n = kw;; q += 8, v += 8) { /* tap j: pixel k's value in t[(k+j) % 8] */
                NML_C1_TAP(0, t0, t1, t2, t3, t4, t5, t6, t7);
                if (--n == 0) break;
                t0 = q[0];
                NML_C1_TAP(1, t1, t2, t3, t4, t5, t6, t7, t0);
                if (--n == 0) break;
                t1 = q[1];
                NML_C1_TAP(2, t2, t3, t4, t5, t6, t7, t0, t1);
                if (--n == 0) break;
                t2 = q[2];
                NML_C1_TAP(3, t3, t4, t5, t6, t7, t0, t1, t2);
                if (--n == 0) break;
                t3 = q[3];
                NML_C1_TAP(4, t4, t5, t6, t7, t0, t1, t2, t3);
                if (--n == 0) break;
                t4 = q[4];
                NML_C1_TAP(5, t5, t6, t7, t0, t1, t2, t3, t4);
                if (--n == 0) break;
                t5 = q[5];
                NML_C1_TAP(6, t6, t7, t0, t1, t2, t3, t4, t5);
                if (--n == 0) break;
                t6 = q[6];
                NML_C1_TAP(7, t7, t0, t1, t2, t3, t4, t5, t6);
                if (--n == 0) break;
                t7 = q[7];
            }
        }
        acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
        acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
    }
}

NML_NOINLINE static void c1_pair_5(const int8_t *p, const int8_t *w0, int32_t kh, int32_t row,
                                   int32_t depth, int32_t *acc) {
    c1_pair(p, w0, kh, 5, row, depth, acc);
}
#undef NML_C1_TAP

/* The block of the eight pixels from a on through c1_channel, two channels at a time into q's
 * accumulators, requantized by emit_pair (q->o: the block's output), when the pixels lie in
 * one output row and their windows inside the input; 0 (nothing done) otherwise. */
static int c1_block(const geom *g, pairs *q, const pixel *a, int8_t *o) {
    const nml_window *win = g->win;
    const int32_t iy0 = a->y * win->stride_h - win->pad_h, ix0 = a->x - win->pad_w;
    if (a->x + NML_BLOCK_PIXELS > g->out_w || iy0 < 0 ||
        iy0 + (g->kh - 1) * win->dilation_h >= g->h || ix0 < 0 ||
        ix0 + NML_BLOCK_PIXELS - 1 + g->kw > g->w)
        return 0;
    const int8_t *p = g->in + (size_t)(a->b * g->h + iy0) * g->w + ix0;
    const int32_t row = win->dilation_h * g->w;
    int32_t *acc = q->acc;
    q->o = o;
    for (q->oc = 0; q->oc < g->out_c; q->oc += 2) {
        const int32_t c0 = pair_first(q);
        q->ch = c0;
        acc[0] = g->fb[c0]; /* fast: nml_rq_finish bounds every partial sum, bias included */
        acc[8] = g->fb[c0 + 1];
        c1_pair_5(p, g->filter + c0 * g->depth, g->kh, row, g->depth, acc);
        emit_pair(q);
    }
    return 1;
}

/* Blocks of eight output pixels from pixel 0 on (total / 8 of them): the windows interleaved
 * into col (the input pixels themselves for a 1x1 layer, amortized over all output channels),
 * then two channels at a time (an odd last channel is redone with the one before it; at
 * least two channels: one-channel layers take one_channel_blocks). */
NML_OPT_INLINE void pixel_blocks(const geom *g, const nml_rq *rq, int32_t total, int fast_only) {
    int32_t acc[16];
    pairs q;
    pairs_init(&q, g, rq, acc);
    for (int32_t i = 0; i + NML_BLOCK_PIXELS <= total; i += NML_BLOCK_PIXELS) {
        if (g->pointwise) { /* the windows are the input pixels i..i+7 */
            const int8_t *px[NML_BLOCK_PIXELS];
            for (int32_t k = 0; k < NML_BLOCK_PIXELS; k++)
                px[k] = g->in + (i + k) * g->c;
            gather_taps(g->col, px, 0, g->c);
        } else
            gather_block(g, pixel_at(g, i), g->col);
        q.o = g->out + i * g->out_c;
        if (fast_only || rq->fast) {
            q.oc = 0, q.end = g->out_c;
            gemm_2x8(&q);
            continue;
        }
        for (int32_t oc = 0; oc < g->out_c; oc += 2) { /* slow: pair by pair */
            q.oc = oc, q.end = oc + 1;
            gemm_2x8(&q);
            const int32_t c0 = oc < q.last ? oc : q.last, c1 = c0 + 1;
            for (int32_t j = 0; j < 16; j++)
                requant_one(rq, j < 8 ? c0 : c1, nml_add_wrap(acc[j], g->fb[j < 8 ? c0 : c1]),
                            q.o + (j & 7) * g->out_c);
        }
    }
}

/* A c1_block layer's blocks of eight pixels (its own loop: the other layers' blocks pay no
 * test for it): c1_block, else the 2x8 blocks over gathered windows. Such a layer has the
 * fast requantization (prepare_variant). */
NML_NOINLINE static void c1_blocks(const geom *g, const nml_rq *rq, int32_t total) {
    int32_t acc[16];
    pairs q;
    pairs_init(&q, g, rq, acc);
    for (int32_t i = 0; i + NML_BLOCK_PIXELS <= total; i += NML_BLOCK_PIXELS) {
        int8_t *o = g->out + i * g->out_c;
        const pixel a = pixel_at(g, i);
        if (!c1_block(g, &q, &a, o)) {
            gather_block(g, a, g->col);
            q.o = o, q.oc = 0, q.end = g->out_c;
            gemm_2x8(&q);
        }
    }
}

/* The window of output pixel i (at a): the input pixel itself for a 1x1 layer, else copied
 * into dst (padding taps set to the zero point). */
static const int8_t *window(const geom *g, const pixel *a, int32_t i, int8_t *dst) {
    if (g->pointwise) return g->in + (size_t)i * g->c;
    im2col(g, a, dst, 1);
    return dst;
}

/* Output pixels from i on, one at a time: a layer's last total % 8 pixels, or all of a layer of
 * fewer than eight (a classifier's 5x5 conv over a 5x5 map), where a folded bias would cost one
 * more pass over all weights: eight channels per activation load (a last partial group is
 * redone as the last eight channels), a layer of fewer than eight channels two at a time;
 * bias: the layer's. */
NML_OPT_INLINE void single_pixels(const geom *g, const nml_rq *rq, const int32_t *bias, int32_t i,
                                  int32_t total, pixel a, int lean) {
    int32_t acc[8];
    const int32_t out_c = g->out_c, depth = g->depth;
    for (; i < total; i++, next_pixel(g, &a)) {
        const int8_t *x = window(g, &a, i, g->col);
        int8_t *o = g->out + i * out_c;
        for (int32_t oc = 0; oc < out_c; oc += 8) {
            int32_t c0 = oc, n = 8;
            if (!lean && out_c < 8)
                n = out_c;
            else if (oc + 8 > out_c)
                c0 = out_c - 8;
            if (n == 8) nml_dot_8x1(x, g->zp, g->filter + c0 * depth, depth, depth, acc);
            for (int32_t j = 0; !lean && j < n && n < 8; j += 2) {
                const int32_t c1 = j + 1 < n ? j + 1 : j;
                nml_dot_2x1(x, g->zp, g->filter + j * depth, g->filter + c1 * depth, depth,
                            acc + j);
            }
            for (int32_t j = 0; j < n; j++)
                requant_one(rq, c0 + j, nml_add_wrap(acc[j], bias ? bias[c0 + j] : 0), o);
        }
    }
}

/* A one-channel layer's blocks of eight pixels (a pair would compute the channel twice): the
 * eight windows one after another (the input itself for a 1x1 layer: no window calls), the
 * filter as the shared operand of nml_dot_8x1, the folded bias and the channel's constants
 * read once (through requant_one, ~50 instructions per output). */
NML_NOINLINE static void one_channel_blocks(const geom *g, const nml_rq *rq, int32_t total,
                                            pixel *a) {
    int32_t acc[8];
    const int32_t fb = g->fb[0], lo = rq->act_min, hi = rq->act_max;
    /* the doubled form's constants (emit_pair); slow tables: unused, r kept a valid shift */
    const int fast = rq->fast;
    const int32_t r = fast ? rq->shift[0] : 0;
    const uint32_t mult = (uint32_t)rq->mult[0], nz = (uint32_t)(r != 0);
    const uint32_t k2 = ((1u + 2u * (uint32_t)rq->out_zp) << r) + nz, neg2 = (0u - nz) << 1;
    for (int32_t i = 0; i + NML_BLOCK_PIXELS <= total; i += NML_BLOCK_PIXELS) {
        const int8_t *x = g->in + (size_t)i * g->depth;
        if (!g->pointwise) {
            x = window(g, a, i, g->col);
            for (int32_t k = 0; k < NML_BLOCK_PIXELS; k++) {
                if (k) (void)window(g, a, i + k, g->col + k * g->depth);
                next_pixel(g, a);
            }
        }
        nml_dot_8x1(g->filter, 0, x, g->depth, g->depth, acc);
        int8_t *o = g->out + i;
        for (int32_t k = 0; k < NML_BLOCK_PIXELS; k++) {
            const int32_t v = nml_add_wrap(acc[k], fb);
            if (!fast) {
                requant_one(rq, 0, v, o + k);
                continue;
            }
            o[k] = nml_rq_clamp(nml_rq_apply_doubled(v, mult, k2, neg2, r + 1), lo, hi);
        }
    }
}

/* The folded biases: bias - zp * the sum of the channel's weights, in locals: the stores may
 * alias the geometry, gcc would reload it for every weight. This pass over all weights runs at
 * every evaluation (the scratch is shared), so where the channels are whole aligned pairs of
 * words (depth a multiple of 8, at most 512) it reads words: each byte offset by 128 (the xor)
 * is an unsigned 0..255, and two 16-bit lanes sum alternate bytes (at most 128 words of
 * 2 x 255 per lane: no carry between the lanes); 16 instructions per 8 weights instead of 22;
 * other depths four bytes per turn (LeNet-5's C3, depth 150). */
static void fold_biases(const geom *g, const int32_t *bias, int32_t *fb) {
    const int8_t *w = g->filter;
    const int32_t depth = g->depth, zp = g->zp, out_c = g->out_c;
#if NML_OPT_WORDS
    const int words = ((uint32_t)depth & 7u) == 0 && depth <= 512 && ((uintptr_t)w & 3u) == 0;
#endif
    for (int32_t c = 0; c < out_c; c++) {
        int32_t sum = 0; /* |sum| <= depth * 128: the accumulator check bounds zp * sum */
        int32_t i = depth;
#if NML_OPT_WORDS
        if (words) {
            const nml_opt_word *p = (const nml_opt_word *)(const void *)w;
            const nml_opt_word *end = p + depth / 4;
            const uint32_t m = 0x00ff00ffu, x = 0x80808080u;
            uint32_t lanes = 0;
            do {
                const uint32_t v = p[0] ^ x, u = p[1] ^ x;
                lanes += (v & m) + ((v >> 8) & m) + (u & m) + ((u >> 8) & m);
                p += 2;
            } while (p != end);
            w = (const int8_t *)end;
            i = 0;
            sum = (int32_t)((lanes & 0xffffu) + (lanes >> 16)) - 128 * depth;
        }
#endif
        for (; i >= 4; i -= 4, w += 4)
            sum += w[0] + w[1] + w[2] + w[3];
        for (; i > 0; i--)
            sum += *w++;
        fb[c] = nml_add_wrap(bias ? bias[c] : 0, -zp * sum);
    }
}

/* Shallow pointwise layers (1x1, depth 8 or 16, e.g. the first pointwise layers of a
 * MobileNet) under a ReLU-like activation (act_min >= the output zero point). With 8 or 16
 * products per output, the blocks' per-output costs (the accumulators through memory, the
 * requantization's rounding of negative sums, the gathering and the per-block setup) weigh
 * as much as the MACs, so these layers get their own loop: channel pair outer, blocks of eight
 * pixels inner, the pixels read in place (pixel k's byte i at x[k * depth + i], the depth a
 * compile-time constant: immediate offsets, no gathering), the pair's constants in memory,
 * read once per block, and the sixteen outputs requantized from registers. Under such an
 * activation a negative accumulator (bias included) gives act_min: its requantized value is at
 * most the zero point (opt_common.h: both roundings keep a negative sum at or below 0), so the
 * rounding correction of negative sums and the lower clamp are skipped: a sign test instead. */
typedef struct shallow_pair {
    const int8_t *x, *end;   /* the next block's pixels; past the last block */
    int8_t *o;               /* the next block's output at the pair's first channel */
    const int8_t *w;         /* the pair's weights (2 x depth) */
    int32_t stride;          /* output channels: pixel k's outputs at o[k * stride] */
    int32_t f0, f1;          /* folded biases */
    uint32_t m0, m1, k0, k1; /* doubled multipliers and rounding constants (opt_common.h) */
    int32_t s0, s1;          /* shifts r + 1 */
    int32_t lo, hi;
} shallow_pair;

/* acc (a ReLU-like layer's, bias included) requantized in the doubled form into o: act_min for
 * a negative acc, else without the negative-sum correction and the lower clamp. */
#define NML_SHALLOW_OUT(acc, mult, k2, r1, o)                                                      \
    do {                                                                                           \
        int32_t y_ = lo_; /* (int32: an int8 here costs a sign extension per output) */            \
        if ((acc) >= 0) {                                                                          \
            const int32_t x2_ = (int32_t)((uint32_t)(acc) << 1);                                   \
            y_ = (int32_t)((uint32_t)(((int64_t)x2_ * (int64_t)(mult)) >> 32) + (k2)) >> (r1);     \
            if (y_ > hi_) y_ = hi_;                                                                \
        }                                                                                          \
        *(o) = (int8_t)y_;                                                                         \
    } while (0)

/* Step i of the depth: weight i of both channels times byte i of the eight pixels. */
#define NML_SHALLOW_STEP(i)                                                                        \
    do {                                                                                           \
        const int32_t u = w[i], v = w[D + (i)];                                                    \
        int32_t t = p[i];                                                                          \
        a0 += u * t, b0 += v * t, t = p[D + (i)];                                                  \
        a1 += u * t, b1 += v * t, t = p[2 * D + (i)];                                              \
        a2 += u * t, b2 += v * t, t = p[3 * D + (i)];                                              \
        a3 += u * t, b3 += v * t, t = p[4 * D + (i)];                                              \
        a4 += u * t, b4 += v * t, t = p[5 * D + (i)];                                              \
        a5 += u * t, b5 += v * t, t = p[6 * D + (i)];                                              \
        a6 += u * t, b6 += v * t, t = p[7 * D + (i)];                                              \
        a7 += u * t, b7 += v * t;                                                                  \
    } while (0)

/* The blocks of one channel pair (D: the depth, 8 or 16, constant per caller). */
NML_OPT_INLINE void shallow_blocks(shallow_pair *s, const int D) {
    do {
        const int8_t *p = s->x, *w = s->w;
        int32_t a0 = s->f0, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        int32_t b0 = s->f1, b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0, b6 = b0, b7 = b0;
        for (int32_t h = 0; h < D; h += 8, p += 8, w += 8) {
            NML_SHALLOW_STEP(0);
            NML_SHALLOW_STEP(1);
            NML_SHALLOW_STEP(2);
            NML_SHALLOW_STEP(3);
            NML_SHALLOW_STEP(4);
            NML_SHALLOW_STEP(5);
            NML_SHALLOW_STEP(6);
            NML_SHALLOW_STEP(7);
        }
        NML_REGISTER_BARRIER(); /* the pair's constants: read now, not held across the MACs */
        const int32_t stride = s->stride, lo_ = s->lo, hi_ = s->hi;
        const uint32_t m0 = s->m0, k0 = s->k0, m1 = s->m1, k1 = s->k1;
        const int32_t r0 = s->s0, r1 = s->s1;
        int8_t *o = s->o;
#define NML_SHALLOW_PIXEL(a, b)                                                                    \
    do {                                                                                           \
        NML_SHALLOW_OUT(a, m0, k0, r0, o);                                                         \
        NML_SHALLOW_OUT(b, m1, k1, r1, o + 1);                                                     \
        o += stride;                                                                               \
    } while (0)
        NML_SHALLOW_PIXEL(a0, b0);
        NML_SHALLOW_PIXEL(a1, b1);
        NML_SHALLOW_PIXEL(a2, b2);
        NML_SHALLOW_PIXEL(a3, b3);
        NML_SHALLOW_PIXEL(a4, b4);
        NML_SHALLOW_PIXEL(a5, b5);
        NML_SHALLOW_PIXEL(a6, b6);
        NML_SHALLOW_PIXEL(a7, b7);
#undef NML_SHALLOW_PIXEL
        s->o = o;
        s->x += 8 * D;
    } while (s->x != s->end);
}
#undef NML_SHALLOW_STEP
#undef NML_SHALLOW_OUT

NML_NOINLINE static void shallow_blocks_8(shallow_pair *s) {
    shallow_blocks(s, 8);
}

NML_NOINLINE static void shallow_blocks_16(shallow_pair *s) {
    shallow_blocks(s, 16);
}

/* The doubled form's constants of channel c (emit_pair). */
static void shallow_channel(const nml_rq *rq, int32_t c, uint32_t *m, uint32_t *k, int32_t *r1) {
    const int32_t i = c * rq->step, r = rq->shift[i];
    *m = (uint32_t)rq->mult[i];
    *k = ((1u + 2u * (uint32_t)rq->out_zp) << r) + (uint32_t)(r != 0);
    *r1 = r + 1;
}

/* A shallow pointwise layer's blocks of eight pixels (total / 8 of them), pair by pair (an odd
 * last channel is redone with the one before it). */
NML_NOINLINE static void shallow_pairs(const geom *g, const nml_rq *rq, int32_t total) {
    const int32_t D = g->depth, blocks = total / NML_BLOCK_PIXELS;
    shallow_pair s;
    s.stride = g->out_c;
    s.lo = rq->act_min;
    s.hi = rq->act_max;
    for (int32_t oc = 0; oc < g->out_c; oc += 2) {
        const int32_t c0 = oc + 1 < g->out_c ? oc : oc - 1;
        s.x = g->in;
        s.end = g->in + (size_t)blocks * NML_BLOCK_PIXELS * D;
        s.o = g->out + c0;
        s.w = g->filter + c0 * D;
        s.f0 = g->fb[c0];
        s.f1 = g->fb[c0 + 1];
        shallow_channel(rq, c0, &s.m0, &s.k0, &s.s0);
        shallow_channel(rq, c0 + 1, &s.m1, &s.k1, &s.s1);
        if (D == 8)
            shallow_blocks_8(&s);
        else
            shallow_blocks_16(&s);
    }
}

/* variant: constant per caller; the lean variants skip the paths their prepare refused */
NML_OPT_INLINE nml_status eval_variant(nml_ctx *ctx, nml_node *node, int variant) {
    const int lean = variant == VARIANT_LEAN || variant == VARIANT_LEAN_C1;
    const opt_conv *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const nml_tensor *filter = nml_node_input(ctx, node, 1);
    const nml_tensor *bias = nml_node_input(ctx, node, 2);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    geom g;
    g.in = input->data;
    g.filter = filter->data;
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
    g.fb = nml_ctx_scratch(ctx, node); /* NULL when a 1x1 layer goes pixel by pixel */
    g.col = (int8_t *)g.fb;            /* pixel by pixel: the scratch is one window */
    const int32_t *b = bias ? (const int32_t *)bias->data : NULL;
    const int32_t total = input->dims[0] * g.out_h * g.out_w;
    pixel a = {0, 0, 0};
    int32_t start = 0; /* the first pixel left to single_pixels */
    g.pointwise = is_pointwise(filter, input, output, &d->ref.w);
    if (d->blocks) { /* pixel by pixel: no folded biases */
        g.col = (int8_t *)(g.fb + g.out_c);
        fold_biases(&g, b, g.fb);
        if (!lean && d->shallow)
            shallow_pairs(&g, &d->rq, total);
        else if (g.out_c == 1)
            one_channel_blocks(&g, &d->rq, total, &a);
        else if ((variant == VARIANT_FULL || variant == VARIANT_LEAN_C1) && d->c1)
            c1_blocks(&g, &d->rq, total);
        else
            pixel_blocks(&g, &d->rq, total, lean);
        start = total - total % NML_BLOCK_PIXELS;
        a = pixel_at(&g, start);
    }
    single_pixels(&g, &d->rq, b, start, total, a, lean);
    return NML_OK;
}

static nml_status opt_conv_eval_int8(nml_ctx *ctx, nml_node *node) {
    return eval_variant(ctx, node, VARIANT_INT8);
}

static nml_status opt_conv_eval_lean(nml_ctx *ctx, nml_node *node) {
    return eval_variant(ctx, node, VARIANT_LEAN);
}

static nml_status opt_conv_eval_lean_c1(nml_ctx *ctx, nml_node *node) {
    return eval_variant(ctx, node, VARIANT_LEAN_C1);
}

static nml_status opt_conv_eval(nml_ctx *ctx, nml_node *node) {
    const opt_conv *d = node->data;
    if (d->use_ref) {
        nml_conv_2d_eval_ref(ctx, node, &d->ref);
        return NML_OK;
    }
    return opt_conv_eval_int8(ctx, node);
}

const nml_kernel nml_kernel_conv_2d_opt = {NML_OP_CONV_2D, "CONV_2D", opt_conv_prepare,
                                           opt_conv_eval};
const nml_kernel nml_kernel_conv_2d_opt_int8 = {NML_OP_CONV_2D, "CONV_2D", opt_conv_prepare_int8,
                                                opt_conv_eval_int8};
const nml_kernel nml_kernel_conv_2d_opt_lean = {NML_OP_CONV_2D, "CONV_2D", opt_conv_prepare_lean,
                                                opt_conv_eval_lean};
const nml_kernel nml_kernel_conv_2d_opt_lean_c1 = {NML_OP_CONV_2D, "CONV_2D",
                                                   opt_conv_prepare_lean_c1, opt_conv_eval_lean_c1};
