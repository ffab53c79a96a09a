/* Shared by the calibration sources in src/compress (not public API). */
#ifndef NML_COMPRESS_CALIB_INTERNAL_H
#define NML_COMPRESS_CALIB_INTERNAL_H

#include <stddef.h>

#include "nanoml/calib.h"

typedef struct nml_calib_array {
    int type, rank;
    int32_t dims[NML_MAX_RANK];
    const uint8_t *data;
    size_t n_samples, next, sample_bytes;
    const char *name, *origin;
    void (*on_close)(void *owner); /* frees what the array borrows from, if owned */
    void *owner;
} nml_calib_array;

/* An array source with a name and origin for messages (both borrowed). */
nml_status nml_calib_array_make(nml_calib_source *src, int type, int rank, const int32_t *dims,
                                const void *data, size_t n_samples, const char *name,
                                const char *origin, nml_error *err);

#endif
