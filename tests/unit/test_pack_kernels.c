/* Packed weights in the CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels against the
 * dense reference kernels on the decompressed weights: the packed paths sum the same integer
 * products minus the zero ones, so every output byte must be identical.
 *
 * Randomized shapes (strides, dilations, padding, groups, depth multipliers, batches), weight
 * sparsities 0 / 50 / 80 / 100 %, cluster tables of K = 2..16 values (one for the tensor or a
 * different one per output channel), per-channel quantization, int8 activations with non-zero
 * zero points, every encoding the formats offer (bitmask, 8-bit or 4-bit gaps, raw values or
 * indices, tensor or row tables), int4 logical weights, and per-tensor FULLY_CONNECTED weights
 * with a non-zero zero point (whose zero weights still contribute). Each encoding passes the
 * loader's full verification first and decodes back to the dense weights. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "compress/pack_internal.h"
#include "kernel_harness.h"
#include "kernels/kernels.h"

#define DIMS(...) ((const int32_t[]){__VA_ARGS__})

static uint32_t rng_state;
static int32_t rnd(int32_t lo, int32_t hi) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return lo + (int32_t)((rng_state >> 8) % (uint32_t)(hi - lo + 1));
}

/* ---- one layer ---- */

typedef struct layer {
    const nml_kernel *kernel;
    int in_rank, w_rank;
    int32_t in_dims[4], w_dims[4], out_dims[4];
    int32_t rows, row_len; /* output channels, weights per channel */
    int row_axis;          /* 0, or 3 for depthwise filters */
    int per_tensor_zp;     /* FULLY_CONNECTED only: per-tensor weights with this zero point */
    nml_op_params p;
} layer;

static int32_t in_count(const layer *l) {
    int32_t n = 1;
    for (int i = 0; i < l->in_rank; i++)
        n *= l->in_dims[i];
    return n;
}

static int32_t out_count(const layer *l) {
    int32_t n = 1;
    for (int i = 0; i < l->in_rank; i++)
        n *= l->out_dims[i];
    return n;
}

/* TFLite's output size for one spatial dimension. */
static int32_t out_size(int32_t in, int32_t k, int32_t stride, int32_t dil, int pad) {
    const int32_t eff = (k - 1) * dil + 1;
    if (pad == NML_PAD_SAME) return (in + stride - 1) / stride;
    return in >= eff ? (in - eff + stride) / stride : 0;
}

static void random_window(layer *l, int32_t kh, int32_t kw) {
    nml_op_params_default(&l->p);
    l->p.stride_h = rnd(1, 2);
    l->p.stride_w = rnd(1, 2);
    l->p.dilation_h = rnd(1, 2);
    l->p.dilation_w = rnd(1, 2);
    l->p.padding = rnd(0, 1) ? NML_PAD_SAME : NML_PAD_VALID;
    l->p.activation = rnd(0, 3) == 0 ? NML_ACT_RELU : NML_ACT_NONE;
    for (;;) {
        l->in_dims[1] = rnd(kh, 8);
        l->in_dims[2] = rnd(kw, 8);
        l->out_dims[1] = out_size(l->in_dims[1], kh, l->p.stride_h, l->p.dilation_h, l->p.padding);
        l->out_dims[2] = out_size(l->in_dims[2], kw, l->p.stride_w, l->p.dilation_w, l->p.padding);
        if (l->out_dims[1] > 0 && l->out_dims[2] > 0) return;
        l->p.padding = NML_PAD_SAME;
    }
}

static layer random_conv(void) {
    layer l;
    memset(&l, 0, sizeof l);
    l.kernel = &nml_kernel_conv_2d;
    l.in_rank = l.w_rank = 4;
    const int32_t groups = rnd(1, 3) == 1 ? rnd(1, 2) : 1;
    const int32_t c = groups * rnd(1, 5), o = groups * rnd(1, 4), kh = rnd(1, 3), kw = rnd(1, 3);
    random_window(&l, kh, kw);
    l.in_dims[0] = l.out_dims[0] = rnd(1, 2);
    l.in_dims[3] = c;
    l.out_dims[3] = o;
    memcpy(l.w_dims, DIMS(o, kh, kw, c / groups), sizeof l.w_dims);
    l.rows = o;
    l.row_len = kh * kw * (c / groups);
    return l;
}

