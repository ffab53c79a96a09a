/* The training generator: reproducible from a seed, and statistically sane. The first outputs
 * for seed 0 are checked against splitmix64's published first value (0xe220a8397b1dcdaf is
 * splitmix64's first output from state 0, the first word of xoshiro's state). */
#include <math.h>
#include <string.h>

#include "nanoml/train_rng.h"
#include "test_util.h"

static void seeding(void **state) {
    (void)state;
    nml_rng a, b;
    nml_rng_seed(&a, 0);
    assert_true(a.s[0] == 0xe220a8397b1dcdafull);
    nml_rng_seed(&a, 42);
    nml_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++) assert_true(nml_rng_next(&a) == nml_rng_next(&b));
    nml_rng_seed(&b, 43);
    assert_true(nml_rng_next(&a) != nml_rng_next(&b));
}

static void uniform_moments(void **state) {
    (void)state;
    nml_rng r;
    nml_rng_seed(&r, 7);
    enum { N = 200000 };
    double sum = 0, sq = 0, nsum = 0, nsq = 0;
    for (int i = 0; i < N; i++) {
        float u = nml_rng_uniform(&r);
        assert_true(u >= 0.0f && u < 1.0f);
        sum += u, sq += (double)u * u;
        float g = nml_rng_normal(&r);
        nsum += g, nsq += (double)g * g;
    }
    /* U(0,1): mean 1/2, variance 1/12; N(0,1): mean 0, variance 1 (tolerances ~5 sigma) */
    assert_true(fabs(sum / N - 0.5) < 0.004);
    assert_true(fabs(sq / N - sum * sum / N / N - 1.0 / 12) < 0.002);
    assert_true(fabs(nsum / N) < 0.012);
    assert_true(fabs(nsq / N - 1.0) < 0.016);
}

static void below_and_shuffle(void **state) {
    (void)state;
    nml_rng r;
    nml_rng_seed(&r, 9);
    int hist[6] = {0};
    for (int i = 0; i < 60000; i++) {
        uint32_t v = nml_rng_below(&r, 6);
        assert_true(v < 6);
        hist[v]++;
    }
    for (int i = 0; i < 6; i++) assert_true(hist[i] > 10000 - 500 && hist[i] < 10000 + 500);
    assert_int_equal(nml_rng_below(&r, 0), 0);
    int32_t items[100], seen[100] = {0};
    for (int i = 0; i < 100; i++) items[i] = i;
    nml_rng_shuffle(&r, items, 100);
    int moved = 0;
    for (int i = 0; i < 100; i++) {
        seen[items[i]]++;
        moved += items[i] != i;
    }
    for (int i = 0; i < 100; i++) assert_int_equal(seen[i], 1); /* a permutation */
    assert_true(moved > 80);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seeding),
        cmocka_unit_test(uniform_moments),
        cmocka_unit_test(below_and_shuffle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
