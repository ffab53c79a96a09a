/* The growable detection list and a stable sort by score. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/detect.h"

nml_status nml_detections_push(nml_detections *d, nml_detection det, nml_error *err) {
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *d->v)
            return nml_fail(err, NML_E_NOMEM, "detections: too many (%zu)", d->n);
        nml_detection *v = realloc(d->v, cap * sizeof *v);
        if (!v) return nml_fail(err, NML_E_NOMEM, "detections: cannot grow to %zu", cap);
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n++] = det;
    return NML_OK;
}

void nml_detections_free(nml_detections *d) {
    if (!d) return;
    free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}

/* Bottom-up merge sort: stable, so equal scores keep the decoder's (grid/anchor) order and the
 * result does not depend on the C library's qsort. */
static void merge_runs(const nml_detection *src, nml_detection *dst, size_t lo, size_t mid,
                       size_t hi) {
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi)
        dst[k++] = (src[j].score > src[i].score) ? src[j++] : src[i++];
    while (i < mid)
        dst[k++] = src[i++];
    while (j < hi)
        dst[k++] = src[j++];
}

nml_status nml_detections_sort(nml_detection *dets, size_t n, nml_error *err) {
    if (n < 2) return NML_OK;
    nml_detection *tmp = malloc(n * sizeof *tmp);
    if (!tmp) return nml_fail(err, NML_E_NOMEM, "sort: cannot allocate %zu detections", n);
    nml_detection *src = dets, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            merge_runs(src, dst, lo, mid, hi);
        }
        nml_detection *t = src;
        src = dst;
        dst = t;
    }
    if (src != dets) memcpy(dets, src, n * sizeof *dets);
    free(tmp);
    return NML_OK;
}
