/* The importer on tiny hand-built graphs. Each test builds an ONNX model, imports it, checks the
 * operators chosen, and runs the IR with the test evaluator (TFLite semantics, NHWC). Expected
 * values come from the ONNX definition computed here in plain NCHW loops, or by hand in the
 * comments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir_eval.h"
#include "onnx/import.h"
#include "onnx_builder.h"
#include "onnx_oracle.h"
#include "test_util.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define D(...) ((const int64_t[]){__VA_ARGS__})

static nml_status try_import(ob_buf *model, const char *shape, int keep_nchw, nml_ir *ir,
                             nml_onnx_import_stats *st, nml_error *err) {
    nml_onnx_import_options opt;
    nml_onnx_import_options_default(&opt);
    opt.keep_nchw_output = keep_nchw;
    if (shape)
        assert_int_equal(nml_onnx_parse_shape(shape, opt.input_shape, &opt.n_input_shape, err),
                         NML_OK);
    nml_ir_init(ir);
    nml_status s = nml_onnx_import(model->d, model->n, &opt, ir, st, err);
    ob_free(model);
    return s;
}

static void import_ok(ob_buf *model, const char *shape, nml_ir *ir, nml_onnx_import_stats *st) {
    nml_error err;
    if (try_import(model, shape, 0, ir, st, &err) != NML_OK) fail_msg("import: %s", err.msg);
}

static int count_ops(const nml_ir *ir, int32_t code) {
    int n = 0;
    for (int i = 0; i < ir->n_ops; i++)
        n += ir->ops[i].builtin == code;
    return n;
}

static const nml_ir_op *find_op(const nml_ir *ir, int32_t code) {
    for (int i = 0; i < ir->n_ops; i++)
        if (ir->ops[i].builtin == code) return &ir->ops[i];
    fail_msg("no %s operator", nml_op_name(code));
    return NULL;
}

/* Runs the IR on one NCHW input [1,c,h,w] (fed as NHWC); returns output k as stored. */
static float *run(const nml_ir *ir, const float *nchw, int c, int h, int w, int k) {
    float *in = nml_test_nchw_to_nhwc(nchw, c, h, w), *outs[8] = {0};
    const float *ins[1] = {in};
    nml_error err;
    assert_true(ir->n_outputs <= 8);
    if (nml_test_ir_eval(ir, ins, outs, &err) != NML_OK) fail_msg("evaluate: %s", err.msg);
    free(in);
    for (int i = 0; i < ir->n_outputs; i++)
        if (i != k) free(outs[i]);
    return outs[k];
}

/* NHWC [1,h,w,c] -> NCHW. */
static float *to_nchw(const float *x, int c, int h, int w) {
    float *y = malloc((size_t)c * h * w * sizeof *y);
    for (int i = 0; i < h * w; i++)
        for (int k = 0; k < c; k++)
            y[(size_t)k * h * w + i] = x[(size_t)i * c + k];
    return y;
}

static void assert_close(const float *got, const float *want, size_t n, double tol) {
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - (double)want[i]) <= tol))
            fail_msg("element %zu: got %.7g, want %.7g", i, (double)got[i], (double)want[i]);
}

static float *iota(size_t n, float start, float step) {
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = start + step * (float)i;
    return x;
}

/* ---- Conv + BatchNormalization + Relu ---- */

static void conv_bn_relu_fold_into_one_conv(void **state) {
    (void)state;
    /* y = relu(BN(conv(x))): conv = 2*x0 - x1 + 0.5; BN scale 1.5, bias -1, mean 0.5, var 0.25,
     * epsilon 0 -> s = 1.5 / sqrt(0.25) = 3, y = 3 * (conv - 0.5) - 1 = 6*x0 - 3*x1 - 1 */
    ob_buf g = {0}, m = {0}, a = {0};
    ob_io(&g, 0, "x", 4, D(1, 2, 3, 3));
    ob_init_f32(&g, "w", 4, D(1, 2, 1, 1), (const float[]){2, -1});
    ob_init_f32(&g, "b", 1, D(1), (const float[]){0.5f});
    ob_init_f32(&g, "scale", 1, D(1), (const float[]){1.5f});
    ob_init_f32(&g, "shift", 1, D(1), (const float[]){-1});
    ob_init_f32(&g, "mean", 1, D(1), (const float[]){0.5f});
    ob_init_f32(&g, "var", 1, D(1), (const float[]){0.25f});
    ob_attr_ints(&a, "kernel_shape", D(1, 1), 2);
    ob_node(&g, "Conv", "conv", L("x", "w", "b"), L("c"), &a);
    ob_attr_float(&a, "epsilon", 0.0f);
    ob_node(&g, "BatchNormalization", "bn", L("c", "scale", "shift", "mean", "var"), L("n"), &a);
    ob_node(&g, "Relu", "relu", L("n"), L("y"), NULL);
    ob_io(&g, 1, "y", 4, D(1, 1, 3, 3));
    ob_model(&m, 11, &g);
    nml_ir ir;
    nml_onnx_import_stats st;
    import_ok(&m, NULL, &ir, &st);
    assert_int_equal(ir.n_ops, 1);
    const nml_ir_op *op = &ir.ops[0];
    assert_int_equal(op->builtin, NML_OP_CONV_2D);
    assert_int_equal(op->params.activation, NML_ACT_RELU);
    assert_int_equal(op->params.padding, NML_PAD_VALID);
    const nml_ir_tensor *w = &ir.tensors[op->inputs[1]], *b = &ir.tensors[op->inputs[2]];
    const float *wv = (const float *)w->data, *bv = (const float *)b->data;
    assert_true(fabsf(wv[0] - 6) < 1e-6f && fabsf(wv[1] + 3) < 1e-6f && fabsf(bv[0] + 1) < 1e-6f);
    assert_int_equal(st.fused, 2);
    float *x = iota(18, -2.0f, 0.25f);
    float *y = run(&ir, x, 2, 3, 3, 0), want[9];
    for (int i = 0; i < 9; i++) {
        float v = 6 * x[i] - 3 * x[9 + i] - 1;
        want[i] = v > 0 ? v : 0;
    }
    assert_close(y, want, 9, 1e-5);
    free(x);
    free(y);
    nml_ir_free(&ir);
}

/* ---- channel shuffles ---- */

/* out = transpose(in) for a row-major tensor: out dims[i] = in dims[perm[i]] */
static void ref_transpose(const float *in, const int64_t *dims, int rank, const int *perm,
                          float *out) {
    int64_t od[8], idx[8] = {0}, st[8], n = 1;
    for (int i = rank - 1; i >= 0; i--) {
        st[i] = n;
        n *= dims[i];
    }
    for (int i = 0; i < rank; i++)
        od[i] = dims[perm[i]];
    for (int64_t k = 0; k < n; k++) {
        int64_t off = 0;
        for (int i = 0; i < rank; i++)
            off += idx[i] * st[perm[i]];
        out[k] = in[off];
        for (int i = rank - 1; i >= 0; i--) {
            if (++idx[i] < od[i]) break;
            idx[i] = 0;
        }
    }
}

/* ShuffleNetV2 as FastestDet exports it (b=1, c=8, h=2, w=3):
 * x -> Reshape[c/2, 2, h*w] -> Transpose[1,0,2] -> Reshape[2, -1, c/2, h, w] -> Gather 0 / 1 */
