/* Compressed-weight kernel paths against the dense reference kernels:
 *   int4 weights (FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D with int8 activations) must give
 *     exactly the bytes of the int8 kernel run on the unpacked weights, since the integer
 *     arithmetic is the same; odd element counts make rows start in the middle of a byte;
 *   hybrid weights (float activations, int8 weights) must agree with the float kernel run on the
 *     dequantized weights and on the input as TFLite's hybrid kernels quantize it (written out
 *     below from TFLite's documented rules, not taken from the kernel), up to float rounding,
 *     and with the float kernel on the original weights within the quantization error.
 * Each case also runs the optimized variant (*_opt, which falls back to the reference for int4
 * and hybrid weights): its outputs must be identical, with the same scratch request.
 * Plus the nibble order of TFLite's INT4 packing, by hand. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "kernel_harness.h"
#include "kernels/kernels.h"

#define DIMS(...) ((const int32_t[]){__VA_ARGS__})

static uint32_t rng_state;
static int32_t rnd(int32_t lo, int32_t hi) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return lo + (int32_t)((rng_state >> 8) % (uint32_t)(hi - lo + 1));
}
static float rndf(float lo, float hi) {
    return lo + (hi - lo) * (float)rnd(0, 1 << 20) / (float)(1 << 20);
}

/* Low nibble first: byte k holds elements 2k (bits 0-3) and 2k + 1 (bits 4-7). */
static void pack_int4(const int8_t *v, int n, uint8_t *out) {
    memset(out, 0, (size_t)(n + 1) / 2);
    for (int i = 0; i < n; i++)
        out[i / 2] |= (uint8_t)(((uint8_t)v[i] & 0x0f) << (i % 2 ? 4 : 0));
}

/* The optimized variant of a reference kernel (opt_*.c): it evaluates only plain int8 itself
 * and falls back to the reference for int4 and hybrid weights, so results must be identical. */
static const nml_kernel *optimized_of(const nml_kernel *k) {
    if (k == &nml_kernel_fully_connected) return &nml_kernel_fully_connected_opt;
    if (k == &nml_kernel_conv_2d) return &nml_kernel_conv_2d_opt;
    return &nml_kernel_depthwise_conv_2d_opt;
}

/* ---- int4 ---- */

/* Weights [1, 2, 3, -1] packed as 0x21, 0xF3 (TFLite's doc example: {0x12, 0x34} unpacks to
 * 2, 1, 4, 3). x = [1, 2, 4, 8] with zero points 0 and all scales 1:
 * y = 1*1 + 2*2 + 4*3 + 8*(-1) = 9 (high nibble first would give 2 + 2 - 4 + 24 = 24). */
static void int4_nibble_order(void **state) {
    (void)state;
    int8_t x[4] = {1, 2, 4, 8}, y[1];
    uint8_t w[2] = {0x21, 0xF3};
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_INT8, 2, DIMS(1, 4), x, 1.0f, 0);
    int tw = kh_tensor(&h, NML_INT4, 2, DIMS(1, 4), w, 1.0f, 0);
    int to = kh_tensor(&h, NML_INT8, 2, DIMS(1, 1), y, 1.0f, 0);
    kh_const(&h, tw);
    assert_int_equal(h.tensors[tw].bytes, 2);
    kh_inputs(&h, 3, ti, tw, -1);
    kh_outputs(&h, 1, to);
    nml_op_params p;
    nml_op_params_default(&p);
    if (kh_run(&h, &nml_kernel_fully_connected, &p) != NML_OK) fail_msg("%s", h.err.msg);
    assert_int_equal(y[0], 9);
    kh_free(&h);
}

typedef struct int4_case {
    const nml_kernel *kernel;
    int rank_in;
    int32_t in_dims[4], w_dims[4], out_dims[4];
    int q_dim, channels;
    nml_op_params p;
} int4_case;

