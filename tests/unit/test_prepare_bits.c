/* Prepare-time checks that the runtime does in integer arithmetic (float comparisons on the
 * bits, 32-bit window sizes), against the float / 64-bit formulation they replace, written out
 * here as the oracle:
 *  - nml_activation_range_q: TFLite's CalculateActivationRangeQuantized, each bound
 *    zero_point + round-half-away(bound / scale) with the division in float and the sum in 64
 *    bits, refused when the quotient is outside [-2^31, 2^31) or the range ends up empty (int8's
 *    range and int32's, where the sum can pass int32);
 *  - a filter scale is accepted iff s > 0 && s <= FLT_MAX (nml_conv_channel_multiplier);
 *  - the depthwise plane path is taken iff filter_h * filter_w <= 64 and the padded plane
 *    ph * pw <= 65536 bytes (the planes-only kernel refuses every other layer);
 *  - LOGISTIC / TANH accept an int8 output scale s iff |s - 2^-8| (2^-7) <= 1e-3 * 2^-8 (2^-7)
 *    in double (TFLite Micro's check), and rescale the input by TFLite's QuantizeMultiplier of
 *    input_scale * 2^27 (frexp, round half away from zero) with CalculateInputRadius;
 *  - the convolution window (nml_window_init) against TFLite's ComputeOutSize and
 *    ComputePaddingWithOffset in 64-bit arithmetic, with nanoml's bounds (every operand >= 1,
 *    window and input within 2^30) and error order;
 *  - SOFTMAX accepts only the int8 output scale 1/256 and computes PreprocessSoftmaxScaling's
 *    capped beta * input_scale * 2^26 and QuantizeMultiplierGreaterThanOne of it in double. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "kernel_harness.h"
#include "kernels/conv_common.h"
#include "kernels/kernels.h"
#include "kernels/sigmoid_common.h"
#include "kernels/softmax_ref.h"
#include "qmath.h"

#define DIMS(...) ((const int32_t[]){__VA_ARGS__})

static float from_bits(uint32_t b) {
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* The oracle: the float arithmetic of TFLite's reference, int64 for the sums. */
static nml_status ref_range(int act, float scale, int32_t zp, int32_t qmin, int32_t qmax,
                            int64_t *lo, int64_t *hi) {
    static const int has[4][2] = {{0, 0}, {1, 0}, {1, 1}, {1, 1}};
    static const float val[4][2] = {{0, 0}, {0, 0}, {-1, 1}, {0, 6}};
    if (act < 0 || act > 3) return NML_E_UNSUPPORTED;
    *lo = qmin;
    *hi = qmax;
    for (int i = 0; i < 2; i++) {
        if (!has[act][i]) continue;
        const float v = val[act][i] / scale;
        if (!(v >= -2147483648.0f && v < 2147483648.0f)) return NML_E_FORMAT;
        const int64_t q = (int64_t)roundf(v) + zp;
        if (i == 0 && q > *lo) *lo = q;
        if (i == 1 && q < *hi) *hi = q;
    }
    return *lo > *hi ? NML_E_FORMAT : NML_OK;
}

/* the output type's ranges: int8, and int32's, where the bound plus the zero point can pass
 * int32 on either side */
static const int32_t qranges[][2] = {{-128, 127}, {INT32_MIN, INT32_MAX}, {-5, INT32_MAX},
                                     {INT32_MIN, 5}};

static void check_range(nml_kh *h, nml_tensor *out, int act, float scale, int32_t zp) {
    out->scale = scale;
    out->zero_point = zp;
    for (size_t k = 0; k < sizeof qranges / sizeof qranges[0]; k++) {
        const int32_t qmin = qranges[k][0], qmax = qranges[k][1];
        int64_t rlo = 0, rhi = 0;
        const nml_status want = ref_range(act, scale, zp, qmin, qmax, &rlo, &rhi);
        int32_t lo = 0, hi = 0;
        const nml_status got =
            nml_activation_range_q(&h->ctx, &h->node, act, out, qmin, qmax, &lo, &hi);
        if (got != want || (want == NML_OK && (lo != rlo || hi != rhi)))
            fail_msg("activation %d, scale %a (0x%08x), zero point %d, range [%d, %d]: got %d "
                     "[%d, %d], want %d [%lld, %lld]",
                     act, (double)scale, (unsigned)nml_f32_bits(scale), (int)zp, (int)qmin,
                     (int)qmax, (int)got, (int)lo, (int)hi, (int)want, (long long)rlo,
                     (long long)rhi);
    }
}

