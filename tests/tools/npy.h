/* Minimal float32 .npy reading/writing for the test tools (format 1.0, little-endian, C order). */
#ifndef NML_TEST_NPY_H
#define NML_TEST_NPY_H

#include <stddef.h>

#include "nanoml/status.h"

#define NPY_MAX_RANK 8

typedef struct npy_array {
    float *data;
    size_t count;
    int rank;
    size_t shape[NPY_MAX_RANK];
} npy_array;

nml_status npy_write_f32(const char *path, const float *data, const size_t *shape, int rank,
                         nml_error *err);
/* Reads a '<f4' array; free(a->data). */
nml_status npy_read_f32(const char *path, npy_array *a, nml_error *err);

#endif