/* Runs the kernel once with int8 weights and once with the same weights packed as int4. */
static void int4_vs_int8(const int4_case *c, uint32_t seed) {
    rng_state = seed;
    int n_in = 1, n_w = 1, n_out = 1;
    for (int i = 0; i < c->rank_in; i++) {
        n_in *= c->in_dims[i];
        n_out *= c->out_dims[i];
    }
    for (int i = 0; i < (c->kernel == &nml_kernel_fully_connected ? 2 : 4); i++)
        n_w *= c->w_dims[i];
    int8_t *x = malloc((size_t)n_in), *w = malloc((size_t)n_w);
    uint8_t *packed = malloc((size_t)(n_w + 1) / 2);
    int8_t *y8 = malloc((size_t)n_out), *y4 = malloc((size_t)n_out);
    int8_t *y_opt = malloc((size_t)n_out);
    int32_t *bias = malloc((size_t)c->channels * sizeof *bias);
    float *scales = malloc((size_t)c->channels * sizeof *scales);
    for (int i = 0; i < n_in; i++)
        x[i] = (int8_t)rnd(-128, 127);
    for (int i = 0; i < n_w; i++)
        w[i] = (int8_t)rnd(-8, 7);
    for (int i = 0; i < c->channels; i++) {
        bias[i] = rnd(-2000, 2000);
        scales[i] = 0.01f + 0.002f * (float)i;
    }
    pack_int4(w, n_w, packed);
    uint32_t scratch_ref = 0;
    const int w_rank = c->kernel == &nml_kernel_fully_connected ? 2 : 4;
    for (int run = 0; run < 4; run++) {
        const int pass = run / 2, opt = run % 2; /* int8 / int4 weights, reference / optimized */
        int8_t *y = opt ? y_opt : (pass ? y4 : y8);
        nml_kh h;
        kh_init(&h);
        kh_weighted_node(&h, (kh_spec){NML_INT8, c->rank_in, c->in_dims, x, 0.05f, 3},
                         (kh_spec){pass ? NML_INT4 : NML_INT8, w_rank, c->w_dims,
                                   pass ? (void *)packed : (void *)w, 1.0f, 0},
                         (kh_spec){NML_INT32, 1, DIMS(c->channels), bias, 0.0005f, 0},
                         (kh_spec){NML_INT8, c->rank_in, c->out_dims, y, 0.02f, -5});
        const int tw = KH_WEIGHTS;
        kh_per_channel(&h, tw, scales, NULL, (uint32_t)c->channels, c->q_dim);
        const nml_kernel *k = opt ? optimized_of(c->kernel) : c->kernel;
        if (kh_run(&h, k, &c->p) != NML_OK) fail_msg("run %d: %s", run, h.err.msg);
        if (!opt) scratch_ref = h.node.scratch_bytes;
        if (opt && pass) /* int4 falls back: the reference's scratch, the same bytes */
            assert_int_equal(h.node.scratch_bytes, scratch_ref);
        kh_free(&h);
        if (opt && memcmp(y_opt, pass ? y4 : y8, (size_t)n_out) != 0)
            fail_msg("%s optimized differs from the reference (%s weights)", k->name,
                     pass ? "int4" : "int8");
    }
    for (int i = 0; i < n_out; i++)
        if (y4[i] != y8[i]) fail_msg("element %d: int4 %d, int8 %d", i, y4[i], y8[i]);
    int distinct = 0; /* the comparison means something only if outputs vary */
    for (int i = 1; i < n_out; i++)
        distinct += y8[i] != y8[0];
    assert_true(distinct > 0);
    free(x);
    free(w);
    free(packed);
    free(y8);
    free(y4);
    free(y_opt);
    free(bias);
    free(scales);
}

static void int4_fully_connected(void **state) {
    (void)state;
    int4_case c;
    memset(&c, 0, sizeof c);
    c.kernel = &nml_kernel_fully_connected;
    c.rank_in = 2;
    memcpy(c.in_dims, DIMS(3, 7), 2 * sizeof(int32_t)); /* depth 7: rows straddle bytes */
    memcpy(c.w_dims, DIMS(5, 7), 2 * sizeof(int32_t));
    memcpy(c.out_dims, DIMS(3, 5), 2 * sizeof(int32_t));
    c.q_dim = 0;
    c.channels = 5;
    nml_op_params_default(&c.p);
    for (uint32_t seed = 1; seed <= 5; seed++)
        int4_vs_int8(&c, seed);
    c.p.activation = NML_ACT_RELU6;
    int4_vs_int8(&c, 99);
}

