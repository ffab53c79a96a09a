/* Export-time arena plans (nanoml/arena_plan.h): nml_interpreter_init_planned with the plan
 * read from the planner gives the same layout (every tensor's data at the same arena offset,
 * every scratch at the same offset, the same memory figures) and the same outputs, which match
 * TensorFlow Lite Micro's reference outputs in ../shared/golden/tflm-reference; a corrupted plan
 * is refused with NML_E_PLAN (or NML_E_ARENA) naming the buffer, before anything is written
 * outside the arena (guarded arenas; under ASan the guards are poisoned). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "nanoml/arena_plan.h"
#include "nanoml/export.h"
#include "nanoml/runtime_host.h"
#include "test_util.h"
#include "tfl_builder.h"

typedef struct side {
    nml_guarded_arena arena;
    nml_interpreter it;
} side;

typedef struct pair {
    uint8_t *data;
    size_t size;
    nml_model model;
    size_t need;
    side planner, planned;
    nml_plan_buffer *buffers; /* the plan read from the planner side */
    nml_arena_plan plan;
} pair;

static void check_guards(const side *s, const char *what) {
    nml_error err;
    if (nml_guarded_arena_check(&s->arena, &err) != NML_OK) fail_msg("%s: %s", what, err.msg);
}

/* Loads a shared TFLM model, initializes it with the planner in an arena of exactly the size
 * it needs and reads its plan; the planned side gets an arena of the same size. */
static void open_pair(pair *p, const char *name) {
    char rel[256];
    nml_error err;
    memset(p, 0, sizeof *p);
    snprintf(rel, sizeof rel, "models/tflm/%s.tflite", name);
    if (nml_load_model_file(nml_test_shared(rel), &p->data, &p->size, &p->model, &err) != NML_OK)
        fail_msg("%s", err.msg);
    if (nml_arena_size(&p->model, nml_ops_all(), &p->need, &err) != NML_OK ||
        nml_guarded_arena_alloc(&p->planner.arena, p->need, &err) != NML_OK ||
        nml_guarded_arena_alloc(&p->planned.arena, p->need, &err) != NML_OK ||
        nml_interpreter_init(&p->planner.it, &p->model, nml_ops_all(), p->planner.arena.arena,
                             p->need, &err) != NML_OK)
        fail_msg("%s: %s", name, err.msg);
    uint32_t n = p->model.n_tensors + p->model.n_operators;
    p->buffers = calloc(n, sizeof *p->buffers); /* always enough */
    assert_non_null(p->buffers);
    assert_int_equal(nml_arena_plan_read(&p->planner.it, &p->plan, p->buffers, n, &err), NML_OK);
    p->plan.buffers = p->buffers;
    p->plan.variables = NULL; /* none of the TFLM models has variable tensors */
}

static nml_status init_planned(pair *p, const nml_arena_plan *plan, nml_error *err) {
    nml_error_clear(err);
    return nml_interpreter_init_planned(&p->planned.it, &p->model, nml_ops_all(), plan,
                                        p->planned.arena.arena, p->need, err);
}

static void close_pair(pair *p) {
    check_guards(&p->planner, "planner arena");
    check_guards(&p->planned, "planned arena");
    nml_guarded_arena_free(&p->planner.arena);
    nml_guarded_arena_free(&p->planned.arena);
    free(p->buffers);
    free(p->data);
}

static ptrdiff_t arena_offset(const side *s, const void *data) {
    return data ? (const uint8_t *)data - s->arena.arena : -1;
}

