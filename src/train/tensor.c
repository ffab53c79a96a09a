/* Shapes of training tensors. */
#include "nanoml/train_tensor.h"

#include <stdio.h>
#include <string.h>

nml_shape nml_shape_1d(int32_t n) {
    nml_shape s;
    memset(&s, 0, sizeof s);
    s.rank = 1;
    s.dims[0] = n;
    return s;
}

nml_shape nml_shape_3d(int32_t h, int32_t w, int32_t c) {
    nml_shape s;
    memset(&s, 0, sizeof s);
    s.rank = 3;
    s.dims[0] = h;
    s.dims[1] = w;
    s.dims[2] = c;
    return s;
}

size_t nml_shape_count(const nml_shape *s) {
    if (s->rank < 1 || s->rank >= NML_MAX_RANK) return 0;
    size_t n = 1;
    for (int32_t i = 0; i < s->rank; i++) {
        if (s->dims[i] < 1) return 0;
        if ((size_t)s->dims[i] > NML_MAX_SAMPLE_FLOATS / n) return 0;
        n *= (size_t)s->dims[i];
    }
    return n;
}

int nml_shape_equal(const nml_shape *a, const nml_shape *b) {
    if (a->rank != b->rank) return 0;
    for (int32_t i = 0; i < a->rank && i < NML_MAX_RANK; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

nml_status nml_shape_check(const nml_shape *s, nml_error *err) {
    char buf[96];
    if (s->rank < 1 || s->rank >= NML_MAX_RANK)
        return nml_fail(err, NML_E_SHAPE, "shape has rank %d (expected 1 to %d)", (int)s->rank,
                        NML_MAX_RANK - 1);
    for (int32_t i = 0; i < s->rank; i++)
        if (s->dims[i] < 1)
            return nml_fail(err, NML_E_SHAPE, "shape %s has a dimension below 1",
                            nml_shape_str(s, buf, sizeof buf));
    if (nml_shape_count(s) == 0)
        return nml_fail(err, NML_E_LIMIT, "shape %s has more than %zu elements",
                        nml_shape_str(s, buf, sizeof buf), NML_MAX_SAMPLE_FLOATS);
    return NML_OK;
}

char *nml_shape_str(const nml_shape *s, char *buf, size_t cap) {
    if (cap == 0) return buf;
    buf[0] = '\0';
    if (s->rank < 1 || s->rank >= NML_MAX_RANK) {
        snprintf(buf, cap, "?");
        return buf;
    }
    size_t used = 0;
    for (int32_t i = 0; i < s->rank && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, i ? "x%d" : "%d", (int)s->dims[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}

size_t nml_ftensor_sample_count(const nml_ftensor *t) { return nml_shape_count(&t->shape); }

size_t nml_ftensor_count(const nml_ftensor *t) {
    return t->batch > 0 ? (size_t)t->batch * nml_shape_count(&t->shape) : 0;
}
