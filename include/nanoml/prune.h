/* Magnitude pruning during training, as the TF Model Optimization Toolkit does it: a sparsity
 * schedule says, step by step, which fraction of each layer's weights must be zero; at the
 * schedule's update steps the weights of smallest magnitude are masked (nml_param mask: zero
 * and frozen through every later optimizer step) while training goes on, so the network
 * recovers from each cut.
 *
 * Structures:
 *   NML_PRUNE_UNSTRUCTURED  any weight; exactly round(count x sparsity) weights per layer
 *   NML_PRUNE_NM            N of every M consecutive weights along a kernel row (the GEMM's
 *                           reduction axis: OHWI conv rows, dense [out, in] rows) are kept,
 *                           e.g. 2:4 for sparse tensor cores; the schedule only times updates
 *   NML_PRUNE_FILTERS       whole output channels (conv filters, dense units) with the smallest
 *                           L2 norm, together with their bias; nml_remove_zero_channels then
 *                           deletes them and shrinks the layer that reads them
 * Layers with a "kernel" parameter (Conv2D, DepthwiseConv2D, Dense, custom layers) are pruned.
 * Host only. */
#ifndef NANOML_PRUNE_H
#define NANOML_PRUNE_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/ir.h"
#include "nanoml/status.h"
#include "nanoml/train_net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- schedules (TF-MOT's ConstantSparsity and PolynomialDecay) ---- */

typedef enum nml_prune_schedule_kind {
    NML_PRUNE_CONSTANT = 0, /* target from begin_step on */
    NML_PRUNE_POLYNOMIAL    /* initial -> target between begin_step and end_step */
} nml_prune_schedule_kind;

typedef struct nml_prune_schedule {
    nml_prune_schedule_kind kind;
    float initial_sparsity; /* POLYNOMIAL: sparsity at begin_step (default 0) */
    float target_sparsity;  /* in [0, 1) */
    int64_t begin_step;     /* first step that prunes (>= 0) */
    int64_t end_step;       /* last step that prunes; -1: no end (CONSTANT only) */
    float power;            /* POLYNOMIAL exponent (TF-MOT: 3) */
    int64_t frequency;      /* masks are updated every this many steps (TF-MOT: 100) */
} nml_prune_schedule;

/* TF-MOT's defaults: power 3, frequency 100, begin 0, end -1 (set end for POLYNOMIAL). */
void nml_prune_schedule_default(nml_prune_schedule *s);

/* Refuses sparsities outside [0, 1), non-positive frequency or power, a negative begin step, and
 * an end step before the begin step (POLYNOMIAL needs end_step > begin_step). The message names
 * the value. */
nml_status nml_prune_schedule_check(const nml_prune_schedule *s, nml_error *err);

/* The sparsity the schedule asks for at step (clamped outside [begin, end]):
 *   CONSTANT    target
 *   POLYNOMIAL  target + (initial - target) * (1 - p)^power, p = (step - begin) / (end - begin)
 *               clamped to [0, 1]. */
float nml_prune_sparsity_at(const nml_prune_schedule *s, int64_t step);

/* 1 when masks are updated at this step: begin <= step <= end (or no end) and (step - begin) is
 * a multiple of the frequency. */
int nml_prune_should_update(const nml_prune_schedule *s, int64_t step);

/* ---- masks (1 = keep, 0 = pruned) ---- */

/* Prunes exactly n - round(n x (1 - sparsity)) weights, those of smallest |w|; among equal
 * magnitudes the lower index is pruned first. *pruned (may be NULL) receives the count. */
nml_status nml_magnitude_mask(const float *w, size_t n, float sparsity, uint8_t *mask,
                              size_t *pruned, nml_error *err);

/* N:M structure over rows x row_len weights: each row is cut into groups of m consecutive
 * weights (the last group of a row may be shorter) and in every group the keep = n largest |w|
 * stay (ties: the lower index stays), all of a group shorter than n stay. */
