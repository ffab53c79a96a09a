/* The model verifier: every shared model loads and reads back facts published about it;
 * truncated, bit-flipped and hand-broken models fail with a message naming the element, and
 * never read out of bounds (the ASan build checks that: every copy below is allocated at its
 * exact size). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "nanoml/macs.h"
#include "nanoml/runtime_host.h"
#include "test_util.h"
#include "tfl_builder.h"

/* ---- helpers ---- */

static uint8_t *exact_copy(const uint8_t *src, size_t n) {
    void *p = NULL;
    assert_int_equal(posix_memalign(&p, 16, n ? n : 1), 0);
    if (n) memcpy(p, src, n);
    return p;
}

static uint8_t *read_model(const char *name, size_t *size) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/tflm/%s.tflite", name);
    return nml_test_read(nml_test_shared(rel), size);
}

static nml_status load_built(tb_model *m, nml_error *err) {
    size_t size;
    uint8_t *data = tb_build(m, &size);
    uint8_t *copy = exact_copy(data, size);
    nml_model model;
    nml_error_clear(err);
    nml_status st = nml_model_load(&model, copy, size, err);
    free(copy);
    free(data);
    return st;
}

static void expect_error(tb_model *m, nml_status want, const char *text) {
    nml_error err;
    nml_status st = load_built(m, &err);
    if (st != want || !strstr(err.msg, text))
        fail_msg("expected %s containing \"%s\", got %s: \"%s\"", nml_status_str(want), text,
                 nml_status_str(st), err.msg);
}

/* ---- the shared models ---- */

typedef struct model_facts {
    const char *name;
    uint32_t n_operators;
    int in_rank;
    int32_t in_dims[4];
    int in_type;
    int out_rank;
    int32_t out_dims[4];
} model_facts;

/* Published shapes: hello_world maps x to sin(x) (1x1), micro_speech classifies a 49x40
 * spectrogram (1960 int8 features) into silence/unknown/yes/no, person_detect is MobileNet on
 * a 96x96 grayscale picture with [no person, person] scores, simple_add adds two 128x128x1
 * tensors (shapes from the TFLM examples and ../shared/README.md). */
static const model_facts FACTS[] = {
    {"hello_world_float", 3, 2, {1, 1}, NML_FLOAT32, 2, {1, 1}},
    {"hello_world_int8", 3, 2, {1, 1}, NML_INT8, 2, {1, 1}},
    {"micro_speech_quantized", 4, 2, {1, 1960}, NML_INT8, 2, {1, 4}},
    {"person_detect", 31, 4, {1, 96, 96, 1}, NML_INT8, 2, {1, 2}},
    {"simple_add_model", 1, 4, {1, 128, 128, 1}, NML_INT8, 4, {1, 128, 128, 1}},
};

static void check_io(const nml_model *m, int32_t idx, int rank, const int32_t *dims, int type) {
    nml_tensor t;
    nml_error err;
    assert_int_equal(nml_model_tensor(m, (uint32_t)idx, &t, &err), NML_OK);
    assert_int_equal(t.rank, rank);
    for (int i = 0; i < rank; i++)
        assert_int_equal(t.dims[i], dims[i]);
    assert_int_equal(t.type, type);
    assert_int_equal(t.alloc, NML_ALLOC_NONE);
}

static void shared_models_load(void **state) {
    (void)state;
    for (size_t k = 0; k < sizeof FACTS / sizeof FACTS[0]; k++) {
        const model_facts *f = &FACTS[k];
        size_t size;
        uint8_t *data = read_model(f->name, &size);
        nml_model m;
        nml_error err;
        if (nml_model_load(&m, data, size, &err) != NML_OK) fail_msg("%s: %s", f->name, err.msg);
        assert_int_equal(m.version, 3);
        assert_int_equal(m.n_operators, f->n_operators);
        check_io(&m, nml_model_input(&m, 0), f->in_rank, f->in_dims, f->in_type);
        check_io(&m, nml_model_output(&m, 0), f->out_rank, f->out_dims, f->in_type);
        assert_int_equal(nml_model_input(&m, 7), -1);
        free(data);
    }
    /* a large model outside the TFLM set */
    const char *yolo = nml_test_shared("models/yolov8n/yolov8n_full_integer_quant.tflite");
    if (nml_test_exists(yolo)) {
        size_t size;
        uint8_t *data = nml_test_read(yolo, &size);
        nml_model m;
        nml_error err;
        if (nml_model_load(&m, data, size, &err) != NML_OK) fail_msg("yolov8n: %s", err.msg);
        free(data);
    }
}

