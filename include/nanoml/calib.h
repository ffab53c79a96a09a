/* Calibration data for post-training quantization: a source hands out one sample at a time as
 * the model's float input tensors. The quantizer pulls samples until the source reports the end
 * (or its sample limit is reached), checks each against the model's inputs (count, dtype,
 * shape) and runs the float model on it to observe activation ranges.
 *
 * Any data set can be a source: implement next() (and optionally count() and close()). nanoml
 * ships an in-memory array source and a .npy source; image folders and Fashion-MNIST plug in the
 * same way. Host only. */
#ifndef NANOML_CALIB_H
#define NANOML_CALIB_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"
#include "nanoml/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One input tensor of a sample, as the source has it. The quantizer accepts float32 (and
 * float64, converted) whose dimensions equal the model input's once dimensions of size 1 are
 * dropped (so a [28, 28, 1] image fits a [1, 28, 28, 1] input: same memory layout). */
typedef struct nml_calib_tensor {
    int type; /* nml_dtype */
    int rank;
    int32_t dims[NML_MAX_RANK];
    const void *data; /* valid until the next call to next() or close() */
    size_t bytes;
    const char *origin; /* where the data came from, for messages ("img_003.npy"); may be NULL */
} nml_calib_tensor;

typedef struct nml_calib_source {
    const char *name; /* for messages, e.g. "npy:calib/" */
    void *user;
    /* Produces the next sample in inputs[0 .. *n - 1] (*n <= max_inputs, one per model input in
     * order). *n = 0 means there are no more samples. */
    nml_status (*next)(void *user, nml_calib_tensor *inputs, int max_inputs, int *n,
                       nml_error *err);
    /* Number of samples the source will give, or -1 when unknown (progress display). Optional. */
    int64_t (*count)(void *user);
    /* Releases the source's resources. Optional. */
    void (*close)(void *user);
} nml_calib_source;

/* Calls src->close (if any) and clears the source. */
void nml_calib_close(nml_calib_source *src);

/* n_samples samples of one input, stored contiguously as `type` (float32 or float64) with the
 * per-sample shape dims[0 .. rank - 1]. The data is borrowed and must outlive the source. */
nml_status nml_calib_array_open(nml_calib_source *src, int type, int rank, const int32_t *dims,
                                const void *data, size_t n_samples, nml_error *err);

/* NumPy files (single-input models): a directory of .npy files, one sample per file, taken in
 * file-name order; or one .npy file whose first dimension counts the samples. */
nml_status nml_calib_npy_open(nml_calib_source *src, const char *path, nml_error *err);

/* Labelled IDX images (Fashion-MNIST, MNIST): the first n images (0: all) of split ("train" or
 * "t10k") in dir, preprocessed exactly as `nanoml train` feeds them: pixels x (1/255),
 * zero-padded (centered) to h x w, one channel. Fails when the images do not fit h x w. */
nml_status nml_calib_idx_open(nml_calib_source *src, const char *dir, const char *split,
                              uint32_t n, int32_t h, int32_t w, nml_error *err);

/* Every .png, .jpg, .jpeg and .bmp file of dir in file-name order, decoded to c channels (1:
 * grey, 3: RGB), resized to w x h (bilinear) and scaled to [0, 1] (pixel / 255). Fails when the
 * directory holds no image; a file that does not decode fails when its turn comes, naming it. */
nml_status nml_calib_images_open(nml_calib_source *src, const char *dir, int32_t h, int32_t w,
                                 int32_t c, nml_error *err);

struct nml_ir;
/* Opens the source a command-line spec names, for a model whose input 0 is float32:
 *   npy:DIR | npy:FILE       see nml_calib_npy_open
 *   fashion-mnist[:N]        the first N training images of fashion_dir (default N 1000);
 *                            the input must be 1 x H x W x 1 with H, W >= 28
 *   images:DIR               image files resized to the input 1 x H x W x C (C 1 or 3)
 * Errors name the spec and say what does not fit. */
nml_status nml_calib_open_spec(nml_calib_source *src, const char *spec, const struct nml_ir *model,
                               const char *fashion_dir, nml_error *err);

#define NML_CALIB_FASHION_DEFAULT 1000

#ifdef __cplusplus
}
#endif
#endif
