/* The reference QUANTIZE's validated parameters and prepare (quantize.c), shared with the
 * optimized kernel (opt_quantize.c), which accepts and rejects the same nodes. */
#ifndef NANOML_KERNELS_QUANTIZE_REF_H
#define NANOML_KERNELS_QUANTIZE_REF_H

#include <stdint.h>

#include "kernel.h"

typedef struct nml_quantize_data {
    double scale; /* output scale, float input */
    int32_t in_zp, out_zp;
    int32_t mult; /* requantization s_in / s_out, quantized input */
    int shift;
    int32_t lo, hi; /* output type's range */
} nml_quantize_data;

/* Checks the node and stores nml_quantize_data in node->data. */
nml_status nml_quantize_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p);

#endif
