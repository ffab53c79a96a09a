#include "qmath.h"

#include <string.h>

void nml_quantize_multiplier(double m, int32_t *significand, int *exponent) {
    *significand = 0;
    *exponent = 0;
    if (!(m > 0.0)) return; /* zero, negative or NaN: nothing representable */
    uint64_t bits;
    memcpy(&bits, &m, sizeof bits);
    /* in 32-bit halves (no 64-bit shifts or adds): hi = sign, 11 exponent bits, the top 20
     * mantissa bits; lo = the other 32 */
    const uint32_t hi = (uint32_t)(bits >> 32), lo = (uint32_t)bits;
    const int biased = (int)(hi >> 20); /* m > 0: the sign bit is 0 */
    if (biased == 0x7ff) return;        /* infinity */
    if (biased == 0) {
        /* subnormal: far below 2^-31, so it rounds to zero like TFLite's shift < -31 case */
        return;
    }
    /* 53-bit significand M = (1 << 52 | mantissa): m = (M / 2^53) * 2^exp, fraction in
     * [0.5, 1); fraction * 2^31 = M / 2^22, rounded half away from zero: the top 31 bits of
     * M plus its bit 21 */
    int exp = biased - 1022;
    uint32_t q = (((hi & 0xfffffu) | 0x100000u) << 10 | lo >> 22) + (lo >> 21 & 1u);
    if (q == 0x80000000u) {
        q >>= 1;
        exp++;
    }
    if (exp < -31) return;
    if (exp > 30) { /* multipliers this large do not occur in valid models; saturate */
        q = INT32_MAX;
        exp = 30;
    }
    *significand = (int32_t)q;
    *exponent = exp;
}

int32_t nml_srdhm(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    /* The reference adds a nudge of 2^30 (1 - 2^30 for a negative product) and divides by 2^31
     * truncating toward zero, which is floor((ab + 2^30) / 2^31) for either sign. Done on the
     * product's 32-bit halves (an add with carry and a funnel shift, no 64-bit division); the
     * quotient fits int32 except in the case above. */
    const uint64_t ab = (uint64_t)((int64_t)a * (int64_t)b);
    const uint32_t lo = (uint32_t)ab, sum = lo + 0x40000000u;
    const uint32_t hi = (uint32_t)(ab >> 32) + (sum < lo);
    return (int32_t)(hi << 1 | sum >> 31);
}

int32_t nml_rdbpot(int32_t x, int exponent) {
    /* exponent in [0, 31] (x >> exponent needs it): the mask fits 32-bit arithmetic */
    int32_t mask = (int32_t)((1u << exponent) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    /* arithmetic right shift of a negative value: implementation-defined in C, arithmetic on
     * every compiler nanoml supports (gcc, clang) */
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t nml_mul_by_qm(int32_t x, int32_t significand, int exponent) {
    int left = exponent > 0 ? exponent : 0;
    int right = exponent > 0 ? 0 : -exponent;
    /* left shift in unsigned arithmetic: the reference wraps (x * 2^left in int32) */
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return nml_rdbpot(nml_srdhm(shifted, significand), right);
}
