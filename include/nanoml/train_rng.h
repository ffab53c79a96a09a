/* nanoml's own seeded pseudo-random generator (xoshiro256**, seeded through splitmix64), so
 * initial weights, shuffling and dropout are reproducible from one seed on every platform,
 * independent of the C library's rand(). */
#ifndef NANOML_TRAIN_RNG_H
#define NANOML_TRAIN_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_rng {
    uint64_t s[4];
} nml_rng;

void nml_rng_seed(nml_rng *rng, uint64_t seed);
uint64_t nml_rng_next(nml_rng *rng);
/* Uniform integer in [0, n) without modulo bias; 0 when n == 0. */
uint32_t nml_rng_below(nml_rng *rng, uint32_t n);
/* Uniform float in [0, 1) with 24 random bits. */
float nml_rng_uniform(nml_rng *rng);
/* Uniform float in [lo, hi). */
float nml_rng_range(nml_rng *rng, float lo, float hi);
/* Standard normal (Box-Muller). */
float nml_rng_normal(nml_rng *rng);
/* Fisher-Yates shuffle of n indices. */
void nml_rng_shuffle(nml_rng *rng, int32_t *items, size_t n);

#ifdef __cplusplus
}
#endif
#endif
