/* Requantization for the optimized int8 kernels (opt_*.c): the same result as the reference
 * clamp(nml_mul_by_qm(acc, m, e) + output_zp), computed with one 32x32->64-bit multiply, a
 * 64-bit add and one shift per output.
 *
 * Why it is exact: with M = m > 0 and a right shift r = -e >= 1, the reference computes
 *   s = SRDHM(acc, M) = floor((acc*M + 2^30) / 2^31)          (rounds half up, any sign)
 *   y = RDBPOT(s, r)  = floor((s + 2^(r-1) - [s < 0]) / 2^r)   (rounds half away from zero)
 * Nested floors of integer divisions merge, so
 *   y + zp = floor((acc*M + K) / 2^(31+r)),  K = 2^30 + 2^(30+r) + zp*2^(31+r) - [s<0]*2^31,
 * and [s < 0] may be replaced by [acc < 0]: they differ only when s == 0, where both give 0.
 * For 2 <= r <= 23 the high word of acc*M + K fits int32 and its low word contributes only a
 * carry, so y + zp = (high word of acc*M + K) >> (r - 1) with
 *   K = (2^30 | [acc<0]*2^31) + 2^32 * ((1 + 2*zp) * 2^(r-2) - [acc<0]).
 * Layers with any channel outside that range (multipliers >= 1/4 or < 2^-23) use the
 * reference arithmetic instead. */
#ifndef NANOML_KERNELS_OPT_COMMON_H
#define NANOML_KERNELS_OPT_COMMON_H

#include <stdint.h>

#include "kernel.h"
#include "qmath.h"

#define NML_RQ_MIN_RIGHT 2
#define NML_RQ_MAX_RIGHT 23

typedef struct nml_rq {
    int32_t *mult;   /* Q31 significand per channel (one entry when step == 0) */
    int8_t *shift;   /* fast: r - 2; otherwise the reference exponent e */
    int32_t step;    /* 1: per-channel tables, 0: one multiplier for every channel */
    int32_t q;       /* fast: 1 + 2 * output zero point */
    int32_t out_zp;
    int32_t act_min, act_max;
    uint8_t fast;    /* every entry has 2 <= r <= 23 */
} nml_rq;

/* Allocates an n-entry table (persistent). Fill it with nml_rq_set, then call nml_rq_finish. */
nml_status nml_rq_alloc(nml_ctx *ctx, const nml_node *node, nml_rq *rq, int32_t n);
/* Entry i: the reference multiplier (significand, exponent). */
void nml_rq_set(nml_rq *rq, int32_t i, int32_t mult, int exponent);
/* Decides the fast form (all entries in range) and stores the output zero point and the
 * clamp range (absolute quantized values, as nml_activation_range_q gives them). */
void nml_rq_finish(nml_rq *rq, int32_t n, int32_t out_zp, int32_t act_min, int32_t act_max);
/* The table of a convolution-like operator: entry c = nml_conv_channel_multiplier(c). */
nml_status nml_rq_conv(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                       const nml_tensor *filter, const nml_tensor *output, int32_t channels,
                       int32_t act_min, int32_t act_max, nml_rq *rq);

/* One channel's parameters unpacked for the inner loops. */
typedef struct nml_rq_ch {
    int32_t mult, khi, sh;
} nml_rq_ch;

static inline nml_rq_ch nml_rq_channel(const nml_rq *rq, int32_t c) {
    nml_rq_ch p;
    const int32_t i = c * rq->step;
    const int32_t s = rq->shift[i];
    p.mult = rq->mult[i];
    p.khi = (int32_t)((uint32_t)rq->q << s);
    p.sh = s + 1;
    return p;
}

/* The fast form: acc requantized and offset by the output zero point (not clamped). */
static inline int32_t nml_rq_apply(int32_t acc, nml_rq_ch p) {
    const int64_t prod = (int64_t)acc * p.mult;
    const uint32_t plo = (uint32_t)prod;
    const uint32_t phi = (uint32_t)((uint64_t)prod >> 32);
    const uint32_t neg = (uint32_t)(acc >> 31); /* all ones when acc < 0 */
    const uint32_t lo = plo + ((neg << 31) | 0x40000000u);
    const uint32_t hi = phi + (uint32_t)(lo < plo) + (uint32_t)p.khi + neg;
    return (int32_t)hi >> p.sh;
}

static inline int8_t nml_rq_clamp(int32_t v, int32_t lo, int32_t hi) {
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return (int8_t)v;
}

/* Reference arithmetic for entry i (layers that are not fast). */
int8_t nml_rq_slow(const nml_rq *rq, int32_t c, int32_t acc);

#endif
