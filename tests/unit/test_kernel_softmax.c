/* SOFTMAX against hand computations: float values from exp sums, int8 cases whose exact
 * probabilities are simple fractions (so the 8-bit result is known exactly), and closeness of
 * the fixed-point int8 path to the real softmax. */
#include <math.h>
#include <string.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernel_harness.h"
#include "kernels/kernels.h"

#define DIMS(...) ((const int32_t[]){__VA_ARGS__})

static void float_rows_and_beta(void **state) {
    (void)state;
    /* softmax([1 2 3]) = [e^-2 e^-1 1] / (e^-2 + e^-1 + 1) = [0.09003057 0.24472847 0.66524096];
     * with beta 2 it equals softmax([2 4 6]) = [0.01587624 0.11731043 0.86681333]. Rows are
     * independent: row 2 is row 1 shifted by +10 and gives the same result. */
    float in[6] = {1, 2, 3, 11, 12, 13}, out[6];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_FLOAT32, 2, DIMS(2, 3), in, 0, 0},
                  (kh_spec){NML_FLOAT32, 2, DIMS(2, 3), out, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_run(&h, &nml_kernel_softmax, &p), NML_OK);
    const float want1[3] = {0.09003057f, 0.24472847f, 0.66524096f};
    for (int i = 0; i < 6; i++)
        assert_true(fabsf(out[i] - want1[i % 3]) < 1e-6f);
    p.beta = 2.0f;
    assert_int_equal(kh_run(&h, &nml_kernel_softmax, &p), NML_OK);
    const float want2[3] = {0.01587624f, 0.11731043f, 0.86681333f};
    for (int i = 0; i < 6; i++)
        assert_true(fabsf(out[i] - want2[i % 3]) < 1e-6f);
    kh_free(&h);
}

/* int8 softmax of one row; output scale 1/256, zero point -128 (q = 256 p - 128). */
static nml_status run_int8(const int8_t *in, int8_t *out, int n, float scale, float beta) {
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT8, 2, DIMS(1, n), (void *)in, scale, 0},
                  (kh_spec){NML_INT8, 2, DIMS(1, n), out, 1.0f / 256.0f, -128});
    nml_op_params p;
    nml_op_params_default(&p);
    p.beta = beta;
    nml_status st = kh_run(&h, &nml_kernel_softmax, &p);
    kh_free(&h);
    return st;
}

static void int8_exact_fractions(void **state) {
    (void)state;
    int8_t out[4];
    /* four equal inputs: p = 1/4 -> 64 - 128 = -64 each */
    assert_int_equal(run_int8((const int8_t[]){7, 7, 7, 7}, out, 4, 0.1f, 1.0f), NML_OK);
    kh_expect_i8(out, (const int8_t[]){-64, -64, -64, -64}, 4);
    /* scale ln(3)/16 and inputs [0 16]: the inputs differ by ln 3, so p = [1/4, 3/4]
     * -> [64 - 128, 192 - 128] = [-64, 64] */
    assert_int_equal(run_int8((const int8_t[]){0, 16}, out, 2, 0.068663268f, 1.0f), NML_OK);
    kh_expect_i8(out, (const int8_t[]){-64, 64}, 2);
    /* beta 2 with half the scale is the same distribution */
    assert_int_equal(run_int8((const int8_t[]){0, 16}, out, 2, 0.034331634f, 2.0f), NML_OK);
    kh_expect_i8(out, (const int8_t[]){-64, 64}, 2);
}

static void int8_saturates_and_cuts_small_terms(void **state) {
    (void)state;
    int8_t out[2];
    /* scale 1, beta 1: the diff multiplier is 2^26 = 2^30 * 2^(27-31), left shift 27, so
     * diff_min = -floor(31 * 2^26 / 2^27) = -15. The diff -255 is below it: output -128.
     * The maximum alone has p = 1 -> 256 - 128 = 128, saturating at 127. */
    assert_int_equal(run_int8((const int8_t[]){127, -128}, out, 2, 1.0f, 1.0f), NML_OK);
    kh_expect_i8(out, (const int8_t[]){127, -128}, 2);
}

static void int8_close_to_real_softmax(void **state) {
    (void)state;
    /* pseudo-random rows; each output within one step of 256 p - 128 and each row's
     * probabilities sum to 1 within depth / 256 */
    uint32_t seed = 12345;
    for (int row = 0; row < 50; row++) {
        enum { N = 10 };
        int8_t in[N], out[N];
        const float scale = 0.05f + 0.01f * (float)(row % 7);
        for (int i = 0; i < N; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (int8_t)(seed >> 24);
        }
        assert_int_equal(run_int8(in, out, N, scale, 1.0f), NML_OK);
        int max = -128;
        for (int i = 0; i < N; i++)
            max = in[i] > max ? in[i] : max;
        double sum = 0, psum = 0;
        for (int i = 0; i < N; i++)
            sum += exp((double)scale * (in[i] - max));
        for (int i = 0; i < N; i++) {
            double pr = exp((double)scale * (in[i] - max)) / sum;
            double want = 256.0 * pr - 128.0;
            if (want > 127) want = 127;
            if (fabs(out[i] - want) > 1.0)
                fail_msg("row %d element %d: got %d, real %f", row, i, out[i], want);
            psum += (out[i] + 128) / 256.0;
        }
        assert_true(fabs(psum - 1.0) <= N / 256.0);
    }
}

static void prepare_rejects_bad_nodes(void **state) {
    (void)state;
    int8_t in[4] = {0}, out[4];
    nml_kh h;
    kh_init(&h);
    const int to = kh_unary_node(&h, (kh_spec){NML_INT8, 2, DIMS(1, 4), in, 0.1f, 0},
                                 (kh_spec){NML_INT8, 2, DIMS(1, 4), out, 1.0f / 256.0f, -128});
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_prepare(&h, &nml_kernel_softmax, &p), NML_OK);

    h.tensors[to].zero_point = 0;
    assert_int_equal(kh_prepare(&h, &nml_kernel_softmax, &p), NML_E_UNSUPPORTED);
    assert_non_null(
        strstr(h.err.msg, "SOFTMAX: int8 output must have scale 1/256 and zero point -128"));
    h.tensors[to].zero_point = -128;
    h.tensors[to].scale = 1.0f / 128.0f;
    assert_int_equal(kh_prepare(&h, &nml_kernel_softmax, &p), NML_E_UNSUPPORTED);
    h.tensors[to].scale = 1.0f / 256.0f;

    h.tensors[to].dims[1] = 5;
    assert_int_equal(kh_prepare(&h, &nml_kernel_softmax, &p), NML_E_SHAPE);
    assert_non_null(strstr(h.err.msg, "input shape 1x4 does not match output shape 1x5"));
    h.tensors[to].dims[1] = 4;

    p.beta = 1e-9f; /* beta x scale x 2^26 must exceed 1 */
    assert_int_equal(kh_prepare(&h, &nml_kernel_softmax, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "beta x input scale is too small"));
    p.beta = 1.0f;

    h.tensors[to].type = NML_INT16;
    assert_int_equal(kh_prepare(&h, &nml_kernel_softmax, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "output has type int16, expected int8"));
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_rows_and_beta),
        cmocka_unit_test(int8_exact_fractions),
        cmocka_unit_test(int8_saturates_and_cuts_small_terms),
        cmocka_unit_test(int8_close_to_real_softmax),
        cmocka_unit_test(prepare_rejects_bad_nodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
