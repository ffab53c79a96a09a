/* Deterministic random numbers for the kernel tests (xorshift32). Header-only: each test file
 * has its own state, seeded by assigning rng_state. */
#ifndef NML_TEST_RNG_H
#define NML_TEST_RNG_H

#include <stdint.h>

static uint32_t rng_state;

static inline uint32_t rnd(void) {
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* uniform in [lo, hi] */
static inline int32_t rnd_in(int32_t lo, int32_t hi) {
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static inline float rnd_scale(float lo, float hi) {
    return lo + (hi - lo) * (float)(rnd() % 100000u) / 100000.0f;
}

#endif
