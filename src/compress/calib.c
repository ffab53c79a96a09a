/* Calibration sources: the common close and an in-memory array of samples. */
#include "nanoml/calib.h"

#include <stdlib.h>
#include <string.h>

#include "compress/calib_internal.h"

void nml_calib_close(nml_calib_source *src) {
    if (!src) return;
    if (src->close) src->close(src->user);
    memset(src, 0, sizeof *src);
}

static nml_status array_next(void *user, nml_calib_tensor *inputs, int max_inputs, int *n,
                             nml_error *err) {
    nml_calib_array *a = user;
    *n = 0;
    if (a->next >= a->n_samples) return NML_OK;
    if (max_inputs < 1) return nml_fail(err, NML_E_ARG, "%s: no room for a sample", a->name);
    nml_calib_tensor *t = &inputs[0];
    memset(t, 0, sizeof *t);
    t->type = a->type;
    t->rank = a->rank;
    memcpy(t->dims, a->dims, sizeof t->dims);
    t->data = a->data + a->next * a->sample_bytes;
    t->bytes = a->sample_bytes;
    t->origin = a->origin;
    a->next++;
    *n = 1;
    return NML_OK;
}

static int64_t array_count(void *user) {
    const nml_calib_array *a = user;
    return (int64_t)a->n_samples;
}

static void array_close(void *user) {
    nml_calib_array *a = user;
    if (a->on_close) a->on_close(a->owner);
    free(a);
}

nml_status nml_calib_array_make(nml_calib_source *src, int type, int rank, const int32_t *dims,
                                const void *data, size_t n_samples, const char *name,
                                const char *origin, nml_error *err) {
    memset(src, 0, sizeof *src);
    if (rank < 0 || rank > NML_MAX_RANK)
        return nml_fail(err, NML_E_ARG, "%s: sample rank %d outside 0..%d", name, rank,
                        NML_MAX_RANK);
    const size_t elem = nml_dtype_size(type);
    if (elem == 0)
        return nml_fail(err, NML_E_UNSUPPORTED, "%s: samples of type %s cannot be used", name,
                        nml_dtype_name(type));
    uint64_t count = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return nml_fail(err, NML_E_SHAPE, "%s: sample dimension %d is negative", name, i);
        count *= (uint64_t)dims[i];
        if (count > NML_MAX_TENSOR_BYTES)
            return nml_fail(err, NML_E_LIMIT, "%s: samples are too large", name);
    }
    if (n_samples && !data) return nml_fail(err, NML_E_ARG, "%s: no sample data", name);
    nml_calib_array *a = calloc(1, sizeof *a);
    if (!a) return nml_fail(err, NML_E_NOMEM, "%s: out of memory", name);
    a->type = type;
    a->rank = rank;
    if (rank) memcpy(a->dims, dims, (size_t)rank * sizeof *dims);
    a->data = data;
    a->n_samples = n_samples;
    a->sample_bytes = (size_t)count * elem;
    a->name = name;
    a->origin = origin;
    src->name = name;
    src->user = a;
    src->next = array_next;
    src->count = array_count;
    src->close = array_close;
    return NML_OK;
}

nml_status nml_calib_array_open(nml_calib_source *src, int type, int rank, const int32_t *dims,
                                const void *data, size_t n_samples, nml_error *err) {
    return nml_calib_array_make(src, type, rank, dims, data, n_samples, "array", NULL, err);
}
