/* The explicit limits of nanoml/types.h: each one is accepted at the limit and refused one past
 * it with NML_E_LIMIT and a message naming it (rank, tensor bytes, element count, model size,
 * operator inputs/outputs, tensors and operators per subgraph), and memory planning stays
 * quadratic on a graph built to make a naive greedy planner cubic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel.h"
#include "nanoml/ir.h"
#include "nanoml/runtime_host.h"
#include "planner.h"
#include "test_util.h"
#include "tfl_builder.h"

static nml_status load(const uint8_t *data, size_t size, nml_error *err) {
    uint8_t *copy = nml_test_alloc16(size);
    memcpy(copy, data, size);
    nml_model m;
    nml_error_clear(err);
    nml_status st = nml_model_load(&m, copy, size, err);
    free(copy);
    return st;
}

static void expect_load(tb_model *m, nml_status want, const char *text) {
    size_t size;
    uint8_t *data = tb_build(m, &size);
    nml_error err;
    nml_status st = load(data, size, &err);
    free(data);
    if (st != want || (text && !strstr(err.msg, text)))
        fail_msg("expected %s \"%s\", got %s \"%s\"", nml_status_str(want), text ? text : "",
                 nml_status_str(st), err.msg);
}

/* ADD(in0, in1) -> out (float32 1x4) plus one unconnected tensor of the given shape. */
static tb_model *with_tensor(int type, int rank, const int32_t *dims) {
    tb_model *m = tb_new();
    int32_t d[2] = {1, 4};
    tb_opcode(m, NML_OP_ADD);
    tb_add_tensor(m, NML_FLOAT32, 2, d, 0, "in0");
    tb_add_tensor(m, NML_FLOAT32, 2, d, 0, "in1");
    tb_add_tensor(m, NML_FLOAT32, 2, d, 0, "out");
    tb_add_tensor(m, type, rank, dims, 0, "probe");
    tb_add_op(m, 0, 2, (int32_t[]){0, 1}, 1, (int32_t[]){2});
    tb_io(m, 2, (int32_t[]){0, 1}, 1, (int32_t[]){2});
    return m;
}

