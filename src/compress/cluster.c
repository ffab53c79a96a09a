/* Clustering a network's kernels: k-means per layer, then the weight transform that trains the
 * centroids with fixed assignments. */
#include <stdlib.h>
#include <string.h>

#include "compress/compress_internal.h"
#include "nanoml/cluster.h"

typedef struct clustered {
    nml_layer *layer;
    nml_param *kernel;
    int clusters, iterations;
} clustered;

struct nml_clusterer {
    nml_net *net;
    clustered *l;
    int n;
};

void nml_cluster_opts_default(nml_cluster_opts *o) {
    memset(o, 0, sizeof *o);
    o->clusters = 16;
    o->init = NML_CENTROIDS_KMEANS_PP;
    o->seed = 1;
    o->max_iter = -1;
}

static nml_status check_count(int k, const char *where, nml_error *err) {
    if (k < 1 || k > NML_CLUSTERS_MAX)
        return nml_fail(err, NML_E_ARG, "%s%d clusters: the number of clusters must be 1 to %d",
                        where, k, NML_CLUSTERS_MAX);
    return NML_OK;
}

static const nml_cluster_layer *listed(const nml_cluster_opts *o, const char *name) {
    for (int i = 0; i < o->n_layers; i++)
        if (o->layers[i].layer && strcmp(o->layers[i].layer, name) == 0) return &o->layers[i];
    return NULL;
}

/* k-means over the (non-zero, with preserve_sparsity) weights, then the transform. */
static nml_status cluster_kernel(clustered *c, const nml_cluster_opts *o, nml_error *err) {
    nml_param *p = c->kernel;
    const size_t n = p->count;
    float *x = malloc(n * sizeof *x), *cent = malloc((NML_CLUSTERS_MAX + 1) * sizeof *cent);
    int32_t *a = malloc(n * sizeof *a), *index = malloc(n * sizeof *index);
    uint8_t *mask = malloc(n);
    nml_status st =
        x && cent && a && index && mask ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    size_t m = 0, zeros = 0;
    for (size_t i = 0; st == NML_OK && i < n; i++) {
        const int zero = o->preserve_sparsity && p->value[i] == 0.0f;
        zeros += zero;
        if (!zero) x[m++] = p->value[i];
    }
    const int k = c->clusters - (zeros > 0); /* the zero cluster counts towards k */
    if (st == NML_OK && k < 1)
        st = nml_fail(err, NML_E_ARG,
                      "1 cluster with preserve_sparsity leaves none for the "
                      "non-zero weights");
    if (st == NML_OK && (size_t)k > m && zeros)
        st = nml_fail(err, NML_E_ARG,
                      "%d clusters (one of them for the zeros) for %zu non-zero "
                      "weights: too many clusters",
                      c->clusters, m);
    else if (st == NML_OK && (size_t)k > m)
        st = nml_fail(err, NML_E_ARG, "%d clusters for %zu weights: too many clusters", c->clusters,
                      m);
    if (st == NML_OK)
        st = nml_kmeans_1d(x, m, k, o->init, o->seed, o->max_iter, cent, a, &c->iterations, err);
    if (st == NML_OK) {
        for (size_t i = 0, j = 0; i < n; i++) {
            const int zero = o->preserve_sparsity && p->value[i] == 0.0f;
            index[i] = zero ? k : a[j++];
            mask[i] = !zero;
        }
        cent[k] = 0.0f;
        if (zeros) st = nml_param_set_mask(p, mask, err);
    }
    if (st == NML_OK) {
        const nml_weight_hook_cfg cfg = {.k = k + (zeros > 0),
                                         .index = index,
                                         .centroids = cent,
                                         .zero_cluster = zeros ? k : -1};
        st = nml_weight_hook_install(p, &cfg, err);
    }
    free(x);
    free(cent);
    free(a);
    free(index);
    free(mask);
    if (st != NML_OK) return nml_error_prefix(err, "layer %s: ", c->layer->name);
    return NML_OK;
}

static nml_status choose(nml_clusterer *c, const nml_cluster_opts *o, nml_error *err) {
    for (int j = 0; j < o->n_layers; j++) {
        const nml_layer *l =
            o->layers[j].layer ? nml_net_find_layer(c->net, o->layers[j].layer) : NULL;
        if (!l || !nml_compress_kernel(l))
            return nml_fail(err, NML_E_ARG, "layer '%s' is not a layer with weights in %s",
                            o->layers[j].layer ? o->layers[j].layer : "(null)",
                            nml_net_name(c->net));
        if (o->layers[j].clusters != 0) {
            char where[NML_LAYER_NAME_MAX + 16];
            snprintf(where, sizeof where, "layer %s: ", l->name);
            NML_TRY(check_count(o->layers[j].clusters, where, err));
        }
    }
    const int n = nml_net_layer_count(c->net);
    c->l = calloc((size_t)n + 1, sizeof *c->l);
    if (!c->l) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        nml_layer *l = nml_net_layer(c->net, i);
        nml_param *k = nml_compress_kernel(l);
        if (!k) continue;
        const nml_cluster_layer *e = listed(o, l->name);
        const int clusters = e ? e->clusters : (o->only_listed ? 0 : o->clusters);
        if (clusters == 0) continue;
        if (nml_weight_hook_present(k))
            return nml_fail(err, NML_E_STATE, "layer %s: its weights already have a transform",
                            l->name);
        c->l[c->n++] = (clustered){l, k, clusters, 0};
    }
    if (c->n == 0)
        return nml_fail(err, NML_E_ARG, "no layer to cluster in %s", nml_net_name(c->net));
    return NML_OK;
}

nml_status nml_clusterer_create(nml_clusterer **out, nml_net *net, const nml_cluster_opts *o,
                                nml_error *err) {
    *out = NULL;
    if (o->only_listed == 0 || o->n_layers == 0) NML_TRY(check_count(o->clusters, "", err));
    nml_clusterer *c = calloc(1, sizeof *c);
    if (!c) return nml_fail(err, NML_E_NOMEM, "out of memory");
    c->net = net;
    nml_status st = choose(c, o, err);
    for (int i = 0; st == NML_OK && i < c->n; i++)
        st = cluster_kernel(&c->l[i], o, err);
    if (st != NML_OK) {
        nml_clusterer_free(c);
        return st;
    }
    *out = c;
    return NML_OK;
}

nml_status nml_clusterer_strip(nml_clusterer *c, nml_error *err) {
    for (int i = 0; i < c->n; i++)
        NML_TRY(nml_weight_hook_strip(c->l[i].kernel, err));
    return NML_OK;
}

void nml_clusterer_free(nml_clusterer *c) {
    if (!c) return;
    free(c->l);
    free(c);
}

int nml_clusterer_layer_count(const nml_clusterer *c) {
    return c->n;
}

void nml_clusterer_layer_report(const nml_clusterer *c, int i, nml_cluster_layer_report *r) {
    memset(r, 0, sizeof *r);
    if (i < 0 || i >= c->n) return;
    const clustered *e = &c->l[i];
    r->layer = e->layer->name;
    r->weights = e->kernel->count;
    r->clusters = e->clusters;
    r->iterations = e->iterations;
    r->distinct = (int)nml_count_distinct(nml_param_data(e->kernel), e->kernel->count);
}
