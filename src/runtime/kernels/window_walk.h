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

/* Always inlined: the accessors below fold into the kernel loops that use them. */
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

/* The current pixel's taps inside the input and where they are, copied out of the walk so that
 * a kernel's loops keep them in registers (its int8 stores could alias the walk): tap (ky, kx)
 * of channel c is at + ky * row + kx * col + c, for ky in [ky0, ky1) and kx in [kx0, kx1).
 * `at` is where tap (0, 0) would be, outside the input when that tap lies in the padding, so
 * the whole index is summed before it meets a pointer; only the taps of the rectangle are
 * read. */
typedef struct nml_window_taps {
    int32_t ky0, ky1, kx0, kx1;
    int32_t at, row, col;
} nml_window_taps;

/* The taps of the current pixel in an NHWC input of `depth` channels. */
NML_WALK_INLINE nml_window_taps nml_walk_taps(const nml_pixel_walk *p, int32_t depth) {
    const nml_window *w = p->w;
    nml_window_taps t = {p->ky0, p->ky1, p->kx0, p->kx1, 0, 0, 0};
    t.at = ((p->b * p->in_h + p->iy0) * p->in_w + p->ix0) * depth;
    t.row = w->dilation_h * p->in_w * depth;
    t.col = w->dilation_w * depth;
    return t;
}

#endif
