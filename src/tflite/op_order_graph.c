/* The operator graph of a planned model and the cost of running one operator after a set of
 * others, with the runtime planner's rules (src/runtime/planner.c): a buffer lives from the
 * operator that writes it (subgraph inputs: the first step) to the last one that reads it
 * (subgraph outputs: the end), both included; view outputs join their input's buffer; an
 * in-place kernel's output takes an input buffer that dies at that operator and holds no
 * subgraph input or output. */
#include <stdlib.h>
#include <string.h>

#include "op_order_internal.h"
#include "runtime/kernel.h"

void og_free(og *g) {
    free(g->buf_bytes);
    free(g->buf_io);
    og_list *lists[] = {&g->consumers, &g->ins, &g->outs, &g->preds, &g->cands};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        free(lists[i]->start);
        free(lists[i]->idx);
    }
    free(g->scratch);
    free(g->in_place);
    memset(g, 0, sizeof *g);
}

/* ---- building ---- */

typedef struct builder {
    const nml_interpreter *it;
    uint32_t *buf_of;   /* per tensor: its buffer, or OG_NONE */
    uint32_t *producer; /* per tensor: the operator writing it, OG_NONE for subgraph inputs */
    uint8_t *defined;   /* per tensor */
    uint32_t *creator;  /* per buffer: the operator that writes it first, OG_NONE for inputs */
} builder;

static int is_view(int32_t builtin) {
    return builtin == NML_OP_RESHAPE || builtin == NML_OP_SQUEEZE || builtin == NML_OP_EXPAND_DIMS;
}

static int is_activation(const nml_tensor *t) {
    return t->alloc == NML_ALLOC_ARENA || t->alloc == NML_ALLOC_NONE;
}

static uint32_t new_buffer(og *g, uint64_t bytes) {
    g->buf_bytes[g->n_bufs] = bytes;
    return g->n_bufs++;
}

/* The buffer an output gets: its input's for a view of the same byte size (as the planner
 * decides it), else a new one. */
static uint32_t output_buffer(og *g, builder *b, const nml_node *n, int32_t t) {
    const nml_tensor *ts = b->it->tensors;
    if (is_view(n->builtin) && n->n_outputs == 1 && n->n_inputs >= 1) {
        int32_t a = n->inputs[0];
        if (a >= 0 && a != t && b->buf_of[a] != OG_NONE &&
            g->buf_bytes[b->buf_of[a]] == ts[t].bytes)
            return b->buf_of[a];
    }
    uint32_t buf = new_buffer(g, ts[t].bytes);
    b->creator[buf] = n->index;
    return buf;
}

static const char *define_graph_inputs(og *g, builder *b) {
    const nml_interpreter *it = b->it;
    for (uint32_t i = 0; i < it->model->n_inputs; i++) {
        int32_t t = nml_model_input(it->model, i);
        if (t < 0 || !is_activation(&it->tensors[t]))
            return "a subgraph input is not an activation";
        if (b->defined[t]) continue;
        b->defined[t] = 1;
        b->buf_of[t] = new_buffer(g, it->tensors[t].bytes);
        g->buf_io[b->buf_of[t]] |= OG_IN;
    }
    return NULL;
}

static const char *define_node(og *g, builder *b, uint32_t i) {
    const nml_interpreter *it = b->it;
    const nml_node *n = &it->nodes[i];
    for (uint32_t k = 0; k < n->n_inputs; k++) {
        int32_t t = n->inputs[k];
        if (t < 0) continue;
        if (it->tensors[t].alloc == NML_ALLOC_PERSIST) return "it has variable tensors";
        if (is_activation(&it->tensors[t]) && !b->defined[t])
            return "an operator reads a tensor before it is written";
    }
    for (uint32_t k = 0; k < n->n_outputs; k++) {
        int32_t t = n->outputs[k];
        if (t < 0 || !is_activation(&it->tensors[t])) return "an operator writes a constant";
        if (b->defined[t]) return "a tensor is written twice or is a subgraph input";
        b->defined[t] = 1;
        b->producer[t] = i;
        b->buf_of[t] = output_buffer(g, b, n, t);
    }
    return NULL;
}

