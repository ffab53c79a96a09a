/* Fixed-point transcendental functions: exact values worked out by hand from gemmlowp's
 * definitions, exact identities (symmetry, fixed points), and closeness/monotonicity against
 * the real functions from libm across the input range. */
#include <math.h>

#include "test_util.h"

#include "fixedpoint.h"

static double q_to_double(int32_t raw, int integer_bits) {
    return (double)raw / ldexp(1.0, 31 - integer_bits);
}

static int32_t double_to_q(double v, int integer_bits) {
    return (int32_t)llround(v * ldexp(1.0, 31 - integer_bits));
}

static void mul_pot_saturates_and_rounds(void **state) {
    (void)state;
    assert_int_equal(nml_fp_mul_pot(3, 2), 12);
    assert_int_equal(nml_fp_mul_pot(1 << 29, 1), 1 << 30);
    assert_int_equal(nml_fp_mul_pot(1 << 30, 1), INT32_MAX);    /* 2^31 does not fit */
    assert_int_equal(nml_fp_mul_pot(-(1 << 30), 1), INT32_MIN); /* saturates below */
    assert_int_equal(nml_fp_mul_pot(5, -1), 3);                 /* 2.5 -> 3 */
    assert_int_equal(nml_fp_mul_pot(-5, -1), -3);               /* -2.5 -> -3 */
    assert_int_equal(nml_fp_mul_pot(7, 0), 7);
}

static void rounding_half_sum_rounds_away(void **state) {
    (void)state;
    assert_int_equal(nml_fp_rounding_half_sum(1, 2), 2);    /* 1.5 */
    assert_int_equal(nml_fp_rounding_half_sum(-1, -2), -2); /* -1.5 */
    assert_int_equal(nml_fp_rounding_half_sum(4, 6), 5);
    assert_int_equal(nml_fp_rounding_half_sum(INT32_MAX, INT32_MAX), INT32_MAX); /* no overflow */
}

/* gemmlowp's RoundingHalfSum for int32 as written there: (sum + sign(sum)) / 2 in 64 bits,
 * truncating; the shift form in fixedpoint.c must agree on edges and random pairs. */
static void rounding_half_sum_matches_its_definition(void **state) {
    (void)state;
    const int32_t edge[] = {INT32_MIN, INT32_MIN + 1, -3, -2, -1, 0, 1, 2, 3, INT32_MAX - 1,
                            INT32_MAX};
    const size_t n = sizeof edge / sizeof edge[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            const int64_t sum = (int64_t)edge[i] + edge[j];
            const int32_t want = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
            assert_int_equal(nml_fp_rounding_half_sum(edge[i], edge[j]), want);
        }
    uint32_t s = 12345u;
    for (int k = 0; k < 200000; k++) {
        s = s * 1664525u + 1013904223u;
        const int32_t a = (int32_t)s;
        s = s * 1664525u + 1013904223u;
        const int32_t b = (int32_t)(s >> (k % 32));
        const int64_t sum = (int64_t)a + b;
        assert_int_equal(nml_fp_rounding_half_sum(a, b),
                         (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2));
    }
}

static void exp_interval_at_minus_one_eighth_is_the_constant(void **state) {
    (void)state;
    /* a = -1/8 makes the Taylor variable x = a + 1/8 zero, so the result is the constant term
     * exp(-1/8) * 2^31 = 1895147668.07... rounded, exactly */
    assert_int_equal(nml_fp_exp_on_interval_neg_quarter(-(1 << 28)), 1895147668);
    /* a = -1/4: exp(-0.25) = 0.77880078... */
    double v = q_to_double(nml_fp_exp_on_interval_neg_quarter(-(1 << 29)), 0);
    /* the 4th-order Taylor remainder at the interval end is exp(-1/8) (1/8)^5 / 5! = 2.24e-7 */
    assert_true(fabs(v - exp(-0.25)) < 3e-7);
}

static void exp_of_zero_is_one(void **state) {
    (void)state;
    /* gemmlowp returns One() = the largest Q0 value for a == 0, in every input format */
    assert_int_equal(nml_fp_exp_on_negative_values(0, 0), INT32_MAX);
    assert_int_equal(nml_fp_exp_on_negative_values(0, 4), INT32_MAX);
    assert_int_equal(nml_fp_exp_on_negative_values(0, 5), INT32_MAX);
}

static void exp_of_whole_quarters_uses_barrel_constants(void **state) {
    (void)state;
    /* In Q5.26, -1 is -2^26. a mod 1/4 = 0, so the interval part is exp(-1/4) and the
     * remainder 3/4 selects exp(-1/4) and exp(-1/2): exp(-1) = 0.36787944 */
    double e1 = q_to_double(nml_fp_exp_on_negative_values(-(1 << 26), 5), 0);
    assert_true(fabs(e1 - exp(-1.0)) < 3e-7);
    /* below -32 in Q6.25 (more than 5 integer bits) the result is clamped to exactly 0 */
    assert_int_equal(nml_fp_exp_on_negative_values(double_to_q(-32.5, 6), 6), 0);
}

static void exp_is_close_and_monotonic(void **state) {
    (void)state;
    const int bits = 5; /* the softmax input format */
    int32_t prev = 0;
    double worst = 0;
    for (double x = -31.99; x <= 0.0; x += 0.0137) {
        int32_t q = nml_fp_exp_on_negative_values(double_to_q(x, bits), bits);
        double err = fabs(q_to_double(q, 0) - exp(x));
        if (err > worst) worst = err;
        assert_true(q >= prev); /* x increases, so exp must not decrease */
        prev = q;
    }
    assert_true(worst < 3e-7); /* Taylor remainder 2.24e-7 plus a few Q0.31 ulps */
}

