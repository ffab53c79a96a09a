/* nml_ir_from_tflite: every shared model is read into the IR, written back with
 * nml_ir_to_tflite, loaded again and run on TensorFlow Lite Micro's golden inputs; the outputs
 * must be byte-identical to TFLM's reference outputs (float: within 1e-5, as the golden test)
 * and to the original file's outputs in nanoml. YOLOv8n (255 operators, int8) is
 * compared structurally: the re-read IR has the same operators, tensors, data and
 * quantization. Malformed input fails with the loader's message. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/ir.h"
#include "nanoml/runtime_host.h"
#include "test_util.h"

typedef struct session {
    uint8_t *arena;
    nml_model model;
    nml_interpreter it;
} session;

static void open_bytes(session *s, const uint8_t *bytes, size_t size, const char *what) {
    nml_error err;
    memset(s, 0, sizeof *s);
    if (nml_model_load(&s->model, bytes, size, &err) != NML_OK) fail_msg("%s: %s", what, err.msg);
    if (nml_interpreter_init_alloc(&s->it, &s->model, nml_ops_all(), &s->arena, &err) != NML_OK)
        fail_msg("%s: %s", what, err.msg);
}

static uint8_t *read_model(const char *rel, size_t *size) {
    return nml_test_read(nml_test_shared(rel), size);
}

/* Reads the file into an IR and serializes it again. */
static uint8_t *round_trip(const uint8_t *bytes, size_t size, size_t *out_size, nml_ir *ir) {
    nml_error err;
    uint8_t *out;
    if (nml_ir_from_tflite(ir, bytes, size, &err) != NML_OK) fail_msg("read: %s", err.msg);
    if (nml_ir_to_tflite(ir, &out, out_size, &err) != NML_OK) fail_msg("write: %s", err.msg);
    return out;
}

static uint8_t *golden(const char *model, const char *file, size_t *size) {
    char rel[512];
    snprintf(rel, sizeof rel, "golden/tflm-reference/%s/%s", model, file);
    return nml_test_read(nml_test_shared(rel), size);
}

static void feed(session *s, const char *model, const char *suffix) {
    uint32_t n = nml_input_count(&s->it);
    for (uint32_t k = 0; k < n; k++) {
        char name[300];
        if (n == 1)
            snprintf(name, sizeof name, "in_%s", suffix);
        else
            snprintf(name, sizeof name, "in%u_%s", (unsigned)k, suffix);
        size_t size;
        uint8_t *in = golden(model, name, &size);
        nml_tensor *t = nml_input(&s->it, k);
        assert_int_equal(size, t->bytes);
        memcpy(t->data, in, size);
        free(in);
    }
}

static void expect_golden(const char *model, const char *file, const nml_tensor *out) {
    size_t size;
    uint8_t *want = golden(model, file, &size);
    assert_int_equal(size, out->bytes);
    if (out->type == NML_FLOAT32) {
        for (size_t i = 0; i < size / 4; i++) {
            float a, b;
            memcpy(&a, (const uint8_t *)out->data + 4 * i, 4);
            memcpy(&b, want + 4 * i, 4);
            if (!(fabsf(a - b) <= 1e-5f))
                fail_msg("%s %s: element %zu is %.9g, TFLM has %.9g", model, file, i, a, b);
        }
    } else if (memcmp(out->data, want, size) != 0) {
        fail_msg("%s %s: output differs from TFLM", model, file);
    }
    free(want);
}

/* Runs original and round-tripped model on every golden input. */
static void check_model(const char *model) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/tflm/%s.tflite", model);
    size_t size, rt_size;
    uint8_t *bytes = read_model(rel, &size);
    nml_ir ir;
    uint8_t *rt = round_trip(bytes, size, &rt_size, &ir);
    nml_model m;
    nml_error err;
    assert_int_equal(nml_model_load(&m, bytes, size, &err), NML_OK);
    assert_int_equal(ir.n_tensors, (int)m.n_tensors);
    assert_int_equal(ir.n_ops, (int)m.n_operators);
    nml_ir_free(&ir);

    session orig, copy;
    open_bytes(&orig, bytes, size, "original");
    open_bytes(&copy, rt, rt_size, "round trip");
    snprintf(rel, sizeof rel, "golden/tflm-reference/%s", model);
    DIR *dir = opendir(nml_test_shared(rel));
    assert_non_null(dir);
    int cases = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strncmp(e->d_name, "out_", 4) != 0) continue;
        feed(&orig, model, e->d_name + 4);
        feed(&copy, model, e->d_name + 4);
        assert_int_equal(nml_invoke(&orig.it, &err), NML_OK);
        if (nml_invoke(&copy.it, &err) != NML_OK) fail_msg("%s: %s", model, err.msg);
        const nml_tensor *a = nml_output(&orig.it, 0), *b = nml_output(&copy.it, 0);
        assert_int_equal(a->bytes, b->bytes);
        if (memcmp(a->data, b->data, a->bytes) != 0)
            fail_msg("%s %s: round trip changed the output", model, e->d_name);
        expect_golden(model, e->d_name, b);
        cases++;
    }
    closedir(dir);
    assert_true(cases > 0);
    print_message("%s: %d golden cases identical after read/write\n", model, cases);
    free(orig.arena);
    free(copy.arena);
    free(bytes);
    free(rt);
}