static void int4_conv_2d(void **state) {
    (void)state;
    int4_case c;
    memset(&c, 0, sizeof c);
    c.kernel = &nml_kernel_conv_2d;
    c.rank_in = 4;
    memcpy(c.in_dims, DIMS(2, 5, 6, 3), sizeof c.in_dims);
    memcpy(c.w_dims, DIMS(4, 3, 3, 3), sizeof c.w_dims); /* 27 weights per channel */
    memcpy(c.out_dims, DIMS(2, 3, 3, 4), sizeof c.out_dims);
    c.q_dim = 0;
    c.channels = 4;
    nml_op_params_default(&c.p);
    c.p.stride_h = c.p.stride_w = 2;
    for (uint32_t seed = 1; seed <= 3; seed++)
        int4_vs_int8(&c, seed);
    c.p.padding = NML_PAD_VALID;
    c.p.stride_h = c.p.stride_w = 1;
    memcpy(c.out_dims, DIMS(2, 3, 4, 4), sizeof c.out_dims);
    int4_vs_int8(&c, 42);
}

static void int4_depthwise_conv_2d(void **state) {
    (void)state;
    int4_case c;
    memset(&c, 0, sizeof c);
    c.kernel = &nml_kernel_depthwise_conv_2d;
    c.rank_in = 4;
    memcpy(c.in_dims, DIMS(1, 5, 5, 3), sizeof c.in_dims);
    memcpy(c.w_dims, DIMS(1, 3, 3, 6), sizeof c.w_dims);
    memcpy(c.out_dims, DIMS(1, 5, 5, 6), sizeof c.out_dims);
    c.q_dim = 3;
    c.channels = 6;
    nml_op_params_default(&c.p);
    c.p.depth_multiplier = 2;
    for (uint32_t seed = 1; seed <= 3; seed++)
        int4_vs_int8(&c, seed);
}

/* ---- hybrid ---- */

/* TFLite's symmetric per-batch input quantization: s = max|x| / 127, q = round(x / s). */
static void fake_quant_symmetric(const float *x, int n, float *xq, float *s_out) {
    float m = 0.0f;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > m) m = fabsf(x[i]);
    const float s = m / 127.0f;
    for (int i = 0; i < n; i++)
        xq[i] = s * roundf(x[i] * (127.0f / m));
    *s_out = s;
}

/* TFLite's asymmetric per-batch input quantization: [min(x,0), max(x,0)] onto [-128, 127] with
 * the zero point taken from the end that loses less, rounded; q = round(zp + x / s). */
