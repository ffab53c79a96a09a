/* CONV_2D optimized for cores without SIMD or FPU (RV32IMC), bit-exact with the reference
 * kernel (conv_2d.c), which stays the oracle and evaluates everything but plain int8 (int8
 * activations and weights, not grouped): float32, hybrid, int4 weights, grouped convolution.
 *
 * int8 evaluation is a GEMM: output pixels are taken two at a time and output channels four at
 * a time; the 4x2 block's eight accumulators stay in registers while the inner loop runs over
 * the filter depth, so each loaded activation serves four channels and each loaded weight two
 * pixels (6 loads per 8 multiply-accumulates, ~3 instructions per MAC), and the block is
 * requantized from registers (opt_common.h). A 1x1 stride-1 layer reads its pixels in place;
 * any other layer first copies the two pixels' windows into a scratch buffer (im2col for two
 * pixels, amortized over all output channels), with padding taps set to the input zero point.
 * Every window is then whole, so the input zero point folds into the bias:
 * sum w * (x - zp) + bias = sum w * x + (bias - zp * sum w), the folded bias being computed
 * once per evaluation (padding contributes w * zp - w * zp = 0, as in the reference), with the
 * channels' rounding constants. One call per pixel pair runs all blocks of four channels (a
 * call per block cost small depths up to 0.5 instructions per MAC); a single pixel (a layer's
 * only one, or an odd last one) takes a 4x1 dot instead of computing itself twice. */
#include <stddef.h>

#include "conv_ref.h"
#include "kernels.h"
#include "opt_common.h"

typedef struct opt_conv {
    nml_conv_data ref;
    nml_rq rq;
    uint8_t use_ref; /* not plain int8 (float32, hybrid, int4) or grouped: the reference */
} opt_conv;

/* int8_only: the variant without the reference fallback (conv_ref.h), constant per caller */
NML_OPT_INLINE nml_status prepare_variant(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                          int int8_only) {
    opt_conv *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    if (int8_only)
        NML_TRY(nml_conv_2d_setup_int8(ctx, node, p, &d->ref));
    else
        NML_TRY(nml_conv_2d_setup(ctx, node, p, &d->ref, 0));
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const nml_tensor *filter = nml_node_input(ctx, node, 1);
    const nml_tensor *output = nml_node_output(ctx, node, 0);
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
        /* folded biases, rounding constants, then two im2col windows (not needed by 1x1 stride-1
         * layers, kept simple: depth bytes each) */
        const size_t depth = (size_t)filter->dims[1] * filter->dims[2] * filter->dims[3];
        NML_TRY(
            nml_ctx_request_scratch(ctx, node, (size_t)out_ch * 2 * sizeof(int32_t) + 2 * depth));
        NML_TRY(nml_rq_conv(ctx, node, input, filter, output, out_ch, d->ref.act_min,
                            d->ref.act_max, nml_node_input(ctx, node, 2),
                            nml_rq_dot_bound((int64_t)depth, input->zero_point, 128), &d->rq));
    }
    node->data = d;
    return NML_OK;
}

static nml_status opt_conv_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return prepare_variant(ctx, node, p, 0);
}

static nml_status opt_conv_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return prepare_variant(ctx, node, p, 1);
}

typedef struct geom {
    const int8_t *in, *filter;
    int8_t *out;
    int32_t h, w, c, out_h, out_w, out_c, kh, kw, depth; /* depth = kh * kw * c */
    int32_t zp;                                          /* input zero point */
    const nml_window *win;
    const int32_t *folded_bias; /* bias - zp * sum of the channel's weights (scratch) */
    const uint32_t *khi;        /* fast requantization: rounding constants (scratch) */
    int8_t *col;                /* two windows of depth bytes (scratch), or NULL (pointwise) */
} geom;

static void copy_bytes(int8_t *dst, const int8_t *src, int32_t n) {
    for (; n >= 4; n -= 4, dst += 4, src += 4) /* unrolled: windows are copied per pixel pair */
        dst[0] = src[0], dst[1] = src[1], dst[2] = src[2], dst[3] = src[3];
    for (; n > 0; n--)
        *dst++ = *src++;
}