/* Same figures, same tensor placement, same scratch placement. */
static void check_same_layout(const pair *p, const char *name) {
    const nml_interpreter *a = &p->planner.it, *b = &p->planned.it;
    assert_int_equal(a->arena_used, b->arena_used);
    assert_int_equal(a->persistent_bytes, b->persistent_bytes);
    assert_int_equal(a->activation_bytes, b->activation_bytes);
    assert_int_equal(a->activation_min_bytes, b->activation_min_bytes);
    assert_true(a->activation_min_bytes > 0 && a->activation_min_bytes <= a->activation_bytes);
    uint32_t placed = 0, scratch = 0;
    for (uint32_t i = 0; i < a->n_tensors; i++) {
        const nml_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        if (x->alloc != y->alloc || (x->alloc == NML_ALLOC_CONST && x->data != y->data) ||
            (x->alloc != NML_ALLOC_CONST &&
             arena_offset(&p->planner, x->data) != arena_offset(&p->planned, y->data)))
            fail_msg("%s: tensor %u: alloc %d/%d, offset %td/%td", name, (unsigned)i, x->alloc,
                     y->alloc, arena_offset(&p->planner, x->data),
                     arena_offset(&p->planned, y->data));
        placed += x->alloc == NML_ALLOC_ARENA;
    }
    for (uint32_t i = 0; i < a->n_nodes; i++) {
        assert_int_equal(a->nodes[i].scratch_bytes, b->nodes[i].scratch_bytes);
        if (!a->nodes[i].scratch_bytes) continue;
        assert_int_equal(a->nodes[i].scratch_offset, b->nodes[i].scratch_offset);
        scratch++;
    }
    assert_true(placed > 0);
    print_message("%s: %u planned tensors and %u scratch buffers at the planner's offsets\n", name,
                  (unsigned)placed, (unsigned)scratch);
}

static uint8_t *read_golden(const char *model, const char *file, size_t *size) {
    char rel[512];
    snprintf(rel, sizeof rel, "golden/tflm-reference/%s/%s", model, file);
    return nml_test_read(nml_test_shared(rel), size);
}

/* TFLM's output byte for byte (float: within 1e-5). */
static void check_golden(const char *model, const char *file, const nml_tensor *out) {
    size_t size;
    uint8_t *want = read_golden(model, file, &size);
    assert_int_equal(size, out->bytes);
    if (out->type != NML_FLOAT32) {
        if (memcmp(out->data, want, size) != 0) fail_msg("%s %s differs from TFLM", model, file);
    } else {
        for (size_t i = 0; i < size / 4; i++) {
            float a, b;
            memcpy(&a, (const uint8_t *)out->data + 4 * i, 4);
            memcpy(&b, want + 4 * i, 4);
            if (!(fabsf(a - b) <= 1e-5f)) fail_msg("%s %s: element %zu differs", model, file, i);
        }
    }
    free(want);
}

static void set_inputs(side *s, const char *model, const char *suffix) {
    nml_interpreter *it = &s->it;
    for (uint32_t k = 0; k < nml_input_count(it); k++) {
        char name[300];
        if (nml_input_count(it) == 1)
            snprintf(name, sizeof name, "in_%s", suffix);
        else
            snprintf(name, sizeof name, "in%u_%s", (unsigned)k, suffix);
        size_t size;
        uint8_t *in = read_golden(model, name, &size);
        assert_int_equal(size, nml_input(it, k)->bytes);
        memcpy(nml_input(it, k)->data, in, size);
        free(in);
    }
}

/* Every golden case through both interpreters: TFLM's outputs, and the two bit-identical. */
static void run_goldens(pair *p, const char *model) {
    char rel[256];
    snprintf(rel, sizeof rel, "golden/tflm-reference/%s", model);
    DIR *dir = opendir(nml_test_shared(rel));
    assert_non_null(dir);
    int cases = 0;
    struct dirent *e;
    nml_error err;
    while ((e = readdir(dir)) != NULL) {
        if (strncmp(e->d_name, "out_", 4) != 0) continue;
        side *sides[2] = {&p->planner, &p->planned};
        for (int k = 0; k < 2; k++) {
            set_inputs(sides[k], model, e->d_name + 4);
            if (nml_invoke(&sides[k]->it, &err) != NML_OK) fail_msg("%s: %s", model, err.msg);
            check_guards(sides[k], e->d_name);
            check_golden(model, e->d_name, nml_output(&sides[k]->it, 0));
        }
        for (uint32_t o = 0; o < nml_output_count(&p->planner.it); o++) {
            const nml_tensor *a = nml_output(&p->planner.it, o), *b = nml_output(&p->planned.it, o);
            assert_int_equal(a->bytes, b->bytes);
            assert_memory_equal(a->data, b->data, a->bytes);
        }
        cases++;
    }
    closedir(dir);
    assert_true(cases > 0);
}

