/* The optimized int8 kernels (src/runtime/kernels/opt_*.c) against the reference kernels, which
 * are the oracle (they match TFLite Micro's reference kernels bit for bit, see
 * test_golden_tflm.c): seeded random shapes, strides, dilations, paddings, zero points,
 * per-tensor and per-channel weights, fused activations and multipliers on both sides of the
 * fast requantization's range; every output byte must be identical. Also checks the fast
 * requantization arithmetic itself against nml_mul_by_qm on edge and random values, and that
 * both kernels reject the same malformed nodes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "kernel_harness.h"
#include "kernels/conv_common.h"
#include "kernels/kernels.h"
#include "kernels/opt_common.h"
#include "qmath.h"
#include "test_rng.h"

static void fill_i8(int8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (int8_t)rnd_in(-128, 127);
}

/* ---- fast requantization ---- */

static int32_t reference_rq(int32_t acc, int32_t m, int e, int32_t zp) {
    return nml_add_wrap(nml_mul_by_qm(acc, m, e), zp);
}

static nml_kh rq_kh; /* a persistent allocator for the tables */

/* Decides the fast form for one multiplier and accumulators up to |bound|; when it is taken,
 * the fast result of acc must equal the reference. Returns whether it was taken. */
static int doubled_taken; /* how often check_rq_bound found the doubled form fit */

/* The doubled form (opt_common.h) wherever nml_rq_doubled_fits takes it for accumulators up to
 * |bound|: the reference's result, with the constants built here from m, e and zp. */
static void check_doubled(const nml_rq *rq, int32_t acc, int64_t bound, int32_t m, int e,
                          int32_t zp) {
    if (!nml_rq_doubled_fits(rq, 1, zp, NULL, bound)) return;
    doubled_taken++;
    const int32_t r = -e;
    const uint32_t khi = r ? (uint32_t)(1 + 2 * zp) << (r - 1) : (uint32_t)zp;
    const uint32_t neg2 = r ? 0xfffffffeu : 0u;
    const int32_t got = nml_rq_apply_doubled(acc, 2u * (uint32_t)m, 1u + 2u * khi, neg2, r + 1);
    const int32_t want = reference_rq(acc, m, e, zp);
    if (got != want)
        fail_msg("acc %d (bound %lld) m %d e %d zp %d: doubled %d, reference %d", (int)acc,
                 (long long)bound, (int)m, e, (int)zp, (int)got, (int)want);
}

static int check_rq_bound(int32_t acc, int64_t bound, int32_t m, int e, int32_t zp) {
    nml_rq rq;
    int32_t mult[1];
    int8_t shift[1];
    rq.mult = mult;
    rq.shift = shift;
    rq.step = 0;
    nml_rq_set(&rq, 0, m, e);
    check_doubled(&rq, acc, bound, m, e, zp);
    assert_int_equal(nml_rq_finish(&rq_kh.ctx, &rq_kh.node, &rq, 1, zp, -128, 127, NULL, bound),
                     NML_OK);
    if (!rq.fast) return 0;
    const int32_t got = nml_rq_apply(acc, nml_rq_channel(&rq, 0));
    const int32_t want = reference_rq(acc, m, e, zp);
    if (got != want)
        fail_msg("acc %d (bound %lld) m %d e %d zp %d: fast %d, reference %d", (int)acc,
                 (long long)bound, (int)m, e, (int)zp, (int)got, (int)want);
    return 1;
}

static int64_t abs64(int32_t v) {
    return v < 0 ? -(int64_t)v : v;
}

/* The range the fast form was first written for (|acc| < 2^30, right shifts up to 23) must
 * always be taken. */
static void check_rq(int32_t acc, int32_t m, int e, int32_t zp) {
    if (!check_rq_bound(acc, abs64(acc), m, e, zp))
        fail_msg("acc %d m %d e %d zp %d: fast form refused", (int)acc, (int)m, e, (int)zp);
}

static void fast_requant_equals_reference(void **state) {
    (void)state;
    kh_init(&rq_kh);
    rng_state = 12345u;
    const int32_t lim = (1 << 30) - 1;
    const int32_t accs[] = {0,    1,       -1,      2,          -2,       lim,
                            -lim, lim - 1, 1 << 29, -(1 << 29), 12345678, -12345678};
    const int32_t mults[] = {1 << 30, (1 << 30) + 1, INT32_MAX, 1518500250, 1073741825};
    for (int e = -23; e <= 0; e++)
        for (size_t a = 0; a < sizeof accs / sizeof accs[0]; a++)
            for (size_t k = 0; k < sizeof mults / sizeof mults[0]; k++)
                for (int32_t zp = -128; zp <= 127; zp += 51)
                    check_rq(accs[a], mults[k], e, zp);
    /* exact ties of both roundings: acc * M / 2^31 = n + 1/2 and s / 2^r = n + 1/2 */
    for (int e = -23; e <= 0; e++)
        for (int32_t acc = -4100; acc <= 4100; acc++)
            check_rq(acc, 1 << 30, e, (int32_t)(acc % 7));
    for (int i = 0; i < 2000000; i++) {
        const int e = -rnd_in(0, 23);
        const int32_t m = (int32_t)((1u << 30) + (rnd() >> 2));
        const int32_t acc = (i & 1) ? (int32_t)(rnd() >> 2) - (1 << 29) * (int32_t)(rnd() & 1)
                                    : rnd_in(-70000, 70000);
        check_rq(acc, m, e, rnd_in(-128, 127));
        if (rq_kh.ctx.persist_used > (1u << 20)) kh_free(&rq_kh), kh_init(&rq_kh);
    }
    /* beyond it: any int32 accumulator bound, right shifts up to 31; wherever the exact
     * no-wrap check takes the fast form, its results must be the reference's, including the
     * extreme accumulators of the bound */
    int taken = 0, refused = 0;
    for (int i = 0; i < 2000000; i++) {
        const int e = -rnd_in(0, 31);
        const int32_t m = i % 97 == 0 ? 0 : (int32_t)((1u << 30) + (rnd() >> 2));
        const int64_t bound =
            (i & 3) == 0 ? (int64_t)(rnd() >> 1) : (int64_t)(rnd() >> rnd_in(1, 31));
        const int32_t zp = rnd_in(-128, 127);
        /* uniform in [-bound, bound], in 64 bits (2 * bound + 1 can exceed INT32_MAX) */
        int32_t acc = (int32_t)((int64_t)(rnd() % (uint64_t)(2 * bound + 1)) - bound);
        if (i % 5 == 0) acc = (int32_t)((i & 8) ? bound : -bound);
        if (check_rq_bound(acc, bound, m, e, zp))
            taken++;
        else
            refused++;
        if (rq_kh.ctx.persist_used > (1u << 20)) kh_free(&rq_kh), kh_init(&rq_kh);
    }
    printf("fast requantization beyond 2^30 / r 23: %d taken, %d refused\n", taken, refused);
    assert_true(taken > 100000 && refused > 10000);
    /* the doubled form: taken on most of the cases above (all of the first 2.2 million), and
     * for a dead channel (multiplier 0) whatever its accumulator, -2^31 and 2^31 - 1 included
     * (shifts up to 21: the rounding constant 1 + (1 + 2 zp) 2^r of larger ones can wrap) */
    printf("doubled requantization: %d taken\n", doubled_taken);
    assert_true(doubled_taken > 2300000);
    const int before = doubled_taken;
    const int32_t dead_accs[] = {INT32_MIN, INT32_MAX, 1 << 30, -(1 << 30), -1, 0, 1};
    for (size_t a = 0; a < sizeof dead_accs / sizeof dead_accs[0]; a++)
        for (int e = -21; e <= 0; e += 3)
            for (int32_t zp = -128; zp <= 127; zp += 85)
                check_rq_bound(dead_accs[a], (int64_t)1 << 31, 0, e, zp);
    assert_int_equal(doubled_taken - before, 7 * 8 * 4);
    /* and refused where it would not be exact: |acc| reaching 2^30, a shift of 31 */
    nml_rq one;
    int32_t one_mult[1];
    int8_t one_shift[1];
    one.mult = one_mult, one.shift = one_shift, one.step = 0;
    nml_rq_set(&one, 0, 1 << 30, -5);
    assert_true(nml_rq_doubled_fits(&one, 1, 0, NULL, (1 << 30) - 1));
    assert_false(nml_rq_doubled_fits(&one, 1, 0, NULL, 1 << 30));
    nml_rq_set(&one, 0, 1 << 30, -31);
    assert_false(nml_rq_doubled_fits(&one, 1, 0, NULL, 10));
    kh_free(&rq_kh);
}

