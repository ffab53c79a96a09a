/* The packed-weights format (docs/packed-weights.md) end to end:
 *   - the encoder writes exactly the bytes the documented layout gives, worked out by hand
 *     below for a 2x8 tensor in three encodings;
 *   - a .tflite built field by field around such a record loads and computes W x by hand;
 *   - the loader rejects malformed records (truncated bitmask, index >= table size, popcount
 *     different from the values stored, bits past the end, gaps past the end, a trailing skip,
 *     wrong magic/version/length/shape, packed tensors read by other operators or as graph
 *     outputs, the wrong axis) with messages naming the tensor and the numbers;
 *   - the writer and reader carry the record (write -> read -> write is byte-identical);
 *   - nml_pack_weights then nml_unpack_weights restores the dense file byte for byte, the
 *     packed model computes the dense model's outputs exactly in the runtime, and the choice
 *     and report follow the layout's sizes. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "compress/pack_internal.h"
#include "nanoml/pack.h"
#include "nanoml/runtime_host.h"
#include "pack_models.h"
#include "tfl_builder.h"

/* ---- the 2x8 example ----
 * row 0: 0  5  0  0 -3  0  5  0      stored (non-zero) elements 1, 4, 6 and 15
 * row 1: 0  0  0  0  0  0  0 -3 */
static const int8_t example[16] = {0, 5, 0, 0, -3, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, -3};

static void header(uint8_t *h, int positions, int bits, int flags, int table, uint32_t stored,
                   uint32_t steps, uint32_t data_bytes) {
    memset(h, 0, 32);
    memcpy(h, "NMLP", 4);
    h[4] = 1;
    h[5] = (uint8_t)positions;
    h[6] = (uint8_t)bits;
    h[7] = (uint8_t)flags;
    h[8] = 0;               /* rows along axis 0 */
    h[10] = (uint8_t)table; /* table size, u16 */
    h[12] = 2;              /* rows */
    h[16] = 8;              /* row length */
    h[20] = (uint8_t)stored;
    h[24] = (uint8_t)steps;
    h[28] = (uint8_t)data_bytes;
}

static void expect_encoding(const nml_pack_spec *spec, const uint8_t *want_header,
                            const uint8_t *want_data, size_t want_bytes) {
    nml_pack_rows rows = {example, 2, 8, 0, 0};
    nml_pack_encoded enc;
    nml_error err;
    if (nml_pack_encode(&rows, spec, &enc, &err) != NML_OK) fail_msg("%s", err.msg);
    assert_memory_equal(enc.record, want_header, 32);
    assert_int_equal(enc.data_bytes, want_bytes);
    assert_memory_equal(enc.data, want_data, want_bytes);
    nml_pack_encoded_free(&enc);
}

/* Bitmask + one table: the non-zero values {-3, 5} -> table [-3, 5], K = 2 -> 1-bit indices
 * 1, 0, 1, 0 -> 0b0101 = 0x05. Bitmask bits 1, 4, 6 -> 0x52; bit 15 -> byte 1 = 0x80.
 * Data: table (-3 = 0xFD, 0x05), bitmask (0x52, 0x80), indices (0x05): 5 bytes. */
static void layout_bitmask_clustered(void **state) {
    (void)state;
    uint8_t h[32];
    header(h, 1, 1, 1, 2, 4, 0, 5);
    const uint8_t data[5] = {0xFD, 0x05, 0x52, 0x80, 0x05};
    nml_pack_spec spec = {NML_PACK_POS_BITMASK, 1, 0};
    expect_encoding(&spec, h, data, sizeof data);
}

/* Gaps + raw int8: from "next element" 0, element 1 is gap 2; then 4 - 2 + 1 = 3; 6 - 5 + 1 =
 * 2; 15 - 7 + 1 = 9. Values 5, -3, 5, -3. Data: 2 3 2 9 05 FD 05 FD: 8 bytes. */