static void build_v2_shuffle(ob_buf *g, int c, int h, int w) {
    ob_buf a = {0};
    ob_init_i64(g, "s1", 1, D(3), (const int64_t[]){c / 2, 2, h * w});
    ob_init_i64(g, "s2", 1, D(5), (const int64_t[]){2, -1, c / 2, h, w});
    ob_init_i64(g, "i0", 0, NULL, (const int64_t[]){0});
    ob_init_i64(g, "i1", 0, NULL, (const int64_t[]){1});
    ob_node(g, "Reshape", "r1", L("x", "s1"), L("a"), NULL);
    ob_attr_ints(&a, "perm", D(1, 0, 2), 3);
    ob_node(g, "Transpose", "t", L("a"), L("b"), &a);
    ob_node(g, "Reshape", "r2", L("b", "s2"), L("c"), NULL);
    ob_attr_int(&a, "axis", 0);
    ob_node(g, "Gather", "g0", L("c", "i0"), L("even"), &a);
    ob_attr_int(&a, "axis", 0);
    ob_node(g, "Gather", "g1", L("c", "i1"), L("odd"), &a);
}

static void v2_channel_shuffle_becomes_two_gathers(void **state) {
    (void)state;
    enum { C = 8, H = 2, W = 3 };
    ob_buf g = {0}, m = {0};
    ob_io(&g, 0, "x", 4, D(1, C, H, W));
    build_v2_shuffle(&g, C, H, W);
    ob_io(&g, 1, "even", 4, D(1, C / 2, H, W));
    ob_io(&g, 1, "odd", 4, D(1, C / 2, H, W));
    ob_model(&m, 11, &g);
    nml_ir ir;
    nml_onnx_import_stats st;
    import_ok(&m, NULL, &ir, &st);
    assert_int_equal(ir.n_ops, 2);
    assert_int_equal(count_ops(&ir, NML_OP_GATHER), 2);
    assert_int_equal(st.absorbed, 5);
    assert_int_equal(find_op(&ir, NML_OP_GATHER)->params.axis, 3); /* the NHWC channel axis */

    /* the ONNX definition, step by step on NCHW data (reshapes keep the flat order) */
    float *x = iota(C * H * W, 0, 1), t[C * H * W];
    ref_transpose(x, D(C / 2, 2, H * W), 3, (const int[]){1, 0, 2}, t);
    /* t is [2, 1, c/2, h, w]: gather index 0 and 1 on axis 0 are its two halves */
    for (int k = 0; k < 2; k++) {
        float *got = run(&ir, x, C, H, W, k), *nchw = to_nchw(got, C / 2, H, W);
        assert_close(nchw, t + k * (C / 2) * H * W, (C / 2) * H * W, 0);
        free(got);
        free(nchw);
    }
    /* and, as derived in layout.c: the halves are the even and the odd channels */
    float *even = run(&ir, x, C, H, W, 0);
    assert_true(even[0] == x[0 * H * W] && even[1] == x[2 * H * W] && even[3] == x[6 * H * W]);
    free(even);
    free(x);
    nml_ir_free(&ir);
}

/* ShuffleNet v1: Reshape[1,g,c/g,h,w] -> Transpose[0,2,1,3,4] -> Reshape[1,c,h,w] -> Relu */
static void v1_channel_shuffle_becomes_one_gather(void **state) {
    (void)state;
    enum { C = 6, H = 2, W = 2 };
    ob_buf g = {0}, m = {0}, a = {0};
    ob_io(&g, 0, "x", 4, D(1, C, H, W));
    ob_init_i64(&g, "s1", 1, D(5), (const int64_t[]){1, 2, 3, H, W});
    ob_init_i64(&g, "s2", 1, D(4), (const int64_t[]){1, C, H, W});
    ob_node(&g, "Reshape", "r1", L("x", "s1"), L("a"), NULL);
    ob_attr_ints(&a, "perm", D(0, 2, 1, 3, 4), 5);
    ob_node(&g, "Transpose", "t", L("a"), L("b"), &a);
    ob_node(&g, "Reshape", "r2", L("b", "s2"), L("c"), NULL);
    ob_node(&g, "Relu", "relu", L("c"), L("y"), NULL);
    ob_io(&g, 1, "y", 4, D(1, C, H, W));
    ob_model(&m, 13, &g);
    nml_ir ir;
    import_ok(&m, NULL, &ir, NULL);
    assert_int_equal(ir.n_ops, 2);
    assert_int_equal(count_ops(&ir, NML_OP_GATHER), 1);
    assert_int_equal(count_ops(&ir, NML_OP_RELU), 1);
    float *x = iota(C * H * W, -10, 1), want[C * H * W];
    ref_transpose(x, D(1, 2, 3, H, W), 5, (const int[]){0, 2, 1, 3, 4}, want);
    for (int i = 0; i < C * H * W; i++)
        want[i] = want[i] > 0 ? want[i] : 0;
    float *got = run(&ir, x, C, H, W, 0), *nchw = to_nchw(got, C, H, W);
    assert_close(nchw, want, C * H * W, 0);
    free(got);
    free(nchw);
    free(x);
    nml_ir_free(&ir);
}

static void transposes_become_layouts(void **state) {
    (void)state;
    /* Transpose to NHWC, Relu, Transpose back: the stored tensor never moves */
    ob_buf g = {0}, m = {0}, a = {0};
    ob_io(&g, 0, "x", 4, D(1, 2, 3, 4));
    ob_attr_ints(&a, "perm", D(0, 2, 3, 1), 4);
    ob_node(&g, "Transpose", "t1", L("x"), L("a"), &a);
    ob_node(&g, "Relu", "relu", L("a"), L("b"), NULL);
    ob_attr_ints(&a, "perm", D(0, 3, 1, 2), 4);
    ob_node(&g, "Transpose", "t2", L("b"), L("y"), &a);
    ob_io(&g, 1, "y", 4, D(1, 2, 3, 4));
    ob_model(&m, 11, &g);
    nml_ir ir;
    nml_onnx_import_stats st;
    import_ok(&m, NULL, &ir, &st);
    assert_int_equal(ir.n_ops, 1);
    assert_int_equal(ir.ops[0].builtin, NML_OP_RELU);
    assert_int_equal(st.onnx_transposes, 2);
    assert_int_equal(st.ir_transposes, 0);
    float *x = iota(24, -12, 1);
    float *got = run(&ir, x, 2, 3, 4, 0), *nchw = to_nchw(got, 2, 3, 4);
    for (int i = 0; i < 24; i++)
        assert_true(nchw[i] == (x[i] > 0 ? x[i] : 0));
    free(got);
    free(nchw);
    free(x);
    nml_ir_free(&ir);
}

/* Direct NCHW grouped convolution (stride 1, no padding). */
static void ref_conv_grouped(const float *x, int ci, int h, int w, const float *k, int co, int kh,
                             int kw, int group, float *out) {
    int oh = h - kh + 1, ow = w - kw + 1, cpg = ci / group, opg = co / group;
    for (int o = 0; o < co; o++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                float s = 0;
                for (int i = 0; i < cpg; i++)
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++)
                            s += x[((o / opg * cpg + i) * h + oy + ky) * w + ox + kx] *
                                 k[((o * cpg + i) * kh + ky) * kw + kx];
                out[(o * oh + oy) * ow + ox] = s;
            }
}

