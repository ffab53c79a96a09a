/* Variable tensors in the loader and the interpreter, and the same compiled with
 * NML_NO_VARIABLES (test_novariables_switch: model.c and interpreter.c compiled as `nanoml
 * deploy` compiles them for a model without variable tensors): there a variable tensor is
 * refused at load with a status and where, and a model without one loads and runs as before. */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "nanoml/runtime.h"
#include "test_util.h"
#include "tfl_builder.h"

/* out[i] = in[i] + 1, and the variable (input 1, when there is one) counts the invokes */
static nml_status count_eval(nml_ctx *ctx, nml_node *node) {
    const int8_t *in = nml_node_input(ctx, node, 0)->data;
    int8_t *out = nml_node_output(ctx, node, 0)->data;
    for (int i = 0; i < 4; i++)
        out[i] = (int8_t)(in[i] + 1);
    if (node->n_inputs > 1) ((int8_t *)nml_node_input(ctx, node, 1)->data)[0]++;
    return NML_OK;
}

static const nml_kernel count_k = {NML_OP_ADD, "ADD", NULL, count_eval};
static const nml_kernel *const table[] = {&count_k};
static const nml_op_resolver ops = {table, 1};

/* in(int8 1x4) -> ADD -> out(int8 1x4); with_var: a variable int8 1x4 (zero point 5) as input 1 */
static uint8_t *build(int with_var, size_t *size) {
    tb_model *m = tb_new();
    int32_t dims[2] = {1, 4};
    tb_opcode(m, NML_OP_ADD);
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "in");
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "out");
    int var = tb_add_tensor(m, NML_INT8, 2, dims, 0, "state");
    static const float scale[1] = {0.25f};
    static const int64_t zp[1] = {5};
    tb_quant(m, var, 1, scale, zp, 0);
    m->tensors[var].is_variable = (uint8_t)with_var;
    tb_add_op(m, 0, with_var ? 2 : 1, (int32_t[]){0, var}, 1, (int32_t[]){1});
    tb_io(m, 1, (int32_t[]){0}, 1, (int32_t[]){1});
    uint8_t *data = tb_build(m, size); /* 16-byte aligned, exactly *size bytes */
    free(m);
    assert_non_null(data);
    return data;
}

static void model_without_variables_runs(void **state) {
    (void)state;
    size_t size;
    uint8_t *data = build(0, &size);
    nml_model model;
    nml_error err;
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    static _Alignas(16) uint8_t arena[16384];
    nml_interpreter it;
    assert_int_equal(nml_interpreter_init(&it, &model, &ops, arena, sizeof arena, &err), NML_OK);
    memcpy(nml_input(&it, 0)->data, (const int8_t[]){-3, 0, 7, 126}, 4);
    assert_int_equal(nml_invoke(&it, &err), NML_OK);
    const int8_t want[4] = {-2, 1, 8, 127};
    assert_memory_equal(nml_output(&it, 0)->data, want, 4);
    free(data);
}

static void variable_tensor(void **state) {
    (void)state;
    size_t size;
    uint8_t *data = build(1, &size);
    nml_model model;
    nml_error err;
    nml_error_clear(&err);
    nml_status st = nml_model_load(&model, data, size, &err);
#ifdef NML_NO_VARIABLES
    assert_int_equal(st, NML_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "tensor 2: variable tensor, but this runtime was compiled"));
#else
    assert_int_equal(st, NML_OK);
    static _Alignas(16) uint8_t arena[16384];
    nml_interpreter it;
    assert_int_equal(nml_interpreter_init(&it, &model, &ops, arena, sizeof arena, &err), NML_OK);
    const nml_tensor *v = &it.tensors[2];
    assert_int_equal(v->alloc, NML_ALLOC_PERSIST);
    assert_int_equal(((const int8_t *)v->data)[0], 5); /* reset to its zero point */
    assert_int_equal(nml_invoke(&it, &err), NML_OK);
    assert_int_equal(nml_invoke(&it, &err), NML_OK);
    assert_int_equal(((const int8_t *)v->data)[0], 7); /* kept across invokes: 5 + 2 */
#endif
    free(data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_without_variables_runs),
        cmocka_unit_test(variable_tensor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
