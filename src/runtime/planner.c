/* Lifetimes and the greedy offset planner. Buffer b < n_tensors is tensor b; buffer
 * n_tensors + i is node i's scratch. An offset of UINT32_MAX marks a buffer not yet placed, so
 * the planner needs no memory beyond the tensor and node tables. */
#include "planner.h"

#define UNPLACED UINT32_MAX

static int is_activation(const nml_tensor *t) {
    return t->alloc == NML_ALLOC_NONE || t->alloc == NML_ALLOC_ARENA;
}

static nml_status mark_graph_inputs(const nml_model *m, nml_tensor *tensors, nml_error *err) {
    for (uint32_t i = 0; i < m->n_inputs; i++) {
        int32_t idx = nml_model_input(m, i);
        nml_tensor *t = &tensors[idx];
        if (!is_activation(t))
            return nml_fail(err, NML_E_FORMAT, "subgraph input %lu (tensor %d) is a %s tensor",
                            (unsigned long)i, (int)idx,
                            t->alloc == NML_ALLOC_CONST ? "constant" : "variable");
        t->first_use = 0;
        t->last_use = 0;
    }
    return NML_OK;
}

static nml_status use_inputs(nml_tensor *tensors, const nml_node *node, nml_error *err) {
    for (uint32_t k = 0; k < node->n_inputs; k++) {
        int32_t idx = node->inputs[k];
        if (idx < 0 || !is_activation(&tensors[idx])) continue;
        nml_tensor *t = &tensors[idx];
        if (t->first_use < 0)
            return nml_fail(err, NML_E_FORMAT,
                            "operator %lu: input %lu (tensor %d) is read "
                            "before any operator writes it",
                            (unsigned long)node->index, (unsigned long)k, (int)idx);
        t->last_use = (int32_t)node->index;
    }
    return NML_OK;
}

static void define_outputs(nml_tensor *tensors, const nml_node *node) {
    for (uint32_t k = 0; k < node->n_outputs; k++) {
        nml_tensor *t = &tensors[node->outputs[k]];
        if (!is_activation(t)) continue;
        if (t->first_use < 0) t->first_use = (int32_t)node->index;
        t->last_use = (int32_t)node->index;
    }
}

/* Until nml_plan_offsets places them, planned tensors carry in arena_offset whether they
 * are subgraph inputs or outputs (the caller's bytes an in-place output must not take). */
#define IO_IN 1u
#define IO_OUT 2u

static void mark_graph_io(const nml_model *m, nml_tensor *tensors) {
    for (uint32_t i = 0; i < m->n_inputs; i++)
        tensors[nml_model_input(m, i)].arena_offset |= IO_IN;
    for (uint32_t i = 0; i < m->n_outputs; i++) {
        nml_tensor *t = &tensors[nml_model_output(m, i)];
        if (is_activation(t)) t->arena_offset |= IO_OUT;
    }
}

nml_status nml_plan_lifetimes(const nml_model *m, nml_tensor *tensors, uint32_t n_tensors,
                              const nml_node *nodes, uint32_t n_nodes, nml_error *err) {
    for (uint32_t i = 0; i < n_tensors; i++)
        tensors[i].first_use = tensors[i].last_use = -1;
    NML_TRY(mark_graph_inputs(m, tensors, err));
    for (uint32_t i = 0; i < n_nodes; i++) {
        NML_TRY(use_inputs(tensors, &nodes[i], err));
        define_outputs(tensors, &nodes[i]);
    }
    int32_t end = n_nodes ? (int32_t)n_nodes - 1 : 0;
    for (uint32_t i = 0; i < m->n_outputs; i++) {
        int32_t idx = nml_model_output(m, i);
        nml_tensor *t = &tensors[idx];
        if (!is_activation(t)) continue;
        if (t->first_use < 0)
            return nml_fail(err, NML_E_FORMAT,
                            "subgraph output %lu (tensor %d) is never "
                            "written",
                            (unsigned long)i, (int)idx);
        t->last_use = end;
    }
    for (uint32_t i = 0; i < n_tensors; i++) {
        if (!is_activation(&tensors[i])) continue;
        tensors[i].alloc = tensors[i].first_use >= 0 ? NML_ALLOC_ARENA : NML_ALLOC_NONE;
        tensors[i].arena_offset = 0;
    }
    mark_graph_io(m, tensors);
    return NML_OK;
}

/* ---- views ---- */

/* Internal alloc value while planning: an alias whose arena_offset holds the index of the
 * tensor whose buffer it shares. */
#define ALLOC_ALIAS 0x80u

static int is_view(int32_t builtin) {
    return builtin == NML_OP_RESHAPE || builtin == NML_OP_SQUEEZE || builtin == NML_OP_EXPAND_DIMS;
}