static void weights_become_ohwi_and_1hwo(void **state) {
    (void)state;
    enum { CI = 2, H = 4, W = 3 };
    for (int dw = 0; dw <= 1; dw++) {
        /* dense: 3 outputs from 2 inputs, 2x2 kernel; depthwise: multiplier 2 (4 outputs) */
        int co = dw ? 4 : 3, group = dw ? CI : 1, per = CI / group;
        float k[3 * 2 * 2 * 2];
        for (int i = 0; i < co * per * 4; i++)
            k[i] = (float)((i * 5) % 7) - 3;
        ob_buf g = {0}, m = {0}, a = {0};
        ob_io(&g, 0, "x", 4, D(1, CI, H, W));
        ob_init_f32(&g, "w", 4, ((const int64_t[]){co, per, 2, 2}), k);
        ob_attr_ints(&a, "kernel_shape", D(2, 2), 2);
        ob_attr_int(&a, "group", group);
        ob_node(&g, "Conv", "conv", L("x", "w"), L("y"), &a);
        ob_io(&g, 1, "y", 4, ((const int64_t[]){1, co, H - 1, W - 1}));
        ob_model(&m, 11, &g);
        nml_ir ir;
        import_ok(&m, NULL, &ir, NULL);
        const nml_ir_op *op = &ir.ops[0];
        assert_int_equal(op->builtin, dw ? NML_OP_DEPTHWISE_CONV_2D : NML_OP_CONV_2D);
        const nml_ir_tensor *wt = &ir.tensors[op->inputs[1]];
        int32_t want_dims[4] = {dw ? 1 : co, 2, 2, dw ? co : CI};
        assert_memory_equal(wt->dims, want_dims, sizeof want_dims);
        if (dw) assert_int_equal(op->params.depth_multiplier, 2);
        float *x = iota(CI * H * W, -3, 0.5f), want[4 * 3 * 2];
        ref_conv_grouped(x, CI, H, W, k, co, 2, 2, group, want);
        float *y = run(&ir, x, CI, H, W, 0), *nchw = to_nchw(y, co, H - 1, W - 1);
        assert_close(nchw, want, (size_t)co * (H - 1) * (W - 1), 1e-5);
        free(y);
        free(nchw);
        free(x);
        nml_ir_free(&ir);
    }
}

/* Pixel shuffle written as Reshape/Transpose/Reshape: no single TFLite operator moves data this
 * way, so the chain is lowered literally in ONNX order (between layout transposes). */
static void inexpressible_chains_are_lowered_literally(void **state) {
    (void)state;
    enum { C = 4, H = 2, W = 3 };
    ob_buf g = {0}, m = {0}, a = {0};
    ob_io(&g, 0, "x", 4, D(1, C, H, W));
    ob_init_i64(&g, "s1", 1, D(6), (const int64_t[]){1, 1, 2, 2, H, W});
    ob_init_i64(&g, "s2", 1, D(4), (const int64_t[]){1, 1, 2 * H, 2 * W});
    ob_node(&g, "Reshape", "r1", L("x", "s1"), L("a"), NULL);
    ob_attr_ints(&a, "perm", D(0, 1, 4, 2, 5, 3), 6);
    ob_node(&g, "Transpose", "t", L("a"), L("b"), &a);
    ob_node(&g, "Reshape", "r2", L("b", "s2"), L("c"), NULL);
    ob_node(&g, "Relu", "relu", L("c"), L("y"), NULL);
    ob_io(&g, 1, "y", 4, D(1, 1, 2 * H, 2 * W));
    ob_model(&m, 11, &g);
    nml_ir ir;
    import_ok(&m, NULL, &ir, NULL);
    assert_true(count_ops(&ir, NML_OP_TRANSPOSE) >= 1);
    float *x = iota(C * H * W, -5, 1), want[C * H * W];
    ref_transpose(x, D(1, 1, 2, 2, H, W), 6, (const int[]){0, 1, 4, 2, 5, 3}, want);
    for (int i = 0; i < C * H * W; i++)
        want[i] = want[i] > 0 ? want[i] : 0;
    float *y = run(&ir, x, C, H, W, 0); /* one channel: NHWC and NCHW coincide */
    assert_close(y, want, C * H * W, 0);
    free(y);
    free(x);
    nml_ir_free(&ir);
}

/* ---- pooling and padding ---- */

static void build_avgpool(int64_t cip, int stride, nml_ir *ir) {
    ob_buf g = {0}, m = {0}, a = {0};
    ob_io(&g, 0, "x", 4, D(1, 1, 4, 4));
    ob_attr_ints(&a, "kernel_shape", D(3, 3), 2);
    ob_attr_ints(&a, "pads", D(1, 1, 1, 1), 4);
    ob_attr_ints(&a, "strides", ((const int64_t[]){stride, stride}), 2);
    ob_attr_int(&a, "count_include_pad", cip);
    ob_node(&g, "AveragePool", "pool", L("x"), L("y"), &a);
    int o = stride == 1 ? 4 : 2;
    ob_io(&g, 1, "y", 4, ((const int64_t[]){1, 1, o, o}));
    ob_model(&m, 11, &g);
    import_ok(&m, NULL, ir, NULL);
}

static void average_pool_padding_counts_as_onnx_says(void **state) {
    (void)state;
    float *x = iota(16, 1, 1); /* rows 1..4, 5..8, 9..12, 13..16 */
    nml_ir ir;
    /* count_include_pad=1: TFLite never counts padding, so PAD + VALID; corner = 14 / 9 */
    build_avgpool(1, 1, &ir);
    assert_int_equal(count_ops(&ir, NML_OP_PAD), 1);
    assert_int_equal(find_op(&ir, NML_OP_AVERAGE_POOL_2D)->params.padding, NML_PAD_VALID);
    float *y = run(&ir, x, 1, 4, 4, 0);
    assert_true(fabsf(y[0] - 14.0f / 9) < 1e-6f);
    assert_true(fabsf(y[5] - (1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11) / 9.0f) < 1e-5f);
    free(y);
    nml_ir_free(&ir);
    /* count_include_pad=0, stride 1: exactly TFLite's SAME; corner = 14 / 4 */
    build_avgpool(0, 1, &ir);
    assert_int_equal(ir.n_ops, 1);
    assert_int_equal(ir.ops[0].params.padding, NML_PAD_SAME);
    y = run(&ir, x, 1, 4, 4, 0);
    assert_true(fabsf(y[0] - 3.5f) < 1e-6f);
    free(y);
    nml_ir_free(&ir);
    /* count_include_pad=0, stride 2 on 4x4: ONNX pads 1 in front, TFLite SAME would pad at the
     * end; windows rows/cols {-1..1} and {1..3}: 14/4, (2+3+4+6+7+8)/6, ..., 99/9 */
    build_avgpool(0, 2, &ir);
    assert_int_equal(count_ops(&ir, NML_OP_PAD), 1);
    assert_int_equal(count_ops(&ir, NML_OP_MUL), 1);
    y = run(&ir, x, 1, 4, 4, 0);
    const float want[4] = {14.0f / 4, 30.0f / 6, (5 + 6 + 9 + 10 + 13 + 14) / 6.0f, 99.0f / 9};
    assert_close(y, want, 4, 1e-5);
    free(y);
    nml_ir_free(&ir);
    free(x);
}

