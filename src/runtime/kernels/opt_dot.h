/* Multi-row int8 dot products for the optimized kernels (opt_conv_2d.c, opt_fully_connected.c):
 * one loaded and offset activation serves several rows of weights, so a multiply-accumulate
 * costs a load, a multiply and an add (RV32IMC: ~3.5 instructions per MAC for eight rows). */
#ifndef NANOML_KERNELS_OPT_DOT_H
#define NANOML_KERNELS_OPT_DOT_H

#include <stdint.h>

/* acc[j] = sum_{i < len} w_j[i] * (x[i] - zp) for the eight rows w_j = w0 + j * stride. */
void nml_dot_8x1(const int8_t *x, int32_t zp, const int8_t *w0, int32_t stride, int32_t len,
                 int32_t *acc);
/* The same with zp = 0 (one subtraction fewer per eight MACs; in a separate function so that
 * models without such a caller do not link it). */
void nml_dot_8x1_raw(const int8_t *x, const int8_t *w0, int32_t stride, int32_t len, int32_t *acc);
/* acc[0], acc[1] = the same for rows w0 and w1 (w1 may equal w0). */
void nml_dot_2x1(const int8_t *x, int32_t zp, const int8_t *w0, const int8_t *w1, int32_t len,
                 int32_t *acc);

#endif