static nml_status list_alloc(og_list *l, uint32_t n, uint64_t cap, nml_error *err) {
    l->start = calloc((size_t)n + 1, sizeof *l->start);
    l->idx = malloc((size_t)(cap ? cap : 1) * sizeof *l->idx);
    if (!l->start || !l->idx) return nml_fail(err, NML_E_NOMEM, "out of memory (operator graph)");
    return NML_OK;
}

/* Appends v to item i's list (items filled in increasing order) unless it is already there. */
static void list_push_unique(og_list *l, uint32_t i, uint32_t v) {
    for (uint32_t k = l->start[i]; k < l->start[i + 1]; k++)
        if (l->idx[k] == v) return;
    l->idx[l->start[i + 1]++] = v;
}

static void list_open(og_list *l, uint32_t i) {
    l->start[i + 1] = l->start[i];
}

static uint64_t edge_count(const nml_interpreter *it) {
    uint64_t e = 0;
    for (uint32_t i = 0; i < it->n_nodes; i++)
        e += (uint64_t)it->nodes[i].n_inputs + it->nodes[i].n_outputs;
    return e;
}

static void fill_node_lists(og *g, const builder *b, uint32_t i) {
    const nml_node *n = &b->it->nodes[i];
    list_open(&g->ins, i);
    list_open(&g->preds, i);
    list_open(&g->outs, i);
    for (uint32_t k = 0; k < n->n_inputs; k++) {
        int32_t t = n->inputs[k];
        if (t < 0 || b->buf_of[t] == OG_NONE) continue;
        list_push_unique(&g->ins, i, b->buf_of[t]);
        if (b->producer[t] != OG_NONE) list_push_unique(&g->preds, i, b->producer[t]);
    }
    for (uint32_t k = 0; k < n->n_outputs; k++) {
        uint32_t buf = b->buf_of[n->outputs[k]];
        if (buf != OG_NONE && b->creator[buf] == i) list_push_unique(&g->outs, i, buf);
    }
}

/* In place, as nml_plan_aliases decides it: one output, a flagged kernel, inputs of the same
 * byte size that hold no subgraph input or output. */
static void fill_in_place(og *g, const builder *b, uint32_t i) {
    const nml_node *n = &b->it->nodes[i];
    list_open(&g->cands, i);
    g->in_place[i] = 0;
    if (!n->kernel || !(n->kernel->flags & NML_KERNEL_IN_PLACE) || n->n_outputs != 1) return;
    uint32_t out = b->buf_of[n->outputs[0]];
    if (out == OG_NONE || b->creator[out] != i) return;
    for (uint32_t k = 0; k < n->n_inputs; k++) {
        int32_t t = n->inputs[k];
        if (t < 0 || t == n->outputs[0] || b->buf_of[t] == OG_NONE) continue;
        uint32_t c = b->buf_of[t];
        if (c == out || g->buf_bytes[c] != g->buf_bytes[out] || g->buf_io[c]) continue;
        list_push_unique(&g->cands, i, c);
    }
    if (g->cands.start[i + 1] > g->cands.start[i]) g->in_place[i] = g->buf_bytes[out];
}

static nml_status fill_consumers(og *g, nml_error *err) {
    og_list *c = &g->consumers;
    for (uint32_t v = 0; v < g->n_ops; v++)
        for (uint32_t k = g->ins.start[v]; k < g->ins.start[v + 1]; k++)
            c->start[g->ins.idx[k] + 1]++;
    for (uint32_t b = 0; b < g->n_bufs; b++)
        c->start[b + 1] += c->start[b];
    uint32_t *fill = calloc(g->n_bufs ? g->n_bufs : 1, sizeof *fill);
    if (!fill) return nml_fail(err, NML_E_NOMEM, "out of memory (operator graph)");
    for (uint32_t v = 0; v < g->n_ops; v++)
        for (uint32_t k = g->ins.start[v]; k < g->ins.start[v + 1]; k++) {
            uint32_t b = g->ins.idx[k];
            c->idx[c->start[b] + fill[b]++] = v;
        }
    free(fill);
    return NML_OK;
}