static void fast_requant_range_is_decided_per_layer(void **state) {
    (void)state;
    int32_t mult[3];
    int8_t shift[3];
    nml_rq rq = {mult, shift, 1, 0, -128, 127, 0};
    nml_kh h;
    kh_init(&h);
    nml_rq_set(&rq, 0, 1 << 30, -5);
    nml_rq_set(&rq, 1, 1 << 30, 1); /* multiplier 1: a left shift, outside the fast range */
    nml_rq_set(&rq, 2, 1 << 30, -7);
    assert_int_equal(nml_rq_finish(&h.ctx, &h.node, &rq, 3, 3, -128, 127, NULL, 1000), NML_OK);
    assert_false(rq.fast);
    /* the slow path is the reference arithmetic: channel 1 is 1000 * 0.5 * 2^1 = 1000, + zp 3,
     * clamped to 127; channel 0 is SRDHM(1000, 2^30) = 500, 500 / 2^5 = 15.625 -> 16, + 3 =
     * 19 */
    assert_int_equal(nml_rq_slow(&rq, 1, 1000), 127);
    assert_int_equal(nml_rq_slow(&rq, 0, 1000), 19);
    /* a dead channel's bias of -2^30 (FastestDet's first layer) with multiplier 0.5 * 2^-5:
     * hi = acc * 2^31 / 2^32 + (1 + 2 * 3) * 2^4 stays far inside int32: fast */
    const int32_t big[3] = {0, -(1 << 30), 5};
    int tb = kh_tensor(&h, NML_INT32, 1, (const int32_t[]){3}, (void *)big, 0, 0);
    kh_const(&h, tb);
    nml_rq_set(&rq, 1, 1 << 30, -1);
    assert_int_equal(nml_rq_finish(&h.ctx, &h.node, &rq, 3, 3, -128, 127, &h.tensors[tb], 1000),
                     NML_OK);
    assert_true(rq.fast);
    /* -2^30 * 0.5 * 2^-1 = -2^28, + 3 */
    assert_int_equal(nml_rq_apply(-(1 << 30), nml_rq_channel(&rq, 1)), -(1 << 28) + 3);
    /* a dead channel's zero multiplier: the output is the zero point, at any shift (finish
     * rewrote the table: set every entry again) */
    nml_rq_set(&rq, 0, 1 << 30, -5);
    nml_rq_set(&rq, 1, 0, 0);
    nml_rq_set(&rq, 2, 0, -9);
    assert_int_equal(nml_rq_finish(&h.ctx, &h.node, &rq, 3, 3, -128, 127, &h.tensors[tb], 1000),
                     NML_OK);
    assert_true(rq.fast);
    for (int32_t acc = -(1 << 30) - 1000; acc <= -(1 << 30) + 1000; acc += 7)
        assert_int_equal(nml_rq_apply(acc, nml_rq_channel(&rq, 1)), 3);
    for (int32_t acc = -1000; acc <= 1000; acc++)
        assert_int_equal(nml_rq_apply(acc, nml_rq_channel(&rq, 2)), 3);
    assert_int_equal(reference_rq(-12345, 0, -9, 3), 3);
    /* but the accumulator must fit int32: bias 2^30 + dot bound 2^30 does not */
    nml_rq_set(&rq, 0, 1 << 30, -5);
    nml_rq_set(&rq, 1, 1 << 30, -1);
    nml_rq_set(&rq, 2, 1 << 30, -7);
    assert_int_equal(nml_rq_finish(&h.ctx, &h.node, &rq, 3, 3, -128, 127, &h.tensors[tb], 1 << 30),
                     NML_OK);
    assert_false(rq.fast);
    /* r = 31 with zp 127: the rounding constant 255 * 2^30 alone wraps int32 */
    nml_rq_set(&rq, 0, 1 << 30, -31);
    nml_rq_set(&rq, 1, 1 << 30, -1);
    nml_rq_set(&rq, 2, 1 << 30, -7);
    assert_int_equal(nml_rq_finish(&h.ctx, &h.node, &rq, 3, 127, -128, 127, NULL, 10), NML_OK);
    assert_false(rq.fast);
    /* the same with zp 0: 2^30 fits, fast */
    nml_rq_set(&rq, 0, 1 << 30, -31);
    nml_rq_set(&rq, 1, 1 << 30, -1);
    nml_rq_set(&rq, 2, 1 << 30, -7);
    assert_int_equal(nml_rq_finish(&h.ctx, &h.node, &rq, 3, 0, -128, 127, NULL, 10), NML_OK);
    assert_true(rq.fast);
    nml_rq_set(&rq, 0, 1 << 30, -5);
    nml_rq_set(&rq, 1, 1 << 30, -1);
    nml_rq_set(&rq, 2, 1 << 30, -7);
    assert_int_equal(nml_rq_finish(&h.ctx, &h.node, &rq, 3, 3, -128, 127, NULL, 1000), NML_OK);
    assert_true(rq.fast);
    assert_int_equal(nml_rq_apply(1000, nml_rq_channel(&rq, 0)), 19);
    kh_free(&h);
}

/* ---- random layers ---- */

typedef struct layer {
    int32_t batches, h, w, c, out_c, kh, kw, groups;
    int32_t stride_h, stride_w, dil_h, dil_w, padding, activation;
    int32_t in_zp, out_zp, per_channel, has_bias, depth_multiplier;
    float in_scale, out_scale;
} layer;

/* 2^e for small integer e */
static float pow2f(int32_t e) {
    float s = 1.0f;
    for (int32_t i = 0; i < (e < 0 ? -e : e); i++)
        s = e < 0 ? s * 0.5f : s * 2.0f;
    return s;
}

/* Weight scale giving the effective multiplier in_scale * w_scale / out_scale = m. */
static float weight_scale_for(const layer *L, float m) {
    return m * L->out_scale / L->in_scale;
}

static int32_t activation_of(uint32_t r) {
    static const int32_t acts[] = {NML_ACT_NONE, NML_ACT_RELU, NML_ACT_RELU6, NML_ACT_RELU_N1_TO_1};
    return acts[r % 4];
}

static int32_t out_size(int32_t in, int32_t k, int32_t stride, int32_t dil, int32_t padding) {
    const int32_t eff = (k - 1) * dil + 1;
    if (padding == NML_PAD_SAME) return (in + stride - 1) / stride;
    return in >= eff ? (in - eff + stride) / stride : 0;
}

typedef struct run_result {
    nml_status st;
    char msg[NML_ERROR_MSG_MAX];
} run_result;

/* Runs kernel k on the given tensors (fresh harness), output into out. */
static run_result run_conv_like(const nml_kernel *k, const layer *L, const nml_op_params *p,
                                const int32_t *in_dims, int8_t *in, const int32_t *w_dims,
                                int8_t *w, int32_t w_q_dim, const float *w_scales, int32_t *bias,
                                const int32_t *out_dims, int8_t *out) {
    nml_kh h;
    kh_init(&h);
    const int32_t n_q = w_dims[w_q_dim];
    int ti = kh_tensor(&h, NML_INT8, 4, in_dims, in, L->in_scale, L->in_zp);
    int tw = kh_tensor(&h, NML_INT8, 4, w_dims, w, w_scales[0], 0);
    kh_const(&h, tw);
    if (L->per_channel) kh_per_channel(&h, tw, w_scales, NULL, (uint32_t)n_q, w_q_dim);
    int tb = -1;
    if (L->has_bias) {
        tb = kh_tensor(&h, NML_INT32, 1, (const int32_t[]){n_q}, bias, 0, 0);
        kh_const(&h, tb);
    }
    int to = kh_tensor(&h, NML_INT8, 4, out_dims, out, L->out_scale, L->out_zp);
    if (L->has_bias)
        kh_inputs(&h, 3, ti, tw, tb);
    else
        kh_inputs(&h, 2, ti, tw);
    kh_outputs(&h, 1, to);
    run_result r;
    r.st = kh_run(&h, k, p);
    snprintf(r.msg, sizeof r.msg, "%s", h.err.msg);
    kh_free(&h);
    return r;
}

static void compare_outputs(const char *what, int iter, const layer *L, const int8_t *ref,
                            const int8_t *opt, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (ref[i] != opt[i])
            fail_msg("%s case %d: output %zu differs (reference %d, optimized %d); batches %d "
                     "in %dx%dx%d out_c %d filter %dx%d groups %d stride %d,%d dilation %d,%d "
                     "padding %d act %d zp in %d out %d per_channel %d bias %d",
                     what, iter, i, ref[i], opt[i], (int)L->batches, (int)L->h, (int)L->w,
                     (int)L->c, (int)L->out_c, (int)L->kh, (int)L->kw, (int)L->groups,
                     (int)L->stride_h, (int)L->stride_w, (int)L->dil_h, (int)L->dil_w,
                     (int)L->padding, (int)L->activation, (int)L->in_zp, (int)L->out_zp,
                     (int)L->per_channel, (int)L->has_bias);
    }
}

static void random_common(layer *L) {
    L->padding = (rnd() & 1) ? NML_PAD_SAME : NML_PAD_VALID;
    L->activation = activation_of(rnd());
    L->in_zp = rnd_in(-128, 127);
    L->out_zp = rnd_in(-128, 127);
    L->per_channel = (int32_t)(rnd() % 3 != 0);
    L->has_bias = (int32_t)(rnd() % 4 != 0);
    L->in_scale = rnd_scale(0.001f, 0.1f);
    L->out_scale = rnd_scale(0.001f, 0.1f);
}

/* Weights, scales and bias for output dots of `depth` products. Three kinds of layers:
 * calibrated (outputs mostly inside the int8 range, so every accumulator unit can move an
 * output near a rounding tie), small weights with multipliers up to 1/4 (one accumulator unit
 * is a large fraction of an output step) and extreme multipliers (2^-26 .. 2, both
 * requantization paths and saturation). */
static void random_weights(const layer *L, int8_t *w, size_t n, float *scales, int32_t n_q,
                           int32_t *bias, int32_t depth) {
    const uint32_t kind = rnd() % 3;
    float sd = 1.0f;
    for (int32_t k = 1; k * k < depth; k++)
        sd = (float)(k + 1); /* ~ sqrt(depth) */
    fill_i8(w, n);
    if (kind == 1)
        for (size_t i = 0; i < n; i++)
            w[i] = (int8_t)rnd_in(-4, 4);
    else if (rnd() % 8 == 0) /* saturated weights stress the accumulators */
        for (size_t i = 0; i < n; i++)
            w[i] = (rnd() & 1) ? 127 : -128;
    const float typical = kind == 1 ? sd * 2.6f * 74.0f : sd * 74.0f * 74.0f;
    for (int32_t i = 0; i < n_q; i++) {
        float m;
        if (kind == 2)
            m = pow2f(rnd_in(-26, 1)) * rnd_scale(0.5f, 1.0f);
        else
            m = 60.0f / typical * pow2f(rnd_in(-2, 2)) * rnd_scale(0.5f, 1.0f);
        if (m > 0.25f && kind == 1) m = 0.25f * rnd_scale(0.5f, 1.0f);
        scales[i] = weight_scale_for(L, m);
        if (!L->per_channel) {
            for (int32_t k = 1; k < n_q; k++)
                scales[k] = scales[0];
            break;
        }
    }
    const int32_t t = (int32_t)typical;
    for (int32_t i = 0; i < n_q; i++)
        bias[i] = rnd() % 16 == 0 ? (int32_t)rnd() : rnd_in(-t, t);
    /* a dead channel as the quantizer writes it (FastestDet's first layer): a weight scale too
     * small for a multiplier (0) and a bias of +-2^30 */
    if (L->per_channel && rnd() % 6 == 0) {
        const int32_t d = rnd_in(0, n_q - 1);
        scales[d] = 1e-30f;
        bias[d] = (rnd() & 1) ? -(1 << 30) : (1 << 30);
    }
}

static int random_conv(layer *L) {
    L->batches = rnd_in(1, 2);
    L->h = rnd_in(1, 11);
    L->w = rnd_in(1, 11);
    L->kh = rnd_in(1, 5);
    L->kw = rnd_in(1, 5);
    if (rnd() % 3 == 0) L->kh = L->kw = 1; /* pointwise layers: the GEMM case */
    L->stride_h = rnd_in(1, 3);
    L->stride_w = rnd_in(1, 3);
    L->dil_h = rnd() % 4 == 0 ? rnd_in(2, 3) : 1;
    L->dil_w = rnd() % 4 == 0 ? rnd_in(2, 3) : 1;
    L->groups = rnd() % 10 == 0 ? rnd_in(2, 3) : 1;
    L->c = rnd_in(1, 19) * L->groups;
    L->out_c = rnd_in(1, 13) * L->groups;
    L->depth_multiplier = 1;
    random_common(L);
    return out_size(L->h, L->kh, L->stride_h, L->dil_h, L->padding) > 0 &&
           out_size(L->w, L->kw, L->stride_w, L->dil_w, L->padding) > 0;
}

