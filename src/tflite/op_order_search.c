/* Searching the operator order with the smallest lower bound (see op_order_internal.h).
 *
 * Exact: the peak of an order is a maximum over its steps, and what a step costs depends only
 * on the set of operators already run (which buffers are live) and the operator run, so the
 * best peak to reach a set S is min over its last operator v of max(best(S - v), step(S - v,
 * v)). The sets are visited level by level (by size) and merged when equal; sets whose peak
 * already exceeds a known order's (greedy or original) are dropped. Chains and short branches
 * (CNNs, ShuffleNet blocks) have few such sets; wide graphs can have exponentially many, so
 * the search gives up after max_states and the greedy order stands in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/runtime_host.h"
#include "op_order_internal.h"

/* ---- greedy ---- */

/* Each step runs the ready operator that keeps the peak lowest, then the one that leaves the
 * fewest bytes live, then the lowest index. */
nml_status og_greedy(const og *g, uint32_t *order, uint64_t *peak, nml_error *err) {
    uint64_t *done = calloc(g->words, sizeof *done);
    if (!done) return nml_fail(err, NML_E_NOMEM, "out of memory");
    uint64_t live = og_initial_live(g);
    *peak = 0;
    for (uint32_t k = 0; k < g->n_ops; k++) {
        uint32_t best = OG_NONE;
        uint64_t best_peak = 0, best_live = 0;
        for (uint32_t v = 0; v < g->n_ops; v++) {
            if (og_has(done, v) || !og_ready(g, done, v)) continue;
            uint64_t l = live, c = og_step(g, done, k == 0, v, &l);
            uint64_t p = c > *peak ? c : *peak;
            if (best == OG_NONE || p < best_peak || (p == best_peak && l < best_live)) {
                best = v;
                best_peak = p;
                best_live = l;
            }
        }
        if (best == OG_NONE) {
            free(done);
            return nml_fail(err, NML_E_FORMAT, "the operator graph has a cycle");
        }
        og_step(g, done, k == 0, best, &live);
        og_add(done, best);
        order[k] = best;
        *peak = best_peak;
    }
    free(done);
    return NML_OK;
}

/* ---- exact ---- */

typedef struct states {
    uint32_t words;
    uint64_t *sets; /* n * words */
    uint64_t *peak, *live;
    uint32_t *parent, *op;
    uint64_t n, cap, limit;
    uint32_t *hash; /* slots hold state indices; below level_start means empty */
    uint64_t hash_mask, level_start;
} states;

static void states_free(states *s) {
    free(s->sets);
    free(s->peak);
    free(s->live);
    free(s->parent);
    free(s->op);
    free(s->hash);
}

static uint64_t set_hash(const uint64_t *set, uint32_t words) {
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (uint32_t i = 0; i < words; i++) {
        h ^= set[i];
        h *= 0xff51afd7ed558ccdu;
        h ^= h >> 33;
    }
    return h;
}

static int grow(states *s) {
    uint64_t cap = s->cap ? s->cap * 2 : 4096;
    if (cap > s->limit) cap = s->limit;
    if (cap <= s->cap) return 0;
    uint64_t *sets = realloc(s->sets, cap * s->words * sizeof *sets);
    if (sets) s->sets = sets;
    uint64_t *peak = realloc(s->peak, cap * sizeof *peak);
    if (peak) s->peak = peak;
    uint64_t *live = realloc(s->live, cap * sizeof *live);
    if (live) s->live = live;
    uint32_t *parent = realloc(s->parent, cap * sizeof *parent);
    if (parent) s->parent = parent;
    uint32_t *op = realloc(s->op, cap * sizeof *op);
    if (op) s->op = op;
    if (!sets || !peak || !live || !parent || !op) return -1;
    s->cap = cap;
    return 1;
}

/* Slot of set in the current level's table: its state, or an empty slot. */
static uint64_t find_slot(const states *s, const uint64_t *set) {
    uint64_t i = set_hash(set, s->words) & s->hash_mask;
    for (;;) {
        uint32_t k = s->hash[i];
        if (k < s->level_start) return i;
        if (memcmp(&s->sets[(uint64_t)k * s->words], set, s->words * sizeof *set) == 0) return i;
        i = (i + 1) & s->hash_mask;
    }
}

