/* RESHAPE: same elements, new shape. The shape comes from the constant second input, else from
 * the new_shape option, else it is simply the output tensor's; it must agree with the output
 * tensor and keep the element count. Eval copies (nothing when the planner aliased the two). */
#include <string.h>

#include "elem_common.h"
#include "kernels.h"
#include "options_extra.h"

/* new_shape is a list option */
NML_LINK_OPTIONS_EXTRA(nml_reshape_options_extra);

/* Resolves one -1 entry so that the product equals `count`. */
static nml_status resolve_shape(nml_ctx *ctx, const nml_node *node, int32_t *shape, uint32_t n,
                                uint32_t count) {
    int wild = -1;
    uint64_t known = 1;
    for (uint32_t i = 0; i < n; i++) {
        if (shape[i] == -1) {
            if (wild >= 0)
                return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                                       "new shape has more than one -1 (entries %d and %u)", wild,
                                       (unsigned)i);
            wild = (int)i;
        } else if (shape[i] < 0) {
            return nml_kernel_fail(ctx, node, NML_E_FORMAT, "new shape entry %u is %d", (unsigned)i,
                                   (int)shape[i]);
        } else {
            known *= (uint64_t)shape[i];
            if (known > UINT32_MAX) known = (uint64_t)UINT32_MAX + 1; /* cannot match count */
        }
    }
    if (wild >= 0) {
        if (known == 0 || count % known != 0)
            return nml_kernel_fail(
                ctx, node, NML_E_SHAPE,
                "cannot infer the -1 entry: %u elements are not a multiple of %llu",
                (unsigned)count, (unsigned long long)known);
        shape[wild] = (int32_t)(count / known);
        known *= (uint64_t)shape[wild];
    }
    if (known != count)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "new shape has %llu elements, input has %u",
                               (unsigned long long)known, (unsigned)count);
    return NML_OK;
}

static nml_status reshape_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_check_io_count(ctx, node, 1, 2, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    nml_tensor *shape_t = nml_node_input(ctx, node, 1);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    size_t esize;
    NML_TRY(nml_elem_size(ctx, node, in, "input", &esize));
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "input", "output"));
    uint32_t count = nml_tensor_count(in);
    if (nml_tensor_count(out) != count) {
        char si[80], so[80];
        if (NML_ERROR_DETAIL) {
            nml_format_dims(si, sizeof si, in->dims, in->rank);
            nml_format_dims(so, sizeof so, out->dims, out->rank);
        }
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "input %s has %u elements, output %s has %u",
                               si, (unsigned)count, so, (unsigned)nml_tensor_count(out));
    }
    int32_t shape[NML_MAX_RANK];
    uint32_t n;
    if (shape_t && shape_t->alloc == NML_ALLOC_CONST) {
        if (shape_t->rank > 1)
            return nml_kernel_fail(ctx, node, NML_E_SHAPE, "shape input has rank %u, expected 1",
                                   (unsigned)shape_t->rank);
        NML_TRY(nml_read_const_ints(ctx, node, shape_t, "shape input", shape, NML_MAX_RANK, &n));
    } else if (p->new_shape_len >= 0) {
        if (p->new_shape_len > NML_MAX_RANK)
            return nml_kernel_fail(ctx, node, NML_E_LIMIT, "new_shape has %d entries, at most %d",
                                   (int)p->new_shape_len, NML_MAX_RANK);
        n = (uint32_t)p->new_shape_len;
        memcpy(shape, p->new_shape, n * sizeof shape[0]);
    } else {
        return NML_OK; /* the output tensor's shape is the new shape */
    }
    NML_TRY(resolve_shape(ctx, node, shape, n, count));
    return nml_check_shape(ctx, node, out, "output", shape, (int)n);
}

static nml_status reshape_eval(nml_ctx *ctx, nml_node *node) {
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    size_t bytes = (size_t)nml_tensor_count(in) * nml_dtype_size(in->type);
    if (out->data != in->data && bytes) memmove(out->data, in->data, bytes);
    return NML_OK;
}

const nml_kernel nml_kernel_reshape = {NML_OP_RESHAPE, "RESHAPE", reshape_prepare, reshape_eval};
