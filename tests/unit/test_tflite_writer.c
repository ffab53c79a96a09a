/* nml_ir_to_tflite, checked structurally: the written bytes are walked with the independent
 * test-side reader (tests/support/fb_walk) along the TFLite schema (field ids from schema.fbs:
 * Model{0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers, 6 metadata,
 * 7 signature_defs}, SubGraph{0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name},
 * Tensor{0 shape, 1 type, 2 buffer, 3 name, 4 quantization, 8 has_rank},
 * QuantizationParameters{2 scale, 3 zero_point, 6 quantized_dimension},
 * OperatorCode{0 deprecated_builtin_code, 1 custom_code, 2 version (default 1), 3 builtin_code},
 * Operator{0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options,
 * 5 custom_options}, Buffer{0 data}, Metadata{0 name, 1 buffer},
 * SignatureDef{0 inputs, 1 outputs, 2 signature_key, 4 subgraph_index}, TensorMap{0 name,
 * 1 tensor_index}). */
#include <stdlib.h>
#include <string.h>

#include "fb_walk.h"
#include "ir_models.h"
#include "nanoml/ir.h"
#include "test_util.h"

typedef struct written {
    uint8_t *bytes;
    size_t size;
    fbw b;
    size_t model, subgraph;
} written;

static void write_ok(const nml_ir *ir, written *w) {
    nml_error err;
    if (nml_ir_to_tflite(ir, &w->bytes, &w->size, &err) != NML_OK) fail_msg("writer: %s", err.msg);
    assert_true(((uintptr_t)w->bytes & 15) == 0);
    w->b.p = w->bytes;
    w->b.n = w->size;
    assert_memory_equal(w->bytes + 4, "TFL3", 4);
    w->model = fbw_root(&w->b);
    uint32_t n;
    size_t sgs = fbw_vector(&w->b, w->model, 2, &n);
    assert_int_equal(n, 1);
    w->subgraph = fbw_vector_ref(&w->b, sgs, n, 0);
}

static size_t table_at(const written *w, size_t owner, int field, uint32_t i, uint32_t *len) {
    size_t v = fbw_vector(&w->b, owner, field, len);
    assert_true(v != 0);
    return fbw_vector_ref(&w->b, v, *len, i);
}

static size_t tensor(const written *w, uint32_t i) {
    uint32_t n;
    return table_at(w, w->subgraph, 0, i, &n);
}

static size_t op(const written *w, uint32_t i) {
    uint32_t n;
    return table_at(w, w->subgraph, 3, i, &n);
}

static size_t opcode(const written *w, uint32_t i, uint32_t *count) {
    return table_at(w, w->model, 1, i, count);
}

static void expect_i32_vector(const written *w, size_t table, int field, const int32_t *want,
                              uint32_t n) {
    uint32_t len;
    size_t v = fbw_vector(&w->b, table, field, &len);
    assert_true(v != 0);
    assert_int_equal(len, n);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(fbw_int(&w->b, v + 4 * i, 4), want[i]);
}

/* Position and length of a buffer's data; 0 when the buffer has none. */
static size_t buffer_data(const written *w, uint32_t buffer, uint32_t *len) {
    uint32_t n;
    size_t buf = table_at(w, w->model, 4, buffer, &n);
    return fbw_vector(&w->b, buf, 0, len);
}