/* One layer L (random inputs, weights and quantization): the optimized kernel and its
 * int8-only variant against the reference. Returns 1 when the reference ran (some fused
 * activation ranges are empty for random output quantizations and are rejected by all). */
static int lean_compared; /* layers the lean variants evaluated (compared) */
static int conv_w_fill;   /* nonzero: every weight of the next layers this value */
static int c1_compared;   /* 5-wide one-channel layers the lean c1 variant evaluated */

static int compare_random_conv(const layer *Lp, int iter) {
    layer L = *Lp;
    const int32_t oh = out_size(L.h, L.kh, L.stride_h, L.dil_h, L.padding);
    const int32_t ow = out_size(L.w, L.kw, L.stride_w, L.dil_w, L.padding);
    const int32_t in_dims[4] = {L.batches, L.h, L.w, L.c};
    const int32_t w_dims[4] = {L.out_c, L.kh, L.kw, L.c / L.groups};
    const int32_t out_dims[4] = {L.batches, oh, ow, L.out_c};
    const size_t n_in = (size_t)L.batches * L.h * L.w * L.c;
    const size_t n_w = (size_t)L.out_c * L.kh * L.kw * (L.c / L.groups);
    const size_t n_out = (size_t)L.batches * oh * ow * L.out_c;
    int8_t *in = nml_test_alloc16(n_in), *w = nml_test_alloc16(n_w);
    int8_t *ref = nml_test_alloc16(n_out), *opt = nml_test_alloc16(n_out);
    float *scales = malloc((size_t)L.out_c * sizeof *scales);
    int32_t *bias = malloc((size_t)L.out_c * sizeof *bias);
    fill_i8(in, n_in);
    random_weights(&L, w, n_w, scales, L.out_c, bias, L.kh * L.kw * (L.c / L.groups));
    if (conv_w_fill) memset(w, (uint8_t)conv_w_fill, n_w);
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = (uint8_t)L.padding;
    p.activation = (uint8_t)L.activation;
    p.stride_h = L.stride_h;
    p.stride_w = L.stride_w;
    p.dilation_h = L.dil_h;
    p.dilation_w = L.dil_w;
    memset(ref, 0x55, n_out);
    memset(opt, 0x2a, n_out);
    run_result a = run_conv_like(&nml_kernel_conv_2d, &L, &p, in_dims, in, w_dims, w, 0, scales,
                                 bias, out_dims, ref);
    run_result b = run_conv_like(&nml_kernel_conv_2d_opt, &L, &p, in_dims, in, w_dims, w, 0, scales,
                                 bias, out_dims, opt);
    if (a.st != b.st || strcmp(a.msg, b.msg) != 0)
        fail_msg("case %d: reference '%s' (%d), optimized '%s' (%d)", iter, a.msg, a.st, b.msg,
                 b.st);
    if (a.st == NML_OK) compare_outputs("CONV_2D", iter, &L, ref, opt, n_out);
    /* the int8-only variant: the same, except that it rejects grouped convolution */
    memset(opt, 0x2a, n_out);
    run_result c = run_conv_like(&nml_kernel_conv_2d_opt_int8, &L, &p, in_dims, in, w_dims, w, 0,
                                 scales, bias, out_dims, opt);
    if (a.st == NML_OK && L.groups > 1) {
        assert_int_equal(c.st, NML_E_UNSUPPORTED);
        assert_non_null(strstr(c.msg, "grouped"));
    } else {
        if (a.st != c.st || strcmp(a.msg, c.msg) != 0)
            fail_msg("case %d: reference '%s', int8-only '%s'", iter, a.msg, c.msg);
        if (a.st == NML_OK) compare_outputs("CONV_2D int8-only", iter, &L, ref, opt, n_out);
    }
    /* the lean variant: the same where it accepts the layer (int8, not grouped, fast
     * requantization, at least 8 channels or a multiple of 8 output pixels), else it rejects
     * it at prepare */
    /* blocks: a multiple of 8 pixels whose 8 windows fit the 8 KB cap of opt_conv_2d.c */
    const int32_t depth = L.kh * L.kw * (L.c / L.groups);
    const int whole = ((L.batches * oh * ow) % 8 == 0 && 8 * depth <= 8192) || L.out_c >= 8;
    /* 5-wide filters over one input channel at stride 1 (blocks: at least 8 pixels): the lean
     * variant refuses them, its c1 variant takes them */
    const int c1 = L.c == 1 && L.kw == 5 && L.stride_w == 1 && L.dil_w == 1 && L.groups == 1 &&
                   L.batches * oh * ow >= 8;
    const nml_kernel *leans[2] = {&nml_kernel_conv_2d_opt_lean, &nml_kernel_conv_2d_opt_lean_c1};
    for (int v = 0; v < 2; v++) {
        memset(opt, 0x2a, n_out);
        run_result e =
            run_conv_like(leans[v], &L, &p, in_dims, in, w_dims, w, 0, scales, bias, out_dims, opt);
        if (a.st == NML_OK && (L.groups > 1 || !whole)) {
            assert_int_equal(e.st, NML_E_UNSUPPORTED);
        } else if (e.st == NML_E_UNSUPPORTED && a.st == NML_OK) {
            /* the c1 variant takes every layer the lean one does */
            assert_non_null(strstr(e.msg, "fast requantization"));
            if (v == 0 && !c1 && strstr(e.msg, "CONV_2D") == NULL)
                fail_msg("case %d: lean refusal without the operator: '%s'", iter, e.msg);
        } else {
            if (a.st != e.st || strcmp(a.msg, e.msg) != 0)
                fail_msg("case %d: reference '%s', lean variant %d '%s'", iter, a.msg, v, e.msg);
            if (v == 0 && c1 && a.st == NML_OK)
                fail_msg("case %d: the lean variant took a 5-wide one-channel layer", iter);
            if (a.st == NML_OK) {
                compare_outputs(v ? "CONV_2D lean c1" : "CONV_2D lean", iter, &L, ref, opt, n_out);
                lean_compared++;
                c1_compared += v && c1;
            }
        }
    }
    free(in), free(w), free(ref), free(opt), free(scales), free(bias);
    return a.st == NML_OK;
}

static void conv_matches_reference(void **state) {
    (void)state;
    rng_state = 0xC0417u;
    int cases = 0, ran = 0;
    for (int iter = 0; cases < 1500; iter++) {
        layer L;
        if (!random_conv(&L)) continue;
        cases++;
        ran += compare_random_conv(&L, iter);
    }
    /* the comparison must have run on nearly all cases (some fused activation ranges are
     * empty for random output quantizations and are rejected by both) */
    printf("CONV_2D: %d of %d random layers compared\n", ran, cases);
    assert_true(ran > cases * 8 / 10);
}

/* Shallow inputs (depth 1..8) over maps large enough for the 8-pixel blocks to lie inside the
 * input, span two output rows and meet the borders (SAME padding, strides, dilation), output
 * channel counts odd and even from 1 (a one-channel layer computes its pair twice), pixel
 * counts below 8 and with tails of 1..7 pixels (the int16 single-pixel path), and every kind
 * of requantization random_weights draws (the slow reference arithmetic included). */
static void conv_shallow_matches_reference(void **state) {
    (void)state;
    rng_state = 0x5A110u;
    int cases = 0, ran = 0, few = 0, tails = 0, inside = 0;
    lean_compared = 0;
    for (int iter = 0; cases < 600; iter++) {
        layer L;
        memset(&L, 0, sizeof L);
        L.batches = rnd_in(1, 2);
        L.kh = rnd_in(1, 5);
        L.kw = rnd_in(1, 5);
        L.stride_h = rnd_in(1, 2);
        L.stride_w = rnd_in(1, 3);
        L.dil_h = rnd() % 6 == 0 ? 2 : 1;
        L.dil_w = rnd() % 6 == 0 ? 2 : 1;
        const uint32_t size = rnd() % 4; /* 0: a few output pixels, else up to ~24x24 */
        L.h = size == 0 ? rnd_in(1, 6) : rnd_in(4, 26);
        L.w = size == 0 ? rnd_in(1, 6) : rnd_in(4, 26);
        L.groups = 1;
        L.c = rnd_in(1, 8);
        L.out_c = rnd() % 5 == 0 ? rnd_in(1, 3) : rnd_in(1, 19);
        L.depth_multiplier = 1;
        random_common(&L);
        const int32_t oh = out_size(L.h, L.kh, L.stride_h, L.dil_h, L.padding);
        const int32_t ow = out_size(L.w, L.kw, L.stride_w, L.dil_w, L.padding);
        if (oh <= 0 || ow <= 0) continue;
        cases++;
        const int32_t total = L.batches * oh * ow;
        few += total < 8;
        tails += total >= 8 && total % 8 != 0;
        inside += ow > 8 && L.padding == NML_PAD_VALID && L.dil_w == 1;
        ran += compare_random_conv(&L, iter);
    }
    printf("CONV_2D shallow: %d of %d compared (%d under 8 pixels, %d with tails, %d with "
           "blocks inside the input, %d by the lean variant)\n",
           ran, cases, few, tails, inside, lean_compared);
    assert_true(lean_compared > 50);
    assert_true(ran > cases * 8 / 10);
    assert_true(few > 50 && tails > 200 && inside > 50);
}

/* Shallow pointwise layers (1x1, stride 1, depth 8 or 16: opt_conv_2d.c's shallow_pairs under
 * ReLU and ReLU6, pair by pair over blocks of 8 pixels read in place, requantized with a sign
 * test), with the other activations (the blocks), odd and even channel counts, tails of 1..7
 * pixels, two batches and every kind of requantization random_weights draws. */
static void conv_shallow_pointwise_matches_reference(void **state) {
    (void)state;
    rng_state = 0x5A1F0u;
    int cases = 0, ran = 0, shallow = 0;
    for (int iter = 0; cases < 400; iter++) {
        layer L;
        memset(&L, 0, sizeof L);
        L.batches = rnd_in(1, 2);
        L.kh = L.kw = 1;
        L.stride_h = L.stride_w = 1;
        L.dil_h = L.dil_w = 1;
        L.h = rnd_in(1, 9);
        L.w = rnd_in(1, 13);
        L.groups = 1;
        L.c = rnd() % 2 ? 8 : 16;
        L.out_c = rnd() % 4 == 0 ? rnd_in(1, 3) : rnd_in(2, 40);
        L.depth_multiplier = 1;
        random_common(&L);
        if (rnd() % 3 != 0) L.activation = rnd() % 2 ? NML_ACT_RELU : NML_ACT_RELU6;
        cases++;
        const int r = compare_random_conv(&L, iter);
        ran += r;
        shallow += r && L.out_c > 1 && L.batches * L.h * L.w >= 8 &&
                   (L.activation == NML_ACT_RELU || L.activation == NML_ACT_RELU6);
    }
    printf("CONV_2D shallow pointwise: %d of %d compared (%d ReLU-like of at least 8 pixels and "
           "2 channels)\n",
           ran, cases, shallow);
    assert_true(ran > cases * 8 / 10);
    assert_true(shallow > 150);
}