static void activation_range_matches_float_rounding(void **state) {
    (void)state;
    nml_kh h;
    kh_init(&h);
    const int to = kh_unary_node(&h, (kh_spec){NML_INT8, 1, DIMS(1), NULL, 1.0f, 0},
                                 (kh_spec){NML_INT8, 1, DIMS(1), NULL, 1.0f, 0});
    h.node.kernel = &nml_kernel_conv_2d;
    h.node.builtin = NML_OP_CONV_2D;
    nml_tensor *out = &h.tensors[to];
    static const int32_t zps[] = {INT32_MIN, INT32_MIN + 5, -129, -128, -3, 0, 1,
                                  100,       127,           128,  INT32_MAX - 5, INT32_MAX};
    /* every 2^11-th bit pattern (both signs, subnormals, infinities, NaNs) and its neighbours */
    for (uint64_t b = 0; b <= 0xffffffffu; b += 1u << 11)
        for (uint32_t d = 0; d < 2; d++)
            for (int act = 0; act < 4; act++)
                for (size_t z = 0; z < sizeof zps / sizeof zps[0]; z += 3)
                    check_range(&h, out, act, from_bits((uint32_t)b + d), zps[z]);
    /* quotients that are exactly x.5 (ties round away from zero), near x.5, and near 2^31 */
    static const float scales[] = {2.0f,        4.0f,        12.0f,        8.0f,
                                   1.6f,        0.4f,        1.0f / 3.0f,  2.0f / 3.0f,
                                   0x1p-31f,    0x1.000002p-31f, 0x1.fffffep-32f, 3.0f * 0x1p-32f,
                                   6.0f / 2147483648.0f, 1.5f, 0.75f, 0.1f};
    for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++)
        for (int32_t k = -2; k <= 2; k++)
            for (int act = -1; act < 5; act++)
                for (size_t z = 0; z < sizeof zps / sizeof zps[0]; z++) {
                    const float sc = from_bits(nml_f32_bits(scales[s]) + (uint32_t)k);
                    check_range(&h, out, act, sc, zps[z]);
                    check_range(&h, out, act, -sc, zps[z]);
                }
    kh_free(&h);
}

static void filter_scale_accepted_iff_positive_finite(void **state) {
    (void)state;
    int8_t in[1] = {0}, w[1] = {0}, o[1];
    nml_kh h;
    kh_init(&h);
    const int to =
        kh_weighted_node(&h, (kh_spec){NML_INT8, 4, DIMS(1, 1, 1, 1), in, 0.5f, 0},
                         (kh_spec){NML_INT8, 4, DIMS(1, 1, 1, 1), w, 0.5f, 0}, KH_NO_BIAS,
                         (kh_spec){NML_INT8, 4, DIMS(1, 1, 1, 1), o, 1.0f, 0});
    h.node.kernel = &nml_kernel_conv_2d;
    h.node.builtin = NML_OP_CONV_2D;
    nml_tensor *filter = &h.tensors[KH_WEIGHTS];
    static const uint32_t edges[] = {0x00000000u, 0x00000001u, 0x007fffffu, 0x00800000u,
                                     0x3f800000u, 0x7f7ffffeu, 0x7f7fffffu, 0x7f800000u,
                                     0x7f800001u, 0x7fc00000u, 0x7fffffffu, 0x80000000u,
                                     0x80000001u, 0xbf800000u, 0xff7fffffu, 0xff800000u,
                                     0xffc00000u, 0xffffffffu};
    for (uint64_t i = 0; i < sizeof edges / sizeof edges[0] + (1u << 16); i++) {
        const uint32_t b = i < sizeof edges / sizeof edges[0]
                               ? edges[i]
                               : (uint32_t)((i - sizeof edges / sizeof edges[0]) << 16) + 0x1234u;
        const float s = from_bits(b);
        filter->scale = s;
        int32_t m;
        int e;
        const nml_status got = nml_conv_channel_multiplier(
            &h.ctx, &h.node, &h.tensors[KH_INPUT], filter, &h.tensors[to], 0, &m, &e);
        const nml_status want = s > 0.0f && s <= FLT_MAX ? NML_OK : NML_E_FORMAT;
        if (got != want) fail_msg("filter scale 0x%08x: got %d, want %d", (unsigned)b, got, want);
    }
    kh_free(&h);
}