static void test_fc_float(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_fc_float(&ir);
    written w;
    write_ok(&ir, &w);
    const fbw *b = &w.b;

    assert_int_equal(w.size % 16, 0);
    assert_int_equal(fbw_scalar(b, w.model, 0, 4, 0), 3);
    assert_string_equal(fbw_string(b, w.model, 3), "nanoml");

    /* buffers: 0 empty sentinel, then one per constant (weights, bias), data 16-byte aligned */
    uint32_t n_buffers, len;
    fbw_vector(b, w.model, 4, &n_buffers);
    assert_int_equal(n_buffers, 3);
    assert_int_equal(buffer_data(&w, 0, &len), 0);
    size_t wdata = buffer_data(&w, 1, &len);
    assert_int_equal(len, 6 * sizeof(float));
    assert_int_equal(wdata % 16, 0);
    assert_memory_equal(w.bytes + wdata, ir.tensors[1].data, len);
    size_t bdata = buffer_data(&w, 2, &len);
    assert_int_equal(len, 2 * sizeof(float));
    assert_int_equal(bdata % 16, 0);
    assert_memory_equal(w.bytes + bdata, ir.tensors[2].data, len);

    /* one FULLY_CONNECTED (9) code, version 1 (field absent = default 1) */
    uint32_t n_codes;
    size_t code = opcode(&w, 0, &n_codes);
    assert_int_equal(n_codes, 1);
    assert_int_equal(fbw_scalar(b, code, 0, 1, 0), 9);
    assert_int_equal(fbw_scalar(b, code, 3, 4, 0), 9);
    assert_int_equal(fbw_scalar(b, code, 2, 4, 1), 1);

    /* tensors */
    uint32_t n_tensors;
    fbw_vector(b, w.subgraph, 0, &n_tensors);
    assert_int_equal(n_tensors, 4);
    const char *names[4] = {"x", "fc/weights", "fc/bias", "y"};
    const uint32_t buffers[4] = {0, 1, 2, 0};
    for (uint32_t i = 0; i < 4; i++) {
        size_t t = tensor(&w, i);
        assert_string_equal(fbw_string(b, t, 3), names[i]);
        assert_int_equal(fbw_scalar(b, t, 1, 1, 0), 0); /* FLOAT32 */
        assert_int_equal(fbw_scalar(b, t, 2, 4, 0), buffers[i]);
        assert_int_equal(fbw_field(b, t, 4), 0);        /* no quantization */
        assert_int_equal(fbw_field(b, t, 8), 0); /* has_rank absent: the shape has a rank */
    }
    expect_i32_vector(&w, tensor(&w, 1), 0, (const int32_t[]){2, 3}, 2);

    /* the operator and its FullyConnectedOptions (union id 8), activation NONE omitted */
    size_t o = op(&w, 0);
    assert_int_equal(fbw_scalar(b, o, 0, 4, 0), 0);
    expect_i32_vector(&w, o, 1, (const int32_t[]){0, 1, 2}, 3);
    expect_i32_vector(&w, o, 2, (const int32_t[]){3}, 1);
    assert_int_equal(fbw_scalar(b, o, 3, 1, 0), 8);
    size_t opt = fbw_ref(b, o, 4);
    assert_true(opt != 0);
    assert_int_equal(fbw_field(b, opt, 0), 0);
    assert_int_equal(fbw_field(b, opt, 2), 0);

    expect_i32_vector(&w, w.subgraph, 1, (const int32_t[]){0}, 1);
    expect_i32_vector(&w, w.subgraph, 2, (const int32_t[]){3}, 1);
    assert_string_equal(fbw_string(b, w.subgraph, 4), "main");

    /* serving_default signature naming input x (0) and output y (3) */
    uint32_t n_sig, n_map;
    size_t sig = table_at(&w, w.model, 7, 0, &n_sig);
    assert_int_equal(n_sig, 1);
    assert_string_equal(fbw_string(b, sig, 2), "serving_default");
    size_t in_map = table_at(&w, sig, 0, 0, &n_map);
    assert_int_equal(n_map, 1);
    assert_string_equal(fbw_string(b, in_map, 0), "x");
    assert_int_equal(fbw_scalar(b, in_map, 1, 4, 0), 0);
    size_t out_map = table_at(&w, sig, 1, 0, &n_map);
    assert_string_equal(fbw_string(b, out_map, 0), "y");
    assert_int_equal(fbw_scalar(b, out_map, 1, 4, 0), 3);

    free(w.bytes);
    nml_ir_free(&ir);
}