static void fill_bytes(int8_t *dst, int8_t v, int32_t n) {
    for (; n > 0; n--)
        *dst++ = v;
}

/* Window of output pixel (b, oy, ox) copied to dst, padding taps set to the zero point; a
 * filter row inside the input without horizontal dilation is one contiguous copy. */
static void im2col(const geom *g, int32_t b, int32_t oy, int32_t ox, int8_t *dst) {
    const nml_window *win = g->win;
    const int32_t iy0 = oy * win->stride_h - win->pad_h, ix0 = ox * win->stride_w - win->pad_w;
    const int32_t row_bytes = g->kw * g->c;
    const int whole_rows = win->dilation_w == 1 && ix0 >= 0 && ix0 + g->kw <= g->w;
    const int8_t zp = (int8_t)g->zp;
    for (int32_t ky = 0; ky < g->kh; ky++, dst += row_bytes) {
        const int32_t iy = iy0 + ky * win->dilation_h;
        if (iy < 0 || iy >= g->h) {
            fill_bytes(dst, zp, row_bytes);
            continue;
        }
        const int8_t *src = g->in + ((size_t)(b * g->h + iy) * g->w) * g->c;
        if (whole_rows) {
            copy_bytes(dst, src + ix0 * g->c, row_bytes);
            continue;
        }
        for (int32_t kx = 0; kx < g->kw; kx++) {
            const int32_t ix = ix0 + kx * win->dilation_w;
            if (ix >= 0 && ix < g->w)
                copy_bytes(dst + kx * g->c, src + ix * g->c, g->c);
            else
                fill_bytes(dst + kx * g->c, zp, g->c);
        }
    }
}

/* One step of the 4x2 block: activations i of both pixels times weights i of four channels. */
#define NML_MAC_4X2(i)                                                                             \
    do {                                                                                           \
        const int32_t xa = p0[i], xb = p1[i];                                                      \
        int32_t v = w0[i];                                                                         \
        a00 += v * xa;                                                                             \
        a01 += v * xb;                                                                             \
        v = w1[i];                                                                                 \
        a10 += v * xa;                                                                             \
        a11 += v * xb;                                                                             \
        v = w2[i];                                                                                 \
        a20 += v * xa;                                                                             \
        a21 += v * xb;                                                                             \
        v = w3[i];                                                                                 \
        a30 += v * xa;                                                                             \
        a31 += v * xb;                                                                             \
    } while (0)

/* Output stage of a 4x2 block: channels oc..oc+3 of the two pixels. */
typedef struct out4x2 {
    const int32_t *bias; /* folded bias */
    const int32_t *mult;
    const int8_t *shift;
    const uint32_t *khi; /* the channels' rounding constants (nml_rq_entry), per evaluation */
    int32_t lo, hi;
    int32_t *acc; /* slow requantization: the accumulators go here instead */
} out4x2;

/* The struct's fields come in by value as locals: int8 stores may alias anything, so gcc would
 * reload them after every output. */
NML_OPT_INLINE void emit_4x2(out4x2 s, int32_t j, int32_t v0, int32_t v1, int8_t *o0, int8_t *o1) {
    nml_rq_ch ch;
    ch.mult = (uint32_t)s.mult[j];
    ch.r = s.shift[j];
    ch.khi = s.khi[j];
    ch.neg_mask = 0u - (uint32_t)(ch.r != 0);
    const int32_t b = s.bias[j];
    o0[j] = nml_rq_clamp(nml_rq_apply(nml_add_wrap(v0, b), ch), s.lo, s.hi);
    o1[j] = nml_rq_clamp(nml_rq_apply(nml_add_wrap(v1, b), ch), s.lo, s.hi);
}

#if defined(__GNUC__)
#define NML_NOINLINE __attribute__((noinline))
#else
#define NML_NOINLINE
#endif

/* Output channels oc..end-1 (end - oc >= 4; filter: the whole filter) of the two pixels whose
 * windows are the depth bytes at x0 and x1, four channels at a time (a last partial block is
 * redone as the last four channels, rewriting equal values), requantized into o0 and o1; or,
 * for the slow requantization, the accumulators of the one block oc..oc+3 into s->acc. Out of
 * line so nothing else competes for the registers (8 accumulators, 6 pointers, the counter
 * and temporaries), and over all blocks so small depths do not pay a call per block. */