/* Keeps the table at most half full, rehashing the current level when it grows. */
static int reserve_hash(states *s, uint64_t level_count) {
    if ((level_count + 1) * 2 <= s->hash_mask + 1 && s->hash) return 1;
    uint64_t size = s->hash ? (s->hash_mask + 1) * 2 : 1u << 12;
    while (size < (level_count + 1) * 2)
        size *= 2;
    uint32_t *h = calloc(size, sizeof *h);
    if (!h) return 0;
    free(s->hash);
    s->hash = h;
    s->hash_mask = size - 1;
    for (uint64_t k = s->level_start; k < s->n; k++)
        s->hash[find_slot(s, &s->sets[k * s->words])] = (uint32_t)k;
    return 1;
}

typedef struct move {
    uint32_t from, v;
    uint64_t peak, live;
} move;

/* Adds or improves the state for `set` reached by m. 0 when the limit is hit, -1 on no
 * memory. */
static int offer(states *s, const uint64_t *set, const move *m) {
    if (!reserve_hash(s, s->n - s->level_start + 1)) return -1;
    uint64_t slot = find_slot(s, set);
    uint32_t k = s->hash[slot];
    if (k >= s->level_start) {
        if (m->peak < s->peak[k]) {
            s->peak[k] = m->peak;
            s->parent[k] = m->from;
            s->op[k] = m->v;
        }
        return 1;
    }
    if (s->n == s->cap) {
        int r = grow(s);
        if (r <= 0) return r;
    }
    uint64_t n = s->n++;
    memcpy(&s->sets[n * s->words], set, s->words * sizeof *set);
    s->peak[n] = m->peak;
    s->live[n] = m->live;
    s->parent[n] = m->from;
    s->op[n] = m->v;
    s->hash[slot] = (uint32_t)n;
    return 1;
}

/* Every ready operator after state `from`; 0 limit hit, -1 no memory. */
static int expand(const og *g, states *s, uint64_t from, uint32_t level, uint64_t bound,
                  uint64_t *set) {
    for (uint32_t v = 0; v < g->n_ops; v++) {
        const uint64_t *cur = &s->sets[from * s->words];
        if (og_has(cur, v) || !og_ready(g, cur, v)) continue;
        move m = {(uint32_t)from, v, 0, s->live[from]};
        uint64_t cost = og_step(g, cur, level == 0, v, &m.live);
        m.peak = cost > s->peak[from] ? cost : s->peak[from];
        if (m.peak > bound) continue;
        memcpy(set, cur, s->words * sizeof *set);
        og_add(set, v);
        int r = offer(s, set, &m);
        if (r <= 0) return r;
    }
    return 1;
}

static void backtrack(const og *g, const states *s, uint64_t last, uint32_t *order) {
    uint64_t k = last;
    for (uint32_t i = g->n_ops; i > 0; i--) {
        order[i - 1] = s->op[k];
        k = s->parent[k];
    }
}

nml_status og_exact(const og *g, uint64_t bound, uint64_t max_states, uint32_t *order,
                    uint64_t *peak, uint64_t *n_states, int *exhausted, nml_error *err) {
    states s;
    memset(&s, 0, sizeof s);
    s.words = g->words;
    s.limit = max_states < UINT32_MAX ? max_states : UINT32_MAX - 1;
    *exhausted = 0;
    *n_states = 0;
    uint64_t *set = calloc(g->words, sizeof *set);
    int r = set && s.limit > 0 ? grow(&s) : -1;
    if (r > 0) { /* state 0: nothing run yet */
        memset(s.sets, 0, g->words * sizeof *s.sets);
        s.peak[0] = 0;
        s.live[0] = og_initial_live(g);
        s.parent[0] = s.op[0] = OG_NONE;
        s.n = 1;
    }
    uint64_t level_begin = 0;
    for (uint32_t level = 0; r > 0 && level < g->n_ops; level++) {
        uint64_t level_end = s.n;
        s.level_start = s.n;
        for (uint64_t k = level_begin; k < level_end && r > 0; k++)
            r = expand(g, &s, k, level, bound, set);
        level_begin = level_end;
        if (r > 0 && s.n == level_end) r = -2; /* nothing within the bound: cannot happen */
    }
    *n_states = s.n;
    nml_status st = NML_OK;
    if (r == 0)
        *exhausted = 1;
    else if (r == -1)
        st = nml_fail(err, NML_E_NOMEM, "out of memory in the order search");
    else if (r == -2)
        st = nml_fail(err, NML_E_FORMAT, "order search: no order within the bound of a known one");
    else {
        backtrack(g, &s, s.n - 1, order);
        *peak = s.peak[s.n - 1];
    }
    free(set);
    states_free(&s);
    return st;
}

/* ---- public ---- */