static void max_pool_pads_with_the_lowest_float(void **state) {
    (void)state;
    /* all inputs negative: zero padding would win, -FLT_MAX never does */
    ob_buf g = {0}, m = {0}, a = {0};
    ob_io(&g, 0, "x", 4, D(1, 1, 4, 4));
    ob_attr_ints(&a, "kernel_shape", D(3, 3), 2);
    ob_attr_ints(&a, "pads", D(1, 1, 1, 1), 4);
    ob_attr_ints(&a, "strides", D(2, 2), 2);
    ob_node(&g, "MaxPool", "pool", L("x"), L("y"), &a);
    ob_io(&g, 1, "y", 4, D(1, 1, 2, 2));
    ob_model(&m, 11, &g);
    nml_ir ir;
    import_ok(&m, NULL, &ir, NULL);
    assert_int_equal(count_ops(&ir, NML_OP_PADV2), 1);
    float *x = iota(16, -1, -1); /* -1 .. -16 */
    float *y = run(&ir, x, 1, 4, 4, 0);
    /* windows rows/cols {-1..1} and {1..3}: maxima -1, -2, -5, -6 */
    assert_close(y, (const float[]){-1, -2, -5, -6}, 4, 0);
    free(y);
    free(x);
    nml_ir_free(&ir);
}

/* Direct NCHW convolution, one input and one output channel. */
static void ref_conv(const float *x, int h, int w, const float *k, int stride, int pad, float *out,
                     int oh, int ow) {
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            float s = 0;
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) {
                    int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                    if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                        s += x[iy * w + ix] * k[ky * 3 + kx];
                }
            out[oy * ow + ox] = s;
        }
}

static void conv_padding_same_or_explicit(void **state) {
    (void)state;
    const float k[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (int n = 4; n <= 5; n++) {
        /* 3x3, stride 2, pads 1: out = ceil(n/2). TFLite SAME pads (n=4) 0 before / 1 after,
         * ONNX 1 / (unused) -> explicit PAD; for n=5 both pad 1 / 1 -> SAME */
        int o = (n + 1) / 2;
        ob_buf g = {0}, m = {0}, a = {0};
        ob_io(&g, 0, "x", 4, ((const int64_t[]){1, 1, n, n}));
        ob_init_f32(&g, "w", 4, D(1, 1, 3, 3), k);
        ob_attr_ints(&a, "kernel_shape", D(3, 3), 2);
        ob_attr_ints(&a, "pads", D(1, 1, 1, 1), 4);
        ob_attr_ints(&a, "strides", D(2, 2), 2);
        ob_node(&g, "Conv", "conv", L("x", "w"), L("y"), &a);
        ob_io(&g, 1, "y", 4, ((const int64_t[]){1, 1, o, o}));
        ob_model(&m, 11, &g);
        nml_ir ir;
        import_ok(&m, NULL, &ir, NULL);
        assert_int_equal(count_ops(&ir, NML_OP_PAD), n == 4 ? 1 : 0);
        assert_int_equal(find_op(&ir, NML_OP_CONV_2D)->params.padding,
                         n == 4 ? NML_PAD_VALID : NML_PAD_SAME);
        float *x = iota((size_t)n * n, 0.5f, 1), want[9];
        ref_conv(x, n, n, k, 2, 1, want, o, o);
        float *y = run(&ir, x, 1, n, n, 0);
        assert_close(y, want, (size_t)o * o, 1e-4);
        free(y);
        free(x);
        nml_ir_free(&ir);
    }
}

/* ---- Resize ---- */

static nml_status import_resize(const char *coord, const char *nearest, int in, int out, nml_ir *ir,
                                nml_error *err) {
    ob_buf g = {0}, m = {0}, a = {0};
    ob_io(&g, 0, "x", 4, ((const int64_t[]){1, 1, 1, in}));
    ob_init_f32(&g, "roi", 1, D(0), NULL);
    ob_init_f32(&g, "scales", 1, D(0), NULL);
    ob_init_i64(&g, "sizes", 1, D(4), ((const int64_t[]){1, 1, 1, out}));
    ob_attr_str(&a, "mode", "nearest");
    ob_attr_str(&a, "coordinate_transformation_mode", coord);
    ob_attr_str(&a, "nearest_mode", nearest);
    ob_node(&g, "Resize", "resize", L("x", "roi", "scales", "sizes"), L("y"), &a);
    ob_io(&g, 1, "y", 4, ((const int64_t[]){1, 1, 1, out}));
    ob_model(&m, 11, &g);
    return try_import(&m, NULL, 0, ir, NULL, err);
}

static void resize_modes_map_to_tflite_flags(void **state) {
    (void)state;
    static const struct {
        const char *coord, *nearest;
        int ac, hpc;
        float map[5];
    } cases[] = {
        /* align_corners: x = y * 2/4 -> 0, .5, 1, 1.5, 2; ties up -> 0 1 1 2 2 */
        {"align_corners", "round_prefer_ceil", 1, 0, {0, 1, 1, 2, 2}},
        /* half_pixel: x = (y + .5) * 3/5 - .5 -> -.2 .4 1 1.6 2.2 -> 0 0 1 2 2 */
        {"half_pixel", "round_prefer_floor", 0, 1, {0, 0, 1, 2, 2}},
        /* asymmetric: x = y * 3/5 -> 0 .6 1.2 1.8 2.4 -> floor 0 0 1 1 2 */
        {"asymmetric", "floor", 0, 0, {0, 0, 1, 1, 2}},
    };
    float x[3] = {0, 1, 2};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nml_ir ir;
        nml_error err;
        if (import_resize(cases[i].coord, cases[i].nearest, 3, 5, &ir, &err) != NML_OK)
            fail_msg("%s: %s", cases[i].coord, err.msg);
        const nml_ir_op *op = find_op(&ir, NML_OP_RESIZE_NEAREST_NEIGHBOR);
        assert_int_equal(op->params.align_corners, cases[i].ac);
        assert_int_equal(op->params.half_pixel_centers, cases[i].hpc);
        float *y = run(&ir, x, 1, 1, 3, 0);
        assert_close(y, cases[i].map, 5, 0);
        free(y);
        nml_ir_free(&ir);
    }
    /* asymmetric + ceil: 0 1 2 2 2, which none of TFLite's three mappings produces */
    nml_ir ir;
    nml_error err;
    assert_int_equal(import_resize("asymmetric", "ceil", 3, 5, &ir, &err), NML_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "node 'resize' (Resize): nearest mapping"));
}

/* ---- folding, flatten, errors ---- */

