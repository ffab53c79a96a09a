/* Post-training quantization end to end.
 *
 * hello_world (a float network approximating sin(x) on [0, 2pi]) is calibrated on x spread
 * evenly over [0, 2pi] (the model's real input domain, computed here) and quantized:
 *   - the int8 model must follow sin(x) at least as well as TFLite Micro's own int8 hello_world
 *     does on its golden inputs (worst error measured from ../shared/golden, about 0.118);
 *   - LiteRT (the independent TFLite runtime) runs the int8, uint8-I/O, float16, dynamic-range and
 *     int4 models: int8 within 2 LSB of nanoml (XNNPACK rounds differently from the reference
 *     kernels nanoml follows), float16 within 1e-3, dynamic range within 0.08 (XNNPACK quantizes
 *     hybrid inputs asymmetrically), int4 within 4 LSB; and LiteRT gives the int4 model exactly
 *     the outputs of the same model with the weights unpacked to int8 (the nibble order);
 *   - structure follows the converter: per-channel weights, bias scale = input x weight scale,
 *     input scale (2pi - 0) / 255 with zero point -128.
 * A small CNN built here exercises the operator rules (fixed SOFTMAX/LOGISTIC output, pooling
 * sharing its input's quantization, CONCATENATION sharing one quantization by adoption or a
 * requantize operator) and runs in LiteRT too: int8 within 2 LSB, its dynamic-range form
 * (hybrid CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) within 0.02 and float16 within 1e-5.
 * Bad input gives errors naming the problem. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/file.h"
#include "nanoml/quantize.h"
#include "nanoml/runtime_host.h"
#include "oracle.h"
#include "test_util.h"

#define TWO_PI 6.283185307179586
#define N_CALIB 1000
#define BATCH 64

static void ok(nml_status st, const nml_error *err) {
    if (st != NML_OK) fail_msg("%s", err->msg);
}

static void load_ir(const char *rel, nml_ir *ir) {
    size_t size;
    uint8_t *bytes = nml_test_read(nml_test_shared(rel), &size);
    nml_error err;
    ok(nml_ir_from_tflite(ir, bytes, size, &err), &err);
    free(bytes);
}

/* Every activation with batch 1 gets batch n, so one run covers n inputs (FULLY_CONNECTED
 * treats rows independently, so the function is unchanged). */
static void set_batch(nml_ir *ir, int n) {
    for (int t = 0; t < ir->n_tensors; t++)
        if (!ir->tensors[t].data && ir->tensors[t].rank >= 1 && ir->tensors[t].dims[0] == 1)
            ir->tensors[t].dims[0] = n;
}

/* x evenly over [0, 2pi], as samples of the given batch. */
static float *sine_inputs(int n) {
    float *x = malloc((size_t)n * sizeof *x);
    for (int i = 0; i < n; i++)
        x[i] = (float)(TWO_PI * i / (n - 1));
    return x;
}

static void quantize_hello(nml_quant_mode mode, nml_quant_io io, nml_calibrator calibrator,
                           int batch, nml_ir *out, nml_quant_report *r) {
    nml_ir ir;
    load_ir("models/tflm/hello_world_float.tflite", &ir);
    if (batch > 1) set_batch(&ir, batch);
    float *x = sine_inputs(N_CALIB);
    nml_calib_source src;
    nml_error err;
    ok(nml_calib_array_open(&src, NML_FLOAT32, 2, (const int32_t[]){batch, 1}, x,
                            N_CALIB / (size_t)batch, &err),
       &err);
    nml_quant_options o;
    nml_quant_options_default(&o);
    o.mode = mode;
    o.io = io;
    o.calibrator = calibrator;
    ok(nml_quantize(&ir, out, &o, &src, r, &err), &err);
    nml_calib_close(&src);
    free(x);
    nml_ir_free(&ir);
}

typedef struct runner {
    uint8_t *bytes, *arena;
    size_t size;
    nml_model model;
    nml_interpreter it;
} runner;

static void runner_open(runner *r, const nml_ir *ir) {
    nml_error err;
    memset(r, 0, sizeof *r);
    ok(nml_ir_to_tflite(ir, &r->bytes, &r->size, &err), &err);
    ok(nml_model_load(&r->model, r->bytes, r->size, &err), &err);
    ok(nml_interpreter_init_alloc(&r->it, &r->model, nml_ops_all(), &r->arena, &err), &err);
}

static void runner_close(runner *r) {
    free(r->arena);
    free(r->bytes);
}

/* Value i of a tensor as a real number (dequantized for integer types). */
static double real_at(const nml_tensor *t, const void *data, size_t i) {
    switch (t->type) {
    case NML_FLOAT32:
        return ((const float *)data)[i];
    case NML_INT8:
        return t->scale * (((const int8_t *)data)[i] - t->zero_point);
    case NML_UINT8:
        return t->scale * (((const uint8_t *)data)[i] - t->zero_point);
    default:
        fail_msg("unexpected type %s", nml_dtype_name(t->type));
        return 0;
    }
}

static void store_real(const nml_tensor *t, size_t i, double v) {
    if (t->type == NML_FLOAT32) {
        ((float *)t->data)[i] = (float)v;
        return;
    }
    long q = lround(v / t->scale) + t->zero_point;
    const long lo = t->type == NML_UINT8 ? 0 : -128, hi = t->type == NML_UINT8 ? 255 : 127;
    q = q < lo ? lo : (q > hi ? hi : q);
    if (t->type == NML_UINT8)
        ((uint8_t *)t->data)[i] = (uint8_t)q;
    else
        ((int8_t *)t->data)[i] = (int8_t)q;
}

/* Worst |y - sin(x)| of TFLM's int8 hello_world over its golden cases, dequantized with the
 * model's own parameters. */
