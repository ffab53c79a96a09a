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
nml_status nml_prune_smallest(const double *key, size_t n, size_t k, size_t stride, uint8_t *mask,
                              nml_error *err);
/* L2 norm of each row. */
void nml_row_norms(const float *w, size_t rows, size_t row_len, double *norm);

/* ---- the weight transform behind clustering and quantization-aware training
 * (weight_hook.c) ---- */

typedef struct nml_weight_hook_cfg {
    int k;                  /* clusters (0: not clustered) */
    const int32_t *index;   /* k > 0: every weight's cluster (copied) */
    const float *centroids; /* k > 0: initial centroid values (copied) */
    int zero_cluster;       /* cluster fixed at 0 (-1: none) */
    int qmax;               /* > 0: symmetric per-channel fake quantization onto
                               [-qmax, qmax] x scale, scale = max|w| / qmax (int8: 127) */
    int axis;               /* per-channel axis of the kernel (-1: one scale per tensor) */
} nml_weight_hook_cfg;

/* Installs the transform on p: forward gathers the centroids (each centroid being the mean of
 * its members' stored values, which training keeps equal) and fake-quantizes; backward passes
 * the gradient straight through the quantizer and gives every member of a cluster the sum of
 * the cluster's gradients (the zero cluster gets none). With k > 0 the stored values are set to
 * their centroids first. */
nml_status nml_weight_hook_install(nml_param *p, const nml_weight_hook_cfg *cfg, nml_error *err);
/* Clusters of p's transform (0 when p has none or is not clustered). */
int nml_weight_hook_clusters(const nml_param *p);
/* 1 when p carries this transform. */
int nml_weight_hook_present(const nml_param *p);
/* Stores what the transform computes as p's plain weights and removes it. */
nml_status nml_weight_hook_strip(nml_param *p, nml_error *err);
/* Output-channel axis of a layer's kernel for per-channel quantization (0, or 3 for
 * depthwise). */
int nml_compress_channel_axis(const nml_layer *l);

/* ---- fake quantization with explicit int8 parameters (fake_quant.c) ---- */
void nml_fake_quant_sz(const float *x, size_t n, float scale, int32_t zero_point, float *y);
void nml_fake_quant_grad_sz(const float *x, const float *dy, size_t n, float scale,
                            int32_t zero_point, float *dx);

/* ---- the fake-quantization layer of quantization-aware training (qat_layer.c) ---- */
typedef struct nml_fq nml_fq;
/* A moving-average range (decay), a fixed int8 quantization, or the quantization of another
 * fake-quantization layer (follow). Returns NULL when out of memory. */
nml_layer *nml_fq_layer_ema(const char *name, float decay, nml_fq **state);
nml_layer *nml_fq_layer_fixed(const char *name, float scale, int32_t zero_point, nml_fq **state);
nml_layer *nml_fq_layer_follow(const char *name, const nml_fq *follow, nml_fq **state);
/* 1 for a moving-average layer; its range, whether it saw a training batch, and the IR tensor
 * it stood on in the last export (-1 before one). */
int nml_fq_is_ema(const nml_fq *q);
void nml_fq_range(const nml_fq *q, float *lo, float *hi, int *ready);
int32_t nml_fq_exported_tensor(const nml_fq *q);

#endif