static void shape_arithmetic_folds_and_flatten_permutes_fc_weights(void **state) {
    (void)state;
    /* y = Gemm(Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])), W, C) */
    ob_buf g = {0}, m = {0}, a = {0};
    ob_io(&g, 0, "x", 4, D(1, 2, 2, 2));
    ob_init_i64(&g, "zero", 0, NULL, (const int64_t[]){0});
    ob_init_i64(&g, "minus1", 1, D(1), (const int64_t[]){-1});
    float wv[24];
    for (int i = 0; i < 24; i++)
        wv[i] = (float)((i * 7) % 11) - 5;
    ob_init_f32(&g, "W", 2, D(3, 8), wv);
    ob_init_f32(&g, "C", 1, D(3), (const float[]){0.5f, -1, 2});
    ob_node(&g, "Shape", "shape", L("x"), L("s"), NULL);
    ob_attr_int(&a, "axis", 0);
    ob_node(&g, "Gather", "batch", L("s", "zero"), L("b"), &a);
    ob_attr_ints(&a, "axes", D(0), 1);
    ob_node(&g, "Unsqueeze", "unsq", L("b"), L("b1"), &a);
    ob_attr_int(&a, "axis", 0);
    ob_node(&g, "Concat", "cat", L("b1", "minus1"), L("target"), &a);
    ob_node(&g, "Reshape", "flat", L("x", "target"), L("f"), NULL);
    ob_attr_int(&a, "transB", 1);
    ob_node(&g, "Gemm", "fc", L("f", "W", "C"), L("y"), &a);
    ob_io(&g, 1, "y", 2, D(1, 3));
    ob_model(&m, 11, &g);
    nml_ir ir;
    nml_onnx_import_stats st;
    import_ok(&m, NULL, &ir, &st);
    assert_int_equal(st.folded, 4);
    assert_int_equal(count_ops(&ir, NML_OP_TRANSPOSE), 0);
    assert_int_equal(count_ops(&ir, NML_OP_FULLY_CONNECTED), 1);
    float *x = iota(8, -1, 0.5f), want[3];
    for (int r = 0; r < 3; r++) { /* flatten in NCHW order, as ONNX defines it */
        want[r] = ((const float[]){0.5f, -1, 2})[r];
        for (int k = 0; k < 8; k++)
            want[r] += wv[r * 8 + k] * x[k];
    }
    float *y = run(&ir, x, 2, 2, 2, 0);
    assert_close(y, want, 3, 1e-5);
    free(y);
    free(x);
    nml_ir_free(&ir);
}

static void unsupported_operator_is_named(void **state) {
    (void)state;
    ob_buf g = {0}, m = {0};
    ob_io(&g, 0, "x", 4, D(1, 1, 2, 2));
    ob_node(&g, "Relu", "r", L("x"), L("a"), NULL);
    ob_node(&g, "NonMaxSuppression", "nms_7", L("a"), L("y"), NULL);
    ob_io(&g, 1, "y", 4, D(1, 1, 2, 2));
    ob_model(&m, 11, &g);
    nml_ir ir;
    nml_error err;
    assert_int_equal(try_import(&m, NULL, 0, &ir, NULL, &err), NML_E_UNSUPPORTED);
    assert_string_equal(err.msg,
                        "node 'nms_7' (NonMaxSuppression): operator NonMaxSuppression is not "
                        "supported");
    assert_int_equal(ir.n_ops, 0); /* the IR is left empty on failure */
    nml_ir_free(&ir);
}

static void softmax_axis_semantics_follow_the_opset(void **state) {
    (void)state;
    enum { C = 3, H = 2, W = 2 };
    float *x = iota(C * H * W, -1, 0.3f);
    for (int opset = 11; opset <= 13; opset += 2) {
        ob_buf g = {0}, m = {0}, a = {0};
        ob_io(&g, 0, "x", 4, D(1, C, H, W));
        ob_attr_int(&a, "axis", 1);
        ob_node(&g, "Softmax", "sm", L("x"), L("y"), &a);
        ob_io(&g, 1, "y", 4, D(1, C, H, W));
        ob_model(&m, opset, &g);
        nml_ir ir;
        import_ok(&m, NULL, &ir, NULL);
        float want[C * H * W];
        if (opset == 13) { /* over the channel axis alone: one SOFTMAX on the NHWC last axis */
            assert_int_equal(ir.n_ops, 1);
            for (int p = 0; p < H * W; p++) {
                double s = 0;
                for (int c = 0; c < C; c++)
                    s += exp(x[c * H * W + p]);
                for (int c = 0; c < C; c++)
                    want[c * H * W + p] = (float)(exp(x[c * H * W + p]) / s);
            }
        } else { /* opset < 13: over all of C*H*W as one row */
            double s = 0;
            for (int i = 0; i < C * H * W; i++)
                s += exp(x[i]);
            for (int i = 0; i < C * H * W; i++)
                want[i] = (float)(exp(x[i]) / s);
        }
        float *y = run(&ir, x, C, H, W, 0), *nchw = to_nchw(y, C, H, W);
        assert_close(nchw, want, C * H * W, 1e-6);
        free(y);
        free(nchw);
        nml_ir_free(&ir);
    }
    free(x);
}

static void split_slice_concat_pad_keep_nhwc(void **state) {
    (void)state;
    enum { C = 4, H = 2, W = 3 };
    ob_buf g = {0}, m = {0}, a = {0};
    ob_io(&g, 0, "x", 4, D(1, C, H, W));
    ob_attr_int(&a, "axis", 1);
    ob_attr_ints(&a, "split", D(1, 3), 2);
    ob_node(&g, "Split", "split", L("x"), L("s0", "s1"), &a);
    ob_attr_int(&a, "axis", 1);
    ob_node(&g, "Concat", "cat", L("s1", "s0"), L("rot"), &a);
    ob_init_i64(&g, "st", 1, D(1), (const int64_t[]){1});
    ob_init_i64(&g, "en", 1, D(1), (const int64_t[]){2});
    ob_init_i64(&g, "ax", 1, D(1), (const int64_t[]){2});
    ob_node(&g, "Slice", "slice", L("x", "st", "en", "ax"), L("row1"), NULL);
    ob_init_i64(&g, "pads", 1, D(8), (const int64_t[]){0, 0, 1, 0, 0, 0, 0, 2});
    ob_node(&g, "Pad", "pad", L("row1", "pads"), L("padded"), NULL);
    ob_io(&g, 1, "rot", 4, D(1, C, H, W));
    ob_io(&g, 1, "padded", 4, D(1, C, 2, 5));
    ob_model(&m, 11, &g);
    nml_ir ir;
    nml_onnx_import_stats st;
    import_ok(&m, NULL, &ir, &st);
    assert_int_equal(st.ir_transposes, 0);
    assert_int_equal(find_op(&ir, NML_OP_SPLIT_V)->params.axis, 3);
    assert_int_equal(find_op(&ir, NML_OP_CONCATENATION)->params.axis, 3);
    float *x = iota(C * H * W, 1, 1);
    /* rot: channels 1,2,3 then 0 */
    float *y = run(&ir, x, C, H, W, 0), *nchw = to_nchw(y, C, H, W), want[C * 2 * 5];
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H * W; i++)
            assert_true(nchw[c * H * W + i] == x[((c + 1) % C) * H * W + i]);
    free(y);
    free(nchw);
    /* padded: row 0 zeros (pad before), row 1 = x[:, :, 1, :] then two zero columns */
    for (int c = 0; c < C; c++)
        for (int r = 0; r < 2; r++)
            for (int col = 0; col < 5; col++)
                want[(c * 2 + r) * 5 + col] = r == 1 && col < W ? x[(c * H + 1) * W + col] : 0;
    y = run(&ir, x, C, H, W, 1);
    nchw = to_nchw(y, C, 2, 5);
    assert_close(nchw, want, C * 2 * 5, 0);
    free(y);
    free(nchw);
    free(x);
    nml_ir_free(&ir);
}

