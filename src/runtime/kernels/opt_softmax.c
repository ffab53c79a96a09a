/* SOFTMAX optimized for int8: the reference's fixed-point exp of every possible difference
 * x - max(row) (256 values) is computed once at prepare into a table, so the two passes over
 * a row look it up instead of evaluating gemmlowp's exp twice per element; everything else is
 * the reference evaluation (softmax.c), so the output is bit-identical by construction (1 KiB of
 * persistent arena, spent only on tensors of 256 elements or more). float32 takes the reference
 * evaluation. */
#include "kernels.h"
#include "softmax_ref.h"

typedef struct opt_softmax {
    const nml_softmax_data *ref;
    int32_t *exp_table; /* exp_table[255 + diff], diff in [-255, 0]; NULL: computed */
} opt_softmax;

/* Below this many elements per invoke the 1 KiB table costs more arena than the exp
 * evaluations it saves are worth (a classifier's 2-10 outputs). */
#define TABLE_MIN_ELEMENTS 256

static nml_status opt_softmax_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_softmax_prepare(ctx, node, p));
    const nml_softmax_data *ref = node->data;
    opt_softmax *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    d->ref = ref;
    d->exp_table = NULL;
    if (nml_node_input(ctx, node, 0)->type == NML_INT8 &&
        (int64_t)ref->outer * ref->depth >= TABLE_MIN_ELEMENTS) {
        d->exp_table = nml_ctx_alloc_persistent(ctx, 256 * sizeof *d->exp_table);
        if (!d->exp_table)
            return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for the exp table");
        for (int32_t diff = -255; diff <= 0; diff++)
            if (diff >= ref->diff_min)
                d->exp_table[255 + diff] = nml_softmax_exp_of_diff(ref, diff);
    }
    node->data = d;
    return NML_OK;
}

static nml_status opt_softmax_eval(nml_ctx *ctx, nml_node *node) {
    const opt_softmax *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    if (input->type == NML_INT8)
        nml_softmax_int8(d->ref, input->data, output->data, d->exp_table);
    else
        nml_softmax_f32(d->ref, input->data, output->data);
    return NML_OK;
}

/* The int8-only variant (chosen by `nanoml export` when every SOFTMAX is int8): without the
 * float32 evaluation and the C library's expf it brings. */
static nml_status opt_softmax_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(opt_softmax_prepare(ctx, node, p));
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    if (input->type != NML_INT8)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "the int8-only kernel takes int8 input, not %s (link the full "
                               "optimized or the reference kernel)",
                               nml_dtype_name(input->type));
    return NML_OK;
}

static nml_status opt_softmax_eval_int8(nml_ctx *ctx, nml_node *node) {
    const opt_softmax *d = node->data;
    nml_softmax_int8(d->ref, nml_node_input(ctx, node, 0)->data,
                     nml_node_output(ctx, node, 0)->data, d->exp_table);
    return NML_OK;
}

const nml_kernel nml_kernel_softmax_opt = {NML_OP_SOFTMAX, "SOFTMAX", opt_softmax_prepare,
                                           opt_softmax_eval};
const nml_kernel nml_kernel_softmax_opt_int8 = {NML_OP_SOFTMAX, "SOFTMAX", opt_softmax_prepare_int8,
                                                opt_softmax_eval_int8};
