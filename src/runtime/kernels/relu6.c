/* RELU6: min(max(x, 0), 6). float32; int8 with equal input and output quantization clamps the
 * raw values to [zero point, quantized 6] exactly as TFLite Micro does; when the quantization
 * differs (TFLM would ignore the output's) the input is rescaled like RELU first. */
#include "elem_common.h"
#include "kernels.h"

typedef struct relu6_data {
    int same_quant;
    int32_t lo, hi; /* same_quant: raw clamp */
    nml_relu_q q;   /* otherwise */
} relu6_data;

static nml_status relu6_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
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
    relu6_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_relu_prepare_q(ctx, node, in, out, 6.0f, &d->q));
    d->same_quant = in->scale == out->scale && in->zero_point == out->zero_point;
    /* TFLM: zero = zero point, six = clamp(round(6 / scale) + zero point) */
    int64_t six = (int64_t)nml_round_f32(6.0f / in->scale) + in->zero_point;
    d->lo = in->zero_point;
    d->hi = six > INT8_MAX ? INT8_MAX : (int32_t)six;
    return NML_OK;
}

static nml_status relu6_eval(nml_ctx *ctx, nml_node *node) {
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    uint32_t n = nml_tensor_count(in);
    if (in->type == NML_FLOAT32) {
        const float *x = in->data;
        float *y = out->data;
        for (uint32_t i = 0; i < n; i++)
            y[i] = x[i] > 6.0f ? 6.0f : (x[i] < 0.0f ? 0.0f : x[i]);
        return NML_OK;
    }
    const relu6_data *d = node->data;
    const int8_t *x = in->data;
    int8_t *y = out->data;
    if (d->same_quant) {
        for (uint32_t i = 0; i < n; i++)
            y[i] = (int8_t)(x[i] > d->hi ? d->hi : (x[i] < d->lo ? d->lo : x[i]));
    } else {
        for (uint32_t i = 0; i < n; i++)
            y[i] = (int8_t)nml_relu_q_elem(&d->q, x[i]);
    }
    return NML_OK;
}

const nml_kernel nml_kernel_relu6 = {NML_OP_RELU6, "RELU6", relu6_prepare, relu6_eval,
                                     NML_KERNEL_IN_PLACE};
