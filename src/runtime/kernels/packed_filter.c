#include "packed_filter.h"

#include "nanoml/ops.h"
#include "nanoml/types.h"

nml_status nml_packed_filter_prepare(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                                     const nml_tensor *filter, uint32_t axis,
                                     const nml_packed **out) {
    if (input->type != NML_INT8)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "packed weights need int8 activations, the input is %s",
                               nml_dtype_name(input->type));
    /* the loader refuses packed tensors then; kept as defence in depth */
    if (!NML_PACKED_DECODERS_LINKED())
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "packed weights, but packed.c is not linked");
    nml_packed *p = nml_ctx_alloc_persistent(ctx, sizeof *p);
    if (!p) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    nml_status st = nml_packed_parse(filter->pack, filter->pack_bytes, filter->type, filter->rank,
                                     filter->dims, filter->data, filter->bytes, p, ctx->err);
    if (st != NML_OK) {
        nml_error_prefix(ctx->err, "%s: packed filter: ", nml_op_name(node->builtin));
        return st;
    }
    if (p->row_axis != axis)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                               "filter is packed along axis %u, its output channels are axis %u",
                               (unsigned)p->row_axis, (unsigned)axis);
    if (p->row_len > NML_PACK_MAX_SPARSE_ROW)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "packed filter rows of %lu weights exceed %u",
                               (unsigned long)p->row_len, NML_PACK_MAX_SPARSE_ROW);
    *out = p;
    return NML_OK;
}