static layer random_depthwise(void) {
    layer l;
    memset(&l, 0, sizeof l);
    l.kernel = &nml_kernel_depthwise_conv_2d;
    l.in_rank = l.w_rank = 4;
    const int32_t c = rnd(1, 4), m = rnd(1, 3), kh = rnd(1, 4), kw = rnd(1, 4);
    random_window(&l, kh, kw);
    l.p.depth_multiplier = m;
    l.in_dims[0] = l.out_dims[0] = rnd(1, 2);
    l.in_dims[3] = c;
    l.out_dims[3] = c * m;
    memcpy(l.w_dims, DIMS(1, kh, kw, c * m), sizeof l.w_dims);
    l.rows = c * m;
    l.row_len = kh * kw;
    l.row_axis = 3;
    return l;
}

static layer random_fc(void) {
    layer l;
    memset(&l, 0, sizeof l);
    l.kernel = &nml_kernel_fully_connected;
    l.in_rank = l.w_rank = 2;
    const int32_t b = rnd(1, 3), depth = rnd(1, 60), units = rnd(1, 12);
    memcpy(l.in_dims, DIMS(b, depth), 2 * sizeof(int32_t));
    memcpy(l.out_dims, DIMS(b, units), 2 * sizeof(int32_t));
    memcpy(l.w_dims, DIMS(units, depth), 2 * sizeof(int32_t));
    nml_op_params_default(&l.p);
    l.p.activation = rnd(0, 3) == 0 ? NML_ACT_RELU6 : NML_ACT_NONE;
    l.rows = units;
    l.row_len = depth;
    return l;
}

/* ---- weights ---- */

typedef struct weight_kind {
    int sparsity_pct; /* share of zero weights */
    int k;            /* 0: any value; else values from tables of k entries */
    int row_tables;   /* k > 0: a different table per output channel */
    int int4;         /* values in [-8, 7] */
} weight_kind;

static int8_t random_value(const weight_kind *kind) {
    return (int8_t)(kind->int4 ? rnd(-8, 7) : rnd(-127, 127));
}

/* Weights in row order (row = output channel). */
static void random_rows(const layer *l, const weight_kind *kind, int8_t *rows) {
    int8_t table[16];
    for (int32_t r = 0; r < l->rows; r++) {
        if (kind->k && (r == 0 || kind->row_tables))
            for (int i = 0; i < kind->k; i++)
                table[i] = random_value(kind);
        for (int32_t j = 0; j < l->row_len; j++) {
            int8_t v = kind->k ? table[rnd(0, kind->k - 1)] : random_value(kind);
            if (rnd(0, 99) < kind->sparsity_pct) v = 0;
            rows[r * l->row_len + j] = v;
        }
    }
}

/* Row order -> the tensor's element order. */
static void rows_to_dense(const layer *l, const int8_t *rows, int8_t *dense) {
    for (int32_t r = 0; r < l->rows; r++)
        for (int32_t j = 0; j < l->row_len; j++) {
            const int32_t e = l->row_axis == 0 ? r * l->row_len + j : j * l->rows + r;
            dense[e] = rows[r * l->row_len + j];
        }
}

/* ---- running ---- */

typedef struct run_data {
    int8_t *x, *y;
    int32_t *bias;
    float *scales;
    float in_scale, out_scale;
    int32_t in_zp, out_zp;
} run_data;

/* Runs the layer with weights `w` of type w_type (dense int8, or packed with `record`). */
static void run_layer(const layer *l, run_data *d, int w_type, void *w, uint32_t w_bytes,
                      const uint8_t *record) {
    nml_kh h;
    kh_init(&h);
    const int pt = l->per_tensor_zp != 0;
    int ti = kh_tensor(&h, NML_INT8, l->in_rank, l->in_dims, d->x, d->in_scale, d->in_zp);
    int tw =
        kh_tensor(&h, w_type, l->w_rank, l->w_dims, w, d->scales[0], pt ? l->per_tensor_zp : 0);
    if (!pt) kh_per_channel(&h, tw, d->scales, NULL, (uint32_t)l->rows, l->row_axis);
    int tb = kh_tensor(&h, NML_INT32, 1, DIMS(l->rows), d->bias, d->in_scale * d->scales[0], 0);
    int to = kh_tensor(&h, NML_INT8, l->in_rank, l->out_dims, d->y, d->out_scale, d->out_zp);
    kh_const(&h, tw);
    kh_const(&h, tb);
    if (record) {
        h.tensors[tw].pack = record;
        h.tensors[tw].pack_bytes = NML_PACK_HEADER_BYTES;
        h.tensors[tw].bytes = w_bytes;
    }
    kh_inputs(&h, 3, ti, tw, tb);
    kh_outputs(&h, 1, to);
    if (kh_run(&h, l->kernel, &l->p) != NML_OK) fail_msg("%s", h.err.msg);
    kh_free(&h);
}