static void same_as_planner(const char *name) {
    pair p;
    nml_error err;
    open_pair(&p, name);
    if (init_planned(&p, &p.plan, &err) != NML_OK) fail_msg("%s: %s", name, err.msg);
    check_guards(&p.planned, "planned init");
    check_same_layout(&p, name);
    run_goldens(&p, name);
    close_pair(&p);
}

static void hello_world_float(void **state) {
    (void)state;
    same_as_planner("hello_world_float");
}
static void hello_world_int8(void **state) {
    (void)state;
    same_as_planner("hello_world_int8");
}
static void micro_speech(void **state) {
    (void)state;
    same_as_planner("micro_speech_quantized");
}
static void person_detect(void **state) {
    (void)state;
    same_as_planner("person_detect");
}
static void simple_add(void **state) {
    (void)state;
    same_as_planner("simple_add_model");
}

/* ---- corrupted plans ---- */

/* A copy of p's plan to corrupt (buffers in *copy, freed by the caller). */
static nml_arena_plan copy_plan(const pair *p, nml_plan_buffer **copy) {
    uint32_t n = p->plan.n_buffers;
    *copy = malloc(n * sizeof **copy);
    assert_non_null(*copy);
    memcpy(*copy, p->buffers, n * sizeof **copy);
    nml_arena_plan plan = p->plan;
    plan.buffers = *copy;
    return plan;
}

/* init_planned refuses plan with status and a message containing want; nothing outside the
 * arena was touched and the interpreter is not usable. */
static void expect_refused(pair *p, const nml_arena_plan *plan, nml_status status,
                           const char *want) {
    nml_error err;
    nml_status st = init_planned(p, plan, &err);
    if (st != status || !strstr(err.msg, want))
        fail_msg("got %s \"%s\", expected %s with \"%s\"", nml_status_str(st), err.msg,
                 nml_status_str(status), want);
    check_guards(&p->planned, want);
    assert_int_equal(nml_invoke(&p->planned.it, &err), NML_E_STATE);
    assert_null(nml_input(&p->planned.it, 0));
}

/* The first planned tensor that is no subgraph input or output, and its plan entry. */
static int64_t first_tensor(const pair *p, uint32_t *entry) {
    const nml_interpreter *it = &p->planner.it;
    *entry = 0;
    for (uint32_t i = 0; i < it->n_tensors; i++) {
        uint8_t alloc = it->tensors[i].alloc;
        if (alloc == NML_ALLOC_ARENA && (int32_t)i != nml_input_index(it, 0) &&
            (int32_t)i != nml_output_index(it, 0))
            return i;
        *entry += alloc == NML_ALLOC_ARENA || alloc == NML_ALLOC_NONE;
    }
    return -1;
}

/* The first operator with scratch, and its plan entry (after every activation tensor's). */
static int64_t first_scratch(const pair *p, uint32_t *entry) {
    const nml_interpreter *it = &p->planner.it;
    *entry = 0;
    for (uint32_t i = 0; i < it->n_tensors; i++)
        *entry += it->tensors[i].alloc == NML_ALLOC_ARENA || it->tensors[i].alloc == NML_ALLOC_NONE;
    for (uint32_t i = 0; i < it->n_nodes; i++)
        if (it->nodes[i].scratch_bytes) return i;
    return -1;
}