static nml_status alloc_graph(og *g, const nml_interpreter *it, nml_error *err) {
    uint32_t n = it->n_nodes, nt = it->n_tensors;
    uint64_t e = edge_count(it);
    g->n_ops = n;
    g->words = (n + 63) / 64 ? (n + 63) / 64 : 1;
    g->buf_bytes = calloc(nt ? nt : 1, sizeof *g->buf_bytes);
    g->buf_io = calloc(nt ? nt : 1, 1);
    g->scratch = calloc(n ? n : 1, sizeof *g->scratch);
    g->in_place = calloc(n ? n : 1, sizeof *g->in_place);
    if (!g->buf_bytes || !g->buf_io || !g->scratch || !g->in_place)
        return nml_fail(err, NML_E_NOMEM, "out of memory (operator graph)");
    NML_TRY(list_alloc(&g->ins, n, e, err));
    NML_TRY(list_alloc(&g->preds, n, e, err));
    NML_TRY(list_alloc(&g->outs, n, e, err));
    NML_TRY(list_alloc(&g->cands, n, e, err));
    return list_alloc(&g->consumers, nt, e, err);
}

static void mark_graph_outputs(og *g, const builder *b) {
    for (uint32_t i = 0; i < b->it->model->n_outputs; i++) {
        int32_t t = nml_model_output(b->it->model, i);
        if (t >= 0 && b->buf_of[t] != OG_NONE) g->buf_io[b->buf_of[t]] |= OG_OUT;
    }
}

static void find_start_bytes(og *g) {
    g->start_bytes = 0;
    for (uint32_t b = 0; b < g->n_bufs; b++)
        if (g->buf_io[b] == OG_IN && g->consumers.start[b] == g->consumers.start[b + 1])
            g->start_bytes += g->buf_bytes[b];
}

static nml_status build_lists(og *g, builder *b, nml_error *err) {
    mark_graph_outputs(g, b);
    for (uint32_t i = 0; i < g->n_ops; i++) {
        fill_node_lists(g, b, i);
        g->scratch[i] = b->it->nodes[i].scratch_bytes;
    }
    for (uint32_t i = 0; i < g->n_ops; i++)
        fill_in_place(g, b, i);
    NML_TRY(fill_consumers(g, err));
    find_start_bytes(g);
    return NML_OK;
}

nml_status og_build(og *g, const nml_interpreter *it, const char **fixed_why, nml_error *err) {
    memset(g, 0, sizeof *g);
    *fixed_why = NULL;
    builder b = {it, NULL, NULL, NULL, NULL};
    uint32_t nt = it->n_tensors ? it->n_tensors : 1;
    b.buf_of = malloc(nt * sizeof *b.buf_of);
    b.producer = malloc(nt * sizeof *b.producer);
    b.defined = calloc(nt, 1);
    b.creator = malloc(nt * sizeof *b.creator);
    nml_status st = b.buf_of && b.producer && b.defined && b.creator
                        ? alloc_graph(g, it, err)
                        : nml_fail(err, NML_E_NOMEM, "out of memory (operator graph)");
    for (uint32_t t = 0; st == NML_OK && t < it->n_tensors; t++)
        b.buf_of[t] = b.producer[t] = b.creator[t] = OG_NONE;
    const char *why = st == NML_OK ? define_graph_inputs(g, &b) : NULL;
    for (uint32_t i = 0; st == NML_OK && !why && i < it->n_nodes; i++)
        why = define_node(g, &b, i);
    for (uint32_t t = 0; st == NML_OK && !why && t < it->n_tensors; t++)
        if (it->tensors[t].alloc == NML_ALLOC_PERSIST) why = "it has variable tensors";
    if (st == NML_OK && !why) st = build_lists(g, &b, err);
    free(b.buf_of);
    free(b.producer);
    free(b.defined);
    free(b.creator);
    if (st != NML_OK || why) og_free(g);
    *fixed_why = why;
    return st;
}

