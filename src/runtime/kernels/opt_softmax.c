/* SOFTMAX optimized for int8: the reference's fixed-point exp of every possible difference
 * x - max(row) (256 values) is computed once at prepare into a table, so the two passes over
 * a row look it up instead of evaluating gemmlowp's exp twice per element (1 KiB of persistent
 * arena, spent only on tensors of 256 elements or more, smaller ones compute it); the two
 * roundings per element are done in 32-bit arithmetic (softmax_int8 below, exact as explained
 * there). float32 takes the reference evaluation. */
#include "fixedpoint.h"
#include "kernels.h"
#include "lean.h"
#include "opt_rescale.h"
#include "softmax_ref.h"

#define ACCUM_INTEGER_BITS 12 /* the sum of exps in Q12.19, as in softmax.c */

typedef struct opt_softmax {
    const nml_softmax_data *ref;
    int32_t *exp_table; /* exp_table[255 + diff], diff in [-255, 0]; NULL: computed */
} opt_softmax;

/* Below this many elements per invoke the 1 KiB table costs more arena than the exp
 * evaluations it saves are worth (a classifier's 2-10 outputs). */
#define TABLE_MIN_ELEMENTS 256

/* int8_only: the int8-only variant, which refuses float32 input last (constant per caller) */
NML_RS_INLINE nml_status prepare_variant(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                         int int8_only) {
    NML_TRY(nml_softmax_prepare(ctx, node, p));
    const nml_softmax_data *ref = node->data;
    const int int8 = nml_node_input(ctx, node, 0)->type == NML_INT8;
    opt_softmax *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    d->ref = ref;
    d->exp_table = NULL;
    /* outer * depth is the element count, which fits 32 bits (nml_tensor_count) */
    if (int8 && (uint32_t)ref->outer * (uint32_t)ref->depth >= TABLE_MIN_ELEMENTS) {
        d->exp_table = nml_ctx_alloc_persistent(ctx, 256 * sizeof *d->exp_table);
        if (!d->exp_table)
            return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for the exp table");
        for (int32_t diff = -255; diff <= 0; diff++)
            if (diff >= ref->diff_min)
                d->exp_table[255 + diff] = nml_softmax_exp_of_diff(ref, diff);
    }
    node->data = d;
    return int8_only && !int8 ? nml_lean_refuse(ctx, node, "int8 input") : NML_OK;
}

static nml_status opt_softmax_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return prepare_variant(ctx, node, p, 0);
}

/* exp of diff = x - max(row) in Q0.31, 0 below diff_min, computed (tensors without a table;
 * not inlined: called from two loops). */
NML_RS_NOINLINE uint32_t exp_computed(const nml_softmax_data *d, int32_t diff) {
    return diff >= d->diff_min ? (uint32_t)nml_softmax_exp_of_diff(d, diff) : 0u;
}

/* The same from the table when there is one, t pointing at the entry of diff 0 minus max, so
 * that x's entry is t[x] (the table's entries below diff_min are 0, the arena being zeroed). */
NML_RS_INLINE uint32_t exp_at(const uint32_t *t, const nml_softmax_data *d, int32_t x,
                              int32_t max) {
    return t ? t[x] : exp_computed(d, x - max);
}

/* The reference's int8 rows (nml_softmax_int8), where the reference skips diffs below
 * diff_min: here their exp is 0, which adds 0 to the sum and gives probability 0, i.e. output
 * -128, exactly as skipping does. Every exp e is in [0, 2^31), so
 *   sum term: RDBPOT(e, 12) = floor((e + 2^11) / 2^12);
 *   output: RDBPOT(SRDHM(e, R), r) with the reciprocal R in (0, 2^31): nml_rs_apply_unsigned
 *     (opt_rescale.h). The loops walk pointers to the row's end. */
static void softmax_int8(const opt_softmax *od, const int8_t *in, int8_t *out) {
    const nml_softmax_data *d = od->ref;
    const int32_t depth = d->depth;
    const uint32_t *table = (const uint32_t *)od->exp_table;
    for (int32_t r = 0; r < d->outer; r++) {
        const int8_t *const end = in + depth;
        int32_t max = -128;
        for (const int8_t *p = in; p != end; p++)
            max = *p > max ? *p : max;
        /* x's entry is table[255 + x - max]; the base is formed as an address (for max < 0 it
         * lies past the table, where only t + x with x <= max is ever read) */
        const uint32_t *t =
            table ? (const uint32_t *)((uintptr_t)table + 4u * (uint32_t)(255 - max)) : NULL;
        uint32_t sum = 0; /* wraps like the reference's */
        for (const int8_t *p = in; p != end; p++)
            sum += (exp_at(t, d, *p, max) + 2048u) >> ACCUM_INTEGER_BITS;
        int bits_over_unit;
        const uint32_t twice_recip =
            2u * (uint32_t)nml_fp_reciprocal((int32_t)sum, ACCUM_INTEGER_BITS, &bits_over_unit);
        int shift = bits_over_unit + 31 - 8;
        shift = shift < 0 ? 0 : (shift > 31 ? 31 : shift);
        const uint32_t round = shift ? 1u << (shift - 1) : 0u;
        for (; in != end; in++) {
            const uint32_t prob =
                nml_rs_apply_unsigned(exp_at(t, d, *in, max), twice_recip, round, shift);
            /* prob - 128 saturated at 127: for prob in [0, 255] the low byte of prob ^ 0x80 */
            *out++ = (int8_t)(uint8_t)((prob > 255u ? 255u : prob) ^ 0x80u);
        }
    }
}

static nml_status opt_softmax_eval(nml_ctx *ctx, nml_node *node) {
    const opt_softmax *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    if (input->type == NML_INT8)
        softmax_int8(d, input->data, output->data);
    else
        nml_softmax_f32(d->ref, input->data, output->data);
    return NML_OK;
}

/* The int8-only variant (chosen by `nanoml export` when every SOFTMAX is int8): without the
 * float32 evaluation and the C library's expf it brings. */
static nml_status opt_softmax_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return prepare_variant(ctx, node, p, 1);
}

static nml_status opt_softmax_eval_int8(nml_ctx *ctx, nml_node *node) {
    const opt_softmax *d = node->data;
    softmax_int8(d, nml_node_input(ctx, node, 0)->data, nml_node_output(ctx, node, 0)->data);
    return NML_OK;
}

const nml_kernel nml_kernel_softmax_opt = {NML_OP_SOFTMAX, "SOFTMAX", opt_softmax_prepare,
                                           opt_softmax_eval};
const nml_kernel nml_kernel_softmax_opt_int8 = {NML_OP_SOFTMAX, "SOFTMAX", opt_softmax_prepare_int8,
                                                opt_softmax_eval_int8};
