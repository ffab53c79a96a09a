/* Pruning a network while it trains: per-layer targets, schedule-driven mask updates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/compress_internal.h"
#include "nanoml/prune.h"

typedef struct pruned_layer {
    nml_layer *layer;
    nml_param *kernel, *bias;
    float target;
    size_t rows, row_len; /* output channels x weights per channel (not for depthwise) */
} pruned_layer;

struct nml_pruner {
    nml_net *net;
    nml_prune_opts o;
    pruned_layer *l;
    int n;
    uint8_t *mask, *bias_mask; /* scratch, largest kernel / bias */
    double *key;
};

static const char *structure_name(nml_prune_structure s) {
    switch (s) {
    case NML_PRUNE_NM:
        return "N:M";
    case NML_PRUNE_FILTERS:
        return "filter";
    default:
        return "unstructured";
    }
}

void nml_pruner_free(nml_pruner *p) {
    if (!p) return;
    free(p->l);
    free(p->mask);
    free(p->bias_mask);
    free(p->key);
    free(p);
}

static const nml_prune_layer *listed(const nml_prune_opts *o, const char *name) {
    for (int i = 0; i < o->n_layers; i++)
        if (o->layers[i].layer && strcmp(o->layers[i].layer, name) == 0) return &o->layers[i];
    return NULL;
}

/* Index of the last layer with a kernel (its channels are the model's outputs, in practice). */
static int last_kernel_layer(const nml_net *net) {
    int last = -1;
    for (int i = 0; i < nml_net_layer_count(net); i++)
        if (nml_compress_kernel(nml_net_layer(net, i))) last = i;
    return last;
}

/* Whether the structure can prune layer i; *why explains a refusal. */
static int structure_fits(const nml_pruner *p, int i, const char **why) {
    const nml_layer *l = nml_net_layer(p->net, i);
    if (p->o.structure == NML_PRUNE_UNSTRUCTURED) return 1;
    if (nml_compress_is_depthwise(l)) {
        *why = "depthwise kernels have no rows to prune by";
        return 0;
    }
    if (p->o.structure == NML_PRUNE_FILTERS && i == last_kernel_layer(p->net)) {
        *why = "its channels are the model's outputs";
        return 0;
    }
    return 1;
}

static nml_status check_listed(const nml_pruner *p, nml_error *err) {
    nml_gbuf g;
    for (int j = 0; j < p->o.n_layers; j++) {
        const nml_prune_layer *e = &p->o.layers[j];
        const nml_layer *l = e->layer ? nml_net_find_layer(p->net, e->layer) : NULL;
        if (!l || !nml_compress_kernel(l))
            return nml_fail(err, NML_E_ARG, "layer '%s' is not a layer with weights in %s",
                            e->layer ? e->layer : "(null)", nml_net_name(p->net));
        if (e->sparsity >= 0.0f && !(e->sparsity < 1.0f))
            return nml_fail(err, NML_E_ARG, "layer %s: sparsity %s is outside [0, 1)", e->layer,
                            nml_g(&g, e->sparsity));
    }
    return NML_OK;
}

static nml_status add_layer(nml_pruner *p, int i, float target, nml_error *err) {
    nml_layer *l = nml_net_layer(p->net, i);
    pruned_layer *e = &p->l[p->n++];
    e->layer = l;
    e->kernel = nml_compress_kernel(l);
    e->bias = nml_layer_find_param(l, "bias");
    e->target = target;
    e->rows = nml_compress_is_depthwise(l) ? 1 : (size_t)e->kernel->shape.dims[0];
    e->row_len = e->kernel->count / e->rows;
    if (e->bias && e->bias->count != e->rows) e->bias = NULL; /* not a per-channel bias */
    if (!e->kernel->trainable)
        return nml_fail(err, NML_E_ARG, "layer %s: kernel is not trainable", l->name);
    return NML_OK;
}

static nml_status choose_layers(nml_pruner *p, nml_error *err) {
    const int n = nml_net_layer_count(p->net);
    p->l = calloc((size_t)n + 1, sizeof *p->l);
    if (!p->l) return nml_fail(err, NML_E_NOMEM, "out of memory");
    size_t largest = 1, largest_rows = 1;
    for (int i = 0; i < n; i++) {
        const nml_layer *l = nml_net_layer(p->net, i);
        if (!nml_compress_kernel(l)) continue;
        const nml_prune_layer *e = listed(&p->o, l->name);
        float target = e ? e->sparsity : p->o.schedule.target_sparsity;
        if ((!e && p->o.only_listed) || target < 0.0f) continue;
        const char *why = "";
        if (!structure_fits(p, i, &why)) {
            if (e)
                return nml_fail(err, NML_E_ARG, "layer %s (%s): %s pruning does not apply: %s",
                                l->name, l->ops->kind, structure_name(p->o.structure), why);
            continue;
        }
        NML_TRY(add_layer(p, i, target, err));
        const nml_param *k = p->l[p->n - 1].kernel;
        largest = k->count > largest ? k->count : largest;
        largest_rows = p->l[p->n - 1].rows > largest_rows ? p->l[p->n - 1].rows : largest_rows;
    }
    if (p->n == 0) return nml_fail(err, NML_E_ARG, "no layer to prune in %s", nml_net_name(p->net));
    p->mask = malloc(largest);
    p->bias_mask = malloc(largest_rows);
    p->key = malloc(largest * sizeof *p->key);
    if (!p->mask || !p->bias_mask || !p->key) return nml_fail(err, NML_E_NOMEM, "out of memory");
    return NML_OK;
}

