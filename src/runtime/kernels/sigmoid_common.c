#include "sigmoid_common.h"

#include <limits.h>

#include "qmath.h"

/* input_scale * 2^27 as Q31 significand and exponent (TFLite takes frexp of it and rounds), and
 * CalculateInputRadius(4, exponent, 31) = floor((2^4 - 1) * 2^27 / 2^exponent): the largest
 * |x - zp| whose rescaled value still fits Q4.27. */
static void input_rescaling(float input_scale, nml_sigmoid_data *d) {
    const double m = (double)input_scale * (double)(1 << (31 - NML_SIGMOID_INPUT_INTEGER_BITS));
    const uint32_t fifteen_q27 = ((1u << NML_SIGMOID_INPUT_INTEGER_BITS) - 1)
                                 << (31 - NML_SIGMOID_INPUT_INTEGER_BITS);
    if (m >= 1073741824.0) {
        /* exponent >= 31: the radius floors to 0 and every input saturates */
        d->input_multiplier = 0;
        d->input_shift = 0;
        d->input_range_radius = 0;
        return;
    }
    int exponent;
    nml_quantize_multiplier(m, &d->input_multiplier, &exponent);
    d->input_shift = exponent;
    /* 15 * 2^27 < 2^31 and exponent <= 30: a 32-bit shift; a negative exponent doubles it at
     * least, past INT32_MAX */
    d->input_range_radius =
        exponent >= 0 ? (int32_t)(fifteen_q27 >> exponent) : INT32_MAX;
}

nml_status nml_sigmoid_prepare(nml_ctx *ctx, nml_node *node, float out_scale,
                               int32_t out_zero_point, const char *out_scale_text) {
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

    nml_sigmoid_data *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    d->count = (int32_t)nml_tensor_count(input);
    if (type == NML_INT8) {
        NML_TRY(nml_check_int8_quant(ctx, node, input, "input"));
        double diff = (double)output->scale - (double)out_scale;
        if (diff < 0) diff = -diff;
        if (output->n_q == 0 || output->zero_point != out_zero_point ||
            !(diff <= 1e-3 * (double)out_scale))
            return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                                   "int8 output must have scale %s and zero point %d (has zero "
                                   "point %d)",
                                   out_scale_text, (int)out_zero_point, (int)output->zero_point);
        d->input_zero_point = input->zero_point;
        input_rescaling(input->scale, d);
    }
    node->data = d;
    return NML_OK;
}