/* 5-wide filters over one input channel at stride 1 along x (opt_conv_2d.c's c1_block: the
 * blocks inside one output row, windows read in place with rotating registers), with blocks
 * that span two rows or meet the padding, vertical strides and dilation, both paddings, widths
 * from 5 and channel counts from 2. */
static void conv_c1_rows_match_reference(void **state) {
    (void)state;
    rng_state = 0xC1C1u;
    int cases = 0, ran = 0;
    c1_compared = 0;
    for (int iter = 0; cases < 300; iter++) {
        layer L;
        memset(&L, 0, sizeof L);
        L.batches = rnd_in(1, 2);
        L.kh = rnd_in(1, 6);
        L.kw = 5;
        L.stride_h = rnd_in(1, 2);
        L.stride_w = 1;
        L.dil_h = rnd() % 4 == 0 ? 2 : 1;
        L.dil_w = 1;
        L.h = rnd_in(4, 20);
        L.w = rnd_in(5, 40);
        L.groups = 1;
        L.c = 1;
        L.out_c = rnd_in(2, 9);
        L.depth_multiplier = 1;
        random_common(&L);
        const int32_t oh = out_size(L.h, L.kh, L.stride_h, L.dil_h, L.padding);
        const int32_t ow = out_size(L.w, L.kw, L.stride_w, L.dil_w, L.padding);
        if (oh <= 0 || ow <= 0) continue;
        cases++;
        ran += compare_random_conv(&L, iter);
    }
    printf("CONV_2D 5-wide one-channel: %d of %d compared (%d by the lean c1 variant)\n", ran,
           cases, c1_compared);
    assert_true(ran > cases * 8 / 10);
    assert_true(c1_compared > 100);
}

/* Deep layers (depth around the 8 KB cap of a block's eight windows, 1024 bytes each): above
 * it they go pixel by pixel with one window of scratch; small maps, channel counts from 1. */
static void conv_deep_matches_reference(void **state) {
    (void)state;
    rng_state = 0xDEE9u;
    int cases = 0, ran = 0, capped = 0;
    for (int iter = 0; cases < 60; iter++) {
        layer L;
        memset(&L, 0, sizeof L);
        L.batches = 1;
        L.kh = L.kw = rnd() % 2 ? 3 : 1;
        if (rnd() % 4 == 0) L.kw = 2;
        L.stride_h = rnd() % 4 ? 1 : 2;
        L.stride_w = rnd() % 4 ? 1 : 2;
        L.dil_h = L.dil_w = 1;
        L.h = rnd_in(1, 7);
        L.w = rnd_in(2, 7);
        L.groups = 1;
        L.c = L.kh * L.kw == 1 ? rnd_in(900, 1400) : rnd_in(100, 180);
        L.out_c = rnd() % 3 == 0 ? rnd_in(1, 3) : rnd_in(1, 12);
        L.depth_multiplier = 1;
        random_common(&L);
        const int32_t oh = out_size(L.h, L.kh, L.stride_h, L.dil_h, L.padding);
        const int32_t ow = out_size(L.w, L.kw, L.stride_w, L.dil_w, L.padding);
        if (oh <= 0 || ow <= 0) continue;
        cases++;
        capped += 8 * L.kh * L.kw * L.c > 8192 && oh * ow >= 8;
        ran += compare_random_conv(&L, iter);
    }
    printf("CONV_2D deep: %d of %d compared (%d of at least 8 pixels above the cap)\n", ran,
           cases, capped);
    assert_true(ran > cases * 7 / 10);
    assert_true(capped > 10);
}

/* The blocks' folded biases sum each channel's weights in two 16-bit lanes of unsigned bytes
 * (w + 128) where the depth is a multiple of 8 up to 512, bytes one by one otherwise: layers
 * of at least 8 pixels whose weights are all 127 (255 per byte: the largest lane sums) or all
 * -128 (0), depths on both sides of 512, up to the blocks' 1024, and ones not a multiple of 8. */
static void conv_weight_sums_match_reference(void **state) {
    (void)state;
    rng_state = 0x5E135u;
    const int32_t depths[] = {8, 16, 24, 96, 336, 504, 512, 520, 768, 1016, 1024, 100, 513, 1020};
    int cases = 0, ran = 0;
    for (int iter = 0; iter < 3 * (int)(sizeof depths / sizeof depths[0]); iter++) {
        layer L;
        memset(&L, 0, sizeof L);
        L.batches = 1;
        L.kh = L.kw = 1;
        L.stride_h = L.stride_w = L.dil_h = L.dil_w = 1;
        L.h = rnd_in(1, 3);
        L.w = 8;
        L.groups = 1;
        L.c = depths[iter / 3];
        L.out_c = rnd_in(1, 6);
        L.depth_multiplier = 1;
        random_common(&L);
        conv_w_fill = iter % 3 == 0 ? 127 : iter % 3 == 1 ? -128 : 0;
        cases++;
        ran += compare_random_conv(&L, iter);
    }
    conv_w_fill = 0;
    printf("CONV_2D weight sums: %d of %d compared\n", ran, cases);
    assert_true(ran > cases * 7 / 10);
}

static int random_dw(layer *L) {
    L->batches = rnd_in(1, 2);
    L->h = rnd_in(1, 12);
    L->w = rnd_in(1, 12);
    L->kh = rnd_in(1, 5);
    L->kw = rnd_in(1, 5);
    if (rnd() % 2 == 0) L->kh = L->kw = 3; /* the specialized 3x3 path */
    L->stride_h = rnd_in(1, 3);
    L->stride_w = rnd() % 2 ? rnd_in(1, 2) : rnd_in(1, 3);
    L->dil_h = rnd() % 5 == 0 ? rnd_in(2, 3) : 1;
    L->dil_w = rnd() % 5 == 0 ? rnd_in(2, 3) : 1;
    L->groups = 1;
    L->c = rnd_in(1, 13);
    L->depth_multiplier = rnd() % 3 == 0 ? rnd_in(2, 9) : 1;
    L->out_c = L->c * L->depth_multiplier;
    random_common(L);
    return out_size(L->h, L->kh, L->stride_h, L->dil_h, L->padding) > 0 &&
           out_size(L->w, L->kw, L->stride_w, L->dil_w, L->padding) > 0;
}


/* A 3x3 depthwise layer of depth multiplier 1 without dilation, the rows path's shape (the
 * quantization and padding from random_common). */
static layer dw3x3_layer(int32_t batches, int32_t h, int32_t w, int32_t stride, int32_t c) {
    layer L;
    L.batches = batches, L.h = h, L.w = w, L.c = L.out_c = c;
    L.kh = L.kw = 3;
    L.stride_h = L.stride_w = stride;
    L.dil_h = L.dil_w = 1;
    L.groups = 1;
    L.depth_multiplier = 1;
    return L;
}
/* One random depthwise layer: the optimized kernel, its int8-only and its planes variants
 * against the reference. Forces a multiplier in [1/2, 1) (no right shift) on one channel when
 * half_mult. Returns 1 when the layer ran (2 when the planes variant also accepted it). */
static int rows_accepted; /* layers the rows variant evaluated (compare_dw_case) */
static int five_accepted; /* layers the rows5 variant evaluated with its 5-wide planes */

