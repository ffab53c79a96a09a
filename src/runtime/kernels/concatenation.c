/* CONCATENATION along any axis (negative counts from the end); like TFLite, no fused
 * activation. Quantized inputs whose scale or zero point differ from the output's are requantized
 * with the fixed-point multiplier s_in / s_out (TFLite's Requantize arithmetic); inputs that
 * match are copied, as in TFLite Micro. */
#include <string.h>

#include "concatenation_ref.h"
#include "elem_common.h"
#include "kernels.h"

typedef nml_concat_input concat_input;
typedef nml_concat_data concat_data;

static int is_q(int t) {
    return t == NML_INT8 || t == NML_UINT8 || t == NML_INT16;
}

static nml_status check_input(nml_ctx *ctx, const nml_node *node, concat_data *d, uint32_t i,
                              const nml_tensor *t, const nml_tensor *out) {
    char what[32] = "input";
    if (NML_ERROR_DETAIL) nml_format(what, sizeof what, "input %u", (unsigned)i);
    if (!t) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "%s is missing", what);
    NML_TRY(nml_check_type(ctx, node, t, what, out->type));
    if (t->rank != out->rank)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "%s has rank %u, output has rank %u", what,
                               (unsigned)t->rank, (unsigned)out->rank);
    for (int k = 0; k < out->rank; k++) {
        if (k != d->axis && t->dims[k] != out->dims[k]) {
            char st[80], so[80];
            if (NML_ERROR_DETAIL) {
                nml_format_dims(st, sizeof st, t->dims, t->rank);
                nml_format_dims(so, sizeof so, out->dims, out->rank);
            }
            return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                                   "%s shape %s does not fit output %s outside axis %d", what, st,
                                   so, (int)d->axis);
        }
    }
    concat_input *ci = &d->in[i];
    ci->axis_dim = t->dims[d->axis];
    if (!is_q(out->type)) return NML_OK;
    NML_TRY(nml_check_quant(ctx, node, t, what));
    ci->requant = t->scale != out->scale || t->zero_point != out->zero_point;
    ci->in_zp = t->zero_point;
    nml_quantize_multiplier((double)t->scale / (double)out->scale, &ci->mult, &ci->shift);
    return NML_OK;
}

nml_status nml_concat_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_check_io_count(ctx, node, 1, NML_MAX_OP_INPUTS, 1));
    nml_tensor *out = nml_node_output(ctx, node, 0);
    concat_data *d;
    NML_TRY(
        nml_alloc_node_data(ctx, node, sizeof *d + node->n_inputs * sizeof d->in[0], (void **)&d));
    NML_TRY(nml_elem_size(ctx, node, out, "output", &d->esize));
    if (out->rank == 0)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "cannot concatenate scalars");
    NML_TRY(nml_resolve_axis(ctx, node, p->axis, out->rank, &d->axis));
    if (p->activation != NML_ACT_NONE)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "fused activation %d is not supported (TFLite allows none)",
                               (int)p->activation);
    if (is_q(out->type)) {
        NML_TRY(nml_check_quant(ctx, node, out, "output"));
        d->out_zp = out->zero_point;
        nml_int_range(out->type, &d->lo, &d->hi);
    }
    int64_t sum = 0;
    for (uint32_t i = 0; i < node->n_inputs; i++) {
        NML_TRY(check_input(ctx, node, d, i, nml_node_input(ctx, node, i), out));
        sum += d->in[i].axis_dim;
    }
    if (sum != out->dims[d->axis])
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "inputs add up to %lld along axis %d, output has %d", (long long)sum,
                               (int)d->axis, (int)out->dims[d->axis]);
    d->outer = d->inner = 1;
    for (int k = 0; k < d->axis; k++)
        d->outer *= (uint32_t)out->dims[k];
    for (int k = d->axis + 1; k < out->rank; k++)
        d->inner *= (uint32_t)out->dims[k];
    return NML_OK;
}

static void requant_chunk(const concat_data *d, const concat_input *ci, int type, const void *src,
                          uint32_t src_i, void *dst, uint32_t dst_i, uint32_t n) {
    for (uint32_t k = 0; k < n; k++) {
        int32_t v =
            nml_mul_by_qm(nml_load_int(src, type, src_i + k) - ci->in_zp, ci->mult, ci->shift);
        nml_store_int(dst, type, dst_i + k, nml_clamp_i32(v + d->out_zp, d->lo, d->hi));
    }
}

static nml_status concat_eval(nml_ctx *ctx, nml_node *node) {
    const concat_data *d = node->data;
    nml_tensor *out = nml_node_output(ctx, node, 0);
    uint8_t *dst = out->data;
    uint32_t o = 0; /* output element index */
    for (uint32_t b = 0; b < d->outer; b++) {
        for (uint32_t i = 0; i < node->n_inputs; i++) {
            const concat_input *ci = &d->in[i];
            const nml_tensor *t = nml_node_input(ctx, node, i);
            uint32_t n = (uint32_t)ci->axis_dim * d->inner;
            if (ci->requant) {
                requant_chunk(d, ci, out->type, t->data, b * n, dst, o, n);
            } else {
                memcpy(dst + (size_t)o * d->esize,
                       (const uint8_t *)t->data + (size_t)b * n * d->esize, (size_t)n * d->esize);
            }
            o += n;
        }
    }
    return NML_OK;
}

const nml_kernel nml_kernel_concatenation = {NML_OP_CONCATENATION, "CONCATENATION",
                                             nml_concat_prepare, concat_eval};
