/* Float32 tensors for training. A shape describes one sample (NHWC without the batch
 * dimension: 32x32x1 for an image, 84 for a vector); a batch stores its samples one after
 * another, each in row-major NHWC order, so a batch is an N x H x W x C array. */
#ifndef NANOML_TRAIN_TENSOR_H
#define NANOML_TRAIN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"
#include "nanoml/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest number of floats in one sample; keeps every size computation far from overflow. */
#define NML_MAX_SAMPLE_FLOATS ((size_t)1 << 28)

typedef struct nml_shape {
    int32_t rank; /* 1 ... NML_MAX_RANK - 1 (the batch dimension is not counted) */
    int32_t dims[NML_MAX_RANK];
} nml_shape;

/* A batch of samples of one shape: batch * nml_shape_count(&shape) floats at data. */
typedef struct nml_ftensor {
    float *data;
    int32_t batch;
    nml_shape shape;
} nml_ftensor;

nml_shape nml_shape_1d(int32_t n);
nml_shape nml_shape_3d(int32_t h, int32_t w, int32_t c);

/* Product of the dimensions; 0 for an invalid shape (see nml_shape_check). */
size_t nml_shape_count(const nml_shape *s);
int nml_shape_equal(const nml_shape *a, const nml_shape *b);

/* A valid shape has rank 1 ... NML_MAX_RANK - 1, every dimension >= 1 and at most
 * NML_MAX_SAMPLE_FLOATS elements. The message names the shape. */
nml_status nml_shape_check(const nml_shape *s, nml_error *err);

/* "28x28x1" (or "?" for rank 0); always NUL-terminated; returns buf. */
char *nml_shape_str(const nml_shape *s, char *buf, size_t cap);

/* Floats in one sample of t, and in the whole batch. */
size_t nml_ftensor_sample_count(const nml_ftensor *t);
size_t nml_ftensor_count(const nml_ftensor *t);

#ifdef __cplusplus
}
#endif
#endif
