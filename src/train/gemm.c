/* SGEMM: C = alpha * op(A) * op(B) + beta * C (row-major). The k dimension is cut into KC slices
 * so that one column panel of op(B) (KC x NR floats) stays in L1 while every row tile of op(A)
 * streams past it; each MR x NR tile of C is computed by a register-resident micro-kernel.
 * op(A) is read in place through a (row stride, column stride) pair, which covers A and A^T
 * without copying; op(B) is read in place when a panel's rows are contiguous (no transpose,
 * full width) and packed into a zero-padded panel otherwise. Partial tiles need no copies: rows
 * past m re-read row 0 and are not stored, columns past n are masked on store.
 * Two tile shapes: 6 x 16 for wide panels and 12 x 8 for panels of at most 8 columns (a 6-filter
 * convolution would otherwise waste 10 of 16 lanes); both keep 12 accumulators in flight. */
#include "nanoml/train_gemm.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define NML_GEMM_X86 1
#include <immintrin.h>
#endif

enum { KC = 256, NR_MAX = 16, MR_MAX = 12 };

typedef struct tile_args {
    int32_t kc;
    const float *a;   /* op(A)[i][p] = a[i * rs + p * cs] */
    ptrdiff_t rs, cs;
    const float *b;   /* B[p][j] = b[p * rsb + j] */
    ptrdiff_t rsb;
    float *c;
    ptrdiff_t ldc;
    int32_t mr, nr;   /* valid rows and columns of this tile */
    float alpha;
    int accumulate;   /* C = alpha * AB (+ C) */
    const float *bias; /* NULL, or NR floats added to every row (zero past nr) */
} tile_args;

typedef void (*tile_kernel)(const tile_args *t);

typedef struct tile_shape {
    int32_t mr, nr;
    tile_kernel kernel;
} tile_shape;

/* Portable kernel for any tile shape up to MR_MAX x NR_MAX. */
static void tile_generic(const tile_args *t, int32_t MR, int32_t NR) {
    float acc[MR_MAX][NR_MAX];
    memset(acc, 0, sizeof acc);
    for (int32_t i = 0; i < t->mr; i++) {
        const float *ai = t->a + i * t->rs;
        for (int32_t p = 0; p < t->kc; p++) {
            const float av = ai[p * t->cs];
            const float *bp = t->b + p * t->rsb;
            for (int32_t j = 0; j < NR; j++) acc[i][j] += av * bp[j];
        }
    }
    (void)MR;
    for (int32_t i = 0; i < t->mr; i++) {
        float *ci = t->c + i * t->ldc;
        for (int32_t j = 0; j < t->nr; j++)
            ci[j] = t->alpha * acc[i][j] + (t->accumulate ? ci[j] : 0.0f) +
                    (t->bias ? t->bias[j] : 0.0f);
    }
}

static void tile_generic_6x16(const tile_args *t) { tile_generic(t, 6, 16); }
static void tile_generic_12x8(const tile_args *t) { tile_generic(t, 12, 8); }

#ifdef NML_GEMM_X86
#define AVX2 __attribute__((target("avx2,fma")))

/* Lane mask for the first n (0..8) of 8 floats. */
AVX2 static inline __m256i lanes(int32_t n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

AVX2 static inline void store8(float *c, __m256 v, float alpha, int accumulate, const float *bias,
                               int32_t n) {
    v = _mm256_mul_ps(_mm256_set1_ps(alpha), v);
    if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias));
    if (n >= 8) {
        if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(c));
        _mm256_storeu_ps(c, v);
    } else if (n > 0) {
        const __m256i m = lanes(n);
        if (accumulate) v = _mm256_add_ps(v, _mm256_maskload_ps(c, m));
        _mm256_maskstore_ps(c, m, v);
    }
}

/* Row i of the tile, or row 0 for rows past the matrix (computed, never stored). */
#define ROW(t, i) ((t)->a + ((i) < (t)->mr ? (i) : 0) * (t)->rs)

