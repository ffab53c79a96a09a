/* The reference PAD/PADV2's validated parameters and prepare (pad.c), shared with the
 * optimized kernel (opt_pad.c), which accepts and rejects the same nodes: one body of checks,
 * nml_pad_check, compiled into both. */
#ifndef NANOML_KERNELS_PAD_REF_H
#define NANOML_KERNELS_PAD_REF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "elem_common.h"
#include "kernel.h"
#include "lean.h"

typedef struct nml_pad_data {
    int32_t rank;
    int32_t
        before[NML_MAX_RANK]; /* elements before, per dimension (after: output - input - before) */
    size_t esize;
    uint8_t value[8]; /* pad element when there is no constant_values input */
} nml_pad_data;

/* Checks a PAD or PADV2 node and stores nml_pad_data in node->data. */
nml_status nml_pad_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p);

/* The checks of nml_pad_prepare, in one body for it and for the optimized kernel's lean variant
 * (lean 1: the parameters go to *d, on the caller's stack, instead of the persistent arena, and
 * elements of more than one byte are refused once their size is known). v2: the node is PADV2
 * (a constant in the lean variants, one for each operator, so that PAD's carries no
 * constant_values code). io (NULL: not wanted) gets the input and the output, which the lean
 * variant plans with. */
NML_SETUP_INLINE nml_status nml_pad_check(nml_ctx *ctx, nml_node *node, nml_pad_data *d, int lean,
                                          int v2, const nml_tensor **io) {
    const uint32_t max_in = v2 ? 3 : 2;
    nml_tensor *t[4];
    NML_TRY(nml_node_io(ctx, node, 2, max_in, t));
    const nml_tensor *in = t[0], *pads = t[1], *value = max_in == 3 ? t[2] : NULL, *out = t[max_in];
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    if (io) io[0] = in, io[1] = out;
    if (!lean) NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_elem_size(ctx, node, in, "input", &d->esize));
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "input", "output"));
    if (lean && d->esize != 1) return nml_lean_refuse(ctx, node, "one-byte elements (int8, uint8)");
    const int rank = in->rank;
    int32_t pv[2 * NML_MAX_RANK];
    uint32_t n;
    NML_TRY(nml_read_const_ints(ctx, node, pads, "paddings", pv, 2 * NML_MAX_RANK, &n));
    if (n != 2u * (uint32_t)rank || (pads->rank != 2 && rank > 0))
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "paddings has %u values (rank %u), expected shape %dx2", (unsigned)n,
                               (unsigned)pads->rank, rank);
    int32_t dims[NML_MAX_RANK];
    d->rank = rank;
    for (int i = 0; i < rank; i++) {
        const int32_t before = pv[2 * i], after = pv[2 * i + 1];
        if (before < 0 || after < 0)
            return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                                   "negative padding %d,%d on dimension %d", (int)before,
                                   (int)after, i);
        /* in 32-bit arithmetic: dimension and paddings are in [0, 2^31) */
        if ((uint32_t)before > (uint32_t)NML_MAX_DIM - (uint32_t)in->dims[i] ||
            (uint32_t)after > (uint32_t)NML_MAX_DIM - (uint32_t)in->dims[i] - (uint32_t)before)
            return nml_kernel_fail(ctx, node, NML_E_LIMIT, "padded dimension %d is too large", i);
        dims[i] = in->dims[i] + before + after;
        d->before[i] = before;
    }
    NML_TRY(nml_check_shape(ctx, node, out, "output", dims, rank));
    if (value) { /* PADV2's constant_values: one element, typed and quantized as the output */
        NML_TRY(nml_check_type(ctx, node, value, "constant_values", out->type));
        if (nml_tensor_count(value) != 1)
            return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                                   "constant_values has %u elements, expected 1",
                                   (unsigned)nml_tensor_count(value));
        return nml_check_same_quant(ctx, node, value, out, "constant_values", "output");
    }
    memset(d->value, 0, sizeof d->value);
    if (out->type == NML_INT8 || out->type == NML_UINT8) { /* the zero point; others: 0 */
        NML_TRY(nml_check_quant(ctx, node, out, "output"));
        d->value[0] = (uint8_t)out->zero_point;
    }
    return NML_OK;
}

#endif
