/* Shared by the training-side compression files in src/compress (not public API). */
#ifndef NML_COMPRESS_INTERNAL_H
#define NML_COMPRESS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nanoml/status.h"
#include "nanoml/train_layer.h"

/* "%g" of v into a caller buffer, for messages (nml_fail formats no floating point). */
typedef struct nml_gbuf {
    char s[32];
} nml_gbuf;
static inline const char *nml_g(nml_gbuf *b, double v) {
    snprintf(b->s, sizeof b->s, "%g", v);
    return b->s;
}

/* The weights compression works on: a layer's "kernel" parameter (NULL when it has none). */
static inline nml_param *nml_compress_kernel(const nml_layer *l) {
    return nml_layer_find_param(l, "kernel");
}

/* 1 for a depthwise kernel ([1, kh, kw, channels]: its output channels are the last axis). */
int nml_compress_is_depthwise(const nml_layer *l);

/* ---- pruning helpers (prune_mask.c) ---- */

/* n - round(n (1 - sparsity)): how many of n to prune. */
size_t nml_prune_count(size_t n, float sparsity);
/* Sets mask to 1, then zeroes the stride-sized blocks of the k smallest keys (ties: lower
 * index first). */
nml_status nml_prune_smallest(const double *key, size_t n, size_t k, size_t stride,
                              uint8_t *mask, nml_error *err);
/* L2 norm of each row. */
void nml_row_norms(const float *w, size_t rows, size_t row_len, double *norm);

#endif
