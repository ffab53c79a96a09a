/* Prepare-time tables of the optimized kernels' requantization (see opt_common.h). */
#include "opt_common.h"

#include "conv_common.h"
#include "outline.h"

/* not inlined: the prepares that call it share one copy (FastestDet --lto: 10 B less) */
NML_OUTLINE nml_status nml_rq_alloc(nml_ctx *ctx, const nml_node *node, nml_rq *rq, int32_t n) {
    rq->mult = nml_ctx_alloc_persistent(ctx, (size_t)n * sizeof *rq->mult);
    rq->shift = nml_ctx_alloc_persistent(ctx, (size_t)n * sizeof *rq->shift);
    if (!rq->mult || !rq->shift)
        return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for %d multipliers", (int)n);
    rq->step = n > 1 ? 1 : 0;
    return NML_OK;
}

void nml_rq_set(nml_rq *rq, int32_t i, int32_t mult, int exponent) {
    rq->mult[i] = mult;
    rq->shift[i] = (int8_t)exponent; /* the multiplier code keeps exponents in [-31, 30] */
}

/* not inlined: LTO copied its 64-bit products into each prepare (FastestDet --lto: 128 B
 * less) */
NML_OUTLINE int64_t nml_rq_dot_bound(int64_t depth, int32_t input_zp, int32_t max_abs_weight) {
    const int64_t max_x =
        127 - input_zp > input_zp + 128 ? 127 - (int64_t)input_zp : (int64_t)input_zp + 128;
    return depth * max_x * max_abs_weight;
}

/* The fast form's 32-bit sum hi = phi + carry + khi - neg (opt_common.h) stays within
 * [-limit - 1, limit] (limit INT32_MAX: it cannot wrap) for any accumulator |acc| <= bound:
 * phi = floor(acc * M2 / 2^32) lies in [-ceil(bound * M2 / 2^32), floor(bound * M2 / 2^32)],
 * the carry and the [acc < 0] term add at most 1 either way. Exact, so layers with large biases
 * (e.g. a dead channel's -2^30) or small multipliers qualify whenever their arithmetic allows
 * it. A zero multiplier (a dead channel's weight scale 0) is exact too: hi >> r is then the
 * zero point, as in the reference. */
static int fits_sum(int32_t mult, int exponent, int32_t out_zp, int64_t bound, int64_t limit) {
    if (mult < 0 || exponent > 0 || exponent < -31 || bound >= ((int64_t)1 << 31)) return 0;
    const int r = -exponent;
    const uint64_t prod = (uint64_t)bound * ((uint64_t)(uint32_t)mult << 1);
    const int64_t khi = r ? (int64_t)(1 + 2 * out_zp) * ((int64_t)1 << (r - 1)) : out_zp;
    const int64_t top = (int64_t)(prod >> 32) + 1 + khi;
    const int64_t bottom = -(int64_t)((prod + 0xffffffffu) >> 32) - 1 + khi;
    return top <= limit && bottom >= -limit - 1;
}

static int fits_fast(int32_t mult, int exponent, int32_t out_zp, int64_t bound) {
    return fits_sum(mult, exponent, out_zp, bound, INT32_MAX);
}

/* The doubled form's sum X + K2 + (neg & -2) (opt_common.h): X is 2 phi or 2 phi + 1 and
 * K2 = 2 khi + 1, so with the fast sum's phi + khi in [-limit, limit - 1] it lies in
 * [-2 limit - 1, 2 limit]; limit 2^30 - 1 keeps it from wrapping. 2 * acc must fit as well
 * (|acc| < 2^30) and r + 1 be a valid shift. A zero multiplier (a dead channel, whose bias may
 * be 2^30) gives X = 0 whatever 2 * acc wraps to, and (K2 + (neg & -2)) >> (r + 1) =
 * (khi - [acc < 0]) >> r, the fast form's result. */
static int fits_doubled(int32_t mult, int exponent, int32_t out_zp, int64_t bound) {
    if (exponent < -30 || (mult != 0 && bound >= ((int64_t)1 << 30))) return 0;
    return fits_sum(mult, exponent, out_zp, mult ? bound : 0, ((int64_t)1 << 30) - 1);
}