static const nml_pack_spec all_specs[11] = {
    {NML_PACK_POS_ALL, 1, 0},     {NML_PACK_POS_ALL, 1, 1},     {NML_PACK_POS_BITMASK, 0, 0},
    {NML_PACK_POS_BITMASK, 1, 0}, {NML_PACK_POS_BITMASK, 1, 1}, {NML_PACK_POS_GAPS, 0, 0},
    {NML_PACK_POS_GAPS, 1, 0},    {NML_PACK_POS_GAPS, 1, 1},    {NML_PACK_POS_GAPS4, 0, 0},
    {NML_PACK_POS_GAPS4, 1, 0},   {NML_PACK_POS_GAPS4, 1, 1},
};

/* Encodes rows with spec (skipping specs that cannot hold them), checks the encoding as the
 * loader does and its decoding, runs the packed kernel and compares with y_ref. Returns 1 when
 * the spec was tested. */
static int check_spec(const layer *l, const weight_kind *kind, const nml_pack_spec *spec,
                      const int8_t *rows, run_data *d, const int8_t *y_ref) {
    nml_pack_rows pr = {rows, (uint32_t)l->rows, (uint32_t)l->row_len, kind->int4, l->row_axis};
    nml_pack_encoded enc;
    if (nml_pack_encode(&pr, spec, &enc, NULL) != NML_OK) return 0;
    nml_packed p;
    nml_error err;
    const int type = kind->int4 ? NML_INT4 : NML_INT8;
    if (nml_packed_parse(enc.record, sizeof enc.record, type, l->w_rank, l->w_dims, enc.data,
                         (uint32_t)enc.data_bytes, &p, &err) != NML_OK ||
        nml_packed_verify(&p, &err) != NML_OK)
        fail_msg("%s", err.msg);
    const size_t n = (size_t)l->rows * (size_t)l->row_len;
    int8_t *back = malloc(n);
    nml_pack_decode_rows(&p, back);
    assert_memory_equal(back, rows, n);
    free(back);
    const int32_t n_out = out_count(l);
    run_layer(l, d, type, enc.data, (uint32_t)enc.data_bytes, enc.record);
    for (int32_t i = 0; i < n_out; i++)
        if (d->y[i] != y_ref[i])
            fail_msg("%s, spec %d/%d/%d, sparsity %d%%, K %d: output %d is %d, dense gives %d",
                     l->kernel->name, spec->positions, spec->clustered, spec->row_tables,
                     kind->sparsity_pct, kind->k, (int)i, d->y[i], y_ref[i]);
    nml_pack_encoded_free(&enc);
    return 1;
}

static run_data make_run_data(const layer *l) {
    run_data d;
    const int32_t n_in = in_count(l), n_out = out_count(l);
    d.x = malloc((size_t)n_in);
    d.y = malloc((size_t)n_out);
    d.bias = malloc((size_t)l->rows * sizeof *d.bias);
    d.scales = malloc((size_t)l->rows * sizeof *d.scales);
    for (int32_t i = 0; i < n_in; i++)
        d.x[i] = (int8_t)rnd(-128, 127);
    for (int32_t c = 0; c < l->rows; c++) {
        d.bias[c] = rnd(-3000, 3000);
        d.scales[c] = 0.005f + 0.0001f * (float)rnd(0, 100);
    }
    d.in_scale = 0.05f;
    d.in_zp = rnd(-10, 10);
    d.out_scale = 0.07f * sqrtf((float)l->row_len);
    d.out_zp = rnd(-5, 5);
    return d;
}

static void free_run_data(run_data *d) {
    free(d->x);
    free(d->y);
    free(d->bias);
    free(d->scales);
}

/* All encodings of one random weight tensor of this kind for layer l. Returns how many. */
static int check_layer(const layer *l, const weight_kind *kind) {
    const size_t n = (size_t)l->rows * (size_t)l->row_len;
    int8_t *rows = malloc(n), *dense = malloc(n), *y_ref = malloc((size_t)out_count(l));
    random_rows(l, kind, rows);
    rows_to_dense(l, rows, dense);
    run_data d = make_run_data(l);
    run_layer(l, &d, NML_INT8, dense, (uint32_t)n, NULL);
    memcpy(y_ref, d.y, (size_t)out_count(l));
    int tested = 0;
    for (int s = 0; s < 11; s++)
        tested += check_spec(l, kind, &all_specs[s], rows, &d, y_ref);
    free_run_data(&d);
    free(rows);
    free(dense);
    free(y_ref);
    return tested;
}

