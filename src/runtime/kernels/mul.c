/* MUL: out = in0 * in1 with broadcasting and a fused activation.
 * float32, int32, int8 (TFLite: (q0 - zp0) * (q1 - zp1) rescaled by s0 * s1 / s_out). */
#include "arith_common.h"
#include "kernels.h"

typedef struct mul_data {
    nml_bcast bc;
    int32_t zp1, zp2, zp_out;
    int32_t mult;
    int shift;
    int32_t i_min, i_max; /* int8 and int32 clamp */
    float f_min, f_max;
} mul_data;

static void row_f32(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,
                    int32_t sb) {
    const nml_arith_run *r = user;
    const mul_data *d = r->d;
    const float *a = (const float *)r->a + ia, *b = (const float *)r->b + ib;
    float *o = (float *)r->out + io;
    for (uint32_t k = 0; k < n; k++, a += sa, b += sb)
        o[k] = nml_clamp_f32(*a * *b, d->f_min, d->f_max);
}

static void row_i32(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,
                    int32_t sb) {
    const nml_arith_run *r = user;
    const mul_data *d = r->d;
    const int32_t *a = (const int32_t *)r->a + ia, *b = (const int32_t *)r->b + ib;
    int32_t *o = (int32_t *)r->out + io;
    for (uint32_t k = 0; k < n; k++, a += sa, b += sb) {
        int32_t v = (int32_t)((uint32_t)*a * (uint32_t)*b); /* wraps like the reference */
        o[k] = nml_clamp_i32(v, d->i_min, d->i_max);
    }
}

static void row_i8(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,
                   int32_t sb) {
    const nml_arith_run *r = user;
    const mul_data *d = r->d;
    const int8_t *a = (const int8_t *)r->a + ia, *b = (const int8_t *)r->b + ib;
    int8_t *o = (int8_t *)r->out + io;
    for (uint32_t k = 0; k < n; k++, a += sa, b += sb) {
        int32_t prod = (*a - d->zp1) * (*b - d->zp2);
        int32_t v = nml_mul_by_qm(prod, d->mult, d->shift);
        o[k] = (int8_t)nml_add_zp_clamp(v, d->zp_out, d->i_min, d->i_max);
    }
}

static nml_status mul_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    const nml_tensor *a = NULL, *b = NULL, *out = NULL;
    NML_TRY(nml_arith_check(ctx, node, &a, &b, &out));
    mul_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_bcast_prepare(ctx, node, a, b, out, &d->bc));
    if (out->type == NML_FLOAT32)
        return nml_act_range_float(ctx, node, p->activation, &d->f_min, &d->f_max);
    if (out->type == NML_INT32)
        return nml_act_range_int32(ctx, node, p->activation, &d->i_min, &d->i_max);
    NML_TRY(nml_check_quant(ctx, node, a, "input 0"));
    NML_TRY(nml_check_quant(ctx, node, b, "input 1"));
    NML_TRY(nml_check_quant(ctx, node, out, "output"));
    d->zp1 = a->zero_point;
    d->zp2 = b->zero_point;
    d->zp_out = out->zero_point;
    double m = (double)a->scale * (double)b->scale / (double)out->scale;
    nml_quantize_multiplier(m, &d->mult, &d->shift);
    return nml_act_range_quant(ctx, node, p->activation, out, &d->i_min, &d->i_max);
}

static nml_status mul_eval(nml_ctx *ctx, nml_node *node) {
    static const nml_arith_rows rows = {row_f32, row_i32, row_i8};
    nml_arith_eval(ctx, node, &((const mul_data *)node->data)->bc, &rows);
    return NML_OK;
}

const nml_kernel nml_kernel_mul = {NML_OP_MUL, "MUL", mul_prepare, mul_eval, NML_KERNEL_IN_PLACE};
