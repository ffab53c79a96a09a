/* What a .tflite model costs in storage and what its weights look like after compression:
 * the numbers `nanoml inspect` and `nanoml compare` report. Host only. */
#ifndef NANOML_MODEL_STATS_H
#define NANOML_MODEL_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/runtime.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_model_stats {
    size_t file_bytes;             /* the .tflite as stored in flash */
    size_t gzip_bytes;             /* gzip -9 of the file (zlib deflate, no name: what
                                      `gzip -9n` writes, up to deflate implementation details) */
    uint64_t constant_bytes;       /* constant data as stored (packed tensors: their encoding;
                                      tensors sharing a buffer counted once) */
    uint64_t constant_dense_bytes; /* the same constants in their plain form */
    uint64_t parameters;           /* elements of all constant tensors */
    uint32_t packed_tensors;
    /* the constant filters of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, as logical values
     * (float32, float16, int8 or int4; packed tensors decoded) */
    uint32_t weight_tensors;
    uint64_t weight_count, weight_zeros;
    uint32_t max_distinct; /* most distinct values in one of those tensors */
} nml_model_stats;

/* Statistics of a loaded model whose file bytes are `file` (file_bytes long). */
nml_status nml_model_stats_of(const nml_model *model, const void *file, size_t file_bytes,
                              nml_model_stats *stats, nml_error *err);

/* Size of the gzip stream (deflate at `level` 0..9, 10-byte header without a name, 8-byte
 * trailer) of data. */
nml_status nml_gzip_size(const void *data, size_t size, int level, size_t *out, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