static void corrupted_plans_are_refused(void **state) {
    (void)state;
    pair p;
    char want[160];
    open_pair(&p, "person_detect");
    nml_plan_buffer *b;
    nml_arena_plan plan = copy_plan(&p, &b);
    const uint32_t nt = p.model.n_tensors, act = p.plan.activation_bytes;
    uint32_t te, se; /* the plan entries of tensor t and of operator s's scratch */
    int64_t t = first_tensor(&p, &te), s = first_scratch(&p, &se);
    assert_true(t >= 0 && s >= 0);
    const nml_plan_buffer good_t = b[te], good_s = b[se];
    const uint32_t t_bytes = p.planner.it.tensors[t].bytes,
                   s_bytes = p.planner.it.nodes[s].scratch_bytes;
    const uint32_t U = NML_PLAN_UNIT, t_off = good_t.offset * U;
    /* the planner's offsets and sizes, in units (sizes rounded up) */
    assert_int_equal(t_off, p.planner.it.tensors[t].arena_offset);
    assert_int_equal(good_t.size, (t_bytes + U - 1) / U);
    assert_int_equal(good_s.offset * U, p.planner.it.nodes[s].scratch_offset);
    assert_int_equal(good_s.size, (s_bytes + U - 1) / U);

    /* a table for another model */
    plan.n_tensors++;
    snprintf(want, sizeof want, "the plan is for %u tensors and %u operators, the model has %u",
             (unsigned)nt + 1, (unsigned)p.model.n_operators, (unsigned)nt);
    expect_refused(&p, &plan, NML_E_PLAN, want);
    plan.n_tensors--;
    plan.n_nodes = 0;
    expect_refused(&p, &plan, NML_E_PLAN, "the plan is for");
    plan.n_nodes = p.plan.n_nodes;
    plan.buffers = NULL;
    expect_refused(&p, &plan, NML_E_PLAN, "the plan is for");
    plan.buffers = b;
    expect_refused(&p, NULL, NML_E_ARG, "no arena plan");

    /* a tensor past the end of the activations */
    b[te].offset = (uint16_t)((act + U - 1) / U);
    snprintf(want, sizeof want, "tensor %u: %u bytes do not fit the plan's %u at offset %u",
             (unsigned)t, (unsigned)t_bytes, (unsigned)good_t.size * U, (unsigned)b[te].offset * U);
    expect_refused(&p, &plan, NML_E_PLAN, want);
    /* ending past them by less than a unit */
    b[te].offset = (uint16_t)((act - t_bytes) / U + 1);
    expect_refused(&p, &plan, NML_E_PLAN, "do not fit");
    /* the highest offset there is */
    b[te].offset = NML_PLAN_NONE - 1;
    expect_refused(&p, &plan, NML_E_PLAN, "do not fit");
    /* planned smaller than the tensor */
    b[te] = good_t;
    b[te].size = (uint16_t)(good_t.size - 1);
    snprintf(want, sizeof want, "tensor %u: %u bytes do not fit the plan's %u at offset %u",
             (unsigned)t, (unsigned)t_bytes, (unsigned)(good_t.size - 1) * U, (unsigned)t_off);
    expect_refused(&p, &plan, NML_E_PLAN, want);
    b[te].size = 0;
    expect_refused(&p, &plan, NML_E_PLAN, "do not fit");
    b[te] = good_t;
    /* a tensor an operator uses without a place */
    b[te].offset = NML_PLAN_NONE;
    snprintf(want, sizeof want, "tensor %u: used by operator", (unsigned)t);
    expect_refused(&p, &plan, NML_E_PLAN, want);
    b[te] = good_t;
    /* one buffer more or fewer than the model's activations and scratch requests */
    plan.n_buffers--;
    snprintf(want, sizeof want, "the plan has %u buffers, the model %u",
             (unsigned)p.plan.n_buffers - 1, (unsigned)p.plan.n_buffers);
    expect_refused(&p, &plan, NML_E_PLAN, want);
    plan.n_buffers = p.plan.n_buffers;

    /* scratch smaller than the kernel asked for, or missing */
    b[se].size = (uint16_t)(good_s.size - 1);
    snprintf(want, sizeof want, "operator %u: %u bytes do not fit the plan's %u", (unsigned)s,
             (unsigned)s_bytes, (unsigned)(good_s.size - 1) * U);
    expect_refused(&p, &plan, NML_E_PLAN, want);
    b[se].offset = NML_PLAN_NONE;
    b[se].size = good_s.size;
    expect_refused(&p, &plan, NML_E_PLAN, "do not fit");
    b[se] = good_s;

    /* activations smaller than a buffer's end */
    plan.activation_bytes = t_off + t_bytes - 1;
    expect_refused(&p, &plan, NML_E_PLAN, "do not fit");
    /* more activations than the arena holds: the exact need, as with the planner */
    plan.activation_bytes = act + 64;
    snprintf(want, sizeof want,
             "arena of %zu bytes is too small: the model needs %zu bytes (%zu persistent + %u "
             "activations)",
             p.need, p.need + 64, p.planner.it.persistent_bytes, (unsigned)act + 64);
    expect_refused(&p, &plan, NML_E_ARENA, want);
    assert_int_equal(p.planned.it.arena_used, p.need + 64);
    plan.activation_bytes = act;

    /* the repaired copy works */
    nml_error err;
    assert_int_equal(init_planned(&p, &plan, &err), NML_OK);
    free(b);
    close_pair(&p);
}

