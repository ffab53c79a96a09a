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

static int fits_fast(int32_t mult, int exponent) {
    return mult > 0 && -exponent >= NML_RQ_MIN_RIGHT && -exponent <= NML_RQ_MAX_RIGHT;
}

void nml_rq_finish(nml_rq *rq, int32_t n, int32_t out_zp, int32_t act_min, int32_t act_max) {
    int fast = 1;
    for (int32_t i = 0; i < n && fast; i++)
        fast = fits_fast(rq->mult[i], rq->shift[i]);
    if (fast)
        for (int32_t i = 0; i < n; i++)
            rq->shift[i] = (int8_t)(-rq->shift[i] - NML_RQ_MIN_RIGHT);
    rq->fast = (uint8_t)fast;
    rq->q = 1 + 2 * out_zp;
    rq->out_zp = out_zp;
    rq->act_min = act_min;
    rq->act_max = act_max;
}

nml_status nml_rq_conv(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                       const nml_tensor *filter, const nml_tensor *output, int32_t channels,
                       int32_t act_min, int32_t act_max, nml_rq *rq) {
    NML_TRY(nml_rq_alloc(ctx, node, rq, channels));
    for (int32_t c = 0; c < channels; c++) {
        int32_t m;
        int e;
        NML_TRY(nml_conv_channel_multiplier(ctx, node, input, filter, output, c, &m, &e));
        nml_rq_set(rq, c, m, e);
    }
    nml_rq_finish(rq, channels, output->zero_point, act_min, act_max);
    return NML_OK;
}

int8_t nml_rq_slow(const nml_rq *rq, int32_t c, int32_t acc) {
    const int32_t i = c * rq->step;
    const int32_t v = nml_add_wrap(nml_mul_by_qm(acc, rq->mult[i], rq->shift[i]), rq->out_zp);
    return (int8_t)nml_clamp_i32(v, rq->act_min, rq->act_max);
}
