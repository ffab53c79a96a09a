/* In-place magnitude pruning of int8 convolution weights (include/nanoml/prune_int8.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/prune_int8.h"
#include "nanoml/runtime.h"

typedef struct ranked {
    double key;
    uint32_t index;
} ranked;

static int by_key(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

typedef struct weights {
    int8_t *q;
    uint32_t n;                   /* elements */
    uint32_t q_channels, q_inner; /* quantization channels (1: per tensor), elements per step */
    uint32_t filters, f_inner;    /* output filters (CONV_2D dim 0, DEPTHWISE_CONV_2D dim 3) */
    const nml_tensor *t;
} weights;

/* Index along a dimension of `count` entries whose inner dimensions hold `inner` elements. */
static uint32_t index_along(uint32_t e, uint32_t inner, uint32_t count) {
    return count > 1 ? (e / inner) % count : 0;
}

static uint32_t channel_of(const weights *w, uint32_t e) {
    return index_along(e, w->q_inner, w->q_channels);
}

static uint32_t filter_of(const weights *w, uint32_t e) {
    return index_along(e, w->f_inner, w->filters);
}

static double magnitude(const weights *w, uint32_t e) {
    uint32_t c = channel_of(w, e);
    return fabs((double)w->q[e] - nml_tensor_channel_zero_point(w->t, c)) *
           (double)nml_tensor_channel_scale(w->t, c);
}

static void zero_weight(weights *w, uint32_t e) {
    w->q[e] = (int8_t)nml_tensor_channel_zero_point(w->t, channel_of(w, e));
}

/* Sorts keys[0..n) and returns how many to prune: round(fraction * n), half to even. */
static uint32_t rank_and_count(ranked *keys, uint32_t n, float fraction) {
    qsort(keys, n, sizeof *keys, by_key);
    double k = nearbyint((double)fraction * n);
    return k < 0 ? 0 : k > n ? n : (uint32_t)k;
}

static nml_status prune_weights(weights *w, float fraction, nml_error *err) {
    ranked *keys = malloc((size_t)w->n * sizeof *keys);
    if (!keys) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (uint32_t e = 0; e < w->n; e++)
        keys[e] = (ranked){magnitude(w, e), e};
    uint32_t k = rank_and_count(keys, w->n, fraction);
    for (uint32_t i = 0; i < k; i++)
        zero_weight(w, keys[i].index);
    free(keys);
    return NML_OK;
}

/* Output filters along the quantized dimension (CONV_2D: dim 0, DEPTHWISE_CONV_2D: dim 3). */
static nml_status prune_filters(weights *w, float fraction, uint64_t *pruned, nml_error *err) {
    ranked *keys = calloc(w->filters, sizeof *keys);
    if (!keys) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (uint32_t c = 0; c < w->filters; c++)
        keys[c].index = c;
    for (uint32_t e = 0; e < w->n; e++)
        keys[filter_of(w, e)].key += magnitude(w, e);
    uint32_t k = rank_and_count(keys, w->filters, fraction);
    uint8_t *cut = calloc(w->filters, 1);
    if (!cut) {
        free(keys);
        return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < k; i++)
        cut[keys[i].index] = 1;
    for (uint32_t e = 0; e < w->n; e++)
        if (cut[filter_of(w, e)]) zero_weight(w, e);
    *pruned += k;
    free(cut);
    free(keys);
    return NML_OK;
}

/* Elements per step along dimension dim. */
static uint32_t inner_elements(const nml_tensor *t, int dim) {
    uint32_t n = 1;
    for (int d = dim + 1; d < t->rank; d++)
        n *= (uint32_t)t->dims[d];
    return n;
}