/* Operators FastestDet does not use, on one small graph (opset 11):
 * y1 = MatMul(Flatten(GlobalAveragePool(Tanh(LeakyRelu(x * k - 0.5, 0.1)))), M)
 * y2 = BatchNormalization(x) on its own (MUL + ADD with per-channel constants) */
static void other_operators_follow_onnx(void **state) {
    (void)state;
    enum { C = 3, H = 2, W = 2 };
    ob_buf g = {0}, m = {0}, a = {0}, t = {0};
    ob_io(&g, 0, "x", 4, D(1, C, H, W));
    /* k = [1, -2, 0.5] as a Constant node of shape [3,1,1] */
    ob_int(&t, 1, 3);
    ob_int(&t, 1, 1);
    ob_int(&t, 1, 1);
    ob_int(&t, 2, 1);
    ob_bytes(&t, 9, (const float[]){1, -2, 0.5f}, 12);
    ob_str(&a, 1, "value");
    ob_int(&a, 20, 4);
    ob_msg(&a, 5, &t);
    ob_buf attrs = {0};
    ob_msg(&attrs, 5, &a);
    ob_node(&g, "Constant", "k", NULL, L("k"), &attrs);
    ob_init_f32(&g, "half", 0, NULL, (const float[]){0.5f});
    ob_init_f32(&g, "M", 2, D(3, 2), (const float[]){1, 2, 3, 4, 5, 6});
    ob_init_f32(&g, "sc", 1, D(3), (const float[]){2, 1, 0.5f});
    ob_init_f32(&g, "bi", 1, D(3), (const float[]){0, 1, -1});
    ob_init_f32(&g, "mu", 1, D(3), (const float[]){1, 0, 0});
    ob_init_f32(&g, "va", 1, D(3), (const float[]){4, 1, 0.25f});
    ob_node(&g, "Mul", "mul", L("x", "k"), L("a1"), NULL);
    ob_node(&g, "Sub", "sub", L("a1", "half"), L("a2"), NULL);
    ob_attr_float(&a, "alpha", 0.1f);
    ob_node(&g, "LeakyRelu", "lrelu", L("a2"), L("a3"), &a);
    ob_node(&g, "Tanh", "tanh", L("a3"), L("a4"), NULL);
    ob_node(&g, "GlobalAveragePool", "gap", L("a4"), L("a5"), NULL);
    ob_node(&g, "Flatten", "flat", L("a5"), L("a6"), NULL);
    ob_node(&g, "MatMul", "mm", L("a6", "M"), L("y1"), NULL);
    ob_attr_float(&a, "epsilon", 0.0f);
    ob_node(&g, "BatchNormalization", "bn", L("x", "sc", "bi", "mu", "va"), L("y2"), &a);
    ob_io(&g, 1, "y1", 2, D(1, 2));
    ob_io(&g, 1, "y2", 4, D(1, C, H, W));
    ob_model(&m, 11, &g);
    nml_ir ir;
    nml_onnx_import_stats st;
    import_ok(&m, NULL, &ir, &st);
    assert_int_equal(st.folded, 1); /* the Constant node */
    assert_int_equal(st.ir_transposes, 0);
    float *x = iota(C * H * W, -1, 0.2f), pooled[C] = {0}, want1[2] = {0}, want2[C * H * W];
    const float k[3] = {1, -2, 0.5f}, M[6] = {1, 2, 3, 4, 5, 6};
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < H * W; i++) {
            float v = x[c * H * W + i] * k[c] - 0.5f;
            v = v < 0 ? 0.1f * v : v;
            pooled[c] += tanhf(v) / (H * W);
            /* (x - mean) / sqrt(var) * scale + bias */
            want2[c * H * W + i] = (x[c * H * W + i] - ((const float[]){1, 0, 0})[c]) /
                                       sqrtf(((const float[]){4, 1, 0.25f})[c]) *
                                       ((const float[]){2, 1, 0.5f})[c] +
                                   ((const float[]){0, 1, -1})[c];
        }
    }
    for (int j = 0; j < 2; j++)
        for (int c = 0; c < C; c++)
            want1[j] += pooled[c] * M[c * 2 + j];
    float *y1 = run(&ir, x, C, H, W, 0);
    assert_close(y1, want1, 2, 1e-5);
    float *y2 = run(&ir, x, C, H, W, 1), *y2n = to_nchw(y2, C, H, W);
    assert_close(y2n, want2, C * H * W, 1e-5);
    free(y1);
    free(y2);
    free(y2n);
    free(x);
    nml_ir_free(&ir);
}

/* Opset 13+ forms (axes and split sizes as inputs, Softmax over the last axis by default),
 * imported at opset 17. */
static void opset_17_input_forms(void **state) {
    (void)state;
    enum { C = 4, H = 2, W = 3 };
    ob_buf g = {0}, m = {0}, a = {0};
    ob_io(&g, 0, "x", 4, D(1, C, H, W));
    ob_init_i64(&g, "sizes", 1, D(2), (const int64_t[]){1, 3});
    ob_init_i64(&g, "zero", 1, D(1), (const int64_t[]){0});
    ob_attr_int(&a, "axis", 1);
    ob_node(&g, "Split", "split", L("x", "sizes"), L("p", "q"), &a);
    ob_node(&g, "Unsqueeze", "unsq", L("q", "zero"), L("q5"), NULL);
    ob_node(&g, "Squeeze", "sq", L("q5", "zero"), L("q4"), NULL);
    ob_attr_int(&a, "axis", 1);
    ob_node(&g, "Concat", "cat", L("q4", "p"), L("r"), &a);
    ob_node(&g, "Softmax", "sm", L("r"), L("y"), NULL);
    ob_io(&g, 1, "y", 4, D(1, C, H, W));
    ob_model(&m, 17, &g);
    nml_ir ir;
    import_ok(&m, NULL, &ir, NULL);
    float *x = iota(C * H * W, -2, 0.25f), want[C * H * W];
    for (int c = 0; c < C; c++) /* r = channels 1,2,3,0 of x; softmax along W */
        for (int h = 0; h < H; h++) {
            const float *row = x + (((c + 1) % C) * H + h) * W;
            double s = 0;
            for (int w = 0; w < W; w++)
                s += exp(row[w]);
            for (int w = 0; w < W; w++)
                want[(c * H + h) * W + w] = (float)(exp(row[w]) / s);
        }
    float *y = run(&ir, x, C, H, W, 0), *nchw = to_nchw(y, C, H, W);
    assert_close(nchw, want, C * H * W, 1e-6);
    free(y);
    free(nchw);
    free(x);
    nml_ir_free(&ir);
}

/* ---- re-targeting the input size ---- */

