/* Prepare-time helpers for conv/matrix/pooling kernels. Every formula follows TFLite
 * (tensorflow/lite/kernels/padding.h, kernel_util.cc, quantization_util.cc); the comments name
 * the reference function each one reproduces. */
#include "conv_ref.h"

#include <float.h>
#include <limits.h>

#include "elem_common.h"
#include "opt_common.h"
#include "outline.h"
#include "qmath.h"

/* Index arithmetic in eval is plain int32; keep every window coordinate far below the limit. */
#define WINDOW_COORD_LIMIT (1 << 30)

/* TFLite's ComputeOutSize + ComputePaddingWithOffset for one spatial dimension. */
static nml_status window_dim(nml_ctx *ctx, const nml_node *node, int padding, const char *axis,
                             int32_t in, int32_t filter, int32_t stride, int32_t dilation,
                             int32_t *out_size, int32_t *pad) {
    /* one error site for the four lower bounds */
    const int32_t value[4] = {stride, dilation, filter, in};
    static const char *const what[4] = {"stride along", "dilation along", "filter", "input"};
    for (int k = 0; k < 4; k++)
        if (value[k] < 1)
            return nml_kernel_fail(ctx, node, k < 2 ? NML_E_FORMAT : NML_E_SHAPE,
                                   "%s %s is %d, must be >= 1", what[k], axis, (int)value[k]);
    /* 32-bit arithmetic throughout (as the 64-bit formulas it replaces gave, see
     * tests/unit/test_prepare_bits.c): the window's extent (filter - 1) * dilation + 1 saturated
     * at 2^31 compares with in (< 2^31) and the limit as the exact one does; past the limit
     * checks every term is at most 2^30 */
    const uint32_t reach = (uint32_t)(filter - 1);
    const uint32_t effective = reach > (uint32_t)INT32_MAX / (uint32_t)dilation
                                   ? 0x80000000u
                                   : reach * (uint32_t)dilation + 1u;
    /* an empty VALID output: the window is longer than the input */
    if (padding != NML_PAD_SAME && effective > (uint32_t)in)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "VALID window of %lld %s does not fit the input %s %d",
                               (long long)(filter - 1) * dilation + 1, axis, axis, (int)in);
    const uint32_t num = padding == NML_PAD_SAME ? (uint32_t)in + (uint32_t)stride - 1u
                                                 : (uint32_t)in + (uint32_t)stride - effective;
    const uint32_t out = num / (uint32_t)stride; /* >= 1 */
    /* (out - 1) * stride <= in - 1 (SAME) or in - effective (VALID) */
    const uint32_t span = (out - 1u) * (uint32_t)stride + effective;
    if (in > WINDOW_COORD_LIMIT || effective > WINDOW_COORD_LIMIT || span > WINDOW_COORD_LIMIT)
        return nml_kernel_fail(ctx, node, NML_E_LIMIT,
                               "window along %s too large (stride %d, dilation %d, filter %d)",
                               axis, (int)stride, (int)dilation, (int)filter);
    *out_size = (int32_t)out;
    *pad = span > (uint32_t)in ? (int32_t)((span - (uint32_t)in) / 2u) : 0;
    return NML_OK;
}

nml_status nml_window_init(nml_ctx *ctx, const nml_node *node, const nml_op_params *p, int32_t in_h,
                           int32_t in_w, int32_t filter_h, int32_t filter_w, nml_window *w) {
    if (p->padding != NML_PAD_SAME && p->padding != NML_PAD_VALID)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED, "unknown padding %u",
                               (unsigned)p->padding);
    w->stride_h = p->stride_h;
    w->stride_w = p->stride_w;
    w->dilation_h = p->dilation_h;
    w->dilation_w = p->dilation_w;
    w->filter_h = filter_h;
    w->filter_w = filter_w;
    NML_TRY(window_dim(ctx, node, p->padding, "height", in_h, filter_h, p->stride_h, p->dilation_h,
                       &w->out_h, &w->pad_h));
    NML_TRY(window_dim(ctx, node, p->padding, "width", in_w, filter_w, p->stride_w, p->dilation_w,
                       &w->out_w, &w->pad_w));
    return NML_OK;
}

/* not inlined (LTO would copy it into each caller) */
NML_OUTLINE nml_status nml_check_nhwc(nml_ctx *ctx, const nml_node *node,
                                      const nml_tensor *output, int32_t batches, int32_t out_h,
                                      int32_t out_w, int32_t channels) {
    if (output->rank == 4 && output->dims[0] == batches && output->dims[1] == out_h &&
        output->dims[2] == out_w && output->dims[3] == channels)
        return NML_OK;
    char got[80];
    if (NML_ERROR_DETAIL) nml_format_shape(got, sizeof got, output);
    return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                           "output shape %s does not match the computed %dx%dx%dx%d", got,
                           (int)batches, (int)out_h, (int)out_w, (int)channels);
}

