/* RELU: max(x, 0). float32; int8 rescales input to output quantization and clamps at the
 * output's zero point, as TFLite Micro does. */
#include "elem_common.h"
#include "kernels.h"

static nml_status relu_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
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
    nml_relu_q *q;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *q, (void **)&q));
    return nml_relu_prepare_q(ctx, node, in, out, 0.0f, q);
}

static nml_status relu_eval(nml_ctx *ctx, nml_node *node) {
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    uint32_t n = nml_tensor_count(in);
    if (in->type == NML_FLOAT32) {
        const float *x = in->data;
        float *y = out->data;
        for (uint32_t i = 0; i < n; i++)
            y[i] = x[i] < 0.0f ? 0.0f : x[i];
        return NML_OK;
    }
    const nml_relu_q *q = node->data;
    const int8_t *x = in->data;
    int8_t *y = out->data;
    for (uint32_t i = 0; i < n; i++)
        y[i] = (int8_t)nml_relu_q_elem(q, x[i]);
    return NML_OK;
}

const nml_kernel nml_kernel_relu = {NML_OP_RELU, "RELU", relu_prepare, relu_eval,
                                    NML_KERNEL_IN_PLACE};