static void layout_gaps_raw(void **state) {
    (void)state;
    uint8_t h[32];
    header(h, 2, 8, 0, 0, 4, 4, 8);
    const uint8_t data[8] = {2, 3, 2, 9, 0x05, 0xFD, 0x05, 0xFD};
    nml_pack_spec spec = {NML_PACK_POS_GAPS, 0, 0};
    expect_encoding(&spec, h, data, sizeof data);
}

/* 4-bit gaps + raw int8: the same gaps 2, 3, 2, 9, two per byte, first in the low nibble:
 * 0x32, 0x92; then the values: 6 bytes. */
static void layout_gaps4_raw(void **state) {
    (void)state;
    uint8_t h[32];
    header(h, 3, 8, 0, 0, 4, 4, 6);
    const uint8_t data[6] = {0x32, 0x92, 0x05, 0xFD, 0x05, 0xFD};
    nml_pack_spec spec = {NML_PACK_POS_GAPS4, 0, 0};
    expect_encoding(&spec, h, data, sizeof data);
}

/* All elements + one table: values {-3, 0, 5} -> table [-3, 0, 5], K = 3 -> 2-bit indices
 * row 0: 1 2 1 1 0 1 2 1, row 1: 1 1 1 1 1 1 1 0; four per byte, first in the low bits:
 * 1|2<<2|1<<4|1<<6 = 0x59, 0|1<<2|2<<4|1<<6 = 0x64, 0x55, 1|1<<2|1<<4|0<<6 = 0x15. */
static void layout_all_clustered(void **state) {
    (void)state;
    uint8_t h[32];
    header(h, 0, 2, 1, 3, 16, 0, 7);
    const uint8_t data[7] = {0xFD, 0x00, 0x05, 0x59, 0x64, 0x55, 0x15};
    nml_pack_spec spec = {NML_PACK_POS_ALL, 1, 0};
    expect_encoding(&spec, h, data, sizeof data);
}

/* ---- a model built field by field ---- */

typedef struct fc_model {
    uint8_t record[40];
    uint32_t record_bytes;
    uint8_t data[32];
    uint32_t data_bytes;
    int32_t builtin;   /* operator reading tensor 1 */
    int packed_output; /* graph output = the packed tensor */
    int32_t cols;      /* W is [2, cols] */
} fc_model;

/* The bitmask + table example as FULLY_CONNECTED weights [2, 8]. */
static void example_model(fc_model *f) {
    memset(f, 0, sizeof *f);
    header(f->record, 1, 1, 1, 2, 4, 0, 5);
    f->record_bytes = 32;
    const uint8_t data[5] = {0xFD, 0x05, 0x52, 0x80, 0x05};
    memcpy(f->data, data, 5);
    f->data_bytes = 5;
    f->builtin = NML_OP_FULLY_CONNECTED;
    f->cols = 8;
}

/* x int8 [1, 8] -> op(x, W) -> y int8 [1, 2] (ADD: [2, 8] -> [2, 8]); scales 1, zero points 0. */
static uint8_t *build(const fc_model *f, size_t *size) {
    static const float one = 1.0f;
    static const int64_t zero = 0;
    tb_model *m = tb_new();
    const int add = f->builtin == NML_OP_ADD;
    const int32_t xd[2] = {add ? 2 : 1, f->cols}, wd[2] = {2, f->cols},
                  yd[2] = {add ? 2 : 1, add ? f->cols : 2};
    int x = tb_add_tensor(m, NML_INT8, 2, xd, 0, "x");
    int w = tb_add_tensor(m, NML_INT8, 2, wd, (uint32_t)tb_buffer(m, f->data, f->data_bytes), "w");
    int y = tb_add_tensor(m, NML_INT8, 2, yd, 0, "y");
    tb_quant(m, x, 1, &one, &zero, 0);
    tb_quant(m, w, 1, &one, &zero, 0);
    tb_quant(m, y, 1, &one, &zero, 0);
    tb_details(m, w, 1, f->record, f->record_bytes);
    int code = tb_opcode(m, f->builtin);
    const int32_t in[2] = {x, w}, out[1] = {y};
    int op = tb_add_op(m, code, 2, in, 1, out);
    m->ops[op].opt_type = add ? 11 : 8; /* AddOptions / FullyConnectedOptions, defaults */
    const int32_t gout[1] = {f->packed_output ? w : y};
    tb_io(m, 1, (const int32_t[]){x}, 1, gout);
    uint8_t *bytes = tb_build(m, size);
    free(m);
    return bytes;
}

