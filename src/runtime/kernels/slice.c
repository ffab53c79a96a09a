/* SLICE: the block starting at the constant begin with the constant size (-1: to the end),
 * int32 or int64 indices. Every block must lie inside the input. */
#include "elem_common.h"
#include "kernels.h"

typedef struct slice_data {
    int32_t rank;
    int32_t dims[NML_MAX_RANK], strides[NML_MAX_RANK];
    int32_t base;
    size_t esize;
} slice_data;

static nml_status slice_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    NML_TRY(nml_check_io_count(ctx, node, 3, 3, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    slice_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_elem_size(ctx, node, in, "input", &d->esize));
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "input", "output"));
    int32_t begin[NML_MAX_RANK], size[NML_MAX_RANK];
    uint32_t nb, ns;
    NML_TRY(nml_read_const_ints(ctx, node, nml_node_input(ctx, node, 1), "begin", begin,
                                NML_MAX_RANK, &nb));
    NML_TRY(nml_read_const_ints(ctx, node, nml_node_input(ctx, node, 2), "size", size, NML_MAX_RANK,
                                &ns));
    if (nb != in->rank || ns != in->rank)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "begin and size have %u and %u entries, input has rank %u",
                               (unsigned)nb, (unsigned)ns, (unsigned)in->rank);
    int32_t stride = 1;
    d->rank = in->rank;
    d->base = 0;
    for (int i = in->rank - 1; i >= 0; i--) {
        int32_t dim = in->dims[i];
        if (size[i] == -1 && begin[i] >= 0 && begin[i] <= dim) size[i] = dim - begin[i];
        if (begin[i] < 0 || size[i] < 0 || begin[i] > dim || size[i] > dim - begin[i])
            return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                                   "dimension %d: begin %d size %d is outside 0..%d", i,
                                   (int)begin[i], (int)size[i], (int)dim);
        d->dims[i] = size[i];
        d->strides[i] = stride;
        d->base += begin[i] * stride;
        stride *= dim;
    }
    return nml_check_shape(ctx, node, out, "output", d->dims, d->rank);
}

static nml_status slice_eval(nml_ctx *ctx, nml_node *node) {
    const slice_data *d = node->data;
    nml_copy_strided(nml_node_output(ctx, node, 0)->data, nml_node_input(ctx, node, 0)->data,
                     d->esize, d->rank, d->dims, d->strides, d->base);
    return NML_OK;
}

const nml_kernel nml_kernel_slice = {NML_OP_SLICE, "SLICE", slice_prepare, slice_eval};
