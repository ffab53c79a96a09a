/* SQUEEZE: drops size-1 dimensions, all of them or those listed in squeeze_dims (negative
 * counts from the end). The data is copied unchanged. */
#include <string.h>

#include "elem_common.h"
#include "kernels.h"
#include "options_extra.h"

/* squeeze_dims is a list option */
NML_LINK_OPTIONS_EXTRA(nml_squeeze_options_extra);

static nml_status squeeze_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_check_io_count(ctx, node, 1, 1, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    size_t esize;
    NML_TRY(nml_elem_size(ctx, node, in, "input", &esize));
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "input", "output"));
    if (p->squeeze_len < 0 || p->squeeze_len > NML_MAX_RANK)
        return nml_kernel_fail(ctx, node, NML_E_LIMIT, "squeeze_dims has %d entries",
                               (int)p->squeeze_len);
    unsigned drop = 0;
    for (int i = 0; i < p->squeeze_len; i++) {
        int32_t a;
        NML_TRY(nml_resolve_axis(ctx, node, p->squeeze_dims[i], in->rank, &a));
        if (in->dims[a] != 1)
            return nml_kernel_fail(ctx, node, NML_E_SHAPE, "cannot squeeze dimension %d of size %d",
                                   (int)a, (int)in->dims[a]);
        drop |= 1u << a;
    }
    int32_t dims[NML_MAX_RANK];
    int rank = 0;
    for (int i = 0; i < in->rank; i++) {
        int gone = p->squeeze_len ? (drop >> i) & 1u : in->dims[i] == 1;
        if (!gone) dims[rank++] = in->dims[i];
    }
    return nml_check_shape(ctx, node, out, "output", dims, rank);
}

static nml_status squeeze_eval(nml_ctx *ctx, nml_node *node) {
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    size_t bytes = (size_t)nml_tensor_count(in) * nml_dtype_size(in->type);
    if (out->data != in->data && bytes) memmove(out->data, in->data, bytes);
    return NML_OK;
}

const nml_kernel nml_kernel_squeeze = {NML_OP_SQUEEZE, "SQUEEZE", squeeze_prepare, squeeze_eval};