static void build_shuffle_block(ob_buf *m, int c, int h, int w) {
    ob_buf g = {0}, a = {0};
    ob_io(&g, 0, "x", 4, ((const int64_t[]){1, c, h, w}));
    build_v2_shuffle(&g, c, h, w);
    ob_attr_int(&a, "axis", 1);
    ob_node(&g, "Concat", "cat", L("odd", "even"), L("y"), &a);
    ob_io(&g, 1, "y", 4, ((const int64_t[]){1, c, h, w}));
    ob_model(m, 11, &g);
}

static void stored_reshape_shapes_are_retargeted(void **state) {
    (void)state;
    /* exported at 4x4 with stored shapes [4, 2, 16] and [2, -1, 4, 4, 4]; imported at 6x2 */
    enum { C = 8, H = 6, W = 2 };
    ob_buf m = {0};
    build_shuffle_block(&m, C, 4, 4);
    nml_ir ir;
    import_ok(&m, "1x8x6x2", &ir, NULL);
    const nml_ir_tensor *out = &ir.tensors[ir.outputs[0]];
    int32_t want_dims[4] = {1, H, W, C};
    assert_memory_equal(out->dims, want_dims, sizeof want_dims);
    /* the same block exported at 6x2 is the reference: its shapes are [4, 2, 12], [2,-1,4,6,2] */
    ob_buf m2 = {0};
    build_shuffle_block(&m2, C, H, W);
    nml_ir ref;
    import_ok(&m2, NULL, &ref, NULL);
    float *x = iota(C * H * W, 0, 1);
    float *got = run(&ir, x, C, H, W, 0), *want = run(&ref, x, C, H, W, 0);
    assert_close(got, want, C * H * W, 0);
    /* and by hand: odd channels first */
    float *nchw = to_nchw(got, C, H, W);
    assert_true(nchw[0] == x[1 * H * W] && nchw[(C / 2) * H * W] == x[0]);
    free(nchw);
    free(got);
    free(want);
    free(x);
    nml_ir_free(&ir);
    nml_ir_free(&ref);
}

static void unexplainable_stored_shapes_are_refused(void **state) {
    (void)state;
    /* [1,4,8,8] -> stored [1,4,16,4]: 16 splits no whole number of the 8s, so there is no rule
     * to carry it to another size */
    ob_buf g = {0}, m = {0};
    ob_io(&g, 0, "x", 4, D(1, 4, 8, 8));
    ob_init_i64(&g, "s", 1, D(4), (const int64_t[]){1, 4, 16, 4});
    ob_node(&g, "Reshape", "odd_reshape", L("x", "s"), L("r"), NULL);
    ob_node(&g, "Relu", "relu", L("r"), L("y"), NULL);
    ob_io(&g, 1, "y", 4, D(1, 4, 16, 4));
    ob_model(&m, 11, &g);
    nml_ir ir;
    nml_error err;
    assert_int_equal(try_import(&m, "1x4x6x6", 0, &ir, NULL, &err), NML_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "node 'odd_reshape' (Reshape): cannot re-target"));
    nml_ir_free(&ir);
}

static void input_shape_errors(void **state) {
    (void)state;
    int64_t dims[8];
    int rank;
    nml_error err;
    assert_int_equal(nml_onnx_parse_shape("1x3x86x128", dims, &rank, &err), NML_OK);
    assert_true(rank == 4 && dims[2] == 86 && dims[3] == 128);
    assert_int_equal(nml_onnx_parse_shape("1x3x", dims, &rank, &err), NML_E_ARG);
    assert_int_equal(nml_onnx_parse_shape("1x0x2", dims, &rank, &err), NML_E_LIMIT);
    assert_int_equal(nml_onnx_parse_shape("1x3xfoo", dims, &rank, &err), NML_E_ARG);
    assert_int_equal(nml_onnx_parse_shape("99999999999", dims, &rank, &err), NML_E_LIMIT);
    ob_buf m = {0};
    build_shuffle_block(&m, 8, 4, 4);
    nml_ir ir;
    assert_int_equal(try_import(&m, "1x8x4", 0, &ir, NULL, &err), NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "rank 4"));
    nml_ir_free(&ir);
    /* a channel count the weights cannot take */
    ob_buf g = {0}, m2 = {0}, a = {0};
    ob_io(&g, 0, "x", 4, D(1, 2, 3, 3));
    ob_init_f32(&g, "w", 4, D(1, 2, 1, 1), (const float[]){1, 1});
    ob_attr_ints(&a, "kernel_shape", D(1, 1), 2);
    ob_node(&g, "Conv", "conv", L("x", "w"), L("y"), &a);
    ob_io(&g, 1, "y", 4, D(1, 1, 3, 3));
    ob_model(&m2, 11, &g);
    assert_int_equal(try_import(&m2, "1x3x3x3", 0, &ir, NULL, &err), NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "node 'conv' (Conv): input has 3 channels"));
    nml_ir_free(&ir);
}

static void clip_fuses_as_relu6_or_lowers_to_min_max(void **state) {
    (void)state;
    for (int relu6 = 0; relu6 <= 1; relu6++) {
        ob_buf g = {0}, m = {0}, a = {0};
        ob_io(&g, 0, "x", 4, D(1, 1, 2, 2));
        ob_init_f32(&g, "w", 4, D(1, 1, 1, 1), (const float[]){4});
        ob_init_f32(&g, "lo", 0, NULL, (const float[]){relu6 ? 0.0f : -2.0f});
        ob_init_f32(&g, "hi", 0, NULL, (const float[]){relu6 ? 6.0f : 3.0f});
        ob_attr_ints(&a, "kernel_shape", D(1, 1), 2);
        ob_node(&g, "Conv", "conv", L("x", "w"), L("c"), &a);
        ob_node(&g, "Clip", "clip", L("c", "lo", "hi"), L("y"), NULL);
        ob_io(&g, 1, "y", 4, D(1, 1, 2, 2));
        ob_model(&m, 11, &g);
        nml_ir ir;
        import_ok(&m, NULL, &ir, NULL);
        float x[4] = {-1, 0.25f, 1, 2}, *y = run(&ir, x, 1, 2, 2, 0);
        if (relu6) {
            assert_int_equal(ir.n_ops, 1);
            assert_int_equal(ir.ops[0].params.activation, NML_ACT_RELU6);
            assert_close(y, (const float[]){0, 1, 4, 6}, 4, 0);
        } else {
            assert_int_equal(count_ops(&ir, NML_OP_MAXIMUM), 1);
            assert_int_equal(count_ops(&ir, NML_OP_MINIMUM), 1);
            assert_close(y, (const float[]){-2, 1, 3, 3}, 4, 0);
        }
        free(y);
        nml_ir_free(&ir);
    }
}

/* A chain of 20,000 Conv -> Relu pairs: every Relu fuses into its Conv (fusion asks each
 * value's sole consumer, which used to be a scan of all nodes: quadratic, 1 s at 16,000 nodes
 * and minutes for a 2 MB file). The result exceeds the runtime's tensor limit, which the
 * .tflite writer refuses to write. */