/* ---- cost of a step ---- */

int og_ready(const og *g, const uint64_t *done, uint32_t v) {
    for (uint32_t k = g->preds.start[v]; k < g->preds.start[v + 1]; k++)
        if (!og_has(done, g->preds.idx[k])) return 0;
    return 1;
}

/* Buffer b's last reader is v (given done): it dies when v has run. */
static int dies_at(const og *g, const uint64_t *done, uint32_t v, uint32_t b) {
    if (g->buf_io[b] & OG_OUT) return 0;
    for (uint32_t k = g->consumers.start[b]; k < g->consumers.start[b + 1]; k++) {
        uint32_t c = g->consumers.idx[k];
        if (c != v && !og_has(done, c)) return 0;
    }
    return 1;
}

static int has_readers(const og *g, uint32_t b) {
    return g->consumers.start[b] != g->consumers.start[b + 1];
}

uint64_t og_step(const og *g, const uint64_t *done, int first, uint32_t v, uint64_t *live) {
    uint64_t cost = *live + g->scratch[v] + (first ? g->start_bytes : 0);
    for (uint32_t k = g->outs.start[v]; k < g->outs.start[v + 1]; k++) {
        uint32_t b = g->outs.idx[k];
        cost += g->buf_bytes[b];
        if ((g->buf_io[b] & OG_OUT) || has_readers(g, b)) *live += g->buf_bytes[b];
    }
    if (g->in_place[v])
        for (uint32_t k = g->cands.start[v]; k < g->cands.start[v + 1]; k++)
            if (dies_at(g, done, v, g->cands.idx[k])) {
                cost -= g->in_place[v];
                break;
            }
    for (uint32_t k = g->ins.start[v]; k < g->ins.start[v + 1]; k++) {
        uint32_t b = g->ins.idx[k];
        if (dies_at(g, done, v, b)) *live -= g->buf_bytes[b];
    }
    return cost;
}

/* Bytes live before the first operator: subgraph inputs somebody reads or that are outputs. */
uint64_t og_initial_live(const og *g) {
    uint64_t live = 0;
    for (uint32_t b = 0; b < g->n_bufs; b++)
        if ((g->buf_io[b] & OG_IN) && ((g->buf_io[b] & OG_OUT) || has_readers(g, b)))
            live += g->buf_bytes[b];
    return live;
}

nml_status og_order_peak(const og *g, const uint32_t *order, uint32_t n, uint64_t *peak,
                         nml_error *err) {
    *peak = 0;
    if (n != g->n_ops)
        return nml_fail(err, NML_E_ARG, "order has %u operators, the model %u", (unsigned)n,
                        (unsigned)g->n_ops);
    uint64_t *done = calloc(g->words, sizeof *done);
    if (!done) return nml_fail(err, NML_E_NOMEM, "out of memory");
    uint64_t live = og_initial_live(g);
    nml_status st = NML_OK;
    for (uint32_t k = 0; k < n && st == NML_OK; k++) {
        uint32_t v = order[k];
        if (v >= n || og_has(done, v))
            st = nml_fail(err, NML_E_ARG, "order entry %u (%u) is not a new operator index",
                          (unsigned)k, (unsigned)v);
        else if (!og_ready(g, done, v))
            st = nml_fail(err, NML_E_ARG,
                          "order entry %u: operator %u runs before the producer of an input",
                          (unsigned)k, (unsigned)v);
        if (st != NML_OK) break;
        uint64_t cost = og_step(g, done, k == 0, v, &live);
        if (cost > *peak) *peak = cost;
        og_add(done, v);
    }
    free(done);
    return st;
}