/* SAME: ceil(in / stride); VALID: ceil((in - dilated filter + 1) / stride). */
static int32_t expected_out(int32_t in, int32_t filter, int32_t stride, int32_t dilation,
                            int padding) {
    int32_t eff = (filter - 1) * dilation + 1;
    if (padding == NML_PAD_SAME) return (in + stride - 1) / stride;
    return (in - eff + stride) / stride;
}

/* Decoded options must reproduce the spatial output shapes the converter wrote: a wrong field
 * id for padding, strides, filter sizes, dilations or the depth multiplier shows up here. */
static void check_window_ops(const char *path) {
    size_t size;
    uint8_t *data = nml_test_read(path, &size);
    nml_model m;
    nml_error err;
    assert_int_equal(nml_model_load(&m, data, size, &err), NML_OK);
    int checked = 0;
    for (uint32_t i = 0; i < m.n_operators; i++) {
        nml_model_op op;
        nml_op_params p;
        nml_tensor in, filter, out;
        assert_int_equal(nml_model_operator(&m, i, &op, &err), NML_OK);
        assert_int_equal(nml_model_op_params(&m, i, &p, &err), NML_OK);
        int conv = op.builtin == NML_OP_CONV_2D, dw = op.builtin == NML_OP_DEPTHWISE_CONV_2D;
        int pool = op.builtin == NML_OP_AVERAGE_POOL_2D || op.builtin == NML_OP_MAX_POOL_2D;
        if (!conv && !dw && !pool) continue;
        assert_int_equal(nml_model_tensor(&m, (uint32_t)op.inputs[0], &in, &err), NML_OK);
        assert_int_equal(nml_model_tensor(&m, (uint32_t)op.outputs[0], &out, &err), NML_OK);
        int32_t fh = p.filter_h, fw = p.filter_w;
        if (!pool) {
            assert_int_equal(nml_model_tensor(&m, (uint32_t)op.inputs[1], &filter, &err), NML_OK);
            fh = filter.dims[1];
            fw = filter.dims[2];
        }
        assert_true(p.stride_h >= 1 && p.stride_w >= 1);
        assert_int_equal(out.dims[1], expected_out(in.dims[1], fh, p.stride_h,
                                                   pool ? 1 : p.dilation_h, p.padding));
        assert_int_equal(out.dims[2], expected_out(in.dims[2], fw, p.stride_w,
                                                   pool ? 1 : p.dilation_w, p.padding));
        if (dw) assert_int_equal(out.dims[3], in.dims[3] * p.depth_multiplier);
        if (conv) assert_int_equal(out.dims[3], filter.dims[0]);
        if (pool) assert_int_equal(out.dims[3], in.dims[3]);
        checked++;
    }
    assert_true(checked > 0);
    free(data);
}

/* CONCATENATION's axis (ConcatenationOptions field 0) must be the dimension along which the
 * output is the sum of the inputs. */
static void check_concat_axes(const char *path) {
    size_t size;
    uint8_t *data = nml_test_read(path, &size);
    nml_model m;
    nml_error err;
    assert_int_equal(nml_model_load(&m, data, size, &err), NML_OK);
    int checked = 0;
    for (uint32_t i = 0; i < m.n_operators; i++) {
        nml_model_op op;
        nml_op_params p;
        nml_tensor t, out;
        assert_int_equal(nml_model_operator(&m, i, &op, &err), NML_OK);
        if (op.builtin != NML_OP_CONCATENATION) continue;
        assert_int_equal(nml_model_op_params(&m, i, &p, &err), NML_OK);
        assert_int_equal(nml_model_tensor(&m, (uint32_t)op.outputs[0], &out, &err), NML_OK);
        int axis = p.axis < 0 ? p.axis + out.rank : p.axis;
        assert_true(axis >= 0 && axis < out.rank);
        int32_t sum = 0;
        for (uint32_t k = 0; k < op.n_inputs; k++) {
            assert_int_equal(nml_model_tensor(&m, (uint32_t)op.inputs[k], &t, &err), NML_OK);
            sum += t.dims[axis];
        }
        assert_int_equal(sum, out.dims[axis]);
        checked++;
    }
    assert_true(checked > 0);
    free(data);
}

static void options_reproduce_output_shapes(void **state) {
    (void)state;
    check_window_ops(nml_test_shared("models/tflm/person_detect.tflite"));
    check_window_ops(nml_test_shared("models/tflm/micro_speech_quantized.tflite"));
    const char *yolo = nml_test_shared("models/yolov8n/yolov8n_full_integer_quant.tflite");
    if (nml_test_exists(yolo)) {
        check_window_ops(yolo);
        check_concat_axes(yolo);
    }
}

/* hello_world is Dense(16, relu) -> Dense(16, relu) -> Dense(1) (the TFLM training script);
 * softmax layers use beta 1. MACs by hand: hello_world 1*16 + 16*16 + 16*1 = 288;
 * micro_speech: depthwise 1x25x20x8 output x 10x8 window = 320000, fully connected 4 outputs
 * x 4000 inputs = 16000, reshape 0, softmax 4 elements: 336004. */
