/* The interpreter: arena layout, kernel lookup and prepare, planning (or an export-time plan),
 * invoke.
 *
 * Arena layout (every part 16-byte aligned):
 *   [tensor table][node table][kernel context][variable tensors][kernel persistent data]
 *   [activations and scratch, as planned]
 * The persistent part is laid out before the planner runs, so the plan never depends on the
 * arena size: the same model always needs the same number of bytes, and the size reported
 * after a too-small arena is exact whenever the persistent part fits. */
#include <string.h>

#include "kernel.h"
#include "nanoml/arena_plan.h"
#include "outline.h"
#include "planner.h"

#define ALIGN 16u

/* Arena byte counts are size_t and saturate at SIZE_MAX instead of wrapping: a 32-bit target
 * then does 32-bit arithmetic, and a sum past 4 GiB (a hostile model) still reads as more than
 * any arena holds. */
NML_OUTLINE static size_t add_sat(size_t a, size_t b) {
    return b > SIZE_MAX - a ? SIZE_MAX : a + b;
}

NML_OUTLINE static size_t align16(size_t x) {
    return x > SIZE_MAX - (ALIGN - 1) ? SIZE_MAX : (x + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

static int same_str(const char *a, const char *b) {
    if (!a || !b) return 0;
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

const struct nml_kernel *nml_resolver_find(const nml_op_resolver *ops, int32_t builtin,
                                           const char *custom_code) {
    if (!ops || !ops->kernels) return NULL;
    for (uint32_t i = 0; i < ops->count; i++) {
        const nml_kernel *k = ops->kernels[i];
        if (!k || k->builtin != builtin) continue;
#ifdef NML_NO_CUSTOM_OPS
        /* firmware for a model without custom operators (`nanoml deploy`): no name matching is
         * compiled, and a custom operator finds no kernel, so read_node refuses it as not
         * supported (as a resolver without custom kernels does) */
        (void)custom_code;
        if (builtin == NML_OP_CUSTOM) return NULL;
#else
        if (builtin == NML_OP_CUSTOM && !same_str(k->name, custom_code)) continue;
#endif
        return k;
    }
    return NULL;
}

/* "CONV_2D", or "builtin 66" or "CUSTOM name" formatted into buf. */
static const char *op_label(char *buf, size_t cap, const nml_model_op *op) {
    const char *name = nml_op_name(op->builtin);
    if (op->builtin == NML_OP_CUSTOM)
        nml_format(buf, cap, "CUSTOM %s", op->custom_code ? op->custom_code : "(no code)");
    else if (same_str(name, "UNKNOWN"))
        nml_format(buf, cap, "builtin %d", (int)op->builtin);
    else
        return name;
    return buf;
}

static nml_status arena_too_small(nml_interpreter *it, size_t need, int exact, const char *why,
                                  nml_error *err) {
    it->arena_used = need;
    if (exact)
        return nml_fail(err, NML_E_ARENA,
                        "arena of %zu bytes is too small: the model needs %zu bytes (%zu "
                        "persistent + %zu activations)",
                        it->arena_size, need, it->persistent_bytes,
                        it->activation_bytes);
    return nml_fail(err, NML_E_ARENA,
                    "arena of %zu bytes is too small: needs at least %zu "
                    "bytes (%s)",
                    it->arena_size, need, why);
}

/* Node i: operator i of the model and its kernel, which it must have. */
static nml_status read_node(const nml_model *m, const nml_op_resolver *ops, uint32_t i,
                            nml_node *n, nml_error *err) {
    nml_model_op op;
    char label[64];
    NML_TRY(nml_model_operator(m, i, &op, err));
    memset(n, 0, sizeof *n);
    n->kernel = nml_resolver_find(ops, op.builtin, op.custom_code);
    if (!n->kernel)
        return nml_fail(err, NML_E_UNSUPPORTED, "operator %lu (%s): not supported",
                        (unsigned long)i, op_label(label, sizeof label, &op));
    n->inputs = op.inputs;
    n->outputs = op.outputs;
    n->n_inputs = op.n_inputs;
    n->n_outputs = op.n_outputs;
    n->builtin = op.builtin;
    n->index = i;
    n->op_table = op.table;
    return NML_OK;
}

/* Every operator must have a kernel. Checked before anything touches the arena, so an
 * unsupported operator is reported whatever the arena size. */
static nml_status check_supported(const nml_model *m, const nml_op_resolver *ops, nml_error *err) {
    nml_node n;
    for (uint32_t i = 0; i < m->n_operators; i++)
        NML_TRY(read_node(m, ops, i, &n, err));
    return NML_OK;
}

NML_SETUP_INLINE nml_status build_tensors(nml_interpreter *it, nml_error *err) {
    for (uint32_t i = 0; i < it->n_tensors; i++)
        NML_TRY(nml_model_tensor(it->model, i, &it->tensors[i], err));
    return NML_OK;
}

NML_SETUP_INLINE nml_status build_nodes(nml_interpreter *it, nml_error *err) {
    for (uint32_t i = 0; i < it->n_nodes; i++)
        NML_TRY(read_node(it->model, it->ops, i, &it->nodes[i], err));
    return NML_OK;
}

/* Every operator must have a kernel: read into the node table when the tables fit the arena,
 * else into a scratch node, so that an unsupported operator is reported whatever the arena size
 * (and before any malformed tensor). One loop for both, for the planned init: there a separate
 * check pass reading every operator twice costs firmware 40 B and init time (init() keeps two
 * passes, which are smaller there). */
NML_SETUP_INLINE nml_status read_nodes(const nml_model *m, const nml_op_resolver *ops,
                                       nml_node *table, nml_error *err) {
    nml_node scratch;
    for (uint32_t i = 0; i < m->n_operators; i++)
        NML_TRY(read_node(m, ops, i, table ? &table[i] : &scratch, err));
    return NML_OK;
}

/* Variable tensors get their own region right after the tables. */
NML_SETUP_INLINE size_t place_variables(nml_interpreter *it, size_t off) {
#ifdef NML_NO_VARIABLES /* the loader refused variable tensors: none to place */
    (void)it;
    return off;
#endif
    for (uint32_t i = 0; i < it->n_tensors; i++) {
        nml_tensor *t = &it->tensors[i];
        if (t->alloc != NML_ALLOC_PERSIST) continue;
        off = align16(off);
        size_t end = add_sat(off, t->bytes);
        if (end <= it->arena_size) t->data = it->arena + off;
        off = end;
    }
    return off;
}

/* Variables start at the zero point like TFLite Micro's reset (int8), zero otherwise. */
NML_SETUP_INLINE void reset_variables(nml_interpreter *it) {
#ifdef NML_NO_VARIABLES /* the loader refused variable tensors: none to reset */
    (void)it;
    return;
#endif
    for (uint32_t i = 0; i < it->n_tensors; i++) {
        nml_tensor *t = &it->tensors[i];
        if (t->alloc != NML_ALLOC_PERSIST || !t->data) continue;
        int value = t->type == NML_INT8 ? (int)(uint8_t)(int8_t)t->zero_point : 0;
        memset(t->data, value, t->bytes);
    }
}

static nml_status failed_in_node(nml_error *err, nml_status st, const nml_node *n,
                                 const char *stage) {
    if (err && err->msg[0] && err->status == st)
        return nml_error_prefix(err, "operator %lu: ", (unsigned long)n->index);
    nml_fail(err, st, "operator %lu (%s): %s failed (%s)", (unsigned long)n->index,
             nml_op_name(n->builtin), stage, nml_status_str(st));
    /* compact errors: the message above is the status's name alone; say where */
    if (!NML_ERROR_DETAIL && err) nml_error_prefix(err, "operator %lu: ", (unsigned long)n->index);
    return st;
}

NML_SETUP_INLINE nml_status prepare_nodes(nml_interpreter *it, nml_ctx *ctx, size_t persist_start,
                                          nml_error *err) {
    char why[96];
    nml_node *n = it->nodes; /* = &it->nodes[i]: no multiply per node */
    for (uint32_t i = 0; i < it->n_nodes; i++, n++) {
        nml_op_params params;
        NML_TRY(nml_model_op_params(it->model, i, &params, err));
        nml_error_clear(err);
        nml_status st = n->kernel->prepare ? n->kernel->prepare(ctx, n, &params) : NML_OK;
        if (ctx->persist_needed > ctx->persist_cap) {
            if (NML_ERROR_DETAIL)
                nml_format(why, sizeof why, "persistent data of operator %lu (%s) does not fit",
                           (unsigned long)i, nml_op_name(n->builtin));
            return arena_too_small(it, add_sat(persist_start, ctx->persist_needed), 0, why, err);
        }
        if (st != NML_OK) return failed_in_node(err, st, n, "prepare");
    }
    return NML_OK;
}

NML_SETUP_INLINE nml_status check_args(nml_interpreter *it, const nml_model *model,
                                       const nml_op_resolver *ops, void *arena, nml_error *err) {
    if (!it) return nml_fail(err, NML_E_ARG, "no interpreter");
    if (!model || !model->data || !model->model_table)
        return nml_fail(err, NML_E_ARG, "model is not loaded (call nml_model_load first)");
    if (!ops) return nml_fail(err, NML_E_ARG, "no operator resolver");
    if (!arena) return nml_fail(err, NML_E_ARG, "no arena");
    if ((uintptr_t)arena % ALIGN)
        return nml_fail(err, NML_E_ARG, "arena at %p is not 16-byte aligned", arena);
    return NML_OK;
}

static nml_status init(nml_interpreter *it, nml_error *err) {
    const nml_model *m = it->model;
    /* two passes here, the check and then the table: read_nodes' one pass makes firmware
     * without an export-time plan larger (measured, RV32 LTO -Os: 30 B) */
    NML_TRY(check_supported(m, it->ops, err));

    /* at most NML_MAX_TENSORS and NML_MAX_OPERATORS entries: a few MiB, no overflow */
    size_t tensors_at = 0;
    size_t nodes_at = align16(tensors_at + (size_t)m->n_tensors * sizeof(nml_tensor));
    size_t ctx_at = align16(nodes_at + (size_t)m->n_operators * sizeof(nml_node));
    size_t tables_end = align16(ctx_at + sizeof(nml_ctx));
    if (tables_end > it->arena_size)
        return arena_too_small(it, tables_end, 0, "tensor and node tables alone", err);
    it->tensors = (nml_tensor *)(void *)(it->arena + tensors_at);
    it->nodes = (nml_node *)(void *)(it->arena + nodes_at);
    it->ctx = (nml_ctx *)(void *)(it->arena + ctx_at);
    it->n_tensors = m->n_tensors;
    it->n_nodes = m->n_operators;
    NML_TRY(build_tensors(it, err));
    NML_TRY(build_nodes(it, err));
    NML_TRY(nml_plan_lifetimes(m, it->tensors, it->n_tensors, it->nodes, it->n_nodes, err));

    size_t persist_start = align16(place_variables(it, tables_end));
    if (persist_start > it->arena_size)
        return arena_too_small(it, persist_start, 0, "tables and variable tensors", err);
    nml_ctx *ctx = it->ctx;
    memset(ctx, 0, sizeof *ctx);
    ctx->tensors = it->tensors;
    ctx->n_tensors = it->n_tensors;
    ctx->err = err;
    ctx->persist_base = it->arena + persist_start;
    ctx->persist_cap = it->arena_size - persist_start;
    NML_TRY(prepare_nodes(it, ctx, persist_start, err));

    size_t act_start = align16(persist_start + ctx->persist_used); /* both within the arena */
    uint32_t act_bytes, act_min; /* the planner's offsets are 32-bit */
    /* views share their input's buffer: marked first, so that neither the work memory nor the
     * plan counts them, and placed after planning */
    nml_plan_aliases(it->tensors, it->n_tensors, it->nodes, it->n_nodes);
    /* the planner borrows the start of the (still unused) activation region for its list */
    size_t work_end =
        add_sat(act_start, nml_plan_work_bytes(it->tensors, it->n_tensors, it->nodes, it->n_nodes));
    if (work_end > it->arena_size)
        return arena_too_small(it, work_end, 0, "temporary space for planning", err);
    const size_t work = work_end - act_start;
    NML_TRY(nml_plan_offsets(it->tensors, it->n_tensors, it->nodes, it->n_nodes,
                             (uint32_t *)(void *)(it->arena + act_start), &act_bytes, &act_min,
                             err));
    /* tiny activations: the list still had to fit */
    if (act_bytes < work) act_bytes = (uint32_t)work;
    nml_plan_resolve_aliases(it->tensors, it->n_tensors);
    it->persistent_bytes = act_start;
    it->activation_bytes = act_bytes;
    it->activation_min_bytes = act_min;
    size_t need = add_sat(act_start, act_bytes);
    if (need > it->arena_size) return arena_too_small(it, need, 1, NULL, err);
    it->arena_used = need;

    uint8_t *act = it->arena + act_start;
    for (uint32_t i = 0; i < it->n_tensors; i++)
        if (it->tensors[i].alloc == NML_ALLOC_ARENA)
            it->tensors[i].data = act + it->tensors[i].arena_offset;
    ctx->scratch_base = act;
    ctx->err = NULL;
    reset_variables(it);
    return NML_OK;
}

/* ---- init with an export-time plan (nanoml/arena_plan.h): nothing here reaches the planner */

/* The steps of init() without its planning. init() keeps them in one body: split into these
 * functions it costs the firmware ~50 bytes more (measured, RV32 -Os), and firmware without
 * an export-time plan should not pay for it. The helpers both paths call are NML_SETUP_INLINE,
 * so that each has the code it would have alone. */

/* Kernel lookup and the tensor and node tables at the start of the arena. While init lays out
 * the persistent part, it->persistent_bytes is where it ends so far: here the tables' end. */
static nml_status init_tables(nml_interpreter *it, nml_error *err) {
    const nml_model *m = it->model;

    /* at most NML_MAX_TENSORS and NML_MAX_OPERATORS entries: a few MiB, no overflow */
    size_t tensors_at = 0;
    size_t nodes_at = align16(tensors_at + (size_t)m->n_tensors * sizeof(nml_tensor));
    size_t ctx_at = align16(nodes_at + (size_t)m->n_operators * sizeof(nml_node));
    size_t tables_end = align16(ctx_at + sizeof(nml_ctx));
    const int fits = tables_end <= it->arena_size;
    NML_TRY(read_nodes(m, it->ops, fits ? (nml_node *)(void *)(it->arena + nodes_at) : NULL, err));
    if (!fits) return arena_too_small(it, tables_end, 0, "tensor and node tables alone", err);
    it->persistent_bytes = tables_end;
    it->tensors = (nml_tensor *)(void *)(it->arena + tensors_at);
    it->nodes = (nml_node *)(void *)(it->arena + nodes_at);
    it->ctx = (nml_ctx *)(void *)(it->arena + ctx_at);
    it->n_tensors = m->n_tensors;
    it->n_nodes = m->n_operators;
    return build_tensors(it, err);
}

/* Every kernel's prepare and persistent data after the tables and variable tensors (which end
 * at vars_end); it->persistent_bytes then is where the activation region begins. */
static nml_status init_persistent(nml_interpreter *it, size_t vars_end, nml_error *err) {
    size_t persist_start = align16(vars_end);
    if (persist_start > it->arena_size)
        return arena_too_small(it, persist_start, 0, "tables and variable tensors", err);
    nml_ctx *ctx = it->ctx;
    memset(ctx, 0, sizeof *ctx);
    ctx->tensors = it->tensors;
    ctx->n_tensors = it->n_tensors;
    ctx->err = err;
    ctx->persist_base = it->arena + persist_start;
    ctx->persist_cap = it->arena_size - persist_start;
    NML_TRY(prepare_nodes(it, ctx, persist_start, err));
    it->persistent_bytes = align16(persist_start + ctx->persist_used); /* within the arena */
    return NML_OK;
}

/* The activation region of act_bytes after the persistent part (apply_plan pointed the planned
 * tensors' data into it when it fits). */
static nml_status init_activations(nml_interpreter *it, uint32_t act_bytes, uint32_t act_min,
                                   nml_error *err) {
    const size_t act_start = it->persistent_bytes;
    it->activation_bytes = act_bytes;
    it->activation_min_bytes = act_min;
    size_t need = add_sat(act_start, act_bytes);
    if (need > it->arena_size) return arena_too_small(it, need, 1, NULL, err);
    it->arena_used = need;
    it->ctx->scratch_base = it->arena + act_start;
    it->ctx->err = NULL;
    return NML_OK;
}

struct nml_plan_vars {
    size_t (*place)(nml_interpreter *it, size_t off);
    void (*reset)(nml_interpreter *it);
};
const nml_plan_vars nml_plan_variables = {place_variables, reset_variables};

/* A plan exported for a model without variable tensors links no code for them. */
static nml_status check_no_variables(const nml_interpreter *it, nml_error *err) {
#ifdef NML_NO_VARIABLES /* the loader refused variable tensors */
    (void)it;
    (void)err;
    return NML_OK;
#endif
    for (uint32_t i = 0; i < it->n_tensors; i++)
        if (it->tensors[i].alloc == NML_ALLOC_PERSIST)
            return nml_fail(err, NML_E_UNSUPPORTED,
                            "tensor %lu is a variable tensor, and the arena plan was exported "
                            "for a model without any",
                            (unsigned long)i);
    return NML_OK;
}

/* NML_E_PLAN for `what` i (compact errors: the message is the status's name; say where). */
static nml_status plan_mismatch_at(nml_error *err, const char *what, unsigned long i) {
    if (!NML_ERROR_DETAIL && err) nml_error_prefix(err, "%s %lu: ", what, i);
    return NML_E_PLAN;
}

/* Buffer `what` i of `bytes` fits its planned place: within its planned size (the planner
 * keeps the size rounded up to a unit clear of other buffers) and the activation region.
 * Offsets and sizes are 16-bit units: no overflow. */
static nml_status check_fits(nml_plan_buffer b, uint32_t bytes, uint32_t act_bytes,
                             const char *what, uint32_t i, nml_error *err) {
    uint32_t offset = (uint32_t)b.offset * NML_PLAN_UNIT, size = (uint32_t)b.size * NML_PLAN_UNIT;
    if (b.offset != NML_PLAN_NONE && bytes <= size && bytes <= act_bytes &&
        offset <= act_bytes - bytes)
        return NML_OK;
    nml_fail(err, NML_E_PLAN,
             "%s %lu: %lu bytes do not fit the plan's %lu at offset %lu (activations %lu)", what,
             (unsigned long)i, (unsigned long)bytes, (unsigned long)size, (unsigned long)offset,
             (unsigned long)act_bytes);
    return plan_mismatch_at(err, what, i);
}

/* Every tensor operator i (node n) reads or writes has a place (apply_plan's node loop calls
 * this after placing the tensors). */
NML_SETUP_INLINE nml_status check_node_placed(const nml_interpreter *it, const nml_node *n,
                                              uint32_t i, nml_error *err) {
    for (uint32_t k = 0; k < (uint32_t)n->n_inputs + n->n_outputs; k++) {
        int32_t idx = k < n->n_inputs ? n->inputs[k] : n->outputs[k - n->n_inputs];
        if (idx >= 0 && it->tensors[idx].alloc == NML_ALLOC_NONE) {
            nml_fail(err, NML_E_PLAN, "tensor %ld: used by operator %lu, no place in the plan",
                     (long)idx, (unsigned long)i);
            return plan_mismatch_at(err, "tensor", (unsigned long)idx);
        }
    }
    return NML_OK;
}

/* Every subgraph input and output has a place (an input must be an activation, as the planner
 * requires). */
static nml_status check_io_placed(const nml_interpreter *it, nml_error *err) {
    const nml_model *m = it->model;
    for (uint32_t i = 0; i < m->n_inputs + m->n_outputs; i++) {
        int32_t idx =
            i < m->n_inputs ? nml_model_input(m, i) : nml_model_output(m, i - m->n_inputs);
        uint8_t alloc = it->tensors[idx].alloc;
        if (alloc == NML_ALLOC_NONE || (i < m->n_inputs && alloc != NML_ALLOC_ARENA)) {
            nml_fail(err, NML_E_PLAN,
                     "tensor %ld: a subgraph input or output, no place in the plan", (long)idx);
            return plan_mismatch_at(err, "tensor", (unsigned long)idx);
        }
    }
    return NML_OK;
}

/* Activation tensors (not constant, not variable) and scratch requests: the plan's entries. */
static uint32_t plan_entries(const nml_interpreter *it) {
    uint32_t n = 0; /* pointer loops: no multiply per entry on RV32 */
    for (const nml_tensor *t = it->tensors, *end = t + it->n_tensors; t < end; t++)
        n += t->alloc == NML_ALLOC_NONE;
    for (const nml_node *node = it->nodes, *end = node + it->n_nodes; node < end; node++)
        n += node->scratch_bytes != 0;
    return n;
}

/* Places every activation tensor and scratch request as the plan says, once checked. A planned
 * tensor's data points into the activation region only when that fits the arena (else
 * init_activations refuses it next): the data pointer is set in this loop rather than in one
 * more over the tensors. */
static nml_status apply_plan(nml_interpreter *it, const nml_arena_plan *p, nml_error *err) {
    const size_t act_start = it->persistent_bytes; /* within the arena */
    uint8_t *act = it->arena_size - act_start >= p->activation_bytes ? it->arena + act_start : NULL;
    uint32_t n = plan_entries(it);
    if (n != p->n_buffers)
        return nml_fail(err, NML_E_PLAN,
                        "the plan has %lu buffers, the model %lu (activation tensors and "
                        "scratch requests)",
                        (unsigned long)p->n_buffers, (unsigned long)n);
    const nml_plan_buffer *b = p->buffers;
    nml_tensor *t = it->tensors; /* = &it->tensors[i]: no multiply per tensor */
    for (uint32_t i = 0; i < it->n_tensors; i++, t++) {
        if (t->alloc != NML_ALLOC_NONE) continue; /* constant or variable: no entry */
        nml_plan_buffer e = *b++;
        if (e.offset == NML_PLAN_NONE) continue; /* unused: keeps NML_ALLOC_NONE */
        NML_TRY(check_fits(e, t->bytes, p->activation_bytes, "tensor", i, err));
        t->alloc = NML_ALLOC_ARENA;
        t->arena_offset = (uint32_t)e.offset * NML_PLAN_UNIT;
        if (act) t->data = act + t->arena_offset;
    }
    /* one loop over the nodes: scratch placed, and every tensor they use placed */
    nml_node *node = it->nodes;
    for (uint32_t i = 0; i < it->n_nodes; i++, node++) {
        if (node->scratch_bytes) {
            nml_plan_buffer e = *b++;
            NML_TRY(check_fits(e, node->scratch_bytes, p->activation_bytes, "operator", i, err));
            node->scratch_offset = (uint32_t)e.offset * NML_PLAN_UNIT;
        }
        NML_TRY(check_node_placed(it, node, i, err));
    }
    return check_io_placed(it, err);
}

static nml_status init_planned(nml_interpreter *it, const nml_arena_plan *p, nml_error *err) {
    const nml_model *m = it->model;
    if (!p->buffers || p->n_tensors != m->n_tensors || p->n_nodes != m->n_operators)
        return nml_fail(err, NML_E_PLAN,
                        "the plan is for %lu tensors and %lu operators, the model has %lu and "
                        "%lu",
                        (unsigned long)p->n_tensors, (unsigned long)p->n_nodes,
                        (unsigned long)m->n_tensors, (unsigned long)m->n_operators);
    NML_TRY(init_tables(it, err));
    size_t vars_end = it->persistent_bytes;
    if (p->variables)
        vars_end = p->variables->place(it, vars_end);
    else
        NML_TRY(check_no_variables(it, err));
    NML_TRY(init_persistent(it, vars_end, err));
    NML_TRY(apply_plan(it, p, err));
    NML_TRY(init_activations(it, p->activation_bytes, p->activation_min_bytes, err));
    if (p->variables) p->variables->reset(it);
    return NML_OK;
}

/* Checks the arguments and resets *it for an init. */
NML_SETUP_INLINE nml_status start(nml_interpreter *it, const nml_model *model,
                                  const nml_op_resolver *ops, void *arena, size_t arena_size,
                                  nml_error *err) {
    NML_TRY(check_args(it, model, ops, arena, err));
    /* everything is reset, the hook too: interpreters usually live uninitialized on the stack,
     * so nothing in *it may be trusted before init. Set on_node_done after init. */
    memset(it, 0, sizeof *it);
    it->model = model;
    it->ops = ops;
    it->arena = arena;
    it->arena_size = arena_size;
    return NML_OK;
}

/* After init: ready, or the tables forgotten. */
NML_SETUP_INLINE nml_status finish(nml_interpreter *it, nml_status st) {
    if (st != NML_OK) {
        it->tensors = NULL;
        it->nodes = NULL;
        it->ctx = NULL;
        return st;
    }
    it->ready = 1;
    return NML_OK;
}

nml_status nml_interpreter_init(nml_interpreter *it, const nml_model *model,
                                const nml_op_resolver *ops, void *arena, size_t arena_size,
                                nml_error *err) {
    NML_TRY(start(it, model, ops, arena, arena_size, err));
    return finish(it, init(it, err));
}

nml_status nml_interpreter_init_planned(nml_interpreter *it, const nml_model *model,
                                        const nml_op_resolver *ops, const nml_arena_plan *plan,
                                        void *arena, size_t arena_size, nml_error *err) {
    NML_TRY(start(it, model, ops, arena, arena_size, err));
    if (!plan) return finish(it, nml_fail(err, NML_E_ARG, "no arena plan"));
    return finish(it, init_planned(it, plan, err));
}

nml_status nml_invoke(nml_interpreter *it, nml_error *err) {
    if (!it || it->ready != 1 || !it->ctx)
        return nml_fail(err, NML_E_STATE,
                        "interpreter is not initialized (call "
                        "nml_interpreter_init first, and check that it succeeded)");
    nml_ctx *ctx = it->ctx;
    ctx->err = err;
    for (uint32_t i = 0; i < it->n_nodes; i++) {
        nml_node *n = &it->nodes[i];
        nml_error_clear(err);
        nml_status st = n->kernel->eval(ctx, n);
        if (st != NML_OK) {
            ctx->err = NULL;
            return failed_in_node(err, st, n, "eval");
        }
        if (it->on_node_done) it->on_node_done(it->hook_user, i);
    }
    ctx->err = NULL;
    return NML_OK;
}

uint32_t nml_input_count(const nml_interpreter *it) {
    return it && it->ready == 1 ? it->model->n_inputs : 0;
}

uint32_t nml_output_count(const nml_interpreter *it) {
    return it && it->ready == 1 ? it->model->n_outputs : 0;
}

int32_t nml_input_index(const nml_interpreter *it, uint32_t i) {
    return it && it->ready == 1 ? nml_model_input(it->model, i) : -1;
}

int32_t nml_output_index(const nml_interpreter *it, uint32_t i) {
    return it && it->ready == 1 ? nml_model_output(it->model, i) : -1;
}

nml_tensor *nml_input(nml_interpreter *it, uint32_t i) {
    int32_t idx = nml_input_index(it, i);
    return idx < 0 ? NULL : &it->tensors[idx];
}

nml_tensor *nml_output(nml_interpreter *it, uint32_t i) {
    int32_t idx = nml_output_index(it, i);
    return idx < 0 ? NULL : &it->tensors[idx];
}

int32_t nml_node_builtin(const nml_interpreter *it, uint32_t i) {
    return it && it->ready == 1 && i < it->n_nodes ? it->nodes[i].builtin : -1;
}

const char *nml_node_name(const nml_interpreter *it, uint32_t i) {
    if (!it || it->ready != 1 || i >= it->n_nodes) return "";
    const nml_node *n = &it->nodes[i];
    return n->kernel && n->kernel->name ? n->kernel->name : nml_op_name(n->builtin);
}