static nml_status unsupported_activation(nml_ctx *ctx, const nml_node *node, int activation) {
    return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                           "fused activation %d is not supported (NONE, RELU, RELU_N1_TO_1, "
                           "RELU6 are)",
                           activation);
}

nml_status nml_activation_range_f32(nml_ctx *ctx, const nml_node *node, int activation, float *lo,
                                    float *hi) {
    switch (activation) {
    case NML_ACT_NONE:
        *lo = -FLT_MAX;
        *hi = FLT_MAX;
        return NML_OK;
    case NML_ACT_RELU:
        *lo = 0.0f;
        *hi = FLT_MAX;
        return NML_OK;
    case NML_ACT_RELU6:
        *lo = 0.0f;
        *hi = 6.0f;
        return NML_OK;
    case NML_ACT_RELU_N1_TO_1:
        *lo = -1.0f;
        *hi = 1.0f;
        return NML_OK;
    default:
        return unsupported_activation(ctx, node, activation);
    }
}

/* TFLite's Quantize() inside CalculateActivationRangeQuantized, without the zero point: the
 * division is done in float and rounded half away from zero (TfLiteRound). Returns 0 when out of
 * int32 range. */
static int quantize_bound(float bound, float scale, int32_t *q) {
    const float v = bound / scale;
    /* -2^31 <= v < 2^31 (not NaN) on the bits: |v| below 2^31 (0x4f000000), or exactly -2^31 */
    const uint32_t bits = nml_f32_bits(v);
    if (!((bits & 0x7fffffffu) < 0x4f000000u || bits == 0xcf000000u)) return 0;
    /* round half away from zero in float alone (no double arithmetic linked for it): t =
     * trunc(v) fits int32 and is a float, and v - t is exact (below 2^24 by Sterbenz's lemma,
     * above it v is an integer, so t +- 1 below stays in int32); equal to the rounding in double
     * for all 2^32 floats (compared exhaustively when this was written) */
    int32_t t = (int32_t)v;
    /* frac in (-1, 1): frac >= 0.5 and frac <= -0.5 on its bits (0.5f is 0x3f000000) */
    const uint32_t frac = nml_f32_bits(v - (float)t);
    if (frac >= 0x3f000000u && frac < 0x80000000u) t++;
    if (frac >= 0xbf000000u) t--;
    *q = t;
    return 1;
}

nml_status nml_activation_range_q(nml_ctx *ctx, const nml_node *node, int activation,
                                  const nml_tensor *output, int32_t qmin, int32_t qmax, int32_t *lo,
                                  int32_t *hi) {
    /* real lower and upper bound of each activation, NO_BOUND where it has none; one loop over
     * the two bounds keeps a single copy of the float rounding */
    enum { NO_BOUND = 127 };
    static const int8_t bounds[4][2] = {
        [NML_ACT_NONE] = {NO_BOUND, NO_BOUND},
        [NML_ACT_RELU] = {0, NO_BOUND},
        [NML_ACT_RELU_N1_TO_1] = {-1, 1},
        [NML_ACT_RELU6] = {0, 6},
    };
    if (activation < 0 || activation > NML_ACT_RELU6)
        return unsupported_activation(ctx, node, activation);
    int32_t q[2] = {qmin, qmax};
    int empty = 0;
    for (int i = 0; i < 2; i++) {
        int32_t r;
        if (bounds[activation][i] == NO_BOUND) continue;
        if (!quantize_bound((float)bounds[activation][i], output->scale, &r))
            return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                                   "activation bound does not fit the output quantization");
        /* with the zero point the bound may pass int32: then, when it narrows the range, it lies
         * beyond the other end too (the range is empty) */
        const int64_t b = (int64_t)r + output->zero_point;
        if (i == 0 ? b > q[0] : b < q[1]) {
            if (b != (int32_t)b) empty = 1;
            q[i] = (int32_t)b;
        }
    }
    if (empty || q[0] > q[1])
        return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                               "fused activation leaves an empty output range (%ld to %ld)",
                               (long)q[0], (long)q[1]);
    *lo = q[0];
    *hi = q[1];
    return NML_OK;
}

/* s > 0 && s <= FLT_MAX (not NaN) on the bits: the positive finite floats are exactly the
 * patterns 0x00000001 .. 0x7f7fffff. */
static int scale_ok(float s) {
    return nml_f32_bits(s) - 1u < 0x7f7fffffu;
}

