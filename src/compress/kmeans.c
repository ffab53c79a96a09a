/* One-dimensional k-means: centroid initializations (linear, density, k-means++) and Lloyd's
 * iterations. In one dimension clusters are intervals, so assignment is a binary search over
 * the sorted centroids. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/compress_internal.h"
#include "nanoml/cluster.h"
#include "nanoml/train_rng.h"

const char *nml_centroid_init_name(nml_centroid_init init) {
    switch (init) {
    case NML_CENTROIDS_LINEAR:
        return "linear";
    case NML_CENTROIDS_DENSITY:
        return "density";
    case NML_CENTROIDS_KMEANS_PP:
        return "kmeans++";
    }
    return "?";
}

int nml_centroid_init_parse(const char *name, nml_centroid_init *init) {
    static const nml_centroid_init all[] = {NML_CENTROIDS_LINEAR, NML_CENTROIDS_DENSITY,
                                            NML_CENTROIDS_KMEANS_PP};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, nml_centroid_init_name(all[i])) == 0) {
            *init = all[i];
            return 0;
        }
    return -1;
}

static int by_value(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : (x > y);
}

size_t nml_count_distinct(const float *x, size_t n) {
    if (n == 0) return 0;
    float *s = malloc(n * sizeof *s);
    if (!s) return 0;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, by_value);
    size_t d = 1;
    for (size_t i = 1; i < n; i++)
        d += s[i] != s[i - 1];
    free(s);
    return d;
}

static nml_status check_values(const float *x, size_t n, int k, nml_error *err) {
    if (k < 1 || k > NML_CLUSTERS_MAX)
        return nml_fail(err, NML_E_ARG, "%d clusters: the number of clusters must be 1 to %d", k,
                        NML_CLUSTERS_MAX);
    if ((size_t)k > n)
        return nml_fail(err, NML_E_ARG, "%d clusters for %zu weights: too many clusters", k, n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return nml_fail(err, NML_E_ARG, "weight %zu is not a finite number", i);
    return NML_OK;
}

static void linear_init(const float *x, size_t n, int k, float *c) {
    float lo = x[0], hi = x[0];
    for (size_t i = 1; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    if (k == 1) {
        c[0] = (float)(0.5 * ((double)lo + hi));
        return;
    }
    for (int i = 0; i < k; i++)
        c[i] = (float)((double)lo + ((double)hi - lo) * i / (k - 1));
}

/* Quantile q of sorted values, interpolating between neighbours (NumPy's default). */
static float quantile(const float *s, size_t n, double q) {
    const double pos = q * (double)(n - 1);
    const size_t lo = (size_t)floor(pos);
    if (lo + 1 >= n) return s[n - 1];
    const double f = pos - (double)lo;
    return (float)((double)s[lo] + f * ((double)s[lo + 1] - s[lo]));
}

static nml_status density_init(const float *x, size_t n, int k, float *c, nml_error *err) {
    float *s = malloc(n * sizeof *s);
    if (!s) return nml_fail(err, NML_E_NOMEM, "out of memory sorting %zu weights", n);
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, by_value);
    for (int i = 0; i < k; i++)
        c[i] = quantile(s, n, k == 1 ? 0.5 : (double)i / (k - 1));
    free(s);
    return NML_OK;
}

