/* nml_quantize_multiplier (qmath.h): runs at prepare only, so it lives apart from qmath.c's
 * per-element helpers, which firmware builds compile as hot code (src/deploy/firmware.c:
 * cold_code), and is compiled for size like the rest of the prepare code. */
#include <string.h>

#include "qmath.h"

void nml_quantize_multiplier(double m, int32_t *significand, int *exponent) {
    *significand = 0;
    *exponent = 0;
    if (!(m > 0.0)) return; /* zero, negative or NaN: nothing representable */
    uint64_t bits;
    memcpy(&bits, &m, sizeof bits);
    /* in 32-bit halves (no 64-bit shifts or adds): hi = sign, 11 exponent bits, the top 20
     * mantissa bits; lo = the other 32 */
    const uint32_t hi = (uint32_t)(bits >> 32), lo = (uint32_t)bits;
    const int biased = (int)(hi >> 20); /* m > 0: the sign bit is 0 */
    if (biased == 0x7ff) return;        /* infinity */
    if (biased == 0) {
        /* subnormal: far below 2^-31, so it rounds to zero like TFLite's shift < -31 case */
        return;
    }
    /* 53-bit significand M = (1 << 52 | mantissa): m = (M / 2^53) * 2^exp, fraction in
     * [0.5, 1); fraction * 2^31 = M / 2^22, rounded half away from zero: the top 31 bits of
     * M plus its bit 21 */
    int exp = biased - 1022;
    uint32_t q = (((hi & 0xfffffu) | 0x100000u) << 10 | lo >> 22) + (lo >> 21 & 1u);
    if (q == 0x80000000u) {
        q >>= 1;
        exp++;
    }
    if (exp < -31) return;
    if (exp > 30) { /* multipliers this large do not occur in valid models; saturate */
        q = INT32_MAX;
        exp = 30;
    }
    *significand = (int32_t)q;
    *exponent = exp;
}
