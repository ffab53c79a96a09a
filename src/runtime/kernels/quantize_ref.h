/* The reference QUANTIZE's validated parameters and prepare (quantize.c), shared with the
 * optimized kernel (opt_quantize.c), which accepts and rejects the same nodes: one body of
 * checks, nml_quantize_check, compiled into both. */
#ifndef NANOML_KERNELS_QUANTIZE_REF_H
#define NANOML_KERNELS_QUANTIZE_REF_H

#include <stdint.h>

#include "elem_common.h"
#include "kernel.h"
#include "lean.h"

typedef struct nml_quantize_data {
    double scale; /* output scale, float input */
    int32_t in_zp, out_zp;
    int32_t mult; /* requantization s_in / s_out, quantized input */
    int shift;
    int32_t lo, hi; /* output type's range */
} nml_quantize_data;

/* Checks the node and stores nml_quantize_data in node->data. */
nml_status nml_quantize_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p);

/* The checks and parameters of nml_quantize_prepare, in one body for it and for the optimized
 * kernel's lean variant. lean 0: the parameters go to node data in the persistent arena (d is
 * not read). lean 1: they go to *d, on the caller's stack, and nodes other than int8 -> int8
 * are refused once the input is known to be present (so the float path, with its double
 * output scale, is not compiled in). io gets the input and the output. */
NML_SETUP_INLINE nml_status nml_quantize_check(nml_ctx *ctx, nml_node *node, nml_quantize_data *d,
                                               int lean, const nml_tensor **io) {
    nml_tensor *t[2];
    NML_TRY(nml_node_io(ctx, node, 1, 1, t));
    const nml_tensor *in = t[0], *out = t[1];
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    io[0] = in, io[1] = out;
    if (lean && (in->type != NML_INT8 || out->type != NML_INT8))
        return nml_lean_refuse(ctx, node, "int8 input and output");
    if (in->type != NML_FLOAT32 && !nml_is_quant_int(in->type))
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (float32, int8, uint8, int16)",
                               nml_dtype_name(in->type));
    if (!nml_is_quant_int(out->type))
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "output type %s is not supported (int8, uint8, int16)",
                               nml_dtype_name(out->type));
    NML_TRY(nml_check_same_shape(ctx, node, in, out, "input", "output"));
    NML_TRY(nml_check_quant(ctx, node, out, "output"));
    if (!lean) NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    d->out_zp = out->zero_point;
    if (lean) {
        d->lo = INT8_MIN;
        d->hi = INT8_MAX;
    } else {
        nml_int_range(out->type, &d->lo, &d->hi);
        d->scale = (double)out->scale;
        if (in->type == NML_FLOAT32) return NML_OK;
    }
    NML_TRY(nml_check_quant(ctx, node, in, "input"));
    d->in_zp = in->zero_point;
    nml_quantize_ratio(in->scale, out->scale, 0, &d->mult, &d->shift);
    return NML_OK;
}

#endif