static nml_status load(const fc_model *f, nml_error *err) {
    size_t size;
    uint8_t *bytes = build(f, &size);
    nml_model model;
    nml_status st = nml_model_load(&model, bytes, size, err);
    free(bytes);
    return st;
}

/* y = W x with x = 1..8: row 0: 5*2 - 3*5 + 5*7 = 30; row 1: -3*8 = -24. */
static void hand_built_model_runs(void **state) {
    (void)state;
    fc_model f;
    example_model(&f);
    size_t size;
    uint8_t *bytes = build(&f, &size);
    nml_model model;
    nml_interpreter it;
    uint8_t *arena = NULL;
    nml_error err;
    if (nml_model_load(&model, bytes, size, &err) != NML_OK ||
        nml_interpreter_init_alloc(&it, &model, nml_ops_all(), &arena, &err) != NML_OK)
        fail_msg("%s", err.msg);
    nml_tensor *x = nml_input(&it, 0);
    for (int i = 0; i < 8; i++)
        ((int8_t *)x->data)[i] = (int8_t)(i + 1);
    if (nml_invoke(&it, &err) != NML_OK) fail_msg("%s", err.msg);
    const int8_t *y = nml_output(&it, 0)->data;
    assert_int_equal(y[0], 30);
    assert_int_equal(y[1], -24);
    nml_tensor w;
    assert_int_equal(nml_model_tensor(&model, 1, &w, &err), NML_OK);
    assert_int_equal(w.bytes, 5); /* the stored bytes, not the 16 of the dense tensor */
    assert_non_null(w.pack);
    free(arena);
    free(bytes);
}

static void expect_reject(const fc_model *f, nml_status want, const char *a, const char *b) {
    nml_error err;
    nml_error_clear(&err);
    nml_status st = load(f, &err);
    if (st != want) fail_msg("status %d (want %d): %s", st, want, err.msg);
    if (!strstr(err.msg, a) || (b && !strstr(err.msg, b)))
        fail_msg("message '%s' lacks '%s' / '%s'", err.msg, a, b ? b : "");
}

static void set_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void rejects_truncated_bitmask(void **state) {
    (void)state;
    fc_model f;
    example_model(&f);
    /* the buffer ends inside the bitmask: table 2 + 1 bitmask byte */
    f.data_bytes = 3;
    set_u32(f.record + 28, 3);
    expect_reject(&f, NML_E_FORMAT, "tensor 1: packed weights: sections need 5 bytes",
                  "positions 2, values 1), the buffer holds 3");
    /* the record says 5, the buffer holds 4 */
    example_model(&f);
    f.data_bytes = 4;
    expect_reject(&f, NML_E_FORMAT, "record says 5 data bytes, the buffer holds 4", NULL);
}

static void rejects_wrong_popcount(void **state) {
    (void)state;
    fc_model f;
    example_model(&f);
    f.data[3] = 0x81; /* one more element marked */
    expect_reject(&f, NML_E_FORMAT, "tensor 1: packed weights: bitmask marks 5 elements",
                  "4 values are stored");
    example_model(&f);
    f.data[2] = 0x50; /* one element fewer */
    expect_reject(&f, NML_E_FORMAT, "bitmask marks 3 elements, 4 values are stored", NULL);
}

