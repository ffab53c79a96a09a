/* Single-precision matrix multiply for the training library (and custom layers):
 *     C = alpha * op(A) * op(B) + beta * C,  op(X) = X or X^T,
 * row-major matrices, op(A) m x k, op(B) k x n, C m x n with leading dimensions lda, ldb, ldc.
 * Cache-blocked, register-tiled micro-kernel; uses AVX2+FMA when the CPU has it (checked once at
 * run time), portable C otherwise. beta == 0 ignores C's old contents (NaN included). */
#ifndef NANOML_TRAIN_GEMM_H
#define NANOML_TRAIN_GEMM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void nml_sgemm(int trans_a, int trans_b, int32_t m, int32_t n, int32_t k, float alpha,
               const float *a, int32_t lda, const float *b, int32_t ldb, float beta, float *c,
               int32_t ldc);

/* C = op(A) * op(B) + bias, the bias (n floats, or NULL for none) added to every row: the
 * forward pass of a convolution or dense layer in one pass over C. */
void nml_sgemm_bias(int trans_a, int trans_b, int32_t m, int32_t n, int32_t k, const float *a,
                    int32_t lda, const float *b, int32_t ldb, const float *bias, float *c,
                    int32_t ldc);

/* "avx2+fma" or "generic": the micro-kernel nml_sgemm uses on this machine. */
const char *nml_sgemm_kernel(void);

/* Forces the portable kernel (1) or restores automatic choice (0); for tests and benchmarks. */
void nml_sgemm_force_generic(int on);

#ifdef __cplusplus
}
#endif
#endif
