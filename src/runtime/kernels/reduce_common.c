#include "reduce_common.h"

nml_status nml_reduce_prepare(nml_ctx *ctx, const nml_node *node, const nml_tensor *in,
                              const nml_tensor *axis, const nml_tensor *out, int keep_dims,
                              nml_reduce_plan *plan) {
    uint32_t n;
    NML_TRY(nml_read_const_ints(ctx, node, axis, "axis", plan->raw, NML_MAX_RANK, &n));
    plan->n_raw = (int32_t)n;
    int rank = in->rank;
    unsigned reduced = 0;
    for (uint32_t i = 0; i < n; i++) {
        int32_t a;
        NML_TRY(nml_resolve_axis(ctx, node, plan->raw[i], rank, &a));
        reduced |= 1u << a;
    }
    int32_t stride[NML_MAX_RANK], dims[NML_MAX_RANK];
    int32_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        stride[i] = s;
        s *= in->dims[i];
    }
    int out_rank = 0;
    plan->kept_rank = plan->red_rank = 0;
    plan->n_out = plan->n_red = 1;
    for (int i = 0; i < rank; i++) {
        if (reduced & (1u << i)) {
            plan->red_dims[plan->red_rank] = in->dims[i];
            plan->red_strides[plan->red_rank++] = stride[i];
            plan->n_red *= (uint32_t)in->dims[i];
            if (keep_dims) dims[out_rank++] = 1;
        } else {
            plan->kept_dims[plan->kept_rank] = in->dims[i];
            plan->kept_strides[plan->kept_rank++] = stride[i];
            plan->n_out *= (uint32_t)in->dims[i];
            dims[out_rank++] = in->dims[i];
        }
    }
    return nml_check_shape(ctx, node, out, "output", dims, out_rank);
}

int32_t nml_reduce_sum_int(const nml_reduce_plan *plan, const void *data, int type, int32_t base) {
    nml_walk w;
    uint32_t acc = 0;
    if (plan->n_red == 0) return 0;
    nml_walk_start(&w, plan->red_rank, plan->red_dims, plan->red_strides);
    do {
        acc += (uint32_t)nml_load_int(data, type, (uint32_t)(base + w.off));
    } while (nml_walk_next(&w));
    return (int32_t)acc;
}

float nml_reduce_sum_f32(const nml_reduce_plan *plan, const float *data, int32_t base) {
    nml_walk w;
    float acc = 0.0f;
    if (plan->n_red == 0) return 0.0f;
    nml_walk_start(&w, plan->red_rank, plan->red_dims, plan->red_strides);
    do {
        acc += data[base + w.off];
    } while (nml_walk_next(&w));
    return acc;
}
