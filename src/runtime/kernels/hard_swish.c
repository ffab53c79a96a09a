/* HARD_SWISH: x * relu6(x + 3) / 6. float32 as TFLite's reference; int8 as TFLite's 16-bit
 * fixed-point pipeline: the input on a 7-bit higher-resolution scale, a "relu-ish" factor in
 * [0, 1] from rescaling [-3, 3], the product on the output scale (multipliers rounded to 16
 * bits at prepare). */
#include "elem_common.h"
#include "kernels.h"

typedef struct hswish_data {
    int32_t in_zp, out_zp;
    int16_t out_mult, relu_mult;
    int out_exp, relu_exp;
} hswish_data;

/* TFLite's DownScaleInt32ToInt16Multiplier: round a Q31 significand to Q15. */
static int16_t q31_to_q15(int32_t m) {
    if (m >= INT32_MAX - (1 << 15)) return INT16_MAX;
    return (int16_t)((m + (1 << 15)) >> 16);
}

/* gemmlowp's rounding doubling high multiply on int16. */
static int16_t srdhm16(int16_t a, int16_t b) {
    if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
    int32_t ab = (int32_t)a * b;
    int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15));
}

/* ARM SQDMULH: doubling high multiply truncating toward zero. */
static int16_t sdhm16(int16_t a, int16_t b) {
    if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
    return (int16_t)(((int32_t)a * b) / (1 << 15));
}

/* gemmlowp's RoundingDivideByPOT on int16 (its mask is formed in int16 too). */
static int16_t rdbpot16(int16_t x, int e) {
    int16_t mask = (int16_t)((1LL << e) - 1);
    int16_t remainder = (int16_t)(x & mask);
    int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
    return (int16_t)((x >> e) + (remainder > threshold ? 1 : 0));
}

static int16_t sat_shl16(int16_t v, int amount) {
    int64_t r = (int64_t)v * ((int64_t)1 << amount);
    return (int16_t)(r > INT16_MAX ? INT16_MAX : (r < INT16_MIN ? INT16_MIN : r));
}

static nml_status hswish_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    NML_TRY(nml_check_io_count(ctx, node, 1, 1, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    if (in->type != NML_FLOAT32 && in->type != NML_INT8)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (float32, int8)",
                               nml_dtype_name(in->type));
    NML_TRY(nml_check_type(ctx, node, out, "output", in->type));
    NML_TRY(nml_check_same_shape(ctx, node, in, out, "input", "output"));
    if (in->type == NML_FLOAT32) return NML_OK;
    NML_TRY(nml_check_quant(ctx, node, in, "input"));
    NML_TRY(nml_check_quant(ctx, node, out, "output"));
    hswish_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    d->in_zp = in->zero_point;
    d->out_zp = out->zero_point;
    /* float arithmetic as in TFLite, widened to double for the multipliers */
    float hires_scale = (1.0f / 128.0f) * in->scale;
    float relu_scale = 3.0f / 32768.0f;
    int32_t m;
    nml_quantize_multiplier((double)(hires_scale / out->scale), &m, &d->out_exp);
    d->out_mult = q31_to_q15(m);
    if (d->out_exp > 0)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "output scale is too small for the input scale (multiplier >= 1)");
    nml_quantize_multiplier((double)(hires_scale / relu_scale), &m, &d->relu_exp);
    d->relu_mult = q31_to_q15(m);
    return NML_OK;
}

static int8_t hswish_q(const hswish_data *d, int8_t x) {
    int16_t v = (int16_t)(x - d->in_zp);
    int16_t hires = (int16_t)(v * (1 << 7));
    int16_t preshift = srdhm16(hires, d->out_mult);
    int16_t relu = hires;
    if (d->relu_exp > 0) relu = sat_shl16(relu, d->relu_exp - 1);
    relu = srdhm16(relu, d->relu_mult);
    if (d->relu_exp > 0) relu = sat_shl16(relu, 1);
    if (d->relu_exp < 0) relu = rdbpot16(relu, -d->relu_exp);
    relu = (int16_t)((relu + (1 << 15)) >> 1);
    int16_t y = rdbpot16(sdhm16(relu, preshift), -d->out_exp);
    int32_t r = y + d->out_zp;
    return (int8_t)(r > INT8_MAX ? INT8_MAX : (r < INT8_MIN ? INT8_MIN : r));
}

static nml_status hswish_eval(nml_ctx *ctx, nml_node *node) {
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    uint32_t n = nml_tensor_count(in);
    if (in->type == NML_FLOAT32) {
        const float *x = in->data;
        float *y = out->data;
        for (uint32_t i = 0; i < n; i++) {
            float t = x[i] + 3.0f;
            float relu6 = 0.0f < t ? t : 0.0f;   /* std::max(0, t) */
            relu6 = relu6 < 6.0f ? relu6 : 6.0f; /* std::min(6, relu6) */
            y[i] = x[i] * relu6 / 6.0f;
        }
        return NML_OK;
    }
    const hswish_data *d = node->data;
    const int8_t *x = in->data;
    int8_t *y = out->data;
    for (uint32_t i = 0; i < n; i++)
        y[i] = hswish_q(d, x[i]);
    return NML_OK;
}

const nml_kernel nml_kernel_hard_swish = {NML_OP_HARD_SWISH, "HARD_SWISH", hswish_prepare,
                                          hswish_eval, NML_KERNEL_IN_PLACE};
