/* The host IR container: ownership (copies, deep clone, free under ASan), argument checks with
 * messages, queries, rewriting helpers, validation and the operator-version rules (expected
 * versions are the ones TFLite's op_version.cc assigns). */
#include <stdlib.h>
#include <string.h>

#include "ir_models.h"
#include "nanoml/ir.h"
#include "test_util.h"

static void expect_msg(nml_status st, nml_status want, const nml_error *err, const char *part) {
    assert_int_equal(st, want);
    if (!strstr(err->msg, part)) fail_msg("message '%s' lacks '%s'", err->msg, part);
}

static void test_add_tensor_copies_and_checks(void **state) {
    (void)state;
    nml_ir ir;
    nml_ir_init(&ir);
    nml_error err;
    float data[6] = {1, 2, 3, 4, 5, 6};
    const int32_t dims[2] = {2, 3};
    int idx = -5;
    assert_int_equal(
        nml_ir_add_tensor(&ir, "w", NML_FLOAT32, 2, dims, data, sizeof data, &idx, &err), NML_OK);
    assert_int_equal(idx, 0);
    data[0] = 100; /* the IR owns a copy */
    assert_true(((float *)ir.tensors[0].data)[0] == 1.0f);
    assert_int_equal(ir.tensors[0].data_bytes, sizeof data);

    assert_int_equal(nml_ir_add_tensor(&ir, NULL, NML_INT8, 0, NULL, NULL, 0, &idx, &err), NML_OK);
    assert_string_equal(ir.tensors[1].name, "tensor_1");

    expect_msg(nml_ir_add_tensor(&ir, "bad", 99, 1, dims, NULL, 0, &idx, &err), NML_E_UNSUPPORTED,
               &err, "tensor bad: unknown type 99");
    assert_int_equal(idx, -1);
    const int32_t seven[7] = {1, 1, 1, 1, 1, 1, 1};
    expect_msg(nml_ir_add_tensor(&ir, "deep", NML_INT8, 7, seven, NULL, 0, &idx, &err), NML_E_LIMIT,
               &err, "rank 7");
    const int32_t dyn[2] = {-1, 3};
    expect_msg(nml_ir_add_tensor(&ir, "dyn", NML_FLOAT32, 2, dyn, NULL, 0, &idx, &err), NML_E_SHAPE,
               &err, "dimension 0 is -1");
    expect_msg(nml_ir_add_tensor(&ir, "short", NML_FLOAT32, 2, dims, data, 20, &idx, &err),
               NML_E_SHAPE, &err, "tensor short: 20 data bytes, shape needs 24");
    expect_msg(nml_ir_add_tensor(&ir, "nodata", NML_FLOAT32, 2, dims, NULL, 24, &idx, &err),
               NML_E_ARG, &err, "without data");
    expect_msg(nml_ir_add_tensor(&ir, "str", NML_STRING, 1, dims, "ab", 2, &idx, &err),
               NML_E_UNSUPPORTED, &err, "no fixed element size");
    assert_int_equal(ir.n_tensors, 2);
    nml_ir_free(&ir);
    assert_int_equal(ir.n_tensors, 0);
    assert_null(ir.tensors);
}

static void test_sizes(void **state) {
    (void)state;
    nml_ir_tensor t;
    memset(&t, 0, sizeof t);
    nml_error err;
    size_t bytes;
    t.type = NML_INT4;
    t.rank = 2;
    t.dims[0] = 1;
    t.dims[1] = 5;
    assert_int_equal(nml_ir_tensor_count(&t), 5);
    assert_int_equal(nml_ir_tensor_bytes(&t, &bytes, &err), NML_OK);
    assert_int_equal(bytes, 3); /* two per byte, rounded up */
    t.type = NML_INT64;
    assert_int_equal(nml_ir_tensor_bytes(&t, &bytes, &err), NML_OK);
    assert_int_equal(bytes, 40);
    t.rank = 0;
    assert_int_equal(nml_ir_tensor_count(&t), 1);
    assert_int_equal(nml_ir_tensor_bytes(&t, &bytes, &err), NML_OK);
    assert_int_equal(bytes, 8);
    t.type = NML_FLOAT32;
    t.rank = 4;
    for (int i = 0; i < 4; i++)
        t.dims[i] = 0x7fffffff;
    expect_msg(nml_ir_tensor_bytes(&t, &bytes, &err), NML_E_LIMIT, &err, "elements");
    t.rank = 2;
    t.dims[0] = 0x8000;
    t.dims[1] = 0x4000; /* 2^29 float elements = 2^31 bytes */
    expect_msg(nml_ir_tensor_bytes(&t, &bytes, &err), NML_E_LIMIT, &err, "exceed");
    t.dims[0] = 0;
    assert_int_equal(nml_ir_tensor_count(&t), 0);
    assert_int_equal(nml_ir_tensor_bytes(&t, &bytes, &err), NML_OK);
    assert_int_equal(bytes, 0);
}