static void expect_f32_vector(const written *w, size_t table, int field, const float *want,
                              uint32_t n) {
    uint32_t len;
    size_t v = fbw_vector(&w->b, table, field, &len);
    assert_int_equal(len, n);
    for (uint32_t i = 0; i < n; i++)
        assert_true(fbw_f32(&w->b, v + 4 * i) == want[i]);
}

static void expect_i64_vector(const written *w, size_t table, int field, const int64_t *want,
                              uint32_t n) {
    uint32_t len;
    size_t v = fbw_vector(&w->b, table, field, &len);
    assert_int_equal(len, n);
    assert_int_equal(v % 8, 0);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(fbw_int(&w->b, v + 8 * i, 8), want[i]);
}

static void test_conv_int8(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_conv_int8(&ir);
    written w;
    write_ok(&ir, &w);
    const fbw *b = &w.b;

    /* versions for int8: CONV_2D 3, RELU 2, AVERAGE_POOL_2D 2 */
    uint32_t n_codes;
    const int32_t codes[3] = {3, 19, 1}, versions[3] = {3, 2, 2};
    for (uint32_t i = 0; i < 3; i++) {
        size_t c = opcode(&w, i, &n_codes);
        assert_int_equal(fbw_scalar(b, c, 3, 4, 0), codes[i]);
        assert_int_equal(fbw_scalar(b, c, 0, 1, 0), codes[i]);
        assert_int_equal(fbw_scalar(b, c, 2, 4, 1), versions[i]);
        assert_int_equal(fbw_scalar(b, op(&w, i), 0, 4, 0), i);
    }
    assert_int_equal(n_codes, 3);

    /* Conv2DOptions (1): padding VALID (1), strides 1, no activation, dilations default */
    size_t conv = op(&w, 0);
    assert_int_equal(fbw_scalar(b, conv, 3, 1, 0), 1);
    size_t opt = fbw_ref(b, conv, 4);
    assert_int_equal(fbw_scalar(b, opt, 0, 1, 0), 1);
    assert_int_equal(fbw_scalar(b, opt, 1, 4, 0), 1);
    assert_int_equal(fbw_scalar(b, opt, 2, 4, 0), 1);
    assert_int_equal(fbw_field(b, opt, 3), 0);
    assert_int_equal(fbw_field(b, opt, 4), 0);
    /* RELU has no options */
    assert_int_equal(fbw_field(b, op(&w, 1), 3), 0);
    /* Pool2DOptions (5): VALID, stride 2x2, filter 2x2 */
    size_t pool = op(&w, 2);
    assert_int_equal(fbw_scalar(b, pool, 3, 1, 0), 5);
    opt = fbw_ref(b, pool, 4);
    assert_int_equal(fbw_scalar(b, opt, 0, 1, 0), 1);
    for (int f = 1; f <= 4; f++)
        assert_int_equal(fbw_scalar(b, opt, f, 4, 0), 2);

    /* quantization: per-tensor input, per-channel filter and bias along dimension 0 */
    size_t x = tensor(&w, 0), f = tensor(&w, 1), bias = tensor(&w, 2);
    assert_int_equal(fbw_scalar(b, x, 1, 1, 0), 9);    /* INT8 */
    assert_int_equal(fbw_scalar(b, bias, 1, 1, 0), 2); /* INT32 */
    size_t q = fbw_ref(b, x, 4);
    expect_f32_vector(&w, q, 2, (const float[]){0.5f}, 1);
    expect_i64_vector(&w, q, 3, (const int64_t[]){-1}, 1);
    q = fbw_ref(b, f, 4);
    expect_f32_vector(&w, q, 2, (const float[]){0.5f, 0.25f}, 2);
    expect_i64_vector(&w, q, 3, (const int64_t[]){0, 0}, 2);
    assert_int_equal(fbw_field(b, q, 6), 0); /* quantized_dimension 0 = default, omitted */
    q = fbw_ref(b, bias, 4);
    expect_f32_vector(&w, q, 2, (const float[]){0.25f, 0.125f}, 2);
    uint32_t len;
    size_t data = buffer_data(&w, (uint32_t)fbw_scalar(b, f, 2, 4, 0), &len);
    assert_int_equal(len, 8);
    const int8_t want_w[8] = {1, 2, 0, -1, 2, 0, -2, 4};
    assert_memory_equal(w.bytes + data, want_w, 8);
    free(w.bytes);
    nml_ir_free(&ir);
}