static void long_chains_import_in_linear_time(void **state) {
    (void)state;
    enum { N = 20000 };
    ob_buf g = {0}, m = {0};
    const float w = 0.5f;
    ob_io(&g, 0, "c0", 4, D(1, 1, 1, 1));
    ob_init_f32(&g, "w", 4, D(1, 1, 1, 1), &w);
    char in[16], mid[16], out[16];
    for (int i = 0; i < N; i++) {
        snprintf(in, sizeof in, "c%d", i);
        snprintf(mid, sizeof mid, "r%d", i);
        snprintf(out, sizeof out, "c%d", i + 1);
        ob_node(&g, "Conv", mid, L(in, "w"), L(mid), NULL);
        ob_node(&g, "Relu", out, L(mid), L(out), NULL);
    }
    ob_io(&g, 1, out, 4, D(1, 1, 1, 1));
    ob_model(&m, 11, &g);
    nml_ir ir;
    nml_onnx_import_stats st;
    import_ok(&m, NULL, &ir, &st);
    assert_int_equal(count_ops(&ir, NML_OP_CONV_2D), N);
    assert_int_equal(ir.n_ops, N);
    assert_int_equal((int)st.fused, N);
    uint8_t *flat = NULL;
    size_t size;
    nml_error err;
    assert_int_equal(nml_ir_to_tflite(&ir, &flat, &size, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "tensors exceed the limit of 8192"));
    nml_ir_free(&ir);
}

/* 200 bytes of ONNX: a 4096x4096 ConstantOfShape and a chain of Neg nodes folded one after
 * the other took 128 MB per node (600 MB and 3 s for 8 nodes). Folding has a budget of kept
 * elements; computing has a budget the caller can lower. */
static void constant_folding_is_bounded(void **state) {
    (void)state;
    ob_buf g = {0}, m = {0};
    ob_io(&g, 0, "x", 1, D(1));
    ob_init_i64(&g, "shape", 1, D(2), D(4096, 4096));
    ob_node(&g, "ConstantOfShape", "cos", L("shape"), L("k0"), NULL);
    ob_node(&g, "Neg", "k1", L("k0"), L("k1"), NULL);
    ob_node(&g, "Neg", "k2", L("k1"), L("k2"), NULL);
    ob_node(&g, "Neg", "k3", L("k2"), L("k3"), NULL);
    ob_node(&g, "Add", "add", L("x", "x"), L("y"), NULL);
    ob_io(&g, 1, "y", 1, D(1));
    ob_model(&m, 11, &g);
    nml_ir ir;
    nml_error err;
    assert_int_equal(try_import(&m, NULL, 0, &ir, NULL, &err), NML_E_LIMIT);
    assert_string_equal(err.msg, "node 'k2' (Neg): folding it would exceed the budget of 33554432 "
                                 "constant elements in all (33554432 so far)");
    assert_int_equal(ir.n_ops, 0);

    /* a data-movement chain's index map: 3 transposes of 64x64 = 12,288 elements computed */
    ob_buf a = {0};
    g = (ob_buf){0};
    m = (ob_buf){0};
    ob_io(&g, 0, "t0", 2, D(64, 64));
    for (int i = 0; i < 3; i++) {
        char in[8], out[8];
        snprintf(in, sizeof in, "t%d", i);
        snprintf(out, sizeof out, "t%d", i + 1);
        ob_attr_ints(&a, "perm", D(1, 0), 2);
        ob_node(&g, "Transpose", out, L(in), L(out), &a);
    }
    ob_node(&g, "Relu", "relu", L("t3"), L("y"), NULL);
    ob_io(&g, 1, "y", 2, D(64, 64));
    ob_model(&m, 11, &g);
    ob_buf copy = {0};
    ob_raw(&copy, m.d, m.n);
    nml_onnx_import_options opt;
    nml_onnx_import_options_default(&opt);
    opt.max_eval_elems = 12288;
    nml_ir_init(&ir);
    if (nml_onnx_import(m.d, m.n, &opt, &ir, NULL, &err) != NML_OK) fail_msg("%s", err.msg);
    nml_ir_free(&ir);
    opt.max_eval_elems = 12287;
    assert_int_equal(nml_onnx_import(copy.d, copy.n, &opt, &ir, NULL, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "would exceed the budget of 12287 elements computed in all"));
    ob_free(&m);
    ob_free(&copy);
}

/* A nearest Resize to `width` columns by sizes (opset 13). */
static nml_status resize_to_width(int64_t width, nml_error *err) {
    ob_buf g = {0}, m = {0}, a = {0};
    ob_io(&g, 0, "x", 4, D(1, 1, 1, 1));
    ob_init_f32(&g, "roi", 1, D(0), NULL);
    ob_init_f32(&g, "scales", 1, D(0), NULL);
    ob_init_i64(&g, "sizes", 1, D(4), ((const int64_t[]){1, 1, 1, width}));
    ob_attr_str(&a, "mode", "nearest");
    ob_node(&g, "Resize", "up", L("x", "roi", "scales", "sizes"), L("y"), &a);
    ob_io(&g, 1, "y", 4, ((const int64_t[]){1, 1, 1, width}));
    ob_model(&m, 13, &g);
    nml_ir ir;
    nml_status st = try_import(&m, NULL, 0, &ir, NULL, err);
    nml_ir_free(&ir);
    return st;
}

/* Found by the ONNX fuzzer: a nearest Resize to 1.5 billion columns spent 30 s comparing the
 * ONNX and TFLite index mappings column by column. At most 65536 pixels per axis. */
static void nearest_resize_width_is_bounded(void **state) {
    (void)state;
    nml_error err;
    if (resize_to_width(65536, &err) != NML_OK) fail_msg("%s", err.msg);
    assert_int_equal(resize_to_width(65537, &err), NML_E_LIMIT);
    assert_string_equal(err.msg,
                        "node 'up' (Resize): nearest resize to 65537 pixels along axis 3 (at most "
                        "65536)");
    assert_int_equal(resize_to_width(1526726660, &err), NML_E_LIMIT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_bn_relu_fold_into_one_conv),
        cmocka_unit_test(v2_channel_shuffle_becomes_two_gathers),
        cmocka_unit_test(v1_channel_shuffle_becomes_one_gather),
        cmocka_unit_test(transposes_become_layouts),
        cmocka_unit_test(weights_become_ohwi_and_1hwo),
        cmocka_unit_test(inexpressible_chains_are_lowered_literally),
        cmocka_unit_test(average_pool_padding_counts_as_onnx_says),
        cmocka_unit_test(max_pool_pads_with_the_lowest_float),
        cmocka_unit_test(conv_padding_same_or_explicit),
        cmocka_unit_test(resize_modes_map_to_tflite_flags),
        cmocka_unit_test(shape_arithmetic_folds_and_flatten_permutes_fc_weights),
        cmocka_unit_test(unsupported_operator_is_named),
        cmocka_unit_test(softmax_axis_semantics_follow_the_opset),
        cmocka_unit_test(split_slice_concat_pad_keep_nhwc),
        cmocka_unit_test(other_operators_follow_onnx),
        cmocka_unit_test(opset_17_input_forms),
        cmocka_unit_test(stored_reshape_shapes_are_retargeted),
        cmocka_unit_test(unexplainable_stored_shapes_are_refused),
        cmocka_unit_test(input_shape_errors),
        cmocka_unit_test(clip_fuses_as_relu6_or_lowers_to_min_max),
        cmocka_unit_test(long_chains_import_in_linear_time),
        cmocka_unit_test(constant_folding_is_bounded),
        cmocka_unit_test(nearest_resize_width_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
