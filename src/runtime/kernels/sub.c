/* SUB: out = in0 - in1 with broadcasting and a fused activation.
 * float32, int32, int8 (TFLite's requantization: both inputs shifted left by 20 bits and
 * rescaled to twice the larger input scale, subtracted, then rescaled to the output). ADD and SUB
 * share their node data, prepare, rows and broadcast walk (arith_common.h); this file is the
 * sign. */
#include "arith_common.h"
#include "kernels.h"

static void row_f32(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,
                    int32_t sb) {
    nml_addsub_row_f32(user, ia, ib, io, n, sa, sb, -1);
}

static void row_i32(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,
                    int32_t sb) {
    nml_addsub_row_i32(user, ia, ib, io, n, sa, sb, -1);
}

static void row_i8(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,
                   int32_t sb) {
    nml_addsub_row_i8(user, ia, ib, io, n, sa, sb, -1);
}

static nml_status sub_eval(nml_ctx *ctx, nml_node *node) {
    static const nml_arith_rows rows = {row_f32, row_i32, row_i8};
    nml_arith_eval(ctx, node, &((const nml_addsub_data *)node->data)->bc, &rows);
    return NML_OK;
}

const nml_kernel nml_kernel_sub = {NML_OP_SUB, "SUB", nml_addsub_kernel_prepare, sub_eval,
                                   NML_KERNEL_IN_PLACE};
