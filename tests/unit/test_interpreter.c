/* Interpreter behaviour around the plan: unsupported operators, argument and state errors,
 * kernel failures, the per-node hook, variable tensors and graph validity. Fake kernels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "nanoml/runtime_host.h"
#include "test_util.h"
#include "tfl_builder.h"

static nml_status ok_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)ctx, (void)node, (void)p;
    return NML_OK;
}

static nml_status copy_eval(nml_ctx *ctx, nml_node *node) {
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    memcpy(out->data, in->data, out->bytes < in->bytes ? out->bytes : in->bytes);
    return NML_OK;
}

static nml_status failing_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    return nml_kernel_fail(ctx, node, NML_E_SHAPE, "input 0 shape 1x4 does not fit");
}

static nml_status silent_failing_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)ctx, (void)node, (void)p;
    return NML_E_UNSUPPORTED;
}

static nml_status hungry_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)node, (void)p;
    return nml_ctx_alloc_persistent(ctx, 100000) ? NML_OK : NML_E_ARENA;
}

static nml_status failing_eval(nml_ctx *ctx, nml_node *node) {
    return nml_kernel_fail(ctx, node, NML_E_INTERNAL, "boom");
}

/* Adds 1 to every byte of the variable tensor (input 1) and copies it to the output. */
static nml_status accumulate_eval(nml_ctx *ctx, nml_node *node) {
    nml_tensor *var = nml_node_input(ctx, node, 1), *out = nml_node_output(ctx, node, 0);
    uint8_t *v = var->data;
    for (uint32_t i = 0; i < var->bytes; i++)
        v[i]++;
    memcpy(out->data, var->data, out->bytes);
    return NML_OK;
}

static nml_kernel add_k = {NML_OP_ADD, "ADD", ok_prepare, copy_eval};

static nml_op_resolver one(const nml_kernel **slot, const nml_kernel *k) {
    *slot = k;
    nml_op_resolver r = {slot, 1};
    return r;
}

/* in(int8 1x4) -> OP -> out(int8 1x4) */
static tb_model *single_op(int32_t builtin) {
    tb_model *m = tb_new();
    int32_t dims[2] = {1, 4};
    tb_opcode(m, builtin);
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "in");
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "out");
    tb_add_op(m, 0, 1, (int32_t[]){0}, 1, (int32_t[]){1});
    tb_io(m, 1, (int32_t[]){0}, 1, (int32_t[]){1});
    return m;
}

typedef struct fixture {
    uint8_t *data;
    size_t size;
    nml_model model;
    uint8_t *arena;
    nml_interpreter it;
    nml_error err;
} fixture;

#define ARENA (64u << 10)

static void load(fixture *f, tb_model *m) {
    memset(f, 0, sizeof *f);
    f->data = tb_build(m, &f->size);
    if (nml_model_load(&f->model, f->data, f->size, &f->err) != NML_OK) fail_msg("%s", f->err.msg);
    f->arena = nml_test_alloc16(ARENA);
}

static nml_status init(fixture *f, const nml_op_resolver *ops) {
    nml_error_clear(&f->err);
    return nml_interpreter_init(&f->it, &f->model, ops, f->arena, ARENA, &f->err);
}

static void done(fixture *f, tb_model *m) {
    free(f->arena);
    free(f->data);
    free(m);
}

static void unsupported_operators_are_named(void **state) {
    (void)state;
    const nml_kernel *slot;
    nml_op_resolver ops = one(&slot, &add_k);
    fixture f;
    tb_model *m = single_op(NML_OP_RESIZE_BILINEAR);
    load(&f, m);
    assert_int_equal(init(&f, &ops), NML_E_UNSUPPORTED);
    assert_string_equal(f.err.msg, "operator 0 (RESIZE_BILINEAR): not supported");
    done(&f, m);

    m = single_op(66); /* SIN: a builtin nanoml has no name for */
    load(&f, m);
    assert_int_equal(init(&f, &ops), NML_E_UNSUPPORTED);
    assert_string_equal(f.err.msg, "operator 0 (builtin 66): not supported");
    /* reported even when the arena is far too small */
    assert_int_equal(nml_interpreter_init(&f.it, &f.model, &ops, f.arena, 16, &f.err),
                     NML_E_UNSUPPORTED);
    done(&f, m);

    /* the full table reports what it lacks the same way */
    m = single_op(66);
    load(&f, m);
    assert_int_equal(init(&f, nml_ops_all()), NML_E_UNSUPPORTED);
    assert_string_equal(f.err.msg, "operator 0 (builtin 66): not supported");
    done(&f, m);
}

