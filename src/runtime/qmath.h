/* Integer quantization arithmetic with TFLite's reference semantics (bit-exact):
 * real_value = scale * (q - zero_point); a real multiplier M is represented as a Q31
 * significand and a power-of-two exponent, applied with a rounding doubling high multiply
 * followed by a rounding right shift. No floating point at eval time. */
#ifndef NANOML_RUNTIME_QMATH_H
#define NANOML_RUNTIME_QMATH_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Splits a positive real multiplier into significand (Q31, in [2^30, 2^31)) and exponent so
 * that m ~= significand * 2^(exponent - 31), rounding half away from zero like std::round of
 * std::frexp's fraction. m == 0 (or too small to represent) gives 0, 0. No libm. */
void nml_quantize_multiplier(double m, int32_t *significand, int *exponent);

/* (a * b * 2) >> 32 with round-to-nearest and saturation of INT32_MIN * INT32_MIN. */
int32_t nml_srdhm(int32_t a, int32_t b);

/* x / 2^exponent rounded to nearest, ties away from zero (0 <= exponent <= 31). */
int32_t nml_rdbpot(int32_t x, int exponent);

/* x * M where M = significand * 2^(exponent - 31): TFLite's MultiplyByQuantizedMultiplier
 * (left shift before the high multiply, rounding right shift after). */
int32_t nml_mul_by_qm(int32_t x, int32_t significand, int exponent);

/* The IEEE-754 bits of f: prepare-time float comparisons done on them link no soft-float
 * comparison on targets without an FPU (RV32IMC); positive finite floats (checked scales)
 * order and compare as their bits do. */
static inline uint32_t nml_f32_bits(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

/* Clamps to [lo, hi]. */
static inline int32_t nml_clamp_i32(int32_t x, int32_t lo, int32_t hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

/* nml_clamp_i32(v + zp, lo, hi) for a requantized value v, an output zero point zp and clamp
 * bounds lo, hi of the output type (all |.| < 2^30, so lo - zp and hi - zp fit): the sum is
 * compared before it is formed, so a v near the int32 limits (a malformed model's huge scale
 * ratio saturates the multiplier) gives the bound the sum lies beyond, as if it had saturated,
 * instead of an int32 overflow. Identical to the clamped sum whenever that sum fits in int32. */
static inline int32_t nml_add_zp_clamp(int32_t v, int32_t zp, int32_t lo, int32_t hi) {
    return v < lo - zp ? lo : (v > hi - zp ? hi : v + zp);
}

#ifdef __cplusplus
}
#endif
#endif