/* One DEPTHWISE_CONV_2D node, one channel, VALID, stride 1, through the planes-only kernel. */
static nml_status planes_prepare(int32_t in_h, int32_t in_w, int32_t kh, int32_t kw) {
    const int32_t out_h = in_h - kh + 1, out_w = in_w - kw + 1;
    int8_t *w = calloc((size_t)(kh * kw), 1);
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_INT8, 4, DIMS(1, in_h, in_w, 1), NULL, 0.5f, 0},
                     (kh_spec){NML_INT8, 4, DIMS(1, kh, kw, 1), w, 0.5f, 0}, KH_NO_BIAS,
                     (kh_spec){NML_INT8, 4, DIMS(1, out_h, out_w, 1), NULL, 1.0f, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_VALID;
    p.stride_h = p.stride_w = 1;
    p.depth_multiplier = 1;
    const nml_status st = kh_prepare(&h, &nml_kernel_depthwise_conv_2d_opt_planes, &p);
    kh_free(&h);
    free(w);
    return st;
}

static void plane_limits_in_32_bits(void **state) {
    (void)state;
    /* the padded plane of a VALID layer is the input: 256 x 256 = 65536 bytes is the limit */
    assert_int_equal(planes_prepare(256, 256, 5, 5), NML_OK);
    assert_int_equal(planes_prepare(256, 257, 5, 5), NML_E_UNSUPPORTED);
    assert_int_equal(planes_prepare(257, 256, 5, 5), NML_E_UNSUPPORTED);
    assert_int_equal(planes_prepare(65536, 1, 1, 1), NML_OK);
    assert_int_equal(planes_prepare(65537, 1, 1, 1), NML_E_UNSUPPORTED);
    assert_int_equal(planes_prepare(1, 65537, 1, 1), NML_E_UNSUPPORTED);
    /* taps: 8 x 8 = 64 is the limit; a side over 64 alone is over it too */
    assert_int_equal(planes_prepare(16, 16, 8, 8), NML_OK);
    assert_int_equal(planes_prepare(16, 16, 8, 9), NML_E_UNSUPPORTED);
    assert_int_equal(planes_prepare(64, 2, 64, 1), NML_OK);
    assert_int_equal(planes_prepare(70, 2, 65, 1), NML_E_UNSUPPORTED);
    assert_int_equal(planes_prepare(2, 70, 1, 65), NML_E_UNSUPPORTED);
}

/* A LOGISTIC (out_scale 2^-8, zero point -128) or TANH (2^-7, 0) node in h with these scales
 * (one harness for all: its persistent data is reset before each prepare). */
static void sigmoid_node(nml_kh *h, int tanh) {
    kh_init(h);
    kh_unary_node(h, (kh_spec){NML_INT8, 1, DIMS(4), NULL, 0.1f, 3},
                  (kh_spec){NML_INT8, 1, DIMS(4), NULL, 1.0f, tanh ? 0 : -128});
}