/* |bias[c]| of a constant int32 bias (0 without bias); -1 when the bias is not constant. */
static int64_t bias_magnitude(const nml_tensor *bias, int32_t c) {
    if (!bias) return 0;
    if (bias->alloc != NML_ALLOC_CONST || !bias->data || bias->type != NML_INT32) return -1;
    if ((uint32_t)c >= nml_tensor_count(bias)) return 0;
    const int32_t v = ((const int32_t *)bias->data)[c];
    return v < 0 ? -(int64_t)v : v;
}

/* Every channel's bias is constant and its accumulator bound passes fits_doubled (doubled) or
 * fits_fast: one loop for both forms. */
static int all_fit(const nml_rq *rq, int32_t n, int32_t out_zp, const nml_tensor *bias,
                   int64_t acc_bound, int doubled) {
    for (int32_t c = 0; c < n; c++) {
        const int64_t b = bias_magnitude(bias, c);
        const int32_t i = c * rq->step;
        if (b < 0) return 0;
        const int32_t m = rq->mult[i];
        const int e = rq->shift[i];
        if (!(doubled ? fits_doubled(m, e, out_zp, acc_bound + b)
                      : fits_fast(m, e, out_zp, acc_bound + b)))
            return 0;
    }
    return 1;
}

int nml_rq_doubled_fits(const nml_rq *rq, int32_t n, int32_t out_zp, const nml_tensor *bias,
                        int64_t acc_bound) {
    return all_fit(rq, n, out_zp, bias, acc_bound, 1);
}

nml_status nml_rq_finish(nml_ctx *ctx, const nml_node *node, nml_rq *rq, int32_t n, int32_t out_zp,
                         int32_t act_min, int32_t act_max, const nml_tensor *bias,
                         int64_t acc_bound) {
    const int32_t entries = rq->step ? n : 1;
    const int fast = all_fit(rq, n, out_zp, bias, acc_bound, 0);
    rq->out_zp = out_zp;
    rq->act_min = act_min;
    rq->act_max = act_max;
    rq->fast = (uint8_t)fast;
    (void)ctx, (void)node;
    if (!fast) return NML_OK;
    for (int32_t i = 0; i < entries; i++) {
        rq->mult[i] = (int32_t)((uint32_t)rq->mult[i] << 1); /* 2M < 2^32, kept as bits */
        rq->shift[i] = (int8_t)-rq->shift[i];
    }
    return NML_OK;
}

NML_OUTLINE nml_status nml_rq_finish_doubled(nml_ctx *ctx, const nml_node *node, nml_rq *rq,
                                             int32_t n, int32_t out_zp, int32_t act_min,
                                             int32_t act_max, const nml_tensor *bias,
                                             int64_t acc_bound, int doubled_only,
                                             uint8_t *doubled) {
    const int fits = nml_rq_doubled_fits(rq, n, out_zp, bias, acc_bound);
    *doubled = (uint8_t)fits;
    if (!fits && doubled_only) acc_bound = INT64_MAX / 2; /* rules the fast form out */
    return nml_rq_finish(ctx, node, rq, n, out_zp, act_min, act_max, bias, acc_bound);
}

nml_status nml_rq_conv_fill(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                            const nml_tensor *filter, const nml_tensor *output, int32_t channels,
                            nml_rq *rq) {
    NML_TRY(nml_rq_alloc(ctx, node, rq, channels));
    for (int32_t c = 0; c < channels; c++) {
        int32_t m;
        int e;
        NML_TRY(nml_conv_channel_multiplier(ctx, node, input, filter, output, c, &m, &e));
        nml_rq_set(rq, c, m, e);
    }
    return NML_OK;
}

nml_status nml_rq_channels(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                           const nml_tensor *filter, const nml_tensor *output, int32_t channels,
                           int32_t q_dim, nml_rq *rq) {
    NML_TRY(nml_conv_filter_layout(ctx, node, filter, channels, q_dim));
    return nml_rq_conv_fill(ctx, node, input, filter, output, channels, rq);
}

int8_t nml_rq_slow(const nml_rq *rq, int32_t c, int32_t acc) {
    const int32_t i = c * rq->step;
    const int32_t v = nml_mul_by_qm(acc, rq->mult[i], rq->shift[i]);
    return (int8_t)nml_add_zp_clamp(v, rq->out_zp, rq->act_min, rq->act_max);
}
