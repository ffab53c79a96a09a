/* The reference GATHER's validated parameters and prepare (gather.c), shared with the
 * optimized kernel (opt_gather.c), which accepts and rejects the same nodes: one body of checks,
 * nml_gather_check, compiled into both. */
#ifndef NANOML_KERNELS_GATHER_REF_H
#define NANOML_KERNELS_GATHER_REF_H

#include <stddef.h>
#include <stdint.h>

#include "elem_common.h"
#include "kernel.h"
#include "lean.h"

typedef struct nml_gather_data {
    uint32_t batch, outer, coords, inner; /* sizes as in TFLite's reference */
    int32_t axis_size;
    size_t esize;
} nml_gather_data;

/* Index i of an int32 or int64 indices tensor (any alignment). */
int64_t nml_gather_index(const nml_tensor *t, uint32_t i);

/* Checks the node, stores nml_gather_data in node->data; constant indices are checked here. */
nml_status nml_gather_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p);

/* What the lean variant of the optimized kernel takes. */
#define NML_GATHER_LEAN_TAKES "constant indices in arithmetic progression, batch_dims 0"

/* The checks of nml_gather_prepare but those of the index values, in one body for it and for
 * the optimized kernel's lean variant. lean 0: the sizes go to node data in the persistent
 * arena (d is not read). lean 1: they go to *d, on the caller's stack, and a node the variant
 * does not take is refused as soon as that is known (batch_dims other than 0, indices that are
 * not a constant tensor: checked present and complete, as the reference checks them later);
 * the caller then checks the index values. io gets params, indices and the output. */
NML_SETUP_INLINE nml_status nml_gather_check(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                             nml_gather_data *d, int lean, const nml_tensor **io) {
    nml_tensor *t[3];
    NML_TRY(nml_node_io(ctx, node, 2, 2, t));
    const nml_tensor *in = t[0], *idx = t[1], *out = t[2];
    if (!in || !idx) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "an input is missing");
    io[0] = in, io[1] = idx, io[2] = out;
    if (!lean) NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    size_t esize; /* not &d->esize: the lean variant's *d stays in registers */
    NML_TRY(nml_elem_size(ctx, node, in, "params", &esize));
    d->esize = esize;
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "params", "output"));
    if (idx->type != NML_INT32 && idx->type != NML_INT64)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "indices have type %s, expected int32 or int64",
                               nml_dtype_name(idx->type));
    if (in->rank == 0) return nml_kernel_fail(ctx, node, NML_E_SHAPE, "params is a scalar");
    int32_t axis;
    NML_TRY(nml_resolve_axis(ctx, node, p->axis, in->rank, &axis));
    const int32_t bd = p->batch_dims < 0 ? p->batch_dims + idx->rank : p->batch_dims;
    if (lean) {
        if (bd != 0 || idx->alloc != NML_ALLOC_CONST)
            return nml_lean_refuse(ctx, node, NML_GATHER_LEAN_TAKES);
        const void *data;
        NML_TRY(nml_const_data(ctx, node, idx, "indices", &data));
    }
    /* (lean: batch_dims is 0 here, valid for every params rank >= 1 and axis) */
    if (!lean && (bd < 0 || bd > idx->rank || bd >= in->rank || bd > axis))
        return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                               "batch_dims %d is invalid for axis %d, params rank %u, indices "
                               "rank %u",
                               (int)p->batch_dims, (int)axis, (unsigned)in->rank,
                               (unsigned)idx->rank);
    /* output shape: params' dimensions with the axis replaced by the indices' after the batch
     * dimensions, which params and indices share */
    int32_t dims[2 * NML_MAX_RANK];
    int rank = 0;
    uint32_t batch = 1, outer = 1, coords = 1, inner = 1; /* in registers, stored once */
    for (int i = 0; i < in->rank; i++) {
        if (i == axis) {
            for (int k = bd; k < idx->rank; k++) {
                dims[rank++] = idx->dims[k];
                coords *= (uint32_t)idx->dims[k];
            }
            continue;
        }
        dims[rank++] = in->dims[i];
        if (i < bd) {
            if (in->dims[i] != idx->dims[i])
                return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                                       "batch dimension %d: params has %d, indices %d", i,
                                       (int)in->dims[i], (int)idx->dims[i]);
            batch *= (uint32_t)in->dims[i];
        } else if (i < axis) {
            outer *= (uint32_t)in->dims[i];
        } else {
            inner *= (uint32_t)in->dims[i];
        }
    }
    d->batch = batch;
    d->outer = outer;
    d->coords = coords;
    d->inner = inner;
    if (rank > NML_MAX_RANK)
        return nml_kernel_fail(ctx, node, NML_E_LIMIT, "output rank %d exceeds %d", rank,
                               NML_MAX_RANK);
    d->axis_size = in->dims[axis];
    return nml_check_shape(ctx, node, out, "output", dims, rank);
}

#endif