static void arena_too_small_for_tables(void **state) {
    (void)state;
    pair p;
    nml_error err;
    open_pair(&p, "hello_world_int8");
    assert_int_equal(nml_interpreter_init_planned(&p.planned.it, &p.model, nml_ops_all(), &p.plan,
                                                  p.planned.arena.arena, 64, &err),
                     NML_E_ARENA);
    assert_non_null(strstr(err.msg, "tensor and node tables alone"));
    check_guards(&p.planned, "tiny arena");
    close_pair(&p);
}

/* An operator without a kernel is refused as unsupported, naming it, before the plan or the
 * arena size matter: init reads every operator once, into the node table when the tables fit
 * and into a scratch node when they do not. */
static void unsupported_operator_before_the_arena(void **state) {
    (void)state;
    static const nml_kernel add_only = {NML_OP_ADD, "ADD", NULL, NULL, 0};
    const nml_kernel *const kernels[] = {&add_only};
    const nml_op_resolver ops = {kernels, 1};
    pair p;
    nml_error err;
    open_pair(&p, "hello_world_int8"); /* FULLY_CONNECTED only */
    const size_t sizes[] = {p.need, 64};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(nml_interpreter_init_planned(&p.planned.it, &p.model, &ops, &p.plan,
                                                      p.planned.arena.arena, sizes[i], &err),
                         NML_E_UNSUPPORTED);
        assert_string_equal(err.msg, "operator 0 (FULLY_CONNECTED): not supported");
        assert_int_equal(nml_invoke(&p.planned.it, &err), NML_E_STATE);
        check_guards(&p.planned, "unsupported operator");
    }
    close_pair(&p);
}

static void plan_read_arguments(void **state) {
    (void)state;
    pair p;
    nml_error err;
    nml_arena_plan plan;
    nml_plan_buffer one[1];
    open_pair(&p, "hello_world_int8");
    assert_int_equal(nml_arena_plan_read(&p.planner.it, &plan, one, 1, &err), NML_E_ARG);
    nml_interpreter fresh;
    memset(&fresh, 0, sizeof fresh);
    assert_int_equal(nml_arena_plan_read(&fresh, &plan, one, 1, &err), NML_E_ARG);
    close_pair(&p);
}

static nml_status copy_eval(nml_ctx *ctx, nml_node *node) {
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    memcpy(out->data, in->data, out->bytes);
    return NML_OK;
}

