/* The planner gives the output of a view operator (RESHAPE, SQUEEZE, EXPAND_DIMS) its input's
 * buffer: checked on CONCATENATION -> RESHAPE -> SOFTMAX (float32) whose result is computed by
 * hand, and on person_detect (its RESHAPE before the softmax), which must still match the TFLM
 * golden output byte for byte with the exact arena. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "ir_models.h"
#include "kernel.h"
#include "nanoml/file.h"
#include "nanoml/ir.h"
#include "nanoml/runtime.h"
#include "nanoml/runtime_host.h"
#include "tfl_builder.h"

static void reshape_output_shares_its_input(void **state) {
    (void)state;
    nml_ir ir;
    nml_test_model_concat_softmax(&ir); /* tensors: 0 a, 1 b, 2 cat, 3 shape, 4 reshaped, 5 out */
    uint8_t *bytes;
    size_t size;
    nml_error err;
    assert_int_equal(nml_ir_to_tflite(&ir, &bytes, &size, &err), NML_OK);
    nml_model m;
    assert_int_equal(nml_model_load(&m, bytes, size, &err), NML_OK);
    nml_interpreter it = {0};
    uint8_t *arena;
    assert_int_equal(nml_interpreter_init_alloc(&it, &m, nml_ops_all(), &arena, &err), NML_OK);
    assert_ptr_equal(it.tensors[4].data, it.tensors[2].data);
    /* the most live at once: a, b and cat while CONCATENATION runs, cat at 0, a at 16, b at 32
     * (16-byte aligned), 40 bytes; reshaped then costs nothing */
    assert_int_equal(it.activation_bytes, 40);
    assert_int_equal(it.activation_min_bytes, 32);
    const float a[2] = {1.0f, 2.0f}, b[2] = {3.0f, 4.0f};
    memcpy(nml_input(&it, 0)->data, a, sizeof a);
    memcpy(nml_input(&it, 1)->data, b, sizeof b);
    assert_int_equal(nml_invoke(&it, &err), NML_OK);
    /* rows [1, 2] and [3, 4]: softmax = [1, e] / (1 + e) for both */
    const float e = expf(1.0f), lo = 1.0f / (1.0f + e), hi = e / (1.0f + e);
    const float want[4] = {lo, hi, lo, hi};
    const float *got = nml_output(&it, 0)->data;
    for (int i = 0; i < 4; i++)
        assert_true(fabsf(got[i] - want[i]) < 1e-6f);
    free(arena);
    free(bytes);
    nml_ir_free(&ir);
}

static void person_detect_still_matches_tflm(void **state) {
    (void)state;
    const char *path = nml_test_shared("models/tflm/person_detect.tflite");
    if (!nml_test_exists(path)) skip();
    uint8_t *data;
    size_t size;
    nml_model m;
    nml_error err;
    assert_int_equal(nml_load_model_file(path, &data, &size, &m, &err), NML_OK);
    nml_interpreter it = {0};
    uint8_t *arena;
    assert_int_equal(nml_interpreter_init_alloc(&it, &m, nml_ops_all(), &arena, &err), NML_OK);
    /* the RESHAPE feeding the softmax reads and writes one buffer */
    int found = 0;
    for (uint32_t i = 0; i < it.n_nodes; i++) {
        if (nml_node_builtin(&it, i) != NML_OP_RESHAPE) continue;
        const nml_node *n = &it.nodes[i];
        assert_ptr_equal(it.tensors[n->inputs[0]].data, it.tensors[n->outputs[0]].data);
        found = 1;
    }
    assert_true(found);
    size_t n_in, n_out;
    uint8_t *in =
        nml_test_read(nml_test_shared("golden/tflm-reference/person_detect/in_person.bin"), &n_in);
    uint8_t *want = nml_test_read(
        nml_test_shared("golden/tflm-reference/person_detect/out_person.bin"), &n_out);
    assert_int_equal(n_in, nml_input(&it, 0)->bytes);
    memcpy(nml_input(&it, 0)->data, in, n_in);
    assert_int_equal(nml_invoke(&it, &err), NML_OK);
    assert_memory_equal(nml_output(&it, 0)->data, want, n_out);
    free(in);
    free(want);
    free(arena);
    free(data);
}

/* A malformed graph whose second RESHAPE writes back into the graph input its first RESHAPE
 * read (a -> b -> a -> c, a written twice): a was already the buffer b shares, so the second
 * view must not make it an alias (of itself). Every planned buffer must stay aligned and
 * inside the activations, and c must still be the input. */
static void view_writing_a_shared_buffer_is_not_aliased(void **state) {
    (void)state;
    static const int32_t four[1] = {4};
    const int32_t dims[1] = {4};
    tb_model *tm = tb_new();
    tb_opcode(tm, NML_OP_RESHAPE);
    const int shape = tb_add_tensor(tm, NML_INT32, 1, (const int32_t[]){1},
                                    (uint32_t)tb_buffer(tm, four, sizeof four), "shape");
    const int b = tb_add_tensor(tm, NML_FLOAT32, 1, dims, 0, "b");
    const int c = tb_add_tensor(tm, NML_FLOAT32, 1, dims, 0, "c");
    const int a = tb_add_tensor(tm, NML_FLOAT32, 1, dims, 0, "a"); /* index 3: not offset 0 */
    tb_add_op(tm, 0, 2, (int32_t[]){a, shape}, 1, (int32_t[]){b});
    tb_add_op(tm, 0, 2, (int32_t[]){b, shape}, 1, (int32_t[]){a});
    tb_add_op(tm, 0, 2, (int32_t[]){a, shape}, 1, (int32_t[]){c});
    tb_io(tm, 1, (int32_t[]){a}, 1, (int32_t[]){c});
    size_t size;
    uint8_t *bytes = tb_build(tm, &size);
    nml_model m;
    nml_error err;
    assert_int_equal(nml_model_load(&m, bytes, size, &err), NML_OK);
    nml_interpreter it = {0};
    uint8_t *arena;
    assert_int_equal(nml_interpreter_init_alloc(&it, &m, nml_ops_all(), &arena, &err), NML_OK);
    for (uint32_t i = 0; i < it.n_tensors; i++) {
        const nml_tensor *t = &it.tensors[i];
        if (t->alloc != NML_ALLOC_ARENA) continue;
        assert_int_equal(t->arena_offset % 16u, 0);
        assert_true((uint64_t)t->arena_offset + t->bytes <= it.activation_bytes);
    }
    const float x[4] = {1.5f, -2.0f, 3.25f, 8.0f};
    memcpy(nml_input(&it, 0)->data, x, sizeof x);
    assert_int_equal(nml_invoke(&it, &err), NML_OK);
    assert_memory_equal(nml_output(&it, 0)->data, x, sizeof x);
    free(arena);
    free(bytes);
    free(tm);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reshape_output_shares_its_input),
        cmocka_unit_test(person_detect_still_matches_tflm),
        cmocka_unit_test(view_writing_a_shared_buffer_is_not_aliased),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
