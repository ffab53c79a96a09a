#include "sigmoid_common.h"

#include <limits.h>

#include "qmath.h"

/* input_scale * 2^27 as Q31 significand and exponent (TFLite takes frexp of it and rounds), and
 * CalculateInputRadius(4, exponent, 31) = floor((2^4 - 1) * 2^27 / 2^exponent): the largest
 * |x - zp| whose rescaled value still fits Q4.27. input_scale is positive and finite
 * (nml_check_int8_quant), so this is done on its bits, exactly as nml_quantize_multiplier does
 * it on the double input_scale * 2^27 (no double arithmetic linked): a float's 24-bit
 * significand shifted into Q31 needs no rounding, a float of biased exponent e gives the
 * exponent e - 126 + 27, and below e = 68 (subnormals included) that is under -31: zero. */
static void input_rescaling(float input_scale, nml_sigmoid_data *d) {
    const uint32_t bits = nml_f32_bits(input_scale);
    const int e = (int)(bits >> 23);
    const uint32_t fifteen_q27 = ((1u << NML_SIGMOID_INPUT_INTEGER_BITS) - 1)
                                 << (31 - NML_SIGMOID_INPUT_INTEGER_BITS);
    if (e >= 130) {
        /* input_scale >= 8, input_scale * 2^27 >= 2^30, exponent >= 31: the radius floors to 0
         * and every input saturates */
        d->input_multiplier = 0;
        d->input_shift = 0;
        d->input_range_radius = 0;
        return;
    }
    int exponent = 0;
    d->input_multiplier = 0;
    if (e >= 68) {
        d->input_multiplier = (int32_t)(((bits & 0x7fffffu) | 0x800000u) << 7);
        exponent = e - 126 + (31 - NML_SIGMOID_INPUT_INTEGER_BITS);
    }
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
        /* |output scale - out_scale| <= 1e-3 * out_scale, as TFLite Micro checks it in double:
         * for a power of two out_scale the floats it accepts are the bit patterns from
         * bits(out_scale) - 0x4189 to bits(out_scale) + 0x20c4 (tests/unit/test_prepare_bits.c
         * compares the two) */
        const uint32_t rel = nml_f32_bits(output->scale) - nml_f32_bits(out_scale) + 0x4189u;
        if (output->n_q == 0 || output->zero_point != out_zero_point || rel > 0x4189u + 0x20c4u)
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
