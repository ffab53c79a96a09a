#include "pool_common.h"

#include <string.h>

#include "lean.h"
#include "outline.h"

/* The first of n outputs along an axis whose window holds no input element, or -1. (Not
 * inlined: one copy for both axes.) */
static NML_OUTLINE int32_t first_empty(int32_t n, int32_t stride, int32_t pad, int32_t filter,
                                       int32_t size) {
    for (int32_t o = 0; o < n; o++) {
        int32_t start, end;
        nml_pool_range(o * stride - pad, filter, size, &start, &end);
        if (end <= start) return o;
    }
    return -1;
}

/* Every output row/column must see at least one input element. */
static nml_status check_nonempty(nml_ctx *ctx, const nml_node *node, const nml_window *w,
                                 int32_t in_h, int32_t in_w) {
    int32_t o = first_empty(w->out_h, w->stride_h, w->pad_h, w->filter_h, in_h);
    if (o >= 0)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "pooling window of output row %d lies entirely in the padding",
                               (int)o);
    o = first_empty(w->out_w, w->stride_w, w->pad_w, w->filter_w, in_w);
    if (o >= 0)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "pooling window of output column %d lies entirely in the padding",
                               (int)o);
    return NML_OK;
}

/* int8_only: the lean kernels' instance, without the float32 branch */
NML_SETUP_INLINE nml_status pool_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                         int require_nonempty, nml_pool_data **out, int int8_only) {
    nml_tensor *t[2];
    NML_TRY(nml_node_io(ctx, node, 1, 1, t));
    const nml_tensor *input = t[0], *output = t[1];
    if (!input) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    const int type = input->type;
    if (type != NML_FLOAT32 && type != NML_INT8)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (float32, int8 are)",
                               nml_dtype_name(type));
    NML_TRY(nml_check_type(ctx, node, output, "output", type));
    if (int8_only && type != NML_INT8) return nml_lean_refuse(ctx, node, "int8 input");
    NML_TRY(nml_check_rank(ctx, node, input, "input", 4));

    nml_pool_data *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    nml_op_params window = *p;
    window.dilation_h = window.dilation_w = 1; /* pooling options have no dilation */
    NML_TRY(nml_window_init(ctx, node, &window, input->dims[1], input->dims[2], p->filter_h,
                            p->filter_w, &d->w));
    /* filter_h * filter_w > 2^23 in 32 bits (nml_window_init has checked both >= 1) */
    if ((uint32_t)p->filter_h > (1u << 23) / (uint32_t)p->filter_w)
        return nml_kernel_fail(ctx, node, NML_E_LIMIT, "pooling window %dx%d is too large",
                               (int)p->filter_h, (int)p->filter_w);
    NML_TRY(
        nml_check_nhwc(ctx, node, output, input->dims[0], d->w.out_h, d->w.out_w, input->dims[3]));
    if (require_nonempty) NML_TRY(check_nonempty(ctx, node, &d->w, input->dims[1], input->dims[2]));

    if (!int8_only && type == NML_FLOAT32) {
        NML_TRY(nml_activation_range_f32(ctx, node, p->activation, &d->f_min, &d->f_max));
    } else {
        NML_TRY(nml_check_int8_quant(ctx, node, input, "input"));
        NML_TRY(nml_check_int8_quant(ctx, node, output, "output"));
        /* the int8 kernels work on raw values, so input and output must share quantization:
         * scales at most 1e-6 apart (the difference in double). The difference is finite (the
         * scales are), so its magnitude compares as its bits do: no soft-float calls for the
         * absolute value and the comparison. */
        const double diff = (double)input->scale - (double)output->scale, tolerance = 1.0e-6;
        uint64_t diff_bits, tolerance_bits;
        memcpy(&diff_bits, &diff, sizeof diff_bits);
        memcpy(&tolerance_bits, &tolerance, sizeof tolerance_bits);
        diff_bits &= ~(1ull << 63); /* |diff| */
        if (diff_bits > tolerance_bits || input->zero_point != output->zero_point)
            return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                                   "input and output quantization differ (zero points %d, %d); "
                                   "int8 pooling needs them equal",
                                   (int)input->zero_point, (int)output->zero_point);
        NML_TRY(nml_activation_range_q(ctx, node, p->activation, output, -128, 127, &d->act_min,
                                       &d->act_max));
    }
    node->data = d;
    *out = d;
    return NML_OK;
}

nml_status nml_pool_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                            int require_nonempty, nml_pool_data **out) {
    return pool_prepare(ctx, node, p, require_nonempty, out, 0);
}

/* The lean kernels' prepare: AVERAGE_POOL_2D's windows must hold an input element. One function
 * for both kernels, which need nothing else from it. */
nml_status nml_pool_prepare_lean(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    nml_pool_data *d;
    return pool_prepare(ctx, node, p, node->builtin == NML_OP_AVERAGE_POOL_2D, &d, 1);
}