/* A buffer past what 16-bit units of 16 bytes reach (1 MiB) has no export-time plan. */
static void plans_reach_one_mib(void **state) {
    (void)state;
    static nml_status (*const prepare)(nml_ctx *, nml_node *, const nml_op_params *) = NULL;
    nml_kernel k = {NML_OP_ADD, "ADD", prepare, copy_eval, 0};
    const nml_kernel *slot = &k;
    nml_op_resolver ops = {&slot, 1};
    tb_model *m = tb_new();
    int32_t dims[2] = {1, 1100000}; /* a buffer past 1 MiB */
    tb_opcode(m, NML_OP_ADD);
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "in");
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "out");
    tb_add_op(m, 0, 1, (int32_t[]){0}, 1, (int32_t[]){1});
    tb_io(m, 1, (int32_t[]){0}, 1, (int32_t[]){1});
    size_t size;
    uint8_t *data = tb_build(m, &size), *arena;
    nml_model model;
    nml_interpreter it;
    nml_error err;
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    assert_int_equal(nml_interpreter_init_alloc(&it, &model, &ops, &arena, &err), NML_OK);
    assert_true(it.activation_bytes >= 2200000);
    nml_plan_buffer buffers[3];
    nml_arena_plan plan;
    assert_int_equal(nml_arena_plan_read(&it, &plan, buffers, 3, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "offsets and sizes reach 1048544 bytes"));
    free(arena);
    free(data);
    free(m);
}

/* ---- variable tensors ---- */

static nml_status ok_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)ctx, (void)node, (void)p;
    return NML_OK;
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

static void variable_tensors_need_their_code(void **state) {
    (void)state;
    nml_kernel k = {NML_OP_ADD, "ADD", ok_prepare, accumulate_eval, 0};
    const nml_kernel *slot = &k;
    nml_op_resolver ops = {&slot, 1};
    tb_model *m = tb_new();
    int32_t dims[2] = {1, 4};
    tb_opcode(m, NML_OP_ADD);
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "in");
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "out");
    int var = tb_add_tensor(m, NML_INT8, 2, dims, 0, "state");
    static const float scale[1] = {0.5f};
    static const int64_t zp[1] = {-3};
    tb_quant(m, var, 1, scale, zp, 0);
    m->tensors[var].is_variable = 1;
    tb_add_op(m, 0, 2, (int32_t[]){0, var}, 1, (int32_t[]){1});
    tb_io(m, 1, (int32_t[]){0}, 1, (int32_t[]){1});
    size_t size;
    uint8_t *data = tb_build(m, &size);
    nml_model model;
    nml_error err;
    assert_int_equal(nml_model_load(&model, data, size, &err), NML_OK);
    const size_t arena_bytes = 4096;
    uint8_t *a1 = nml_test_alloc16(arena_bytes), *a2 = nml_test_alloc16(arena_bytes);
    nml_interpreter planner, planned;
    assert_int_equal(nml_interpreter_init(&planner, &model, &ops, a1, arena_bytes, &err), NML_OK);
    nml_plan_buffer buffers[4];
    nml_arena_plan plan;
    assert_int_equal(nml_arena_plan_read(&planner, &plan, buffers, 4, &err), NML_OK);
    plan.buffers = buffers;
    assert_int_equal(plan.n_buffers, 2); /* in and out: the variable tensor has no entry */

    plan.variables = NULL; /* a plan exported for a model without variables */
    assert_int_equal(
        nml_interpreter_init_planned(&planned, &model, &ops, &plan, a2, arena_bytes, &err),
        NML_E_UNSUPPORTED);
    assert_string_equal(err.msg, "tensor 2 is a variable tensor, and the arena plan was exported "
                                 "for a model without any");
    assert_int_equal(nml_invoke(&planned, &err), NML_E_STATE);

    plan.variables = &nml_plan_variables;
    assert_int_equal(
        nml_interpreter_init_planned(&planned, &model, &ops, &plan, a2, arena_bytes, &err), NML_OK);
    const nml_tensor *v = &planned.tensors[var];
    assert_int_equal(v->alloc, NML_ALLOC_PERSIST);
    assert_int_equal((const uint8_t *)v->data - a2,
                     (const uint8_t *)planner.tensors[var].data - a1);
    assert_int_equal((int8_t)((const uint8_t *)v->data)[0], -3); /* starts at its zero point */
    assert_int_equal(nml_invoke(&planned, &err), NML_OK);
    assert_int_equal(nml_invoke(&planned, &err), NML_OK);
    assert_int_equal((int8_t)((uint8_t *)nml_output(&planned, 0)->data)[3], -1); /* -3 + 2 */
    assert_int_equal(planned.arena_used, planner.arena_used);
    free(a1);
    free(a2);
    free(data);
    free(m);
}

