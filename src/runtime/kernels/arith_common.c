#include "arith_common.h"

nml_status nml_arith_check(nml_ctx *ctx, const nml_node *node) {
    NML_TRY(nml_check_io_count(ctx, node, 2, 2, 1));
    const nml_tensor *a = nml_node_input(ctx, node, 0), *b = nml_node_input(ctx, node, 1);
    const nml_tensor *out = nml_node_output(ctx, node, 0);
    if (!a || !b) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "an input is missing");
    if (out->type != NML_FLOAT32 && out->type != NML_INT8 && out->type != NML_INT32)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "output type %s is not supported (float32, int8, int32)",
                               nml_dtype_name(out->type));
    NML_TRY(nml_check_type(ctx, node, a, "input 0", out->type));
    return nml_check_type(ctx, node, b, "input 1", out->type);
}

void nml_arith_eval(nml_ctx *ctx, const nml_node *node, const nml_bcast *bc,
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

nml_status nml_addsub_kernel_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_arith_check(ctx, node));
    const nml_tensor *a = nml_node_input(ctx, node, 0), *b = nml_node_input(ctx, node, 1);
    const nml_tensor *out = nml_node_output(ctx, node, 0);
    nml_addsub_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_bcast_prepare(ctx, node, a, b, out, &d->bc));
    if (out->type == NML_INT8)
        return nml_addsub_prepare_q(ctx, node, a, b, out, p->activation, &d->q);
    if (out->type == NML_INT32)
        return nml_act_range_int32(ctx, node, p->activation, &d->i_min, &d->i_max);
    return nml_act_range_float(ctx, node, p->activation, &d->f_min, &d->f_max);
}