static void rank_limit(void **state) {
    (void)state;
    int32_t dims[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    tb_model *m = with_tensor(NML_INT8, NML_MAX_RANK, dims);
    expect_load(m, NML_OK, NULL);
    free(m);
    m = with_tensor(NML_INT8, NML_MAX_RANK + 1, dims);
    expect_load(m, NML_E_LIMIT, "rank 7 exceeds the limit of 6");
    free(m);
}

/* NML_MAX_TENSOR_BYTES = 2^31 - 1: an int8 tensor of 2^31 - 1 elements is the largest. */
static void tensor_size_limits(void **state) {
    (void)state;
    tb_model *m = with_tensor(NML_INT8, 1, (int32_t[]){0x7fffffff});
    expect_load(m, NML_OK, NULL);
    free(m);
    m = with_tensor(NML_INT16, 1, (int32_t[]){0x40000000}); /* 2^31 bytes */
    expect_load(m, NML_E_LIMIT, "int16 tensor of shape 1073741824 exceeds the size limit");
    free(m);
    m = with_tensor(NML_FLOAT32, 1, (int32_t[]){0x7fffffff});
    expect_load(m, NML_E_LIMIT, "exceeds the size limit of 2147483647 bytes");
    free(m);
    /* element counts that overflow 32 and 64 bits */
    m = with_tensor(NML_INT8, 2, (int32_t[]){65536, 65536});
    expect_load(m, NML_E_LIMIT, "65536x65536 exceeds the size limit");
    free(m);
    m = with_tensor(
        NML_INT8, 6,
        (int32_t[]){0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff});
    expect_load(m, NML_E_LIMIT, "exceeds the size limit");
    free(m);
    /* a zero dimension makes the tensor empty, whatever the others */
    m = with_tensor(NML_FLOAT32, 3, (int32_t[]){0x7fffffff, 0, 0x7fffffff});
    expect_load(m, NML_OK, NULL);
    free(m);
    /* ... also after the count has passed 2^32 */
    m = with_tensor(NML_FLOAT32, 3, (int32_t[]){65536, 65536, 0});
    expect_load(m, NML_OK, NULL);
    free(m);
    /* int4: 65535 x 65537 = 2^32 - 1 elements, 2^31 bytes (packed two per byte, rounded up) */
    m = with_tensor(NML_INT4, 2, (int32_t[]){65535, 65537});
    expect_load(m, NML_E_LIMIT, "exceeds the size limit");
    free(m);
    m = with_tensor(NML_INT4, 2, (int32_t[]){65535, 65535}); /* 2^32 - 2^17 + 1 elements: fits */
    expect_load(m, NML_OK, NULL);
    free(m);
    /* dimensions are signed 32-bit in the file: a negative one is a dynamic shape */
    m = with_tensor(NML_INT8, 2, (int32_t[]){1, -1});
    expect_load(m, NML_E_SHAPE, "dimension 1 is -1");
    free(m);
}

static void operator_io_limits(void **state) {
    (void)state;
    int32_t d[1] = {4};
    int32_t idx[NML_MAX_OP_INPUTS + 1];
    for (int k = 0; k <= NML_MAX_OP_INPUTS; k++)
        idx[k] = 0;
    for (int extra = 0; extra <= 1; extra++) {
        tb_model *m = tb_new();
        tb_opcode(m, NML_OP_CONCATENATION);
        tb_add_tensor(m, NML_FLOAT32, 1, d, 0, "in");
        tb_add_tensor(m, NML_FLOAT32, 1, d, 0, "out");
        tb_add_op(m, 0, NML_MAX_OP_INPUTS + extra, idx, 1, (int32_t[]){1});
        tb_io(m, 1, (int32_t[]){0}, 1, (int32_t[]){1});
        expect_load(m, extra ? NML_E_LIMIT : NML_OK,
                    extra ? "17 inputs exceed the limit of 16" : NULL);
        free(m);
    }
    int32_t outs[NML_MAX_OP_OUTPUTS + 1];
    for (int extra = 0; extra <= 1; extra++) {
        tb_model *m = tb_new();
        tb_opcode(m, NML_OP_SPLIT);
        tb_add_tensor(m, NML_FLOAT32, 1, d, 0, "in");
        for (int k = 0; k < NML_MAX_OP_OUTPUTS + extra; k++) {
            outs[k] = tb_add_tensor(m, NML_FLOAT32, 1, d, 0, "part");
        }
        tb_add_op(m, 0, 1, (int32_t[]){0}, NML_MAX_OP_OUTPUTS + extra, outs);
        tb_io(m, 1, (int32_t[]){0}, 1, outs);
        expect_load(m, extra ? NML_E_LIMIT : NML_OK,
                    extra ? "17 outputs exceed the limit of 16" : NULL);
        free(m);
    }
}

/* n_tensors entries all pointing at one float32 [1] tensor table and n_ops at one ADD
 * operator (in: tensors 0, 0; out: tensor 1). Cheap at any size: 4 bytes per entry. */
static uint8_t *wide_model(uint32_t n_tensors, uint32_t n_ops, size_t *size) {
    fbb b;
    fbb_init(&b);
    uint32_t buffer = fbb_table(&b, NULL, 0);
    uint32_t buffers = fbb_offsets(&b, &buffer, 1);
    int32_t one = 1, io_in = 0, io_out = 1, ins[2] = {0, 0};
    fbb_field tf[1] = {{0, 4, 1, fbb_vector(&b, &one, 1, 4, 0)}};
    uint32_t tensor = fbb_table(&b, tf, 1);
    uint32_t *refs = malloc(sizeof *refs * (n_tensors > n_ops ? n_tensors : n_ops));
    assert_non_null(refs);
    for (uint32_t i = 0; i < n_tensors; i++)
        refs[i] = tensor;
    uint32_t tensors = fbb_offsets(&b, refs, n_tensors);
    uint32_t outs = fbb_vector(&b, &io_out, 1, 4, 0);
    uint32_t in_vec = fbb_vector(&b, ins, 2, 4, 0);
    fbb_field of[2] = {{1, 4, 1, in_vec}, {2, 4, 1, outs}};
    uint32_t op = fbb_table(&b, of, 2);
    for (uint32_t i = 0; i < n_ops; i++)
        refs[i] = op;
    uint32_t ops = fbb_offsets(&b, refs, n_ops);
    free(refs);
    uint32_t g_in = fbb_vector(&b, &io_in, 1, 4, 0);
    uint32_t g_out = fbb_vector(&b, &io_out, 1, 4, 0);
    fbb_field sf[4] = {{0, 4, 1, tensors}, {1, 4, 1, g_in}, {2, 4, 1, g_out}, {3, 4, 1, ops}};
    uint32_t sub = fbb_table(&b, sf, 4);
    uint32_t subs = fbb_offsets(&b, &sub, 1);
    fbb_field cf[2] = {{0, 1, 0, NML_OP_ADD}, {3, 4, 0, NML_OP_ADD}};
    uint32_t code = fbb_table(&b, cf, 2);
    uint32_t codes = fbb_offsets(&b, &code, 1);
    fbb_field mf[4] = {{0, 4, 0, 3}, {1, 4, 1, codes}, {2, 4, 1, subs}, {4, 4, 1, buffers}};
    uint32_t root = fbb_table(&b, mf, 4);
    uint8_t *out = fbb_finish(&b, root, "TFL3", size);
    fbb_free(&b);
    return out;
}

static void tensor_and_operator_counts(void **state) {
    (void)state;
    size_t size;
    nml_error err;
    uint8_t *d = wide_model(NML_MAX_TENSORS, 1, &size);
    assert_int_equal(load(d, size, &err), NML_OK);
    free(d);
    d = wide_model(NML_MAX_TENSORS + 1, 1, &size);
    assert_int_equal(load(d, size, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "8193 tensors exceed the limit of 8192"));
    free(d);
    d = wide_model(2, NML_MAX_OPERATORS + 1, &size);
    assert_int_equal(load(d, size, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "8193 operators exceed the limit of 8192"));
    free(d);

    /* at the limit the whole runtime works: 8192 ADDs of 1 + 1 into the same tensor */
    d = wide_model(2, NML_MAX_OPERATORS, &size);
    nml_model m;
    nml_interpreter it = {0};
    uint8_t *arena = NULL;
    assert_int_equal(nml_model_load(&m, d, size, &err), NML_OK);
    if (nml_interpreter_init_alloc(&it, &m, nml_ops_all(), &arena, &err) != NML_OK)
        fail_msg("%s", err.msg);
    float x = 1.0f, y = 0.0f;
    memcpy(nml_input(&it, 0)->data, &x, 4);
    assert_int_equal(nml_invoke(&it, &err), NML_OK);
    memcpy(&y, nml_output(&it, 0)->data, 4);
    assert_true(y == 2.0f);
    free(arena);
    free(d);
}

/* A chain of RELUs in the IR with n tensors, written by the .tflite writer. */
static nml_status write_chain(int n, uint8_t **data, size_t *size, nml_error *err) {
    nml_ir ir;
    nml_ir_init(&ir);
    const int32_t dims[1] = {1};
    nml_status st = NML_OK;
    for (int t = 0; t < n && st == NML_OK; t++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", t);
        st = nml_ir_add_tensor(&ir, name, NML_FLOAT32, 1, dims, NULL, 0, NULL, err);
        if (st == NML_OK && t > 0) {
            const int32_t in = t - 1, out = t;
            st = nml_ir_add_op(&ir, NML_OP_RELU, NULL, 1, &in, 1, &out, NULL, err);
        }
    }
    const int32_t first = 0, last = n - 1;
    if (st == NML_OK) st = nml_ir_set_io(&ir, 1, &first, 1, &last, err);
    if (st == NML_OK) st = nml_ir_to_tflite(&ir, data, size, err);
    nml_ir_free(&ir);
    return st;
}

/* The writer keeps to the reader's tensor limit: it never writes a model nanoml cannot load. */
static void writer_keeps_reader_limits(void **state) {
    (void)state;
    uint8_t *d = NULL;
    size_t size;
    nml_error err;
    if (write_chain(NML_MAX_TENSORS, &d, &size, &err) != NML_OK) fail_msg("%s", err.msg);
    assert_int_equal(load(d, size, &err), NML_OK);
    free(d);
    assert_int_equal(write_chain(NML_MAX_TENSORS + 1, &d, &size, &err), NML_E_LIMIT);
    assert_string_equal(err.msg, "tflite writer: 8193 tensors exceed the limit of 8192");
    assert_null(d);
}

static void model_size_limit(void **state) {
    (void)state;
    /* the size is checked before a single byte is read (ASan would see any read) */
    uint8_t *tiny = nml_test_alloc16(16);
    memset(tiny, 0, 16);
    nml_model m;
    nml_error err;
    assert_int_equal(nml_model_load(&m, tiny, (size_t)NML_MAX_MODEL_BYTES + 1, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "exceeds the limit of 2147483647"));
    free(tiny);

    /* a (sparse) 3 GB file is refused by its size, without reading it */
    char path[] = "/tmp/nml_big_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)3 << 30), 0);
    close(fd);
    uint8_t *data = NULL;
    size_t size;
    nml_status st = nml_load_model_file(path, &data, &size, &m, &err);
    unlink(path);
    assert_int_equal(st, NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "file is 3221225472 bytes, limit is 2147483647"));
    assert_null(data);
}