static void rejects_index_out_of_range(void **state) {
    (void)state;
    fc_model f;
    memset(&f, 0, sizeof f);
    f.builtin = NML_OP_FULLY_CONNECTED;
    f.cols = 8;
    header(f.record, 0, 2, 1, 3, 16, 0, 7);
    f.record_bytes = 32;
    const uint8_t data[7] = {0xFD, 0x00, 0x05, 0x59, 0x64, 0x55, 0x15};
    memcpy(f.data, data, 7);
    f.data_bytes = 7;
    assert_int_equal(load(&f, NULL), NML_OK);
    f.data[6] = 0x1D; /* value 13 (byte 6, bits 2-3) becomes index 3 of a 3-entry table */
    expect_reject(&f, NML_E_FORMAT, "value 13: index 3 >= table size 3", NULL);
    /* a table larger than the indices can address */
    memcpy(f.data, data, 7);
    f.record[10] = 5;
    expect_reject(&f, NML_E_FORMAT, "table of 5 entries for 2-bit indices", NULL);
}

static void rejects_bad_gaps(void **state) {
    (void)state;
    fc_model f;
    memset(&f, 0, sizeof f);
    f.builtin = NML_OP_FULLY_CONNECTED;
    f.cols = 8;
    header(f.record, 2, 8, 0, 0, 4, 4, 8);
    f.record_bytes = 32;
    const uint8_t data[9] = {2, 3, 2, 9, 0x05, 0xFD, 0x05, 0xFD, 0};
    memcpy(f.data, data, 8);
    f.data_bytes = 8;
    assert_int_equal(load(&f, NULL), NML_OK);
    f.data[3] = 10; /* element 16 of 16 */
    expect_reject(&f, NML_E_FORMAT, "gap 3 reaches element 16 of a 16-element tensor", NULL);
    /* a trailing skip: 5 gap bytes, the last 0 */
    const uint8_t skip[9] = {2, 3, 2, 9, 0, 0x05, 0xFD, 0x05, 0xFD};
    memcpy(f.data, skip, 9);
    f.data_bytes = 9;
    f.record[24] = 5;
    f.record[28] = 9;
    expect_reject(&f, NML_E_FORMAT, "gap stream ends with a skip (gap 4)", NULL);
    /* a gap byte marking a fifth element: values and gaps disagree */
    const uint8_t extra[9] = {2, 3, 2, 1, 1, 0x05, 0xFD, 0x05, 0xFD};
    memcpy(f.data, extra, 9);
    expect_reject(&f, NML_E_FORMAT, "gaps mark 5 elements, 4 values are stored", NULL);

    /* 4-bit gaps 2, 3, 2 (elements 1, 4, 6): three nibbles, the fourth must stay 0 */
    header(f.record, 3, 8, 0, 0, 3, 3, 5);
    const uint8_t nib[5] = {0x32, 0x02, 0x05, 0xFD, 0x05};
    memcpy(f.data, nib, 5);
    f.data_bytes = 5;
    assert_int_equal(load(&f, NULL), NML_OK);
    f.data[1] = 0x12;
    expect_reject(&f, NML_E_FORMAT, "the unused last gap nibble is not 0", NULL);
    f.data[1] = 0x0E; /* gap 14 from element 5 reaches element 18 */
    expect_reject(&f, NML_E_FORMAT, "gap 2 reaches element 18 of a 16-element tensor", NULL);
}

static void rejects_bits_past_end(void **state) {
    (void)state;
    /* 2 x 6 = 12 elements: bits 12..15 of the second bitmask byte must stay clear */
    fc_model f;
    example_model(&f);
    int8_t w[12] = {0, 5, 0, 0, -3, 0, 5, 0, 0, 0, 0, -3};
    nml_pack_rows rows = {w, 2, 6, 0, 0};
    nml_pack_spec spec = {NML_PACK_POS_BITMASK, 0, 0};
    nml_pack_encoded enc;
    assert_int_equal(nml_pack_encode(&rows, &spec, &enc, NULL), NML_OK);
    memcpy(f.record, enc.record, 32);
    memcpy(f.data, enc.data, enc.data_bytes);
    f.data_bytes = (uint32_t)enc.data_bytes;
    nml_pack_encoded_free(&enc);
    /* the header against the shape: 2 x 6 weights in a [2, 8] tensor */
    expect_reject(&f, NML_E_FORMAT, "2 rows of 6 elements do not match the shape (16 elements",
                  NULL);
    f.cols = 6;
    assert_int_equal(load(&f, NULL), NML_OK);
    assert_int_equal(f.data[1], 0x08); /* bit 11: element 11; bits 12..15 clear */
    f.data[1] |= 0x20;                 /* element 13 does not exist */
    expect_reject(&f, NML_E_FORMAT, "bitmask has bits set past element 12", NULL);
}

