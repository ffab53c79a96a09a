/* Fixed-point transcendental functions with gemmlowp's exact arithmetic. The constants are the
 * Q0.31 / Q2.29 encodings gemmlowp uses (each is round(value * 2^fractional_bits)); the
 * evaluation order follows gemmlowp step by step because every rounding is observable in the
 * int8 outputs TFLite Micro produces. */
#include "fixedpoint.h"

#include "qmath.h"

/* The reference adds and negates raw int32 values without saturation; on two's-complement
 * hardware that wraps. Doing it in unsigned arithmetic keeps the same results without
 * undefined behaviour (conversion back to int32 is modular on gcc and clang). */
static int32_t wrap_add(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}
static int32_t wrap_sub(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a - (uint32_t)b);
}
static int32_t wrap_neg(int32_t a) {
    return (int32_t)(0u - (uint32_t)a);
}

static int count_leading_zeros(uint32_t x) {
    if (x == 0) return 32;
#if defined(__GNUC__)
    return __builtin_clz(x);
#else
    int n = 0;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        n++;
    }
    return n;
#endif
}

int32_t nml_fp_mul_pot(int32_t x, int exponent) {
    if (exponent == 0) return x;
    if (exponent < 0) return nml_rdbpot(x, -exponent);
    const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return (int32_t)((uint32_t)x << exponent);
}

int32_t nml_fp_rounding_half_sum(int32_t a, int32_t b) {
    /* gemmlowp: (sum + sign(sum)) / 2 truncating; for sum < 0 that is floor(sum / 2), for
     * sum >= 0 floor((sum + 1) / 2): one arithmetic shift (no 64-bit division) */
    const int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0)) >> 1);
}

int32_t nml_fp_exp_on_interval_neg_quarter(int32_t a) {
    /* Taylor expansion of exp around -1/8: exp(-1/8) * (1 + x + x^2/2 + x^3/6 + x^4/24) with
     * x = a + 1/8. */
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0 */
    int32_t x = wrap_add(a, 1 << 28);                /* 1/8 in Q0 is 2^28 */
    int32_t x2 = nml_srdhm(x, x);
    int32_t x3 = nml_srdhm(x2, x);
    int32_t x4 = nml_srdhm(x2, x2);
    int32_t x4_over_4 = nml_fp_mul_pot(x4, -2);
    int32_t poly = nml_fp_mul_pot(wrap_add(nml_srdhm(wrap_add(x4_over_4, x3), one_third), x2), -1);
    return wrap_add(exp_minus_one_eighth, nml_srdhm(exp_minus_one_eighth, wrap_add(x, poly)));
}

/* exp(-2^e) in Q0 for e = -2 .. 4: the factors of the barrel shifter that handles the whole
 * quarters of the input one bit at a time. */
static const int32_t exp_neg_pow2[7] = {1672461947, 1302514674, 790015084, 290630308,
                                        39332535,   720401,     242};

int32_t nml_fp_exp_on_negative_values(int32_t a, int integer_bits) {
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t mask = one_quarter - 1;
    /* a = (whole quarters) + (a mod 1/4 - 1/4); the second part lies in [-1/4, 0) */
    const int32_t a_mod_quarter_minus_quarter = wrap_sub(a & mask, one_quarter);
    int32_t result = nml_fp_exp_on_interval_neg_quarter(
        nml_fp_mul_pot(a_mod_quarter_minus_quarter, integer_bits));
    const int32_t remainder = wrap_sub(a_mod_quarter_minus_quarter, a);
    for (int e = -2; e <= 4; e++) {
        if (integer_bits <= e) break; /* bits at or above the format's range cannot be set */
        int shift = fractional_bits + e;
        if (remainder & ((int32_t)1 << shift)) result = nml_srdhm(result, exp_neg_pow2[e + 2]);
    }
    if (integer_bits > 5) {
        /* below -32 the barrel shifter has no bits left: exp is zero at this precision */
        const int32_t minus_32 = -((int32_t)1 << (36 - integer_bits));
        if (a < minus_32) result = 0;
    }
    if (a == 0) result = NML_FP_ONE_Q0;
    return result;
}

