/* Pruning masks from weight magnitudes: unstructured, N:M and whole rows (filters). Ties are
 * broken by index so every mask is a deterministic function of the weights. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/compress_internal.h"
#include "nanoml/prune.h"

typedef struct ranked {
    double key;
    size_t index;
} ranked;

/* Ascending key, then ascending index: the first entries are pruned first. */
static int by_key(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

size_t nml_prune_count(size_t n, float sparsity) {
    const double keep = floor((double)n * (1.0 - (double)sparsity) + 0.5);
    return keep >= (double)n ? 0 : n - (size_t)keep;
}

static nml_status check_sparsity(float s, nml_error *err) {
    nml_gbuf g;
    if (!(s >= 0.0f && s < 1.0f))
        return nml_fail(err, NML_E_ARG, "sparsity %s is outside [0, 1)", nml_g(&g, s));
    return NML_OK;
}

nml_status nml_prune_smallest(const double *key, size_t n, size_t k, size_t stride, uint8_t *mask,
                              nml_error *err) {
    memset(mask, 1, n * stride);
    if (k == 0) return NML_OK;
    ranked *r = malloc((n ? n : 1) * sizeof *r);
    if (!r) return nml_fail(err, NML_E_NOMEM, "out of memory ranking %zu weights", n);
    for (size_t i = 0; i < n; i++)
        r[i] = (ranked){key[i], i};
    qsort(r, n, sizeof *r, by_key);
    for (size_t i = 0; i < k && i < n; i++)
        memset(mask + r[i].index * stride, 0, stride);
    free(r);
    return NML_OK;
}

nml_status nml_magnitude_mask(const float *w, size_t n, float sparsity, uint8_t *mask,
                              size_t *pruned, nml_error *err) {
    NML_TRY(check_sparsity(sparsity, err));
    const size_t k = nml_prune_count(n, sparsity);
    if (pruned) *pruned = k;
    double *key = malloc((n ? n : 1) * sizeof *key);
    if (!key) return nml_fail(err, NML_E_NOMEM, "out of memory for a mask of %zu weights", n);
    for (size_t i = 0; i < n; i++)
        key[i] = fabs((double)w[i]);
    nml_status st = nml_prune_smallest(key, n, k, 1, mask, err);
    free(key);
    return st;
}

void nml_row_norms(const float *w, size_t rows, size_t row_len, double *norm) {
    for (size_t i = 0; i < rows; i++) {
        double sum = 0.0;
        for (size_t j = 0; j < row_len; j++)
            sum += (double)w[i * row_len + j] * w[i * row_len + j];
        norm[i] = sqrt(sum);
    }
}

/* Element i of a group stays when fewer than `keep` others beat it (larger |w|, or equal and
 * earlier). */
static void nm_group(const float *w, size_t g, int keep, uint8_t *mask) {
    for (size_t i = 0; i < g; i++) {
        int beaten = 0;
        const float a = fabsf(w[i]);
        for (size_t j = 0; j < g; j++) {
            const float b = fabsf(w[j]);
            beaten += b > a || (b == a && j < i);
        }
        mask[i] = beaten < keep;
    }
}

nml_status nml_nm_mask(const float *w, size_t rows, size_t row_len, int n, int m, uint8_t *mask,
                       nml_error *err) {
    if (m < 2 || m > 64 || n < 1 || n >= m)
        return nml_fail(err, NML_E_ARG, "%d:%d sparsity needs 1 <= N < M <= 64", n, m);
    for (size_t r = 0; r < rows; r++)
        for (size_t s = 0; s < row_len; s += (size_t)m) {
            const size_t g = row_len - s < (size_t)m ? row_len - s : (size_t)m;
            const size_t at = r * row_len + s;
            nm_group(w + at, g, n, mask + at);
        }
    return NML_OK;
}

nml_status nml_filter_mask(const float *w, size_t rows, size_t row_len, float sparsity,
                           uint8_t *mask, size_t *pruned, nml_error *err) {
    NML_TRY(check_sparsity(sparsity, err));
    size_t k = nml_prune_count(rows, sparsity);
    if (rows > 0 && k > rows - 1) k = rows - 1; /* a layer keeps at least one channel */
    if (pruned) *pruned = k;
    double *norm = malloc((rows ? rows : 1) * sizeof *norm);
    if (!norm) return nml_fail(err, NML_E_NOMEM, "out of memory for %zu filter norms", rows);
    nml_row_norms(w, rows, row_len, norm);
    nml_status st = nml_prune_smallest(norm, rows, k, row_len, mask, err);
    free(norm);
    return st;
}