static double tflm_int8_worst(double **xs, int *n) {
    size_t size;
    uint8_t *bytes = nml_test_read(nml_test_shared("models/tflm/hello_world_int8.tflite"), &size);
    nml_model m;
    nml_error err;
    nml_tensor ti, to;
    ok(nml_model_load(&m, bytes, size, &err), &err);
    ok(nml_model_tensor(&m, (uint32_t)nml_model_input(&m, 0), &ti, &err), &err);
    ok(nml_model_tensor(&m, (uint32_t)nml_model_output(&m, 0), &to, &err), &err);
    double worst = 0.0;
    *xs = malloc(256 * sizeof **xs);
    *n = 0;
    for (int i = 0; i < 256; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "golden/tflm-reference/hello_world_int8/in_%03d.bin", i);
        if (!nml_test_exists(nml_test_shared(rel))) break;
        size_t s1, s2;
        uint8_t *in = nml_test_read(nml_test_shared(rel), &s1);
        snprintf(rel, sizeof rel, "golden/tflm-reference/hello_world_int8/out_%03d.bin", i);
        uint8_t *out = nml_test_read(nml_test_shared(rel), &s2);
        const double x = ti.scale * ((int8_t)in[0] - ti.zero_point);
        const double y = to.scale * ((int8_t)out[0] - to.zero_point);
        worst = fabs(y - sin(x)) > worst ? fabs(y - sin(x)) : worst;
        (*xs)[(*n)++] = x;
        free(in);
        free(out);
    }
    free(bytes);
    assert_true(*n >= 64);
    return worst;
}

/* ---- hello_world int8 ---- */

static void hello_int8_accuracy(void **state) {
    (void)state;
    double *xs;
    int n;
    const double tflm_worst = tflm_int8_worst(&xs, &n);
    print_message("TFLM int8 hello_world: worst |y - sin x| = %.4f over %d golden inputs\n",
                  tflm_worst, n);
    assert_true(tflm_worst > 0.1 && tflm_worst < 0.13); /* the figure the brief quotes: 0.118 */
    const nml_calibrator cals[3] = {NML_CALIB_MINMAX, NML_CALIB_PERCENTILE, NML_CALIB_MSE};
    for (int c = 0; c < 3; c++) {
        nml_ir q;
        nml_quant_report r;
        quantize_hello(NML_QUANT_INT8, NML_QIO_FLOAT, cals[c], 1, &q, &r);
        assert_int_equal(r.samples, N_CALIB);
        runner run;
        runner_open(&run, &q);
        nml_tensor *in = nml_input(&run.it, 0), *out = nml_output(&run.it, 0);
        assert_int_equal(in->type, NML_FLOAT32);
        double worst = 0.0;
        nml_error err;
        for (int i = 0; i < n; i++) {
            store_real(in, 0, xs[i]);
            ok(nml_invoke(&run.it, &err), &err);
            const double e = fabs(real_at(out, out->data, 0) - sin(xs[i]));
            worst = e > worst ? e : worst;
        }
        print_message("nanoml int8 (calibrator %d): worst %.4f\n", c, worst);
        if (worst > tflm_worst)
            fail_msg("calibrator %d: worst error %.4f exceeds TFLM's int8 model (%.4f)", c, worst,
                     tflm_worst);
        runner_close(&run);
        nml_quant_report_free(&r);
        nml_ir_free(&q);
    }
    free(xs);
}

static const nml_ir_tensor *input_of(const nml_ir *ir, int op, int k) {
    return &ir->tensors[ir->ops[op].inputs[k]];
}

static float max_abs_row(const nml_ir_tensor *w, int row) {
    const float *v = (const float *)(const void *)w->data;
    float m = 0.0f;
    for (int i = 0; i < w->dims[1]; i++)
        m = fabsf(v[row * w->dims[1] + i]) > m ? fabsf(v[row * w->dims[1] + i]) : m;
    return m;
}

/* The converter's layout, checked against the float model: input scale (2pi - 0) / 255 with
 * zero point -128 (calibration covers [0, 2pi]); per-row weight scales max|w_row| / 127 with
 * every weight within half a step of its float value; bias scale = input scale x weight
 * scale, bias within half a step; ReLU outputs have zero point -128 (nothing below 0). */
static void hello_int8_structure(void **state) {
    (void)state;
    nml_ir f, q;
    nml_quant_report r;
    load_ir("models/tflm/hello_world_float.tflite", &f);
    quantize_hello(NML_QUANT_INT8, NML_QIO_INT8, NML_CALIB_MINMAX, 1, &q, &r);
    assert_int_equal(q.n_ops, 3); /* int8 I/O: no QUANTIZE/DEQUANTIZE */
    const nml_ir_tensor *in = &q.tensors[q.inputs[0]];
    assert_int_equal(in->type, NML_INT8);
    assert_int_equal(in->n_q, 1);
    assert_true(in->scales[0] == (float)TWO_PI / 255.0f);
    assert_int_equal(in->zero_points[0], -128);
    for (int i = 0; i < 3; i++) {
        const nml_ir_tensor *fw = input_of(&f, i, 1), *fb = input_of(&f, i, 2);
        const nml_ir_tensor *w = input_of(&q, i, 1), *b = input_of(&q, i, 2);
        const float in_scale = input_of(&q, i, 0)->scales[0];
        const int rows = fw->dims[0];
        assert_int_equal(w->type, NML_INT8);
        assert_int_equal(w->n_q, (uint32_t)rows);
        assert_int_equal(w->q_dim, 0);
        assert_int_equal(b->type, NML_INT32);
        const float *fv = (const float *)(const void *)fw->data;
        const float *bv = (const float *)(const void *)fb->data;
        for (int c = 0; c < rows; c++) {
            const float s = w->scales[c];
            assert_true(s == max_abs_row(fw, c) / 127.0f);
            assert_int_equal(w->zero_points[c], 0);
            for (int k = 0; k < fw->dims[1]; k++) {
                const int idx = c * fw->dims[1] + k;
                assert_true(fabs(((const int8_t *)w->data)[idx] * (double)s - fv[idx]) <=
                            s / 2.0 + 1e-7);
            }
            const float bs = b->scales[b->n_q > 1 ? c : 0];
            assert_true(bs == in_scale * s);
            assert_true(fabs(((const int32_t *)(const void *)b->data)[c] * (double)bs - bv[c]) <=
                        bs / 2.0 + 1e-9);
        }
        const nml_ir_tensor *out = &q.tensors[q.ops[i].outputs[0]];
        assert_int_equal(out->type, NML_INT8);
        if (i < 2) assert_int_equal(out->zero_points[0], -128); /* fused ReLU */
    }
    /* the output covers sin's range [-1, 1] */
    const nml_ir_tensor *out = &q.tensors[q.outputs[0]];
    assert_true(out->scales[0] * (127 - out->zero_points[0]) >= 1.0f);
    assert_true(out->scales[0] * (-128 - out->zero_points[0]) <= -1.0f);
    assert_int_equal(r.weights_quantized, 6);
    assert_int_equal(r.n_ranges, 4);
    assert_true(r.const_bytes_after * 3 < r.const_bytes_before); /* 1284 -> 420 bytes */
    nml_quant_report_free(&r);
    nml_ir_free(&q);
    nml_ir_free(&f);
}

