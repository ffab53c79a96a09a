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
    const nml_tensor *io[3] = {NULL, NULL, NULL}; /* set by the check when it succeeds */
    NML_TRY(nml_gather_check(ctx, node, p, NULL, 0, io));
    const nml_tensor *idx = io[1];
    if (idx->alloc == NML_ALLOC_CONST) {
        const void *data;
        NML_TRY(nml_const_data(ctx, node, idx, "indices", &data));
        NML_TRY(check_indices(ctx, node, node->data, idx));
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
