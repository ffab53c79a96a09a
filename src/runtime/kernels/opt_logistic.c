/* LOGISTIC optimized for int8: a table of the reference's fixed-point results (logistic.c, as
 * TFLite Micro), see opt_lut8.h. float32 takes the reference evaluation. */
#include "opt_lut8.h"

static const nml_lut8_ref logistic_ref = {nml_logistic_prepare, nml_logistic_int8,
                                          nml_logistic_f32};
/* The int8-only variant (chosen by `nanoml export` when every LOGISTIC is int8): without the
 * float32 evaluation and the C library's expf it brings. */
static const nml_lut8_ref logistic_ref_int8 = {nml_logistic_prepare, nml_logistic_int8, NULL};

static nml_status opt_logistic_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return nml_lut8_prepare(ctx, node, p, &logistic_ref);
}

static nml_status opt_logistic_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return nml_lut8_prepare(ctx, node, p, &logistic_ref_int8);
}

const nml_kernel nml_kernel_logistic_opt = {NML_OP_LOGISTIC, "LOGISTIC", opt_logistic_prepare,
                                            nml_lut8_eval, NML_KERNEL_IN_PLACE};
const nml_kernel nml_kernel_logistic_opt_int8 = {
    NML_OP_LOGISTIC, "LOGISTIC", opt_logistic_prepare_int8, nml_lut8_eval_int8, NML_KERNEL_IN_PLACE};
