/* Training data sources: something that can fill a batch of inputs and targets for a list of
 * sample indices. Adapters cover in-memory float arrays and 8-bit image datasets (IDX). */
#ifndef NANOML_TRAIN_DATA_H
#define NANOML_TRAIN_DATA_H

#include <stdint.h>

#include "nanoml/idx.h"
#include "nanoml/status.h"
#include "nanoml/train_rng.h"
#include "nanoml/train_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_data {
    int32_t n;             /* samples */
    nml_shape x_shape;     /* one input sample */
    int32_t y_count;       /* target floats per sample (1: a class index) */
    int32_t n_classes;     /* for accuracy and confusion matrices (0: not a classifier) */
    /* Writes count samples (indices in [0, n)) into x (count x x_shape) and y (count x y_count).
     * training is 1 for training batches (augmentation applies) and 0 for evaluation. */
    nml_status (*fetch)(const struct nml_data *d, const int32_t *indices, int32_t count, float *x,
                        float *y, int training, nml_error *err);
    const void *user;
    /* in-memory sources and adapters keep their settings here */
    const float *xf, *yf;
    const nml_idx_dataset *images;
    int32_t pad_top, pad_left;
    float scale;
    /* training-time augmentation of image sources (see nml_data_augment) */
    int32_t max_shift;
    int hflip;
    nml_rng *aug_rng;
} nml_data;

/* Float arrays: x holds n samples of x_shape, y holds n x y_count floats (not copied). */
nml_status nml_data_from_arrays(nml_data *d, const float *x, const float *y, int32_t n,
                                nml_shape x_shape, int32_t y_count, int32_t n_classes,
                                nml_error *err);

/* 8-bit grey images with labels (Fashion-MNIST): pixels scaled to [0, 1] and zero-padded
 * (centered) to out_h x out_w x 1, labels as class indices. */
nml_status nml_data_from_images(nml_data *d, const nml_idx_dataset *ds, int32_t out_h,
                                int32_t out_w, nml_error *err);

/* Augments training batches of an image source: each image is placed at a random offset of up
 * to max_shift pixels from the center of the padded frame (never cut: the shift is limited by
 * the padding) and, with hflip, mirrored left-right with probability 1/2. Evaluation batches
 * are never augmented. rng (owned by the caller) drives the choices. */
nml_status nml_data_augment(nml_data *d, int32_t max_shift, int hflip, nml_rng *rng,
                            nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
