/* gemmlowp-style fixed-point math on raw int32 values, bit-exact with the functions TFLite's
 * reference kernels use (gemmlowp fixedpoint.h and tflite common.h). A value "in Qk" has k
 * integer bits and 31 - k fractional bits: real = raw / 2^(31 - k). Results are Q0.31 unless
 * stated. Additions wrap like the reference does on two's-complement hardware, never undefined
 * behaviour. Integer only: used by the int8 SOFTMAX, LOGISTIC and TANH kernels at eval time. */
#ifndef NANOML_RUNTIME_FIXEDPOINT_H
#define NANOML_RUNTIME_FIXEDPOINT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Q0.31 one: the largest raw value, 1 - 2^-31. */
#define NML_FP_ONE_Q0 INT32_MAX

/* x * 2^exponent: saturating for exponent > 0, rounding half away from zero for exponent < 0
 * (-31 <= exponent <= 31). This is how gemmlowp changes the integer bits of a value (Rescale). */
int32_t nml_fp_mul_pot(int32_t x, int exponent);

/* (a + b) / 2 rounded half away from zero, computed without overflow. */
int32_t nml_fp_rounding_half_sum(int32_t a, int32_t b);

/* exp(a) for a in [-1/4, 0), a and result in Q0. */
int32_t nml_fp_exp_on_interval_neg_quarter(int32_t a);

/* exp(a) for a <= 0 given in Q(integer_bits) (0 <= integer_bits <= 30); exp(0) is NML_FP_ONE_Q0. */
int32_t nml_fp_exp_on_negative_values(int32_t a, int integer_bits);

/* 1 / (1 + a) for a in [0, 1) in Q0 (Newton-Raphson, three iterations). */
int32_t nml_fp_one_over_one_plus_x(int32_t a);

/* (1 - a) / (1 + a) for a in [0, 1) in Q0. */
int32_t nml_fp_one_minus_x_over_one_plus_x(int32_t a);

/* logistic(a) = 1 / (1 + exp(-a)) for a in Q(integer_bits); logistic(0) is exactly 1/2. */
int32_t nml_fp_logistic(int32_t a, int integer_bits);

/* tanh(a) for a in Q(integer_bits) (integer_bits <= 29); tanh(0) is exactly 0. */
int32_t nml_fp_tanh(int32_t a, int integer_bits);

/* 1 / x for x > 0 in Q(integer_bits), returned in Q0 scaled up by 2^num_bits_over_unit (so the
 * true reciprocal is result * 2^-num_bits_over_unit); TFLite's GetReciprocal. */
int32_t nml_fp_reciprocal(int32_t x, int integer_bits, int *num_bits_over_unit);

/* x * 2^left_shift * multiplier (Q31) with one rounding: TFLite's
 * MultiplyByQuantizedMultiplierGreaterThanOne (0 <= left_shift <= 31). */
int32_t nml_fp_mul_by_qm_gt_one(int32_t x, int32_t multiplier, int left_shift);

#ifdef __cplusplus
}
#endif
#endif
