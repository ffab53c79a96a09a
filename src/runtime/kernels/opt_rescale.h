/* Fixed-point rescaling in 32-bit words for the optimized element-wise kernels (opt_add.c,
 * opt_softmax.c): TFLite's RDBPOT(SRDHM(x, M), r) (MultiplyByQuantizedMultiplier with a right
 * shift) from one 32x32->64-bit product. Kept in a header so that the unit tests check these
 * exact functions against the reference arithmetic (qmath.c) on edge and random values.
 *
 * Why it is exact: SRDHM(x, M) = floor((x*M + 2^30) / 2^31) for any sign (the reference's
 * nudge with truncating division rounds half up), and for r >= 1 RDBPOT(s, r) =
 * floor((s + 2^(r-1) - [s < 0]) / 2^r). The floors of integer quotients merge, so with a zero
 * point z added and M2 = 2M (< 2^32)
 *   y + z = floor((x*M2 + 2^31 + ((2^(r-1) - [s<0]) + z*2^r) * 2^32) / 2^(32+r))
 *         = (hi + (lo >> 31) + (1 + 2z)*2^(r-1) - [s < 0]) >> r,   x*M2 = hi:lo (32-bit words),
 * and for r = 0: y + z = hi + (lo >> 31) + z. [s < 0] may be replaced by [x < 0]: they differ
 * only when s == 0, and then both give z. */
#ifndef NANOML_KERNELS_OPT_RESCALE_H
#define NANOML_KERNELS_OPT_RESCALE_H

#include <stdint.h>

/* The per-element helpers must be inlined into the loops (gcc -Os would call them); the
 * prepare-time ones not, where several calls are smaller than several copies. */
#if defined(__GNUC__)
#define NML_RS_INLINE static inline __attribute__((always_inline))
#define NML_RS_NOINLINE static __attribute__((noinline))
#else
#define NML_RS_INLINE static inline
#define NML_RS_NOINLINE static
#endif

/* One rescaling's constants: m2 = 2 * Q31 significand; k = (1 + 2z) * 2^(r-1), or z when
 * r == 0; neg = all ones when r > 0 (subtract [x < 0]), else 0; r = -exponent in [0, 31]. */
typedef struct nml_rs {
    uint32_t m2, k, neg;
    int32_t r;
} nml_rs;

NML_RS_INLINE nml_rs nml_rs_make(int32_t significand, int32_t r, int32_t zp) {
    nml_rs f;
    f.m2 = 2u * (uint32_t)significand;
    f.r = r;
    f.k = r ? (uint32_t)(1 + 2 * zp) << (r - 1) : (uint32_t)zp;
    f.neg = r ? 0xffffffffu : 0u;
    return f;
}

/* Signed x: RDBPOT(SRDHM(x, M), r) + z, exact when hi + k stays below 2^31 in magnitude, e.g.
 * |x| < 2^29 (then |hi| <= 2^29), |z| <= 128 and r <= 23 ((1 + 2z)*2^(r-1) < 2^30). */
NML_RS_INLINE int32_t nml_rs_apply(int32_t x, uint32_t m2, uint32_t k, uint32_t neg, int32_t r) {
    const int64_t prod = (int64_t)x * (int64_t)m2;
    const uint32_t lo = (uint32_t)prod, hi = (uint32_t)((uint64_t)prod >> 32);
    return (int32_t)(hi + (lo >> 31) + k + ((uint32_t)(x >> 31) & neg)) >> r;
}

/* Non-negative x < 2^31 and M2 < 2^32, z = 0, any r in [0, 31]: RDBPOT(SRDHM(x, M), r) with
 * round = 2^(r-1) (0 when r == 0), all unsigned (hi < 2^31, so no overflow). */
NML_RS_INLINE uint32_t nml_rs_apply_unsigned(uint32_t x, uint32_t m2, uint32_t round, int32_t r) {
    const uint64_t prod = (uint64_t)x * m2;
    return ((uint32_t)(prod >> 32) + ((uint32_t)prod >> 31) + round) >> r;
}

#endif
