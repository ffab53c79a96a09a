/* The weight transform used by clustering and quantization-aware training: centroid gather,
 * then symmetric per-channel fake quantization computed exactly as the int8 quantizer stores
 * the weights (nml_weight_scales + nml_quantize_weights), so what the network trains with is
 * what the exported int8 model holds. */
#include <stdlib.h>
#include <string.h>

#include "compress/compress_internal.h"
#include "nanoml/quantize.h"

typedef struct whook {
    int k, zero_cluster;
    int32_t *index;
    float *centroid;
    double *sum;     /* per cluster: member values (forward), gradients (backward) */
    size_t *members; /* per cluster */
    int qmax, axis;
    float *scales; /* per channel */
    int8_t *q;     /* per weight */
    size_t inner;  /* weights between consecutive channel indices */
    int32_t channels;
} whook;

static void whook_free(void *user) {
    whook *h = user;
    if (!h) return;
    free(h->index);
    free(h->centroid);
    free(h->sum);
    free(h->members);
    free(h->scales);
    free(h->q);
    free(h);
}

/* Centroids are the means of their members' stored values: training gives every member the
 * same update, and the mean absorbs any last-bit difference between vector and scalar code. */
static void gather(nml_param *p, whook *h) {
    memset(h->sum, 0, (size_t)h->k * sizeof *h->sum);
    memset(h->members, 0, (size_t)h->k * sizeof *h->members);
    for (size_t i = 0; i < p->count; i++) {
        h->sum[h->index[i]] += p->value[i];
        h->members[h->index[i]]++;
    }
    for (int c = 0; c < h->k; c++)
        if (c == h->zero_cluster)
            h->centroid[c] = 0.0f;
        else if (h->members[c])
            h->centroid[c] = (float)(h->sum[c] / (double)h->members[c]);
    for (size_t i = 0; i < p->count; i++)
        p->effective[i] = h->centroid[h->index[i]];
}

static void fake_quantize(nml_param *p, whook *h) {
    float *w = p->effective;
    if (nml_weight_scales(w, p->shape.rank, p->shape.dims, h->axis, h->qmax, h->scales, NULL) !=
            NML_OK ||
        nml_quantize_weights(w, p->shape.rank, p->shape.dims, h->axis, h->qmax, h->scales, h->q,
                             NULL) != NML_OK)
        return; /* shapes were checked at install */
    for (size_t i = 0; i < p->count; i++)
        w[i] = (float)h->q[i] * h->scales[(i / h->inner) % (size_t)h->channels];
}

static void whook_forward(nml_param *p, void *user) {
    whook *h = user;
    if (h->k > 0)
        gather(p, h);
    else
        memcpy(p->effective, p->value, p->count * sizeof(float));
    if (h->qmax > 0) fake_quantize(p, h);
}

/* The straight-through estimator leaves the gradient as it is; clustering sums it per
 * centroid. */
static void whook_backward(nml_param *p, void *user) {
    whook *h = user;
    if (h->k == 0 || !p->grad) return;
    memset(h->sum, 0, (size_t)h->k * sizeof *h->sum);
    for (size_t i = 0; i < p->count; i++)
        h->sum[h->index[i]] += p->grad[i];
    for (size_t i = 0; i < p->count; i++)
        p->grad[i] = h->index[i] == h->zero_cluster ? 0.0f : (float)h->sum[h->index[i]];
}

static nml_status setup_quant(nml_param *p, whook *h, nml_error *err) {
    if (h->axis < -1 || h->axis >= p->shape.rank)
        return nml_fail(err, NML_E_ARG, "%s: channel axis %d outside rank %d", p->name, h->axis,
                        (int)p->shape.rank);
    h->channels = h->axis >= 0 ? p->shape.dims[h->axis] : 1; /* -1: one scale per tensor */
    h->inner = h->axis >= 0 ? 1 : p->count;
    for (int d = h->axis + 1; h->axis >= 0 && d < p->shape.rank; d++)
        h->inner *= (size_t)p->shape.dims[d];
    h->scales = malloc((size_t)h->channels * sizeof *h->scales);
    h->q = malloc(p->count);
    if (!h->scales || !h->q) return nml_fail(err, NML_E_NOMEM, "%s: out of memory", p->name);
    return NML_OK;
}

static nml_status setup_clusters(nml_param *p, whook *h, const nml_weight_hook_cfg *cfg,
                                 nml_error *err) {
    h->index = malloc(p->count * sizeof *h->index);
    h->centroid = malloc((size_t)h->k * sizeof *h->centroid);
    h->sum = malloc((size_t)h->k * sizeof *h->sum);
    h->members = malloc((size_t)h->k * sizeof *h->members);
    if (!h->index || !h->centroid || !h->sum || !h->members)
        return nml_fail(err, NML_E_NOMEM, "%s: out of memory", p->name);
    memcpy(h->centroid, cfg->centroids, (size_t)h->k * sizeof *h->centroid);
    for (size_t i = 0; i < p->count; i++) {
        if (cfg->index[i] < 0 || cfg->index[i] >= h->k)
            return nml_fail(err, NML_E_ARG, "%s: weight %zu in cluster %d of %d", p->name, i,
                            (int)cfg->index[i], h->k);
        h->index[i] = cfg->index[i];
        p->value[i] = h->centroid[h->index[i]];
    }
    return NML_OK;
}

nml_status nml_weight_hook_install(nml_param *p, const nml_weight_hook_cfg *cfg, nml_error *err) {
    whook *h = calloc(1, sizeof *h);
    if (!h) return nml_fail(err, NML_E_NOMEM, "%s: out of memory", p->name);
    h->k = cfg->k;
    h->zero_cluster = cfg->k > 0 ? cfg->zero_cluster : -1;
    h->qmax = cfg->qmax;
    h->axis = cfg->axis;
    nml_status st = NML_OK;
    if (h->k > 0) st = setup_clusters(p, h, cfg, err);
    if (st == NML_OK && h->qmax > 0) st = setup_quant(p, h, err);
    if (st == NML_OK) {
        const nml_param_hook hook = {whook_forward, whook_backward, whook_free, h};
        st = nml_param_set_hook(p, &hook, err);
    }
    if (st != NML_OK && p->hook.user != h) whook_free(h);
    return st;
}

int nml_weight_hook_present(const nml_param *p) {
    return p->hook.forward == whook_forward;
}

int nml_weight_hook_clusters(const nml_param *p) {
    return nml_weight_hook_present(p) ? ((const whook *)p->hook.user)->k : 0;
}

nml_status nml_weight_hook_strip(nml_param *p, nml_error *err) {
    if (!nml_weight_hook_present(p)) return NML_OK;
    nml_param_before_forward(p);
    memcpy(p->value, p->effective, p->count * sizeof(float));
    return nml_param_set_hook(p, NULL, err);
}