static void rejects_bad_headers(void **state) {
    (void)state;
    fc_model f;
    example_model(&f);
    f.record[0] = 'X';
    expect_reject(&f, NML_E_UNSUPPORTED, "tensor 1: quantization: custom quantization (32 bytes)",
                  "is not a nanoml packed-weights record");
    example_model(&f);
    f.record[4] = 2;
    expect_reject(&f, NML_E_UNSUPPORTED, "record version 2 (this runtime reads 1)", NULL);
    example_model(&f);
    f.record_bytes = 31;
    expect_reject(&f, NML_E_FORMAT, "record of 31 bytes is shorter than its 32-byte header", NULL);
    example_model(&f);
    f.record[6] = 3;
    expect_reject(&f, NML_E_FORMAT, "value width 3 bits", NULL);
    example_model(&f);
    f.record[7] = 4;
    expect_reject(&f, NML_E_FORMAT, "unknown flags 0x4", NULL);
    example_model(&f);
    f.record[5] = 7;
    expect_reject(&f, NML_E_FORMAT, "unknown position coding 7", NULL);
    example_model(&f);
    f.record[8] = 1; /* axis 1 of a rank-2 tensor is its last: 8 rows of 2 then */
    expect_reject(&f, NML_E_FORMAT, "2 rows of 8 elements do not match the shape", "along axis 1");
}

static void rejects_packed_elsewhere(void **state) {
    (void)state;
    fc_model f;
    example_model(&f);
    f.builtin = NML_OP_ADD;
    expect_reject(&f, NML_E_UNSUPPORTED,
                  "operator 0 (ADD): input 1 (tensor 1) holds packed weights",
                  "only the filter of CONV_2D");
    example_model(&f);
    f.packed_output = 1;
    expect_reject(&f, NML_E_FORMAT, "subgraph output 0 (tensor 1) holds packed weights", NULL);
}

/* A depthwise filter [1, 2, 2, 3] packed along axis 0 instead of its channels (axis 3). */
static void rejects_wrong_axis(void **state) {
    (void)state;
    static const float one = 1.0f;
    static const int64_t zero = 0;
    int8_t w[12] = {1, 0, 2, 0, 3, 0, 0, 4, 0, 5, 0, 6};
    nml_pack_rows rows = {w, 1, 12, 0, 0};
    nml_pack_spec spec = {NML_PACK_POS_BITMASK, 0, 0};
    nml_pack_encoded enc;
    assert_int_equal(nml_pack_encode(&rows, &spec, &enc, NULL), NML_OK);
    tb_model *m = tb_new();
    const int32_t d[4] = {1, 2, 2, 3};
    int x = tb_add_tensor(m, NML_INT8, 4, d, 0, "x");
    int wt = tb_add_tensor(m, NML_INT8, 4, d,
                           (uint32_t)tb_buffer(m, enc.data, (uint32_t)enc.data_bytes), "w");
    int y = tb_add_tensor(m, NML_INT8, 4, d, 0, "y");
    tb_quant(m, x, 1, &one, &zero, 0);
    tb_quant(m, wt, 1, &one, &zero, 0);
    tb_quant(m, y, 1, &one, &zero, 0);
    tb_details(m, wt, 1, enc.record, 32);
    int op = tb_add_op(m, tb_opcode(m, NML_OP_DEPTHWISE_CONV_2D), 2, (const int32_t[]){x, wt}, 1,
                       (const int32_t[]){y});
    m->ops[op].opt_type = 2;
    tb_io(m, 1, (const int32_t[]){x}, 1, (const int32_t[]){y});
    size_t size;
    uint8_t *bytes = tb_build(m, &size);
    nml_model model;
    nml_error err;
    assert_int_equal(nml_model_load(&model, bytes, size, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "operator 0 (DEPTHWISE_CONV_2D): filter (tensor 1) is packed "
                                    "along axis 0, the output channels are axis 3"));
    free(bytes);
    free(m);
    nml_pack_encoded_free(&enc);
}