static void options_and_macs_of_small_models(void **state) {
    (void)state;
    size_t size;
    nml_model m;
    nml_error err;
    nml_op_params p;
    uint64_t macs, total = 0;
    uint8_t *data = read_model("hello_world_int8", &size);
    assert_int_equal(nml_model_load(&m, data, size, &err), NML_OK);
    const int acts[3] = {NML_ACT_RELU, NML_ACT_RELU, NML_ACT_NONE};
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(nml_model_op_params(&m, i, &p, &err), NML_OK);
        assert_int_equal(p.activation, acts[i]);
        assert_int_equal(p.keep_num_dims, 0);
        assert_int_equal(nml_model_op_macs(&m, i, &macs, &err), NML_OK);
        total += macs;
    }
    assert_int_equal(total, 288);
    free(data);

    data = read_model("micro_speech_quantized", &size);
    assert_int_equal(nml_model_load(&m, data, size, &err), NML_OK);
    const uint64_t want[4] = {0, 320000, 16000, 4};
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(nml_model_op_macs(&m, i, &macs, &err), NML_OK);
        assert_int_equal(macs, want[i]);
    }
    assert_int_equal(nml_model_op_params(&m, 3, &p, &err), NML_OK);
    assert_true(p.beta == 1.0f);
    free(data);
}

/* ---- damaged copies of real models ---- */

static void every_truncation_fails(void **state) {
    (void)state;
    size_t size;
    uint8_t *data = read_model("hello_world_int8", &size);
    for (size_t len = 0; len < size; len++) {
        uint8_t *copy = exact_copy(data, len);
        nml_model m;
        nml_error err;
        nml_error_clear(&err);
        nml_status st = nml_model_load(&m, copy, len, &err);
        if (st == NML_OK) fail_msg("prefix of %zu bytes loaded", len);
        assert_true(err.msg[0] != '\0');
        free(copy);
    }
    free(data);
}

/* Accepts every operator: prepare asks for a little persistent memory and scratch, eval
 * writes every output and the scratch completely. */
static nml_status any_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *params) {
    (void)params;
    if (!nml_ctx_alloc_persistent(ctx, 24)) return NML_E_ARENA;
    nml_tensor *out = nml_node_output(ctx, node, 0);
    return nml_ctx_request_scratch(ctx, node, out ? out->bytes % 512 : 0);
}

static nml_status any_eval(nml_ctx *ctx, nml_node *node) {
    for (uint32_t k = 0; k < node->n_outputs; k++) {
        nml_tensor *t = nml_node_output(ctx, node, k);
        if (t && t->data && t->alloc != NML_ALLOC_CONST) memset(t->data, 0x5a, t->bytes);
    }
    void *s = nml_ctx_scratch(ctx, node);
    if (s) memset(s, 0xee, node->scratch_bytes);
    return NML_OK;
}

#define ANY_CODES 256
static nml_kernel any_kernels[ANY_CODES];
static const nml_kernel *any_table[ANY_CODES];
static const nml_op_resolver any_ops = {any_table, ANY_CODES};

static void setup_any_ops(void) {
    for (int i = 0; i < ANY_CODES; i++) {
        any_kernels[i].builtin = i;
        any_kernels[i].name = nml_op_name(i);
        any_kernels[i].prepare = any_prepare;
        any_kernels[i].eval = any_eval;
        any_table[i] = &any_kernels[i];
    }
}

