/* Observed activation ranges of a float graph run in the nanoml runtime. */
#include <math.h>
#include <stdlib.h>

#include "nanoml/recalib.h"

nml_status nml_act_ranges_init(nml_act_ranges *r, int n_tensors, nml_error *err) {
    r->n = n_tensors;
    size_t n = n_tensors > 0 ? (size_t)n_tensors : 1;
    r->lo = malloc(n * sizeof *r->lo);
    r->hi = malloc(n * sizeof *r->hi);
    r->seen = calloc(n, 1);
    r->sum_lo = calloc(n, sizeof *r->sum_lo);
    r->sum_hi = calloc(n, sizeof *r->sum_hi);
    r->count = calloc(n, sizeof *r->count);
    if (!r->lo || !r->hi || !r->seen || !r->sum_lo || !r->sum_hi || !r->count) {
        nml_act_ranges_free(r);
        return nml_fail(err, NML_E_NOMEM, "ranges: out of memory for %d tensors", n_tensors);
    }
    return NML_OK;
}

void nml_act_ranges_free(nml_act_ranges *r) {
    free(r->lo);
    free(r->hi);
    free(r->seen);
    free(r->sum_lo);
    free(r->sum_hi);
    free(r->count);
    r->lo = r->hi = NULL;
    r->seen = NULL;
    r->sum_lo = r->sum_hi = NULL;
    r->count = NULL;
    r->n = 0;
}

void nml_act_ranges_add(nml_act_ranges *r, int t, const float *v, size_t count) {
    if (t < 0 || t >= r->n || count == 0) return;
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(v[i])) continue;
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
    }
    if (lo > hi) return; /* nothing finite */
    r->lo[t] = r->seen[t] && r->lo[t] < lo ? r->lo[t] : lo;
    r->hi[t] = r->seen[t] && r->hi[t] > hi ? r->hi[t] : hi;
    r->seen[t] = 1;
    r->sum_lo[t] += lo;
    r->sum_hi[t] += hi;
    r->count[t]++;
}

void nml_act_ranges_use_mean(nml_act_ranges *r) {
    for (int t = 0; t < r->n; t++) {
        if (!r->seen[t] || r->count[t] == 0) continue;
        r->lo[t] = (float)(r->sum_lo[t] / r->count[t]);
        r->hi[t] = (float)(r->sum_hi[t] / r->count[t]);
    }
}

static void add_tensor(nml_act_ranges *r, nml_interpreter *it, int32_t t) {
    if (t < 0 || (uint32_t)t >= it->n_tensors) return;
    const nml_tensor *x = &it->tensors[t];
    if (x->type == NML_FLOAT32 && x->data) nml_act_ranges_add(r, t, x->data, nml_tensor_count(x));
}

typedef struct observer {
    nml_act_ranges *r;
    nml_interpreter *it;
} observer;

/* Runs after every operator, while its outputs are still in the arena (the planner may reuse
 * their memory for later operators). */
static void on_node(void *user, uint32_t node) {
    observer *o = user;
    nml_model_op op;
    if (nml_model_operator(o->it->model, node, &op, NULL) != NML_OK) return;
    for (uint16_t k = 0; k < op.n_outputs; k++)
        add_tensor(o->r, o->it, op.outputs[k]);
}

nml_status nml_act_ranges_observe(nml_act_ranges *r, nml_interpreter *it, nml_error *err) {
    for (uint32_t i = 0; i < nml_input_count(it); i++)
        add_tensor(r, it, nml_input_index(it, i));
    observer o = {r, it};
    void (*saved)(void *, uint32_t) = it->on_node_done;
    void *saved_user = it->hook_user;
    it->on_node_done = on_node;
    it->hook_user = &o;
    nml_status st = nml_invoke(it, err);
    it->on_node_done = saved;
    it->hook_user = saved_user;
    return st;
}