static void fake_quant_asymmetric(const float *x, int n, float *xq, float *s_out) {
    double lo = 0.0, hi = 0.0;
    for (int i = 0; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    const double s = (hi - lo) / 255.0;
    const double zmin = -128.0 - lo / s, zmax = 127.0 - hi / s;
    const double zp = (128.0 + fabs(lo / s)) < (127.0 + fabs(hi / s)) ? zmin : zmax;
    const float z = (float)round(zp < -128 ? -128 : (zp > 127 ? 127 : zp));
    const float inv = (float)(1.0 / (double)(float)s); /* quantized in float, as TFLite does */
    for (int i = 0; i < n; i++) {
        float q = roundf(z + x[i] * inv);
        q = q < -128 ? -128 : (q > 127 ? 127 : q);
        xq[i] = (q - z) * (float)s;
    }
    *s_out = (float)s;
}

/* Symmetric per-channel int8 weights along q_dim of a [d0, ..., d3] tensor (inner = product of
 * the dimensions after q_dim). */
static void quantize_weights(const float *w, int n, int channels, int inner, int8_t *q,
                             float *scales, float *w_deq) {
    for (int c = 0; c < channels; c++) {
        float m = 0.0f;
        for (int i = 0; i < n; i++)
            if ((i / inner) % channels == c && fabsf(w[i]) > m) m = fabsf(w[i]);
        scales[c] = m / 127.0f;
    }
    for (int i = 0; i < n; i++) {
        const int c = (i / inner) % channels;
        q[i] = (int8_t)roundf(w[i] / scales[c]);
        w_deq[i] = (float)q[i] * scales[c];
    }
}

typedef struct hybrid_case {
    const nml_kernel *kernel;
    int rank;
    int32_t in_dims[4], w_dims[4], out_dims[4];
    int q_dim, channels, inner, per_tensor, asymmetric;
    nml_op_params p;
} hybrid_case;

static void run_float(const hybrid_case *c, float *x, float *w, float *bias, float *y) {
    nml_kh h;
    kh_init(&h);
    const int w_rank = c->kernel == &nml_kernel_fully_connected ? 2 : 4;
    int ti = kh_tensor(&h, NML_FLOAT32, c->rank, c->in_dims, x, 0, 0);
    int tw = kh_tensor(&h, NML_FLOAT32, w_rank, c->w_dims, w, 0, 0);
    int tb = kh_tensor(&h, NML_FLOAT32, 1, DIMS(c->channels), bias, 0, 0);
    int to = kh_tensor(&h, NML_FLOAT32, c->rank, c->out_dims, y, 0, 0);
    kh_inputs(&h, 3, ti, tw, tb);
    kh_outputs(&h, 1, to);
    if (kh_run(&h, c->kernel, &c->p) != NML_OK) fail_msg("float: %s", h.err.msg);
    kh_free(&h);
}

static void hybrid_vs_float(const hybrid_case *c, uint32_t seed) {
    rng_state = seed;
    const int w_rank = c->kernel == &nml_kernel_fully_connected ? 2 : 4;
    int n_in = 1, n_w = 1, n_out = 1;
    for (int i = 0; i < c->rank; i++) {
        n_in *= c->in_dims[i];
        n_out *= c->out_dims[i];
    }
    for (int i = 0; i < w_rank; i++)
        n_w *= c->w_dims[i];
    const int batches = c->in_dims[0], per_batch = n_in / batches;
    float *x = malloc((size_t)n_in * 4), *xq = malloc((size_t)n_in * 4);
    float *w = malloc((size_t)n_w * 4), *wd = malloc((size_t)n_w * 4);
    int8_t *wq = malloc((size_t)n_w);
    float *bias = malloc((size_t)c->channels * 4), *scales = malloc((size_t)c->channels * 4);
    float *y_h = malloc((size_t)n_out * 4), *y_ref = malloc((size_t)n_out * 4);
    float *y_f = malloc((size_t)n_out * 4), *in_scale = malloc((size_t)batches * 4);
    float *y_opt = malloc((size_t)n_out * 4);
    for (int i = 0; i < n_in; i++)
        x[i] = rndf(-1.0f, 3.0f);
    for (int i = 0; i < n_w; i++)
        w[i] = rndf(-0.5f, 0.5f) * (1.0f + (float)(i % 3));
    for (int i = 0; i < c->channels; i++)
        bias[i] = rndf(-1.0f, 1.0f);
    quantize_weights(w, n_w, c->per_tensor ? 1 : c->channels, c->per_tensor ? n_w : c->inner, wq,
                     scales, wd);
    for (int b = 0; b < batches; b++) {
        if (c->asymmetric)
            fake_quant_asymmetric(x + b * per_batch, per_batch, xq + b * per_batch, &in_scale[b]);
        else
            fake_quant_symmetric(x + b * per_batch, per_batch, xq + b * per_batch, &in_scale[b]);
    }

    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_FLOAT32, c->rank, c->in_dims, x, 0, 0);
    int tw = kh_tensor(&h, NML_INT8, w_rank, c->w_dims, wq, scales[0], 0);
    if (!c->per_tensor) kh_per_channel(&h, tw, scales, NULL, (uint32_t)c->channels, c->q_dim);
    int tb = kh_tensor(&h, NML_FLOAT32, 1, DIMS(c->channels), bias, 0, 0);
    int to = kh_tensor(&h, NML_FLOAT32, c->rank, c->out_dims, y_h, 0, 0);
    kh_const(&h, tw);
    kh_inputs(&h, 3, ti, tw, tb);
    kh_outputs(&h, 1, to);
    if (kh_run(&h, c->kernel, &c->p) != NML_OK) fail_msg("hybrid: %s", h.err.msg);
    const uint32_t scratch_ref = h.node.scratch_bytes;
    /* the optimized kernel falls back to the reference: same scratch, same bits */
    h.tensors[to].data = y_opt;
    const nml_kernel *k_opt = optimized_of(c->kernel);
    if (kh_run(&h, k_opt, &c->p) != NML_OK) fail_msg("hybrid %s: %s", k_opt->name, h.err.msg);
    assert_int_equal(h.node.scratch_bytes, scratch_ref);
    if (memcmp(y_opt, y_h, (size_t)n_out * 4) != 0)
        fail_msg("%s optimized differs from the reference (hybrid)", k_opt->name);
    kh_free(&h);

    run_float(c, xq, wd, bias, y_ref); /* same arithmetic up to float rounding */
    run_float(c, x, w, bias, y_f);     /* the uncompressed layer */
    double worst_ref = 0.0, worst_f = 0.0, mag = 0.0;
    for (int i = 0; i < n_out; i++) {
        const double dr = fabs((double)y_h[i] - y_ref[i]), df = fabs((double)y_h[i] - y_f[i]);
        worst_ref = dr > worst_ref ? dr : worst_ref;
        worst_f = df > worst_f ? df : worst_f;
        mag = fabs((double)y_f[i]) > mag ? fabs((double)y_f[i]) : mag;
    }
    if (worst_ref > 1e-5 * (1.0 + mag))
        fail_msg("hybrid differs from the float kernel on dequantized values by %g", worst_ref);
    /* 8-bit weights and inputs: a few percent of the output magnitude at most */
    if (worst_f > 0.03 * mag)
        fail_msg("hybrid is %g from the float layer (magnitude %g)", worst_f, mag);
    assert_true(worst_f > 0.0); /* it did quantize */
    free(x);
    free(xq);
    free(w);
    free(wd);
    free(wq);
    free(bias);
    free(scales);
    free(y_h);
    free(y_ref);
    free(y_f);
    free(y_opt);
    free(in_scale);
}

