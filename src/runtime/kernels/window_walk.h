/* The output pixels of a 2-D sliding window (nml_window) over NHWC tensors, walked batch by
 * batch in row-major order, for the reference convolution and pooling kernels. For each pixel
 * the walk gives where its window starts in the input and the rectangle of its taps that fall
 * inside the input, so that a kernel skips the padding by looping over that rectangle instead
 * of testing every tap. The taps visited, and their order, are those of TFLite's reference
 * kernels (which test each tap), so sums come out bit-identical, float ones included. */
#ifndef NANOML_KERNELS_WINDOW_WALK_H
#define NANOML_KERNELS_WINDOW_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "conv_common.h"

/* Always inlined: the walk's state then stays in the registers of the loop that uses it. */
#if defined(__GNUC__)
#define NML_WALK_INLINE static inline __attribute__((always_inline))
#else
#define NML_WALK_INLINE static inline
#endif

typedef struct nml_pixel_walk {
    const nml_window *w;
    int32_t batches, in_h, in_w, depth; /* depth: output channels per pixel */
    int32_t b, oy, ox;                  /* the current pixel */
    int32_t iy0, ix0;           /* input row and column of tap (0, 0); negative in the padding */
    int32_t ky0, ky1, kx0, kx1; /* the taps [ky0, ky1) x [kx0, kx1) lie inside the input */
    uint32_t out;               /* output index of the pixel's channel 0 */
} nml_pixel_walk;

/* Starts *p at the first pixel of a walk over `batches` images of in_h x in_w pixels, writing
 * `depth` output channels per pixel. */
void nml_walk_start(nml_pixel_walk *p, const nml_window *w, int32_t batches, int32_t in_h,
                    int32_t in_w, int32_t depth);

/* Moves to the next pixel (out-of-line: one copy serves every kernel, and a pixel's taps cost
 * far more than the call). */
void nml_walk_next(nml_pixel_walk *p);

NML_WALK_INLINE bool nml_walk_more(const nml_pixel_walk *p) {
    return p->b < p->batches;
}

/* Input index of the current pixel's tap (ky, kx), channel 0, in an NHWC tensor of `depth`
 * channels. */
NML_WALK_INLINE int32_t nml_walk_tap(const nml_pixel_walk *p, int32_t ky, int32_t kx,
                                     int32_t depth) {
    const int32_t iy = p->iy0 + p->w->dilation_h * ky, ix = p->ix0 + p->w->dilation_w * kx;
    return ((p->b * p->in_h + iy) * p->in_w + ix) * depth;
}

#endif