static void test_concat_reshape_softmax(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_concat_softmax(&ir);
    written w;
    write_ok(&ir, &w);
    const fbw *b = &w.b;
    size_t cat = op(&w, 0), reshape = op(&w, 1), softmax = op(&w, 2);
    assert_int_equal(fbw_scalar(b, cat, 3, 1, 0), 10);
    assert_int_equal(fbw_scalar(b, fbw_ref(b, cat, 4), 0, 4, 0), 1); /* axis */
    assert_int_equal(fbw_scalar(b, reshape, 3, 1, 0), 17);
    expect_i32_vector(&w, fbw_ref(b, reshape, 4), 0, (const int32_t[]){2, 2}, 2);
    assert_int_equal(fbw_scalar(b, softmax, 3, 1, 0), 9);
    assert_true(fbw_scalar_f32(b, fbw_ref(b, softmax, 4), 0, 0.0f) == 1.0f); /* beta */
    expect_i32_vector(&w, w.subgraph, 1, (const int32_t[]){0, 1}, 2);
    uint32_t len;
    size_t shape = buffer_data(&w, (uint32_t)fbw_scalar(b, tensor(&w, 3), 2, 4, 0), &len);
    assert_int_equal(len, 8);
    assert_int_equal(fbw_int(b, shape, 4), 2);
    assert_int_equal(fbw_int(b, shape + 4, 4), 2);
    free(w.bytes);
    nml_ir_free(&ir);
}

static int add_t(nml_ir *ir, const char *name, int type, int rank, const int32_t *dims,
                 const void *data, size_t bytes) {
    nml_error err;
    int idx;
    if (nml_ir_add_tensor(ir, name, type, rank, dims, data, bytes, &idx, &err) != NML_OK)
        fail_msg("%s", err.msg);
    return idx;
}

static void add_op(nml_ir *ir, int32_t code, const nml_op_params *p, int n_in, const int32_t *in,
                   int n_out, const int32_t *out) {
    nml_error err;
    if (nml_ir_add_op(ir, code, p, n_in, in, n_out, out, NULL, &err) != NML_OK)
        fail_msg("%s", err.msg);
}

/* A depthwise filter is quantized along dimension 3: that must be written; a per-tensor
 * parameter set that still carries a stale dimension must not be (LiteRT rejects those). */