/* ---- IR, writer, reader, packer ---- */

static uint8_t *to_tflite(const nml_ir *ir, size_t *size) {
    uint8_t *out;
    nml_error err;
    if (nml_ir_to_tflite(ir, &out, size, &err) != NML_OK) fail_msg("%s", err.msg);
    return out;
}

static void pack_or_fail(nml_ir *ir, const nml_pack_options *o, nml_pack_report *r) {
    nml_error err;
    if (nml_pack_weights(ir, o, r, &err) != NML_OK) fail_msg("%s", err.msg);
}

static void writer_reader_round_trip(void **state) {
    (void)state;
    nml_ir ir, back;
    nml_test_model_cnn_int8(&ir, 3, 70, 6, 0);
    nml_pack_options o;
    nml_pack_options_default(&o);
    o.min_elements = 0;
    pack_or_fail(&ir, &o, NULL);
    for (int t = 1; t <= 7; t += 3)
        assert_non_null(ir.tensors[t].pack);
    size_t a_size, b_size;
    uint8_t *a = to_tflite(&ir, &a_size);
    nml_error err;
    if (nml_ir_from_tflite(&back, a, a_size, &err) != NML_OK) fail_msg("%s", err.msg);
    for (int t = 1; t <= 7; t += 3) {
        assert_int_equal(back.tensors[t].pack_bytes, ir.tensors[t].pack_bytes);
        assert_memory_equal(back.tensors[t].pack, ir.tensors[t].pack, ir.tensors[t].pack_bytes);
        assert_int_equal(back.tensors[t].data_bytes, ir.tensors[t].data_bytes);
        assert_memory_equal(back.tensors[t].data, ir.tensors[t].data, ir.tensors[t].data_bytes);
    }
    uint8_t *b = to_tflite(&back, &b_size);
    assert_int_equal(a_size, b_size);
    assert_memory_equal(a, b, a_size);
    free(a);
    free(b);
    nml_ir_free(&ir);
    nml_ir_free(&back);
}

/* Pruned and clustered variants: pack then unpack gives the dense file byte for byte. */
static void pack_unpack_round_trip(void **state) {
    (void)state;
    const int cases[6][3] = {{0, 0, 0},  {50, 0, 0}, {80, 0, 0},
                             {0, 16, 0}, {80, 4, 1}, {100, 0, 0}};
    for (int c = 0; c < 6; c++) {
        nml_ir ir;
        nml_test_model_cnn_int8(&ir, 10 + (uint32_t)c, cases[c][0], cases[c][1], cases[c][2]);
        size_t dense_size, back_size;
        uint8_t *dense = to_tflite(&ir, &dense_size);
        nml_pack_options o;
        nml_pack_options_default(&o);
        o.min_elements = 0;
        pack_or_fail(&ir, &o, NULL);
        nml_error err;
        if (nml_unpack_weights(&ir, &err) != NML_OK) fail_msg("%s", err.msg);
        for (int t = 0; t < ir.n_tensors; t++)
            assert_null(ir.tensors[t].pack);
        uint8_t *back = to_tflite(&ir, &back_size);
        assert_int_equal(dense_size, back_size);
        assert_memory_equal(dense, back, dense_size);
        free(dense);
        free(back);
        nml_ir_free(&ir);
    }
}