static void test_quant_and_data(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_conv_int8(&ir);
    nml_error err;
    const float s3[3] = {1, 2, 3};
    expect_msg(nml_ir_set_quant(&ir, 1, 3, s3, NULL, 0, &err), NML_E_SHAPE, &err,
               "3 per-channel scales do not match dimension 0");
    assert_int_equal(ir.tensors[1].n_q, 2); /* unchanged */
    expect_msg(nml_ir_set_quant(&ir, 1, 2, s3, NULL, 4, &err), NML_E_SHAPE, &err, "rank 4");
    expect_msg(nml_ir_set_quant(&ir, 40, 1, s3, NULL, 0, &err), NML_E_ARG, &err,
               "tensor 40 out of range");
    assert_int_equal(nml_ir_set_quant(&ir, 1, 2, s3, NULL, 0, &err), NML_OK);
    assert_true(ir.tensors[1].scales[1] == 2.0f);
    assert_int_equal(ir.tensors[1].zero_points[1], 0);
    assert_int_equal(nml_ir_set_quant(&ir, 1, 0, NULL, NULL, 0, &err), NML_OK);
    assert_null(ir.tensors[1].scales);

    /* bias int32 -> float32 of the same shape: 8 bytes */
    const float fb[2] = {0.5f, -1.0f};
    expect_msg(nml_ir_set_data(&ir, 2, NML_FLOAT32, fb, 4, &err), NML_E_SHAPE, &err,
               "tensor 2 (conv/bias): 4 data bytes, shape needs 8");
    assert_int_equal(ir.tensors[2].type, NML_INT32);
    assert_int_equal(nml_ir_set_data(&ir, 2, NML_FLOAT32, fb, sizeof fb, &err), NML_OK);
    assert_int_equal(ir.tensors[2].type, NML_FLOAT32);
    assert_memory_equal(ir.tensors[2].data, fb, sizeof fb);
    assert_int_equal(nml_ir_set_data(&ir, 2, NML_FLOAT32, NULL, 0, &err), NML_OK);
    assert_null(ir.tensors[2].data);
    nml_ir_free(&ir);
}

