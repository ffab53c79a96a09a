/* Sliding-window geometry shared by convolutions and pooling (internal), and the im2col /
 * col2im transforms that turn a convolution into one matrix multiply. */
#ifndef NML_TRAIN_CONV_GEOM_H
#define NML_TRAIN_CONV_GEOM_H

#include <stdint.h>

#include "nanoml/status.h"
#include "nanoml/train_tensor.h"

typedef struct nml_conv_geom {
    int32_t in_h, in_w, in_c;
    int32_t k_h, k_w, s_h, s_w;
    int32_t pad_top, pad_left;   /* TensorFlow "same": the extra row/column goes at the end */
    int32_t out_h, out_w;
    int same;
} nml_conv_geom;

/* Validates the window against a rank-3 input and computes the output size. Messages name the
 * input shape, e.g. "kernel 5x5 does not fit input 4x4x16 with valid padding". */
nml_status nml_conv_geom_init(nml_conv_geom *g, const nml_shape *in, int32_t k_h, int32_t k_w,
                              int32_t s_h, int32_t s_w, int same, nml_error *err);

/* Rows (output pixels) and row length (k_h * k_w * in_c) of one image's column matrix. */
static inline int32_t nml_conv_rows(const nml_conv_geom *g) { return g->out_h * g->out_w; }
static inline int32_t nml_conv_patch(const nml_conv_geom *g) { return g->k_h * g->k_w * g->in_c; }

/* 1 when the column matrix of an image is the image itself (a 1x1 stride-1 kernel, or a valid
 * kernel exactly as large as the input), so no copy is needed. */
int nml_conv_is_identity(const nml_conv_geom *g);

/* One image (in_h x in_w x in_c) to its column matrix: row (oy, ox) holds the patch in
 * (ky, kx, c) order, zeros where the window covers padding. */
void nml_im2col(const float *in, const nml_conv_geom *g, float *col);
/* The adjoint: adds every column entry back to its input position (din must be zeroed first). */
void nml_col2im(const float *col, const nml_conv_geom *g, float *din);

#endif