nml_status nml_nm_mask(const float *w, size_t rows, size_t row_len, int n, int m, uint8_t *mask,
                       nml_error *err);

/* Whole rows: of `rows` rows of row_len weights (output channels of an OHWI or [out, in]
 * kernel), the round(rows x sparsity) rows of smallest L2 norm are pruned (ties: lower index
 * first), at most rows - 1. *pruned (may be NULL) receives the number of rows pruned. */
nml_status nml_filter_mask(const float *w, size_t rows, size_t row_len, float sparsity,
                           uint8_t *mask, size_t *pruned, nml_error *err);

/* ---- pruning a network while it trains ---- */

typedef enum nml_prune_structure {
    NML_PRUNE_UNSTRUCTURED = 0,
    NML_PRUNE_NM,
    NML_PRUNE_FILTERS
} nml_prune_structure;

/* A per-layer target: overrides the schedule's target for the layer of that name; a negative
 * sparsity leaves the layer unpruned. */
typedef struct nml_prune_layer {
    const char *layer;
    float sparsity;
} nml_prune_layer;

typedef struct nml_prune_opts {
    nml_prune_structure structure;
    nml_prune_schedule schedule;
    int n, m;                      /* NML_PRUNE_NM: keep n of m (default 2 and 4) */
    const nml_prune_layer *layers; /* per-layer targets (borrowed) */
    int n_layers;
    int only_listed; /* 1: prune only the layers listed in `layers` */
} nml_prune_opts;

typedef struct nml_pruner nml_pruner;

/* Chooses the layers to prune and checks every target (a layer named in `layers` must exist;
 * FILTERS skips depthwise kernels and the network's last kernel layer, whose channels are the
 * model's outputs). Installs empty masks. net must outlive the pruner. */
nml_status nml_pruner_create(nml_pruner **p, nml_net *net, const nml_prune_opts *o, nml_error *err);
void nml_pruner_free(nml_pruner *p); /* the masks stay on the parameters */

/* Updates the masks when the schedule says so at this step (pass it as nml_fit_opts.on_step
 * with nml_pruner_on_step). */
nml_status nml_pruner_step(nml_pruner *p, int64_t step, nml_error *err);
nml_status nml_pruner_on_step(void *pruner, int64_t step, nml_error *err);

/* Applies each layer's final target now (one-shot pruning, or to finish a schedule). */
nml_status nml_pruner_finish(nml_pruner *p, nml_error *err);

typedef struct nml_prune_layer_report {
    const char *layer; /* valid while the network lives */
    size_t weights;    /* in the kernel */
    size_t zeros;      /* masked kernel weights */
    float target;
} nml_prune_layer_report;

int nml_pruner_layer_count(const nml_pruner *p);
void nml_pruner_layer_report(const nml_pruner *p, int i, nml_prune_layer_report *r);

/* ---- removing pruned channels from a float model ---- */

typedef struct nml_channel_report {
    int removed;   /* output channels deleted over all layers */
    int kept_zero; /* all-zero channels that could not be removed (see message) */
    uint64_t weights_before, weights_after; /* float constant elements of the model */
    char note[256];                         /* why the first kept channel stayed, "" when none */
} nml_channel_report;

/* Deletes every output channel of a CONV_2D or FULLY_CONNECTED whose weights are all zero: the
 * channel then carries a constant (its bias through the activation), which is folded into the
 * bias of the CONV_2D or FULLY_CONNECTED that reads it, and the reader loses that input
 * channel. Between the two only per-channel operators may stand (TANH, LOGISTIC, RELU, RELU6,
 * AVERAGE_POOL_2D, MAX_POOL_2D, PAD when the constant is 0, RESHAPE to 1 x N before a
 * FULLY_CONNECTED); a reader with SAME padding needs the constant to be 0. Channels that
 * cannot be removed stay (and are counted). The model's function does not change. Float32
 * models only. */
nml_status nml_remove_zero_channels(nml_ir *ir, nml_channel_report *report, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
