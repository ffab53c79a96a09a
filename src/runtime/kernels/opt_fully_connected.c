/* FULLY_CONNECTED optimized for cores without SIMD or FPU (RV32IMC), bit-exact with the
 * reference kernel (fully_connected.c), which stays the oracle and evaluates everything but
 * plain int8 (int8 activations and weights): float32, hybrid, int4 weights.
 *
 * int8 evaluation: eight units at a time share each loaded activation (one load and one
 * zero-point subtraction per eight multiply-accumulates, nml_dot_8x1), then four (run_4x1),
 * two and one (nml_dot_2x1); the depth loops are unrolled by four with pointer increments. A
 * weights zero point (per-tensor asymmetric weights) is applied once per row: sum (w - wz)(x - xz)
 * = sum w (x - xz) - wz * sum (x - xz). Per-tensor weights keep one multiplier instead of one per
 * unit. */
#include <stddef.h>

#include "conv_ref.h"
#include "kernels.h"
#include "opt_common.h"
#include "opt_dot.h"

typedef struct opt_fc {
    nml_fc_data ref;
    nml_rq rq;
    uint8_t use_ref; /* not plain int8 (float32, hybrid, int4): the reference evaluation */
} opt_fc;

/* int8_only: the variant without the reference fallback (conv_ref.h), constant per caller */
NML_OPT_INLINE nml_status prepare_variant(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                          int int8_only) {
    opt_fc *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    if (int8_only)
        NML_TRY(nml_fc_setup_int8(ctx, node, p, &d->ref, &d->rq));
    else
        NML_TRY(nml_fc_setup(ctx, node, p, &d->ref, 0));
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const nml_tensor *filter = nml_node_input(ctx, node, 1);
    const nml_tensor *output = nml_node_output(ctx, node, 0);
    d->use_ref = d->ref.mode != NML_CONV_INT8;
    if (!int8_only && d->use_ref) {
        NML_TRY(nml_fc_ref_finish(ctx, node, &d->ref)); /* its tables and scratch */
    } else {
        const nml_tensor *bias = nml_node_input(ctx, node, 2);
        const int64_t bound =
            nml_rq_dot_bound(d->ref.depth, input->zero_point, d->ref.weights_offset ? 255 : 128);
        if (d->ref.per_channel) {
            if (!int8_only) /* the int8-only setup filled the table */
                NML_TRY(nml_rq_conv_fill(ctx, node, input, filter, output, d->ref.units, &d->rq));
        } else {
            NML_TRY(nml_rq_alloc(ctx, node, &d->rq, 1));
            nml_rq_set(&d->rq, 0, d->ref.tensor_mult, d->ref.tensor_shift);
        }
        NML_TRY(nml_rq_finish(ctx, node, &d->rq, d->ref.units, output->zero_point, d->ref.act_min,
                              d->ref.act_max, bias, bound));
    }
    node->data = d;
    return NML_OK;
}

static nml_status opt_fc_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return prepare_variant(ctx, node, p, 0);
}

static nml_status opt_fc_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return prepare_variant(ctx, node, p, 1);
}

static nml_status opt_fc_prepare_narrow(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(prepare_variant(ctx, node, p, 1));
    const opt_fc *d = node->data;
    if (d->ref.units >= 8)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "the narrow kernel takes fewer than 8 units (%d)",
                               (int)d->ref.units);
    return NML_OK;
}

/* acc[j] += sum over len bytes of w_j[i] * (x[i] - zp), w_j = w + j * depth, j = 0..3. Out of
 * line so the accumulators and pointers get the registers to themselves. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
run_4x1(const int8_t *x, const int8_t *w0, int32_t depth, int32_t len, int32_t zp, int32_t acc[4]) {
    const int8_t *w1 = w0 + depth, *w2 = w1 + depth, *w3 = w2 + depth;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#define NML_MAC_4X1(i)                                                                             \
    do {                                                                                           \
        const int32_t xv = x[i] - zp;                                                              \
        a0 += w0[i] * xv;                                                                          \
        a1 += w1[i] * xv;                                                                          \
        a2 += w2[i] * xv;                                                                          \
        a3 += w3[i] * xv;                                                                          \
    } while (0)
    int32_t n4 = len >> 2;
    if (n4 > 0) do {
            NML_MAC_4X1(0);
            NML_MAC_4X1(1);
            NML_MAC_4X1(2);
            NML_MAC_4X1(3);
            x += 4, w0 += 4, w1 += 4, w2 += 4, w3 += 4;
        } while (--n4);
    for (int32_t i = 0; i < (len & 3); i++)
        NML_MAC_4X1(i);
#undef NML_MAC_4X1
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* Requantizes units u..u+n-1 from acc (dot products) into o[u..]: correction and bias applied,
 * then the fast form (or the reference arithmetic). The tables and the clamp range are held in
 * locals: through d, gcc reloaded them for every unit (int8 stores may alias anything), about
 * twenty instructions per unit. */
