/* Activations. exp(x) = 2^n * e^r with n = round(x / ln 2) and |r| <= ln(2) / 2, e^r from its
 * Taylor series to degree 6 (truncation error below 2e-7 relative); ln 2 is split in a part with
 * few mantissa bits and a small remainder so r is computed without cancellation error.
 * tanh and the logistic function are computed from t = exp(-|x|) or exp(-2|x|), which lies in
 * (0, 1] and so never overflows. */
#include "activation.h"

#include <math.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define NML_ACT_X86 1
#include <immintrin.h>
#endif

#define EXP_LO -87.0f /* 2^-125.5: stays a normal float */
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define C2 (1.0f / 2.0f)
#define C3 (1.0f / 6.0f)
#define C4 (1.0f / 24.0f)
#define C5 (1.0f / 120.0f)
#define C6 (1.0f / 720.0f)

/* exp(x) for x <= 0 */
static inline float exp_neg(float x) {
    if (!(x >= EXP_LO)) x = EXP_LO; /* also catches NaN, so the conversion below is defined */
    float n = floorf(x * LOG2E + 0.5f);
    float r = x - n * LN2_HI - n * LN2_LO;
    float p = 1.0f + r * (1.0f + r * (C2 + r * (C3 + r * (C4 + r * (C5 + r * C6)))));
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

float nml_tanh_approx(float x) {
    float t = exp_neg(-2.0f * fabsf(x));
    float y = (1.0f - t) / (1.0f + t);
    return x < 0.0f ? -y : y;
}

float nml_sigmoid_approx(float x) {
    float t = exp_neg(-fabsf(x));
    float s = 1.0f / (1.0f + t);
    return x < 0.0f ? t * s : s;
}

static int use_avx2(void) {
#ifdef NML_ACT_X86
    static int known, has;
    if (!known) {
        __builtin_cpu_init();
        has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        known = 1;
    }
    return has;
#else
    return 0;
#endif
}

#ifdef NML_ACT_X86
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 exp_neg8(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(EXP_LO));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LO), r);
    __m256 p = _mm256_fmadd_ps(r, _mm256_set1_ps(C6), _mm256_set1_ps(C5));
    p = _mm256_fmadd_ps(r, p, _mm256_set1_ps(C4));
    p = _mm256_fmadd_ps(r, p, _mm256_set1_ps(C3));
    p = _mm256_fmadd_ps(r, p, _mm256_set1_ps(C2));
    p = _mm256_fmadd_ps(r, p, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(r, p, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)),
                                  23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

AVX2 static void tanh_avx2(float *x, size_t n) {
    const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 s = _mm256_and_ps(v, sign);
        __m256 t = exp_neg8(_mm256_mul_ps(_mm256_set1_ps(-2.0f), _mm256_andnot_ps(sign, v)));
        __m256 y = _mm256_div_ps(_mm256_sub_ps(one, t), _mm256_add_ps(one, t));
        _mm256_storeu_ps(x + i, _mm256_or_ps(y, s));
    }
    for (; i < n; i++) x[i] = nml_tanh_approx(x[i]);
}

AVX2 static void sigmoid_avx2(float *x, size_t n) {
    const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 t = exp_neg8(_mm256_or_ps(v, sign)); /* exp(-|x|) */
        __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, t));
        __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
        _mm256_storeu_ps(x + i, _mm256_blendv_ps(s, _mm256_mul_ps(t, s), neg));
    }
    for (; i < n; i++) x[i] = nml_sigmoid_approx(x[i]);
}

AVX2 static void tanh_backward_avx2(const float *y, const float *dy, float *dx, size_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(y + i);
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i),
                                               _mm256_fnmadd_ps(v, v, one)));
    }
    for (; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

AVX2 static void sigmoid_backward_avx2(const float *y, const float *dy, float *dx, size_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(y + i);
        __m256 d = _mm256_mul_ps(v, _mm256_sub_ps(one, v));
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), d));
    }
    for (; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}
#endif

static void softmax_forward(float *x, size_t total, size_t last) {
    for (size_t row = 0; row + last <= total; row += last) {
        float *v = x + row;
        float m = v[0];
        for (size_t j = 1; j < last; j++) m = v[j] > m ? v[j] : m;
        float sum = 0.0f;
        for (size_t j = 0; j < last; j++) sum += (v[j] = expf(v[j] - m));
        float inv = 1.0f / sum;
        for (size_t j = 0; j < last; j++) v[j] *= inv;
    }
}

static void softmax_backward(const float *y, const float *dy, float *dx, size_t total,
                             size_t last) {
    for (size_t row = 0; row + last <= total; row += last) {
        float dot = 0.0f;
        for (size_t j = 0; j < last; j++) dot += dy[row + j] * y[row + j];
        for (size_t j = 0; j < last; j++) dx[row + j] = y[row + j] * (dy[row + j] - dot);
    }
}

void nml_act_forward(nml_afn a, float *x, size_t total, size_t last) {
    switch (a) {
    case NML_AFN_LINEAR: return;
    case NML_AFN_RELU:
        for (size_t i = 0; i < total; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
        return;
    case NML_AFN_RELU6:
        for (size_t i = 0; i < total; i++) x[i] = x[i] > 0.0f ? (x[i] < 6.0f ? x[i] : 6.0f) : 0.0f;
        return;
    case NML_AFN_TANH:
#ifdef NML_ACT_X86
        if (use_avx2()) {
            tanh_avx2(x, total);
            return;
        }
#endif
        for (size_t i = 0; i < total; i++) x[i] = nml_tanh_approx(x[i]);
        return;
    case NML_AFN_SIGMOID:
#ifdef NML_ACT_X86
        if (use_avx2()) {
            sigmoid_avx2(x, total);
            return;
        }
#endif
        for (size_t i = 0; i < total; i++) x[i] = nml_sigmoid_approx(x[i]);
        return;
    case NML_AFN_SOFTMAX: softmax_forward(x, total, last); return;
    }
}

void nml_act_backward(nml_afn a, const float *y, const float *dy, float *dx, size_t total,
                      size_t last) {
    switch (a) {
    case NML_AFN_LINEAR:
        if (dx != dy) memcpy(dx, dy, total * sizeof(float));
        return;
    case NML_AFN_RELU:
        for (size_t i = 0; i < total; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        return;
    case NML_AFN_RELU6:
        for (size_t i = 0; i < total; i++) dx[i] = y[i] > 0.0f && y[i] < 6.0f ? dy[i] : 0.0f;
        return;
    case NML_AFN_TANH:
#ifdef NML_ACT_X86
        if (use_avx2()) {
            tanh_backward_avx2(y, dy, dx, total);
            return;
        }
#endif
        for (size_t i = 0; i < total; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        return;
    case NML_AFN_SIGMOID:
#ifdef NML_ACT_X86
        if (use_avx2()) {
            sigmoid_backward_avx2(y, dy, dx, total);
            return;
        }
#endif
        for (size_t i = 0; i < total; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        return;
    case NML_AFN_SOFTMAX: softmax_backward(y, dy, dx, total, last); return;
    }
}

const char *nml_afn_name(nml_afn a) {
    switch (a) {
    case NML_AFN_LINEAR: return "linear";
    case NML_AFN_RELU: return "relu";
    case NML_AFN_RELU6: return "relu6";
    case NML_AFN_TANH: return "tanh";
    case NML_AFN_SIGMOID: return "sigmoid";
    case NML_AFN_SOFTMAX: return "softmax";
    }
    return "?";
}
