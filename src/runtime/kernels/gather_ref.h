/* The reference GATHER's validated parameters and prepare (gather.c), shared with the
 * optimized kernel (opt_gather.c), which accepts and rejects the same nodes. */
#ifndef NANOML_KERNELS_GATHER_REF_H
#define NANOML_KERNELS_GATHER_REF_H

#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

typedef struct nml_gather_data {
    uint32_t batch, outer, coords, inner; /* sizes as in TFLite's reference */
    int32_t axis_size;
    size_t esize;
} nml_gather_data;

/* Index i of an int32 or int64 indices tensor (any alignment). */
int64_t nml_gather_index(const nml_tensor *t, uint32_t i);

/* Checks the node, stores nml_gather_data in node->data; constant indices are checked here. */
nml_status nml_gather_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p);

#endif
