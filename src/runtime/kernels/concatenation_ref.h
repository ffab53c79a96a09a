/* The reference CONCATENATION's validated parameters and prepare (concatenation.c), shared
 * with the optimized kernel (opt_concatenation.c), which accepts and rejects the same nodes. */
#ifndef NANOML_KERNELS_CONCATENATION_REF_H
#define NANOML_KERNELS_CONCATENATION_REF_H

#include <stddef.h>
#include <stdint.h>

#include "elem_common.h"
#include "kernel.h"
#include "lean.h"

typedef struct nml_concat_input {
    int32_t axis_dim;
    int requant; /* quantization differs from the output's */
    int32_t in_zp, mult;
    int shift;
} nml_concat_input;

typedef struct nml_concat_data {
    int32_t axis;
    uint32_t outer, inner; /* elements before the axis, after the axis */
    size_t esize;
    int32_t out_zp, lo, hi;
    nml_concat_input in[]; /* one per input: persistent arena for n_inputs, not the maximum */
} nml_concat_data;

/* Checks the node and stores nml_concat_data in node->data. */
nml_status nml_concat_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p);

/* Input i of nml_concat_check: its shape and quantization against the output's. */
NML_SETUP_INLINE nml_status nml_concat_check_input(nml_ctx *ctx, const nml_node *node,
                                                   nml_concat_data *d, uint32_t i,
                                                   const nml_tensor *t, const nml_tensor *out,
                                                   int lean) {
    char what[32] = "input";
    if (NML_ERROR_DETAIL) nml_format(what, sizeof what, "input %u", (unsigned)i);
    if (!t) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "%s is missing", what);
    NML_TRY(nml_check_type(ctx, node, t, what, out->type));
    if (t->rank != out->rank)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "%s has rank %u, output has rank %u", what,
                               (unsigned)t->rank, (unsigned)out->rank);
    for (int k = 0; k < out->rank; k++) {
        if (k != d->axis && t->dims[k] != out->dims[k]) {
            char st[80], so[80];
            if (NML_ERROR_DETAIL) {
                nml_format_dims(st, sizeof st, t->dims, t->rank);
                nml_format_dims(so, sizeof so, out->dims, out->rank);
            }
            return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                                   "%s shape %s does not fit output %s outside axis %d", what, st,
                                   so, (int)d->axis);
        }
    }
    nml_concat_input *ci = &d->in[i];
    ci->axis_dim = t->dims[d->axis];
    if (!nml_is_quant_int(out->type)) return NML_OK;
    NML_TRY(nml_check_quant(ctx, node, t, what));
    /* both scales positive and finite (checked): equal exactly when their bits are */
    const int requant =
        nml_f32_bits(t->scale) != nml_f32_bits(out->scale) || t->zero_point != out->zero_point;
    if (lean && requant)
        return nml_lean_refuse(ctx, node, "inputs quantized like the output (no requantization)");
    ci->requant = requant;
    if (lean) return NML_OK;
    ci->in_zp = t->zero_point;
    nml_quantize_ratio(t->scale, out->scale, 0, &ci->mult, &ci->shift);
    return NML_OK;
}

/* The checks of nml_concat_prepare, in one body for it and for the optimized kernel's lean
 * variant (lean 1: an input that needs requantization is refused, so the multiplier arithmetic
 * is not linked). Stores nml_concat_data in node->data. */
NML_SETUP_INLINE nml_status nml_concat_check(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                             int lean) {
    nml_tensor *t[NML_MAX_OP_INPUTS + 1];
    NML_TRY(nml_node_io(ctx, node, 1, NML_MAX_OP_INPUTS, t));
    const nml_tensor *out = t[NML_MAX_OP_INPUTS];
    nml_concat_data *d;
    NML_TRY(
        nml_alloc_node_data(ctx, node, sizeof *d + node->n_inputs * sizeof d->in[0], (void **)&d));
    NML_TRY(nml_elem_size(ctx, node, out, "output", &d->esize));
    if (out->rank == 0)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "cannot concatenate scalars");
    int32_t axis; /* d->axis, kept in a register */
    NML_TRY(nml_resolve_axis(ctx, node, p->axis, out->rank, &axis));
    d->axis = axis;
    if (p->activation != NML_ACT_NONE)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "fused activation %d is not supported (TFLite allows none)",
                               (int)p->activation);
    if (nml_is_quant_int(out->type)) {
        NML_TRY(nml_check_quant(ctx, node, out, "output"));
        d->out_zp = out->zero_point;
        if (!lean) nml_int_range(out->type, &d->lo, &d->hi); /* for requantization only */
    }
    int64_t sum = 0;
    for (uint32_t i = 0; i < node->n_inputs; i++) {
        NML_TRY(nml_concat_check_input(ctx, node, d, i, t[i], out, lean));
        sum += d->in[i].axis_dim;
    }
    if (sum != out->dims[axis])
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "inputs add up to %lld along axis %d, output has %d", (long long)sum,
                               (int)axis, (int)out->dims[axis]);
    uint32_t outer = 1, inner = 1; /* in registers, stored once */
    for (int k = 0; k < out->rank; k++) {
        if (k < axis) outer *= (uint32_t)out->dims[k];
        if (k > axis) inner *= (uint32_t)out->dims[k];
    }
    d->outer = outer;
    d->inner = inner;
    return NML_OK;
}

#endif