/* Buffer k of n, 16 * (k + 1) bytes, written by operator k and live to the end: placed largest
 * first, buffer k sits after every larger one, at 16 * sum_{j > k} (j + 1). A planner that
 * rescans in index order after each move needs a pass per buffer here (n^3 steps: minutes at
 * this size); the offset-ordered walk needs n^2. */
static void planner_staircase(void **state) {
    (void)state;
    enum { N = 4000 };
    nml_tensor *t = calloc(N, sizeof *t);
    nml_node *nodes = calloc(N, sizeof *nodes);
    assert_true(t && nodes);
    for (uint32_t i = 0; i < N; i++) {
        t[i].alloc = NML_ALLOC_ARENA;
        t[i].bytes = 16 * (i + 1);
        t[i].first_use = (int32_t)i;
        t[i].last_use = N - 1;
        nodes[i].index = i;
    }
    uint32_t work = nml_plan_work_bytes(t, N, nodes, N), bytes, min_bytes;
    assert_int_equal(work, 4 * N);
    uint32_t *list = malloc(work);
    nml_error err;
    assert_int_equal(nml_plan_offsets(t, N, nodes, N, list, &bytes, &min_bytes, &err), NML_OK);
    uint64_t total = 16ull * N * (N + 1) / 2, above = 0;
    for (int32_t k = N - 1; k >= 0; k--) {
        if (t[k].arena_offset != above)
            fail_msg("buffer %d at %u, expected %llu", (int)k, (unsigned)t[k].arena_offset,
                     (unsigned long long)above);
        above += 16ull * (uint64_t)(k + 1);
    }
    assert_true(bytes == total);
    assert_true(min_bytes == total); /* all live at the last operator */
    free(list);
    free(nodes);
    free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rank_limit),         cmocka_unit_test(tensor_size_limits),
        cmocka_unit_test(operator_io_limits), cmocka_unit_test(tensor_and_operator_counts),
        cmocka_unit_test(model_size_limit),   cmocka_unit_test(planner_staircase),
        cmocka_unit_test(writer_keeps_reader_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
