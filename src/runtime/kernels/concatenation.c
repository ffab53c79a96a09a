/* CONCATENATION along any axis (negative counts from the end); like TFLite, no fused
 * activation. Quantized inputs whose scale or zero point differ from the output's are requantized
 * with the fixed-point multiplier s_in / s_out (TFLite's Requantize arithmetic); inputs that
 * match are copied, as in TFLite Micro. */
#include <string.h>

#include "concatenation_ref.h"
#include "elem_common.h"
#include "kernels.h"

typedef nml_concat_input concat_input;
typedef nml_concat_data concat_data;

nml_status nml_concat_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return nml_concat_check(ctx, node, p, 0);
}

static void requant_chunk(const concat_data *d, const concat_input *ci, int type, const void *src,
                          uint32_t src_i, void *dst, uint32_t dst_i, uint32_t n) {
    for (uint32_t k = 0; k < n; k++) {
        int32_t v =
            nml_mul_by_qm(nml_load_int(src, type, src_i + k) - ci->in_zp, ci->mult, ci->shift);
        nml_store_int(dst, type, dst_i + k, nml_add_zp_clamp(v, d->out_zp, d->lo, d->hi));
    }
}

static nml_status concat_eval(nml_ctx *ctx, nml_node *node) {
    const concat_data *d = node->data;
    nml_tensor *out = nml_node_output(ctx, node, 0);
    uint8_t *dst = out->data;
    uint32_t o = 0; /* output element index */
    for (uint32_t b = 0; b < d->outer; b++) {
        for (uint32_t i = 0; i < node->n_inputs; i++) {
            const concat_input *ci = &d->in[i];
            const nml_tensor *t = nml_node_input(ctx, node, i);
            uint32_t n = (uint32_t)ci->axis_dim * d->inner;
            if (ci->requant) {
                requant_chunk(d, ci, out->type, t->data, b * n, dst, o, n);
            } else {
                memcpy(dst + (size_t)o * d->esize,
                       (const uint8_t *)t->data + (size_t)b * n * d->esize, (size_t)n * d->esize);
            }
            o += n;
        }
    }
    return NML_OK;
}

const nml_kernel nml_kernel_concatenation = {NML_OP_CONCATENATION, "CONCATENATION",
                                             nml_concat_prepare, concat_eval};