/* Runs a model on 8 random inputs; returns the 80 output bytes (malloc'd). */
static int8_t *run_model(const nml_ir *ir) {
    size_t size;
    uint8_t *bytes = to_tflite(ir, &size), *arena = NULL;
    nml_model m;
    nml_interpreter it;
    nml_error err;
    if (nml_model_load(&m, bytes, size, &err) != NML_OK ||
        nml_interpreter_init_alloc(&it, &m, nml_ops_all(), &arena, &err) != NML_OK)
        fail_msg("%s", err.msg);
    int8_t *out = malloc(80);
    uint32_t s = 1234;
    for (int k = 0; k < 8; k++) {
        int8_t *x = nml_input(&it, 0)->data;
        for (int i = 0; i < 200; i++) {
            s = s * 1664525u + 1013904223u;
            x[i] = (int8_t)(s >> 24);
        }
        if (nml_invoke(&it, &err) != NML_OK) fail_msg("%s", err.msg);
        memcpy(out + 10 * k, nml_output(&it, 0)->data, 10);
    }
    free(arena);
    free(bytes);
    return out;
}

static void packed_model_matches_dense(void **state) {
    (void)state;
    const int cases[5][3] = {{50, 0, 0}, {80, 0, 0}, {0, 16, 0}, {80, 8, 1}, {95, 2, 0}};
    for (int c = 0; c < 5; c++) {
        nml_ir ir;
        nml_test_model_cnn_int8(&ir, 20 + (uint32_t)c, cases[c][0], cases[c][1], cases[c][2]);
        int8_t *want = run_model(&ir);
        nml_pack_options o;
        nml_pack_options_default(&o);
        o.min_elements = 0;
        nml_pack_report r;
        pack_or_fail(&ir, &o, &r);
        assert_int_equal(r.n_layers, 3);
        assert_true(r.packed_bytes < r.dense_bytes);
        int8_t *got = run_model(&ir);
        assert_memory_equal(got, want, 80);
        int distinct = 0;
        for (int i = 1; i < 80; i++)
            distinct += want[i] != want[0];
        assert_true(distinct > 10);
        free(want);
        free(got);
        nml_pack_report_free(&r);
        nml_ir_free(&ir);
    }
}

/* Sizes from the layout: FC weights 10 x 576 = 5760 elements.
 *   16 distinct non-zero values, no zeros: table 16 + 5760 4-bit indices = 16 + 2880 = 2896.
 *   80 % zeros: raw values and a bitmask (720 bytes) or gaps (one per value, more only for
 *   runs over 255): the packer takes the smaller, never more than 720 + stored values. */
static void pack_choice_and_report(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_cnn_int8(&ir, 5, 0, 16, 0);
    nml_pack_options o;
    nml_pack_options_default(&o);
    nml_pack_report r;
    pack_or_fail(&ir, &o, &r);
    assert_int_equal(r.n_layers, 3);
    /* conv and depthwise filters have 144 < 256 elements: left dense */
    assert_string_equal(r.layers[0].encoding_name, "dense");
    assert_int_equal(r.layers[0].packed_bytes, 144);
    assert_null(ir.tensors[1].pack);
    assert_string_equal(r.layers[2].encoding_name, "clustered-16");
    assert_int_equal(r.layers[2].tensor, 7);
    assert_int_equal(r.layers[2].dense_bytes, 5760);
    assert_int_equal(r.layers[2].packed_bytes, 16 + 2880);
    assert_int_equal(r.layers[2].distinct, 16);
    assert_int_equal(r.dense_bytes, 144 + 144 + 5760);
    assert_int_equal(r.packed_bytes, 144 + 144 + 2896);
    nml_pack_report_free(&r);
    nml_ir_free(&ir);

    nml_test_model_cnn_int8(&ir, 6, 80, 0, 0);
    pack_or_fail(&ir, &o, &r);
    const nml_pack_layer *fc = &r.layers[2];
    const uint32_t stored = (uint32_t)(5760 - fc->sparsity * 5760 + 0.5);
    assert_true(fc->sparsity > 0.75 && fc->sparsity < 0.85);
    assert_true(strncmp(fc->encoding_name, "sparse-", 7) == 0);
    assert_true(fc->packed_bytes <= 720 + stored);
    assert_true(fc->packed_bytes >= stored + 1);
    nml_pack_report_free(&r);
    nml_ir_free(&ir);

    /* sparse off: an unclustered pruned layer has nothing left to pack */
    nml_test_model_cnn_int8(&ir, 6, 80, 0, 0);
    o.sparse = 0;
    pack_or_fail(&ir, &o, &r);
    assert_string_equal(r.layers[2].encoding_name, "dense");
    assert_int_equal(r.packed_bytes, r.dense_bytes);
    nml_pack_report_free(&r);
    nml_ir_free(&ir);
}