static int compare_dw_case(layer *L, int iter, int half_mult) {
    const int32_t oh = out_size(L->h, L->kh, L->stride_h, L->dil_h, L->padding);
    const int32_t ow = out_size(L->w, L->kw, L->stride_w, L->dil_w, L->padding);
    const int32_t in_dims[4] = {L->batches, L->h, L->w, L->c};
    const int32_t w_dims[4] = {1, L->kh, L->kw, L->out_c};
    const int32_t out_dims[4] = {L->batches, oh, ow, L->out_c};
    const size_t n_in = (size_t)L->batches * L->h * L->w * L->c;
    const size_t n_w = (size_t)L->kh * L->kw * L->out_c;
    const size_t n_out = (size_t)L->batches * oh * ow * L->out_c;
    int8_t *in = nml_test_alloc16(n_in), *w = nml_test_alloc16(n_w);
    int8_t *ref = nml_test_alloc16(n_out), *opt = nml_test_alloc16(n_out);
    float *scales = malloc((size_t)L->out_c * sizeof *scales);
    int32_t *bias = malloc((size_t)L->out_c * sizeof *bias);
    fill_i8(in, n_in);
    random_weights(L, w, n_w, scales, L->out_c, bias, L->kh * L->kw);
    if (half_mult && L->per_channel)
        scales[rnd_in(0, L->out_c - 1)] = weight_scale_for(L, rnd_scale(0.5f, 0.99f));
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = (uint8_t)L->padding;
    p.activation = (uint8_t)L->activation;
    p.stride_h = L->stride_h;
    p.stride_w = L->stride_w;
    p.dilation_h = L->dil_h;
    p.dilation_w = L->dil_w;
    p.depth_multiplier = L->depth_multiplier;
    memset(ref, 0x55, n_out);
    memset(opt, 0x2a, n_out);
    int result = 0;
    run_result a = run_conv_like(&nml_kernel_depthwise_conv_2d, L, &p, in_dims, in, w_dims, w, 3,
                                 scales, bias, out_dims, ref);
    run_result b = run_conv_like(&nml_kernel_depthwise_conv_2d_opt, L, &p, in_dims, in, w_dims, w,
                                 3, scales, bias, out_dims, opt);
    if (a.st != b.st || strcmp(a.msg, b.msg) != 0)
        fail_msg("case %d: reference '%s' (%d), optimized '%s' (%d)", iter, a.msg, a.st, b.msg,
                 b.st);
    if (a.st == NML_OK) {
        compare_outputs("DEPTHWISE_CONV_2D", iter, L, ref, opt, n_out);
        result = 1;
    }
    memset(opt, 0x2a, n_out);
    run_result c = run_conv_like(&nml_kernel_depthwise_conv_2d_opt_int8, L, &p, in_dims, in,
                                 w_dims, w, 3, scales, bias, out_dims, opt);
    if (a.st != c.st || strcmp(a.msg, c.msg) != 0)
        fail_msg("case %d: reference '%s', int8-only '%s'", iter, a.msg, c.msg);
    if (a.st == NML_OK)
        compare_outputs("DEPTHWISE_CONV_2D int8-only", iter, L, ref, opt, n_out);
    /* the planes variant: the same where it accepts the node, which it must for depth
     * multiplier 1 and for 3x3 windows with stride 1 or 2 along x and no dilation (these
     * planes are small); it rejects other depth multipliers > 1 */
    memset(opt, 0x2a, n_out);
    run_result e = run_conv_like(&nml_kernel_depthwise_conv_2d_opt_planes, L, &p, in_dims, in,
                                 w_dims, w, 3, scales, bias, out_dims, opt);
    const int plane_3x3 = L->kh == 3 && L->kw == 3 && L->dil_h == 1 && L->dil_w == 1 &&
                          (L->stride_w == 1 || L->stride_w == 2);
    if (a.st == NML_OK && L->depth_multiplier > 1 && !plane_3x3) {
        assert_int_equal(e.st, NML_E_UNSUPPORTED);
        assert_non_null(strstr(e.msg, "planes-only"));
    } else {
        if (a.st != e.st || strcmp(a.msg, e.msg) != 0)
            fail_msg("case %d: reference '%s', planes '%s'", iter, a.msg, e.msg);
        if (a.st == NML_OK) {
            compare_outputs("DEPTHWISE_CONV_2D planes", iter, L, ref, opt, n_out);
            result = 2;
        }
    }
    /* the blocks variant: the same where it accepts the node; an int8 node takes either the
     * planes or the blocks, so exactly one of the two variants accepts it */
    memset(opt, 0x2a, n_out);
    run_result f = run_conv_like(&nml_kernel_depthwise_conv_2d_opt_blocks, L, &p, in_dims, in,
                                 w_dims, w, 3, scales, bias, out_dims, opt);
    if (a.st == NML_OK) {
        if ((e.st == NML_OK) == (f.st == NML_OK))
            fail_msg("case %d: planes '%s', blocks '%s'", iter, e.msg, f.msg);
        if (f.st == NML_OK) {
            compare_outputs("DEPTHWISE_CONV_2D blocks", iter, L, ref, opt, n_out);
        } else {
            assert_int_equal(f.st, NML_E_UNSUPPORTED);
            assert_non_null(strstr(f.msg, "blocks-only"));
        }
    } else if (a.st != f.st || strcmp(a.msg, f.msg) != 0) {
        fail_msg("case %d: reference '%s', blocks '%s'", iter, a.msg, f.msg);
    }
    /* the rows variant: the same where it accepts the node (then the planes one accepts it) */
    memset(opt, 0x2a, n_out);
    run_result g = run_conv_like(&nml_kernel_depthwise_conv_2d_opt_rows, L, &p, in_dims, in,
                                 w_dims, w, 3, scales, bias, out_dims, opt);
    if (a.st == NML_OK && g.st == NML_OK) {
        if (e.st != NML_OK) fail_msg("case %d: rows accepts, planes '%s'", iter, e.msg);
        compare_outputs("DEPTHWISE_CONV_2D rows", iter, L, ref, opt, n_out);
        rows_accepted++;
    } else if (a.st == NML_OK) {
        assert_int_equal(g.st, NML_E_UNSUPPORTED);
        assert_non_null(strstr(g.msg, "rows-only"));
    } else if (strcmp(a.msg, g.msg) != 0) {
        fail_msg("case %d: reference '%s', rows '%s'", iter, a.msg, g.msg);
    }
    /* the rows-and-5-wide variant: the same where it accepts the node, which it must where the
     * rows variant does; otherwise only 5-wide windows (stride 1, no dilation along x) over a
     * multiple of 4 output columns, which the planes variant accepts too */
    memset(opt, 0x2a, n_out);
    run_result h = run_conv_like(&nml_kernel_depthwise_conv_2d_opt_rows5, L, &p, in_dims, in,
                                 w_dims, w, 3, scales, bias, out_dims, opt);
    if (a.st == NML_OK && h.st == NML_OK) {
        if (g.st != NML_OK) {
            if (L->kw != 5 || L->stride_w != 1 || L->dil_w != 1 || ow % 4 != 0 ||
                L->depth_multiplier != 1 || e.st != NML_OK)
                fail_msg("case %d: rows5 accepts a layer without 5-wide planes", iter);
            five_accepted++;
        }
        compare_outputs("DEPTHWISE_CONV_2D rows5", iter, L, ref, opt, n_out);
    } else if (a.st == NML_OK) {
        if (g.st == NML_OK) fail_msg("case %d: rows accepts, rows5 '%s'", iter, h.msg);
        assert_int_equal(h.st, NML_E_UNSUPPORTED);
        assert_non_null(strstr(h.msg, "rows-and-5-wide"));
    } else if (strcmp(a.msg, h.msg) != 0) {
        fail_msg("case %d: reference '%s', rows5 '%s'", iter, a.msg, h.msg);
    }
    free(in), free(w), free(ref), free(opt), free(scales), free(bias);
    return result;
}

static void depthwise_matches_reference(void **state) {
    (void)state;
    rng_state = 0xD3E9u;
    int cases = 0, ran = 0, planes = 0;
    for (int iter = 0; cases < 1500; iter++) {
        layer L;
        if (!random_dw(&L)) continue;
        cases++;
        const int r = compare_dw_case(&L, iter, 0);
        ran += r > 0;
        planes += r == 2;
    }
    printf("DEPTHWISE_CONV_2D: %d of %d random layers compared (%d by the planes variant)\n", ran,
           cases, planes);
    assert_true(planes > ran / 3);
    assert_true(ran > cases * 8 / 10);
}

/* 3x3 windows without dilation, the shapes the in-place rows path (rows_3x3) takes: strides 1
 * and 2 along x (1..3 down), SAME and VALID on odd and even sizes down to 1 pixel, depth
 * multipliers, ReLU ranges (their outputs at lo skip the requantization), and a channel with a
 * multiplier in [1/2, 1) (no right shift: the tap loop) on every other layer. */
static void depthwise_3x3_rows_match_reference(void **state) {
    (void)state;
    rng_state = 0x3B0Cu;
    rows_accepted = 0;
    int cases = 0, ran = 0;
    for (int iter = 0; cases < 1200; iter++) {
        layer L;
        L.batches = rnd_in(1, 2);
        L.h = rnd_in(1, 14);
        L.w = rnd_in(1, 14);
        L.kh = L.kw = 3;
        L.stride_h = rnd_in(1, 3);
        L.stride_w = rnd_in(1, 2);
        L.dil_h = L.dil_w = 1;
        L.groups = 1;
        L.c = rnd_in(1, 9);
        L.depth_multiplier = rnd() % 4 == 0 ? rnd_in(2, 3) : 1;
        L.out_c = L.c * L.depth_multiplier;
        random_common(&L);
        if (out_size(L.h, 3, L.stride_h, 1, L.padding) <= 0 ||
            out_size(L.w, 3, L.stride_w, 1, L.padding) <= 0)
            continue;
        cases++;
        ran += compare_dw_case(&L, iter, iter & 1) > 0;
    }
    printf("DEPTHWISE_CONV_2D 3x3: %d of %d random layers compared (%d by the rows variant)\n",
           ran, cases, rows_accepted);
    assert_true(ran > cases * 8 / 10);
    assert_true(rows_accepted > ran / 3);
}

/* 3x3 windows with stride 1, SAME padding and depth multiplier 1, which the rows path takes two
 * output rows at a time where the four window rows lie inside the input (the first and last
 * rows, and any row left over, one at a time): heights 1..16 (no pair up to 3, odd and even
 * counts above), widths down to one pixel, every kind of requantization, a channel without a
 * right shift on every other layer. */
static void depthwise_3x3_pairs_match_reference(void **state) {
    (void)state;
    rng_state = 0x9A125u;
    rows_accepted = 0;
    int cases = 0, ran = 0, paired = 0;
    for (int iter = 0; cases < 400; iter++) {
        const int32_t batches = rnd_in(1, 2), h = rnd_in(1, 16), w = rnd_in(1, 16);
        layer L = dw3x3_layer(batches, h, w, 1, rnd_in(1, 9));
        random_common(&L);
        L.padding = NML_PAD_SAME;
        cases++;
        const int r = compare_dw_case(&L, iter, iter & 1) > 0;
        ran += r;
        paired += r && L.h >= 4;
    }
    printf("DEPTHWISE_CONV_2D 3x3 SAME stride 1: %d of %d random layers compared (%d with row "
           "pairs, %d by the rows variant)\n",
           ran, cases, paired, rows_accepted);
    assert_true(ran > cases * 8 / 10);
    assert_true(paired > cases / 2);
    assert_true(rows_accepted > ran / 2);
}

/* 3x3 windows with stride 2 both ways and depth multiplier 1, which the rows path takes two
 * output rows at a time where the five window rows lie inside the input (s2_pairs; a row left
 * over, or with a padded window row, one at a time): heights for 1..7 output rows (odd and even
 * counts, padding at the top with odd SAME heights, at the bottom with even ones), widths down
 * to one pixel with and without a padded last column, a padded first column (SAME with an
 * input width of 3 mod 4 ... any odd width), channels 1..9, batches, every kind of
 * requantization, a channel without a right shift on every other layer. */
static void depthwise_3x3_stride2_pairs_match_reference(void **state) {
    (void)state;
    rng_state = 0x52A175u;
    rows_accepted = 0;
    int cases = 0, ran = 0, paired = 0, right = 0, left = 0;
    for (int iter = 0; cases < 500; iter++) {
        const int32_t batches = rnd_in(1, 2), h = rnd_in(1, 15), w = rnd_in(1, 13);
        layer L = dw3x3_layer(batches, h, w, 2, rnd_in(1, 9));
        random_common(&L);
        const int32_t oh = out_size(L.h, 3, 2, 1, L.padding);
        const int32_t ow = out_size(L.w, 3, 2, 1, L.padding);
        if (oh <= 0 || ow <= 0) continue;
        cases++;
        const int r = compare_dw_case(&L, iter, iter & 1) > 0;
        ran += r;
        /* a pair: output rows oy, oy + 1 whose window rows 2 * oy - pad_h .. + 4 lie inside the
         * input (the first such row is 0 or, with a padded top row, 1) */
        const int32_t pad_h = L.padding == NML_PAD_SAME ? ((oh - 1) * 2 + 3 - L.h) / 2 : 0;
        const int32_t pad_w = L.padding == NML_PAD_SAME ? ((ow - 1) * 2 + 3 - L.w) / 2 : 0;
        const int pairs = pad_h + 4 <= L.h - 1 && (oh - 1) * 2 - pad_h > pad_h;
        paired += r && pairs;
        right += r && pairs && (ow - 1) * 2 - pad_w + 3 > L.w;
        left += r && pairs && pad_w > 0;
    }
    printf("DEPTHWISE_CONV_2D 3x3 stride 2: %d of %d random layers compared (%d with row pairs, "
           "%d of them with a padded last column, %d with a padded first one; %d by the rows "
           "variant)\n",
           ran, cases, paired, right, left, rows_accepted);
    assert_true(ran > cases * 8 / 10);
    assert_true(paired > cases / 3);
    assert_true(right > paired / 4);
    assert_true(left > paired / 8);
    assert_true(rows_accepted > ran / 2);
}