static nml_status view_weights(uint8_t *data, const nml_model *m, const nml_model_op *op,
                               nml_tensor *t, weights *w, nml_error *err) {
    if (op->n_inputs < 2 || op->inputs[1] < 0) return nml_fail(err, NML_E_FORMAT, "no weights");
    NML_TRY(nml_model_tensor(m, (uint32_t)op->inputs[1], t, err));
    if (t->type != NML_INT8 || t->alloc != NML_ALLOC_CONST || !t->data || t->n_q == 0)
        return nml_fail(err, NML_E_UNSUPPORTED, "weights %d (%s) are not constant quantized int8",
                        (int)op->inputs[1], t->name);
    memset(w, 0, sizeof *w);
    w->t = t;
    w->q = (int8_t *)(data + ((const uint8_t *)t->data - m->data));
    w->n = nml_tensor_count(t);
    if (t->rank != 4)
        return nml_fail(err, NML_E_SHAPE, "weights %d are not 4-D", (int)op->inputs[1]);
    if (t->n_q > 1 &&
        (t->q_dim < 0 || t->q_dim >= t->rank || (uint32_t)t->dims[t->q_dim] != t->n_q))
        return nml_fail(err, NML_E_FORMAT, "weights %d: %u scales for dimension %d",
                        (int)op->inputs[1], (unsigned)t->n_q, (int)t->q_dim);
    w->q_channels = t->n_q > 1 ? t->n_q : 1;
    w->q_inner = inner_elements(t, t->n_q > 1 ? t->q_dim : 0);
    int f_dim = op->builtin == NML_OP_DEPTHWISE_CONV_2D ? 3 : 0; /* OHWI or 1HWO */
    w->filters = (uint32_t)t->dims[f_dim];
    w->f_inner = inner_elements(t, f_dim);
    return NML_OK;
}

static uint64_t count_zero(const weights *w) {
    uint64_t z = 0;
    for (uint32_t e = 0; e < w->n; e++)
        z += w->q[e] == (int8_t)nml_tensor_channel_zero_point(w->t, channel_of(w, e));
    return z;
}

static int skipped(const nml_prune_options *opt, uint32_t op) {
    for (int k = 0; k < opt->n_skip; k++)
        if (opt->skip_ops && opt->skip_ops[k] == (int32_t)op) return 1;
    return 0;
}

nml_status nml_prune_int8_convs(uint8_t *data, size_t size, const nml_prune_options *opt,
                                nml_prune_stats *stats, nml_error *err) {
    nml_prune_stats local;
    nml_prune_stats *s = stats ? stats : &local;
    memset(s, 0, sizeof *s);
    float fraction = opt->fraction;
    if (!(fraction >= 0.f && fraction <= 1.f))
        return nml_fail(err, NML_E_ARG, "prune: fraction must be in [0, 1]");
    nml_model m;
    NML_TRY(nml_model_load(&m, data, size, err));
    const void **seen = calloc(m.n_operators + 1, sizeof *seen);
    if (!seen) return nml_fail(err, NML_E_NOMEM, "out of memory");
    nml_status st = NML_OK;
    for (uint32_t i = 0; st == NML_OK && i < m.n_operators; i++) {
        nml_model_op op;
        nml_tensor t;
        weights w = {0};
        if ((st = nml_model_operator(&m, i, &op, err)) != NML_OK) break;
        if (op.builtin != NML_OP_CONV_2D && op.builtin != NML_OP_DEPTHWISE_CONV_2D) continue;
        if (skipped(opt, i)) continue;
        if ((st = view_weights(data, &m, &op, &t, &w, err)) != NML_OK) {
            nml_error_prefix(err, "operator %u (%s): ", (unsigned)i, nml_model_op_name(&op));
            break;
        }
        int shared = 0;
        for (int k = 0; k < s->layers && !shared; k++)
            shared = seen[k] == t.data;
        if (shared) continue; /* a weight tensor used twice is pruned once */
        seen[s->layers++] = t.data;
        s->weights += w.n;
        s->filters += w.filters;
        s->zero_before += count_zero(&w);
        st = opt->mode == NML_PRUNE_FILTERS ? prune_filters(&w, fraction, &s->filters_pruned, err)
                                            : prune_weights(&w, fraction, err);
        s->zero_after += count_zero(&w);
    }
    free(seen);
    return st;
}