AVX2 static void tile_avx2_6x16(const tile_args *t) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    const float *a0 = ROW(t, 0), *a1 = ROW(t, 1), *a2 = ROW(t, 2), *a3 = ROW(t, 3),
                *a4 = ROW(t, 4), *a5 = ROW(t, 5), *b = t->b;
    const ptrdiff_t cs = t->cs, rsb = t->rsb;
    for (int32_t p = 0; p < t->kc; p++) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 x = _mm256_broadcast_ss(a0);
        c00 = _mm256_fmadd_ps(x, b0, c00);
        c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a1);
        c10 = _mm256_fmadd_ps(x, b0, c10);
        c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a2);
        c20 = _mm256_fmadd_ps(x, b0, c20);
        c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a3);
        c30 = _mm256_fmadd_ps(x, b0, c30);
        c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a4);
        c40 = _mm256_fmadd_ps(x, b0, c40);
        c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a5);
        c50 = _mm256_fmadd_ps(x, b0, c50);
        c51 = _mm256_fmadd_ps(x, b1, c51);
        a0 += cs, a1 += cs, a2 += cs, a3 += cs, a4 += cs, a5 += cs;
        b += rsb;
    }
    const __m256 acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                              {c30, c31}, {c40, c41}, {c50, c51}};
    for (int32_t i = 0; i < t->mr; i++) {
        float *ci = t->c + i * t->ldc;
        store8(ci, acc[i][0], t->alpha, t->accumulate, t->bias, t->nr);
        store8(ci + 8, acc[i][1], t->alpha, t->accumulate, t->bias ? t->bias + 8 : NULL,
               t->nr - 8);
    }
}

AVX2 static void tile_avx2_12x8(const tile_args *t) {
    __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps(), c2 = _mm256_setzero_ps();
    __m256 c3 = _mm256_setzero_ps(), c4 = _mm256_setzero_ps(), c5 = _mm256_setzero_ps();
    __m256 c6 = _mm256_setzero_ps(), c7 = _mm256_setzero_ps(), c8 = _mm256_setzero_ps();
    __m256 c9 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    const float *a0 = ROW(t, 0), *a1 = ROW(t, 1), *a2 = ROW(t, 2), *a3 = ROW(t, 3),
                *a4 = ROW(t, 4), *a5 = ROW(t, 5), *a6 = ROW(t, 6), *a7 = ROW(t, 7),
                *a8 = ROW(t, 8), *a9 = ROW(t, 9), *a10 = ROW(t, 10), *a11 = ROW(t, 11);
    const float *b = t->b;
    const ptrdiff_t cs = t->cs, rsb = t->rsb;
    for (int32_t p = 0; p < t->kc; p++) {
        const __m256 b0 = _mm256_loadu_ps(b);
        const ptrdiff_t o = p * cs;
        c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + o), b0, c0);
        c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + o), b0, c1);
        c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + o), b0, c2);
        c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + o), b0, c3);
        c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a4 + o), b0, c4);
        c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a5 + o), b0, c5);
        c6 = _mm256_fmadd_ps(_mm256_broadcast_ss(a6 + o), b0, c6);
        c7 = _mm256_fmadd_ps(_mm256_broadcast_ss(a7 + o), b0, c7);
        c8 = _mm256_fmadd_ps(_mm256_broadcast_ss(a8 + o), b0, c8);
        c9 = _mm256_fmadd_ps(_mm256_broadcast_ss(a9 + o), b0, c9);
        c10 = _mm256_fmadd_ps(_mm256_broadcast_ss(a10 + o), b0, c10);
        c11 = _mm256_fmadd_ps(_mm256_broadcast_ss(a11 + o), b0, c11);
        b += rsb;
    }
    const __m256 acc[12] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11};
    for (int32_t i = 0; i < t->mr; i++)
        store8(t->c + i * t->ldc, acc[i], t->alpha, t->accumulate, t->bias, t->nr);
}
#endif

static int force_generic;

void nml_sgemm_force_generic(int on) { force_generic = on; }

static int use_avx2(void) {
#ifdef NML_GEMM_X86
    static int known, has;
    if (!known) {
        __builtin_cpu_init();
        has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        known = 1;
    }
    return has && !force_generic;
#else
    return 0;
#endif
}

const char *nml_sgemm_kernel(void) { return use_avx2() ? "avx2+fma" : "generic"; }