static nml_status kmeanspp_init(const float *x, size_t n, int k, uint64_t seed, float *c,
                                nml_error *err) {
    double *d2 = malloc(n * sizeof *d2);
    if (!d2) return nml_fail(err, NML_E_NOMEM, "out of memory for %zu distances", n);
    nml_rng rng;
    nml_rng_seed(&rng, seed);
    c[0] = x[nml_rng_below(&rng, (uint32_t)n)];
    for (size_t i = 0; i < n; i++)
        d2[i] = ((double)x[i] - c[0]) * ((double)x[i] - c[0]);
    for (int j = 1; j < k; j++) {
        double total = 0.0;
        for (size_t i = 0; i < n; i++)
            total += d2[i];
        size_t pick = n; /* the first value whose cumulative weight passes the draw */
        if (total > 0.0) {
            const double r = (double)nml_rng_uniform(&rng) * total;
            double acc = 0.0;
            for (size_t i = 0; i < n && pick == n; i++) {
                acc += d2[i];
                if (acc > r) pick = i;
            }
            for (size_t i = n; pick == n && i-- > 0;) /* rounding: the last candidate */
                if (d2[i] > 0.0) pick = i;
        }
        c[j] = total > 0.0 ? x[pick] : c[j - 1]; /* fewer distinct values than clusters */
        for (size_t i = 0; i < n; i++) {
            const double d = ((double)x[i] - c[j]) * ((double)x[i] - c[j]);
            if (d < d2[i]) d2[i] = d;
        }
    }
    free(d2);
    return NML_OK;
}

nml_status nml_centroids_init(const float *x, size_t n, int k, nml_centroid_init init,
                              uint64_t seed, float *centroids, nml_error *err) {
    NML_TRY(check_values(x, n, k, err));
    switch (init) {
    case NML_CENTROIDS_LINEAR:
        linear_init(x, n, k, centroids);
        break;
    case NML_CENTROIDS_DENSITY:
        NML_TRY(density_init(x, n, k, centroids, err));
        break;
    case NML_CENTROIDS_KMEANS_PP:
        NML_TRY(kmeanspp_init(x, n, k, seed, centroids, err));
        break;
    default:
        return nml_fail(err, NML_E_ARG, "unknown centroid initialization %d", (int)init);
    }
    qsort(centroids, (size_t)k, sizeof *centroids, by_value);
    return NML_OK;
}

/* Nearest of k ascending centroids; halfway goes to the lower one. */
static int32_t nearest(const float *c, int k, float v) {
    int lo = 0, hi = k; /* first centroid >= v */
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (c[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return 0;
    if (lo == k) return k - 1;
    return (double)v - c[lo - 1] <= (double)c[lo] - v ? lo - 1 : lo;
}

static int assign_all(const float *x, size_t n, const float *c, int k, int32_t *a) {
    int changed = 0;
    for (size_t i = 0; i < n; i++) {
        const int32_t j = nearest(c, k, x[i]);
        changed |= j != a[i];
        a[i] = j;
    }
    return changed;
}

static void update_means(const float *x, size_t n, const int32_t *a, int k, float *c, double *sum,
                         size_t *count) {
    memset(sum, 0, (size_t)k * sizeof *sum);
    memset(count, 0, (size_t)k * sizeof *count);
    for (size_t i = 0; i < n; i++) {
        sum[a[i]] += x[i];
        count[a[i]]++;
    }
    for (int j = 0; j < k; j++)
        if (count[j]) c[j] = (float)(sum[j] / (double)count[j]);
    qsort(c, (size_t)k, sizeof *c, by_value);
}

nml_status nml_kmeans_1d(const float *x, size_t n, int k, nml_centroid_init init, uint64_t seed,
                         int max_iter, float *centroids, int32_t *assign, int *iterations,
                         nml_error *err) {
    if (iterations) *iterations = 0;
    NML_TRY(nml_centroids_init(x, n, k, init, seed, centroids, err));
    int32_t *a = assign ? assign : malloc(n * sizeof *a);
    double *sum = malloc((size_t)k * sizeof *sum);
    size_t *count = malloc((size_t)k * sizeof *count);
    nml_status st = a && sum && count ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    if (st == NML_OK) {
        for (size_t i = 0; i < n; i++)
            a[i] = -1;
        assign_all(x, n, centroids, k, a);
        const int rounds = max_iter < 0 ? 300 : max_iter;
        for (int it = 0; it < rounds; it++) {
            update_means(x, n, a, k, centroids, sum, count);
            const int changed = assign_all(x, n, centroids, k, a);
            if (iterations) *iterations = it + 1;
            if (!changed) break;
        }
    }
    if (a != assign) free(a);
    free(sum);
    free(count);
    return st;
}
