#include "qmath.h"

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
