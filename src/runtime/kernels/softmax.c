/* SOFTMAX along the last dimension, with beta. float32 (exp of x - max scaled by beta, divided
 * by the row sum) and int8 -> int8 with the fixed-point algorithm of TFLite's reference kernel
 * (output scale 1/256, zero point -128):
 *   diff = x - max(row); skipped (output -128) when diff < diff_min;
 *   e = exp(diff * beta * input_scale), computed as gemmlowp exp_on_negative_values of the diff
 *       rescaled into Q5.26 by a Q31 multiplier and left shift;
 *   sum of e in Q12.19; y = e * reciprocal(sum) rounded into 8 bits, minus 128. */
#include <math.h>

#include "conv_common.h"
#include "fixedpoint.h"
#include "kernels.h"
#include "qmath.h"
#include "softmax_ref.h"

#define SCALED_DIFF_INTEGER_BITS 5 /* exp input in Q5.26: diffs down to -32 */
#define ACCUM_INTEGER_BITS 12      /* sum of exps in Q12.19: up to 4096 terms */

typedef nml_softmax_data softmax_data;

static nml_status prepare_int8(nml_ctx *ctx, const nml_node *node, const nml_op_params *p,
                               const nml_tensor *input, const nml_tensor *output, softmax_data *d) {
    NML_TRY(nml_check_int8_quant(ctx, node, input, "input"));
    /* the scale compared on its bits (1/256 is 0x3b800000): no float comparison linked */
    if (output->n_q == 0 || output->zero_point != -128 || nml_f32_bits(output->scale) != 0x3b800000u)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "int8 output must have scale 1/256 and zero point -128 (has zero "
                               "point %d)",
                               (int)output->zero_point);
    /* TFLite's PreprocessSoftmaxScaling: real = beta * input_scale in Q5.26 units, capped at
     * 2^31 - 1, and QuantizeMultiplierGreaterThanOne(real), whose exponent may reach 31 where
     * nml_quantize_multiplier saturates at 30. Both are done on half = real / 2 (every step
     * exact: the product of two floats fits a double, the rest are powers of two), which
     * nml_quantize_multiplier takes without saturating: real's significand and exponent are
     * half's and half's exponent + 1 (half > 1/2: no exponent below -31 either). */
    double half =
        (double)p->beta * (double)input->scale * (double)(1 << (30 - SCALED_DIFF_INTEGER_BITS));
    if (half > 2147483647.0 / 2) half = 2147483647.0 / 2;
    if (!(half > 0.5))
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "beta x input scale is too small (must exceed 2^-26)");
    int exponent;
    nml_quantize_multiplier(half, &d->input_multiplier, &exponent);
    exponent += 1;
    d->input_left_shift = exponent;
    /* CalculateInputRadius: the largest diff whose rescaled value still fits Q5.26, i.e.
     * floor((2^5 - 1) * 2^26 / 2^exponent) */
    const uint32_t max_scaled_diff = ((1u << SCALED_DIFF_INTEGER_BITS) - 1)
                                     << (31 - SCALED_DIFF_INTEGER_BITS); /* < 2^31 */
    /* real > 1 and below 2^31: exponent in [1, 31], a 32-bit shift */
    d->diff_min = -(int32_t)(max_scaled_diff >> exponent);
    return NML_OK;
}

nml_status nml_softmax_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    nml_tensor *t[2];
    NML_TRY(nml_node_io(ctx, node, 1, 1, t));
    const nml_tensor *input = t[0], *output = t[1];
    if (!input) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    const int type = input->type;
    if (type != NML_FLOAT32 && type != NML_INT8)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (float32, int8 are)",
                               nml_dtype_name(type));
    NML_TRY(nml_check_type(ctx, node, output, "output", type));
    NML_TRY(nml_check_same_shape(ctx, node, input, output, "input", "output"));
    if (input->rank < 1 || input->dims[input->rank - 1] < 1)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "input needs a non-empty last dimension");

    softmax_data *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    d->depth = input->dims[input->rank - 1];
    d->outer = (int32_t)(nml_tensor_count(input) / (uint32_t)d->depth);
    d->beta = p->beta;
    if (type == NML_INT8) NML_TRY(prepare_int8(ctx, node, p, input, output, d));
    node->data = d;
    return NML_OK;
}

void nml_softmax_f32(const softmax_data *d, const float *in, float *out) {
    for (int32_t r = 0; r < d->outer; r++) {
        const float *x = in + r * d->depth;
        float *y = out + r * d->depth;
        float max = x[0];
        for (int32_t c = 1; c < d->depth; c++)
            max = x[c] > max ? x[c] : max;
        float sum = 0.0f;
        for (int32_t c = 0; c < d->depth; c++) {
            y[c] = expf((x[c] - max) * d->beta);
            sum += y[c];
        }
        for (int32_t c = 0; c < d->depth; c++)
            y[c] = y[c] / sum;
    }
}

int32_t nml_softmax_exp_of_diff(const softmax_data *d, int32_t diff) {
    const int32_t scaled = nml_fp_mul_by_qm_gt_one(diff, d->input_multiplier, d->input_left_shift);
    return nml_fp_exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS);
}

/* exp of a diff: from the table when there is one (exp_table[255 + diff], filled with
 * nml_softmax_exp_of_diff), else computed */
static int32_t exp_of(const softmax_data *d, const int32_t *exp_table, int32_t diff) {
    return exp_table ? exp_table[255 + diff] : nml_softmax_exp_of_diff(d, diff);
}

void nml_softmax_int8(const softmax_data *d, const int8_t *in, int8_t *out,
                      const int32_t *exp_table) {
    for (int32_t r = 0; r < d->outer; r++) {
        const int8_t *x = in + r * d->depth;
        int8_t *y = out + r * d->depth;
        int32_t max = -128;
        for (int32_t c = 0; c < d->depth; c++)
            max = x[c] > max ? x[c] : max;

        /* Q12.19 sum; wraps (like the reference on hardware) only beyond 4096 full terms */
        uint32_t sum = 0;
        for (int32_t c = 0; c < d->depth; c++) {
            const int32_t diff = x[c] - max;
            if (diff >= d->diff_min)
                sum += (uint32_t)nml_fp_mul_pot(exp_of(d, exp_table, diff), -ACCUM_INTEGER_BITS);
        }
        int bits_over_unit;
        const int32_t reciprocal =
            nml_fp_reciprocal((int32_t)sum, ACCUM_INTEGER_BITS, &bits_over_unit);
        /* the reference checks 0 <= exponent <= 31 and aborts otherwise */
        int exponent = bits_over_unit + 31 - 8;
        exponent = exponent < 0 ? 0 : (exponent > 31 ? 31 : exponent);

        for (int32_t c = 0; c < d->depth; c++) {
            const int32_t diff = x[c] - max;
            int32_t v = -128;
            if (diff >= d->diff_min) {
                const int32_t prob =
                    nml_rdbpot(nml_srdhm(reciprocal, exp_of(d, exp_table, diff)), exponent);
                v = nml_clamp_i32(prob - 128, -128, 127);
            }
            y[c] = (int8_t)v;
        }
    }
}

static nml_status softmax_eval(nml_ctx *ctx, nml_node *node) {
    const softmax_data *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    if (input->type == NML_FLOAT32)
        nml_softmax_f32(d, input->data, output->data);
    else
        nml_softmax_int8(d, input->data, output->data, NULL);
    return NML_OK;
}

const nml_kernel nml_kernel_softmax = {NML_OP_SOFTMAX, "SOFTMAX", nml_softmax_prepare,
                                       softmax_eval};
