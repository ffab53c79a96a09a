/* Weight clustering (weight sharing), as the TF Model Optimization Toolkit does it: the weights
 * of each layer's kernel are grouped into k clusters by one-dimensional k-means, every weight is
 * replaced by its cluster's centroid, and fine-tuning then trains the centroids only: each
 * weight's cluster index stays fixed and a centroid's gradient is the sum of its members'
 * gradients (the derivative of the gather that builds the kernel from the centroids). A layer
 * then holds at most k distinct values, which an index + table encoding stores in log2(k) bits
 * per weight (pack.h).
 *
 * With preserve_sparsity (pruning-preserving clustering) zeros stay zero: they form a cluster
 * fixed at 0 (masked, never trained) and the other k - 1 centroids are fitted to the non-zero
 * weights, so the layer keeps its sparsity and has at most k distinct values including 0.
 * Host only. */
#ifndef NANOML_CLUSTER_H
#define NANOML_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"
#include "nanoml/train_net.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NML_CLUSTERS_MAX 256 /* a cluster index fits a byte */

typedef enum nml_centroid_init {
    NML_CENTROIDS_LINEAR = 0, /* k values evenly spaced from min to max (TF-MOT LINEAR) */
    NML_CENTROIDS_DENSITY,    /* the quantiles i / (k - 1) of the weights (evenly spaced in the
                                 cumulative distribution, TF-MOT DENSITY_BASED) */
    NML_CENTROIDS_KMEANS_PP   /* k-means++: a random weight, then each next centroid drawn with
                                 probability proportional to the squared distance to the
                                 nearest chosen one (seeded) */
} nml_centroid_init;

/* "linear", "density", "kmeans++" */
const char *nml_centroid_init_name(nml_centroid_init init);
/* 0 and *init for a known name, -1 otherwise. */
int nml_centroid_init_parse(const char *name, nml_centroid_init *init);

/* Initial centroids of n values (k <= n), in ascending order. k = 1 gives the midpoint
 * (LINEAR), the median (DENSITY) or the seeded draw (KMEANS_PP). */
nml_status nml_centroids_init(const float *x, size_t n, int k, nml_centroid_init init,
                              uint64_t seed, float *centroids, nml_error *err);

/* One-dimensional k-means (Lloyd): starting from nml_centroids_init, assigns every value to its
 * nearest centroid (a value halfway between two goes to the lower one) and moves each centroid
 * to the mean of its members (an empty cluster keeps its centroid), until no assignment changes
 * or after max_iter rounds (0: the initial centroids are kept, as TF-MOT does). On return the
 * centroids are ascending and assign (may be NULL) holds each value's cluster; *iterations (may
 * be NULL) the rounds run. */
nml_status nml_kmeans_1d(const float *x, size_t n, int k, nml_centroid_init init, uint64_t seed,
                         int max_iter, float *centroids, int32_t *assign, int *iterations,
                         nml_error *err);

/* ---- clustering a network's layers ---- */

typedef struct nml_cluster_layer {
    const char *layer;
    int clusters; /* 0: leave the layer alone */
} nml_cluster_layer;

typedef struct nml_cluster_opts {
    int clusters; /* per layer (1 ... NML_CLUSTERS_MAX; default 16) */
    nml_centroid_init init;
    uint64_t seed; /* KMEANS_PP draws */
    int max_iter;  /* Lloyd rounds; < 0: until stable (at most 300) */
    int preserve_sparsity;
    const nml_cluster_layer *layers; /* per-layer counts (borrowed) */
    int n_layers;
    int only_listed; /* 1: cluster only the listed layers */
} nml_cluster_opts;

/* 16 clusters, k-means++ (TF-MOT's default), seed 1, k-means until stable, no preservation. */
void nml_cluster_opts_default(nml_cluster_opts *o);

typedef struct nml_clusterer nml_clusterer;

/* Clusters the kernel of every chosen layer (layers with a "kernel" parameter), sets the weights
 * to their centroids and installs the parameter hooks that train the centroids (net must be
 * built and outlive the clusterer; use a fresh optimizer). Fails naming the value for a cluster
 * count of 0 or above NML_CLUSTERS_MAX, or above a layer's number of weights (non-zero weights
 * with preserve_sparsity), and for a listed layer that does not exist. */
nml_status nml_clusterer_create(nml_clusterer **c, nml_net *net, const nml_cluster_opts *o,
                                nml_error *err);

/* Writes the current centroids into the weights and removes the hooks: the network then
 * computes exactly what it computed with them, with plain weights. */
nml_status nml_clusterer_strip(nml_clusterer *c, nml_error *err);

/* Frees the clusterer only: hooks not stripped stay with the parameters (and are freed with
 * them), so the network keeps training or computing with its centroids. */
void nml_clusterer_free(nml_clusterer *c);

typedef struct nml_cluster_layer_report {
    const char *layer; /* valid while the network lives */
    size_t weights;
    int clusters;   /* requested (including the zero cluster with preserve_sparsity) */
    int distinct;   /* distinct weight values the layer now computes with */
    int iterations; /* k-means rounds run */
} nml_cluster_layer_report;

int nml_clusterer_layer_count(const nml_clusterer *c);
void nml_clusterer_layer_report(const nml_clusterer *c, int i, nml_cluster_layer_report *r);

/* Distinct values among n floats (-0 and 0 count as one). */
size_t nml_count_distinct(const float *x, size_t n);

#ifdef __cplusplus
}
#endif
#endif
