/* SUM over the axes of a constant axis input, with keep_dims. float32: sum in input order.
 * int8/int16: TFLite's integer QuantizedMeanOrSum with compute_sum: (sum - zp_in * count)
 * rescaled by s_in / s_out, plus zp_out, saturated. */
#include "kernels.h"
#include "reduce_common.h"

typedef struct sum_data {
    nml_reduce_plan plan;
    int32_t in_zp, out_zp, lo, hi;
    int32_t mult;
    int shift;
} sum_data;

static nml_status sum_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_check_io_count(ctx, node, 2, 2, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    if (in->type != NML_FLOAT32 && in->type != NML_INT8 && in->type != NML_INT16)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (float32, int8, int16)",
                               nml_dtype_name(in->type));
    NML_TRY(nml_check_type(ctx, node, out, "output", in->type));
    sum_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_reduce_prepare(ctx, node, in, nml_node_input(ctx, node, 1), out, p->keep_dims,
                               &d->plan));
    if (in->type == NML_FLOAT32) return NML_OK;
    NML_TRY(nml_check_quant(ctx, node, in, "input"));
    NML_TRY(nml_check_quant(ctx, node, out, "output"));
    d->in_zp = in->zero_point;
    d->out_zp = out->zero_point;
    nml_int_range(out->type, &d->lo, &d->hi);
    nml_quantize_multiplier((double)in->scale / (double)out->scale, &d->mult, &d->shift);
    return NML_OK;
}

static nml_status sum_eval(nml_ctx *ctx, nml_node *node) {
    const sum_data *d = node->data;
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    nml_walk w;
    uint32_t i = 0, n = d->plan.n_red;
    if (d->plan.n_out == 0) return NML_OK;
    nml_walk_start(&w, d->plan.kept_rank, d->plan.kept_dims, d->plan.kept_strides);
    do {
        if (in->type == NML_FLOAT32) {
            ((float *)out->data)[i] = nml_reduce_sum_f32(&d->plan, in->data, w.off);
        } else {
            uint32_t s = (uint32_t)nml_reduce_sum_int(&d->plan, in->data, in->type, w.off);
            int32_t shifted = (int32_t)(s - (uint32_t)d->in_zp * n);
            int32_t v = nml_mul_by_qm(shifted, d->mult, d->shift);
            nml_store_int(out->data, out->type, i,
                          n ? nml_add_zp_clamp(v, d->out_zp, d->lo, d->hi) : 0);
        }
        i++;
    } while (nml_walk_next(&w));
    return NML_OK;
}

const nml_kernel nml_kernel_sum = {NML_OP_SUM, "SUM", sum_prepare, sum_eval};