static void logistic_identities(void **state) {
    (void)state;
    assert_int_equal(nml_fp_logistic(0, 4), 1 << 30); /* exactly 1/2 */
    /* logistic(-x) = 1 - logistic(x): the reference computes the negative side exactly so */
    for (int32_t x = 1; x < (1 << 30); x = x * 3 + 17)
        assert_int_equal(nml_fp_logistic(-x, 4), INT32_MAX - nml_fp_logistic(x, 4));
}

static void logistic_is_close_and_monotonic(void **state) {
    (void)state;
    int32_t prev = INT32_MIN;
    double worst = 0;
    for (double x = -15.99; x < 15.99; x += 0.0071) {
        int32_t q = nml_fp_logistic(double_to_q(x, 4), 4);
        double err = fabs(q_to_double(q, 0) - 1.0 / (1.0 + exp(-x)));
        if (err > worst) worst = err;
        assert_true(q >= prev);
        prev = q;
    }
    assert_true(worst < 1e-7);
}

static void tanh_identities(void **state) {
    (void)state;
    assert_int_equal(nml_fp_tanh(0, 4), 0);
    for (int32_t x = 1; x < (1 << 30); x = x * 3 + 17)
        assert_int_equal(nml_fp_tanh(-x, 4), -nml_fp_tanh(x, 4)); /* odd function, exactly */
}

static void tanh_is_close_and_monotonic(void **state) {
    (void)state;
    int32_t prev = INT32_MIN;
    double worst = 0;
    for (double x = -15.99; x < 15.99; x += 0.0071) {
        int32_t q = nml_fp_tanh(double_to_q(x, 4), 4);
        double err = fabs(q_to_double(q, 0) - tanh(x));
        if (err > worst) worst = err;
        assert_true(q >= prev);
        prev = q;
    }
    assert_true(worst < 2e-7);
}

static void one_over_one_plus_x_values(void **state) {
    (void)state;
    /* 1 / (1 + 0.5) = 2/3 and 1 / (1 + 0) = 1 (within a few Q0 ulps of the real value) */
    assert_true(fabs(q_to_double(nml_fp_one_over_one_plus_x(1 << 30), 0) - 2.0 / 3.0) < 1e-8);
    assert_true(fabs(q_to_double(nml_fp_one_over_one_plus_x(0), 0) - 1.0) < 1e-8);
    /* (1 - 0.5) / (1 + 0.5) = 1/3 */
    assert_true(fabs(q_to_double(nml_fp_one_minus_x_over_one_plus_x(1 << 30), 0) - 1.0 / 3.0) <
                1e-8);
}

static void reciprocal_normalizes(void **state) {
    (void)state;
    int bits;
    /* x = 1.0 in Q12.19 is 2^19: 12 leading zeros, no bits over unit, 1/x = 1 */
    int32_t r = nml_fp_reciprocal(1 << 19, 12, &bits);
    assert_int_equal(bits, 0);
    assert_true(fabs(q_to_double(r, 0) - 1.0) < 1e-8);
    /* x = 2.0: one bit over unit; the result is 1/(x / 2) = 1, to be scaled by 2^-1 */
    r = nml_fp_reciprocal(1 << 20, 12, &bits);
    assert_int_equal(bits, 1);
    assert_true(fabs(q_to_double(r, 0) - 1.0) < 1e-8);
    /* x = 1.5 = 3 * 2^18: 1/1.5 = 0.6667 */
    r = nml_fp_reciprocal(3 << 18, 12, &bits);
    assert_int_equal(bits, 0);
    assert_true(fabs(q_to_double(r, 0) - 2.0 / 3.0) < 1e-8);
    /* x = 6.0 = 3 * 2^20: 2 bits over unit, 1/(6/4) = 2/3 */
    r = nml_fp_reciprocal(3 << 20, 12, &bits);
    assert_int_equal(bits, 2);
    assert_true(fabs(q_to_double(r, 0) - 2.0 / 3.0) < 1e-8);
}

static void multiply_greater_than_one_shifts_first(void **state) {
    (void)state;
    /* -3 * 2^4 * 0.5 = -24 */
    assert_int_equal(nml_fp_mul_by_qm_gt_one(-3, 1 << 30, 4), -24);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mul_pot_saturates_and_rounds),
        cmocka_unit_test(rounding_half_sum_rounds_away),
        cmocka_unit_test(rounding_half_sum_matches_its_definition),
        cmocka_unit_test(exp_interval_at_minus_one_eighth_is_the_constant),
        cmocka_unit_test(exp_of_zero_is_one),
        cmocka_unit_test(exp_of_whole_quarters_uses_barrel_constants),
        cmocka_unit_test(exp_is_close_and_monotonic),
        cmocka_unit_test(logistic_identities),
        cmocka_unit_test(logistic_is_close_and_monotonic),
        cmocka_unit_test(tanh_identities),
        cmocka_unit_test(tanh_is_close_and_monotonic),
        cmocka_unit_test(one_over_one_plus_x_values),
        cmocka_unit_test(reciprocal_normalizes),
        cmocka_unit_test(multiply_greater_than_one_shifts_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
