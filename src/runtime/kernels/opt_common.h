/* Requantization for the optimized int8 kernels (opt_*.c): the same result as the reference
 * clamp(nml_mul_by_qm(acc, m, e) + output_zp), computed with one 32x32->64-bit multiply
 * (mul + mulhsu on RV32IM) and five more instructions per output.
 *
 * Why it is exact: with M = m > 0 and a right shift r = -e >= 1, the reference computes
 *   s = SRDHM(acc, M) = floor((acc*M + 2^30) / 2^31)          (rounds half up, any sign)
 *   y = RDBPOT(s, r)  = floor((s + 2^(r-1) - [s < 0]) / 2^r)   (rounds half away from zero)
 * Nested floors of integer divisions merge, so with the doubled multiplier M2 = 2M < 2^32
 *   y + zp = floor((acc*M2 + K) / 2^(32+r)),  K = 2^31 + 2^(31+r) + zp*2^(32+r) - [s<0]*2^32,
 * and [s < 0] may be replaced by [acc < 0]: they differ only when s == 0, where both give 0.
 * K's low word is 2^31, so it only adds bit 31 of the product's low word as a carry:
 *   y + zp = (hi(acc*M2) + lo(acc*M2)>>31 + (1 + 2*zp)*2^(r-1) - [acc<0]) >> r.
 * For r = 0 (no second rounding) the same holds with zp in place of (1 + 2*zp)*2^(r-1) and no
 * [acc<0] term. The only condition is that this 32-bit sum does not wrap for any accumulator
 * the layer can produce (bias included); nml_rq_finish checks that exactly per channel.
 * Layers where it could wrap, or with multipliers >= 1 (a left shift), use the reference
 * arithmetic instead. */
#ifndef NANOML_KERNELS_OPT_COMMON_H
#define NANOML_KERNELS_OPT_COMMON_H

#include <stdint.h>

#include "kernel.h"
#include "qmath.h"

/* The per-output helpers must be inlined into the kernels' loops (at -Os gcc would otherwise
 * call them and pass the channel parameters through memory). */
#if defined(__GNUC__)
#define NML_OPT_INLINE static inline __attribute__((always_inline))
#else
#define NML_OPT_INLINE static inline
#endif

typedef struct nml_rq {
    int32_t *mult; /* fast: 2 * significand (as uint32); otherwise the Q31 significand, per
                    * channel (one entry when step == 0) */
    int8_t *shift; /* fast: r = -exponent; otherwise the exponent */
    int32_t step;  /* 1: per-channel tables, 0: one multiplier for every channel */
    int32_t out_zp;
    int32_t act_min, act_max;
    uint8_t fast;
} nml_rq;

/* Allocates an n-entry table (persistent). Fill it with nml_rq_set, then call nml_rq_finish. */
nml_status nml_rq_alloc(nml_ctx *ctx, const nml_node *node, nml_rq *rq, int32_t n);
/* Entry i: the reference multiplier (significand, exponent). */
void nml_rq_set(nml_rq *rq, int32_t i, int32_t mult, int exponent);
/* Stores the output zero point and the clamp range (absolute quantized values, as
 * nml_activation_range_q gives them) and decides the fast form: every channel's multiplier
 * is below 1 and its fast sum cannot wrap for accumulators up to acc_bound + |bias[c]| in
 * magnitude (bias: the constant int32 bias tensor or NULL; a bias that is not constant rules
 * the fast form out). */
nml_status nml_rq_finish(nml_ctx *ctx, const nml_node *node, nml_rq *rq, int32_t n, int32_t out_zp,
                         int32_t act_min, int32_t act_max, const nml_tensor *bias,
                         int64_t acc_bound);
/* A new table of a convolution-like operator (nml_rq_alloc): entry c =
 * nml_conv_channel_multiplier(c) (an error for a channel whose quantization it refuses). */
nml_status nml_rq_conv_fill(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                            const nml_tensor *filter, const nml_tensor *output, int32_t channels,
                            nml_rq *rq);
/* The same after nml_conv_filter_layout's checks (q_dim: the filter's output-channel
 * dimension): every channel's quantization validated as nml_conv_multipliers_check does, in
 * the same order. The int8-only setups (conv_ref.h) fill the optimized kernels' tables so. */
nml_status nml_rq_channels(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                           const nml_tensor *filter, const nml_tensor *output, int32_t channels,
                           int32_t q_dim, nml_rq *rq);