static void test_quantized_dimension(void **state) {
    (void)state;
    nml_ir ir;
    nml_ir_init(&ir);
    nml_error err;
    const int32_t dx[4] = {1, 3, 3, 3}, dw[4] = {1, 2, 2, 3}, db[1] = {3}, dy[4] = {1, 2, 2, 3};
    int8_t wq[12] = {0};
    int32_t bq[3] = {0};
    int x = add_t(&ir, "x", NML_INT8, 4, dx, NULL, 0);
    int f = add_t(&ir, "w", NML_INT8, 4, dw, wq, sizeof wq);
    int bt = add_t(&ir, "b", NML_INT32, 1, db, bq, sizeof bq);
    int y = add_t(&ir, "y", NML_INT8, 4, dy, NULL, 0);
    const float s1 = 0.1f, s3[3] = {0.1f, 0.2f, 0.3f};
    const int64_t z1 = 0, z3[3] = {0, 0, 0};
    assert_int_equal(nml_ir_set_quant(&ir, x, 1, &s1, &z1, 0, &err), NML_OK);
    assert_int_equal(nml_ir_set_quant(&ir, f, 3, s3, z3, 3, &err), NML_OK);
    assert_int_equal(nml_ir_set_quant(&ir, bt, 3, s3, z3, 0, &err), NML_OK);
    assert_int_equal(nml_ir_set_quant(&ir, y, 1, &s1, &z1, 0, &err), NML_OK);
    ir.tensors[x].q_dim = 3; /* stale, as some converters leave it */
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_VALID;
    p.activation = NML_ACT_RELU6;
    add_op(&ir, NML_OP_DEPTHWISE_CONV_2D, &p, 3, (const int32_t[]){x, f, bt}, 1,
           (const int32_t[]){y});
    assert_int_equal(nml_ir_set_io(&ir, 1, (const int32_t[]){x}, 1, (const int32_t[]){y}, &err),
                     NML_OK);
    written w;
    write_ok(&ir, &w);
    const fbw *b = &w.b;
    assert_int_equal(fbw_scalar(b, fbw_ref(b, tensor(&w, 1), 4), 6, 4, 0), 3);
    assert_int_equal(fbw_field(b, fbw_ref(b, tensor(&w, 0), 4), 6), 0);
    /* equal parameters share one QuantizationParameters table (x and y: 0.1, 0, dimension 0);
     * the bias has the filter's scales but dimension 0, so a table of its own */
    assert_int_equal(fbw_ref(b, tensor(&w, 0), 4), fbw_ref(b, tensor(&w, 3), 4));
    assert_int_not_equal(fbw_ref(b, tensor(&w, 1), 4), fbw_ref(b, tensor(&w, 2), 4));
    assert_int_equal(fbw_field(b, fbw_ref(b, tensor(&w, 2), 4), 6), 0);
    /* DepthwiseConv2DOptions (2): depth_multiplier 1 at field 3, RELU6 (3) at field 4 */
    size_t o = op(&w, 0);
    assert_int_equal(fbw_scalar(b, o, 3, 1, 0), 2);
    size_t opt = fbw_ref(b, o, 4);
    assert_int_equal(fbw_scalar(b, opt, 3, 4, 0), 1);
    assert_int_equal(fbw_scalar(b, opt, 4, 1, 0), 3);
    uint32_t n;
    assert_int_equal(fbw_scalar(b, opcode(&w, 0, &n), 2, 4, 1), 3); /* int8 depthwise: v3 */
    free(w.bytes);
    nml_ir_free(&ir);
}

/* nml_ir_drop_tensor_names leaves the graph inputs' and outputs' names (the signature maps name
 * them) and the writer omits the others' name fields; has_rank is written for the scalar only,
 * where an empty shape would otherwise read as "unknown rank". Read back, the unnamed tensor is
 * "" and the graph is the same. */