static nml_status sigmoid_prepare(nml_kh *h, int tanh, float in_scale, float out_scale,
                                  nml_sigmoid_data *d) {
    h->tensors[0].scale = in_scale;
    h->tensors[1].scale = out_scale;
    h->ctx.persist_used = h->ctx.persist_needed = 0;
    nml_op_params p;
    nml_op_params_default(&p);
    const nml_status st = kh_prepare(h, tanh ? &nml_kernel_tanh : &nml_kernel_logistic, &p);
    if (st == NML_OK) *d = *(const nml_sigmoid_data *)h->node.data;
    return st;
}

static void sigmoid_output_scale_within_a_thousandth(void **state) {
    (void)state;
    for (int tanh = 0; tanh < 2; tanh++) {
        const float want_scale = tanh ? 1.0f / 128.0f : 1.0f / 256.0f;
        const uint32_t c = nml_f32_bits(want_scale);
        nml_kh h;
        sigmoid_node(&h, tanh);
        for (uint64_t i = 0; i < (1u << 17) + (1u << 20); i++) {
            /* every pattern within 2^16 of the scale's, then every 2^12-th one */
            const uint32_t b = i < (1u << 17) ? c - (1u << 16) + (uint32_t)i
                                              : (uint32_t)(i - (1u << 17)) << 12;
            const float s = from_bits(b);
            double diff = (double)s - (double)want_scale;
            if (diff < 0) diff = -diff;
            const nml_status want = diff <= 1e-3 * (double)want_scale ? NML_OK : NML_E_UNSUPPORTED;
            nml_sigmoid_data d;
            const nml_status got = sigmoid_prepare(&h, tanh, 0.1f, s, &d);
            if (got != want)
                fail_msg("%s output scale 0x%08x: got %d, want %d", tanh ? "TANH" : "LOGISTIC",
                         (unsigned)b, got, want);
        }
        kh_free(&h);
    }
}

/* TFLite's QuantizeMultiplier(input_scale * 2^27) and CalculateInputRadius(4, shift, 31);
 * from 2^30 on nanoml saturates every input (radius 0). */
static void ref_rescaling(float s, int32_t *mult, int32_t *shift, int32_t *radius) {
    const double m = (double)s * 134217728.0;
    *mult = *shift = *radius = 0;
    if (m >= 1073741824.0) return;
    int sh;
    const double q = frexp(m, &sh);
    long long qf = llround(q * 2147483648.0);
    if (qf == 2147483648LL) {
        qf /= 2;
        sh++;
    }
    if (sh < -31) qf = 0, sh = 0;
    *mult = (int32_t)qf;
    *shift = sh;
    *radius = sh >= 0 ? (int32_t)floor(15.0 * 134217728.0 / ldexp(1.0, sh)) : INT32_MAX;
}

static void sigmoid_input_rescaling_as_tflite(void **state) {
    (void)state;
    nml_kh h[2];
    sigmoid_node(&h[0], 0);
    sigmoid_node(&h[1], 1);
    /* the edges of the positive finite floats (nml_check_quant refuses the others) */
    static const uint32_t edges[] = {0x00000000u, 0x00000001u, 0x7f7fffffu, 0x7f800000u,
                                     0x7fc00000u, 0x80000000u, 0x80000001u, 0xff800000u,
                                     0x41000000u, 0x40ffffffu, 0x22000000u, 0x21ffffffu};
    const uint64_t n_edges = sizeof edges / sizeof edges[0];
    for (uint64_t i = 0; i < n_edges + 0x100000000u / 0x1001u; i++) {
        const uint64_t b = i < n_edges ? edges[i] : (i - n_edges) * 0x1001u;
        const float s = from_bits((uint32_t)b);
        for (int tanh = 0; tanh < 2; tanh++) {
            nml_sigmoid_data d;
            const nml_status got =
                sigmoid_prepare(&h[tanh], tanh, s, tanh ? 1.0f / 128 : 1.0f / 256, &d);
            if (!(s > 0.0f && s <= FLT_MAX)) {
                if (got != NML_E_FORMAT) fail_msg("input scale 0x%08x accepted", (unsigned)b);
                continue;
            }
            assert_int_equal(got, NML_OK);
            int32_t mult, shift, radius;
            ref_rescaling(s, &mult, &shift, &radius);
            if (d.input_multiplier != mult || d.input_shift != shift ||
                d.input_range_radius != radius)
                fail_msg("input scale 0x%08x: (%d, %d, %d), want (%d, %d, %d)", (unsigned)b,
                         d.input_multiplier, d.input_shift, d.input_range_radius, mult, shift,
                         radius);
        }
    }
    kh_free(&h[0]);
    kh_free(&h[1]);
}

