/* The reference PAD/PADV2's validated parameters and prepare (pad.c), shared with the
 * optimized kernel (opt_pad.c), which accepts and rejects the same nodes. */
#ifndef NANOML_KERNELS_PAD_REF_H
#define NANOML_KERNELS_PAD_REF_H

#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

typedef struct nml_pad_data {
    int32_t rank;
    int32_t
        before[NML_MAX_RANK]; /* elements before, per dimension (after: output - input - before) */
    size_t esize;
    uint8_t value[8]; /* pad element when there is no constant_values input */
} nml_pad_data;

/* Checks a PAD or PADV2 node and stores nml_pad_data in node->data. */
nml_status nml_pad_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p);

#endif