static void argument_and_state_errors(void **state) {
    (void)state;
    const nml_kernel *slot;
    nml_op_resolver ops = one(&slot, &add_k);
    fixture f;
    tb_model *m = single_op(NML_OP_ADD);
    load(&f, m);
    nml_interpreter fresh;
    memset(&fresh, 0, sizeof fresh);
    assert_int_equal(nml_invoke(&fresh, &f.err), NML_E_STATE);
    assert_non_null(strstr(f.err.msg, "not initialized"));
    assert_int_equal(nml_invoke(NULL, &f.err), NML_E_STATE);
    assert_null(nml_input(&fresh, 0));
    assert_int_equal(nml_input_count(&fresh), 0);

    assert_int_equal(nml_interpreter_init(&f.it, &f.model, &ops, f.arena + 8, ARENA - 8, &f.err),
                     NML_E_ARG);
    assert_non_null(strstr(f.err.msg, "16-byte aligned"));
    nml_model unloaded;
    memset(&unloaded, 0, sizeof unloaded);
    assert_int_equal(nml_interpreter_init(&f.it, &unloaded, &ops, f.arena, ARENA, &f.err),
                     NML_E_ARG);
    assert_int_equal(nml_interpreter_init(&f.it, &f.model, NULL, f.arena, ARENA, &f.err),
                     NML_E_ARG);

    assert_int_equal(init(&f, &ops), NML_OK);
    assert_int_equal(nml_input_count(&f.it), 1);
    assert_int_equal(nml_output_count(&f.it), 1);
    assert_int_equal(nml_input_index(&f.it, 0), 0);
    assert_int_equal(nml_output_index(&f.it, 0), 1);
    assert_null(nml_input(&f.it, 1));
    assert_int_equal(nml_node_builtin(&f.it, 0), NML_OP_ADD);
    assert_string_equal(nml_node_name(&f.it, 0), "ADD");
    memcpy(nml_input(&f.it, 0)->data, "\x01\x02\x03\x04", 4);
    assert_int_equal(nml_invoke(&f.it, &f.err), NML_OK);
    assert_memory_equal(nml_output(&f.it, 0)->data, "\x01\x02\x03\x04", 4);

    /* a failed init leaves the interpreter unusable */
    assert_int_equal(nml_interpreter_init(&f.it, &f.model, &ops, f.arena, 32, &f.err), NML_E_ARENA);
    assert_int_equal(nml_invoke(&f.it, &f.err), NML_E_STATE);
    assert_null(nml_output(&f.it, 0));
    done(&f, m);
}

static void kernel_failures_name_the_operator(void **state) {
    (void)state;
    const nml_kernel *slot;
    fixture f;
    tb_model *m = single_op(NML_OP_ADD);
    load(&f, m);
    nml_kernel k = {NML_OP_ADD, "ADD", failing_prepare, copy_eval};
    nml_op_resolver ops = one(&slot, &k);
    assert_int_equal(init(&f, &ops), NML_E_SHAPE);
    assert_string_equal(f.err.msg, "operator 0: ADD: input 0 shape 1x4 does not fit");

    k.prepare = silent_failing_prepare;
    assert_int_equal(init(&f, &ops), NML_E_UNSUPPORTED);
    assert_string_equal(f.err.msg, "operator 0 (ADD): prepare failed (unsupported)");

    k.prepare = ok_prepare;
    k.eval = failing_eval;
    assert_int_equal(init(&f, &ops), NML_OK);
    assert_int_equal(nml_invoke(&f.it, &f.err), NML_E_INTERNAL);
    assert_string_equal(f.err.msg, "operator 0: ADD: boom");

    /* persistent data that does not fit: a lower bound including it */
    k.prepare = hungry_prepare;
    assert_int_equal(init(&f, &ops), NML_E_ARENA);
    assert_non_null(strstr(f.err.msg, "needs at least"));
    assert_non_null(strstr(f.err.msg, "persistent data of operator 0 (ADD) does not fit"));
    assert_true(f.it.arena_used > 100000);
    size_t need;
    assert_int_equal(nml_arena_size(&f.model, &ops, &need, &f.err), NML_OK);
    assert_true(need >= f.it.arena_used);
    uint8_t *arena;
    assert_int_equal(nml_interpreter_init_alloc(&f.it, &f.model, &ops, &arena, &f.err), NML_OK);
    assert_int_equal(f.it.arena_used, need);
    assert_int_equal(f.it.arena_size, need);
    free(arena);
    done(&f, m);
}

static uint32_t hook_calls[8];
static int n_hook_calls;
static void hook(void *user, uint32_t node) {
    assert_ptr_equal(user, hook_calls);
    hook_calls[n_hook_calls++] = node;
}

