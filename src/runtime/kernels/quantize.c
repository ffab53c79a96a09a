/* QUANTIZE: float32 -> int8/uint8/int16 as TFLite's AffineQuantize (round(x / scale) in double,
 * ties away from zero, plus zero point, saturated); int8/uint8/int16 -> int8/uint8/int16 as
 * TFLite's Requantize (fixed-point multiplier s_in / s_out applied to q - zp_in). */
#include "elem_common.h"
#include "kernels.h"
#include "quantize_ref.h"

typedef nml_quantize_data quantize_data;

nml_status nml_quantize_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    const nml_tensor *io[2];
    return nml_quantize_check(ctx, node, NULL, 0, io);
}

static nml_status quantize_eval(nml_ctx *ctx, nml_node *node) {
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    const quantize_data *d = node->data;
    uint32_t n = nml_tensor_count(in);
    if (in->type == NML_FLOAT32) {
        const float *x = in->data;
        for (uint32_t i = 0; i < n; i++) {
            int64_t v = (int64_t)nml_round_f64((double)x[i] / d->scale) + d->out_zp;
            nml_store_int(out->data, out->type, i,
                          v < d->lo ? d->lo : (v > d->hi ? d->hi : (int32_t)v));
        }
        return NML_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        int32_t v =
            nml_mul_by_qm(nml_load_int(in->data, in->type, i) - d->in_zp, d->mult, d->shift);
        nml_store_int(out->data, out->type, i, nml_add_zp_clamp(v, d->out_zp, d->lo, d->hi));
    }
    return NML_OK;
}

const nml_kernel nml_kernel_quantize = {NML_OP_QUANTIZE, "QUANTIZE", nml_quantize_prepare,
                                        quantize_eval, NML_KERNEL_IN_PLACE};