/* Small SAME stride-1 planes with many channels (FastestDet's 6x8 and 3x4, person_detect's 3x3
 * layers), whose first and last rows take rows_3x3's two-row loop (the last one with the top
 * window row's weights in the bottom ones' place) in every rows variant: heights 2..6 (no pair
 * below 4), widths down to one pixel (no column between the padded ones), up to 3 batches (one
 * rows_3x3 run each), every kind of requantization (ReLU ranges: rows_3x3_c1's shortcut). */
static void depthwise_3x3_edge_rows_match_reference(void **state) {
    (void)state;
    rng_state = 0xED6E2u;
    rows_accepted = 0;
    int cases = 0, ran = 0;
    for (int iter = 0; cases < 200; iter++) {
        const int32_t batches = rnd_in(1, 3), h = rnd_in(2, 6), w = rnd_in(1, 8);
        layer L = dw3x3_layer(batches, h, w, 1, rnd_in(1, 40));
        random_common(&L);
        L.padding = NML_PAD_SAME;
        cases++;
        ran += compare_dw_case(&L, iter, iter & 1) > 0;
    }
    printf("DEPTHWISE_CONV_2D 3x3 small SAME stride 1: %d of %d random layers compared (%d by the "
           "rows variant)\n",
           ran, cases, rows_accepted);
    assert_true(ran > cases * 8 / 10);
    /* the others: a channel's multiplier outside the doubled fast form (more channels, more
     * layers with one) */
    assert_true(rows_accepted > ran / 3);
}

/* 5-wide windows with stride 1 along x over output widths of multiples of 4 (FastestDet's 5x5
 * layers), which the rows-and-5-wide variant takes without the tap loop: filter heights 1..5,
 * vertical strides and dilations, both paddings, every kind of requantization. */
static void depthwise_rows5_match_reference(void **state) {
    (void)state;
    rng_state = 0x5F1D5u;
    five_accepted = 0;
    int cases = 0, ran = 0;
    for (int iter = 0; cases < 300; iter++) {
        layer L;
        L.batches = rnd_in(1, 2);
        L.kh = rnd_in(1, 5);
        L.kw = 5;
        L.stride_h = rnd_in(1, 2);
        L.stride_w = 1;
        L.dil_h = rnd() % 5 == 0 ? 2 : 1;
        L.dil_w = 1;
        L.groups = 1;
        L.c = rnd_in(1, 9);
        L.depth_multiplier = 1;
        L.out_c = L.c;
        random_common(&L);
        L.h = rnd_in(1, 10);
        /* output width 4k: SAME keeps the width, VALID drops 4 columns */
        L.w = 4 * rnd_in(1, 3) + (L.padding == NML_PAD_VALID ? 4 : 0);
        if (out_size(L.h, L.kh, L.stride_h, L.dil_h, L.padding) <= 0) continue;
        cases++;
        ran += compare_dw_case(&L, iter, iter & 1) > 0;
    }
    printf("DEPTHWISE_CONV_2D 5-wide: %d of %d random layers compared (%d by the rows5 "
           "variant's planes)\n",
           ran, cases, five_accepted);
    assert_true(ran > cases * 8 / 10);
    assert_true(five_accepted > ran / 2);
}

/* One input channel and 8-wide windows with stride 2 along x (micro_speech's shape), which the
 * depth multiplier path reads in place eight outputs at a time where windows lie inside the
 * input: heights, strides and dilations down, sizes from a single window up, both paddings. */
static void depthwise_wide_match_reference(void **state) {
    (void)state;
    rng_state = 0x8A1Du;
    int cases = 0, ran = 0;
    for (int iter = 0; cases < 300; iter++) {
        layer L;
        L.batches = rnd_in(1, 2);
        L.kh = rnd_in(1, 10);
        L.kw = 8;
        L.h = rnd_in(1, 30);
        L.w = rnd_in(8, 45);
        L.stride_h = rnd_in(1, 3);
        L.stride_w = 2;
        L.dil_h = rnd() % 4 == 0 ? 2 : 1;
        L.dil_w = 1;
        L.groups = 1;
        L.c = 1;
        /* multiples of 8 also take the eight-channel loop around the wide region */
        L.depth_multiplier = rnd() % 2 ? 8 * rnd_in(1, 2) : rnd_in(2, 9);
        L.out_c = L.depth_multiplier;
        random_common(&L);
        if (out_size(L.h, L.kh, L.stride_h, L.dil_h, L.padding) <= 0 ||
            out_size(L.w, 8, 2, 1, L.padding) <= 0)
            continue;
        cases++;
        ran += compare_dw_case(&L, iter, 0) > 0;
    }
    printf("DEPTHWISE_CONV_2D 8-wide: %d of %d random layers compared\n", ran, cases);
    assert_true(ran > cases * 8 / 10);
}

/* One layer of a real model's shape (seeded random weights, zero points and scales; a dead
 * channel as FastestDet's quantizer writes it on every third run): the optimized kernel and its
 * int8-only variant against the reference. */
static void compare_model_layer(layer L, int depthwise, int iter) {
    random_common(&L);
    const int32_t oh = out_size(L.h, L.kh, L.stride_h, L.dil_h, L.padding);
    const int32_t ow = out_size(L.w, L.kw, L.stride_w, L.dil_w, L.padding);
    const int32_t in_dims[4] = {L.batches, L.h, L.w, L.c};
    const int32_t w_dims[4] = {depthwise ? 1 : L.out_c, L.kh, L.kw, depthwise ? L.out_c : L.c};
    const int32_t out_dims[4] = {L.batches, oh, ow, L.out_c};
    const size_t n_in = (size_t)L.batches * L.h * L.w * L.c;
    const size_t n_w = (size_t)w_dims[0] * L.kh * L.kw * w_dims[3];
    const size_t n_out = (size_t)L.batches * oh * ow * L.out_c;
    int8_t *in = nml_test_alloc16(n_in), *w = nml_test_alloc16(n_w);
    int8_t *ref = nml_test_alloc16(n_out), *opt = nml_test_alloc16(n_out);
    float *scales = malloc((size_t)L.out_c * sizeof *scales);
    int32_t *bias = malloc((size_t)L.out_c * sizeof *bias);
    fill_i8(in, n_in);
    L.per_channel = 1;
    random_weights(&L, w, n_w, scales, L.out_c, bias, (int32_t)(n_w / (size_t)L.out_c));
    if (iter % 3 == 0 && L.out_c > 1) { /* dead channel 1: zero weights, scale ~0, bias -2^30 */
        for (size_t i = 0; i < n_w; i++)
            if ((depthwise ? (int32_t)(i % (size_t)L.out_c) : (int32_t)(i / (n_w / L.out_c))) == 1)
                w[i] = 0;
        scales[1] = 1e-30f;
        bias[1] = -(1 << 30);
    }
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = (uint8_t)L.padding;
    p.activation = (uint8_t)L.activation;
    p.stride_h = L.stride_h;
    p.stride_w = L.stride_w;
    p.dilation_h = L.dil_h;
    p.dilation_w = L.dil_w;
    p.depth_multiplier = L.depth_multiplier;
    const int q = depthwise ? 3 : 0;
    const nml_kernel *kr = depthwise ? &nml_kernel_depthwise_conv_2d : &nml_kernel_conv_2d;
    const nml_kernel *ko = depthwise ? &nml_kernel_depthwise_conv_2d_opt : &nml_kernel_conv_2d_opt;
    const nml_kernel *k8 =
        depthwise ? &nml_kernel_depthwise_conv_2d_opt_int8 : &nml_kernel_conv_2d_opt_int8;
    memset(ref, 0x55, n_out);
    run_result a =
        run_conv_like(kr, &L, &p, in_dims, in, w_dims, w, q, scales, bias, out_dims, ref);
    if (a.st != NML_OK) fail_msg("model layer %d: reference failed: %s", iter, a.msg);
    const nml_kernel *opts[2] = {ko, k8};
    for (int v = 0; v < 2; v++) {
        memset(opt, 0x2a, n_out);
        run_result b =
            run_conv_like(opts[v], &L, &p, in_dims, in, w_dims, w, q, scales, bias, out_dims, opt);
        if (b.st != NML_OK) fail_msg("model layer %d: optimized failed: %s", iter, b.msg);
        compare_outputs(depthwise ? "model DEPTHWISE_CONV_2D" : "model CONV_2D", iter, &L, ref, opt,
                        n_out);
    }
    free(in), free(w), free(ref), free(opt), free(scales), free(bias);
}

/* The convolutions of FastestDet (128x86), LeNet-5, person_detect and micro_speech, shapes as
 * `nanoml inspect` lists them (padding VALID after FastestDet's explicit PADs; random_common
 * also draws SAME), three seeded runs each. */
static void model_shapes_match_reference(void **state) {
    (void)state;
    rng_state = 0x5EEDu;
    /* batches h w c out_c kh kw groups stride_h stride_w dil_h dil_w; the rest is random */
    const layer convs[] = {
        {1, 87, 129, 3, 24, 3, 3, 1, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0}, /* FastestDet #1 */
        {1, 11, 16, 24, 24, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0},
        {1, 6, 8, 48, 48, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0},
        {1, 6, 8, 336, 96, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0},
        {1, 6, 8, 96, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0},
        {1, 32, 32, 1, 6, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0},  /* LeNet C1 */
        {1, 14, 14, 6, 16, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0}, /* C3 */
        {1, 5, 5, 16, 120, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0}, /* C5 */
        {1, 48, 48, 8, 16, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0}, /* person #2 */
        {1, 24, 24, 16, 32, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0}, /* person #4 */
        {1, 1, 1, 256, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0}, /* person #28 */
    };
    const layer dws[] = {
        {1, 23, 33, 24, 24, 3, 3, 1, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0}, /* FastestDet #5 */
        {1, 11, 16, 24, 24, 3, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0},
        {1, 7, 9, 96, 96, 3, 3, 1, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0},
        {1, 6, 8, 96, 96, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0}, /* head 5x5 */
        {1, 96, 96, 1, 8, 3, 3, 1, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 8, 0, 0}, /* person #0 */
        {1, 48, 48, 8, 8, 3, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0},
        {1, 49, 40, 1, 8, 10, 8, 1, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 8, 0, 0}, /* micro_speech */
        /* a plane over 64 KiB: the blocks over clipped windows */
        {1, 260, 260, 1, 8, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 8, 0, 0},
    };
    int iter = 0;
    /* planes over 64 KiB: depth multipliers >= 4 take the blocks over clipped windows */
    for (int i = 0; i < 8; i++) {
        layer L = {1,
                   rnd_in(256, 262),
                   rnd_in(256, 262),
                   rnd_in(1, 2),
                   0,
                   rnd_in(1, 5),
                   rnd_in(1, 5),
                   1,
                   rnd_in(1, 3),
                   rnd_in(1, 3),
                   rnd_in(1, 2),
                   rnd_in(1, 2),
                   0,
                   0,
                   0,
                   0,
                   0,
                   0,
                   rnd_in(4, 6),
                   0,
                   0};
        L.out_c = L.c * L.depth_multiplier;
        compare_model_layer(L, 1, iter++);
    }
    for (int run = 0; run < 3; run++) {
        for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++)
            compare_model_layer(convs[i], 0, iter++);
        for (size_t i = 0; i < sizeof dws / sizeof dws[0]; i++)
            compare_model_layer(dws[i], 1, iter++);
    }
}