NML_NOINLINE static void gemm_4x2(const int8_t *x0, const int8_t *x1, const int8_t *filter,
                                  int32_t depth, const out4x2 *s, int32_t oc, int32_t end,
                                  int8_t *o0, int8_t *o1) {
    for (; oc < end; oc += 4) {
        if (oc + 4 > end) oc = end - 4;
        const int8_t *p0 = x0, *p1 = x1, *w0 = filter + oc * depth;
        const int8_t *w1 = w0 + depth, *w2 = w1 + depth, *w3 = w2 + depth;
        int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0, a30 = 0, a31 = 0;
        int32_t n4 = depth >> 2;
        if (n4 > 0) do {
                NML_MAC_4X2(0);
                NML_MAC_4X2(1);
                NML_MAC_4X2(2);
                NML_MAC_4X2(3);
                p0 += 4, p1 += 4, w0 += 4, w1 += 4, w2 += 4, w3 += 4;
            } while (--n4);
        for (n4 = depth & 3; n4 > 0; n4--) {
            NML_MAC_4X2(0);
            p0++, p1++, w0++, w1++, w2++, w3++;
        }
        if (s->acc) {
            int32_t *acc = s->acc;
            acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11;
            acc[4] = a20, acc[5] = a21, acc[6] = a30, acc[7] = a31;
            return;
        }
        out4x2 l = *s;
        l.bias += oc, l.mult += oc, l.shift += oc, l.khi += oc;
        int8_t *q0 = o0 + oc, *q1 = o1 + oc;
        emit_4x2(l, 0, a00, a01, q0, q1);
        emit_4x2(l, 1, a10, a11, q0, q1);
        emit_4x2(l, 2, a20, a21, q0, q1);
        emit_4x2(l, 3, a30, a31, q0, q1);
    }
}
#undef NML_MAC_4X2

/* acc[j] = the dot products of channels j = 0..3 (weights w0 = the first one's) with the window
 * at x: one pixel (an odd last one, or a layer's only one), where each weight serves one MAC
 * and the 4x2 block would compute everything twice. */
