/* nml_sgemm against a plain triple loop in double precision, over shapes that hit full tiles,
 * partial tiles in both dimensions, both tile shapes, k beyond one cache block, every transpose
 * combination, leading dimensions larger than the matrices, and alpha / beta / bias handling. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/train_gemm.h"
#include "test_util.h"
#include "train_check.h"

static void reference(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, const float *bias, float *c,
                      int ldc) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = 0.0;
            for (int p = 0; p < k; p++) {
                double av = ta ? a[p * lda + i] : a[i * lda + p];
                double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                acc += av * bv;
            }
            double old = beta == 0.0f ? 0.0 : (double)beta * c[i * ldc + j];
            c[i * ldc + j] = (float)(alpha * acc + old + (bias ? bias[j] : 0.0));
        }
}

/* Runs one case with padded leading dimensions and checks every element of C, and that the
 * padding columns of C are untouched. */
static void check_case(int ta, int tb, int m, int n, int k, float alpha, float beta, int with_bias) {
    const int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 5;
    const int a_rows = ta ? k : m, b_rows = tb ? n : k;
    float *a = malloc(sizeof(float) * (size_t)a_rows * lda);
    float *b = malloc(sizeof(float) * (size_t)b_rows * ldb);
    float *c = malloc(sizeof(float) * (size_t)m * ldc);
    float *want = malloc(sizeof(float) * (size_t)m * ldc);
    float *bias = malloc(sizeof(float) * (size_t)n);
    assert_true(a && b && c && want && bias);
    tc_fill_uniform(a, (size_t)a_rows * lda, -1, 1, 1);
    tc_fill_uniform(b, (size_t)b_rows * ldb, -1, 1, 2);
    tc_fill_uniform(c, (size_t)m * ldc, -1, 1, 3);
    tc_fill_uniform(bias, (size_t)n, -1, 1, 4);
    if (beta == 0.0f) /* beta 0 must ignore C entirely, NaN included */
        for (int i = 0; i < m; i++) c[i * ldc] = NAN;
    memcpy(want, c, sizeof(float) * (size_t)m * ldc);
    if (beta == 0.0f)
        for (int i = 0; i < m; i++) want[i * ldc] = 0.0f;
    reference(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, with_bias ? bias : NULL, want, ldc);
    if (with_bias)
        nml_sgemm_bias(ta, tb, m, n, k, a, lda, b, ldb, bias, c, ldc);
    else
        nml_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < ldc; j++) {
            float got = c[i * ldc + j], exp = want[i * ldc + j];
            float tol = 1e-5f * (float)(k + 1) + 1e-5f * fabsf(exp);
            if (!(fabsf(got - exp) <= tol))
                fail_msg("ta %d tb %d m %d n %d k %d: C[%d][%d] = %g, expected %g", ta, tb, m, n,
                         k, i, j, got, exp);
        }
    free(a);
    free(b);
    free(c);
    free(want);
    free(bias);
}

static void all_shapes(void) {
    static const int ms[] = {1, 5, 6, 7, 12, 13, 25, 64};
    static const int ns[] = {1, 6, 8, 9, 16, 17, 25, 40};
    static const int ks[] = {1, 3, 25, 150, 300};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t i = 0; i < sizeof ms / sizeof *ms; i++)
                for (size_t j = 0; j < sizeof ns / sizeof *ns; j++)
                    for (size_t l = 0; l < sizeof ks / sizeof *ks; l++)
                        check_case(ta, tb, ms[i], ns[j], ks[l], 1.0f, 0.0f, 0);
}

static void shapes_with_fast_kernel(void **state) {
    (void)state;
    nml_sgemm_force_generic(0);
    all_shapes();
}

static void shapes_with_portable_kernel(void **state) {
    (void)state;
    nml_sgemm_force_generic(1);
    all_shapes();
    nml_sgemm_force_generic(0);
}

static void alpha_beta_and_bias(void **state) {
    (void)state;
    for (int generic = 0; generic < 2; generic++) {
        nml_sgemm_force_generic(generic);
        check_case(0, 1, 13, 9, 30, 0.5f, 1.0f, 0);
        check_case(1, 0, 7, 20, 600, 1.0f, 1.0f, 0);  /* accumulation across k blocks */
        check_case(0, 0, 19, 17, 11, -2.0f, 0.25f, 0);
        check_case(1, 1, 6, 6, 5, 1.0f, 0.0f, 0);
        check_case(0, 1, 50, 6, 25, 1.0f, 0.0f, 1);   /* a LeNet conv1 forward */
        check_case(0, 1, 9, 37, 270, 1.0f, 0.0f, 1);  /* bias with k beyond one block */
    }
    nml_sgemm_force_generic(0);
}

static void degenerate_sizes(void **state) {
    (void)state;
    float c[4] = {1, 2, 3, 4};
    const float a[1] = {5}, b[1] = {7};
    nml_sgemm(0, 0, 2, 2, 0, 1.0f, a, 1, b, 2, 0.5f, c, 2); /* k = 0: C = beta * C */
    assert_true(c[0] == 0.5f && c[3] == 2.0f);
    nml_sgemm(0, 0, 0, 2, 1, 1.0f, a, 1, b, 2, 0.0f, c, 2); /* m = 0: nothing */
    assert_true(c[0] == 0.5f);
    /* 1x1x1 by hand: 3 * (5 * 7) + 0.5 * 2 = 106 */
    float d = 2.0f;
    nml_sgemm(0, 0, 1, 1, 1, 3.0f, a, 1, b, 1, 0.5f, &d, 1);
    assert_true(d == 106.0f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes_with_fast_kernel),
        cmocka_unit_test(shapes_with_portable_kernel),
        cmocka_unit_test(alpha_beta_and_bias),
        cmocka_unit_test(degenerate_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