static void hybrid_fully_connected(void **state) {
    (void)state;
    hybrid_case c;
    memset(&c, 0, sizeof c);
    c.kernel = &nml_kernel_fully_connected;
    c.rank = 2;
    memcpy(c.in_dims, DIMS(3, 40), 2 * sizeof(int32_t));
    memcpy(c.w_dims, DIMS(6, 40), 2 * sizeof(int32_t));
    memcpy(c.out_dims, DIMS(3, 6), 2 * sizeof(int32_t));
    c.q_dim = 0;
    c.channels = 6;
    c.inner = 40;
    nml_op_params_default(&c.p);
    for (uint32_t seed = 1; seed <= 4; seed++)
        hybrid_vs_float(&c, seed);
    c.per_tensor = 1;
    hybrid_vs_float(&c, 7);
}

static void hybrid_conv_2d(void **state) {
    (void)state;
    hybrid_case c;
    memset(&c, 0, sizeof c);
    c.kernel = &nml_kernel_conv_2d;
    c.rank = 4;
    memcpy(c.in_dims, DIMS(2, 6, 5, 3), sizeof c.in_dims);
    memcpy(c.w_dims, DIMS(4, 3, 3, 3), sizeof c.w_dims);
    memcpy(c.out_dims, DIMS(2, 6, 5, 4), sizeof c.out_dims);
    c.q_dim = 0;
    c.channels = 4;
    c.inner = 27;
    c.asymmetric = 1; /* per-channel hybrid conv quantizes its input asymmetrically */
    nml_op_params_default(&c.p);
    for (uint32_t seed = 1; seed <= 3; seed++)
        hybrid_vs_float(&c, seed);
    c.per_tensor = 1; /* per-tensor hybrid conv: symmetric */
    c.asymmetric = 0;
    hybrid_vs_float(&c, 11);
}

