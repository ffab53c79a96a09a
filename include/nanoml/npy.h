/* NumPy .npy files (format 1.0 and 2.0, little-endian, C order) on the host. */
#ifndef NANOML_NPY_H
#define NANOML_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"
#include "nanoml/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_npy {
    int dtype; /* nml_dtype */
    int rank;
    int32_t dims[NML_MAX_RANK];
    uint8_t *data; /* owned, little-endian, C order (free with nml_npy_free) */
    size_t bytes;
} nml_npy;

/* Parses a whole .npy file held in memory; the data is copied. Bad headers, big-endian or
 * Fortran-order data, unsupported dtypes and size mismatches are errors saying what is wrong. */
nml_status nml_npy_parse(const uint8_t *buf, size_t size, nml_npy *out, nml_error *err);
nml_status nml_npy_read(const char *path, nml_npy *out, nml_error *err);

/* Serializes an array as .npy (format 1.0: a header of at most NML_MAX_RANK dims always fits)
 * into a new buffer (free() it). Supported dtypes: float16/32/64, int8/16/32/64, uint8, bool. */
nml_status nml_npy_encode(int dtype, int rank, const int32_t *dims, const void *data, uint8_t **out,
                          size_t *size, nml_error *err);
nml_status nml_npy_write(const char *path, int dtype, int rank, const int32_t *dims,
                         const void *data, nml_error *err);

void nml_npy_free(nml_npy *a);

#ifdef __cplusplus
}
#endif
#endif