NML_OPT_INLINE void finish_units(const opt_fc *d, const int32_t *bias, int32_t u, int32_t n,
                                 const int32_t *acc, int32_t correction, int8_t *o) {
    const nml_rq *rq = &d->rq;
    if (!rq->fast) {
        for (int32_t j = 0; j < n; j++) {
            int32_t a = acc[j] - correction;
            if (bias) a = nml_add_wrap(a, bias[u + j]);
            o[u + j] = nml_rq_slow(rq, u + j, a);
        }
        return;
    }
    const int32_t *mult = rq->mult;
    const int8_t *shift = rq->shift;
    const int32_t step = rq->step, zp = rq->out_zp, lo = rq->act_min, hi = rq->act_max;
    for (int32_t j = 0; j < n; j++) {
        int32_t a = acc[j] - correction;
        if (bias) a = nml_add_wrap(a, bias[u + j]);
        const nml_rq_ch e = nml_rq_entry(mult, shift, (u + j) * step, zp);
        o[u + j] = nml_rq_clamp(nml_rq_apply(a, e), lo, hi);
    }
}

/* narrow: the narrow variant (layers of fewer than eight units: no eight-unit dot linked),
 * constant per caller */
NML_OPT_INLINE void fc_int8_opt(const opt_fc *d, const int8_t *in, const int8_t *w,
                                const int32_t *bias, int8_t *out, int narrow) {
    const int32_t units = d->ref.units, depth = d->ref.depth, zp = -d->ref.input_offset;
    const int32_t wz = -d->ref.weights_offset;
    int32_t acc[8];
    for (int32_t b = 0; b < d->ref.batches; b++) {
        const int8_t *x = in + b * depth;
        int8_t *o = out + b * units;
        /* wz * sum (x - zp): the weights zero point's share, the same for every unit */
        int32_t correction = 0;
        if (wz) {
            int32_t sx = 0;
            for (int32_t i = 0; i < depth; i++)
                sx += x[i] - zp;
            correction = wz * sx;
        }
        int32_t u = 0, n = 8;
        for (; u < units; u += n) {
            const int32_t left = units - u;
            n = left >= 8 && !narrow ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
            if (n == 8 && zp == 0) /* e.g. after TANH: no offset to subtract */
                nml_dot_8x1_raw(x, w + u * depth, depth, depth, acc);
            else if (n == 8)
                nml_dot_8x1(x, zp, w + u * depth, depth, depth, acc);
            else if (n == 4)
                run_4x1(x, w + u * depth, depth, depth, zp, acc);
            else /* one unit: its row twice */
                nml_dot_2x1(x, zp, w + u * depth, w + (u + n - 1) * depth, depth, acc);
            finish_units(d, bias, u, n, acc, correction, o);
        }
    }
}

NML_OPT_INLINE nml_status eval_variant(nml_ctx *ctx, nml_node *node, int narrow) {
    const opt_fc *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const nml_tensor *filter = nml_node_input(ctx, node, 1);
    const nml_tensor *bias = nml_node_input(ctx, node, 2);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    fc_int8_opt(d, input->data, filter->data, bias ? bias->data : NULL, output->data, narrow);
    return NML_OK;
}

static nml_status opt_fc_eval_int8(nml_ctx *ctx, nml_node *node) {
    return eval_variant(ctx, node, 0);
}

static nml_status opt_fc_eval_narrow(nml_ctx *ctx, nml_node *node) {
    return eval_variant(ctx, node, 1);
}

static nml_status opt_fc_eval(nml_ctx *ctx, nml_node *node) {
    const opt_fc *d = node->data;
    if (d->use_ref) {
        nml_fc_eval_ref(ctx, node, &d->ref);
        return NML_OK;
    }
    return opt_fc_eval_int8(ctx, node);
}

const nml_kernel nml_kernel_fully_connected_opt = {NML_OP_FULLY_CONNECTED, "FULLY_CONNECTED",
                                                   opt_fc_prepare, opt_fc_eval};
const nml_kernel nml_kernel_fully_connected_opt_int8 = {NML_OP_FULLY_CONNECTED, "FULLY_CONNECTED",
                                                        opt_fc_prepare_int8, opt_fc_eval_int8};
const nml_kernel nml_kernel_fully_connected_opt_narrow = {
    NML_OP_FULLY_CONNECTED, "FULLY_CONNECTED", opt_fc_prepare_narrow, opt_fc_eval_narrow};