static void hook_runs_after_each_node(void **state) {
    (void)state;
    const nml_kernel *slot;
    nml_op_resolver ops = one(&slot, &add_k);
    tb_model *m = tb_new();
    int32_t dims[1] = {8};
    tb_opcode(m, NML_OP_ADD);
    for (int i = 0; i < 4; i++)
        tb_add_tensor(m, NML_INT8, 1, dims, 0, NULL);
    for (int i = 0; i < 3; i++)
        tb_add_op(m, 0, 1, (int32_t[]){i}, 1, (int32_t[]){i + 1});
    tb_io(m, 1, (int32_t[]){0}, 1, (int32_t[]){3});
    fixture f;
    load(&f, m);
    f.it.on_node_done = hook; /* set before init: init clears it (the struct may be garbage) */
    assert_int_equal(init(&f, &ops), NML_OK);
    assert_null(f.it.on_node_done);
    f.it.on_node_done = hook;
    f.it.hook_user = hook_calls;
    n_hook_calls = 0;
    assert_int_equal(nml_invoke(&f.it, &f.err), NML_OK);
    assert_int_equal(n_hook_calls, 3);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(hook_calls[i], i);
    done(&f, m);
}

static void variable_tensors_persist(void **state) {
    (void)state;
    const nml_kernel *slot;
    nml_kernel k = {NML_OP_ADD, "ADD", ok_prepare, accumulate_eval};
    nml_op_resolver ops = one(&slot, &k);
    tb_model *m = single_op(NML_OP_ADD);
    int32_t dims[2] = {1, 4};
    int var = tb_add_tensor(m, NML_INT8, 2, dims, 0, "state");
    static const float scale[1] = {0.5f};
    static const int64_t zp[1] = {-3};
    tb_quant(m, var, 1, scale, zp, 0);
    m->tensors[var].is_variable = 1;
    m->ops[0].n_in = 2;
    m->ops[0].in[1] = var;
    fixture f;
    load(&f, m);
    assert_int_equal(init(&f, &ops), NML_OK);
    nml_tensor *v = &f.it.tensors[var];
    assert_int_equal(v->alloc, NML_ALLOC_PERSIST);
    const uint8_t *d = v->data;
    assert_true(d >= f.arena && d + 4 <= f.arena + f.it.persistent_bytes);
    assert_int_equal((int8_t)d[0], -3); /* starts at its zero point */
    assert_int_equal(nml_invoke(&f.it, &f.err), NML_OK);
    assert_int_equal(nml_invoke(&f.it, &f.err), NML_OK);
    assert_int_equal((int8_t)((uint8_t *)nml_output(&f.it, 0)->data)[3], -1); /* -3 + 2 */
    done(&f, m);
}

static void invalid_graphs(void **state) {
    (void)state;
    const nml_kernel *slot;
    nml_op_resolver ops = one(&slot, &add_k);
    fixture f;

    /* op 0 reads tensor 2, which only op 1 writes */
    tb_model *m = tb_new();
    int32_t dims[1] = {4};
    tb_opcode(m, NML_OP_ADD);
    for (int i = 0; i < 3; i++)
        tb_add_tensor(m, NML_INT8, 1, dims, 0, NULL);
    tb_add_op(m, 0, 2, (int32_t[]){0, 2}, 1, (int32_t[]){1});
    tb_add_op(m, 0, 1, (int32_t[]){1}, 1, (int32_t[]){2});
    tb_io(m, 1, (int32_t[]){0}, 1, (int32_t[]){2});
    load(&f, m);
    assert_int_equal(init(&f, &ops), NML_E_FORMAT);
    assert_string_equal(f.err.msg,
                        "operator 0: input 1 (tensor 2) is read before any operator writes it");
    done(&f, m);

    /* a graph output nothing writes */
    m = single_op(NML_OP_ADD);
    tb_add_tensor(m, NML_INT8, 1, dims, 0, "orphan");
    m->n_outputs = 2;
    m->outputs[1] = 2;
    load(&f, m);
    assert_int_equal(init(&f, &ops), NML_E_FORMAT);
    assert_string_equal(f.err.msg, "subgraph output 1 (tensor 2) is never written");
    done(&f, m);

    /* a constant graph input */
    static const int8_t four[4] = {1, 2, 3, 4};
    m = single_op(NML_OP_ADD);
    m->tensors[0].buffer = (uint32_t)tb_buffer(m, four, 4);
    load(&f, m);
    assert_int_equal(init(&f, &ops), NML_E_FORMAT);
    assert_string_equal(f.err.msg, "subgraph input 0 (tensor 0) is a constant tensor");
    done(&f, m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unsupported_operators_are_named),
        cmocka_unit_test(argument_and_state_errors),
        cmocka_unit_test(kernel_failures_name_the_operator),
        cmocka_unit_test(hook_runs_after_each_node),
        cmocka_unit_test(variable_tensors_persist),
        cmocka_unit_test(invalid_graphs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
