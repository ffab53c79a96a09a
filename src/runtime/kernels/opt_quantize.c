/* QUANTIZE optimized for int8 -> int8 (the requantization exporters put in front of
 * CONCATENATION and at outputs): the reference's fixed-point computation of every possible
 * input is run once at prepare into a 256-byte table, so evaluation is one lookup per element
 * and bit-identical to the reference by construction. Tensors under TABLE_MIN_ELEMENTS keep
 * the reference arithmetic (the table would cost more arena than it saves). Other types are
 * handed to the reference kernel by nml_kernel_quantize_opt and rejected at prepare by
 * nml_kernel_quantize_opt_int8, which has a prepare of its own.
 * In place: safe (element i is read before element i is written, and no other), so the output
 * may share the input's buffer (NML_KERNEL_IN_PLACE). */
#include "elem_common.h"
#include "kernels.h"
#include "lean.h"
#include "opt_lut8.h"
#include "quantize_ref.h"

#define TABLE_MIN_ELEMENTS 256

typedef struct opt_quantize {
    const nml_quantize_data *ref;
    uint32_t count;
    int8_t *table; /* output for input -128 + i; NULL: computed */
} opt_quantize;

/* The reference arithmetic (not inlined: prepare's table and eval's small tensors call it). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int8_t
requantize(const nml_quantize_data *q, int32_t x) {
    const int32_t v = nml_mul_by_qm(x - q->in_zp, q->mult, q->shift);
    return (int8_t)nml_add_zp_clamp(v, q->out_zp, q->lo, q->hi);
}

/* The reference prepare, then the table; *int8 = 0 (and the reference's data left in place)
 * when the node is not int8 -> int8. */
static nml_status prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p, int *int8) {
    *int8 = 0;
    NML_TRY(nml_quantize_prepare(ctx, node, p));
    const nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    if (in->type != NML_INT8 || out->type != NML_INT8) return NML_OK;
    const uint32_t count = nml_tensor_count(in);
    const int table = count >= TABLE_MIN_ELEMENTS;
    opt_quantize *d = nml_ctx_alloc_persistent(ctx, sizeof *d + (table ? 256u : 0u));
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    d->ref = node->data;
    d->count = count;
    d->table = NULL;
    if (table) {
        d->table = (int8_t *)(d + 1);
        for (int32_t i = 0; i < 256; i++)
            d->table[i] = requantize(d->ref, i - 128);
    }
    node->data = d;
    *int8 = 1;
    return NML_OK;
}

static nml_status opt_quantize_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    int int8;
    NML_TRY(prepare_int8(ctx, node, p, &int8));
    /* otherwise the reference kernel takes this node over, with the data its prepare made */
    if (!int8) return nml_hand_over(ctx, node, &nml_kernel_quantize);
    return NML_OK;
}

/* The lean variant's prepare: the reference's checks and parameters (nml_quantize_check,
 * quantize_ref.h) compiled here for the nodes it takes (int8 -> int8), so that the reference
 * prepare, with its other types, is not linked; its nml_quantize_data and the table in one
 * allocation. Whatever the reference rejects is rejected here too; other types are refused. */
static nml_status opt_quantize_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    nml_quantize_data q;
    const nml_tensor *io[2] = {NULL, NULL}; /* set by the check when it succeeds */
    NML_TRY(nml_quantize_check(ctx, node, &q, 1, io));
    const uint32_t count = nml_tensor_count(io[0]);
    const int table = count >= TABLE_MIN_ELEMENTS;
    typedef struct lean_quantize {
        opt_quantize d;
        nml_quantize_data q;
    } lean_quantize;
    lean_quantize *l = nml_ctx_alloc_persistent(ctx, sizeof *l + (table ? 256u : 0u));
    if (!l) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    l->q = q;
    l->d.ref = &l->q;
    l->d.count = count;
    l->d.table = NULL;
    if (table) {
        l->d.table = (int8_t *)(l + 1);
        for (int32_t i = 0; i < 256; i++)
            l->d.table[i] = requantize(&l->q, i - 128);
    }
    node->data = &l->d;
    return NML_OK;
}

static nml_status opt_quantize_eval(nml_ctx *ctx, nml_node *node) {
    const opt_quantize *d = node->data;
    const int8_t *in = nml_node_input(ctx, node, 0)->data;
    int8_t *out = nml_node_output(ctx, node, 0)->data;
    const uint32_t n = d->count;
    if (d->table) {
        nml_lut8_apply(d->table + 128, in, out, n);
    } else {
        for (uint32_t i = 0; i < n; i++)
            out[i] = requantize(d->ref, in[i]);
    }
    return NML_OK;
}

const nml_kernel nml_kernel_quantize_opt = {NML_OP_QUANTIZE, "QUANTIZE", opt_quantize_prepare,
                                            opt_quantize_eval, NML_KERNEL_IN_PLACE};
const nml_kernel nml_kernel_quantize_opt_int8 = {
    NML_OP_QUANTIZE, "QUANTIZE", opt_quantize_prepare_int8, opt_quantize_eval, NML_KERNEL_IN_PLACE};