/* Float models have no int8 filters: nothing changes, nothing is reported. */
static void float_model_untouched(void **state) {
    (void)state;
    nml_ir ir;
    nml_ir_init(&ir);
    nml_error err;
    const float w[6] = {1, 0, 0, 0, 0, 2};
    int x, wt, y;
    assert_int_equal(
        nml_ir_add_tensor(&ir, "x", NML_FLOAT32, 2, (const int32_t[]){1, 3}, NULL, 0, &x, &err),
        NML_OK);
    assert_int_equal(nml_ir_add_tensor(&ir, "w", NML_FLOAT32, 2, (const int32_t[]){2, 3}, w,
                                       sizeof w, &wt, &err),
                     NML_OK);
    assert_int_equal(
        nml_ir_add_tensor(&ir, "y", NML_FLOAT32, 2, (const int32_t[]){1, 2}, NULL, 0, &y, &err),
        NML_OK);
    assert_int_equal(nml_ir_add_op(&ir, NML_OP_FULLY_CONNECTED, NULL, 2, (const int32_t[]){x, wt},
                                   1, &y, NULL, &err),
                     NML_OK);
    assert_int_equal(nml_ir_set_io(&ir, 1, &x, 1, &y, &err), NML_OK);
    nml_pack_options o;
    nml_pack_options_default(&o);
    o.min_elements = 0;
    nml_pack_report r;
    pack_or_fail(&ir, &o, &r);
    assert_int_equal(r.n_layers, 0);
    assert_null(ir.tensors[wt].pack);
    nml_pack_report_free(&r);
    nml_ir_free(&ir);
}

/* nml_ir_set_packed checks like the loader. */
static void ir_set_packed_checks(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_cnn_int8(&ir, 1, 0, 0, 0);
    uint8_t h[32];
    header(h, 1, 1, 1, 2, 4, 0, 5);
    const uint8_t bad[5] = {0xFD, 0x05, 0x52, 0x81, 0x05};
    nml_error err;
    /* the 2x8 record does not fit the 10x576 FC weights */
    assert_int_equal(nml_ir_set_packed(&ir, 7, h, 32, bad, 5, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "tensor 7 (fc/weights): packed weights: 2 rows of 8"));
    assert_null(ir.tensors[7].pack);
    assert_int_equal(ir.tensors[7].data_bytes, 5760);
    nml_ir_free(&ir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout_bitmask_clustered), cmocka_unit_test(layout_gaps_raw),
        cmocka_unit_test(layout_gaps4_raw),         cmocka_unit_test(layout_all_clustered),
        cmocka_unit_test(hand_built_model_runs),    cmocka_unit_test(rejects_truncated_bitmask),
        cmocka_unit_test(rejects_wrong_popcount),   cmocka_unit_test(rejects_index_out_of_range),
        cmocka_unit_test(rejects_bad_gaps),         cmocka_unit_test(rejects_bits_past_end),
        cmocka_unit_test(rejects_bad_headers),      cmocka_unit_test(rejects_packed_elsewhere),
        cmocka_unit_test(rejects_wrong_axis),       cmocka_unit_test(writer_reader_round_trip),
        cmocka_unit_test(pack_unpack_round_trip),   cmocka_unit_test(packed_model_matches_dense),
        cmocka_unit_test(pack_choice_and_report),   cmocka_unit_test(float_model_untouched),
        cmocka_unit_test(ir_set_packed_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
