/* LOGISTIC (sigmoid). float32 as TFLite's reference (1 for x > 16.619..., exp(x) for x < -9,
 * else 1 / (1 + exp(-x))); int8 as TFLite Micro: input rescaled to Q4.27, gemmlowp fixed-point
 * logistic, result rounded to Q0.8 and offset by the fixed output zero point -128 (output scale
 * 1/256). */
#include <math.h>

#include "fixedpoint.h"
#include "kernels.h"
#include "qmath.h"
#include "sigmoid_common.h"

nml_status nml_logistic_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    return nml_sigmoid_prepare(ctx, node, 1.0f / 256.0f, -128, "1/256");
}

void nml_logistic_f32(const nml_sigmoid_data *d, const float *in, float *out) {
    const float cutoff_upper = 16.619047164916992188f; /* logistic rounds to 1.0f beyond */
    const float cutoff_lower = -9.0f;                  /* exp(x) is within float eps below */
    for (int32_t i = 0; i < d->count; i++) {
        const float x = in[i];
        if (x > cutoff_upper)
            out[i] = 1.0f;
        else if (x < cutoff_lower)
            out[i] = expf(x);
        else
            out[i] = 1.0f / (1.0f + expf(-x));
    }
}

void nml_logistic_int8(const nml_sigmoid_data *d, const int8_t *in, int8_t *out, int32_t count) {
    for (int32_t i = 0; i < count; i++) {
        const int32_t x = (int32_t)in[i] - d->input_zero_point;
        if (x <= -d->input_range_radius) {
            out[i] = -128;
        } else if (x >= d->input_range_radius) {
            out[i] = 127;
        } else {
            const int32_t x_q4 = nml_mul_by_qm(x, d->input_multiplier, d->input_shift);
            const int32_t y_q0 = nml_fp_logistic(x_q4, NML_SIGMOID_INPUT_INTEGER_BITS);
            /* 256 steps for [0, 1); the logistic in Q0.31 lies in [0, 2^31), so y_q8 in
             * [0, 256] and only its top needs the reference's clamp to 127 */
            const int32_t y_q8 = nml_rdbpot(y_q0, 31 - 8);
            out[i] = (int8_t)(y_q8 > 255 ? 127 : y_q8 - 128);
        }
    }
}

static nml_status logistic_eval(nml_ctx *ctx, nml_node *node) {
    const nml_sigmoid_data *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    if (input->type == NML_FLOAT32)
        nml_logistic_f32(d, input->data, output->data);
    else
        nml_logistic_int8(d, input->data, output->data, d->count);
    return NML_OK;
}

const nml_kernel nml_kernel_logistic = {NML_OP_LOGISTIC, "LOGISTIC", nml_logistic_prepare,
                                        logistic_eval, NML_KERNEL_IN_PLACE};
