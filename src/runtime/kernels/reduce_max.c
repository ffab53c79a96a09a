/* REDUCE_MAX over the axes of a constant axis input, with keep_dims: float32 (starting from
 * -FLT_MAX as TFLite does) and int8 (raw values, so input and output must share quantization). */
#include <float.h>

#include "kernels.h"
#include "reduce_common.h"

static nml_status reduce_max_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_check_io_count(ctx, node, 2, 2, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    if (in->type != NML_FLOAT32 && in->type != NML_INT8)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (float32, int8)",
                               nml_dtype_name(in->type));
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "input", "output"));
    nml_reduce_plan *plan;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *plan, (void **)&plan));
    return nml_reduce_prepare(ctx, node, in, nml_node_input(ctx, node, 1), out, p->keep_dims, plan);
}

static nml_status reduce_max_eval(nml_ctx *ctx, nml_node *node) {
    const nml_reduce_plan *plan = node->data;
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    nml_walk w, r;
    uint32_t i = 0;
    if (plan->n_out == 0) return NML_OK;
    nml_walk_start(&w, plan->kept_rank, plan->kept_dims, plan->kept_strides);
    do {
        if (in->type == NML_FLOAT32) {
            const float *x = (const float *)in->data + w.off;
            float m = -FLT_MAX;
            nml_walk_start(&r, plan->red_rank, plan->red_dims, plan->red_strides);
            if (plan->n_red) do {
                    m = x[r.off] > m ? x[r.off] : m;
                } while (nml_walk_next(&r));
            ((float *)out->data)[i] = m;
        } else {
            const int8_t *x = (const int8_t *)in->data + w.off;
            int8_t m = INT8_MIN;
            nml_walk_start(&r, plan->red_rank, plan->red_dims, plan->red_strides);
            if (plan->n_red) do {
                    m = x[r.off] > m ? x[r.off] : m;
                } while (nml_walk_next(&r));
            ((int8_t *)out->data)[i] = m;
        }
        i++;
    } while (nml_walk_next(&w));
    return NML_OK;
}

const nml_kernel nml_kernel_reduce_max = {NML_OP_REDUCE_MAX, "REDUCE_MAX", reduce_max_prepare,
                                          reduce_max_eval};
