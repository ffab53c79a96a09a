/* GATHER: slices of the params tensor along `axis` picked by int32/int64 indices, with
 * TFLite's batch_dims. Indices are data: each is checked at eval before anything is copied
 * (an out-of-range index is an error, never an out-of-bounds read); constant indices are
 * already checked at prepare. */
#include <string.h>

#include "elem_common.h"
#include "gather_ref.h"
#include "kernels.h"

typedef nml_gather_data gather_data;

int64_t nml_gather_index(const nml_tensor *t, uint32_t i) {
    if (t->type == NML_INT32) {
        int32_t v;
        memcpy(&v, (const uint8_t *)t->data + 4u * i, 4);
        return v;
    }
    int64_t v;
    memcpy(&v, (const uint8_t *)t->data + 8u * i, 8);
    return v;
}

static nml_status check_indices(nml_ctx *ctx, const nml_node *node, const gather_data *d,
                                const nml_tensor *idx) {
    uint32_t n = d->batch * d->coords;
    for (uint32_t i = 0; i < n; i++) {
        int64_t v = nml_gather_index(idx, i);
        if (v < 0 || v >= d->axis_size)
            return nml_kernel_fail(ctx, node, NML_E_ARG,
                                   "index %lld at position %u is out of range [0, %d)",
                                   (long long)v, (unsigned)i, (int)d->axis_size);
    }
    return NML_OK;
}

nml_status nml_gather_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_check_io_count(ctx, node, 2, 2, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *idx = nml_node_input(ctx, node, 1);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    if (!in || !idx) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "an input is missing");
    gather_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_elem_size(ctx, node, in, "params", &d->esize));
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "params", "output"));
    if (idx->type != NML_INT32 && idx->type != NML_INT64)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "indices have type %s, expected int32 or int64",
                               nml_dtype_name(idx->type));
    if (in->rank == 0) return nml_kernel_fail(ctx, node, NML_E_SHAPE, "params is a scalar");
    int32_t axis;
    NML_TRY(nml_resolve_axis(ctx, node, p->axis, in->rank, &axis));
    int32_t bd = p->batch_dims < 0 ? p->batch_dims + idx->rank : p->batch_dims;
    if (bd < 0 || bd > idx->rank || bd >= in->rank || bd > axis)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                               "batch_dims %d is invalid for axis %d, params rank %u, indices "
                               "rank %u",
                               (int)p->batch_dims, (int)axis, (unsigned)in->rank,
                               (unsigned)idx->rank);
    int32_t dims[2 * NML_MAX_RANK];
    int rank = 0;
    d->batch = d->outer = d->coords = d->inner = 1;
    for (int i = 0; i < bd; i++) {
        if (in->dims[i] != idx->dims[i])
            return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                                   "batch dimension %d: params has %d, indices %d", i,
                                   (int)in->dims[i], (int)idx->dims[i]);
        d->batch *= (uint32_t)in->dims[i];
    }
    for (int i = 0; i < axis; i++)
        dims[rank++] = in->dims[i];
    for (int i = bd; i < axis; i++)
        d->outer *= (uint32_t)in->dims[i];
    for (int i = bd; i < idx->rank; i++) {
        dims[rank++] = idx->dims[i];
        d->coords *= (uint32_t)idx->dims[i];
    }
    for (int i = axis + 1; i < in->rank; i++) {
        dims[rank++] = in->dims[i];
        d->inner *= (uint32_t)in->dims[i];
    }
    if (rank > NML_MAX_RANK)
        return nml_kernel_fail(ctx, node, NML_E_LIMIT, "output rank %d exceeds %d", rank,
                               NML_MAX_RANK);
    d->axis_size = in->dims[axis];
    NML_TRY(nml_check_shape(ctx, node, out, "output", dims, rank));
    if (idx->alloc == NML_ALLOC_CONST) {
        const void *data;
        NML_TRY(nml_const_data(ctx, node, idx, "indices", &data));
        NML_TRY(check_indices(ctx, node, d, idx));
    }
    return NML_OK;
}

static nml_status gather_eval(nml_ctx *ctx, nml_node *node) {
    const gather_data *d = node->data;
    const nml_tensor *in = nml_node_input(ctx, node, 0), *idx = nml_node_input(ctx, node, 1);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    NML_TRY(check_indices(ctx, node, d, idx));
    size_t chunk = (size_t)d->inner * d->esize;
    const uint8_t *src = in->data;
    uint8_t *dst = out->data;
    for (uint32_t b = 0; b < d->batch; b++)
        for (uint32_t o = 0; o < d->outer; o++) {
            const uint8_t *base = src + (size_t)(b * d->outer + o) * (uint32_t)d->axis_size * chunk;
            for (uint32_t c = 0; c < d->coords; c++) {
                int64_t k = nml_gather_index(idx, b * d->coords + c);
                memcpy(dst, base + (size_t)k * chunk, chunk);
                dst += chunk;
            }
        }
    return NML_OK;
}

const nml_kernel nml_kernel_gather = {NML_OP_GATHER, "GATHER", nml_gather_prepare, gather_eval};