NML_NOINLINE static void dot_4x1(const int8_t *x, const int8_t *w0, int32_t depth, int32_t *acc) {
    const int8_t *w1 = w0 + depth, *w2 = w1 + depth, *w3 = w2 + depth;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int32_t n = depth; n > 0; n--) {
        const int32_t v = *x++;
        a0 += *w0++ * v, a1 += *w1++ * v, a2 += *w2++ * v, a3 += *w3++ * v;
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* Requantizes acc[2*j + k] (+ the folded bias) into channel oc + j of o0 (k = 0) and o1
 * (k = 1), j < n: the paths off the 4x2 blocks (slow requantization, one pixel, channels left
 * after blocks of four). */
static void store_block(const nml_rq *rq, const int32_t *bias, int32_t oc, int32_t n,
                        const int32_t *acc, int8_t *o0, int8_t *o1) {
    for (int32_t j = 0; j < 2 * n; j++) {
        const int32_t c = oc + (j >> 1);
        const int32_t v = nml_add_wrap(acc[j], bias[c]);
        int8_t *o = j & 1 ? o1 : o0;
        o[c] = rq->fast
                   ? nml_rq_clamp(nml_rq_apply(v, nml_rq_channel(rq, c)), rq->act_min, rq->act_max)
                   : nml_rq_slow(rq, c, v);
    }
}

/* Every output channel of the two pixels whose windows are x0 and x1 (x0 == x1: one pixel). */
static void pixel_pair(const geom *g, const nml_rq *rq, const int8_t *x0, const int8_t *x1,
                       int8_t *o0, int8_t *o1) {
    int32_t acc[8];
    out4x2 so = {g->folded_bias,       rq->mult, rq->shift, g->khi, rq->act_min, rq->act_max,
                 rq->fast ? NULL : acc};
    int32_t oc = 0;
    if (x0 == x1) { /* one pixel: blocks of four channels, then the channels left */
        for (; oc + 4 <= g->out_c; oc += 4) {
            dot_4x1(x0, g->filter + oc * g->depth, g->depth, acc);
            for (int32_t j = 3; j >= 0; j--)
                acc[2 * j] = acc[2 * j + 1] = acc[j];
            store_block(rq, g->folded_bias, oc, 4, acc, o0, o1);
        }
    } else if (g->out_c >= 4 && rq->fast) {
        /* three channels left are redone as a last block of four; one or two are cheaper on
         * their own */
        const int32_t end = (g->out_c & 3) == 3 ? g->out_c : g->out_c & ~3;
        gemm_4x2(x0, x1, g->filter, g->depth, &so, 0, end, o0, o1);
        oc = end;
    } else {
        for (; oc < g->out_c && g->out_c >= 4; oc += 4) { /* slow: block by block */
            if (oc + 4 > g->out_c) oc = g->out_c - 4;
            gemm_4x2(x0, x1, g->filter, g->depth, &so, oc, oc + 4, o0, o1);
            store_block(rq, g->folded_bias, oc, 4, acc, o0, o1);
        }
    }
    for (; oc < g->out_c; oc++) { /* channels left after blocks of four */
        const int8_t *w = g->filter + oc * g->depth;
        int32_t a0 = 0, a1 = 0;
        for (int32_t i = 0; i < g->depth; i++)
            a0 += w[i] * x0[i], a1 += w[i] * x1[i];
        acc[0] = a0, acc[1] = a1;
        store_block(rq, g->folded_bias, oc, 1, acc, o0, o1);
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

/* acc[j] = sum_i w_j[i] * x[i] for eight channels j (w_j = w0 + j * depth), x: a window minus
 * the input zero point (int16). For layers of a few pixels (a classifier's 5x5 conv over a 5x5
 * map), where a folded bias would cost one more pass over all weights, as many loads as the
 * MACs themselves; one activation load serves eight channels. */
NML_NOINLINE static void dot_8x1(const int16_t *x, const int8_t *w0, int32_t depth, int32_t *acc) {
    const int8_t *w1 = w0 + depth, *w2 = w1 + depth, *w3 = w2 + depth, *w4 = w3 + depth;
    const int8_t *w5 = w4 + depth, *w6 = w5 + depth, *w7 = w6 + depth;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
#define NML_MAC_8X1(i)                                                                             \
    do {                                                                                           \
        const int32_t v = x[i];                                                                    \
        a0 += w0[i] * v, a1 += w1[i] * v, a2 += w2[i] * v, a3 += w3[i] * v;                        \
        a4 += w4[i] * v, a5 += w5[i] * v, a6 += w6[i] * v, a7 += w7[i] * v;                        \
    } while (0)
    const int16_t *end = x + (depth & ~3);
    for (; x != end; x += 4, w0 += 4, w1 += 4, w2 += 4, w3 += 4, w4 += 4, w5 += 4, w6 += 4,
                     w7 += 4) {
        NML_MAC_8X1(0);
        NML_MAC_8X1(1);
        NML_MAC_8X1(2);
        NML_MAC_8X1(3);
    }
    for (int32_t i = 0; i < (depth & 3); i++)
        NML_MAC_8X1(i);
#undef NML_MAC_8X1
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
    acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
}

/* Requantizes acc + bias[c] (the layer's bias, not folded) into o[c]. */
static void store_one(const nml_rq *rq, const int32_t *bias, int32_t c, int32_t acc, int8_t *o) {
    const int32_t v = bias ? nml_add_wrap(acc, bias[c]) : acc;
    o[c] = rq->fast ? nml_rq_clamp(nml_rq_apply(v, nml_rq_channel(rq, c)), rq->act_min, rq->act_max)
                    : nml_rq_slow(rq, c, v);
}

/* Layers of fewer than four output pixels, pixel by pixel: the window minus the zero point in
 * int16 (col: 2 * depth bytes; widened in place from its upper half, each int16 written over
 * bytes already read), eight channels at a time (a last partial block is redone as the last
 * eight channels), one at a time below eight. */
static void few_pixels(const geom *g, const nml_rq *rq, const int32_t *bias, int32_t total) {
    int16_t *x = (int16_t *)(void *)g->col;
    int8_t *x8 = g->col + g->depth;
    pixel a = {0, 0, 0};
    int32_t acc[8];
    for (int32_t i = 0; i < total; i++, next_pixel(g, &a)) {
        im2col(g, a.b, a.y, a.x, x8);
        for (int32_t k = 0; k < g->depth; k++)
            x[k] = (int16_t)(x8[k] - g->zp);
        int8_t *o = g->out + i * g->out_c;
        int32_t oc = 0;
        for (; oc < g->out_c && g->out_c >= 8; oc += 8) {
            if (oc + 8 > g->out_c) oc = g->out_c - 8;
            dot_8x1(x, g->filter + oc * g->depth, g->depth, acc);
            for (int32_t j = 0; j < 8; j++)
                store_one(rq, bias, oc + j, acc[j], o);
        }
        for (; oc < g->out_c; oc++) {
            const int8_t *w = g->filter + oc * g->depth;
            int32_t s = 0;
            for (int32_t k = 0; k < g->depth; k++)
                s += w[k] * x[k];
            store_one(rq, bias, oc, s, o);
        }
    }
}

/* 1x1 filter, stride 1, no padding: pixel i's window is input pixel i. */
static int pointwise(const geom *g) {
    const nml_window *w = g->win;
    return g->kh == 1 && g->kw == 1 && w->stride_h == 1 && w->stride_w == 1 && w->pad_h == 0 &&
           w->pad_w == 0 && g->out_h == g->h && g->out_w == g->w;
}

static void conv_int8_opt(const geom *g, const nml_rq *rq, int32_t batches) {
    const int32_t total = batches * g->out_h * g->out_w;
    pixel a = {0, 0, 0};
    for (int32_t i = 0; i < total; i += 2) {
        const int32_t j = i + 1 < total ? i + 1 : i; /* an odd last pixel pairs with itself */
        const int8_t *x0 = g->in + i * g->c, *x1 = g->in + j * g->c;
        if (g->col) {
            pixel b = a;
            if (j > i) next_pixel(g, &b);
            im2col(g, a.b, a.y, a.x, g->col);
            im2col(g, b.b, b.y, b.x, g->col + g->depth);
            x0 = g->col, x1 = g->col + g->depth;
            a = b;
            next_pixel(g, &a);
        }
        pixel_pair(g, rq, x0, x1, g->out + i * g->out_c, g->out + j * g->out_c);
    }
}

/* folded[c] = bias[c] - zp * (sum of channel c's weights), in locals: the int32 stores may
 * alias the geometry, gcc would reload it for every weight. */
static void fold_biases(const geom *g, const int32_t *bias, int32_t *folded) {
    const int8_t *w = g->filter;
    const int32_t depth = g->depth, zp = g->zp, out_c = g->out_c;
    for (int32_t c = 0; c < out_c; c++) {
        int32_t sum = 0; /* |sum| <= depth * 128: the accumulator check bounds zp * sum */
        int32_t i = depth;
        for (; i >= 4; i -= 4, w += 4) /* unrolled: a one-pixel layer sums as much as it MACs */
            sum += w[0] + w[1] + w[2] + w[3];
        for (; i > 0; i--)
            sum += *w++;
        folded[c] = nml_add_wrap(bias ? bias[c] : 0, -zp * sum);
    }
}

static nml_status opt_conv_eval_int8(nml_ctx *ctx, nml_node *node) {
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
    int32_t *folded = nml_ctx_scratch(ctx, node);
    uint32_t *khi = (uint32_t *)(folded + g.out_c);
    g.col = (int8_t *)(khi + g.out_c);
    const int32_t *b = bias ? (const int32_t *)bias->data : NULL;
    const int32_t total = input->dims[0] * g.out_h * g.out_w;
    if (total < 4) {
        few_pixels(&g, &d->rq, b, total);
        return NML_OK;
    }
    if (pointwise(&g)) g.col = NULL;
    g.khi = khi;
    fold_biases(&g, b, folded);
    if (d->rq.fast)
        for (int32_t c = 0; c < g.out_c; c++)
            khi[c] = nml_rq_channel(&d->rq, c).khi;
    g.folded_bias = folded;
    conv_int8_opt(&g, &d->rq, input->dims[0]);
    return NML_OK;
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
