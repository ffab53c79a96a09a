/* EXPAND_DIMS: inserts a size-1 dimension at the constant axis (int32 or int64; -1 appends).
 * The data is copied unchanged. */
#include <string.h>

#include "elem_common.h"
#include "kernels.h"

static nml_status expand_dims_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    NML_TRY(nml_check_io_count(ctx, node, 2, 2, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    size_t esize;
    NML_TRY(nml_elem_size(ctx, node, in, "input", &esize));
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "input", "output"));
    int32_t v[1];
    uint32_t n;
    NML_TRY(nml_read_const_ints(ctx, node, nml_node_input(ctx, node, 1), "axis", v, 1, &n));
    if (n != 1) return nml_kernel_fail(ctx, node, NML_E_SHAPE, "axis must hold one value");
    if (in->rank >= NML_MAX_RANK)
        return nml_kernel_fail(ctx, node, NML_E_LIMIT, "input rank %u leaves no room",
                               (unsigned)in->rank);
    int32_t axis;
    NML_TRY(nml_resolve_axis(ctx, node, v[0], in->rank + 1, &axis));
    int32_t dims[NML_MAX_RANK];
    for (int i = 0, k = 0; i <= in->rank; i++)
        dims[i] = i == axis ? 1 : in->dims[k++];
    return nml_check_shape(ctx, node, out, "output", dims, in->rank + 1);
}

static nml_status expand_dims_eval(nml_ctx *ctx, nml_node *node) {
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    size_t bytes = (size_t)nml_tensor_count(in) * nml_dtype_size(in->type);
    if (out->data != in->data && bytes) memmove(out->data, in->data, bytes);
    return NML_OK;
}

const nml_kernel nml_kernel_expand_dims = {NML_OP_EXPAND_DIMS, "EXPAND_DIMS", expand_dims_prepare,
                                           expand_dims_eval};