/* uint8 I/O: the uint8 tensors carry zero point + 128 and QUANTIZE converts at both ends. */
static void hello_uint8_io(void **state) {
    (void)state;
    nml_ir q;
    nml_quant_report r;
    quantize_hello(NML_QUANT_INT8, NML_QIO_UINT8, NML_CALIB_MINMAX, 1, &q, &r);
    assert_int_equal(q.n_ops, 5);
    assert_int_equal(q.ops[0].builtin, NML_OP_QUANTIZE);
    assert_int_equal(q.ops[4].builtin, NML_OP_QUANTIZE);
    const nml_ir_tensor *in = &q.tensors[q.inputs[0]], *in8 = &q.tensors[q.ops[0].outputs[0]];
    assert_int_equal(in->type, NML_UINT8);
    assert_int_equal(in8->type, NML_INT8);
    assert_true(in->scales[0] == in8->scales[0]);
    assert_int_equal(in->zero_points[0], in8->zero_points[0] + 128);
    const nml_ir_tensor *out = &q.tensors[q.outputs[0]];
    assert_int_equal(out->type, NML_UINT8);
    nml_quant_report_free(&r);
    nml_ir_free(&q);
}

/* ---- LiteRT ---- */

typedef struct oracle_run {
    const char *dir;
    char model[600], input[600], output[600];
} oracle_run;

/* Runs q in nanoml and in LiteRT on the same input bytes; returns the largest difference of
 * output `which` (raw integer steps for int8/uint8 outputs, absolute for float). */
static double nanoml_vs_litert(oracle_run *o, const nml_ir *q, const void *input, int which) {
    nml_error err;
    runner run;
    runner_open(&run, q);
    ok(nml_write_file(o->model, run.bytes, run.size, &err), &err);
    nml_tensor *in = nml_input(&run.it, 0);
    memcpy(in->data, input, in->bytes);
    nml_test_npy_write(o->input, in->type, in->rank, in->dims, input);
    ok(nml_invoke(&run.it, &err), &err);
    const char *inputs[1] = {o->input};
    nml_test_litert_run(o->model, o->dir, 1, inputs);
    snprintf(o->output, sizeof o->output, "%s/out%d.npy", o->dir, which);
    int type, rank;
    int32_t dims[NML_MAX_RANK];
    void *data;
    size_t bytes;
    nml_test_npy_read(o->output, &type, &rank, dims, &data, &bytes);
    const nml_tensor *out = nml_output(&run.it, (uint32_t)which);
    assert_int_equal(type, out->type);
    assert_int_equal(bytes, out->bytes);
    double worst = 0.0;
    for (uint32_t i = 0; i < nml_tensor_count(out); i++) {
        double d;
        if (type == NML_INT8)
            d = fabs((double)((int8_t *)data)[i] - ((int8_t *)out->data)[i]);
        else if (type == NML_UINT8)
            d = fabs((double)((uint8_t *)data)[i] - ((uint8_t *)out->data)[i]);
        else
            d = fabs((double)((float *)data)[i] - ((float *)out->data)[i]);
        worst = d > worst ? d : worst;
    }
    free(data);
    runner_close(&run);
    return worst;
}

static int oracle_setup(void **state) {
    const char *why;
    if (!nml_test_oracles_available(&why)) {
        print_message("SKIP LiteRT oracle: %s\n", why);
        *state = NULL;
        return 0;
    }
    oracle_run *o = calloc(1, sizeof *o);
    o->dir = nml_test_tmpdir();
    snprintf(o->model, sizeof o->model, "%s/model.tflite", o->dir);
    snprintf(o->input, sizeof o->input, "%s/input.npy", o->dir);
    *state = o;
    return 0;
}

static int oracle_teardown(void **state) {
    oracle_run *o = *state;
    if (o) {
        nml_test_tmpdir_remove(o->dir);
        free(o);
    }
    return 0;
}

/* BATCH x values over [0, 2pi] in the model input's type. */
static void *batch_input(const nml_ir *q) {
    const nml_ir_tensor *t = &q->tensors[q->inputs[0]];
    nml_tensor view;
    memset(&view, 0, sizeof view);
    view.type = (uint8_t)t->type;
    view.scale = t->n_q ? t->scales[0] : 0.0f;
    view.zero_point = t->n_q ? (int32_t)t->zero_points[0] : 0;
    view.data = calloc(BATCH, 4);
    for (int i = 0; i < BATCH; i++)
        store_real(&view, (size_t)i, TWO_PI * i / (BATCH - 1));
    return view.data;
}

