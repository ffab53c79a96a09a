/* TANH. float32 with tanhf; int8 as TFLite Micro: input rescaled to Q4.27, gemmlowp fixed-point
 * tanh, result rounded to Q0.7 (output scale 1/128, zero point 0). */
#include <math.h>

#include "fixedpoint.h"
#include "kernels.h"
#include "qmath.h"
#include "sigmoid_common.h"

nml_status nml_tanh_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    return nml_sigmoid_prepare(ctx, node, 1.0f / 128.0f, 0, "1/128");
}

void nml_tanh_f32(const nml_sigmoid_data *d, const float *in, float *out) {
    for (int32_t i = 0; i < d->count; i++)
        out[i] = tanhf(in[i]);
}

void nml_tanh_int8(const nml_sigmoid_data *d, const int8_t *in, int8_t *out, int32_t count) {
    for (int32_t i = 0; i < count; i++) {
        const int32_t x = (int32_t)in[i] - d->input_zero_point;
        if (x <= -d->input_range_radius) {
            out[i] = -128;
        } else if (x >= d->input_range_radius) {
            out[i] = 127;
        } else {
            const int32_t x_q4 = nml_mul_by_qm(x, d->input_multiplier, d->input_shift);
            const int32_t y_q0 = nml_fp_tanh(x_q4, NML_SIGMOID_INPUT_INTEGER_BITS);
            const int32_t y_q7 = nml_rdbpot(y_q0, 31 - 7); /* 128 steps for [0, 1) */
            out[i] = (int8_t)nml_clamp_i32(y_q7, -128, 127);
        }
    }
}

static nml_status tanh_eval(nml_ctx *ctx, nml_node *node) {
    const nml_sigmoid_data *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    if (input->type == NML_FLOAT32)
        nml_tanh_f32(d, input->data, output->data);
    else
        nml_tanh_int8(d, input->data, output->data, d->count);
    return NML_OK;
}

const nml_kernel nml_kernel_tanh = {NML_OP_TANH, "TANH", nml_tanh_prepare, tanh_eval,
                                    NML_KERNEL_IN_PLACE};
