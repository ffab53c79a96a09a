#include "arith_common.h"

nml_status nml_addsub_kernel_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    const nml_tensor *a = NULL, *b = NULL, *out = NULL;
    NML_TRY(nml_arith_check(ctx, node, &a, &b, &out));
    nml_addsub_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_bcast_prepare(ctx, node, a, b, out, &d->bc));
    if (out->type == NML_INT8)
        return nml_addsub_prepare_q(ctx, node, a, b, out, p->activation, &d->q);
    if (out->type == NML_INT32)
        return nml_act_range_int32(ctx, node, p->activation, &d->i_min, &d->i_max);
    return nml_act_range_float(ctx, node, p->activation, &d->f_min, &d->f_max);
}
