/* IEEE 754 binary16 <-> binary32 by bit manipulation (no dependency on _Float16 support). */
#include <string.h>

#include "nanoml/quantize.h"

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Shifts right by n rounding to nearest, ties to even. */
static uint32_t shift_round_even(uint32_t v, unsigned n) {
    if (n == 0) return v;
    if (n > 31) return 0;
    const uint32_t kept = v >> n, rest = v & ((1u << n) - 1u), half = 1u << (n - 1);
    return kept + (rest > half || (rest == half && (kept & 1u)));
}

uint16_t nml_f32_to_f16(float f) {
    const uint32_t u = bits_of(f);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    const int32_t exp = (int32_t)((u >> 23) & 0xffu);
    const uint32_t man = u & 0x7fffffu;
    if (exp == 0xff) /* infinity, or NaN kept quiet with its top payload bits */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u | (man >> 13) : 0u));
    const int32_t e = exp - 127 + 15; /* biased half exponent */
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        /* subnormal half (or zero): value = man' * 2^-24 with the implicit bit made explicit */
        if (e < -10) return sign; /* below half the smallest subnormal: rounds to zero */
        const uint32_t full = man | 0x800000u;
        return (uint16_t)(sign | shift_round_even(full, (unsigned)(14 - e)));
    }
    /* normal: rounding may carry into the exponent, and into infinity, which is right */
    const uint32_t rounded = shift_round_even(((uint32_t)e << 23) | man, 13);
    return (uint16_t)(sign | rounded);
}

float nml_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0x1f) return float_of(sign | 0x7f800000u | (man << 13));
    if (exp != 0) return float_of(sign | ((exp + 112u) << 23) | (man << 13));
    /* zero or subnormal: man * 2^-24, exact in float */
    const float v = (float)man * (1.0f / 16777216.0f);
    return sign ? -v : v;
}
