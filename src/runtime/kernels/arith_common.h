/* What the broadcasting arithmetic kernels ADD, SUB and MUL share: the checks of their inputs
 * and output (float32, int8 or int32, all of the output's type), the evaluation that walks the
 * broadcast with the operator's row function for the output type, and, for ADD and SUB, their
 * whole node data and prepare (they differ only in the sign of the second input). */
#ifndef NANOML_KERNELS_ARITH_COMMON_H
#define NANOML_KERNELS_ARITH_COMMON_H

#include "elem_common.h"

/* What a row function (nml_bcast_row) gets as `user`: the node data and the tensors' data. */
typedef struct nml_arith_run {
    const void *d;
    const void *a, *b;
    void *out;
} nml_arith_run;

/* An operator's row functions, one per output type. */
typedef struct nml_arith_rows {
    nml_bcast_row f32, i32, i8;
} nml_arith_rows;

/* Two inputs and one output, float32, int8 or int32, the inputs of the output's type; gives
 * the three tensors. (Inline: each operator calls it from its one prepare, so firmware with
 * one of them carries no extra call.) */
static inline nml_status nml_arith_check(nml_ctx *ctx, const nml_node *node, const nml_tensor **in0,
                                         const nml_tensor **in1, const nml_tensor **output) {
    NML_TRY(nml_check_io_count(ctx, node, 2, 2, 1));
    const nml_tensor *a = nml_node_input(ctx, node, 0), *b = nml_node_input(ctx, node, 1);
    const nml_tensor *out = nml_node_output(ctx, node, 0);
    if (!a || !b) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "an input is missing");
    if (out->type != NML_FLOAT32 && out->type != NML_INT8 && out->type != NML_INT32)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "output type %s is not supported (float32, int8, int32)",
                               nml_dtype_name(out->type));
    NML_TRY(nml_check_type(ctx, node, a, "input 0", out->type));
    NML_TRY(nml_check_type(ctx, node, b, "input 1", out->type));
    *in0 = a;
    *in1 = b;
    *output = out;
    return NML_OK;
}

/* Runs the row function for the node's output type over the broadcast bc of its inputs. */
static inline void nml_arith_eval(nml_ctx *ctx, const nml_node *node, const nml_bcast *bc,
                                  const nml_arith_rows *rows) {
    nml_arith_run r = {node->data, nml_node_input(ctx, node, 0)->data,
                       nml_node_input(ctx, node, 1)->data, nml_node_output(ctx, node, 0)->data};
    const int type = nml_node_output(ctx, node, 0)->type;
    nml_bcast_run(bc,
                  type == NML_FLOAT32 ? rows->f32
                  : type == NML_INT32 ? rows->i32
                                      : rows->i8,
                  &r);
}

/* ---- ADD and SUB ---- */

typedef struct nml_addsub_data {
    nml_bcast bc;
    nml_addsub_q q;
    float f_min, f_max;
    int32_t i_min, i_max;
} nml_addsub_data;

/* The rows of ADD (sign 1) and SUB (sign -1). Always inlined into each operator's row
 * functions, so the constant sign folds away and neither carries the other's arithmetic. */
#if defined(__GNUC__)
#define NML_ADDSUB_INLINE static inline __attribute__((always_inline))
#else
#define NML_ADDSUB_INLINE static inline
#endif

NML_ADDSUB_INLINE void nml_addsub_row_f32(void *user, uint32_t ia, uint32_t ib, uint32_t io,
                                          uint32_t n, int32_t sa, int32_t sb, int sign) {
    const nml_arith_run *r = user;
    const nml_addsub_data *d = r->d;
    const float *a = (const float *)r->a + ia, *b = (const float *)r->b + ib;
    float *o = (float *)r->out + io;
    for (uint32_t k = 0; k < n; k++, a += sa, b += sb)
        o[k] = nml_clamp_f32(sign > 0 ? *a + *b : *a - *b, d->f_min, d->f_max);
}

NML_ADDSUB_INLINE void nml_addsub_row_i32(void *user, uint32_t ia, uint32_t ib, uint32_t io,
                                          uint32_t n, int32_t sa, int32_t sb, int sign) {
    const nml_arith_run *r = user;
    const nml_addsub_data *d = r->d;
    const int32_t *a = (const int32_t *)r->a + ia, *b = (const int32_t *)r->b + ib;
    int32_t *o = (int32_t *)r->out + io;
    for (uint32_t k = 0; k < n; k++, a += sa, b += sb) {
        /* wraps like the reference */
        const uint32_t v = sign > 0 ? (uint32_t)*a + (uint32_t)*b : (uint32_t)*a - (uint32_t)*b;
        o[k] = nml_clamp_i32((int32_t)v, d->i_min, d->i_max);
    }
}

NML_ADDSUB_INLINE void nml_addsub_row_i8(void *user, uint32_t ia, uint32_t ib, uint32_t io,
                                         uint32_t n, int32_t sa, int32_t sb, int sign) {
    const nml_arith_run *r = user;
    const nml_addsub_data *d = r->d;
    const int8_t *a = (const int8_t *)r->a + ia, *b = (const int8_t *)r->b + ib;
    int8_t *o = (int8_t *)r->out + io;
    for (uint32_t k = 0; k < n; k++, a += sa, b += sb)
        o[k] = (int8_t)nml_addsub_q_elem(&d->q, *a, *b, sign);
}

/* The prepare of ADD and SUB (TFLite's requantization for int8, nml_addsub_prepare_q). */
nml_status nml_addsub_kernel_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p);

#endif