/* Newton-Raphson for 1 / (1 + a) in Q2.29: x <- x + x * (1 - d * x) with d = (1 + a) / 2,
 * starting from 48/17 - 32/17 * d. Returns x (which approximates 1 / d) in Q2. */
static int32_t reciprocal_half_denominator_q2(int32_t half_denominator) {
    const int32_t c_48_over_17 = 1515870810;      /* Q2 */
    const int32_t c_neg_32_over_17 = -1010580540; /* Q2 */
    const int32_t one_q2 = 1 << 29;
    int32_t x = wrap_add(c_48_over_17, nml_srdhm(half_denominator, c_neg_32_over_17));
    for (int i = 0; i < 3; i++) {
        int32_t half_denominator_times_x = nml_srdhm(half_denominator, x);
        int32_t one_minus = wrap_sub(one_q2, half_denominator_times_x);
        x = wrap_add(x, nml_fp_mul_pot(nml_srdhm(x, one_minus), 2)); /* Q4 product back to Q2 */
    }
    return x;
}

int32_t nml_fp_one_over_one_plus_x(int32_t a) {
    int32_t x = reciprocal_half_denominator_q2(nml_fp_rounding_half_sum(a, NML_FP_ONE_Q0));
    /* x ~ 2 / (1 + a) in Q2 is 1 / (1 + a) in Q1; Q1 -> Q0 */
    return nml_fp_mul_pot(x, 1);
}

int32_t nml_fp_one_minus_x_over_one_plus_x(int32_t a) {
    int32_t x = reciprocal_half_denominator_q2(nml_fp_rounding_half_sum(a, NML_FP_ONE_Q0));
    /* 2 / (1 + a) - 1 = (1 - a) / (1 + a); Q2 -> Q0 */
    return nml_fp_mul_pot(wrap_sub(x, 1 << 29), 2);
}

int32_t nml_fp_logistic(int32_t a, int integer_bits) {
    const int positive = a > 0;
    const int32_t abs_a = positive ? a : wrap_neg(a);
    const int32_t result_if_positive =
        nml_fp_one_over_one_plus_x(nml_fp_exp_on_negative_values(wrap_neg(abs_a), integer_bits));
    if (a == 0) return 1 << 30; /* exactly 1/2 */
    return positive ? result_if_positive : wrap_sub(NML_FP_ONE_Q0, result_if_positive);
}

int32_t nml_fp_tanh(int32_t a, int integer_bits) {
    const int negative = a < 0;
    const int32_t non_positive = negative ? a : wrap_neg(a);
    /* -tanh(n) = (1 - exp(2n)) / (1 + exp(2n)) for n <= 0; the doubling is exact: the same raw
     * value read with one more integer bit */
    const int32_t neg_tanh = nml_fp_one_minus_x_over_one_plus_x(
        nml_fp_exp_on_negative_values(non_positive, integer_bits + 1));
    if (a == 0) return 0;
    return negative ? wrap_neg(neg_tanh) : neg_tanh;
}

int32_t nml_fp_reciprocal(int32_t x, int integer_bits, int *num_bits_over_unit) {
    const int headroom_plus_one = count_leading_zeros((uint32_t)x);
    *num_bits_over_unit = integer_bits - headroom_plus_one;
    /* normalize x into [1, 2) and take 1 / (1 + (x - 1)); x == 0 is not a valid input (the
     * reference shifts by 32 there); treat it as 1 */
    const int32_t shifted_minus_one =
        headroom_plus_one >= 32 ? 0 : (int32_t)(((uint32_t)x << headroom_plus_one) - 0x80000000u);
    return nml_fp_one_over_one_plus_x(shifted_minus_one);
}

int32_t nml_fp_mul_by_qm_gt_one(int32_t x, int32_t multiplier, int left_shift) {
    return nml_srdhm((int32_t)((uint32_t)x << left_shift), multiplier);
}