static void test_dropped_names_and_scalar_rank(void **state) {
    (void)state;
    nml_ir ir;
    nml_ir_init(&ir);
    nml_error err;
    const int32_t d2[1] = {2};
    const float c = 3.0f;
    int x = add_t(&ir, "x", NML_FLOAT32, 1, d2, NULL, 0);
    int k = add_t(&ir, "a_long_onnx_value_name::Constant_17", NML_FLOAT32, 0, NULL, &c, sizeof c);
    int y = add_t(&ir, "y", NML_FLOAT32, 1, d2, NULL, 0);
    nml_op_params p;
    nml_op_params_default(&p);
    add_op(&ir, NML_OP_ADD, &p, 2, (const int32_t[]){x, k}, 1, (const int32_t[]){y});
    assert_int_equal(nml_ir_set_io(&ir, 1, (const int32_t[]){x}, 1, (const int32_t[]){y}, &err),
                     NML_OK);
    assert_int_equal(nml_ir_drop_tensor_names(&ir), 1);
    assert_string_equal(ir.tensors[k].name, "");
    written w;
    write_ok(&ir, &w);
    const fbw *b = &w.b;
    assert_string_equal(fbw_string(b, tensor(&w, 0), 3), "x");
    assert_int_equal(fbw_field(b, tensor(&w, 1), 3), 0);
    assert_string_equal(fbw_string(b, tensor(&w, 2), 3), "y");
    assert_int_equal(fbw_field(b, tensor(&w, 0), 8), 0);
    assert_int_equal(fbw_scalar(b, tensor(&w, 1), 8, 1, 0), 1); /* the scalar: has_rank */
    assert_int_equal(fbw_field(b, tensor(&w, 2), 8), 0);
    /* signature: inputs[0] and outputs[0] keep their names */
    uint32_t n;
    size_t sig = table_at(&w, w.model, 7, 0, &n);
    assert_string_equal(fbw_string(b, table_at(&w, sig, 0, 0, &n), 0), "x");
    assert_string_equal(fbw_string(b, table_at(&w, sig, 1, 0, &n), 0), "y");
    nml_ir back;
    nml_ir_init(&back);
    if (nml_ir_from_tflite(&back, w.bytes, w.size, &err) != NML_OK) fail_msg("%s", err.msg);
    assert_int_equal(back.n_tensors, 3);
    assert_string_equal(back.tensors[1].name, "");
    assert_int_equal(back.tensors[1].rank, 0);
    assert_string_equal(back.tensors[2].name, "y");
    nml_ir_free(&back);
    free(w.bytes);
    nml_ir_free(&ir);
}

/* Codes above 127 keep 127 in the legacy byte; custom operators carry their code string and
 * options; metadata entries get their own buffer; the description is the IR's. Operators with
 * the same code and version share one OperatorCode. */