/* The root of input a's buffer when node n's single output b may share it, else UINT32_MAX.
 * Only an output this node writes first: one read or written before (a graph input, a second
 * writer in a malformed graph) may already be a root or be this very root, and a root turned
 * alias would leave offsets that are tensor indices. */
static uint32_t shareable_root(nml_tensor *tensors, uint32_t n_tensors, const nml_node *n,
                               int32_t a, int32_t b) {
    if (a < 0 || b < 0 || (uint32_t)a >= n_tensors || (uint32_t)b >= n_tensors || a == b)
        return UINT32_MAX;
    uint32_t root = (uint32_t)a;
    if (tensors[root].alloc == ALLOC_ALIAS) root = tensors[root].arena_offset;
    const nml_tensor *r = &tensors[root], *out = &tensors[b];
    if (r->alloc != NML_ALLOC_ARENA || out->alloc != NML_ALLOC_ARENA || r->bytes != out->bytes)
        return UINT32_MAX;
    if (out->first_use != (int32_t)n->index || (out->arena_offset & IO_IN)) return UINT32_MAX;
    return root;
}

/* In place: the input buffer must die here (its last use, views of it included, is this
 * node; nodes are visited in order, so later views of it would already show in last_use) and
 * belong to no subgraph input or output. The first such input is taken. */
static uint32_t in_place_root(nml_tensor *tensors, uint32_t n_tensors, const nml_node *n) {
    if (!n->kernel || !(n->kernel->flags & NML_KERNEL_IN_PLACE) || n->n_outputs != 1)
        return UINT32_MAX;
    for (uint32_t k = 0; k < n->n_inputs; k++) {
        uint32_t root = shareable_root(tensors, n_tensors, n, n->inputs[k], n->outputs[0]);
        if (root == UINT32_MAX) continue;
        const nml_tensor *r = &tensors[root];
        if (r->last_use == (int32_t)n->index && !(r->arena_offset & (IO_IN | IO_OUT))) return root;
    }
    return UINT32_MAX;
}

static void make_alias(nml_tensor *tensors, uint32_t root, int32_t b) {
    nml_tensor *r = &tensors[root], *out = &tensors[b];
    if (out->last_use > r->last_use) r->last_use = out->last_use;
    r->arena_offset |= out->arena_offset & (IO_IN | IO_OUT);
    out->alloc = ALLOC_ALIAS;
    out->arena_offset = root;
}

uint32_t nml_plan_aliases(nml_tensor *tensors, uint32_t n_tensors, const nml_node *nodes,
                          uint32_t n_nodes) {
    uint32_t count = 0;
    for (uint32_t i = 0; i < n_nodes; i++) {
        const nml_node *n = &nodes[i];
        if (n->n_outputs != 1) continue;
        uint32_t root = UINT32_MAX;
        if (is_view(n->builtin) && n->n_inputs >= 1)
            root = shareable_root(tensors, n_tensors, n, n->inputs[0], n->outputs[0]);
        else
            root = in_place_root(tensors, n_tensors, n);
        if (root == UINT32_MAX) continue;
        make_alias(tensors, root, n->outputs[0]);
        count++;
    }
    return count;
}

void nml_plan_resolve_aliases(nml_tensor *tensors, uint32_t n_tensors) {
    for (uint32_t i = 0; i < n_tensors; i++) {
        nml_tensor *t = &tensors[i];
        if (t->alloc != ALLOC_ALIAS) continue;
        t->arena_offset = tensors[t->arena_offset].arena_offset;
        t->alloc = NML_ALLOC_ARENA;
    }
}

/* ---- offsets ---- */

typedef struct plan {
    nml_tensor *tensors;
    nml_node *nodes;
    uint32_t n_tensors, n_nodes;
    uint32_t *placed; /* buffers placed so far, by increasing offset (caller's work memory) */
    uint32_t n_placed;
} plan;

typedef struct buffer {
    uint32_t size;
    int32_t first, last;
    uint32_t *offset;
} buffer;

/* Buffer b, or 0 when b is not something to plan. */
static int buffer_at(const plan *p, uint32_t b, buffer *out) {
    if (b < p->n_tensors) {
        nml_tensor *t = &p->tensors[b];
        if (t->alloc != NML_ALLOC_ARENA) return 0;
        out->size = t->bytes;
        out->first = t->first_use;
        out->last = t->last_use;
        out->offset = &t->arena_offset;
        return 1;
    }
    nml_node *n = &p->nodes[b - p->n_tensors];
    if (!n->scratch_bytes) return 0;
    out->size = n->scratch_bytes;
    out->first = out->last = (int32_t)n->index;
    out->offset = &n->scratch_offset;
    return 1;
}

static int lives_overlap(const buffer *a, const buffer *b) {
    return a->first <= b->last && b->first <= a->last;
}

