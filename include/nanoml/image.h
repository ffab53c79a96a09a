/* 8-bit images for the detection pipeline: decode (JPEG/PNG/BMP via stb_image), resize with
 * OpenCV's semantics, stretch/letterbox to a network input size, convert to float or quantized
 * input tensors, write PNG or JPEG. Host only (allocates). Pixels are row-major, interleaved
 * channels, in the order the file stores them after decoding: RGB (stb_image), never BGR. */
#ifndef NANOML_IMAGE_H
#define NANOML_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits applied before any pixel memory is allocated, so a file declaring 60000x60000 pixels
 * is an NML_E_LIMIT error instead of a multi-gigabyte allocation. */
#define NML_IMAGE_MAX_DIM 16384
#define NML_IMAGE_MAX_PIXELS (64u * 1024u * 1024u)
#define NML_IMAGE_MAX_FILE_BYTES ((size_t)256 << 20)

typedef struct nml_image {
    int w, h, c;   /* c = 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) */
    uint8_t *data; /* w*h*c bytes, row stride w*c; owned, release with nml_image_free */
} nml_image;

/* Allocates a zeroed w x h x c image (checks the limits above). */
nml_status nml_image_alloc(nml_image *img, int w, int h, int c, nml_error *err);
void nml_image_free(nml_image *img);

/* Decodes a JPEG, PNG or BMP held in memory. channels = 0 keeps the file's channel count,
 * 1..4 converts (3 = RGB). name is used in error messages ("photo.jpg: truncated JPEG ..."). */
nml_status nml_image_decode(const uint8_t *data, size_t size, const char *name, int channels,
                            nml_image *img, nml_error *err);
/* Reads and decodes a file. */
nml_status nml_image_load(const char *path, int channels, nml_image *img, nml_error *err);

/* Writes an image with 1-4 channels as PNG. */
nml_status nml_image_write_png(const char *path, const nml_image *img, nml_error *err);
/* Writes an image with 1-4 channels as baseline JPEG, quality 1..100 (alpha is dropped). */
nml_status nml_image_write_jpeg(const char *path, const nml_image *img, int quality,
                                nml_error *err);

typedef enum nml_interp {
    /* cv2.INTER_LINEAR on uint8 images, reproduced bit for bit: half-pixel centres, edge
     * clamping, 11-bit fixed-point weights, OpenCV's two vertical rounding paths, and the exact
     * 2x-downscale case that OpenCV routes to INTER_AREA. No antialiasing when shrinking. */
    NML_INTERP_LINEAR = 0,
    /* cv2.INTER_NEAREST: source index floor(dst_index * src_size / dst_size). */
    NML_INTERP_NEAREST = 1
} nml_interp;

/* Resizes src into a new w x h image (same channels). dst must not alias src. */
nml_status nml_image_resize(const nml_image *src, int w, int h, nml_interp interp, nml_image *dst,
                            nml_error *err);

/* How network-input pixels relate to original-image pixels:
 *     input = original * scale + pad   ->   original = (input - pad) / scale
 * Stretch has independent x/y scales and no padding; letterbox one scale and centred padding. */
typedef struct nml_image_transform {
    int src_w, src_h; /* original image */
    int dst_w, dst_h; /* network input */
    int new_w, new_h; /* size of the resized image content inside the input */
    float scale_x, scale_y;
    int pad_x, pad_y; /* left and top padding in input pixels */
} nml_image_transform;

/* Geometry of a stretch to dst_w x dst_h. */
nml_image_transform nml_stretch_geometry(int src_w, int src_h, int dst_w, int dst_h);
/* Geometry of an Ultralytics-style letterbox: r = min(dst_w/src_w, dst_h/src_h) (also when it
 * enlarges), content round(src*r) (half to even, like Python), padding split with the odd pixel
 * on the right/bottom (left = round(dw/2 - 0.1), right = round(dw/2 + 0.1)). */
nml_image_transform nml_letterbox_geometry(int src_w, int src_h, int dst_w, int dst_h);

/* Stretches src to w x h with bilinear interpolation; fills *tf (may be NULL). */
nml_status nml_image_stretch(const nml_image *src, int w, int h, nml_image *dst,
                             nml_image_transform *tf, nml_error *err);
/* Letterboxes src into w x h: bilinear resize, then padding with pad_value in every channel
 * (Ultralytics uses 114). Fills *tf (may be NULL). */
nml_status nml_image_letterbox(const nml_image *src, int w, int h, uint8_t pad_value,
                               nml_image *dst, nml_image_transform *tf, nml_error *err);

/* Maps a point from input pixels back to original-image pixels (no clipping). */
void nml_transform_to_source(const nml_image_transform *tf, float *x, float *y);

typedef enum nml_tensor_layout { NML_LAYOUT_NHWC = 0, NML_LAYOUT_NCHW = 1 } nml_tensor_layout;

/* Per-channel normalisation applied after the optional RGB->BGR swap:
 *     value = (pixel - mean[c]) / std[c]
 * mean/std are indexed by tensor channel (after the swap).
 * FastestDet: BGR, mean 0, std 255 (pixels / 255, computed as a float32 division, like NumPy). */
typedef struct nml_pixel_norm {
    int bgr; /* 1: swap channels 0 and 2 (3-channel images only) */
    float mean[4];
    float std[4];
} nml_pixel_norm;

/* value = pixel / 255 in the given channel order. */
nml_pixel_norm nml_pixel_norm_unit(int bgr);

/* Writes the 1 x h x w x c (NHWC) or 1 x c x h x w (NCHW) float tensor; count must equal
 * w*h*c. */
nml_status nml_image_to_float(const nml_image *img, nml_tensor_layout layout,
                              const nml_pixel_norm *norm, float *out, size_t count, nml_error *err);

/* Same, then quantizes: q = clamp(round(value / scale) + zero_point), rounding half away from
 * zero (TFLite's rule). dtype is NML_INT8 or NML_UINT8 (nml_dtype values); out holds count
 * bytes. */
nml_status nml_image_to_quantized(const nml_image *img, nml_tensor_layout layout,
                                  const nml_pixel_norm *norm, float scale, int zero_point,
                                  int dtype, void *out, size_t count, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