/* FULLY_CONNECTED: weights [units, depth], input [batches, depth], per-tensor weights with a
 * zero point (asymmetric) or per-channel symmetric weights. */
static run_result run_fc(const nml_kernel *k, const layer *L, int32_t units, int32_t depth,
                         int8_t *in, int8_t *w, int32_t w_zp, const float *scales, int32_t *bias,
                         int8_t *out) {
    nml_kh h;
    kh_init(&h);
    int ti =
        kh_tensor(&h, NML_INT8, 2, (const int32_t[]){L->batches, depth}, in, L->in_scale, L->in_zp);
    int tw = kh_tensor(&h, NML_INT8, 2, (const int32_t[]){units, depth}, w, scales[0], w_zp);
    kh_const(&h, tw);
    if (L->per_channel) kh_per_channel(&h, tw, scales, NULL, (uint32_t)units, 0);
    int tb = -1;
    if (L->has_bias) {
        tb =
            kh_tensor(&h, NML_INT32, 1, (const int32_t[]){units}, bias, L->in_scale * scales[0], 0);
        kh_const(&h, tb);
    }
    int to = kh_tensor(&h, NML_INT8, 2, (const int32_t[]){L->batches, units}, out, L->out_scale,
                       L->out_zp);
    if (L->has_bias)
        kh_inputs(&h, 3, ti, tw, tb);
    else
        kh_inputs(&h, 2, ti, tw);
    kh_outputs(&h, 1, to);
    nml_op_params p;
    nml_op_params_default(&p);
    p.activation = (uint8_t)L->activation;
    run_result r;
    r.st = kh_run(&h, k, &p);
    snprintf(r.msg, sizeof r.msg, "%s", h.err.msg);
    kh_free(&h);
    return r;
}

static void fully_connected_matches_reference(void **state) {
    (void)state;
    rng_state = 0xFC01u;
    int ran = 0, narrow = 0, zero_zp = 0;
    const int cases = 1500;
    for (int iter = 0; iter < cases; iter++) {
        layer L;
        memset(&L, 0, sizeof L);
        random_common(&L);
        if (rnd() % 4 == 0) L.in_zp = 0; /* symmetric inputs (after TANH): nml_dot_8x1_raw */
        L.batches = rnd_in(1, 3);
        const int32_t units = rnd_in(1, 21), depth = rnd() % 4 ? rnd_in(1, 70) : rnd_in(1, 700);
        const int32_t w_zp = L.per_channel || rnd() % 2 ? 0 : rnd_in(-128, 127);
        const size_t n_in = (size_t)L.batches * depth, n_w = (size_t)units * depth;
        const size_t n_out = (size_t)L.batches * units;
        int8_t *in = nml_test_alloc16(n_in), *w = nml_test_alloc16(n_w);
        int8_t *ref = nml_test_alloc16(n_out), *opt = nml_test_alloc16(n_out);
        float *scales = malloc((size_t)units * sizeof *scales);
        int32_t *bias = malloc((size_t)units * sizeof *bias);
        fill_i8(in, n_in);
        L.out_c = units;
        random_weights(&L, w, n_w, scales, units, bias, depth);
        memset(ref, 0x55, n_out);
        memset(opt, 0x2a, n_out);
        run_result a =
            run_fc(&nml_kernel_fully_connected, &L, units, depth, in, w, w_zp, scales, bias, ref);
        run_result b = run_fc(&nml_kernel_fully_connected_opt, &L, units, depth, in, w, w_zp,
                              scales, bias, opt);
        if (a.st != b.st || strcmp(a.msg, b.msg) != 0)
            fail_msg("case %d: reference '%s' (%d), optimized '%s' (%d)", iter, a.msg, a.st, b.msg,
                     b.st);
        if (a.st == NML_OK) {
            for (size_t i = 0; i < n_out; i++)
                if (ref[i] != opt[i])
                    fail_msg("FULLY_CONNECTED case %d: output %zu differs (reference %d, "
                             "optimized %d); batches %d units %d depth %d weights zp %d input zp "
                             "%d per_channel %d",
                             iter, i, ref[i], opt[i], (int)L.batches, (int)units, (int)depth,
                             (int)w_zp, (int)L.in_zp, (int)L.per_channel);
            ran++;
            zero_zp += L.in_zp == 0 && units >= 8;
        }
        memset(opt, 0x2a, n_out);
        run_result c = run_fc(&nml_kernel_fully_connected_opt_int8, &L, units, depth, in, w, w_zp,
                              scales, bias, opt);
        if (a.st != c.st || strcmp(a.msg, c.msg) != 0)
            fail_msg("case %d: reference '%s', int8-only '%s'", iter, a.msg, c.msg);
        if (a.st == NML_OK && memcmp(ref, opt, n_out) != 0)
            fail_msg("FULLY_CONNECTED int8-only case %d differs from the reference", iter);
        /* the narrow variant: the same below 8 units, rejected from 8 units on */
        memset(opt, 0x2a, n_out);
        run_result e = run_fc(&nml_kernel_fully_connected_opt_narrow, &L, units, depth, in, w,
                              w_zp, scales, bias, opt);
        if (a.st == NML_OK && units >= 8) {
            assert_int_equal(e.st, NML_E_UNSUPPORTED);
        } else {
            if (a.st != e.st || strcmp(a.msg, e.msg) != 0)
                fail_msg("case %d: reference '%s', narrow '%s'", iter, a.msg, e.msg);
            if (a.st == NML_OK && memcmp(ref, opt, n_out) != 0)
                fail_msg("FULLY_CONNECTED narrow case %d differs from the reference", iter);
            narrow += a.st == NML_OK;
        }
        free(in), free(w), free(ref), free(opt), free(scales), free(bias);
    }
    printf("FULLY_CONNECTED: %d of %d random layers compared (%d by the narrow variant, %d of 8 "
           "units or more with input zero point 0)\n",
           ran, cases, narrow, zero_zp);
    assert_true(narrow > cases / 5);
    assert_true(zero_zp > 100);
    assert_true(ran > cases * 7 / 10);
}

/* LOGISTIC and TANH: every int8 input value under random input quantizations (the output
 * quantization is fixed by TFLite), and float32 through the same kernels. */
typedef struct lut_case {
    const char *name;
    const nml_kernel *ref, *opt, *opt_int8;
    float out_scale;
    int32_t out_zp;
    uint32_t seed;
} lut_case;

static run_result run_lut(const lut_case *c, const nml_kernel *k, int type, void *in,
                          float in_scale, int32_t in_zp, void *out, int32_t n) {
    nml_kh h;
    kh_init(&h);
    const int q = type == NML_INT8;
    int ti = kh_tensor(&h, type, 1, (const int32_t[]){n}, in, q ? in_scale : 0.0f, in_zp);
    int to = kh_tensor(&h, type, 1, (const int32_t[]){n}, out, q ? c->out_scale : 0.0f,
                       q ? c->out_zp : 0);
    kh_inputs(&h, 1, ti);
    kh_outputs(&h, 1, to);
    nml_op_params p;
    nml_op_params_default(&p);
    run_result r;
    r.st = kh_run(&h, k, &p);
    snprintf(r.msg, sizeof r.msg, "%s", h.err.msg);
    kh_free(&h);
    return r;
}

static void lut_matches_reference(const lut_case *c) {
    rng_state = c->seed;
    int8_t in[300], ref[300], opt[300];
    for (int iter = 0; iter < 300; iter++) {
        for (int i = 0; i < 300; i++)
            in[i] = (int8_t)(i < 256 ? i - 128 : rnd_in(-128, 127));
        const float scale = pow2f(rnd_in(-9, 3)) * rnd_scale(0.5f, 1.0f);
        const int32_t zp = rnd_in(-128, 127);
        assert_int_equal(run_lut(c, c->ref, NML_INT8, in, scale, zp, ref, 300).st, NML_OK);
        assert_int_equal(run_lut(c, c->opt, NML_INT8, in, scale, zp, opt, 300).st, NML_OK);
        for (int i = 0; i < 300; i++)
            if (ref[i] != opt[i])
                fail_msg("%s scale %g zp %d input %d: reference %d, optimized %d", c->name,
                         (double)scale, (int)zp, in[i], ref[i], opt[i]);
        memset(opt, 0, sizeof opt);
        assert_int_equal(run_lut(c, c->opt_int8, NML_INT8, in, scale, zp, opt, 300).st, NML_OK);
        assert_memory_equal(ref, opt, sizeof ref);
    }
    float fin[5] = {-20.0f, -1.5f, 0.0f, 2.0f, 30.0f}, fref[5], fopt[5];
    assert_int_equal(run_lut(c, c->ref, NML_FLOAT32, fin, 0, 0, fref, 5).st, NML_OK);
    assert_int_equal(run_lut(c, c->opt, NML_FLOAT32, fin, 0, 0, fopt, 5).st, NML_OK);
    assert_memory_equal(fref, fopt, sizeof fref);
    run_result r = run_lut(c, c->opt_int8, NML_FLOAT32, fin, 0, 0, fopt, 5);
    assert_int_equal(r.st, NML_E_UNSUPPORTED);
    assert_non_null(strstr(r.msg, "int8-only kernel takes int8 input, not float32"));
}

static void logistic_matches_reference(void **state) {
    (void)state;
    const lut_case c = {"LOGISTIC",
                        &nml_kernel_logistic,
                        &nml_kernel_logistic_opt,
                        &nml_kernel_logistic_opt_int8,
                        1.0f / 256.0f,
                        -128,
                        0x5161u};
    lut_matches_reference(&c);
}

