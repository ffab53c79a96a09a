/* Prepare-time tables of the optimized kernels' requantization (see opt_common.h). */
#include "opt_common.h"

#include "conv_common.h"

nml_status nml_rq_alloc(nml_ctx *ctx, const nml_node *node, nml_rq *rq, int32_t n) {
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

int64_t nml_rq_dot_bound(int64_t depth, int32_t input_zp, int32_t max_abs_weight) {
    const int64_t max_x =
        127 - input_zp > input_zp + 128 ? 127 - (int64_t)input_zp : (int64_t)input_zp + 128;
    return depth * max_x * max_abs_weight;
}

static int fits_fast(int32_t mult, int exponent) {
    return mult > 0 && exponent <= 0 && -exponent <= NML_RQ_MAX_RIGHT;
}

/* |bias[c]| + acc_bound < 2^30 for every channel. */
static int accumulators_fit(const nml_tensor *bias, int32_t n, int64_t acc_bound) {
    if (acc_bound >= NML_RQ_ACC_LIMIT) return 0;
    if (!bias) return 1;
    if (bias->alloc != NML_ALLOC_CONST || !bias->data || bias->type != NML_INT32) return 0;
    const int32_t *b = bias->data;
    const uint32_t count = nml_tensor_count(bias);
    for (uint32_t c = 0; c < count && c < (uint32_t)n; c++) {
        const int64_t v = b[c] < 0 ? -(int64_t)b[c] : b[c];
        if (v + acc_bound >= NML_RQ_ACC_LIMIT) return 0;
    }
    return 1;
}

nml_status nml_rq_finish(nml_ctx *ctx, const nml_node *node, nml_rq *rq, int32_t n, int32_t out_zp,
                         int32_t act_min, int32_t act_max, const nml_tensor *bias,
                         int64_t acc_bound) {
    const int32_t entries = rq->step ? n : 1;
    int fast = accumulators_fit(bias, n, acc_bound);
    for (int32_t i = 0; i < entries && fast; i++)
        fast = fits_fast(rq->mult[i], rq->shift[i]);
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

nml_status nml_rq_conv(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                       const nml_tensor *filter, const nml_tensor *output, int32_t channels,
                       int32_t act_min, int32_t act_max, const nml_tensor *bias, int64_t acc_bound,
                       nml_rq *rq) {
    NML_TRY(nml_rq_alloc(ctx, node, rq, channels));
    for (int32_t c = 0; c < channels; c++) {
        int32_t m;
        int e;
        NML_TRY(nml_conv_channel_multiplier(ctx, node, input, filter, output, c, &m, &e));
        nml_rq_set(rq, c, m, e);
    }
    return nml_rq_finish(ctx, node, rq, channels, output->zero_point, act_min, act_max, bias,
                         acc_bound);
}

int8_t nml_rq_slow(const nml_rq *rq, int32_t c, int32_t acc) {
    const int32_t i = c * rq->step;
    const int32_t v = nml_add_wrap(nml_mul_by_qm(acc, rq->mult[i], rq->shift[i]), rq->out_zp);
    return (int8_t)nml_clamp_i32(v, rq->act_min, rq->act_max);
}
