/* LEAKY_RELU: x >= 0 ? x : alpha * x. float32; int8 as TFLite: two requantization multipliers,
 * s_in / s_out for the non-negative side and alpha * s_in / s_out (float product) for the
 * negative side, applied to x - zp_in. */
#include "elem_common.h"
#include "kernels.h"

typedef struct leaky_data {
    float alpha;
    int32_t in_zp, out_zp;
    int32_t mult_id, mult_alpha;
    int shift_id, shift_alpha;
} leaky_data;

static nml_status leaky_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_check_io_count(ctx, node, 1, 1, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    if (in->type != NML_FLOAT32 && in->type != NML_INT8)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (float32, int8)",
                               nml_dtype_name(in->type));
    NML_TRY(nml_check_type(ctx, node, out, "output", in->type));
    NML_TRY(nml_check_same_shape(ctx, node, in, out, "input", "output"));
    if (p->alpha != p->alpha)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "alpha is not a number");
    leaky_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    d->alpha = p->alpha;
    if (in->type == NML_FLOAT32) return NML_OK;
    NML_TRY(nml_check_quant(ctx, node, in, "input"));
    NML_TRY(nml_check_quant(ctx, node, out, "output"));
    d->in_zp = in->zero_point;
    d->out_zp = out->zero_point;
    /* TFLite forms both ratios in float before widening to double */
    float alpha_ratio = in->scale * p->alpha / out->scale;
    float id_ratio = in->scale / out->scale;
    nml_quantize_multiplier_signed((double)alpha_ratio, &d->mult_alpha, &d->shift_alpha);
    nml_quantize_multiplier((double)id_ratio, &d->mult_id, &d->shift_id);
    return NML_OK;
}

static nml_status leaky_eval(nml_ctx *ctx, nml_node *node) {
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    const leaky_data *d = node->data;
    uint32_t n = nml_tensor_count(in);
    if (in->type == NML_FLOAT32) {
        const float *x = in->data;
        float *y = out->data;
        for (uint32_t i = 0; i < n; i++)
            y[i] = x[i] > 0.0f ? x[i] : x[i] * d->alpha;
        return NML_OK;
    }
    const int8_t *x = in->data;
    int8_t *y = out->data;
    for (uint32_t i = 0; i < n; i++) {
        int32_t v = x[i] - d->in_zp;
        int32_t r = v >= 0 ? nml_mul_by_qm(v, d->mult_id, d->shift_id)
                           : nml_mul_by_qm(v, d->mult_alpha, d->shift_alpha);
        y[i] = (int8_t)nml_add_zp_clamp(r, d->out_zp, INT8_MIN, INT8_MAX);
    }
    return NML_OK;
}

const nml_kernel nml_kernel_leaky_relu = {NML_OP_LEAKY_RELU, "LEAKY_RELU", leaky_prepare,
                                          leaky_eval, NML_KERNEL_IN_PLACE};
