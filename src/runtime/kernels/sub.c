/* SUB: out = in0 - in1 with broadcasting and a fused activation.
 * float32, int32, int8 (TFLite's requantization: both inputs shifted left by 20 bits and
 * rescaled to twice the larger input scale, subtracted, then rescaled to the output). */
#include "elem_common.h"
#include "kernels.h"

typedef struct sub_data {
    nml_bcast bc;
    nml_addsub_q q;
    float f_min, f_max;
    int32_t i_min, i_max;
} sub_data;

typedef struct sub_run {
    const sub_data *d;
    const void *a, *b;
    void *out;
} sub_run;

static void row_f32(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,
                    int32_t sb) {
    sub_run *r = user;
    const float *a = (const float *)r->a + ia, *b = (const float *)r->b + ib;
    float *o = (float *)r->out + io;
    for (uint32_t k = 0; k < n; k++, a += sa, b += sb)
        o[k] = nml_clamp_f32(*a - *b, r->d->f_min, r->d->f_max);
}

static void row_i32(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,
                    int32_t sb) {
    sub_run *r = user;
    const int32_t *a = (const int32_t *)r->a + ia, *b = (const int32_t *)r->b + ib;
    int32_t *o = (int32_t *)r->out + io;
    for (uint32_t k = 0; k < n; k++, a += sa, b += sb) {
        int32_t v = (int32_t)((uint32_t)*a - (uint32_t)*b); /* wraps like the reference */
        o[k] = nml_clamp_i32(v, r->d->i_min, r->d->i_max);
    }
}

static void row_i8(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,
                   int32_t sb) {
    sub_run *r = user;
    const int8_t *a = (const int8_t *)r->a + ia, *b = (const int8_t *)r->b + ib;
    int8_t *o = (int8_t *)r->out + io;
    for (uint32_t k = 0; k < n; k++, a += sa, b += sb)
        o[k] = (int8_t)nml_addsub_q_elem(&r->d->q, *a, *b, -1);
}

static nml_status sub_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_check_io_count(ctx, node, 2, 2, 1));
    nml_tensor *a = nml_node_input(ctx, node, 0), *b = nml_node_input(ctx, node, 1);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    if (!a || !b) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "an input is missing");
    if (out->type != NML_FLOAT32 && out->type != NML_INT8 && out->type != NML_INT32)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "output type %s is not supported (float32, int8, int32)",
                               nml_dtype_name(out->type));
    NML_TRY(nml_check_type(ctx, node, a, "input 0", out->type));
    NML_TRY(nml_check_type(ctx, node, b, "input 1", out->type));
    sub_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_bcast_prepare(ctx, node, a, b, out, &d->bc));
    if (out->type == NML_INT8)
        return nml_addsub_prepare_q(ctx, node, a, b, out, p->activation, &d->q);
    if (out->type == NML_INT32)
        return nml_act_range_int32(ctx, node, p->activation, &d->i_min, &d->i_max);
    return nml_act_range_float(ctx, node, p->activation, &d->f_min, &d->f_max);
}

static nml_status sub_eval(nml_ctx *ctx, nml_node *node) {
    sub_run r = {node->data, nml_node_input(ctx, node, 0)->data, nml_node_input(ctx, node, 1)->data,
                 nml_node_output(ctx, node, 0)->data};
    switch (nml_node_output(ctx, node, 0)->type) {
    case NML_FLOAT32:
        nml_bcast_run(&r.d->bc, row_f32, &r);
        break;
    case NML_INT32:
        nml_bcast_run(&r.d->bc, row_i32, &r);
        break;
    default:
        nml_bcast_run(&r.d->bc, row_i8, &r);
        break;
    }
    return NML_OK;
}

const nml_kernel nml_kernel_sub = {NML_OP_SUB, "SUB", sub_prepare, sub_eval, NML_KERNEL_IN_PLACE};
