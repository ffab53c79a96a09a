/* Fixed-point requantization primitives, checked against values worked out by hand from
 * TFLite's definitions (frexp + round for the multiplier; round-half-up doubling high multiply;
 * round-half-away rounding shift). */
#include "test_util.h"

#include "qmath.h"

#include <math.h>
#include <string.h>

static void quantize_multiplier_splits_like_frexp(void **state) {
    (void)state;
    int32_t q;
    int e;
    nml_quantize_multiplier(0.5, &q, &e); /* 0.5 = 0.5 * 2^0 */
    assert_int_equal(q, 1 << 30);
    assert_int_equal(e, 0);
    nml_quantize_multiplier(1.0, &q, &e); /* 1.0 = 0.5 * 2^1 */
    assert_int_equal(q, 1 << 30);
    assert_int_equal(e, 1);
    nml_quantize_multiplier(0.75, &q, &e); /* 0.75 * 2^31 = 1610612736 */
    assert_int_equal(q, 1610612736);
    assert_int_equal(e, 0);
    nml_quantize_multiplier(0.1, &q, &e); /* 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4 */
    assert_int_equal(q, 1717986918);
    assert_int_equal(e, -3);
    nml_quantize_multiplier(0.0, &q, &e);
    assert_int_equal(q, 0);
    assert_int_equal(e, 0);
    nml_quantize_multiplier(1e-12, &q, &e); /* 2^-40: exponent below -31 becomes zero */
    assert_int_equal(q, 0);
    assert_int_equal(e, 0);
    /* fraction just below 1 rounds up to 2^31 and renormalizes: (2^31 - 0.25) / 2^31 */
    nml_quantize_multiplier(1.0 - 1.0 / 8589934592.0, &q, &e);
    assert_int_equal(q, 1 << 30);
    assert_int_equal(e, 1);
}

static void high_mul_rounds_half_up_and_saturates(void **state) {
    (void)state;
    assert_int_equal(nml_srdhm(100, 1 << 30), 50); /* 100 * 0.5 */
    assert_int_equal(nml_srdhm(3, 1 << 30), 2);    /* 1.5 -> 2 */
    assert_int_equal(nml_srdhm(-3, 1 << 30), -1);  /* -1.5 -> -1 */
    assert_int_equal(nml_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
    assert_int_equal(nml_srdhm(INT32_MAX, INT32_MAX), INT32_MAX - 1);
}

static void rounding_shift_rounds_half_away_from_zero(void **state) {
    (void)state;
    assert_int_equal(nml_rdbpot(3, 1), 2);   /* 1.5 */
    assert_int_equal(nml_rdbpot(-3, 1), -2); /* -1.5 */
    assert_int_equal(nml_rdbpot(5, 2), 1);   /* 1.25 */
    assert_int_equal(nml_rdbpot(-5, 2), -1);
    assert_int_equal(nml_rdbpot(6, 2), 2); /* 1.5 */
    assert_int_equal(nml_rdbpot(-6, 2), -2);
    assert_int_equal(nml_rdbpot(7, 0), 7);
}

/* gemmlowp's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT written out in 64-bit
 * arithmetic as the reference defines them (nudge, truncating division; mask, threshold). */
static int32_t srdhm_definition(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? (1LL << 30) : (1 - (1LL << 30));
    return (int32_t)((ab + nudge) / (1LL << 31));
}

static int32_t rdbpot_definition(int32_t x, int e) {
    const int64_t mask = (1LL << e) - 1, remainder = (int64_t)x & mask;
    const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    /* floor division by 2^e, then the rounding increment */
    const int64_t floor_q = ((int64_t)x - remainder) / (1LL << e);
    return (int32_t)(floor_q + (remainder > threshold ? 1 : 0));
}

static uint32_t next_random(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* The 32-bit-word forms of nml_srdhm and nml_rdbpot agree with the definitions on edge values
 * (every pair of them) and on a million random operands, every exponent 0..31. */
static void srdhm_and_rdbpot_match_their_definitions(void **state) {
    (void)state;
    const int32_t edge[] = {INT32_MIN, INT32_MIN + 1, -(1 << 30) - 1, -(1 << 30), -3, -2, -1, 0,
                            1,         2,             3,              1 << 30,    (1 << 30) + 1,
                            INT32_MAX - 1, INT32_MAX};
    const size_t n = sizeof edge / sizeof edge[0];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++)
            assert_int_equal(nml_srdhm(edge[i], edge[j]), srdhm_definition(edge[i], edge[j]));
        for (int e = 0; e < 32; e++)
            assert_int_equal(nml_rdbpot(edge[i], e), rdbpot_definition(edge[i], e));
    }
    uint32_t s = 0x9e3779b9u;
    for (int k = 0; k < 1000000; k++) {
        const int32_t a = (int32_t)next_random(&s), b = (int32_t)next_random(&s);
        /* small operands too, where the rounding of the low half decides */
        const int32_t c = (int32_t)(next_random(&s) >> (k % 31)) * (k & 1 ? -1 : 1);
        assert_int_equal(nml_srdhm(a, b), srdhm_definition(a, b));
        assert_int_equal(nml_srdhm(a, c), srdhm_definition(a, c));
        assert_int_equal(nml_rdbpot(a, k & 31), rdbpot_definition(a, k & 31));
    }
}

