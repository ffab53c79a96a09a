/* The reference CONCATENATION's validated parameters and prepare (concatenation.c), shared
 * with the optimized kernel (opt_concatenation.c), which accepts and rejects the same nodes. */
#ifndef NANOML_KERNELS_CONCATENATION_REF_H
#define NANOML_KERNELS_CONCATENATION_REF_H

#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

typedef struct nml_concat_input {
    int32_t axis_dim;
    int requant; /* quantization differs from the output's */
    int32_t in_zp, mult;
    int shift;
} nml_concat_input;

typedef struct nml_concat_data {
    int32_t axis;
    uint32_t outer, inner; /* elements before the axis, after the axis */
    size_t esize;
    int32_t out_zp, lo, hi;
    nml_concat_input in[]; /* one per input: persistent arena for n_inputs, not the maximum */
} nml_concat_data;

/* Checks the node and stores nml_concat_data in node->data. */
nml_status nml_concat_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p);

#endif