static void tanh_matches_reference(void **state) {
    (void)state;
    const lut_case c = {
        "TANH", &nml_kernel_tanh, &nml_kernel_tanh_opt, &nml_kernel_tanh_opt_int8, 1.0f / 128.0f,
        0,      0x7A4Bu};
    lut_matches_reference(&c);
}

/* SOFTMAX: random rows, input quantizations and betas; outputs 1/256, -128 (fixed by TFLite). */
static run_result run_softmax(const nml_kernel *k, int8_t *in, float in_scale, int32_t in_zp,
                              float beta, int8_t *out, int32_t outer, int32_t depth) {
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_INT8, 2, (const int32_t[]){outer, depth}, in, in_scale, in_zp);
    int to = kh_tensor(&h, NML_INT8, 2, (const int32_t[]){outer, depth}, out, 1.0f / 256.0f, -128);
    kh_inputs(&h, 1, ti);
    kh_outputs(&h, 1, to);
    nml_op_params p;
    nml_op_params_default(&p);
    p.beta = beta;
    run_result r;
    r.st = kh_run(&h, k, &p);
    snprintf(r.msg, sizeof r.msg, "%s", h.err.msg);
    kh_free(&h);
    return r;
}

static void softmax_matches_reference(void **state) {
    (void)state;
    rng_state = 0x50F7u;
    int ran = 0;
    for (int iter = 0; iter < 500; iter++) {
        /* large enough for the table in most cases, small rows compute exp */
        const int32_t outer = rnd_in(1, 8), depth = rnd_in(1, 120), n = outer * depth;
        int8_t *in = nml_test_alloc16((size_t)n), *ref = nml_test_alloc16((size_t)n);
        int8_t *opt = nml_test_alloc16((size_t)n);
        fill_i8(in, (size_t)n);
        if (iter % 3 == 0) /* narrow rows: many diffs near 0 */
            for (int32_t i = 0; i < n; i++)
                in[i] = (int8_t)(in[i] / 16);
        const float scale = pow2f(rnd_in(-8, 0)) * rnd_scale(0.5f, 1.0f);
        const float beta = iter % 2 ? 1.0f : rnd_scale(0.2f, 3.0f);
        const int32_t zp = rnd_in(-128, 127);
        run_result a = run_softmax(&nml_kernel_softmax, in, scale, zp, beta, ref, outer, depth);
        run_result b = run_softmax(&nml_kernel_softmax_opt, in, scale, zp, beta, opt, outer, depth);
        if (a.st != b.st || strcmp(a.msg, b.msg) != 0)
            fail_msg("SOFTMAX case %d: reference '%s', optimized '%s'", iter, a.msg, b.msg);
        if (a.st == NML_OK) {
            for (int32_t i = 0; i < n; i++)
                if (ref[i] != opt[i])
                    fail_msg("SOFTMAX case %d element %d: reference %d, optimized %d", iter, (int)i,
                             ref[i], opt[i]);
            ran++;
        }
        memset(opt, 0x2a, (size_t)n);
        run_result c =
            run_softmax(&nml_kernel_softmax_opt_int8, in, scale, zp, beta, opt, outer, depth);
        if (a.st != c.st || strcmp(a.msg, c.msg) != 0)
            fail_msg("SOFTMAX case %d: reference '%s', int8-only '%s'", iter, a.msg, c.msg);
        if (a.st == NML_OK && memcmp(ref, opt, (size_t)n) != 0)
            fail_msg("SOFTMAX int8-only case %d differs from the reference", iter);
        free(in), free(ref), free(opt);
    }
    printf("SOFTMAX: %d of 500 random layers compared\n", ran);
    assert_true(ran > 400);
}

/* The int8-only variants reject, at prepare, the float32 nodes the full kernels hand to the
 * reference evaluation (and the full kernels still run them). */
static nml_status run_float_node(const nml_kernel *k, int32_t builtin) {
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, out[9];
    const int fc = builtin == NML_OP_FULLY_CONNECTED;
    nml_kh h;
    kh_init(&h);
    int ti = fc ? kh_tensor(&h, NML_FLOAT32, 2, (const int32_t[]){1, 3}, in, 0, 0)
                : kh_tensor(&h, NML_FLOAT32, 4, (const int32_t[]){1, 3, 3, 1}, in, 0, 0);
    int tw = fc ? kh_tensor(&h, NML_FLOAT32, 2, (const int32_t[]){3, 3}, w, 0, 0)
                : kh_tensor(&h, NML_FLOAT32, 4, (const int32_t[]){1, 1, 1, 1}, w, 0, 0);
    kh_const(&h, tw);
    int to = fc ? kh_tensor(&h, NML_FLOAT32, 2, (const int32_t[]){1, 3}, out, 0, 0)
                : kh_tensor(&h, NML_FLOAT32, 4, (const int32_t[]){1, 3, 3, 1}, out, 0, 0);
    kh_inputs(&h, 2, ti, tw);
    kh_outputs(&h, 1, to);
    nml_op_params p;
    nml_op_params_default(&p);
    p.stride_h = p.stride_w = 1;
    p.depth_multiplier = 1;
    nml_status st = kh_run(&h, k, &p);
    if (st == NML_E_UNSUPPORTED)
        assert_non_null(strstr(h.err.msg, "int8-only kernel takes int8 input and weights, not "
                                          "float32 with float32"));
    else
        assert_memory_equal(in, out, sizeof in); /* an identity filter */
    kh_free(&h);
    return st;
}

static void int8_only_variants_reject_float(void **state) {
    (void)state;
    assert_int_equal(run_float_node(&nml_kernel_conv_2d_opt, NML_OP_CONV_2D), NML_OK);
    assert_int_equal(run_float_node(&nml_kernel_conv_2d_opt_int8, NML_OP_CONV_2D),
                     NML_E_UNSUPPORTED);
    assert_int_equal(run_float_node(&nml_kernel_depthwise_conv_2d_opt, NML_OP_DEPTHWISE_CONV_2D),
                     NML_OK);
    assert_int_equal(
        run_float_node(&nml_kernel_depthwise_conv_2d_opt_int8, NML_OP_DEPTHWISE_CONV_2D),
        NML_E_UNSUPPORTED);
    assert_int_equal(run_float_node(&nml_kernel_fully_connected_opt, NML_OP_FULLY_CONNECTED),
                     NML_OK);
    assert_int_equal(run_float_node(&nml_kernel_fully_connected_opt_int8, NML_OP_FULLY_CONNECTED),
                     NML_E_UNSUPPORTED);
    /* the public lookup lists exactly these variants, leanest first, with their C names */
    const char *sym = NULL;
    assert_ptr_equal(nml_kernel_variant(NML_OP_CONV_2D, 0, &sym), &nml_kernel_conv_2d_opt_lean);
    assert_string_equal(sym, "nml_kernel_conv_2d_opt_lean");
    assert_ptr_equal(nml_kernel_variant(NML_OP_CONV_2D, 1, &sym), &nml_kernel_conv_2d_opt_lean_c1);
    assert_string_equal(sym, "nml_kernel_conv_2d_opt_lean_c1");
    assert_ptr_equal(nml_kernel_variant(NML_OP_CONV_2D, 2, &sym), &nml_kernel_conv_2d_opt_int8);
    assert_string_equal(sym, "nml_kernel_conv_2d_opt_int8");
    assert_null(nml_kernel_variant(NML_OP_CONV_2D, 3, NULL));
    assert_ptr_equal(nml_kernel_variant(NML_OP_DEPTHWISE_CONV_2D, 0, &sym),
                     &nml_kernel_depthwise_conv_2d_opt_rows);
    assert_string_equal(sym, "nml_kernel_depthwise_conv_2d_opt_rows");
    assert_ptr_equal(nml_kernel_variant(NML_OP_DEPTHWISE_CONV_2D, 1, &sym),
                     &nml_kernel_depthwise_conv_2d_opt_rows5);
    assert_string_equal(sym, "nml_kernel_depthwise_conv_2d_opt_rows5");
    assert_ptr_equal(nml_kernel_variant(NML_OP_DEPTHWISE_CONV_2D, 2, &sym),
                     &nml_kernel_depthwise_conv_2d_opt_planes);
    assert_string_equal(sym, "nml_kernel_depthwise_conv_2d_opt_planes");
    assert_ptr_equal(nml_kernel_variant(NML_OP_DEPTHWISE_CONV_2D, 3, &sym),
                     &nml_kernel_depthwise_conv_2d_opt_blocks);
    assert_string_equal(sym, "nml_kernel_depthwise_conv_2d_opt_blocks");
    assert_ptr_equal(nml_kernel_variant(NML_OP_DEPTHWISE_CONV_2D, 4, &sym),
                     &nml_kernel_depthwise_conv_2d_opt_int8);
    assert_ptr_equal(nml_kernel_variant(NML_OP_FULLY_CONNECTED, 0, &sym),
                     &nml_kernel_fully_connected_opt_narrow);
    assert_ptr_equal(nml_kernel_variant(NML_OP_FULLY_CONNECTED, 1, &sym),
                     &nml_kernel_fully_connected_opt_int8);
    assert_null(nml_kernel_variant(NML_OP_FULLY_CONNECTED, 2, NULL));
    assert_ptr_equal(nml_kernel_variant(NML_OP_SOFTMAX, 0, NULL), &nml_kernel_softmax_opt_int8);
    assert_null(nml_kernel_variant(NML_OP_RESHAPE, 0, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_requant_equals_reference),
        cmocka_unit_test(fast_requant_range_is_decided_per_layer),
        cmocka_unit_test(conv_matches_reference),
        cmocka_unit_test(conv_shallow_matches_reference),
        cmocka_unit_test(conv_shallow_pointwise_matches_reference),
        cmocka_unit_test(conv_c1_rows_match_reference),
        cmocka_unit_test(conv_deep_matches_reference),
        cmocka_unit_test(conv_weight_sums_match_reference),
        cmocka_unit_test(depthwise_matches_reference),
        cmocka_unit_test(depthwise_3x3_rows_match_reference),
        cmocka_unit_test(depthwise_3x3_pairs_match_reference),
        cmocka_unit_test(depthwise_3x3_stride2_pairs_match_reference),
        cmocka_unit_test(depthwise_3x3_edge_rows_match_reference),
        cmocka_unit_test(depthwise_rows5_match_reference),
        cmocka_unit_test(depthwise_wide_match_reference),
        cmocka_unit_test(model_shapes_match_reference),
        cmocka_unit_test(fully_connected_matches_reference),
        cmocka_unit_test(logistic_matches_reference),
        cmocka_unit_test(tanh_matches_reference),
        cmocka_unit_test(softmax_matches_reference),
        cmocka_unit_test(int8_only_variants_reject_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
