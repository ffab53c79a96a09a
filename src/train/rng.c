/* xoshiro256** (Blackman and Vigna), state filled from the seed by splitmix64. */
#include "nanoml/train_rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void nml_rng_seed(nml_rng *rng, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

uint64_t nml_rng_next(nml_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t nml_rng_below(nml_rng *rng, uint32_t n) {
    if (n == 0) return 0;
    /* rejection of the top partial range keeps every value equally likely */
    uint32_t limit = UINT32_MAX - UINT32_MAX % n;
    for (;;) {
        uint32_t r = (uint32_t)(nml_rng_next(rng) >> 32);
        if (r < limit) return r % n;
    }
}

float nml_rng_uniform(nml_rng *rng) {
    return (float)(nml_rng_next(rng) >> 40) * (1.0f / 16777216.0f);
}

float nml_rng_range(nml_rng *rng, float lo, float hi) {
    return lo + (hi - lo) * nml_rng_uniform(rng);
}

float nml_rng_normal(nml_rng *rng) {
    double u1 = ((double)(nml_rng_next(rng) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (double)(nml_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void nml_rng_shuffle(nml_rng *rng, int32_t *items, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = nml_rng_below(rng, (uint32_t)i);
        int32_t t = items[i - 1];
        items[i - 1] = items[j];
        items[j] = t;
    }
}
