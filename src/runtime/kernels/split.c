/* SPLIT (inputs: constant axis, tensor) into num_splits equal parts and SPLIT_V (inputs: tensor,
 * constant size_splits with at most one -1, constant axis). Both copy contiguous chunks. */
#include <string.h>

#include "elem_common.h"
#include "kernels.h"

typedef struct split_data {
    uint32_t outer;     /* elements before the axis */
    size_t inner_bytes; /* bytes of one index along the axis */
    int32_t sizes[]; /* one per output: persistent arena for n_outputs, not the maximum */
} split_data;

static nml_status read_axis(nml_ctx *ctx, const nml_node *node, const nml_tensor *axis_t, int rank,
                            int32_t *axis) {
    int32_t v[1];
    uint32_t n;
    NML_TRY(nml_read_const_ints(ctx, node, axis_t, "axis", v, 1, &n));
    if (n != 1) return nml_kernel_fail(ctx, node, NML_E_SHAPE, "axis must hold one value");
    return nml_resolve_axis(ctx, node, v[0], rank, axis);
}

/* Shapes, types and chunk sizes shared by both operators once sizes[] are known. */
static nml_status plan(nml_ctx *ctx, nml_node *node, const nml_tensor *in, int32_t axis,
                       split_data *d) {
    size_t esize;
    NML_TRY(nml_elem_size(ctx, node, in, "input", &esize));
    d->outer = 1;
    d->inner_bytes = esize;
    for (int k = 0; k < axis; k++)
        d->outer *= (uint32_t)in->dims[k];
    for (int k = axis + 1; k < in->rank; k++)
        d->inner_bytes *= (size_t)in->dims[k];
    for (uint32_t i = 0; i < node->n_outputs; i++) {
        const nml_tensor *out = nml_node_output(ctx, node, i);
        char what[32] = "output";
        if (NML_ERROR_DETAIL) nml_format(what, sizeof what, "output %u", (unsigned)i);
        NML_TRY(nml_check_same_quant(ctx, node, in, out, "input", what));
        int32_t dims[NML_MAX_RANK];
        for (int k = 0; k < in->rank; k++)
            dims[k] = k == axis ? d->sizes[i] : in->dims[k];
        NML_TRY(nml_check_shape(ctx, node, out, what, dims, in->rank));
    }
    return NML_OK;
}

static nml_status check_outputs(nml_ctx *ctx, nml_node *node, int32_t num_splits) {
    if (node->n_outputs < 1 || node->n_outputs > NML_MAX_OP_OUTPUTS ||
        (int32_t)node->n_outputs != num_splits)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "has %u outputs, num_splits is %d",
                               (unsigned)node->n_outputs, (int)num_splits);
    return NML_OK;
}

static nml_status split_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(check_outputs(ctx, node, p->num_splits));
    NML_TRY(nml_check_io_count(ctx, node, 2, 2, node->n_outputs));
    const nml_tensor *in = nml_node_input(ctx, node, 1);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    int32_t axis;
    NML_TRY(read_axis(ctx, node, nml_node_input(ctx, node, 0), in->rank, &axis));
    split_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d + node->n_outputs * sizeof d->sizes[0],
                                (void **)&d));
    if (in->dims[axis] % p->num_splits != 0)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "dimension %d of size %d does not split into %d equal parts",
                               (int)axis, (int)in->dims[axis], (int)p->num_splits);
    for (int32_t i = 0; i < p->num_splits; i++)
        d->sizes[i] = in->dims[axis] / p->num_splits;
    return plan(ctx, node, in, axis, d);
}

static nml_status split_v_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(check_outputs(ctx, node, p->num_splits));
    NML_TRY(nml_check_io_count(ctx, node, 3, 3, node->n_outputs));
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    int32_t axis;
    NML_TRY(read_axis(ctx, node, nml_node_input(ctx, node, 2), in->rank, &axis));
    split_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d + node->n_outputs * sizeof d->sizes[0],
                                (void **)&d));
    uint32_t n;
    NML_TRY(nml_read_const_ints(ctx, node, nml_node_input(ctx, node, 1), "size_splits", d->sizes,
                                NML_MAX_OP_OUTPUTS, &n));
    if (n != node->n_outputs)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "size_splits has %u entries for %u outputs",
                               (unsigned)n, (unsigned)node->n_outputs);
    int wild = -1;
    int64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (d->sizes[i] == -1 && wild < 0) {
            wild = (int)i;
        } else if (d->sizes[i] < 0) {
            return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                                   "size_splits entry %u is %d (one -1 allowed)", (unsigned)i,
                                   (int)d->sizes[i]);
        } else {
            sum += d->sizes[i];
        }
    }
    if (wild >= 0 && sum <= in->dims[axis])
        d->sizes[wild] = (int32_t)(in->dims[axis] - sum);
    else if (sum != in->dims[axis])
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "size_splits add up to %lld, dimension %d has %d", (long long)sum,
                               (int)axis, (int)in->dims[axis]);
    return plan(ctx, node, in, axis, d);
}

static nml_status split_run(nml_ctx *ctx, nml_node *node, const nml_tensor *in) {
    const split_data *d = node->data;
    const uint8_t *src = in->data;
    for (uint32_t b = 0; b < d->outer; b++)
        for (uint32_t i = 0; i < node->n_outputs; i++) {
            size_t chunk = (size_t)d->sizes[i] * d->inner_bytes;
            memcpy((uint8_t *)nml_node_output(ctx, node, i)->data + b * chunk, src, chunk);
            src += chunk;
        }
    return NML_OK;
}

static nml_status split_eval(nml_ctx *ctx, nml_node *node) {
    return split_run(ctx, node, nml_node_input(ctx, node, 1));
}

static nml_status split_v_eval(nml_ctx *ctx, nml_node *node) {
    return split_run(ctx, node, nml_node_input(ctx, node, 0));
}

const nml_kernel nml_kernel_split = {NML_OP_SPLIT, "SPLIT", split_prepare, split_eval};
const nml_kernel nml_kernel_split_v = {NML_OP_SPLIT_V, "SPLIT_V", split_v_prepare, split_v_eval};
