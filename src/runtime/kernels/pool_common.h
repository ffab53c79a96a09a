/* Shared prepare of AVERAGE_POOL_2D and MAX_POOL_2D (TFLite Micro's PoolingPrepare): NHWC input
 * and output of the same type (float32 or int8) and, for int8, the same quantization; the
 * window uses the conv padding formula with dilation 1. */
#ifndef NANOML_KERNELS_POOL_COMMON_H
#define NANOML_KERNELS_POOL_COMMON_H

#include "conv_common.h"
#include "window_walk.h"

typedef struct nml_pool_data {
    nml_window w;
    int32_t act_min, act_max; /* int8 */
    float f_min, f_max;       /* float32 */
} nml_pool_data;

/* Validates the node and returns its persistent pooling data. With require_nonempty, rejects
 * windows that contain no input element at all (an average would divide by zero). */
nml_status nml_pool_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                            int require_nonempty, nml_pool_data **out);
/* The prepare of the lean (int8-only) kernels nml_kernel_max_pool_2d_opt_int8 and
 * nml_kernel_average_pool_2d_opt_int8: nml_pool_prepare (require_nonempty for AVERAGE_POOL_2D
 * nodes), but a float32 node is refused (nml_lean_refuse) right after the type checks, and the
 * float32 branch is not compiled in. */
nml_status nml_pool_prepare_lean(nml_ctx *ctx, nml_node *node, const nml_op_params *p);

/* First and one-past-last window offsets along one axis that fall inside the input, for a
 * window starting at `origin` (may be negative) of `filter` taps over `size` elements. */
static inline void nml_pool_range(int32_t origin, int32_t filter, int32_t size, int32_t *start,
                                  int32_t *end) {
    *start = origin < 0 ? -origin : 0;
    *end = size - origin < filter ? size - origin : filter;
}

/* The walk over the output pixels of a pooling node (window_walk.h). */
NML_WALK_INLINE void nml_pool_walk(nml_pixel_walk *p, const nml_pool_data *d,
                                   const nml_tensor *input) {
    nml_walk_start(p, &d->w, input->dims[0], input->dims[1], input->dims[2], input->dims[3]);
}

/* float32: clamped to the fused activation range. */
NML_WALK_INLINE float nml_pool_clamp_f32(const nml_pool_data *d, float x) {
    x = x < d->f_min ? d->f_min : x;
    return x > d->f_max ? d->f_max : x;
}

#endif