/* TFLite's softmax scaling (reference softmax prepare) for int8: status, multiplier, left
 * shift and diff_min = -CalculateInputRadius(5, shift, 31). */
static nml_status ref_softmax(float beta, float scale, int32_t *mult, int32_t *shift,
                              int32_t *diff_min) {
    double real = (double)beta * (double)scale * 67108864.0;
    if (real > 2147483647.0) real = 2147483647.0;
    if (!(real > 1.0)) return NML_E_UNSUPPORTED;
    int sh;
    const double q = frexp(real, &sh);
    long long qf = llround(q * 2147483648.0);
    if (qf == 2147483648LL) {
        qf /= 2;
        sh++;
    }
    *mult = (int32_t)qf;
    *shift = sh;
    *diff_min = -(int32_t)floor(31.0 * 67108864.0 / ldexp(1.0, sh));
    return NML_OK;
}

static void softmax_scaling_as_tflite(void **state) {
    (void)state;
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT8, 2, DIMS(1, 4), NULL, 0.1f, 3},
                  (kh_spec){NML_INT8, 2, DIMS(1, 4), NULL, 1.0f / 256.0f, -128});
    static const float betas[] = {1.0f, 0.5f, 2.0f, 1e-3f, 1e10f, 3.0e38f, 0x1p-149f,
                                  0.0f, -0.0f, -1.0f, INFINITY, -INFINITY, NAN, 0.7f};
    /* with beta 1: real exactly 1 (2^-26), 2^30, 2^31 (the cap), and their neighbours */
    static const uint32_t edges[] = {0x32800000u, 0x32800001u, 0x327fffffu, 0x41800000u,
                                     0x41ffffffu, 0x42000000u, 0x42000001u, 0x417fffffu};
    const uint64_t n_edges = sizeof edges / sizeof edges[0];
    for (size_t k = 0; k < sizeof betas / sizeof betas[0]; k++)
        for (uint64_t i = 0; i < n_edges + 0x100000000u / 0x2003u; i++) {
            const uint64_t b = i < n_edges ? edges[i] : (i - n_edges) * 0x2003u;
            const float s = from_bits((uint32_t)b);
            if (!(s > 0.0f && s <= FLT_MAX)) continue; /* refused by the quantization check */
            nml_op_params p;
            nml_op_params_default(&p);
            p.beta = betas[k];
            h.tensors[0].scale = s;
            h.ctx.persist_used = h.ctx.persist_needed = 0;
            int32_t mult = 0, shift = 0, diff_min = 0;
            const nml_status want = ref_softmax(betas[k], s, &mult, &shift, &diff_min);
            const nml_status got = kh_prepare(&h, &nml_kernel_softmax, &p);
            if (got != want)
                fail_msg("beta %a, input scale 0x%08x: got %d, want %d", (double)betas[k],
                         (unsigned)b, got, want);
            if (got != NML_OK) continue;
            const nml_softmax_data *d = h.node.data;
            if (d->input_multiplier != mult || d->input_left_shift != shift ||
                d->diff_min != diff_min)
                fail_msg("beta %a, input scale 0x%08x: (%d, %d, %d), want (%d, %d, %d)",
                         (double)betas[k], (unsigned)b, d->input_multiplier,
                         d->input_left_shift, d->diff_min, mult, shift, diff_min);
        }
    /* the output scale must be 1/256 exactly */
    h.tensors[0].scale = 0.1f;
    nml_op_params p;
    nml_op_params_default(&p);
    p.beta = 1.0f;
    for (int32_t k = -2; k <= 2; k++) {
        h.tensors[1].scale = from_bits(0x3b800000u + (uint32_t)k);
        h.ctx.persist_used = h.ctx.persist_needed = 0;
        assert_int_equal(kh_prepare(&h, &nml_kernel_softmax, &p), k ? NML_E_UNSUPPORTED : NML_OK);
    }
    h.tensors[1].scale = NAN;
    assert_int_equal(kh_prepare(&h, &nml_kernel_softmax, &p), NML_E_UNSUPPORTED);
    kh_free(&h);
}