void nml_op_order_free(nml_op_order *o) {
    free(o->order);
    memset(o, 0, sizeof *o);
}

int nml_order_is_identity(const nml_op_order *o) {
    for (uint32_t k = 0; k < o->n_ops; k++)
        if (o->order[k] != k) return 0;
    return 1;
}

const char *nml_order_method_name(nml_order_method m) {
    switch (m) {
    case NML_ORDER_EXACT:
        return "exact";
    case NML_ORDER_GREEDY:
        return "greedy";
    default:
        return "fixed";
    }
}

static void identity(uint32_t *order, uint32_t n) {
    for (uint32_t k = 0; k < n; k++)
        order[k] = k;
}

/* Best of the original, greedy and (when it finishes) exact orders into r. */
static nml_status search_graph(const og *g, uint64_t max_states, nml_op_order *r, nml_error *err) {
    uint32_t n = g->n_ops;
    uint32_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp) return nml_fail(err, NML_E_NOMEM, "out of memory");
    uint64_t greedy_peak = 0, exact_peak = 0;
    int exhausted = 0;
    nml_status st = og_greedy(g, tmp, &greedy_peak, err);
    if (st == NML_OK && greedy_peak < r->peak) {
        memcpy(r->order, tmp, n * sizeof *tmp);
        r->peak = greedy_peak;
    }
    if (st == NML_OK)
        st = og_exact(g, r->peak, max_states, tmp, &exact_peak, &r->states, &exhausted, err);
    if (st == NML_OK && !exhausted) {
        r->method = NML_ORDER_EXACT;
        if (exact_peak < r->peak) {
            memcpy(r->order, tmp, n * sizeof *tmp);
            r->peak = exact_peak;
        }
    } else if (st == NML_OK) {
        r->method = NML_ORDER_GREEDY;
        snprintf(r->note, sizeof r->note,
                 "the exact search needed more than %llu sets of executed operators",
                 (unsigned long long)max_states);
    }
    free(tmp);
    return st;
}

static nml_status plan_graph(const nml_model *model, const nml_op_resolver *ops, og *g,
                             const char **fixed_why, size_t *runtime_bound, nml_error *err) {
    nml_interpreter it = {0};
    uint8_t *arena = NULL;
    NML_TRY(nml_interpreter_init_alloc(&it, model, ops, &arena, err));
    *runtime_bound = it.activation_min_bytes;
    nml_status st = og_build(g, &it, fixed_why, err);
    free(arena);
    return st;
}

nml_status nml_order_search(const nml_model *model, const nml_op_resolver *ops,
                            const nml_order_options *opts, nml_op_order *r, nml_error *err) {
    memset(r, 0, sizeof *r);
    og g;
    const char *why = NULL;
    size_t runtime_bound = 0;
    NML_TRY(plan_graph(model, ops, &g, &why, &runtime_bound, err));
    r->n_ops = model->n_operators;
    r->order = malloc((r->n_ops ? r->n_ops : 1) * sizeof *r->order);
    if (!r->order) {
        og_free(&g);
        return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    identity(r->order, r->n_ops);
    r->method = NML_ORDER_FIXED;
    r->original_peak = r->peak = runtime_bound;
    nml_status st = NML_OK;
    if (why) {
        snprintf(r->note, sizeof r->note, "operators keep their order: %s", why);
    } else {
        uint64_t own = 0;
        st = og_order_peak(&g, r->order, r->n_ops, &own, err);
        if (st == NML_OK && own != runtime_bound)
            snprintf(r->note, sizeof r->note,
                     "operators keep their order: the search's cost model gives %llu bytes for "
                     "it, the runtime %zu",
                     (unsigned long long)own, runtime_bound);
        else if (st == NML_OK)
            st = search_graph(
                &g, opts && opts->max_states ? opts->max_states : NML_ORDER_MAX_STATES, r, err);
    }
    og_free(&g);
    if (st != NML_OK) nml_op_order_free(r);
    return st;
}

nml_status nml_order_peak(const nml_model *model, const nml_op_resolver *ops, const uint32_t *order,
                          uint32_t n, uint64_t *peak, nml_error *err) {
    og g;
    const char *why = NULL;
    size_t runtime_bound = 0;
    NML_TRY(plan_graph(model, ops, &g, &why, &runtime_bound, err));
    if (why) return nml_fail(err, NML_E_UNSUPPORTED, "operators keep their order: %s", why);
    nml_status st = og_order_peak(&g, order, n, peak, err);
    og_free(&g);
    return st;
}