static void hello_litert(void **state) {
    oracle_run *o = *state;
    if (!o) skip();
    const struct {
        nml_quant_mode mode;
        nml_quant_io io;
        double tolerance;
        const char *what;
    } cases[] = {
        {NML_QUANT_INT8, NML_QIO_INT8, 2.0, "int8 (LSB)"},
        {NML_QUANT_INT8, NML_QIO_UINT8, 2.0, "uint8 I/O (LSB)"},
        {NML_QUANT_INT8, NML_QIO_FLOAT, 0.02, "int8, float I/O"},
        {NML_QUANT_FLOAT16, NML_QIO_FLOAT, 1e-3, "float16"},
        /* LiteRT's XNNPACK quantizes the inputs of hybrid layers its own way (asymmetric),
         * TFLite's reference kernels (and nanoml) symmetrically: both land within 0.065 of the
         * float model on these inputs, so they agree only to about that */
        {NML_QUANT_DYNAMIC, NML_QIO_FLOAT, 0.08, "dynamic range"},
        /* int4 weights make hidden activations coarser, so XNNPACK's different rounding shows
         * more; int4_litert below shows LiteRT computes exactly what the unpacked weights give */
        {NML_QUANT_INT4, NML_QIO_INT8, 4.0, "int4 weights (LSB)"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nml_ir q;
        nml_quant_report r;
        quantize_hello(cases[c].mode, cases[c].io, NML_CALIB_MINMAX, BATCH, &q, &r);
        void *x = batch_input(&q);
        const double d = nanoml_vs_litert(o, &q, x, 0);
        print_message("%-18s nanoml vs LiteRT: largest difference %g\n", cases[c].what, d);
        if (d > cases[c].tolerance)
            fail_msg("%s: nanoml and LiteRT differ by %g (tolerance %g)", cases[c].what, d,
                     cases[c].tolerance);
        free(x);
        nml_quant_report_free(&r);
        nml_ir_free(&q);
    }
}

/* LiteRT's output 0 for q on the given input bytes; *data is malloc'd. */
static void *litert_output(oracle_run *o, const nml_ir *q, const void *input, size_t *bytes) {
    nml_error err;
    uint8_t *model;
    size_t size;
    ok(nml_ir_to_tflite(q, &model, &size, &err), &err);
    ok(nml_write_file(o->model, model, size, &err), &err);
    free(model);
    const nml_ir_tensor *in = &q->tensors[q->inputs[0]];
    nml_test_npy_write(o->input, in->type, in->rank, in->dims, input);
    const char *inputs[1] = {o->input};
    nml_test_litert_run(o->model, o->dir, 1, inputs);
    snprintf(o->output, sizeof o->output, "%s/out0.npy", o->dir);
    int type, rank;
    int32_t dims[NML_MAX_RANK];
    void *data;
    nml_test_npy_read(o->output, &type, &rank, dims, &data, bytes);
    return data;
}

/* The int4 model and its twin with every INT4 tensor unpacked into INT8 (same values, same
 * scales) must give identical outputs in LiteRT: LiteRT reads the packing as nanoml writes it. */
static void int4_litert(void **state) {
    oracle_run *o = *state;
    if (!o) skip();
    nml_ir q;
    nml_quant_report r;
    quantize_hello(NML_QUANT_INT4, NML_QIO_INT8, NML_CALIB_MINMAX, BATCH, &q, &r);
    void *x = batch_input(&q);
    size_t b4, b8;
    int8_t *y4 = litert_output(o, &q, x, &b4);
    int unpacked = 0;
    nml_error err;
    for (int t = 0; t < q.n_tensors; t++) {
        if (q.tensors[t].type != NML_INT4) continue;
        const size_t n = (size_t)nml_ir_tensor_count(&q.tensors[t]);
        int8_t *u = malloc(n);
        for (size_t i = 0; i < n; i++) { /* low nibble first, sign-extended */
            const int v = (i & 1) ? q.tensors[t].data[i / 2] >> 4 : q.tensors[t].data[i / 2] & 15;
            u[i] = (int8_t)(v >= 8 ? v - 16 : v);
        }
        ok(nml_ir_set_data(&q, t, NML_INT8, u, n, &err), &err);
        free(u);
        unpacked++;
    }
    assert_int_equal(unpacked, 3);
    int8_t *y8 = litert_output(o, &q, x, &b8);
    assert_int_equal(b4, b8);
    assert_memory_equal(y4, y8, b4);
    free(y4);
    free(y8);
    free(x);
    nml_quant_report_free(&r);
    nml_ir_free(&q);
}

/* ---- a small CNN exercising the operator rules ---- */

static uint32_t rng = 12345u;
static float rnd(float lo, float hi) {
    rng = rng * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(rng >> 8) / 16777216.0f;
}

static int add_t(nml_ir *ir, const char *name, int rank, const int32_t *dims, int constant) {
    nml_error err;
    int idx;
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    float *data = NULL;
    if (constant) {
        data = malloc(n * sizeof *data);
        for (size_t i = 0; i < n; i++)
            data[i] = rnd(-0.6f, 0.6f);
    }
    ok(nml_ir_add_tensor(ir, name, NML_FLOAT32, rank, dims, data, data ? n * 4 : 0, &idx, &err),
       &err);
    free(data);
    return idx;
}

static void add_o(nml_ir *ir, int32_t code, const nml_op_params *p, int n_in, const int32_t *in,
                  int out) {
    nml_error err;
    const int32_t o = out;
    ok(nml_ir_add_op(ir, code, p, n_in, in, 1, &o, NULL, &err), &err);
}

/* x[1,8,8,3] -> CONV 3x3 (4, RELU) -> c1 -> DEPTHWISE 3x3 (RELU6) -> d1 -> MAX_POOL 2x2 -> p1
 *                                     c1 -> CONV 1x1 (4) -> c2 -> MAX_POOL 2x2 -> p2
 * CONCATENATION(p1, p2) -> AVERAGE_POOL 4x4 -> RESHAPE [1, 8] -> FULLY_CONNECTED (3) -> logits
 * -> SOFTMAX -> probs (output 0);  logits -> LOGISTIC -> gates (output 1). */
static void build_cnn(nml_ir *ir) {
    nml_ir_init(ir);
    rng = 12345u;
    nml_op_params p;
    const int x = add_t(ir, "x", 4, (const int32_t[]){1, 8, 8, 3}, 0);
    const int w1 = add_t(ir, "conv1/w", 4, (const int32_t[]){4, 3, 3, 3}, 1);
    const int b1 = add_t(ir, "conv1/b", 1, (const int32_t[]){4}, 1);
    const int c1 = add_t(ir, "c1", 4, (const int32_t[]){1, 8, 8, 4}, 0);
    const int wd = add_t(ir, "dw/w", 4, (const int32_t[]){1, 3, 3, 4}, 1);
    const int bd = add_t(ir, "dw/b", 1, (const int32_t[]){4}, 1);
    const int d1 = add_t(ir, "d1", 4, (const int32_t[]){1, 8, 8, 4}, 0);
    const int w2 = add_t(ir, "conv2/w", 4, (const int32_t[]){4, 1, 1, 4}, 1);
    const int b2 = add_t(ir, "conv2/b", 1, (const int32_t[]){4}, 1);
    const int c2 = add_t(ir, "c2", 4, (const int32_t[]){1, 8, 8, 4}, 0);
    const int p1 = add_t(ir, "p1", 4, (const int32_t[]){1, 4, 4, 4}, 0);
    const int p2 = add_t(ir, "p2", 4, (const int32_t[]){1, 4, 4, 4}, 0);
    const int cat = add_t(ir, "cat", 4, (const int32_t[]){1, 4, 4, 8}, 0);
    const int avg = add_t(ir, "avg", 4, (const int32_t[]){1, 1, 1, 8}, 0);
    const int flat = add_t(ir, "flat", 2, (const int32_t[]){1, 8}, 0);
    const int wf = add_t(ir, "fc/w", 2, (const int32_t[]){3, 8}, 1);
    const int bf = add_t(ir, "fc/b", 1, (const int32_t[]){3}, 1);
    const int logits = add_t(ir, "logits", 2, (const int32_t[]){1, 3}, 0);
    const int probs = add_t(ir, "probs", 2, (const int32_t[]){1, 3}, 0);
    const int gates = add_t(ir, "gates", 2, (const int32_t[]){1, 3}, 0);
    int shape;
    nml_error err;
    ok(nml_ir_add_tensor(ir, "flat/shape", NML_INT32, 1, (const int32_t[]){2},
                         (const int32_t[]){1, 8}, 8, &shape, &err),
       &err);
    nml_op_params_default(&p);
    p.activation = NML_ACT_RELU;
    add_o(ir, NML_OP_CONV_2D, &p, 3, (const int32_t[]){x, w1, b1}, c1);
    p.activation = NML_ACT_RELU6;
    add_o(ir, NML_OP_DEPTHWISE_CONV_2D, &p, 3, (const int32_t[]){c1, wd, bd}, d1);
    nml_op_params_default(&p);
    add_o(ir, NML_OP_CONV_2D, &p, 3, (const int32_t[]){c1, w2, b2}, c2);
    p.filter_w = p.filter_h = 2;
    p.stride_w = p.stride_h = 2;
    add_o(ir, NML_OP_MAX_POOL_2D, &p, 1, (const int32_t[]){d1}, p1);
    add_o(ir, NML_OP_MAX_POOL_2D, &p, 1, (const int32_t[]){c2}, p2);
    nml_op_params_default(&p);
    p.axis = 3;
    add_o(ir, NML_OP_CONCATENATION, &p, 2, (const int32_t[]){p1, p2}, cat);
    nml_op_params_default(&p);
    p.filter_w = p.filter_h = 4;
    p.stride_w = p.stride_h = 4;
    p.padding = NML_PAD_VALID;
    add_o(ir, NML_OP_AVERAGE_POOL_2D, &p, 1, (const int32_t[]){cat}, avg);
    nml_op_params_default(&p);
    p.new_shape_len = 2;
    p.new_shape[0] = 1;
    p.new_shape[1] = 8;
    add_o(ir, NML_OP_RESHAPE, &p, 2, (const int32_t[]){avg, shape}, flat);
    nml_op_params_default(&p);
    add_o(ir, NML_OP_FULLY_CONNECTED, &p, 3, (const int32_t[]){flat, wf, bf}, logits);
    add_o(ir, NML_OP_SOFTMAX, &p, 1, (const int32_t[]){logits}, probs);
    add_o(ir, NML_OP_LOGISTIC, &p, 1, (const int32_t[]){logits}, gates);
    ok(nml_ir_set_io(ir, 1, (const int32_t[]){x}, 2, (const int32_t[]){probs, gates}, &err), &err);
}

#define CNN_SAMPLES 24

static float *cnn_images(void) {
    float *x = malloc(CNN_SAMPLES * 192 * sizeof *x);
    rng = 777u;
    for (int i = 0; i < CNN_SAMPLES * 192; i++)
        x[i] = rnd(0.0f, 1.0f);
    return x;
}

static void quantize_cnn(const nml_ir *f, nml_quant_io io, nml_ir *q, nml_quant_report *r) {
    float *x = cnn_images();
    nml_calib_source src;
    nml_error err;
    ok(nml_calib_array_open(&src, NML_FLOAT32, 4, (const int32_t[]){1, 8, 8, 3}, x, CNN_SAMPLES,
                            &err),
       &err);
    nml_quant_options o;
    nml_quant_options_default(&o);
    o.io = io;
    ok(nml_quantize(f, q, &o, &src, r, &err), &err);
    nml_calib_close(&src);
    free(x);
}

static const nml_ir_tensor *named(const nml_ir *ir, const char *name) {
    const int t = nml_ir_find_tensor(ir, name);
    if (t < 0) fail_msg("no tensor %s", name);
    return &ir->tensors[t];
}

static int same_quant(const nml_ir_tensor *a, const nml_ir_tensor *b) {
    return a->n_q == 1 && b->n_q == 1 && a->scales[0] == b->scales[0] &&
           a->zero_points[0] == b->zero_points[0];
}

static void cnn_rules(void **state) {
    (void)state;
    nml_ir f, q;
    nml_quant_report r;
    build_cnn(&f);
    quantize_cnn(&f, NML_QIO_INT8, &q, &r);
    /* fixed outputs */
    assert_true(named(&q, "probs")->scales[0] == 1.0f / 256.0f);
    assert_int_equal(named(&q, "probs")->zero_points[0], -128);
    assert_true(named(&q, "gates")->scales[0] == 1.0f / 256.0f);
    assert_int_equal(named(&q, "gates")->zero_points[0], -128);
    /* pooling and reshape share their input's quantization */
    assert_true(same_quant(named(&q, "p1"), named(&q, "d1")));
    assert_true(same_quant(named(&q, "p2"), named(&q, "c2")));
    assert_true(same_quant(named(&q, "avg"), named(&q, "cat")));
    assert_true(same_quant(named(&q, "flat"), named(&q, "avg")));
    /* concatenation: both inputs adopted the output's quantization, no requantize operator */
    assert_true(same_quant(named(&q, "p1"), named(&q, "cat")));
    assert_true(same_quant(named(&q, "p2"), named(&q, "cat")));
    assert_int_equal(r.requantize_ops, 0);
    /* per-channel weights: conv along 0, depthwise along 3 */
    assert_int_equal(named(&q, "conv1/w")->n_q, 4);
    assert_int_equal(named(&q, "conv1/w")->q_dim, 0);
    assert_int_equal(named(&q, "dw/w")->n_q, 4);
    assert_int_equal(named(&q, "dw/w")->q_dim, 3);
    assert_int_equal(named(&q, "flat/shape")->type, NML_INT32); /* shapes stay */
    assert_int_equal(named(&q, "c1")->zero_points[0], -128);    /* ReLU */

    /* accuracy against the float model on a calibration image: probabilities within 0.03 */
    runner rf, rq;
    runner_open(&rf, &f);
    runner_open(&rq, &q);
    float *x = cnn_images();
    nml_error err;
    double worst = 0.0;
    for (int s = 0; s < 4; s++) {
        memcpy(nml_input(&rf.it, 0)->data, x + s * 192, 192 * 4);
        nml_tensor *qi = nml_input(&rq.it, 0);
        for (int i = 0; i < 192; i++)
            store_real(qi, (size_t)i, x[s * 192 + i]);
        ok(nml_invoke(&rf.it, &err), &err);
        ok(nml_invoke(&rq.it, &err), &err);
        const nml_tensor *a = nml_output(&rf.it, 0), *b = nml_output(&rq.it, 0);
        for (int i = 0; i < 3; i++) {
            const double d = fabs(real_at(a, a->data, (size_t)i) - real_at(b, b->data, (size_t)i));
            worst = d > worst ? d : worst;
        }
    }
    print_message("CNN int8 vs float: worst probability difference %.4f\n", worst);
    assert_true(worst < 0.03);
    free(x);
    runner_close(&rf);
    runner_close(&rq);
    nml_quant_report_free(&r);
    nml_ir_free(&q);
    nml_ir_free(&f);
}

/* x[1,4,4,2] -> CONV 1x1 (weights x3) -> y; CONCATENATION(x, y): the graph input cannot adopt
 * another quantization, so a QUANTIZE operator re-scales it; y adopts. */
static void build_requant(nml_ir *ir) {
    nml_ir_init(ir);
    nml_error err;
    int x, w, y, cat;
    const float wv[4] = {3.0f, -1.5f, 2.0f, 3.0f};
    ok(nml_ir_add_tensor(ir, "x", NML_FLOAT32, 4, (const int32_t[]){1, 4, 4, 2}, NULL, 0, &x, &err),
       &err);
    ok(nml_ir_add_tensor(ir, "w", NML_FLOAT32, 4, (const int32_t[]){2, 1, 1, 2}, wv, sizeof wv, &w,
                         &err),
       &err);
    ok(nml_ir_add_tensor(ir, "y", NML_FLOAT32, 4, (const int32_t[]){1, 4, 4, 2}, NULL, 0, &y, &err),
       &err);
    ok(nml_ir_add_tensor(ir, "cat", NML_FLOAT32, 4, (const int32_t[]){1, 4, 4, 4}, NULL, 0, &cat,
                         &err),
       &err);
    nml_op_params p;
    nml_op_params_default(&p);
    add_o(ir, NML_OP_CONV_2D, &p, 2, (const int32_t[]){x, w}, y);
    p.axis = 3;
    add_o(ir, NML_OP_CONCATENATION, &p, 2, (const int32_t[]){x, y}, cat);
    ok(nml_ir_set_io(ir, 1, (const int32_t[]){x}, 1, (const int32_t[]){cat}, &err), &err);
}

static void quantize_requant(nml_ir *q, nml_quant_report *r) {
    nml_ir f;
    build_requant(&f);
    float x[16 * 32];
    rng = 99u;
    for (int i = 0; i < 16 * 32; i++)
        x[i] = rnd(-1.0f, 1.0f);
    nml_calib_source src;
    nml_error err;
    ok(nml_calib_array_open(&src, NML_FLOAT32, 4, (const int32_t[]){1, 4, 4, 2}, x, 16, &err),
       &err);
    nml_quant_options o;
    nml_quant_options_default(&o);
    o.io = NML_QIO_INT8;
    ok(nml_quantize(&f, q, &o, &src, r, &err), &err);
    nml_calib_close(&src);
    nml_ir_free(&f);
}

static void concat_requantizes_graph_input(void **state) {
    (void)state;
    nml_ir q;
    nml_quant_report r;
    quantize_requant(&q, &r);
    assert_int_equal(r.requantize_ops, 1);
    assert_int_equal(q.n_ops, 3);
    assert_int_equal(q.ops[0].builtin, NML_OP_CONV_2D);
    assert_int_equal(q.ops[1].builtin, NML_OP_QUANTIZE);
    const nml_ir_tensor *a = &q.tensors[q.ops[1].inputs[0]], *b = &q.tensors[q.ops[1].outputs[0]];
    assert_int_equal(a->type, NML_INT8);
    assert_int_equal(b->type, NML_INT8);
    assert_false(same_quant(a, b));
    assert_true(same_quant(b, named(&q, "cat")));
    assert_true(same_quant(named(&q, "y"), named(&q, "cat")));
    nml_quant_report_free(&r);
    nml_ir_free(&q);
}

static void cnn_litert(void **state) {
    oracle_run *o = *state;
    if (!o) skip();
    nml_ir f, q;
    nml_quant_report r;
    build_cnn(&f);
    quantize_cnn(&f, NML_QIO_INT8, &q, &r);
    float *x = cnn_images();
    int8_t in[192];
    const nml_ir_tensor *t = &q.tensors[q.inputs[0]];
    for (int i = 0; i < 192; i++) {
        long v = lround(x[5 * 192 + i] / t->scales[0]) + t->zero_points[0];
        in[i] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
    for (int k = 0; k < 2; k++) {
        const double d = nanoml_vs_litert(o, &q, in, k);
        print_message("CNN output %d: nanoml vs LiteRT largest difference %g LSB\n", k, d);
        assert_true(d <= 2.0);
    }
    nml_quant_report_free(&r);
    nml_ir_free(&q);
    nml_quant_report report;
    quantize_requant(&q, &report);
    int8_t in2[32];
    rng = 5u;
    for (int i = 0; i < 32; i++)
        in2[i] = (int8_t)(rnd(-128.0f, 127.0f));
    const double d = nanoml_vs_litert(o, &q, in2, 0);
    print_message("requantized concatenation: nanoml vs LiteRT %g LSB\n", d);
    assert_true(d <= 2.0);
    nml_quant_report_free(&report);
    nml_ir_free(&q);

    /* weight-only modes of the CNN: hybrid CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED
     * (per-channel, asymmetric input quantization in both runtimes) and float16 */
    const nml_quant_mode modes[2] = {NML_QUANT_DYNAMIC, NML_QUANT_FLOAT16};
    const double tolerance[2] = {0.02, 1e-5};
    for (int m = 0; m < 2; m++) {
        nml_quant_options opt;
        nml_quant_options_default(&opt);
        opt.mode = modes[m];
        nml_error err;
        ok(nml_quantize(&f, &q, &opt, NULL, NULL, &err), &err);
        for (int k = 0; k < 2; k++) {
            const double dm = nanoml_vs_litert(o, &q, x + 5 * 192, k);
            print_message("CNN %s output %d: nanoml vs LiteRT %g\n", m ? "float16" : "dynamic", k,
                          dm);
            assert_true(dm <= tolerance[m]);
        }
        nml_ir_free(&q);
    }
    nml_ir_free(&f);
    free(x);
}

/* ---- bad input ---- */

static void expect_error(const nml_ir *f, nml_quant_mode mode, nml_calib_source *src,
                         nml_status want, const char *needle1, const char *needle2) {
    nml_ir q;
    nml_quant_options o;
    nml_quant_options_default(&o);
    o.mode = mode;
    nml_error err;
    nml_quant_report r;
    const nml_status st = nml_quantize(f, &q, &o, src, &r, &err);
    if (st != want || !strstr(err.msg, needle1) || (needle2 && !strstr(err.msg, needle2)))
        fail_msg("expected %d with '%s' '%s', got %d: %s", (int)want, needle1,
                 needle2 ? needle2 : "", (int)st, err.msg);
    assert_int_equal(q.n_tensors, 0);
    assert_int_equal(r.n_ranges, 0);
}

static void bad_calibration_data(void **state) {
    (void)state;
    nml_ir f;
    load_ir("models/tflm/hello_world_float.tflite", &f);
    nml_calib_source src;
    nml_error err;
    float x[4] = {0.5f, 1.0f, NAN, 2.0f};
    /* no source, an empty source */
    expect_error(&f, NML_QUANT_INT8, NULL, NML_E_ARG, "needs calibration data", NULL);
    ok(nml_calib_array_open(&src, NML_FLOAT32, 2, (const int32_t[]){1, 1}, x, 0, &err), &err);
    expect_error(&f, NML_QUANT_INT8, &src, NML_E_ARG, "gave no samples", NULL);
    nml_calib_close(&src);
    /* wrong shape: two values per sample for a 1x1 input */
    ok(nml_calib_array_open(&src, NML_FLOAT32, 1, (const int32_t[]){2}, x, 2, &err), &err);
    expect_error(&f, NML_QUANT_INT8, &src, NML_E_SHAPE, "data has shape 2",
                 "serving_default_dense_input:0");
    nml_calib_close(&src);
    /* wrong dtype */
    const int8_t b[2] = {1, 2};
    ok(nml_calib_array_open(&src, NML_INT8, 2, (const int32_t[]){1, 1}, b, 2, &err), &err);
    expect_error(&f, NML_QUANT_INT8, &src, NML_E_ARG, "the data is int8", "input is float32");
    nml_calib_close(&src);
    /* a NaN in sample 2 */
    ok(nml_calib_array_open(&src, NML_FLOAT32, 2, (const int32_t[]){1, 1}, x, 4, &err), &err);
    expect_error(&f, NML_QUANT_INT8, &src, NML_E_ARG, "calibration sample 2", "NaN");
    nml_calib_close(&src);
    nml_ir_free(&f);
}

static void bad_models(void **state) {
    (void)state;
    nml_ir f;
    /* an int8 model */
    load_ir("models/tflm/hello_world_int8.tflite", &f);
    expect_error(&f, NML_QUANT_DYNAMIC, NULL, NML_E_UNSUPPORTED, "already quantized", NULL);
    nml_ir_free(&f);
    /* an operator without an int8 rule: EXP */
    load_ir("models/tflm/hello_world_float.tflite", &f);
    nml_error err;
    int e;
    ok(nml_ir_add_tensor(&f, "exp_out", NML_FLOAT32, 2, (const int32_t[]){1, 1}, NULL, 0, &e, &err),
       &err);
    const int32_t in = f.outputs[0], out = e;
    ok(nml_ir_add_op(&f, NML_OP_EXP, NULL, 1, &in, 1, &out, NULL, &err), &err);
    ok(nml_ir_set_io(&f, 1, f.inputs, 1, &out, &err), &err);
    nml_calib_source src;
    float x[1] = {1.0f};
    ok(nml_calib_array_open(&src, NML_FLOAT32, 2, (const int32_t[]){1, 1}, x, 1, &err), &err);
    expect_error(&f, NML_QUANT_INT8, &src, NML_E_UNSUPPORTED, "operator 3 (EXP",
                 "no int8 quantization rule");
    nml_calib_close(&src);
    /* float16 keeps EXP in float, but nanoml's runtime has no EXP kernel: the result is refused
     * because it would not run */
    expect_error(&f, NML_QUANT_FLOAT16, NULL, NML_E_UNSUPPORTED, "does not run", "EXP");
    nml_ir_free(&f);
    /* weights that are not constant */
    build_requant(&f);
    f.ops[0].inputs[1] = f.inputs[0];
    f.ops[0].inputs[1] = 0; /* x as its own filter: shapes differ, but the rule check is first */
    expect_error(&f, NML_QUANT_INT8, NULL, NML_E_UNSUPPORTED, "operator 0 (CONV_2D)",
                 "not a float32 constant");
    nml_ir_free(&f);
}

/* dynamic range: weights int8 per channel, everything else float32, bias float; float16: every
 * float constant halved behind a DEQUANTIZE, values within half a float16 step. */
static void weight_only_modes(void **state) {
    (void)state;
    nml_ir f, q;
    build_cnn(&f);
    nml_quant_options o;
    nml_quant_options_default(&o);
    o.mode = NML_QUANT_DYNAMIC;
    nml_error err;
    nml_quant_report r;
    ok(nml_quantize(&f, &q, &o, NULL, &r, &err), &err);
    assert_int_equal(r.weights_quantized, 4);
    assert_int_equal(named(&q, "conv1/w")->type, NML_INT8);
    assert_int_equal(named(&q, "dw/w")->q_dim, 3);
    assert_int_equal(named(&q, "fc/w")->n_q, 3);
    assert_int_equal(named(&q, "conv1/b")->type, NML_FLOAT32);
    assert_int_equal(named(&q, "c1")->type, NML_FLOAT32);
    nml_quant_report_free(&r);
    nml_ir_free(&q);

    o.mode = NML_QUANT_FLOAT16;
    ok(nml_quantize(&f, &q, &o, NULL, &r, &err), &err);
    assert_int_equal(r.weights_quantized, 8);
    int dequantize = 0;
    for (int i = 0; i < q.n_ops; i++)
        dequantize += q.ops[i].builtin == NML_OP_DEQUANTIZE;
    assert_int_equal(dequantize, 8);
    const nml_ir_tensor *h = named(&q, "fc/w"), *w = named(&f, "fc/w");
    assert_int_equal(h->type, NML_FLOAT16);
    for (int i = 0; i < 24; i++) {
        const float a = ((const float *)(const void *)w->data)[i];
        const float b = nml_f16_to_f32(((const uint16_t *)(const void *)h->data)[i]);
        assert_true(fabsf(a - b) <= fabsf(a) * 0x1p-11f);
    }
    assert_int_equal(named(&q, "fc/w/dequantize")->type, NML_FLOAT32);
    assert_int_equal(named(&q, "flat/shape")->type, NML_INT32);
    assert_true(r.const_bytes_after < r.const_bytes_before / 2 + 16);
    nml_quant_report_free(&r);
    nml_ir_free(&q);

    o.mode = NML_QUANT_INT4;
    float *x = cnn_images();
    nml_calib_source src;
    ok(nml_calib_array_open(&src, NML_FLOAT32, 4, (const int32_t[]){1, 8, 8, 3}, x, CNN_SAMPLES,
                            &err),
       &err);
    ok(nml_quantize(&f, &q, &o, &src, &r, &err), &err);
    const nml_ir_tensor *w4 = named(&q, "conv1/w");
    assert_int_equal(w4->type, NML_INT4);
    assert_int_equal(w4->data_bytes, (108 + 1) / 2);
    for (int c = 0; c < 4; c++) { /* scale max|w_c| / 7 */
        const float *fw = (const float *)(const void *)named(&f, "conv1/w")->data;
        float m = 0.0f;
        for (int i = 0; i < 27; i++)
            m = fabsf(fw[c * 27 + i]) > m ? fabsf(fw[c * 27 + i]) : m;
        assert_true(w4->scales[c] == m / 7.0f);
    }
    nml_calib_close(&src);
    free(x);
    nml_quant_report_free(&r);
    nml_ir_free(&q);
    nml_ir_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hello_int8_accuracy),
        cmocka_unit_test(hello_int8_structure),
        cmocka_unit_test(hello_uint8_io),
        cmocka_unit_test_setup_teardown(hello_litert, oracle_setup, oracle_teardown),
        cmocka_unit_test_setup_teardown(int4_litert, oracle_setup, oracle_teardown),
        cmocka_unit_test(cnn_rules),
        cmocka_unit_test(concat_requantizes_graph_input),
        cmocka_unit_test_setup_teardown(cnn_litert, oracle_setup, oracle_teardown),
        cmocka_unit_test(weight_only_modes),
        cmocka_unit_test(bad_calibration_data),
        cmocka_unit_test(bad_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