/* The tile shape for a panel of nr columns. */
static tile_shape pick_shape(int32_t nr) {
    tile_shape s = {6, 16, tile_generic_6x16};
    if (nr <= 8) s = (tile_shape){12, 8, tile_generic_12x8};
#ifdef NML_GEMM_X86
    if (use_avx2()) s.kernel = s.nr == 16 ? tile_avx2_6x16 : tile_avx2_12x8;
#endif
    return s;
}

/* kc x width panel of op(B) at (pc, jc), zero past column nr. */
static void pack_b(float *panel, int32_t width, const float *b, int32_t ldb, int trans_b,
                   int32_t pc, int32_t kc, int32_t jc, int32_t nr) {
    if (nr < width) memset(panel, 0, sizeof(float) * (size_t)kc * width);
    if (trans_b) {
        for (int32_t j = 0; j < nr; j++) {
            const float *src = b + (size_t)(jc + j) * ldb + pc;
            for (int32_t p = 0; p < kc; p++) panel[p * width + j] = src[p];
        }
    } else {
        for (int32_t p = 0; p < kc; p++)
            memcpy(panel + p * width, b + (size_t)(pc + p) * ldb + jc, sizeof(float) * (size_t)nr);
    }
}

static void scale_c(float *c, int32_t m, int32_t n, int32_t ldc, float beta) {
    for (int32_t i = 0; i < m; i++) {
        float *ci = c + (size_t)i * ldc;
        if (beta == 0.0f)
            memset(ci, 0, sizeof(float) * (size_t)n);
        else
            for (int32_t j = 0; j < n; j++) ci[j] *= beta;
    }
}

static void gemm(int trans_a, int trans_b, int32_t m, int32_t n, int32_t k, float alpha,
                 const float *a, int32_t lda, const float *b, int32_t ldb, float beta,
                 const float *bias, float *c, int32_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) {
        if (beta != 1.0f) scale_c(c, m, n, ldc, beta);
        if (bias)
            for (int32_t i = 0; i < m; i++)
                for (int32_t j = 0; j < n; j++) c[(size_t)i * ldc + j] += bias[j];
        return;
    }
    if (beta != 0.0f && beta != 1.0f) {
        scale_c(c, m, n, ldc, beta);
        beta = 1.0f;
    }
    const ptrdiff_t a_rs = trans_a ? 1 : lda, a_cs = trans_a ? lda : 1;
    _Alignas(64) float panel[KC * NR_MAX];
    float bias_panel[NR_MAX];
    tile_args t;
    t.cs = a_cs;
    t.rs = a_rs;
    t.ldc = ldc;
    t.alpha = alpha;
    for (int32_t pc = 0; pc < k; pc += KC) {
        t.kc = k - pc < KC ? k - pc : KC;
        t.accumulate = pc > 0 || beta != 0.0f;
        for (int32_t jc = 0; jc < n;) {
            const tile_shape shape = pick_shape(n - jc);
            t.nr = n - jc < shape.nr ? n - jc : shape.nr;
            if (!trans_b && t.nr == shape.nr) {
                t.b = b + (size_t)pc * ldb + jc;
                t.rsb = ldb;
            } else {
                pack_b(panel, shape.nr, b, ldb, trans_b, pc, t.kc, jc, t.nr);
                t.b = panel;
                t.rsb = shape.nr;
            }
            t.bias = NULL;
            if (bias && pc == 0) {
                memset(bias_panel, 0, sizeof bias_panel);
                memcpy(bias_panel, bias + jc, (size_t)t.nr * sizeof(float));
                t.bias = bias_panel;
            }
            for (int32_t i = 0; i < m; i += shape.mr) {
                t.mr = m - i < shape.mr ? m - i : shape.mr;
                t.a = a + i * a_rs + pc * a_cs;
                t.c = c + (size_t)i * ldc + jc;
                shape.kernel(&t);
            }
            jc += t.nr;
        }
    }
}

void nml_sgemm(int trans_a, int trans_b, int32_t m, int32_t n, int32_t k, float alpha,
               const float *a, int32_t lda, const float *b, int32_t ldb, float beta, float *c,
               int32_t ldc) {
    gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, NULL, c, ldc);
}

void nml_sgemm_bias(int trans_a, int trans_b, int32_t m, int32_t n, int32_t k, const float *a,
                    int32_t lda, const float *b, int32_t ldb, const float *bias, float *c,
                    int32_t ldc) {
    gemm(trans_a, trans_b, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, bias, c, ldc);
}
