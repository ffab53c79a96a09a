/* QUANTIZE: float32 -> int8/uint8/int16 as TFLite's AffineQuantize (round(x / scale) in double,
 * ties away from zero, plus zero point, saturated); int8/uint8/int16 -> int8/uint8/int16 as
 * TFLite's Requantize (fixed-point multiplier s_in / s_out applied to q - zp_in). */
#include "elem_common.h"
#include "kernels.h"
#include "quantize_ref.h"

typedef nml_quantize_data quantize_data;

static int is_q_type(int t) {
    return t == NML_INT8 || t == NML_UINT8 || t == NML_INT16;
}

nml_status nml_quantize_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    NML_TRY(nml_check_io_count(ctx, node, 1, 1, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    if (in->type != NML_FLOAT32 && !is_q_type(in->type))
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (float32, int8, uint8, int16)",
                               nml_dtype_name(in->type));
    if (!is_q_type(out->type))
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "output type %s is not supported (int8, uint8, int16)",
                               nml_dtype_name(out->type));
    NML_TRY(nml_check_same_shape(ctx, node, in, out, "input", "output"));
    NML_TRY(nml_check_quant(ctx, node, out, "output"));
    quantize_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    d->scale = (double)out->scale;
    d->out_zp = out->zero_point;
    nml_int_range(out->type, &d->lo, &d->hi);
    if (in->type == NML_FLOAT32) return NML_OK;
    NML_TRY(nml_check_quant(ctx, node, in, "input"));
    d->in_zp = in->zero_point;
    nml_quantize_multiplier((double)in->scale / (double)out->scale, &d->mult, &d->shift);
    return NML_OK;
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
        nml_store_int(out->data, out->type, i, nml_clamp_i32(v + d->out_zp, d->lo, d->hi));
    }
    return NML_OK;
}

const nml_kernel nml_kernel_quantize = {NML_OP_QUANTIZE, "QUANTIZE", nml_quantize_prepare,
                                        quantize_eval, NML_KERNEL_IN_PLACE};
