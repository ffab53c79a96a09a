/* TANH optimized for int8: a table of the reference's fixed-point results (tanh.c, as TFLite
 * Micro), see opt_lut8.h. float32 takes the reference evaluation. */
#include "opt_lut8.h"

static const nml_lut8_ref tanh_ref = {nml_tanh_prepare, nml_tanh_int8, nml_tanh_f32};
/* The int8-only variant (chosen by `nanoml export` when every TANH is int8): without the
 * float32 evaluation and the C library's tanhf it brings. */
static const nml_lut8_ref tanh_ref_int8 = {nml_tanh_prepare, nml_tanh_int8, NULL};

static nml_status opt_tanh_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return nml_lut8_prepare(ctx, node, p, &tanh_ref);
}

static nml_status opt_tanh_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return nml_lut8_prepare(ctx, node, p, &tanh_ref_int8);
}

const nml_kernel nml_kernel_tanh_opt = {NML_OP_TANH, "TANH", opt_tanh_prepare, nml_lut8_eval,
                                        NML_KERNEL_IN_PLACE};
const nml_kernel nml_kernel_tanh_opt_int8 = {NML_OP_TANH, "TANH", opt_tanh_prepare_int8,
                                             nml_lut8_eval_int8, NML_KERNEL_IN_PLACE};
