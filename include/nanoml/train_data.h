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
    float scale;           /* image pixel value = byte * scale + offset */
    float offset;
    float pad_value;       /* value of the padding around an image */
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

/* Mean and standard deviation of the pixels of image samples [first, first + count) of an image
 * source, in the source's [0, 1] scale and over the images only (the padding is not counted).
 * Used to standardize with training-set statistics. */
nml_status nml_data_image_stats(const nml_data *d, int32_t first, int32_t count, float *mean,
                                float *std, nml_error *err);

/* Standardizes an image source: pixels become (p - mean) / std for p in [0, 1]. The padding
 * holds the standardized background (p = 0, the -mean / std the images' own black pixels get)
 * unless pad_with_mean is set, in which case it holds 0 (the mean pixel). With background
 * padding the standardized input is an affine function of the unstandardized padded image, so
 * a first convolution trained on it folds back exactly (nml_net_fold_input_affine). */
nml_status nml_data_standardize(nml_data *d, float mean, float std, int pad_with_mean,
                                nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