static const int sparsities[4] = {0, 50, 80, 100};

/* Every sparsity and K = 0 (unclustered), 2..16, with tensor and row tables. */
static void sweep(layer (*make)(void), uint32_t seed, int int4, int min_tested) {
    rng_state = seed;
    int tested = 0;
    for (int si = 0; si < 4; si++)
        for (int k = 0; k <= 16; k++) {
            if (k == 1) continue;
            for (int rt = 0; rt < (k ? 2 : 1); rt++) {
                weight_kind kind = {sparsities[si], k, rt, int4};
                const layer l = make();
                tested += check_layer(&l, &kind);
            }
        }
    assert_true(tested >= min_tested);
}

static void conv_packed_vs_dense(void **state) {
    (void)state;
    for (uint32_t seed = 1; seed <= 3; seed++)
        sweep(random_conv, seed, 0, 100);
}

static void depthwise_packed_vs_dense(void **state) {
    (void)state;
    for (uint32_t seed = 11; seed <= 13; seed++)
        sweep(random_depthwise, seed, 0, 100);
}

static void fc_packed_vs_dense(void **state) {
    (void)state;
    for (uint32_t seed = 21; seed <= 23; seed++)
        sweep(random_fc, seed, 0, 100);
}

static void int4_packed_vs_dense(void **state) {
    (void)state;
    sweep(random_conv, 31, 1, 100);
    sweep(random_depthwise, 32, 1, 100);
    sweep(random_fc, 33, 1, 100);
}

/* Per-tensor weights with zero point z: a weight stored as 0 still contributes z * (x - zp_x),
 * which the packed path adds back from the input sums. */
static void fc_weight_zero_point(void **state) {
    (void)state;
    rng_state = 77;
    for (int i = 0; i < 40; i++) {
        layer l = random_fc();
        l.per_tensor_zp = rnd(0, 1) ? rnd(1, 20) : -rnd(1, 20);
        weight_kind kind = {sparsities[i % 4], i % 3 ? 0 : 6, 0, 0};
        assert_true(check_layer(&l, &kind) >= 1);
    }
}

/* Runs of more than 255 zeros need skip bytes in the gap coding, also across rows and over a
 * whole empty row. */
static void long_zero_runs(void **state) {
    (void)state;
    rng_state = 9;
    layer l = random_fc();
    memcpy(l.in_dims, DIMS(2, 700), 2 * sizeof(int32_t));
    memcpy(l.out_dims, DIMS(2, 4), 2 * sizeof(int32_t));
    memcpy(l.w_dims, DIMS(4, 700), 2 * sizeof(int32_t));
    l.rows = 4;
    l.row_len = 700;
    int8_t *rows = calloc(2800, 1), *y_ref = malloc(8);
    rows[0] = 5;       /* row 0: first and last element */
    rows[699] = -7;    /* row 1 empty: a 1000-element run */
    rows[1700] = 100;  /* row 2: in the middle */
    rows[2100] = -100; /* row 3: 399 zeros later */
    rows[2799] = 3;
    run_data d = make_run_data(&l);
    run_layer(&l, &d, NML_INT8, rows, 2800, NULL);
    memcpy(y_ref, d.y, 8);
    weight_kind kind = {99, 0, 0, 0};
    const nml_pack_spec gaps[4] = {{NML_PACK_POS_GAPS, 0, 0},
                                   {NML_PACK_POS_GAPS, 1, 1},
                                   {NML_PACK_POS_GAPS4, 0, 0},
                                   {NML_PACK_POS_GAPS4, 1, 0}};
    for (int i = 0; i < 4; i++)
        assert_true(check_spec(&l, &kind, &gaps[i], rows, &d, y_ref));
    free_run_data(&d);
    free(rows);
    free(y_ref);
}