static void hybrid_depthwise_conv_2d(void **state) {
    (void)state;
    hybrid_case c;
    memset(&c, 0, sizeof c);
    c.kernel = &nml_kernel_depthwise_conv_2d;
    c.rank = 4;
    memcpy(c.in_dims, DIMS(2, 5, 5, 4), sizeof c.in_dims);
    memcpy(c.w_dims, DIMS(1, 3, 3, 4), sizeof c.w_dims);
    memcpy(c.out_dims, DIMS(2, 5, 5, 4), sizeof c.out_dims);
    c.q_dim = 3;
    c.channels = 4;
    c.inner = 1;
    c.asymmetric = 1;
    nml_op_params_default(&c.p);
    for (uint32_t seed = 1; seed <= 3; seed++)
        hybrid_vs_float(&c, seed);
}

/* An all-zero input row gives the bias (TFLite's scale-1 shortcut), RELU clamps it. */
static void hybrid_zero_input_gives_bias(void **state) {
    (void)state;
    float x[4] = {0, 0, 0, 0}, bias[2] = {0.75f, -0.5f}, y[2];
    int8_t w[8] = {1, 2, 3, 4, -1, -2, -3, -4};
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_FLOAT32, 2, DIMS(1, 4), x, 0, 0},
                     (kh_spec){NML_INT8, 2, DIMS(2, 4), w, 0.5f, 0},
                     (kh_spec){NML_FLOAT32, 1, DIMS(2), bias, 0, 0},
                     (kh_spec){NML_FLOAT32, 2, DIMS(1, 2), y, 0, 0});
    nml_op_params p;
    nml_op_params_default(&p);
    p.activation = NML_ACT_RELU;
    assert_int_equal(kh_run(&h, &nml_kernel_fully_connected, &p), NML_OK);
    assert_true(y[0] == 0.75f);
    assert_true(y[1] == 0.0f);
    kh_free(&h);
}

/* Hybrid weights must be symmetric and carry one scale per output channel. */
static void hybrid_rejects_bad_weights(void **state) {
    (void)state;
    float x[4] = {1, 2, 3, 4}, y[2];
    int8_t w[8] = {0};
    float scales[3] = {0.1f, 0.2f, 0.3f};
    nml_kh h;
    kh_init(&h);
    kh_weighted_node(&h, (kh_spec){NML_FLOAT32, 2, DIMS(1, 4), x, 0, 0},
                     (kh_spec){NML_INT8, 2, DIMS(2, 4), w, 0.5f, 3}, KH_NO_BIAS,
                     (kh_spec){NML_FLOAT32, 2, DIMS(1, 2), y, 0, 0});
    const int tw = KH_WEIGHTS;
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_run(&h, &nml_kernel_fully_connected, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "symmetric"));
    kh_per_channel(&h, tw, scales, NULL, 3, 0); /* 3 scales for 2 units */
    assert_int_equal(kh_run(&h, &nml_kernel_fully_connected, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "3 scales"));
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(int4_nibble_order),
        cmocka_unit_test(int4_fully_connected),
        cmocka_unit_test(int4_conv_2d),
        cmocka_unit_test(int4_depthwise_conv_2d),
        cmocka_unit_test(hybrid_fully_connected),
        cmocka_unit_test(hybrid_conv_2d),
        cmocka_unit_test(hybrid_depthwise_conv_2d),
        cmocka_unit_test(hybrid_zero_input_gives_bias),
        cmocka_unit_test(hybrid_rejects_bad_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