nml_status nml_pruner_create(nml_pruner **out, nml_net *net, const nml_prune_opts *o,
                             nml_error *err) {
    *out = NULL;
    nml_pruner *p = calloc(1, sizeof *p);
    if (!p) return nml_fail(err, NML_E_NOMEM, "out of memory");
    p->net = net;
    p->o = *o;
    if (p->o.structure == NML_PRUNE_NM && p->o.n == 0 && p->o.m == 0) p->o.n = 2, p->o.m = 4;
    nml_status st = nml_prune_schedule_check(&p->o.schedule, err);
    if (st == NML_OK && p->o.structure == NML_PRUNE_NM &&
        (p->o.m < 2 || p->o.m > 64 || p->o.n < 1 || p->o.n >= p->o.m))
        st = nml_fail(err, NML_E_ARG, "%d:%d sparsity needs 1 <= N < M <= 64", p->o.n, p->o.m);
    if (st == NML_OK &&
        (p->o.structure < NML_PRUNE_UNSTRUCTURED || p->o.structure > NML_PRUNE_FILTERS))
        st = nml_fail(err, NML_E_ARG, "unknown pruning structure %d", (int)p->o.structure);
    if (st == NML_OK) st = check_listed(p, err);
    if (st == NML_OK) st = choose_layers(p, err);
    if (st != NML_OK) {
        nml_pruner_free(p);
        return st;
    }
    *out = p;
    return NML_OK;
}

/* ---- mask updates ---- */

/* Unstructured: weights pruned before are pruned first again, so sparsity only grows. */
static nml_status update_unstructured(nml_pruner *p, pruned_layer *e, float s, nml_error *err) {
    const nml_param *k = e->kernel;
    for (size_t i = 0; i < k->count; i++)
        p->key[i] = k->mask && !k->mask[i] ? -1.0 : fabs((double)k->value[i]);
    return nml_prune_smallest(p->key, k->count, nml_prune_count(k->count, s), 1, p->mask, err);
}

static nml_status update_filters(nml_pruner *p, pruned_layer *e, float s, nml_error *err) {
    const nml_param *k = e->kernel;
    nml_row_norms(k->value, e->rows, e->row_len, p->key);
    for (size_t r = 0; r < e->rows; r++) {
        int gone = k->mask != NULL;
        for (size_t j = 0; gone && j < e->row_len; j++)
            gone = !k->mask[r * e->row_len + j];
        if (gone) p->key[r] = -1.0;
    }
    size_t n = nml_prune_count(e->rows, s);
    if (n > e->rows - 1) n = e->rows - 1;
    NML_TRY(nml_prune_smallest(p->key, e->rows, n, e->row_len, p->mask, err));
    if (!e->bias) return NML_OK;
    for (size_t r = 0; r < e->rows; r++)
        p->bias_mask[r] = p->mask[r * e->row_len];
    return nml_param_set_mask(e->bias, p->bias_mask, err);
}

static nml_status update_layer(nml_pruner *p, pruned_layer *e, float s, nml_error *err) {
    nml_status st;
    switch (p->o.structure) {
    case NML_PRUNE_NM:
        st = nml_nm_mask(e->kernel->value, e->rows, e->row_len, p->o.n, p->o.m, p->mask, err);
        break;
    case NML_PRUNE_FILTERS:
        st = update_filters(p, e, s, err);
        break;
    default:
        st = update_unstructured(p, e, s, err);
        break;
    }
    if (st == NML_OK) st = nml_param_set_mask(e->kernel, p->mask, err);
    if (st != NML_OK) return nml_error_prefix(err, "layer %s: ", e->layer->name);
    return NML_OK;
}

/* The layer's sparsity at a step: the schedule with the layer's own target. */
static float layer_sparsity(const nml_pruner *p, const pruned_layer *e, int64_t step) {
    nml_prune_schedule s = p->o.schedule;
    s.target_sparsity = e->target;
    if (s.initial_sparsity > e->target) s.initial_sparsity = e->target;
    return nml_prune_sparsity_at(&s, step);
}

nml_status nml_pruner_step(nml_pruner *p, int64_t step, nml_error *err) {
    if (!nml_prune_should_update(&p->o.schedule, step)) return NML_OK;
    for (int i = 0; i < p->n; i++)
        NML_TRY(update_layer(p, &p->l[i], layer_sparsity(p, &p->l[i], step), err));
    return NML_OK;
}

nml_status nml_pruner_on_step(void *pruner, int64_t step, nml_error *err) {
    return nml_pruner_step(pruner, step, err);
}

nml_status nml_pruner_finish(nml_pruner *p, nml_error *err) {
    for (int i = 0; i < p->n; i++)
        NML_TRY(update_layer(p, &p->l[i], p->l[i].target, err));
    return NML_OK;
}

int nml_pruner_layer_count(const nml_pruner *p) {
    return p->n;
}

void nml_pruner_layer_report(const nml_pruner *p, int i, nml_prune_layer_report *r) {
    memset(r, 0, sizeof *r);
    if (i < 0 || i >= p->n) return;
    const pruned_layer *e = &p->l[i];
    r->layer = e->layer->name;
    r->weights = e->kernel->count;
    r->target = p->o.structure == NML_PRUNE_NM ? 1.0f - (float)p->o.n / (float)p->o.m : e->target;
    for (size_t k = 0; e->kernel->mask && k < e->kernel->count; k++)
        r->zeros += !e->kernel->mask[k];
}