/* The outputs of a typical case vary, so equality above is not trivially met. */
static void outputs_vary(void **state) {
    (void)state;
    rng_state = 5;
    layer l = random_conv();
    memcpy(l.in_dims, DIMS(1, 6, 6, 3), sizeof l.in_dims);
    memcpy(l.w_dims, DIMS(4, 3, 3, 3), sizeof l.w_dims);
    memcpy(l.out_dims, DIMS(1, 6, 6, 4), sizeof l.out_dims);
    nml_op_params_default(&l.p);
    l.rows = 4;
    l.row_len = 27;
    weight_kind kind = {50, 8, 0, 0};
    int8_t rows[108], dense[108];
    random_rows(&l, &kind, rows);
    rows_to_dense(&l, rows, dense);
    run_data d = make_run_data(&l);
    run_layer(&l, &d, NML_INT8, dense, sizeof dense, NULL);
    int distinct = 0;
    for (int i = 1; i < out_count(&l); i++)
        distinct += d.y[i] != d.y[0];
    assert_true(distinct > out_count(&l) / 2);
    free_run_data(&d);
}

/* Prepare-time refusals: float activations, a filter packed along the wrong axis. */
static void packed_prepare_errors(void **state) {
    (void)state;
    int8_t rows[12] = {0, 1, 0, 2, 3, 0, 0, 0, 4, 0, 5, 0};
    nml_pack_rows pr = {rows, 3, 4, 0, 0};
    nml_pack_spec spec = {NML_PACK_POS_BITMASK, 0, 0};
    nml_pack_encoded enc;
    assert_int_equal(nml_pack_encode(&pr, &spec, &enc, NULL), NML_OK);
    float x[8] = {0}, y[6];
    float bias[3] = {0};
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_FLOAT32, 2, DIMS(2, 4), x, 0, 0);
    int tw = kh_tensor(&h, NML_INT8, 2, DIMS(3, 4), enc.data, 0.1f, 0);
    int tb = kh_tensor(&h, NML_FLOAT32, 1, DIMS(3), bias, 0, 0);
    int to = kh_tensor(&h, NML_FLOAT32, 2, DIMS(2, 3), y, 0, 0);
    kh_const(&h, tw);
    h.tensors[tw].pack = enc.record;
    h.tensors[tw].pack_bytes = NML_PACK_HEADER_BYTES;
    h.tensors[tw].bytes = (uint32_t)enc.data_bytes;
    kh_inputs(&h, 3, ti, tw, tb);
    kh_outputs(&h, 1, to);
    nml_op_params p;
    nml_op_params_default(&p);
    assert_int_equal(kh_prepare(&h, &nml_kernel_fully_connected, &p), NML_E_UNSUPPORTED);
    assert_non_null(strstr(h.err.msg, "packed weights need int8 activations"));
    kh_free(&h);

    /* a [1, 2, 2, 3] depthwise filter packed along axis 0 */
    int8_t xi[12] = {0}, yi[12];
    int32_t bi[3] = {0};
    int8_t wrows[12] = {1, 0, 2, 0, 3, 0, 0, 4, 0, 5, 0, 6};
    nml_pack_rows pw = {wrows, 1, 12, 0, 0};
    nml_pack_encoded ew;
    assert_int_equal(nml_pack_encode(&pw, &spec, &ew, NULL), NML_OK);
    kh_init(&h);
    ti = kh_tensor(&h, NML_INT8, 4, DIMS(1, 2, 2, 3), xi, 0.1f, 0);
    tw = kh_tensor(&h, NML_INT8, 4, DIMS(1, 2, 2, 3), ew.data, 0.1f, 0);
    tb = kh_tensor(&h, NML_INT32, 1, DIMS(3), bi, 0.01f, 0);
    to = kh_tensor(&h, NML_INT8, 4, DIMS(1, 2, 2, 3), yi, 0.1f, 0);
    kh_const(&h, tw);
    h.tensors[tw].pack = ew.record;
    h.tensors[tw].pack_bytes = NML_PACK_HEADER_BYTES;
    h.tensors[tw].bytes = (uint32_t)ew.data_bytes;
    kh_inputs(&h, 3, ti, tw, tb);
    kh_outputs(&h, 1, to);
    nml_op_params_default(&p);
    p.depth_multiplier = 1;
    assert_int_equal(kh_prepare(&h, &nml_kernel_depthwise_conv_2d, &p), NML_E_FORMAT);
    assert_non_null(strstr(h.err.msg, "packed along axis 0"));
    kh_free(&h);
    nml_pack_encoded_free(&enc);
    nml_pack_encoded_free(&ew);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outputs_vary),
        cmocka_unit_test(conv_packed_vs_dense),
        cmocka_unit_test(depthwise_packed_vs_dense),
        cmocka_unit_test(fc_packed_vs_dense),
        cmocka_unit_test(int4_packed_vs_dense),
        cmocka_unit_test(fc_weight_zero_point),
        cmocka_unit_test(long_zero_runs),
        cmocka_unit_test(packed_prepare_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
