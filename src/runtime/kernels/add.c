/* ADD: out = in0 + in1 with broadcasting and a fused activation.
 * float32, int32, int8 (TFLite's requantization: both inputs shifted left by 20 bits and
 * rescaled to twice the larger input scale, summed, then rescaled to the output). The node
 * data, prepare and broadcast walk are ADD's and SUB's together (arith_common.h). */
#include "arith_common.h"
#include "kernels.h"

static void row_f32(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,
                    int32_t sb) {
    const nml_arith_run *r = user;
    const nml_addsub_data *d = r->d;
    const float *a = (const float *)r->a + ia, *b = (const float *)r->b + ib;
    float *o = (float *)r->out + io;
    for (uint32_t k = 0; k < n; k++, a += sa, b += sb)
        o[k] = nml_clamp_f32(*a + *b, d->f_min, d->f_max);
}

static void row_i32(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,
                    int32_t sb) {
    const nml_arith_run *r = user;
    const nml_addsub_data *d = r->d;
    const int32_t *a = (const int32_t *)r->a + ia, *b = (const int32_t *)r->b + ib;
    int32_t *o = (int32_t *)r->out + io;
    for (uint32_t k = 0; k < n; k++, a += sa, b += sb) {
        int32_t v = (int32_t)((uint32_t)*a + (uint32_t)*b); /* wraps like the reference */
        o[k] = nml_clamp_i32(v, d->i_min, d->i_max);
    }
}

static void row_i8(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,
                   int32_t sb) {
    const nml_arith_run *r = user;
    const nml_addsub_data *d = r->d;
    const int8_t *a = (const int8_t *)r->a + ia, *b = (const int8_t *)r->b + ib;
    int8_t *o = (int8_t *)r->out + io;
    for (uint32_t k = 0; k < n; k++, a += sa, b += sb)
        o[k] = (int8_t)nml_addsub_q_elem(&d->q, *a, *b, 1);
}

static nml_status add_eval(nml_ctx *ctx, nml_node *node) {
    static const nml_arith_rows rows = {row_f32, row_i32, row_i8};
    nml_arith_eval(ctx, node, &((const nml_addsub_data *)node->data)->bc, &rows);
    return NML_OK;
}

const nml_kernel nml_kernel_add = {NML_OP_ADD, "ADD", nml_addsub_kernel_prepare, add_eval,
                                   NML_KERNEL_IN_PLACE};