/* The oracle of one axis: status, output size and padding, in 64-bit arithmetic. */
static nml_status ref_window(int same, int64_t in, int64_t filter, int64_t stride,
                             int64_t dilation, int64_t *out, int64_t *pad) {
    if (stride < 1 || dilation < 1) return NML_E_FORMAT;
    if (filter < 1 || in < 1) return NML_E_SHAPE;
    const int64_t effective = (filter - 1) * dilation + 1;
    *out = same ? (in + stride - 1) / stride : (in - effective + stride) / stride;
    if (*out < 1) return NML_E_SHAPE;
    if ((*out - 1) * stride + effective > (1 << 30) || in > (1 << 30)) return NML_E_LIMIT;
    int64_t total = (*out - 1) * stride + effective - in;
    *pad = total > 0 ? total / 2 : 0;
    return NML_OK;
}

static void window_as_64_bit_formulas(void **state) {
    (void)state;
    nml_kh h;
    kh_init(&h);
    h.node.kernel = &nml_kernel_conv_2d;
    h.node.builtin = NML_OP_CONV_2D;
    static const int32_t v[] = {-1,      0,         1,          2,          3,
                                5,       7,         8,          100,        32768,
                                46341,   (1 << 30) - 1, 1 << 30, (1 << 30) + 1, 0x40000003,
                                0x7ffffffe, INT32_MAX};
    const size_t n = sizeof v / sizeof v[0];
    for (int same = 0; same < 2; same++)
        for (size_t a = 0; a < n; a++)
            for (size_t b = 0; b < n; b++)
                for (size_t c = 0; c < n; c++)
                    for (size_t e = 0; e < n; e++) {
                        const int32_t in = v[a], filter = v[b], stride = v[c], dilation = v[e];
                        nml_op_params p;
                        nml_op_params_default(&p);
                        p.padding = same ? NML_PAD_SAME : NML_PAD_VALID;
                        p.stride_h = stride, p.stride_w = 1;
                        p.dilation_h = dilation, p.dilation_w = 1;
                        nml_window w;
                        memset(&w, 0, sizeof w);
                        const nml_status got =
                            nml_window_init(&h.ctx, &h.node, &p, in, 1, filter, 1, &w);
                        int64_t out = 0, pad = 0;
                        const nml_status want =
                            ref_window(same, in, filter, stride, dilation, &out, &pad);
                        if (got != want || (want == NML_OK && (w.out_h != out || w.pad_h != pad)))
                            fail_msg("%s in %d filter %d stride %d dilation %d: got %d (%d, %d), "
                                     "want %d (%lld, %lld)",
                                     same ? "SAME" : "VALID", in, filter, stride, dilation, got,
                                     w.out_h, w.pad_h, want, (long long)out, (long long)pad);
                        if (want == NML_E_SHAPE && filter >= 1 && in >= 1) {
                            char text[64];
                            snprintf(text, sizeof text, "VALID window of %lld height",
                                     (long long)(filter - 1) * dilation + 1);
                            if (!strstr(h.err.msg, text)) fail_msg("message: %s", h.err.msg);
                        }
                    }
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(activation_range_matches_float_rounding),
        cmocka_unit_test(filter_scale_accepted_iff_positive_finite),
        cmocka_unit_test(plane_limits_in_32_bits),
        cmocka_unit_test(sigmoid_output_scale_within_a_thousandth),
        cmocka_unit_test(sigmoid_input_rescaling_as_tflite),
        cmocka_unit_test(softmax_scaling_as_tflite),
        cmocka_unit_test(window_as_64_bit_formulas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
