/* Accuracy of an image classifier on a labelled IDX dataset (MNIST, Fashion-MNIST), run in the
 * nanoml runtime: what `nanoml eval` and `nanoml compare` report. Host only. */
#ifndef NANOML_CLASSIFY_H
#define NANOML_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/idx.h"
#include "nanoml/runtime.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_classify_options {
    int32_t limit;    /* evaluate the first `limit` images only; 0: all */
    size_t arena_max; /* largest tensor arena to try (default 64 MiB) */
    /* called after each image (done of total), may be NULL */
    void (*progress)(void *user, int32_t done, int32_t total, int64_t correct);
    void *progress_user;
} nml_classify_options;

typedef struct nml_classify_result {
    int32_t n;       /* images evaluated */
    int32_t classes; /* the dataset's */
    int64_t correct;
    int32_t *confusion; /* classes x classes counts (row: true class), malloc'd */
    size_t arena_bytes; /* the arena the interpreter used */
} nml_classify_result;

void nml_classify_options_default(nml_classify_options *o);

/* Runs the model on the dataset's images: each image scaled to [0, 1] and zero-padded (centred)
 * to the model's 1 x H x W x 1 input, as `nanoml train` feeds it; int8/uint8 inputs quantized
 * with the input's scale and zero point (round half away from zero, clamped). The prediction is
 * the first largest dequantized output among the dataset's classes. */
nml_status nml_classify_eval(const nml_model *model, const nml_idx_dataset *ds,
                             const nml_classify_options *o, nml_classify_result *res,
                             nml_error *err);

void nml_classify_result_free(nml_classify_result *r);

#ifdef __cplusplus
}
#endif
#endif
