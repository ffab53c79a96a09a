/* LOGISTIC optimized for int8: the reference's fixed-point computation (logistic.c, as TFLite
 * Micro) of all 256 possible inputs is done once at prepare into a table, so each output is a
 * table lookup, bit-identical by construction (256 bytes of persistent arena). float32 takes
 * the reference evaluation. */
#include "kernels.h"
#include "sigmoid_common.h"

typedef struct opt_logistic {
    const nml_sigmoid_data *ref;
    int8_t table[256]; /* output for input -128 + i */
} opt_logistic;

static nml_status opt_logistic_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_logistic_prepare(ctx, node, p));
    const nml_sigmoid_data *ref = node->data;
    opt_logistic *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    d->ref = ref;
    if (nml_node_input(ctx, node, 0)->type == NML_INT8) {
        int8_t x[256];
        for (int32_t i = 0; i < 256; i++)
            x[i] = (int8_t)(i - 128);
        nml_logistic_int8(ref, x, d->table, 256);
    }
    node->data = d;
    return NML_OK;
}

static nml_status opt_logistic_eval_int8(nml_ctx *ctx, nml_node *node) {
    const opt_logistic *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    const int8_t *in = input->data;
    int8_t *out = output->data;
    const int8_t *table = d->table + 128;
    for (int32_t i = 0; i < d->ref->count; i++)
        out[i] = table[in[i]];
    return NML_OK;
}

static nml_status opt_logistic_eval(nml_ctx *ctx, nml_node *node) {
    const opt_logistic *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    if (input->type != NML_INT8) {
        nml_logistic_f32(d->ref, input->data, nml_node_output(ctx, node, 0)->data);
        return NML_OK;
    }
    return opt_logistic_eval_int8(ctx, node);
}

/* The int8-only variant (chosen by `nanoml export` when every LOGISTIC is int8): without the
 * float32 evaluation and the C library's expf it brings. */
static nml_status opt_logistic_prepare_int8(nml_ctx *ctx, nml_node *node,
                                            const nml_op_params *p) {
    NML_TRY(opt_logistic_prepare(ctx, node, p));
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    if (input->type != NML_INT8)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "the int8-only kernel takes int8 input, not %s (link the full "
                               "optimized or the reference kernel)",
                               nml_dtype_name(input->type));
    return NML_OK;
}

const nml_kernel nml_kernel_logistic_opt = {NML_OP_LOGISTIC, "LOGISTIC", opt_logistic_prepare,
                                            opt_logistic_eval};
const nml_kernel nml_kernel_logistic_opt_int8 = {NML_OP_LOGISTIC, "LOGISTIC",
                                                 opt_logistic_prepare_int8, opt_logistic_eval_int8};