static void test_ops_insert_remove(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_concat_softmax(&ir);
    nml_error err;
    int idx;
    expect_msg(nml_ir_add_op(&ir, NML_OP_RELU, NULL, 1, (const int32_t[]){17}, 1,
                             (const int32_t[]){5}, &idx, &err),
               NML_E_ARG, &err, "RELU: input 0 is tensor 17");
    expect_msg(nml_ir_add_op(&ir, NML_OP_RELU, NULL, 17, (const int32_t[17]){0}, 1,
                             (const int32_t[]){5}, &idx, &err),
               NML_E_LIMIT, &err, "17 inputs");
    expect_msg(nml_ir_insert_op(&ir, 9, NML_OP_RELU, NULL, 0, NULL, 0, NULL, &idx, &err), NML_E_ARG,
               &err, "insert position 9");
    assert_int_equal(nml_ir_insert_op(&ir, 0, NML_OP_RELU, NULL, 1, (const int32_t[]){0}, 1,
                                      (const int32_t[]){2}, &idx, &err),
                     NML_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(ir.n_ops, 4);
    assert_int_equal(ir.ops[0].builtin, NML_OP_RELU);
    assert_int_equal(ir.ops[0].version, 1);
    assert_int_equal(ir.ops[0].params.stride_w, 1); /* defaults for NULL params */
    assert_int_equal(ir.ops[1].builtin, NML_OP_CONCATENATION);
    assert_int_equal(nml_ir_set_op_name(&ir, 0, "extra", &err), NML_OK);
    assert_int_equal(nml_ir_remove_op(&ir, 0, &err), NML_OK);
    assert_int_equal(ir.n_ops, 3);
    assert_int_equal(ir.ops[0].builtin, NML_OP_CONCATENATION);
    expect_msg(nml_ir_remove_op(&ir, 3, &err), NML_E_ARG, &err, "operator 3 out of range");
    nml_ir_free(&ir);
}

static void test_clone_is_deep(void **state) {
    (void)state;
    nml_ir src, dst;
    nml_test_model_conv_int8(&src);
    nml_error err;
    assert_int_equal(nml_ir_set_op_name(&src, 0, "conv1", &err), NML_OK);
    assert_int_equal(nml_ir_add_metadata(&src, "m", "xyz", 3, &err), NML_OK);
    assert_int_equal(nml_ir_set_description(&src, "d", &err), NML_OK);
    assert_int_equal(nml_ir_clone(&dst, &src, &err), NML_OK);
    assert_int_equal(dst.n_tensors, src.n_tensors);
    assert_int_equal(dst.n_ops, src.n_ops);
    assert_ptr_not_equal(dst.tensors[1].data, src.tensors[1].data);
    assert_memory_equal(dst.tensors[1].data, src.tensors[1].data, src.tensors[1].data_bytes);
    ((int8_t *)dst.tensors[1].data)[0] = 99;
    dst.tensors[1].scales[0] = 7.0f;
    assert_int_equal(((int8_t *)src.tensors[1].data)[0], 1);
    assert_true(src.tensors[1].scales[0] == 0.5f);
    assert_string_equal(dst.ops[0].name, "conv1");
    assert_ptr_not_equal(dst.ops[0].name, src.ops[0].name);
    assert_string_equal(dst.description, "d");
    assert_int_equal(dst.n_metadata, 1);
    assert_memory_equal(dst.metadata[0].data, "xyz", 3);
    assert_int_equal(dst.outputs[0], src.outputs[0]);
    nml_ir_free(&src);
    nml_ir_free(&dst);
}

static void test_queries(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_conv_int8(&ir);
    assert_int_equal(nml_ir_find_tensor(&ir, "relu"), 4);
    assert_int_equal(nml_ir_find_tensor(&ir, "nope"), -1);
    assert_int_equal(nml_ir_producer(&ir, 4), 1);
    assert_int_equal(nml_ir_producer(&ir, 0), -1);
    assert_int_equal(nml_ir_count_uses(&ir, 3), 1);
    assert_int_equal(nml_ir_count_uses(&ir, 5), 1); /* graph output */
    assert_int_equal(nml_ir_count_uses(&ir, 0), 1);
    nml_ir_free(&ir);
}

/* Removing the RELU of conv -> relu -> pool: the pool reads the conv output directly, the RELU
 * becomes dead, and compaction drops the orphaned "relu" tensor and renumbers "pool" 5 -> 4. */
static void test_rewrite_and_compact(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_conv_int8(&ir);
    nml_error err;
    assert_int_equal(nml_ir_replace_uses(&ir, 4, 3, -1), 1);
    assert_int_equal(ir.ops[2].inputs[0], 3);
    assert_int_equal(nml_ir_remove_dead_ops(&ir), 1);
    assert_int_equal(ir.n_ops, 2);
    assert_int_equal(ir.ops[1].builtin, NML_OP_AVERAGE_POOL_2D);
    assert_int_equal(nml_ir_compact(&ir, &err), NML_OK);
    assert_int_equal(ir.n_tensors, 5);
    assert_int_equal(nml_ir_find_tensor(&ir, "relu"), -1);
    assert_int_equal(nml_ir_find_tensor(&ir, "pool"), 4);
    assert_int_equal(ir.ops[1].outputs[0], 4);
    assert_int_equal(ir.outputs[0], 4);
    assert_int_equal(nml_ir_validate(&ir, &err), NML_OK);

    /* except_op keeps the operator that computes the replacement from the original */
    nml_ir_free(&ir);
    nml_test_model_conv_int8(&ir);
    assert_int_equal(nml_ir_replace_uses(&ir, 3, 4, 1), 0); /* op 1 is the only reader */
    assert_int_equal(ir.ops[1].inputs[0], 3);

    /* a whole dead chain goes: with no graph output, every operator is dead */
    ir.n_outputs = 0;
    assert_int_equal(nml_ir_remove_dead_ops(&ir), 3);
    assert_int_equal(nml_ir_compact(&ir, &err), NML_OK);
    assert_int_equal(ir.n_tensors, 1); /* the graph input stays */
    assert_string_equal(ir.tensors[0].name, "input");
    nml_ir_free(&ir);
}

static void test_validate(void **state) {
    (void)state;
    nml_ir ir;
    nml_error err;
    nml_test_model_fc_float(&ir);
    assert_int_equal(nml_ir_validate(&ir, &err), NML_OK);
    int extra;
    assert_int_equal(nml_ir_add_tensor(&ir, "loose", NML_FLOAT32, 1, (const int32_t[]){2}, NULL, 0,
                                       &extra, &err),
                     NML_OK);
    assert_int_equal(nml_ir_add_op(&ir, NML_OP_RELU, NULL, 1, (const int32_t[]){extra}, 1,
                                   (const int32_t[]){3}, NULL, &err),
                     NML_OK);
    expect_msg(nml_ir_validate(&ir, &err), NML_E_FORMAT, &err,
               "operator 1 (RELU): reads tensor 4 (loose), which is no constant");
    ir.ops[1].inputs[0] = 0;
    expect_msg(nml_ir_validate(&ir, &err), NML_E_FORMAT, &err,
               "output 0, tensor 3 (y), is already written by another operator");
    ir.n_ops = 1;
    ir.inputs[0] = 1;
    expect_msg(nml_ir_validate(&ir, &err), NML_E_FORMAT, &err,
               "graph input 0 (fc/weights) is a "
               "constant");
    ir.n_ops = 2;
    nml_ir_free(&ir);
}

/* Expected versions from TFLite's op_version rules. */
static void test_op_versions(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_fc_float(&ir);
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[0]), 1);
    ir.ops[0].params.keep_num_dims = 1;
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[0]), 5);
    ir.ops[0].n_inputs = 2; /* no bias at all */
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[0]), 6);
    ir.ops[0].n_inputs = 3;
    ir.ops[0].params.keep_num_dims = 0;
    ir.tensors[1].type = NML_INT8; /* hybrid: float activations, int8 weights */
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[0]), 3);
    ir.tensors[0].type = ir.tensors[3].type = NML_INT8;
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[0]), 4);
    nml_ir_free(&ir);

    nml_test_model_conv_int8(&ir);
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[0]), 3); /* CONV_2D int8 */
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[1]), 2); /* RELU int8 */
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[2]), 2); /* AVERAGE_POOL_2D int8 */
    ir.tensors[0].type = ir.tensors[3].type = NML_FLOAT32;       /* hybrid per-channel conv */
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[0]), 5);
    ir.ops[1].builtin = NML_OP_SOFTMAX;
    ir.tensors[3].type = NML_INT16;
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[1]), 3);
    ir.ops[1].builtin = NML_OP_DEQUANTIZE;
    ir.tensors[3].type = NML_INT8;
    ir.ops[1].inputs[0] = 1; /* per-channel int8 input */
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[1]), 5);
    ir.ops[1].inputs[0] = 3;
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[1]), 2);
    ir.ops[1].builtin = NML_OP_STRIDED_SLICE;
    ir.ops[1].params.offset = 1;
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[1]), 8);
    ir.ops[1].builtin = NML_OP_RESIZE_NEAREST_NEIGHBOR;
    ir.tensors[3].type = NML_FLOAT32;
    ir.ops[1].params.align_corners = 1;
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[1]), 3);
    ir.ops[1].builtin = NML_OP_DEPTHWISE_CONV_2D;
    ir.ops[1].params.dilation_h = 2;
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[1]), 2);
    nml_ir_free(&ir);

    /* MUL with input1 * input2 / output scale >= 1: version 3 */
    nml_ir_init(&ir);
    nml_error err;
    const int32_t d[1] = {4};
    for (int i = 0; i < 3; i++)
        assert_int_equal(nml_ir_add_tensor(&ir, NULL, NML_INT8, 1, d, NULL, 0, NULL, &err), NML_OK);
    const float s_in = 0.5f, s_out = 0.25f;
    const int64_t z = 0;
    assert_int_equal(nml_ir_set_quant(&ir, 0, 1, &s_in, &z, 0, &err), NML_OK);
    assert_int_equal(nml_ir_set_quant(&ir, 1, 1, &s_in, &z, 0, &err), NML_OK);
    assert_int_equal(nml_ir_set_quant(&ir, 2, 1, &s_out, &z, 0, &err), NML_OK);
    assert_int_equal(nml_ir_add_op(&ir, NML_OP_MUL, NULL, 2, (const int32_t[]){0, 1}, 1,
                                   (const int32_t[]){2}, NULL, &err),
                     NML_OK);
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[0]), 3); /* 0.25 / 0.25 = 1 */
    ir.tensors[2].scales[0] = 0.5f;
    assert_int_equal(nml_ir_op_min_version(&ir, &ir.ops[0]), 2); /* 0.5 */
    nml_ir_free(&ir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_tensor_copies_and_checks),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_quant_and_data),
        cmocka_unit_test(test_ops_insert_remove),
        cmocka_unit_test(test_clone_is_deep),
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_rewrite_and_compact),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_op_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