/* The doubled fast form, for kernels that requantize from registers (opt_conv_2d.c): with
 * X = hi(2 * acc * M2) = floor(acc * M2 / 2^31), the fast form's phi + carry is (X + 1) >> 1,
 * and the nested floors merge into
 *   y + zp = (X + K2 + (neg & -2)) >> (r + 1),   K2 = 1 + 2 * khi,
 * one multiply and no carry extraction (two instructions fewer per output). It needs
 * |acc| < 2^30 (2 * acc fits) and that sum not to wrap: 1 when every channel of the tables (as
 * nml_rq_set filled them, before nml_rq_finish) qualifies for accumulators up to
 * acc_bound + |bias[c]|. */
int nml_rq_doubled_fits(const nml_rq *rq, int32_t n, int32_t out_zp, const nml_tensor *bias,
                        int64_t acc_bound);

/* nml_rq_finish after checking the doubled form on the reference tables (nml_rq_doubled_fits,
 * stored in *doubled); with doubled_only, a layer the doubled form does not fit takes the
 * reference arithmetic (the kernels whose fast paths all requantize in the doubled form). One
 * body for CONV_2D and DEPTHWISE_CONV_2D. */
nml_status nml_rq_finish_doubled(nml_ctx *ctx, const nml_node *node, nml_rq *rq, int32_t n,
                                 int32_t out_zp, int32_t act_min, int32_t act_max,
                                 const nml_tensor *bias, int64_t acc_bound, int doubled_only,
                                 uint8_t *doubled);

/* The largest |sum of depth products w * (x - input_zp)| with |w| <= max_abs_weight. */
int64_t nml_rq_dot_bound(int64_t depth, int32_t input_zp, int32_t max_abs_weight);

/* One channel's parameters unpacked for the inner loops. */
typedef struct nml_rq_ch {
    uint32_t mult, khi, neg_mask;
    int32_t r;
} nml_rq_ch;

/* Entry i from the tables (kept in locals by the caller: int8 stores may alias anything, so
 * gcc would reload struct fields after every output store). The rounding constant
 * (1 + 2 * zp) * 2^(r-1), or zp when r == 0, is rebuilt here rather than stored: 4 bytes per
 * channel of persistent arena saved for a few instructions per channel. */
NML_OPT_INLINE nml_rq_ch nml_rq_entry(const int32_t *mult, const int8_t *shift, int32_t i,
                                      int32_t out_zp) {
    nml_rq_ch p;
    const int32_t r = shift[i];
    p.mult = (uint32_t)mult[i];
    p.r = r;
    p.khi = r ? (uint32_t)(1 + 2 * out_zp) << (r - 1) : (uint32_t)out_zp;
    p.neg_mask = 0u - (uint32_t)(r != 0);
    return p;
}

NML_OPT_INLINE nml_rq_ch nml_rq_channel(const nml_rq *rq, int32_t c) {
    return nml_rq_entry(rq->mult, rq->shift, c * rq->step, rq->out_zp);
}

/* The fast form: acc requantized and offset by the output zero point (not clamped). */
NML_OPT_INLINE int32_t nml_rq_apply(int32_t acc, nml_rq_ch p) {
    const int64_t prod = (int64_t)acc * (int64_t)p.mult; /* |prod| < 2^63 */
    const uint32_t plo = (uint32_t)prod;
    const uint32_t phi = (uint32_t)((uint64_t)prod >> 32);
    const uint32_t neg = (uint32_t)(acc >> 31); /* all ones when acc < 0 */
    const uint32_t hi = phi + (plo >> 31) + p.khi + (neg & p.neg_mask);
    return (int32_t)hi >> p.r;
}

NML_OPT_INLINE int8_t nml_rq_clamp(int32_t v, int32_t lo, int32_t hi) {
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return (int8_t)v;
}

/* The doubled fast form (nml_rq_doubled_fits): k2 = 1 + 2 * khi, neg2 = neg_mask & -2,
 * r1 = r + 1. */
NML_OPT_INLINE int32_t nml_rq_apply_doubled(int32_t acc, uint32_t mult, uint32_t k2, uint32_t neg2,
                                            int32_t r1) {
    const int32_t x2 = (int32_t)((uint32_t)acc << 1);
    const uint32_t hi = (uint32_t)(((int64_t)x2 * (int64_t)mult) >> 32);
    return (int32_t)(hi + k2 + ((uint32_t)(acc >> 31) & neg2)) >> r1;
}

/* Reference arithmetic for entry i (layers that are not fast). */
int8_t nml_rq_slow(const nml_rq *rq, int32_t c, int32_t acc);

#endif