static void multiply_by_quantized_multiplier(void **state) {
    (void)state;
    int32_t q;
    int e;
    nml_quantize_multiplier(0.1, &q, &e);
    assert_int_equal(nml_mul_by_qm(1000, q, e), 100);
    assert_int_equal(nml_mul_by_qm(-1000, q, e), -100);
    assert_int_equal(nml_mul_by_qm(15, q, e), 2); /* 1.5 -> 2 */
    nml_quantize_multiplier(3.0, &q, &e);         /* exponent 2: left shift first */
    assert_int_equal(e, 2);
    assert_int_equal(nml_mul_by_qm(7, q, e), 21);
}

/* TFLite's QuantizeMultiplier (frexp, round half away from zero, shifts below -31 give zero)
 * with nanoml's saturation above exponent 30, against nml_quantize_multiplier over 2^22
 * double patterns (a xorshift sequence, every exponent and the rounding bit 21 both ways). */
static void quantize_multiplier_matches_frexp_everywhere(void **state) {
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (uint32_t i = 0; i < (1u << 22); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* biased exponents 0 .. 2047 (subnormals, infinities, NaNs); half of them near 1 */
        uint64_t bits = x & ~(0x7ffull << 52);
        const uint64_t e = i & 1 ? (x >> 52) & 0x7ff : 1023 - 40 + ((x >> 52) % 80);
        bits |= e << 52;
        if (i & 2) bits &= ~(1ull << 63);
        if (i & 4) bits |= 0x3fffffull; /* bit 21 set, ties and carries into bit 22 */
        double m;
        memcpy(&m, &bits, sizeof m);
        int32_t want_q = 0;
        int want_e = 0;
        if (m > 0.0 && !isinf(m)) {
            int sh;
            long long qf = llround(frexp(m, &sh) * 2147483648.0);
            if (qf == 2147483648LL) qf /= 2, sh++;
            if (sh > 30) qf = INT32_MAX, sh = 30;
            if (sh >= -31) want_q = (int32_t)qf, want_e = sh;
        }
        int32_t q;
        int ex;
        nml_quantize_multiplier(m, &q, &ex);
        if (q != want_q || ex != want_e)
            fail_msg("%a (0x%016llx): (%d, %d), want (%d, %d)", m, (unsigned long long)bits, q,
                     ex, want_q, want_e);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quantize_multiplier_splits_like_frexp),
        cmocka_unit_test(quantize_multiplier_matches_frexp_everywhere),
        cmocka_unit_test(high_mul_rounds_half_up_and_saturates),
        cmocka_unit_test(rounding_shift_rounds_half_away_from_zero),
        cmocka_unit_test(srdhm_and_rdbpot_match_their_definitions),
        cmocka_unit_test(multiply_by_quantized_multiplier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