static void hello_world_float(void **state) {
    (void)state;
    check_model("hello_world_float");
}
static void hello_world_int8(void **state) {
    (void)state;
    check_model("hello_world_int8");
}
static void micro_speech(void **state) {
    (void)state;
    check_model("micro_speech_quantized");
}
static void person_detect(void **state) {
    (void)state;
    check_model("person_detect");
}
static void simple_add(void **state) {
    (void)state;
    check_model("simple_add_model");
}

static void expect_same_tensor(const nml_ir_tensor *a, const nml_ir_tensor *b, int i) {
    if (strcmp(a->name, b->name) != 0) fail_msg("tensor %d: name %s vs %s", i, a->name, b->name);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->rank, b->rank);
    for (int d = 0; d < a->rank; d++)
        assert_int_equal(a->dims[d], b->dims[d]);
    assert_int_equal(a->data_bytes, b->data_bytes);
    assert_true((a->data == NULL) == (b->data == NULL));
    if (a->data && memcmp(a->data, b->data, a->data_bytes) != 0)
        fail_msg("tensor %d (%s): data differs", i, a->name);
    assert_int_equal(a->n_q, b->n_q);
    assert_int_equal(a->q_dim, b->q_dim);
    for (uint32_t c = 0; c < a->n_q; c++) {
        assert_true(a->scales[c] == b->scales[c]);
        assert_true(a->zero_points[c] == b->zero_points[c]);
    }
    assert_int_equal(a->is_variable, b->is_variable);
}

static void expect_same_op(const nml_ir_op *a, const nml_ir_op *b, int i) {
    if (a->builtin != b->builtin)
        fail_msg("operator %d: %s vs %s", i, nml_op_name(a->builtin), nml_op_name(b->builtin));
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->n_inputs, b->n_inputs);
    assert_int_equal(a->n_outputs, b->n_outputs);
    assert_memory_equal(a->inputs, b->inputs, (size_t)a->n_inputs * sizeof a->inputs[0]);
    assert_memory_equal(a->outputs, b->outputs, (size_t)a->n_outputs * sizeof a->outputs[0]);
    if (memcmp(&a->params, &b->params, sizeof a->params) != 0)
        fail_msg("operator %d (%s): options differ after the round trip", i,
                 nml_op_name(a->builtin));
}

/* YOLOv8n: 412 tensors, 255 operators of 14 kinds. Read, write, read again: same IR. The
 * first read is also checked against the runtime's own view of the file. */
static void yolov8n_structure(void **state) {
    (void)state;
    size_t size, rt_size;
    uint8_t *bytes = read_model("models/yolov8n/yolov8n_full_integer_quant.tflite", &size);
    nml_ir first, second;
    nml_error err;
    uint8_t *rt = round_trip(bytes, size, &rt_size, &first);
    if (nml_ir_from_tflite(&second, rt, rt_size, &err) != NML_OK) fail_msg("%s", err.msg);

    nml_model m;
    assert_int_equal(nml_model_load(&m, bytes, size, &err), NML_OK);
    assert_int_equal(first.n_tensors, 412);
    assert_int_equal(first.n_ops, 255);
    for (uint32_t i = 0; i < m.n_operators; i++) {
        nml_model_op op;
        assert_int_equal(nml_model_operator(&m, i, &op, &err), NML_OK);
        assert_int_equal(first.ops[i].builtin, op.builtin);
        assert_int_equal(first.ops[i].version, op.version);
    }
    assert_int_equal(first.n_inputs, 1);
    assert_int_equal(first.inputs[0], nml_model_input(&m, 0));
    assert_int_equal(first.outputs[0], nml_model_output(&m, 0));

    assert_int_equal(second.n_tensors, first.n_tensors);
    assert_int_equal(second.n_ops, first.n_ops);
    for (int i = 0; i < first.n_tensors; i++)
        expect_same_tensor(&first.tensors[i], &second.tensors[i], i);
    for (int i = 0; i < first.n_ops; i++)
        expect_same_op(&first.ops[i], &second.ops[i], i);
    assert_int_equal(second.n_inputs, first.n_inputs);
    assert_int_equal(second.n_outputs, first.n_outputs);
    assert_int_equal(second.inputs[0], first.inputs[0]);
    assert_int_equal(second.outputs[0], first.outputs[0]);
    /* the int8 quantization of (almost) every tensor survived */
    int quantized = 0;
    for (int i = 0; i < first.n_tensors; i++)
        quantized += first.tensors[i].n_q > 0;
    assert_true(quantized >= 380);
    nml_ir_free(&first);
    nml_ir_free(&second);
    free(bytes);
    free(rt);
}