static uint32_t rng_state;
static uint32_t rng(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

#define FUZZ_ARENA (256u << 10)

/* A model that loaded must also survive the rest of the pipeline. */
static void exercise(const nml_model *m, uint8_t *arena) {
    nml_error err;
    uint64_t macs;
    for (uint32_t i = 0; i < m->n_operators; i++)
        assert_int_equal(nml_model_op_macs(m, i, &macs, &err), NML_OK);
    nml_interpreter it = {0};
    nml_status st = nml_interpreter_init(&it, m, &any_ops, arena, FUZZ_ARENA, &err);
    if (st != NML_OK) {
        assert_true(err.msg[0] != '\0');
        return;
    }
    assert_true(it.arena_used <= FUZZ_ARENA);
    assert_int_equal(nml_invoke(&it, &err), NML_OK);
}

static void fuzz_model(const char *name, int trials) {
    size_t size;
    uint8_t *data = read_model(name, &size);
    uint8_t *arena = nml_test_alloc16(FUZZ_ARENA);
    int loaded = 0;
    setup_any_ops();
    rng_state = 12345u;
    for (int trial = 0; trial < trials; trial++) {
        uint8_t *copy = exact_copy(data, size);
        int flips = 1 + (int)(rng() % 4);
        for (int f = 0; f < flips; f++)
            copy[rng() % size] ^= (uint8_t)(1 + rng() % 255);
        nml_model m;
        nml_error err;
        nml_error_clear(&err);
        nml_status st = nml_model_load(&m, copy, size, &err);
        if (st == NML_OK) {
            loaded++;
            exercise(&m, arena);
        } else {
            assert_true(st > NML_OK && st <= NML_E_INTERNAL);
            if (!err.msg[0]) fail_msg("%s trial %d: status %d without a message", name, trial, st);
        }
        free(copy);
    }
    print_message("%s: %d of %d flipped copies still loaded\n", name, loaded, trials);
    free(arena);
    free(data);
}

static void random_byte_flips(void **state) {
    (void)state;
    fuzz_model("hello_world_float", 10000);
    fuzz_model("hello_world_int8", 10000);
    fuzz_model("simple_add_model", 10000);
    fuzz_model("micro_speech_quantized", 5000);
    fuzz_model("person_detect", 500);
}

static void damaged_headers(void **state) {
    (void)state;
    size_t size;
    uint8_t *data = read_model("hello_world_int8", &size);
    nml_model m;
    nml_error err;

    assert_int_equal(nml_model_load(&m, data, 0, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(nml_model_load(&m, NULL, 10, &err), NML_E_ARG);

    uint8_t *copy = exact_copy(data, size);
    memcpy(copy + 4, "TFL2", 4);
    assert_int_equal(nml_model_load(&m, copy, size, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, "file identifier is 'TFL2', expected 'TFL3'");
    free(copy);

    uint8_t *shifted = nml_test_alloc16(size + 16);
    memcpy(shifted + 4, data, size);
    assert_int_equal(nml_model_load(&m, shifted + 4, size, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "16-byte aligned"));
    free(shifted);

    copy = exact_copy(data, size);
    copy[0] = 0xf0; /* root offset past the end */
    copy[1] = 0xff;
    assert_int_equal(nml_model_load(&m, copy, size, &err), NML_E_FORMAT);
    free(copy);

    /* the subgraph's tensors vector offset pointing past the end */
    assert_int_equal(nml_model_load(&m, data, size, &err), NML_OK);
    uint32_t sub = m.subgraph_table;
    int32_t soff = (int32_t)(data[sub] | data[sub + 1] << 8 | data[sub + 2] << 16 |
                             (uint32_t)data[sub + 3] << 24);
    uint32_t vt = (uint32_t)((int64_t)sub - soff);
    uint32_t field = sub + (uint32_t)(data[vt + 4] | data[vt + 5] << 8);
    copy = exact_copy(data, size);
    copy[field + 2] = 0x7f;
    assert_int_equal(nml_model_load(&m, copy, size, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "subgraph 0: tensors: "));
    free(copy);
    free(data);
}

static void model_file_errors(void **state) {
    (void)state;
    uint8_t *data;
    size_t size;
    nml_model m;
    nml_error err;
    assert_int_equal(nml_load_model_file(nml_test_shared("models"), &data, &size, &m, &err),
                     NML_E_IO);
    assert_non_null(strstr(err.msg, "is a directory"));
    assert_null(data);
    assert_int_equal(nml_load_model_file("/nonexistent/x.tflite", &data, &size, &m, &err),
                     NML_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.tflite"));
    const char *readme = nml_test_shared("README.md");
    assert_int_equal(nml_load_model_file(readme, &data, &size, &m, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "identifier"));
    assert_non_null(strstr(err.msg, readme));
}

/* ---- hand-built broken models ---- */

static void broken_tensors(void **state) {
    (void)state;
    tb_model *m = tb_new_add_int8();
    assert_int_equal(load_built(m, &(nml_error){0}), NML_OK);

    int32_t huge[3] = {65536, 65536, 65536};
    m->tensors[0].rank = 3;
    memcpy(m->tensors[0].dims, huge, sizeof huge);
    expect_error(m, NML_E_LIMIT, "tensor 0: int8 tensor of shape 65536x65536x65536 exceeds");
    int32_t big_float[2] = {46341, 46341}; /* 2147488281 elements x 4 bytes */
    m->tensors[0].type = NML_FLOAT32;
    m->tensors[0].rank = 2;
    memcpy(m->tensors[0].dims, big_float, sizeof big_float);
    expect_error(m, NML_E_LIMIT, "tensor 0: float32 tensor of shape 46341x46341 exceeds");
    int32_t empty_huge[4] = {0, 2147483647, 2147483647, 2147483647};
    m->tensors[0].rank = 4;
    memcpy(m->tensors[0].dims, empty_huge, sizeof empty_huge);
    assert_int_equal(load_built(m, &(nml_error){0}), NML_OK); /* zero elements */
    m->tensors[0].dims[0] = -1;
    expect_error(m, NML_E_SHAPE, "tensor 0: dimension 0 is -1");
    m->tensors[0].rank = 7;
    expect_error(m, NML_E_LIMIT, "tensor 0: rank 7 exceeds the limit of 6");
    free(m);

    m = tb_new_add_int8();
    m->tensors[1].type = NML_STRING;
    expect_error(m, NML_E_UNSUPPORTED, "tensor 1: type string (5) is not supported");
    m->tensors[1].type = 13;
    expect_error(m, NML_E_UNSUPPORTED, "tensor 1: type unknown (13) is not supported");
    free(m);

    /* constant data */
    static const int32_t four_ints[4] = {1, 2, 3, 4};
    m = tb_new_add_int8();
    int32_t dims4[1] = {4};
    int b = tb_buffer(m, four_ints, 12);
    int t = tb_add_tensor(m, NML_INT32, 1, dims4, (uint32_t)b, "bias");
    expect_error(m, NML_E_FORMAT, "tensor 3: buffer 1 holds 12 bytes, but int32 4 needs 16");
    m->buf_size[b] = 16;
    assert_int_equal(load_built(m, &(nml_error){0}), NML_OK);
    m->tensors[t].buffer = 7;
    expect_error(m, NML_E_FORMAT, "tensor 3: buffer 7 out of range (model has 2 buffers)");
    m->tensors[t].buffer = (uint32_t)b;
    m->buf_offset[b] = 4096;
    expect_error(m, NML_E_UNSUPPORTED, "buffer 1: data stored outside the flatbuffer");
    m->buf_offset[b] = 0;
    m->tensors[t].is_variable = 1;
    expect_error(m, NML_E_UNSUPPORTED, "variable tensor with initial data");
    free(m);

    static const int64_t two_longs[2] = {1, 2};
    m = tb_new_add_int8();
    int32_t dims2[1] = {2};
    b = tb_buffer(m, two_longs, 16);
    tb_add_tensor(m, NML_INT64, 1, dims2, (uint32_t)b, "longs");
    m->buf_phase[b] = 4; /* data at 4 mod 16: not 8-byte aligned */
    expect_error(m, NML_E_FORMAT, "tensor 3: constant data at offset");
    expect_error(m, NML_E_FORMAT, "is not aligned to 8 bytes for int64");
    m->buf_phase[b] = 8;
    assert_int_equal(load_built(m, &(nml_error){0}), NML_OK);
    free(m);

    /* data must sit at a multiple of its element size, and need not sit at more: int32 at 12
     * mod 16 loads, int64 there (4 mod 8) is refused. (Vectors are 4-byte aligned, so only
     * 8-byte elements can be misaligned in a well-formed flatbuffer.) */
    static const int32_t two_ints[2] = {1, 2};
    m = tb_new_add_int8();
    b = tb_buffer(m, two_ints, 8);
    tb_add_tensor(m, NML_INT32, 1, dims2, (uint32_t)b, "ints");
    m->buf_phase[b] = 12;
    assert_int_equal(load_built(m, &(nml_error){0}), NML_OK);
    free(m);
    m = tb_new_add_int8();
    b = tb_buffer(m, two_longs, 16);
    tb_add_tensor(m, NML_INT64, 1, dims2, (uint32_t)b, "longs");
    m->buf_phase[b] = 12;
    expect_error(m, NML_E_FORMAT, "is not aligned to 8 bytes for int64");
    free(m);
}

/* Buffer.offset and Buffer.size (data outside the flatbuffer, u64 fields: both 32-bit words
 * matter): offset 0 or 1 with no size is in-file data; anything else is refused, the message
 * giving both values. */
static void buffers_outside_the_file(void **state) {
    (void)state;
    static const int32_t four_ints[4] = {1, 2, 3, 4};
    const struct {
        uint64_t offset, size;
        const char *text; /* NULL: loads */
    } c[] = {
        {1, 0, NULL},
        {2, 0, "buffer 1: data stored outside the flatbuffer (offset 2, size 0)"},
        {0, 1, "buffer 1: data stored outside the flatbuffer (offset 0, size 1)"},
        {1, 16, "(offset 1, size 16)"},
        {(uint64_t)1 << 32, 0, "(offset 4294967296, size 0)"},
        {((uint64_t)1 << 32) + 1, 0, "(offset 4294967297, size 0)"},
        {0, (uint64_t)1 << 32, "(offset 0, size 4294967296)"},
        {UINT64_MAX, UINT64_MAX, "(offset 18446744073709551615, size 18446744073709551615)"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        tb_model *m = tb_new_add_int8();
        int32_t dims4[1] = {4};
        int b = tb_buffer(m, four_ints, 16);
        tb_add_tensor(m, NML_INT32, 1, dims4, (uint32_t)b, "bias");
        m->buf_offset[b] = c[i].offset;
        m->buf_ext_size[b] = c[i].size;
        if (c[i].text)
            expect_error(m, NML_E_UNSUPPORTED, c[i].text);
        else
            assert_int_equal(load_built(m, &(nml_error){0}), NML_OK);
        free(m);
    }
}

/* The root table's vector field id: the position of its u32 offset. */
static uint32_t root_field(const uint8_t *d, unsigned id) {
    uint32_t root = d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24;
    int32_t soff =
        (int32_t)(d[root] | d[root + 1] << 8 | d[root + 2] << 16 | (uint32_t)d[root + 3] << 24);
    uint32_t vt = (uint32_t)((int64_t)root - soff);
    return root + (uint32_t)(d[vt + 4 + 2 * id] | d[vt + 5 + 2 * id] << 8);
}

static void broken_subgraphs(void **state) {
    (void)state;
    tb_model *m = tb_new_add_int8();
    size_t size;
    uint8_t *data = tb_build(m, &size);
    free(m);
    uint8_t *copy = exact_copy(data, size);
    nml_model model;
    nml_error err;
    assert_int_equal(nml_model_load(&model, copy, size, &err), NML_OK);
    const uint32_t field = root_field(copy, 2); /* Model.subgraphs */
    const uint32_t target = field + (copy[field] | copy[field + 1] << 8 | copy[field + 2] << 16 |
                                     (uint32_t)copy[field + 3] << 24);
    /* an empty subgraphs vector */
    memset(copy + target, 0, 4);
    assert_int_equal(nml_model_load(&model, copy, size, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, "model has no subgraphs");
    /* the vector's offset past the end, then its length past the end */
    memcpy(copy, data, size);
    copy[field + 3] = 0x7f;
    assert_int_equal(nml_model_load(&model, copy, size, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "subgraphs: offset "));
    memcpy(copy, data, size);
    copy[target + 3] = 0x01;
    assert_int_equal(nml_model_load(&model, copy, size, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "subgraphs: vector at "));
    /* subgraph 0's table offset past the end */
    memcpy(copy, data, size);
    copy[target + 4 + 3] = 0x7f;
    assert_int_equal(nml_model_load(&model, copy, size, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "subgraph 0: offset "));
    free(copy);
    free(data);
}

static void broken_quantization(void **state) {
    (void)state;
    static const float scales[4] = {0.5f, 0.25f, 0.125f, 1.0f};
    static const int64_t zps[4] = {0, 0, 0, 0};
    static const float bad_scale[1] = {-1.0f};
    static const int64_t big_zp[1] = {(int64_t)1 << 40};
    tb_model *m = tb_new_add_int8();
    int32_t dims[2] = {4, 2};
    int t = tb_add_tensor(m, NML_INT8, 2, dims, 0, "w");
    tb_quant(m, t, 3, scales, zps, 0);
    expect_error(m, NML_E_FORMAT, "tensor 3: quantization: 3 scales for dimension 0 of size 4");
    tb_quant(m, t, 4, scales, zps, 5);
    expect_error(m, NML_E_FORMAT,
                 "tensor 3: quantization: quantized_dimension 5 out of range (rank 2)");
    tb_quant(m, t, 4, scales, zps, -1);
    expect_error(m, NML_E_FORMAT, "quantized_dimension -1 out of range");
    tb_quant(m, t, 2, scales, zps, 1);
    m->tensors[t].zero_points = NULL;
    assert_int_equal(load_built(m, &(nml_error){0}), NML_OK); /* zero points are optional */
    tb_quant(m, t, 1, bad_scale, NULL, 0);
    expect_error(m, NML_E_FORMAT, "tensor 3: quantization: scale is negative or not finite");
    tb_quant(m, t, 1, scales, big_zp, 0);
    expect_error(m, NML_E_FORMAT, "zero point 1099511627776 does not fit in 32 bits");
    free(m);

    /* scale and zero point counts disagree: built by hand with 2 scales and 1 zero point */
    m = tb_new_add_int8();
    t = tb_add_tensor(m, NML_INT8, 2, dims, 0, "w");
    tb_quant(m, t, 2, scales, zps, 1);
    size_t size;
    uint8_t *data = tb_build(m, &size);
    nml_model model;
    nml_error err;
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    nml_tensor x;
    assert_int_equal(nml_model_tensor(&model, (uint32_t)t, &x, &err), NML_OK);
    assert_int_equal(x.n_q, 2);
    assert_int_equal(x.q_dim, 1);
    assert_true(nml_tensor_channel_scale(&x, 1) == 0.25f);
    const uint8_t *zp_vec = x.q_zero_points;
    ((uint8_t *)zp_vec)[-4] = 1; /* zero_point vector length 2 -> 1 */
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, "tensor 3: quantization: 2 scales but 1 zero points");
    free(data);
    free(m);

    /* legacy quantized_dimension values TFLite converters write, accepted */
    m = tb_new_add_int8();
    tb_quant(m, 0, 1, scales, zps, 3); /* per-tensor with a meaningless dimension */
    int32_t bias_dims[1] = {4};
    t = tb_add_tensor(m, NML_INT32, 1, bias_dims, 0, "bias");
    tb_quant(m, t, 4, scales, zps, 3); /* person_detect's per-channel biases */
    data = tb_build(m, &size);
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    assert_int_equal(nml_model_tensor(&model, (uint32_t)t, &x, &err), NML_OK);
    assert_int_equal(x.q_dim, 0);
    assert_int_equal(x.n_q, 4);
    assert_int_equal(nml_model_tensor(&model, 0, &x, &err), NML_OK);
    assert_int_equal(x.q_dim, 0);
    assert_true(x.scale == 0.5f);
    free(data);
    free(m);
}

static void broken_graph(void **state) {
    (void)state;
    tb_model *m = tb_new_add_int8();
    m->ops[0].in[1] = 99;
    expect_error(m, NML_E_FORMAT,
                 "operator 0: input 1 refers to tensor 99 (subgraph has 3 tensors)");
    m->ops[0].in[1] = -1; /* optional input absent: allowed */
    assert_int_equal(load_built(m, &(nml_error){0}), NML_OK);
    m->ops[0].in[1] = -2;
    expect_error(m, NML_E_FORMAT, "operator 0: input 1 refers to tensor -2");
    m->ops[0].in[1] = 1;
    m->ops[0].out[0] = -1;
    expect_error(m, NML_E_FORMAT,
                 "operator 0: output 0 refers to tensor -1 (subgraph has 3 tensors)");
    m->ops[0].out[0] = 2;
    m->ops[0].opcode = 5;
    expect_error(m, NML_E_FORMAT,
                 "operator 0: opcode index 5 out of range (model has 1 operator codes)");
    m->ops[0].opcode = 0;
    m->ops[0].n_in = 17;
    expect_error(m, NML_E_LIMIT, "operator 0: 17 inputs exceed the limit of 16");
    m->ops[0].n_in = 2;
    m->inputs[1] = 3;
    expect_error(m, NML_E_FORMAT, "subgraph input 1 refers to tensor 3 (subgraph has 3 tensors)");
    m->inputs[1] = 1;
    m->outputs[0] = -1;
    expect_error(m, NML_E_FORMAT, "subgraph output 0 refers to tensor -1");
    m->outputs[0] = 2;
    m->version = 2;
    expect_error(m, NML_E_UNSUPPORTED, "schema version 2 is not supported (expected 3)");
    m->version = 3;
    m->opcodes[0] = -3;
    expect_error(m, NML_E_FORMAT, "operator code 0: builtin code -3 is negative");
    free(m);
}

/* Options tables built with the field ids of schema.fbs (declaration order, 0-based). */
static void decoded_options(void **state) {
    (void)state;
    tb_model *m = tb_new_add_int8();
    nml_error err;
    m->opcodes[0] = NML_OP_CONV_2D;
    size_t size;
    nml_model model;
    nml_op_params p;
    uint8_t *data = tb_build(m, &size);
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    assert_int_equal(nml_model_op_params(&model, 0, &p, &err), NML_OK);
    /* no options table: the schema's defaults */
    assert_int_equal(p.padding, NML_PAD_SAME);
    assert_int_equal(p.stride_w, 0);
    assert_int_equal(p.stride_h, 0);
    assert_int_equal(p.dilation_w, 1);
    assert_int_equal(p.dilation_h, 1);
    assert_int_equal(p.activation, NML_ACT_NONE);
    free(data);

    /* Conv2DOptions (union type 1): padding 0, stride_w 1, stride_h 2, activation 3,
     * dilation_w 4, dilation_h 5 */
    tb_option(m, 0, 1, 0, 1, NML_PAD_VALID);
    tb_option(m, 0, 1, 1, 4, 2);
    tb_option(m, 0, 1, 2, 4, 3);
    tb_option(m, 0, 1, 3, 1, NML_ACT_RELU6);
    tb_option(m, 0, 1, 4, 4, 2);
    data = tb_build(m, &size);
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    assert_int_equal(nml_model_op_params(&model, 0, &p, &err), NML_OK);
    assert_int_equal(p.padding, NML_PAD_VALID);
    assert_int_equal(p.stride_w, 2);
    assert_int_equal(p.stride_h, 3);
    assert_int_equal(p.activation, NML_ACT_RELU6);
    assert_int_equal(p.dilation_w, 2);
    assert_int_equal(p.dilation_h, 1);
    free(data);

    m->ops[0].opt_type = 5; /* Pool2DOptions on a CONV_2D */
    expect_error(m, NML_E_FORMAT,
                 "operator 0 (CONV_2D): builtin options of type 5, expected 1 (Conv2DOptions)");
    m->ops[0].opt_type = 1;
    m->ops[0].opt[0].value = 2; /* padding 2 */
    expect_error(m, NML_E_FORMAT, "operator 0 (CONV_2D): padding 2 is neither SAME nor VALID");
    m->ops[0].opt[0].value = 0;
    m->ops[0].opt[3].value = 9;
    expect_error(m, NML_E_FORMAT, "fused activation 9 is unknown");
    m->opcodes[0] = NML_OP_LOGISTIC;
    expect_error(m, NML_E_FORMAT,
                 "operator 0 (LOGISTIC): builtin options of type 1, but LOGISTIC has none");
    free(m);

    /* ReshapeOptions (17): new_shape 0; absent -> -1 (shape from the second input) */
    m = tb_new_add_int8();
    m->opcodes[0] = NML_OP_RESHAPE;
    tb_option(m, 0, 17, 1, 4, 0); /* an empty ReshapeOptions table (field dropped below) */
    m->ops[0].n_opt = 0;
    data = tb_build(m, &size);
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    assert_int_equal(nml_model_op_params(&model, 0, &p, &err), NML_OK);
    assert_int_equal(p.new_shape_len, -1);
    free(data);
    m->ops[0].vec_id = 0;
    m->ops[0].n_vec = 3;
    m->ops[0].vec[0] = 1;
    m->ops[0].vec[1] = -1;
    m->ops[0].vec[2] = 8;
    data = tb_build(m, &size);
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    assert_int_equal(nml_model_op_params(&model, 0, &p, &err), NML_OK);
    assert_int_equal(p.new_shape_len, 3);
    assert_int_equal(p.new_shape[1], -1);
    assert_int_equal(p.new_shape[2], 8);
    free(data);
    m->ops[0].n_vec = 7;
    expect_error(m, NML_E_LIMIT, "operator 0 (RESHAPE): new_shape has 7 entries (limit 6)");
    free(m);

    /* CAST: no table -> types not given (-1); CastOptions (37) in 0 / out 1 */
    m = tb_new_add_int8();
    m->opcodes[0] = NML_OP_CAST;
    data = tb_build(m, &size);
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    assert_int_equal(nml_model_op_params(&model, 0, &p, &err), NML_OK);
    assert_int_equal(p.in_type, -1);
    assert_int_equal(p.out_type, -1);
    free(data);
    tb_option(m, 0, 37, 1, 1, NML_INT8);
    data = tb_build(m, &size);
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    assert_int_equal(nml_model_op_params(&model, 0, &p, &err), NML_OK);
    assert_int_equal(p.in_type, NML_FLOAT32); /* absent field of a present table: default */
    assert_int_equal(p.out_type, NML_INT8);
    free(data);
    free(m);

    /* SoftmaxOptions (9): beta 0 as float; ADD: AddOptions (11) pot_scale_int16 default true */
    m = tb_new_add_int8();
    m->opcodes[0] = NML_OP_SOFTMAX;
    uint32_t half = 0x3f000000u; /* 0.5f */
    tb_option(m, 0, 9, 0, 4, half);
    data = tb_build(m, &size);
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    assert_int_equal(nml_model_op_params(&model, 0, &p, &err), NML_OK);
    assert_true(p.beta == 0.5f);
    free(data);
    m->opcodes[0] = NML_OP_ADD;
    m->ops[0].opt_type = 11;
    m->ops[0].opt[0].value = NML_ACT_RELU; /* field 0 of AddOptions: activation */
    m->ops[0].opt[0].size = 1;
    data = tb_build(m, &size);
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    assert_int_equal(nml_model_op_params(&model, 0, &p, &err), NML_OK);
    assert_int_equal(p.activation, NML_ACT_RELU);
    assert_int_equal(p.pot_scale_int16, 1);
    free(data);
    free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_models_load),
        cmocka_unit_test(options_reproduce_output_shapes),
        cmocka_unit_test(options_and_macs_of_small_models),
        cmocka_unit_test(every_truncation_fails),
        cmocka_unit_test(random_byte_flips),
        cmocka_unit_test(damaged_headers),
        cmocka_unit_test(model_file_errors),
        cmocka_unit_test(broken_tensors),
        cmocka_unit_test(buffers_outside_the_file),
        cmocka_unit_test(broken_subgraphs),
        cmocka_unit_test(broken_quantization),
        cmocka_unit_test(broken_graph),
        cmocka_unit_test(decoded_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