static void test_codes_custom_metadata(void **state) {
    (void)state;
    nml_ir ir;
    nml_ir_init(&ir);
    nml_error err;
    const int32_t d[1] = {4};
    int a = add_t(&ir, "a", NML_FLOAT32, 1, d, NULL, 0);
    int g = add_t(&ir, "gelu", NML_FLOAT32, 1, d, NULL, 0);
    int c = add_t(&ir, "custom", NML_FLOAT32, 1, d, NULL, 0);
    int g2 = add_t(&ir, "gelu2", NML_FLOAT32, 1, d, NULL, 0);
    add_op(&ir, 150, NULL, 1, (const int32_t[]){a}, 1, (const int32_t[]){g}); /* GELU */
    int idx;
    assert_int_equal(nml_ir_add_op(&ir, NML_OP_CUSTOM, NULL, 1, (const int32_t[]){g}, 1,
                                   (const int32_t[]){c}, &idx, &err),
                     NML_OK);
    const uint8_t options[3] = {1, 2, 3};
    assert_int_equal(nml_ir_set_custom(&ir, idx, "MyOp", options, 3, &err), NML_OK);
    add_op(&ir, 150, NULL, 1, (const int32_t[]){c}, 1, (const int32_t[]){g2});
    assert_int_equal(nml_ir_set_io(&ir, 1, (const int32_t[]){a}, 1, (const int32_t[]){g2}, &err),
                     NML_OK);
    assert_int_equal(nml_ir_add_metadata(&ir, "min_runtime_version", "1.5.0", 5, &err), NML_OK);
    assert_int_equal(nml_ir_set_description(&ir, "test model", &err), NML_OK);

    written w;
    write_ok(&ir, &w);
    const fbw *b = &w.b;
    assert_string_equal(fbw_string(b, w.model, 3), "test model");
    uint32_t n_codes;
    size_t gelu = opcode(&w, 0, &n_codes);
    assert_int_equal(n_codes, 2);
    assert_int_equal(fbw_scalar(b, gelu, 0, 1, 0), 127);
    assert_int_equal(fbw_scalar(b, gelu, 3, 4, 0), 150);
    size_t custom = opcode(&w, 1, &n_codes);
    assert_int_equal(fbw_scalar(b, custom, 3, 4, 0), 32);
    assert_string_equal(fbw_string(b, custom, 1), "MyOp");
    assert_int_equal(fbw_scalar(b, op(&w, 0), 0, 4, 0), 0);
    assert_int_equal(fbw_scalar(b, op(&w, 1), 0, 4, 0), 1);
    assert_int_equal(fbw_scalar(b, op(&w, 2), 0, 4, 0), 0);
    uint32_t len;
    size_t copt = fbw_vector(b, op(&w, 1), 5, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(w.bytes + copt, options, 3);
    assert_int_equal(fbw_field(b, op(&w, 1), 3), 0); /* no builtin options */

    uint32_t n_meta;
    size_t meta = table_at(&w, w.model, 6, 0, &n_meta);
    assert_int_equal(n_meta, 1);
    assert_string_equal(fbw_string(b, meta, 0), "min_runtime_version");
    uint32_t buf = (uint32_t)fbw_scalar(b, meta, 1, 4, 0);
    assert_int_equal(buf, 1); /* no constant tensors: the first buffer after the sentinel */
    size_t data = buffer_data(&w, buf, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(w.bytes + data, "1.5.0", 5);
    free(w.bytes);
    nml_ir_free(&ir);
}

static void expect_write_error(const nml_ir *ir, const char *part) {
    uint8_t *out = (uint8_t *)1;
    size_t size = 1;
    nml_error err;
    assert_int_not_equal(nml_ir_to_tflite(ir, &out, &size, &err), NML_OK);
    assert_null(out);
    assert_int_equal(size, 0);
    if (!strstr(err.msg, part)) fail_msg("message '%s' lacks '%s'", err.msg, part);
    if (strncmp(err.msg, "tflite writer: ", 15) != 0) fail_msg("message '%s' unprefixed", err.msg);
}

static void test_invalid_ir_rejected(void **state) {
    (void)state;
    nml_ir ir;

    nml_test_model_fc_float(&ir);
    ir.tensors[0].dims[0] = -1; /* dynamic batch */
    expect_write_error(&ir, "tensor 0 (x): dimension 0 is -1");
    nml_ir_free(&ir);

    nml_test_model_fc_float(&ir);
    ir.tensors[1].data_bytes = 20;
    expect_write_error(&ir, "tensor 1 (fc/weights): 20 data bytes, shape needs 24");
    nml_ir_free(&ir);

    nml_test_model_fc_float(&ir);
    ir.ops[0].inputs[1] = 9;
    expect_write_error(&ir, "operator 0 (FULLY_CONNECTED): input 1 is tensor 9");
    nml_ir_free(&ir);

    nml_test_model_concat_softmax(&ir); /* softmax moved before the reshape it reads */
    nml_ir_op tmp = ir.ops[1];
    ir.ops[1] = ir.ops[2];
    ir.ops[2] = tmp;
    expect_write_error(&ir, "reads tensor 4 (reshaped) before operator 2 writes it");
    nml_ir_free(&ir);

    nml_test_model_conv_int8(&ir);
    ir.tensors[1].n_q = 3; /* 3 scales for 2 channels */
    expect_write_error(&ir, "tensor 1 (conv/filter)");
    nml_ir_free(&ir);

    nml_test_model_fc_float(&ir);
    ir.ops[0].outputs[0] = 1; /* writing into a constant */
    expect_write_error(&ir, "is a constant");
    nml_ir_free(&ir);

    nml_test_model_concat_softmax(&ir); /* would read past new_shape[6] */
    ir.ops[1].params.new_shape_len = 7;
    expect_write_error(&ir, "operator 1 (RESHAPE): new_shape_len 7 outside -1..6");
    nml_ir_free(&ir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fc_float),
        cmocka_unit_test(test_conv_int8),
        cmocka_unit_test(test_concat_reshape_softmax),
        cmocka_unit_test(test_quantized_dimension),
        cmocka_unit_test(test_codes_custom_metadata),
        cmocka_unit_test(test_dropped_names_and_scalar_rank),
        cmocka_unit_test(test_invalid_ir_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
