/* PAD and PADV2 (one implementation, as in TFLite Micro): constant paddings [rank, 2] (int32 or
 * int64, non-negative); the pad value is PADV2's scalar third input, else 0 (float, int16,
 * int32, int64) or the output zero point (int8, uint8). */
#include <string.h>

#include "elem_common.h"
#include "kernels.h"
#include "pad_ref.h"

typedef nml_pad_data pad_data;

static nml_status pad_value_check(nml_ctx *ctx, const nml_node *node, const nml_tensor *v,
                                  const nml_tensor *out) {
    if (v->type != out->type)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "constant_values has type %s, expected %s", nml_dtype_name(v->type),
                               nml_dtype_name(out->type));
    if (nml_tensor_count(v) != 1)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "constant_values has %u elements, expected 1",
                               (unsigned)nml_tensor_count(v));
    return nml_check_same_quant(ctx, node, v, out, "constant_values", "output");
}

nml_status nml_pad_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    int v2 = node->builtin == NML_OP_PADV2;
    NML_TRY(nml_check_io_count(ctx, node, 2, v2 ? 3 : 2, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *pads = nml_node_input(ctx, node, 1);
    nml_tensor *value = nml_node_input(ctx, node, 2), *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    pad_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_elem_size(ctx, node, in, "input", &d->esize));
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "input", "output"));
    int rank = in->rank;
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
        if (pv[2 * i] < 0 || pv[2 * i + 1] < 0)
            return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                                   "negative padding %d,%d on dimension %d", (int)pv[2 * i],
                                   (int)pv[2 * i + 1], i);
        int64_t dim = (int64_t)in->dims[i] + pv[2 * i] + pv[2 * i + 1];
        if (dim > NML_MAX_DIM)
            return nml_kernel_fail(ctx, node, NML_E_LIMIT, "padded dimension %d is too large", i);
        dims[i] = (int32_t)dim;
        d->before[i] = pv[2 * i];
    }
    NML_TRY(nml_check_shape(ctx, node, out, "output", dims, rank));
    if (value) return pad_value_check(ctx, node, value, out);
    memset(d->value, 0, sizeof d->value);
    if (out->type == NML_INT8 || out->type == NML_UINT8) {
        NML_TRY(nml_check_quant(ctx, node, out, "output"));
        d->value[0] = (uint8_t)out->zero_point;
    }
    return NML_OK;
}

/* Copies each innermost input row to its place in the padded output. */
static void copy_rows(const pad_data *d, const nml_tensor *in, const nml_tensor *out) {
    int rank = d->rank;
    const uint8_t *src = in->data;
    uint8_t *dst = out->data;
    if (rank == 0) {
        memcpy(dst, src, d->esize);
        return;
    }
    int64_t ostride[NML_MAX_RANK];
    ostride[rank - 1] = 1;
    for (int i = rank - 2; i >= 0; i--)
        ostride[i] = ostride[i + 1] * out->dims[i + 1];
    for (int i = 0; i < rank; i++)
        if (in->dims[i] == 0) return;
    int32_t idx[NML_MAX_RANK] = {0};
    size_t row = (size_t)in->dims[rank - 1] * d->esize;
    for (;;) {
        int64_t o = 0;
        for (int i = 0; i < rank; i++)
            o += (int64_t)(idx[i] + d->before[i]) * ostride[i];
        memcpy(dst + (size_t)o * d->esize, src, row);
        src += row;
        int k = rank - 2;
        for (; k >= 0; k--) {
            if (++idx[k] < in->dims[k]) break;
            idx[k] = 0;
        }
        if (k < 0) return;
    }
}

static nml_status pad_eval(nml_ctx *ctx, nml_node *node) {
    const pad_data *d = node->data;
    const nml_tensor *in = nml_node_input(ctx, node, 0), *value = nml_node_input(ctx, node, 2);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    const uint8_t *v = value ? (const uint8_t *)value->data : d->value;
    uint32_t n = nml_tensor_count(out);
    uint8_t *dst = out->data;
    if (d->esize == 1) {
        memset(dst, v[0], n);
    } else {
        for (uint32_t i = 0; i < n; i++)
            memcpy(dst + (size_t)i * d->esize, v, d->esize);
    }
    copy_rows(d, in, out);
    return NML_OK;
}

const nml_kernel nml_kernel_pad = {NML_OP_PAD, "PAD", nml_pad_prepare, pad_eval};
const nml_kernel nml_kernel_padv2 = {NML_OP_PADV2, "PADV2", nml_pad_prepare, pad_eval};
