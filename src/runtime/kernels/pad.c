/* PAD and PADV2 (one implementation, as in TFLite Micro): constant paddings [rank, 2] (int32 or
 * int64, non-negative); the pad value is PADV2's scalar third input, else 0 (float, int16,
 * int32, int64) or the output zero point (int8, uint8). */
#include <string.h>

#include "elem_common.h"
#include "kernels.h"
#include "pad_ref.h"

typedef nml_pad_data pad_data;

nml_status nml_pad_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    /* the data go to the persistent arena */
    return nml_pad_check(ctx, node, NULL, 0, node->builtin == NML_OP_PADV2, NULL);
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