/* Offsets are 32-bit: every placed buffer ends at or below UINT32_MAX (nml_plan_offsets checks),
 * and a window pushed past that saturates, which no buffer then fits. */
static uint32_t align_up(uint32_t x) {
    return x > UINT32_MAX - (NML_PLAN_ALIGN - 1) ? UINT32_MAX
                                                 : (x + NML_PLAN_ALIGN - 1) & ~(NML_PLAN_ALIGN - 1);
}

/* The largest unplaced buffer (lowest index on ties), or UINT32_MAX when all are placed. */
static uint32_t next_largest(const plan *p) {
    uint32_t best = UINT32_MAX, best_size = 0;
    buffer b = {0, 0, 0, NULL};
    for (uint32_t i = 0; i < p->n_tensors + p->n_nodes; i++) {
        if (!buffer_at(p, i, &b) || *b.offset != UNPLACED) continue;
        if (best == UINT32_MAX || b.size > best_size) {
            best = i;
            best_size = b.size;
        }
    }
    return best;
}

/* Lowest aligned offset for `cur` clear of every placed buffer that is live at the same time:
 * one walk over the placed buffers in offset order. The window [off, off + size) only moves
 * up, past the end of a buffer that overlaps it; the first placed buffer starting at or after
 * the window's end means the window is clear. (Repeated passes in index order instead cost a
 * pass per conflicting buffer: cubic time on graphs built to exploit it.) */
static uint32_t lowest_offset(const plan *p, const buffer *cur) {
    uint32_t off = 0;
    buffer b = {0, 0, 0, NULL};
    for (uint32_t k = 0; k < p->n_placed; k++) {
        buffer_at(p, p->placed[k], &b);
        if (!lives_overlap(cur, &b)) continue;
        if (*b.offset >= off && *b.offset - off >= cur->size) break;
        uint32_t b_end = *b.offset + b.size; /* placed: no overflow */
        if (b_end > off) off = align_up(b_end);
    }
    return off;
}

/* Records buffer id at its offset, keeping p->placed sorted by offset. */
static void insert_placed(plan *p, uint32_t id, uint32_t offset) {
    uint32_t k = p->n_placed++;
    buffer b = {0, 0, 0, NULL};
    for (; k > 0; k--) {
        buffer_at(p, p->placed[k - 1], &b);
        if (*b.offset <= offset) break;
        p->placed[k] = p->placed[k - 1];
    }
    p->placed[k] = id;
}

/* After a successful placement the buffers live at one step are disjoint inside
 * [0, UINT32_MAX], so their sum fits 32 bits. */
static uint32_t live_bytes_max(const plan *p) {
    uint32_t best = 0;
    buffer b = {0, 0, 0, NULL};
    uint32_t n_steps = p->n_nodes ? p->n_nodes : 1;
    for (uint32_t step = 0; step < n_steps; step++) {
        uint32_t live = 0;
        for (uint32_t i = 0; i < p->n_tensors + p->n_nodes; i++)
            if (buffer_at(p, i, &b) && b.first <= (int32_t)step && (int32_t)step <= b.last)
                live += b.size;
        if (live > best) best = live;
    }
    return best;
}

uint64_t nml_plan_work_bytes(nml_tensor *tensors, uint32_t n_tensors, nml_node *nodes,
                             uint32_t n_nodes) {
    plan p = {tensors, nodes, n_tensors, n_nodes, NULL, 0};
    buffer b = {0, 0, 0, NULL};
    uint64_t n = 0;
    for (uint32_t i = 0; i < n_tensors + n_nodes; i++)
        n += buffer_at(&p, i, &b) && b.size;
    return 4 * n;
}

nml_status nml_plan_offsets(nml_tensor *tensors, uint32_t n_tensors, nml_node *nodes,
                            uint32_t n_nodes, uint32_t *work, uint64_t *bytes, uint64_t *min_bytes,
                            nml_error *err) {
    plan p = {tensors, nodes, n_tensors, n_nodes, work, 0};
    buffer b = {0, 0, 0, NULL};
    *bytes = 0;
    for (uint32_t i = 0; i < n_tensors + n_nodes; i++)
        if (buffer_at(&p, i, &b)) *b.offset = b.size ? UNPLACED : 0;
    for (uint32_t i = next_largest(&p); i != UINT32_MAX; i = next_largest(&p)) {
        buffer_at(&p, i, &b);
        uint32_t off = lowest_offset(&p, &b);
        if (b.size > UINT32_MAX - off)
            return nml_fail(err, NML_E_LIMIT, "activations need more than 4 GiB");
        *b.offset = off;
        insert_placed(&p, i, off);
        if (off + b.size > *bytes) *bytes = off + b.size;
    }
    *min_bytes = live_bytes_max(&p);
    return NML_OK;
}