/* (name)(...): compact-error builds define a macro of the same name (kernel.h) */
nml_status(nml_check_int8_quant)(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                                const char *what) {
    (void)what; /* compact errors: unused */
    return nml_check_quant(ctx, node, t, what);
}

nml_status nml_conv_filter_layout(nml_ctx *ctx, const nml_node *node, const nml_tensor *filter,
                                  int32_t channels, int32_t q_dim) {
    if (filter->n_q == 0)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "filter is int8 but not quantized");
    if (filter->n_q > 1) {
        if (filter->q_dim != q_dim)
            return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                                   "filter is quantized along dimension %d, expected %d",
                                   (int)filter->q_dim, (int)q_dim);
        if ((int64_t)filter->n_q != channels)
            return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                                   "filter has %u per-channel scales for %d output channels",
                                   (unsigned)filter->n_q, (int)channels);
    }
    return NML_OK;
}

nml_status nml_conv_channel_multiplier(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                                       const nml_tensor *filter, const nml_tensor *output,
                                       int32_t c, int32_t *mult, int *exponent) {
    const uint32_t qc = filter->n_q > 1 ? (uint32_t)c : 0u;
    const float fs = nml_tensor_channel_scale(filter, qc);
    const int32_t fz = nml_tensor_channel_zero_point(filter, qc);
    if (!scale_ok(fs))
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "filter scale of channel %d is not > 0",
                               (int)c);
    if (fz != 0)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "filter zero point %d on channel %d: int8 weights must be "
                               "symmetric (zero point 0)",
                               (int)fz, (int)c);
    /* products and quotient in double, as PopulateConvolutionQuantizationParams does */
    const double effective = (double)input->scale * (double)fs / (double)output->scale;
    nml_quantize_multiplier(effective, mult, exponent);
    return NML_OK;
}

/* Validates every channel; stores the tables when m and s are given. */
static nml_status channel_multipliers(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                                      const nml_tensor *filter, const nml_tensor *output,
                                      int32_t channels, int32_t *m, int32_t *s) {
    for (int32_t c = 0; c < channels; c++) {
        int32_t mult;
        int exponent;
        NML_TRY(nml_conv_channel_multiplier(ctx, node, input, filter, output, c, &mult, &exponent));
        if (m) m[c] = mult;
        if (s) s[c] = exponent;
    }
    return NML_OK;
}

nml_status nml_conv_multipliers_check(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                                      const nml_tensor *filter, const nml_tensor *output,
                                      int32_t channels, int32_t q_dim) {
    NML_TRY(nml_conv_filter_layout(ctx, node, filter, channels, q_dim));
    return channel_multipliers(ctx, node, input, filter, output, channels, NULL, NULL);
}

nml_status nml_conv_multipliers(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                                const nml_tensor *filter, const nml_tensor *output,
                                int32_t channels, int32_t q_dim, int32_t **mult, int32_t **shift) {
    NML_TRY(nml_conv_filter_layout(ctx, node, filter, channels, q_dim));
    int32_t *m = nml_ctx_alloc_persistent(ctx, (size_t)channels * sizeof *m);
    int32_t *s = nml_ctx_alloc_persistent(ctx, (size_t)channels * sizeof *s);
    if (!m || !s)
        return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for %d multipliers",
                               (int)channels);
    NML_TRY(channel_multipliers(ctx, node, input, filter, output, channels, m, s));
    *mult = m;
    *shift = s;
    return NML_OK;
}

nml_status nml_check_bias(nml_ctx *ctx, const nml_node *node, const nml_tensor *bias, int type,
                          int32_t channels) {
    NML_TRY(nml_check_type(ctx, node, bias, "bias", type));
    const uint32_t count = nml_tensor_count(bias);
    if ((int64_t)count != channels)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "bias has %u elements, expected %d (one per output channel)",
                               (unsigned)count, (int)channels);
    return NML_OK;
}

nml_status nml_check_accumulator(nml_ctx *ctx, const nml_node *node, int64_t depth,
                                 int32_t input_zero_point, int32_t max_abs_weight) {
    /* the optimized kernels' bound (opt_common.h), one body for both */
    if (depth > 0 && nml_rq_dot_bound(depth, input_zero_point, max_abs_weight) > INT32_MAX)
        return nml_kernel_fail(ctx, node, NML_E_LIMIT,
                               "accumulation depth %lld could overflow the int32 accumulator",
                               (long long)depth);
    return NML_OK;
}

nml_status nml_conv_not_int8(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                             const nml_tensor *filter) {
    return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                           "the int8-only kernel takes int8 input and weights, not %s with %s%s "
                           "(link the full optimized or the reference kernel)",
                           nml_dtype_name(input->type), filter->pack ? "packed " : "",
                           nml_dtype_name(filter->type));
}
