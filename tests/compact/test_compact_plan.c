/* The export-time arena plan's errors in the compact-errors build (nanoml_runtime_compact): the
 * message is the status's name after the buffer it concerns, e.g. "tensor 1: arena plan
 * mismatch" (include/nanoml/status.h, docs/deploy.md). Expected strings written out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel.h"
#include "nanoml/arena_plan.h"
#include "tfl_builder.h"

/* asks for 40 bytes of scratch, copies input to output through it */
static nml_status scratch_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    return nml_ctx_request_scratch(ctx, node, 40);
}

static nml_status copy_eval(nml_ctx *ctx, nml_node *node) {
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    uint8_t *scratch = nml_ctx_scratch(ctx, node);
    memcpy(scratch, in->data, in->bytes);
    memcpy(out->data, scratch, out->bytes);
    return NML_OK;
}

static void compact_plan_errors(void **state) {
    (void)state;
    nml_kernel k = {NML_OP_ADD, "ADD", scratch_prepare, copy_eval, 0};
    const nml_kernel *slot = &k;
    nml_op_resolver ops = {&slot, 1};
    tb_model *m = tb_new();
    int32_t dims[2] = {1, 32};
    tb_opcode(m, NML_OP_ADD);
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "in");
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "out");
    tb_add_op(m, 0, 1, (int32_t[]){0}, 1, (int32_t[]){1});
    tb_io(m, 1, (int32_t[]){0}, 1, (int32_t[]){1});
    size_t size;
    uint8_t *data = tb_build(m, &size);
    nml_model model;
    nml_error err;
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    const size_t arena_bytes = 4096;
    uint8_t *a1 = aligned_alloc(16, arena_bytes), *a2 = aligned_alloc(16, arena_bytes);
    nml_interpreter planner, planned;
    assert_int_equal(nml_interpreter_init(&planner, &model, &ops, a1, arena_bytes, &err), NML_OK);
    nml_plan_buffer b[3];
    nml_arena_plan plan;
    assert_int_equal(nml_arena_plan_read(&planner, &plan, b, 3, &err), NML_OK);
    assert_int_equal(plan.n_buffers, 3); /* in, out, the scratch */
    plan.buffers = b;
    plan.variables = NULL;
    const nml_plan_buffer good_out = b[1], good_scratch = b[2];

    b[1].size = 1; /* 16 bytes planned for 32 */
    assert_int_equal(
        nml_interpreter_init_planned(&planned, &model, &ops, &plan, a2, arena_bytes, &err),
        NML_E_PLAN);
    assert_string_equal(err.msg, "tensor 1: arena plan mismatch");
    b[1] = good_out;
    b[1].offset = NML_PLAN_NONE; /* the output has no place */
    assert_int_equal(
        nml_interpreter_init_planned(&planned, &model, &ops, &plan, a2, arena_bytes, &err),
        NML_E_PLAN);
    assert_string_equal(err.msg, "tensor 1: arena plan mismatch");
    b[1] = good_out;
    b[2].size = 2; /* 32 bytes planned for 40 */
    assert_int_equal(
        nml_interpreter_init_planned(&planned, &model, &ops, &plan, a2, arena_bytes, &err),
        NML_E_PLAN);
    assert_string_equal(err.msg, "operator 0: arena plan mismatch");
    b[2] = good_scratch;
    plan.n_nodes = 2;
    assert_int_equal(
        nml_interpreter_init_planned(&planned, &model, &ops, &plan, a2, arena_bytes, &err),
        NML_E_PLAN);
    assert_string_equal(err.msg, "arena plan mismatch");
    plan.n_nodes = 1;
    assert_int_equal(
        nml_interpreter_init_planned(&planned, &model, &ops, &plan, a2, arena_bytes, &err), NML_OK);
    memset(nml_input(&planned, 0)->data, 7, 32);
    assert_int_equal(nml_invoke(&planned, &err), NML_OK);
    assert_int_equal(((const uint8_t *)nml_output(&planned, 0)->data)[31], 7);
    free(a1);
    free(a2);
    free(data);
    free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(compact_plan_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