/* ---- the export ---- */

static void export_writes_the_plan(void **state) {
    (void)state;
    size_t size;
    uint8_t *data =
        nml_test_read(nml_test_shared("models/tflm/micro_speech_quantized.tflite"), &size);
    nml_model_info info;
    nml_error err;
    assert_int_equal(nml_model_info_analyze(&info, data, size, &err), NML_OK);
    assert_non_null(info.plan);
    assert_int_equal(info.n_variables, 0);
    assert_true(info.plan_min_bytes > 0 && info.plan_min_bytes <= info.plan_activation_bytes);
    assert_int_equal(info.plan_activation_bytes, info.activation_bytes);
    nml_export_options o = {0};
    o.plan_at_export = 1;
    char *h, *c, line[256];
    assert_int_equal(nml_export_sources(&info, data, size, "ms", &o, &h, &c, &err), NML_OK);
    snprintf(line, sizeof line, "#define MS_PLAN_ACTIVATION_BYTES %uu\n",
             (unsigned)info.plan_activation_bytes);
    assert_non_null(strstr(h, line));
    assert_non_null(strstr(h, "#include \"nanoml/arena_plan.h\""));
    assert_non_null(strstr(h, "extern const nml_arena_plan ms_arena_plan;"));
    snprintf(line, sizeof line,
             "const nml_arena_plan ms_arena_plan = {\n"
             "    .n_tensors = %uu, .n_nodes = %uu, .activation_bytes = %uu,\n"
             "    .activation_min_bytes = %uu, .n_buffers = %uu,",
             (unsigned)info.plan_tensors, (unsigned)info.n_nodes,
             (unsigned)info.plan_activation_bytes, (unsigned)info.plan_min_bytes,
             (unsigned)info.plan_buffers);
    assert_non_null(strstr(c, line));
    assert_non_null(strstr(c, "0 /* no variable tensors */"));
    free(h);
    free(c);
    /* without the option nothing of it */
    o.plan_at_export = 0;
    assert_int_equal(nml_export_sources(&info, data, size, "ms", &o, &h, &c, &err), NML_OK);
    assert_null(strstr(h, "arena_plan"));
    assert_null(strstr(c, "arena_plan"));
    free(h);
    free(c);
    /* the xxd format cannot carry one */
    o.plan_at_export = 1;
    o.format = NML_EXPORT_XXD;
    assert_int_equal(nml_export_sources(&info, data, size, "ms", &o, &h, &c, &err),
                     NML_E_UNSUPPORTED);
    nml_model_info_free(&info);
    free(data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hello_world_float),
        cmocka_unit_test(hello_world_int8),
        cmocka_unit_test(micro_speech),
        cmocka_unit_test(person_detect),
        cmocka_unit_test(simple_add),
        cmocka_unit_test(corrupted_plans_are_refused),
        cmocka_unit_test(arena_too_small_for_tables),
        cmocka_unit_test(unsupported_operator_before_the_arena),
        cmocka_unit_test(plan_read_arguments),
        cmocka_unit_test(plans_reach_one_mib),
        cmocka_unit_test(variable_tensors_need_their_code),
        cmocka_unit_test(export_writes_the_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
