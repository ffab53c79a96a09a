/* The built-in layers. Each constructor returns a new layer (NULL when out of memory) that
 * nml_net_add / nml_net_call take ownership of. Options use designated initializers; fields left
 * at zero take the Keras defaults noted beside them, e.g.
 *     nml_conv2d(&(nml_conv2d_opts){.filters = 6, .kernel = 5, .activation = NML_AFN_TANH})
 * Invalid options (zero filters, a kernel larger than the input, ...) are reported with the
 * layer's name when the layer is added to a network. */
#ifndef NANOML_TRAIN_LAYERS_H
#define NANOML_TRAIN_LAYERS_H

#include "nanoml/train_layer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_conv2d_opts {
    const char *name;           /* NULL: "conv2d_<n>" */
    int32_t filters;            /* output channels (required) */
    int32_t kernel;             /* square kernel size, or: */
    int32_t kernel_h, kernel_w; /* 0: kernel */
    int32_t stride;             /* 0: 1 (or stride_h / stride_w) */
    int32_t stride_h, stride_w;
    int same_padding;           /* 0: "valid", 1: "same" (TensorFlow rule) */
    int no_bias;
    nml_afn activation;
    nml_init kernel_init;       /* default Glorot uniform; bias starts at zero */
} nml_conv2d_opts;
nml_layer *nml_conv2d(const nml_conv2d_opts *o);
/* Rewrites a Conv2D trained on inputs scale * x + offset into one that gives the same outputs on
 * x: kernel *= scale, bias += offset * (sum of the filter's taps). Exact for "valid" padding
 * only (a "same" convolution's zero padding would not be transformed), which is checked, as are
 * a bias to absorb the offset and a plain kernel (no mask or hook). */
nml_status nml_conv2d_fold_input_affine(nml_layer *l, float scale, float offset, nml_error *err);

typedef struct nml_depthwise_conv2d_opts {
    const char *name;
    int32_t kernel, kernel_h, kernel_w;
    int32_t stride, stride_h, stride_w;
    int32_t depth_multiplier;   /* 0: 1 */
    int same_padding;
    int no_bias;
    nml_afn activation;
    nml_init kernel_init;
} nml_depthwise_conv2d_opts;
nml_layer *nml_depthwise_conv2d(const nml_depthwise_conv2d_opts *o);

typedef struct nml_pool2d_opts {
    const char *name;
    int32_t pool, pool_h, pool_w;       /* 0: 2 */
    int32_t stride, stride_h, stride_w; /* 0: the pool size */
    int same_padding;                   /* averages count only the real (unpadded) inputs */
} nml_pool2d_opts;
nml_layer *nml_average_pooling2d(const nml_pool2d_opts *o);
nml_layer *nml_max_pooling2d(const nml_pool2d_opts *o);

typedef struct nml_dense_opts {
    const char *name;
    int32_t units;              /* required */
    int no_bias;
    nml_afn activation;
    nml_init kernel_init;
} nml_dense_opts;
/* Input must be a vector (add nml_flatten first); the kernel is stored [units, inputs]. */
nml_layer *nml_dense(const nml_dense_opts *o);

nml_layer *nml_flatten(const char *name);

typedef struct nml_zero_padding2d_opts {
    const char *name;
    int32_t pad;                      /* on all four sides, plus: */
    int32_t top, bottom, left, right;
} nml_zero_padding2d_opts;
nml_layer *nml_zero_padding2d(const nml_zero_padding2d_opts *o);

typedef struct nml_batch_norm_opts {
    const char *name;
    float momentum;             /* 0: 0.99 (moving = m * moving + (1 - m) * batch) */
    float epsilon;              /* 0: 1e-3 */
} nml_batch_norm_opts;
/* Normalizes over the last dimension; folded into the preceding Conv2D / Dense at export. */
nml_layer *nml_batch_normalization(const nml_batch_norm_opts *o);

/* Inverted dropout: zeroes a fraction `rate` of the values while training and scales the rest by
 * 1 / (1 - rate); identity at inference and removed at export. */
nml_layer *nml_dropout(const char *name, float rate);

/* Elementwise sum of two or more inputs of the same shape. */
nml_layer *nml_add(const char *name);
/* Joins two or more inputs along the last dimension (the others must match). */
nml_layer *nml_concatenate(const char *name);

/* A standalone activation. */
nml_layer *nml_activation_layer(const char *name, nml_afn act);

#ifdef __cplusplus
}
#endif
#endif
