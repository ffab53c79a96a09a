/* Planning shared by the reduction kernels (MEAN, SUM): which axes are reduced, the output
 * shape (keep_dims), and how to walk the input: for each output in order, the reduced elements
 * in increasing input order (the order in which TFLite accumulates, so float sums agree). */
#ifndef NANOML_RUNTIME_KERNELS_REDUCE_COMMON_H
#define NANOML_RUNTIME_KERNELS_REDUCE_COMMON_H

#include "elem_common.h"

typedef struct nml_reduce_plan {
    int32_t n_raw; /* axis values as given (before resolving) */
    int32_t raw[NML_MAX_RANK];
    int32_t kept_rank, red_rank;
    int32_t kept_dims[NML_MAX_RANK], kept_strides[NML_MAX_RANK];
    int32_t red_dims[NML_MAX_RANK], red_strides[NML_MAX_RANK];
    uint32_t n_out, n_red; /* outputs; input elements per output */
} nml_reduce_plan;

/* Reads the constant axis input (int32 or int64; duplicates allowed, negative from the end),
 * checks the output shape against keep_dims and fills the plan. */
nml_status nml_reduce_prepare(nml_ctx *ctx, const nml_node *node, const nml_tensor *in,
                              const nml_tensor *axis, const nml_tensor *out, int keep_dims,
                              nml_reduce_plan *plan);

/* Odometer over a strided index space; off is the current element offset. */
typedef struct nml_walk {
    int32_t rank;
    const int32_t *dims, *strides;
    int32_t idx[NML_MAX_RANK];
    int32_t off;
} nml_walk;

static inline void nml_walk_start(nml_walk *w, int32_t rank, const int32_t *dims,
                                  const int32_t *strides) {
    w->rank = rank;
    w->dims = dims;
    w->strides = strides;
    w->off = 0;
    for (int32_t i = 0; i < rank; i++)
        w->idx[i] = 0;
}

/* Advances to the next index; returns 0 after the last one. */
static inline int nml_walk_next(nml_walk *w) {
    for (int32_t d = w->rank - 1; d >= 0; d--) {
        w->off += w->strides[d];
        if (++w->idx[d] < w->dims[d]) return 1;
        w->off -= w->strides[d] * w->dims[d];
        w->idx[d] = 0;
    }
    return 0;
}

/* Integer sum of the reduced elements of one output (int8, uint8, int16), wrapping like
 * TFLite's int32 accumulator. */
int32_t nml_reduce_sum_int(const nml_reduce_plan *plan, const void *data, int type, int32_t base);
float nml_reduce_sum_f32(const nml_reduce_plan *plan, const float *data, int32_t base);

#endif