/* The converter's description and metadata entries come back unchanged. */
static void description_and_metadata(void **state) {
    (void)state;
    size_t size, rt_size;
    uint8_t *bytes = read_model("models/tflm/hello_world_float.tflite", &size);
    nml_ir a, b;
    nml_error err;
    uint8_t *rt = round_trip(bytes, size, &rt_size, &a);
    assert_int_equal(nml_ir_from_tflite(&b, rt, rt_size, &err), NML_OK);
    assert_non_null(a.description);
    assert_string_equal(a.description, b.description);
    assert_true(a.n_metadata >= 1);
    assert_int_equal(a.n_metadata, b.n_metadata);
    int found = 0;
    for (int i = 0; i < a.n_metadata; i++) {
        assert_string_equal(a.metadata[i].name, b.metadata[i].name);
        assert_int_equal(a.metadata[i].bytes, b.metadata[i].bytes);
        assert_memory_equal(a.metadata[i].data, b.metadata[i].data, a.metadata[i].bytes);
        found |= strcmp(a.metadata[i].name, "min_runtime_version") == 0;
    }
    assert_true(found);
    nml_ir_free(&a);
    nml_ir_free(&b);
    free(bytes);
    free(rt);
}

/* Bytes at an odd address are copied before the aligned loader sees them. */
static void unaligned_bytes(void **state) {
    (void)state;
    size_t size;
    uint8_t *bytes = read_model("models/tflm/hello_world_int8.tflite", &size);
    uint8_t *shifted = malloc(size + 1);
    memcpy(shifted + 1, bytes, size);
    nml_ir ir;
    nml_error err;
    assert_int_equal(nml_ir_from_tflite(&ir, shifted + 1, size, &err), NML_OK);
    assert_int_equal(ir.n_ops, 3);
    assert_int_equal(ir.tensors[ir.inputs[0]].type, NML_INT8);
    nml_ir_free(&ir);
    free(shifted);
    free(bytes);
}

/* Truncated and corrupted files fail with the verifier's message and leave an empty IR. */
static void malformed_bytes(void **state) {
    (void)state;
    size_t size;
    uint8_t *bytes = read_model("models/tflm/micro_speech_quantized.tflite", &size);
    nml_ir ir;
    nml_error err;
    for (size_t cut = 0; cut < size; cut += size / 13 + 1) {
        nml_status st = nml_ir_from_tflite(&ir, bytes, cut, &err);
        assert_int_not_equal(st, NML_OK);
        assert_non_null(strstr(err.msg, "tflite reader: "));
        assert_int_equal(ir.n_tensors, 0);
        assert_int_equal(ir.n_ops, 0);
    }
    memcpy(bytes + 4, "XXXX", 4); /* file identifier */
    assert_int_not_equal(nml_ir_from_tflite(&ir, bytes, size, &err), NML_OK);
    assert_non_null(strstr(err.msg, "tflite reader: "));
    assert_int_equal(nml_ir_from_tflite(&ir, NULL, 10, &err), NML_E_ARG);
    free(bytes);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hello_world_float),
        cmocka_unit_test(hello_world_int8),
        cmocka_unit_test(micro_speech),
        cmocka_unit_test(person_detect),
        cmocka_unit_test(simple_add),
        cmocka_unit_test(yolov8n_structure),
        cmocka_unit_test(description_and_metadata),
        cmocka_unit_test(unaligned_bytes),
        cmocka_unit_test(malformed_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
