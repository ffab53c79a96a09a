/* MEAN over the axes of a constant axis input, with keep_dims. float32: sum in input order,
 * divided by the element count. int8/int16 follow TFLite Micro's three integer paths:
 *  - 4-D input, keep_dims, axis given as exactly {1, 2} or {2, 1}: sum of (q - zp_in), scaled by
 *    s_in / s_out, divided by H*W rounding half away from zero, plus zp_out;
 *  - same input and output quantization: sum of raw values divided by the count, truncating;
 *  - otherwise: the count folded into the multiplier (shift by floor(log2(count))) and applied
 *    to sum - zp_in * count (TFLite's integer QuantizedMeanOrSum). */
#include "kernels.h"
#include "reduce_common.h"

enum { MEAN_FLOAT, MEAN_HW, MEAN_SAME, MEAN_RESCALE };

typedef struct mean_data {
    nml_reduce_plan plan;
    int path;
    int32_t in_zp, out_zp, lo, hi;
    int32_t mult;
    int shift;
} mean_data;

static int is_hw_case(const nml_tensor *in, const nml_reduce_plan *plan, int keep_dims) {
    return keep_dims && in->rank == 4 && plan->n_raw == 2 &&
           ((plan->raw[0] == 1 && plan->raw[1] == 2) || (plan->raw[0] == 2 && plan->raw[1] == 1));
}

static int floor_log2(uint32_t v) {
    int r = -1;
    while (v) {
        v >>= 1;
        r++;
    }
    return r;
}

static nml_status mean_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_check_io_count(ctx, node, 2, 2, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    if (in->type != NML_FLOAT32 && in->type != NML_INT8 && in->type != NML_INT16)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (float32, int8, int16)",
                               nml_dtype_name(in->type));
    NML_TRY(nml_check_type(ctx, node, out, "output", in->type));
    mean_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_reduce_prepare(ctx, node, in, nml_node_input(ctx, node, 1), out, p->keep_dims,
                               &d->plan));
    if (in->type == NML_FLOAT32) {
        d->path = MEAN_FLOAT;
        return NML_OK;
    }
    NML_TRY(nml_check_quant(ctx, node, in, "input"));
    NML_TRY(nml_check_quant(ctx, node, out, "output"));
    d->in_zp = in->zero_point;
    d->out_zp = out->zero_point;
    nml_int_range(out->type, &d->lo, &d->hi);
    nml_quantize_multiplier((double)in->scale / (double)out->scale, &d->mult, &d->shift);
    if (is_hw_case(in, &d->plan, p->keep_dims)) {
        d->path = MEAN_HW;
    } else if (in->scale == out->scale && in->zero_point == out->zero_point) {
        d->path = MEAN_SAME;
    } else {
        d->path = MEAN_RESCALE;
        uint32_t n = d->plan.n_red;
        if (n > 0) {
            int s = floor_log2(n);
            if (s > 32) s = 32;
            if (s > 31 + d->shift) s = 31 + d->shift;
            d->mult = (int32_t)(((int64_t)d->mult * ((int64_t)1 << s)) / (int64_t)n);
            d->shift -= s;
        }
    }
    return NML_OK;
}

/* acc / n rounded half away from zero, as the reference's (acc +- n / 2) / n (n >= 1), with
 * the magnitude in uint32 so that acc near the int32 limits does not overflow: |acc| + n / 2 <=
 * 2^31 + 2^30, and the quotient's two's complement is the int32 result (2^31 only for n == 1,
 * acc == INT32_MIN, which stays INT32_MIN). */
static int32_t div_round(int32_t acc, uint32_t n) {
    if (acc > 0) return (int32_t)(((uint32_t)acc + n / 2) / n);
    return (int32_t)(0u - ((0u - (uint32_t)acc) + n / 2) / n);
}

static int32_t mean_int(const mean_data *d, const void *data, int type, int32_t base) {
    int32_t n = (int32_t)d->plan.n_red;
    int32_t sum = nml_reduce_sum_int(&d->plan, data, type, base);
    if (n == 0) return 0;
    switch (d->path) {
    case MEAN_HW: {
        int32_t acc = (int32_t)((uint32_t)sum - (uint32_t)d->in_zp * (uint32_t)n);
        acc = nml_mul_by_qm(acc, d->mult, d->shift);
        return nml_add_zp_clamp(div_round(acc, (uint32_t)n), d->out_zp, d->lo, d->hi);
    }
    case MEAN_SAME:
        return sum / n;
    default: {
        int32_t shifted = (int32_t)((uint32_t)sum - (uint32_t)d->in_zp * (uint32_t)n);
        return nml_add_zp_clamp(nml_mul_by_qm(shifted, d->mult, d->shift), d->out_zp, d->lo, d->hi);
    }
    }
}

static nml_status mean_eval(nml_ctx *ctx, nml_node *node) {
    const mean_data *d = node->data;
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    nml_walk w;
    uint32_t i = 0;
    if (d->plan.n_out == 0) return NML_OK;
    nml_walk_start(&w, d->plan.kept_rank, d->plan.kept_dims, d->plan.kept_strides);
    do {
        if (d->path == MEAN_FLOAT) {
            float s = nml_reduce_sum_f32(&d->plan, in->data, w.off);
            ((float *)out->data)[i] = d->plan.n_red ? s / (float)d->plan.n_red : 0.0f;
        } else {
            nml_store_int(out->data, out->type, i, mean_int(d, in->data, in->type, w.off));
        }
        i++;
    } while (nml_walk_next(&w));
    return NML_OK;
}

const nml_kernel nml_kernel_mean = {NML_OP_MEAN, "MEAN", mean_prepare, mean_eval};
