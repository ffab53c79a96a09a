/* IDX files (the MNIST / Fashion-MNIST container), read straight from .gz (or uncompressed)
 * files with zlib. Readers are bounded: header counts are checked against limits and against
 * the data actually present, and memory grows only as data arrives, so a lying header cannot
 * make the reader allocate or read beyond what the file holds. */
#ifndef NANOML_IDX_H
#define NANOML_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NML_IDX_MAX_RANK 4
#define NML_IDX_MAX_BYTES ((size_t)1 << 30) /* default limit on the decompressed payload */

typedef struct nml_idx {
    int type;                      /* IDX type code; only 0x08 (unsigned byte) is read */
    int rank;
    uint32_t dims[NML_IDX_MAX_RANK];
    uint8_t *data;                 /* owned, product(dims) bytes */
    size_t bytes;
} nml_idx;

/* Reads one IDX file (gzip-compressed or not). max_bytes bounds the payload (0: default). */
nml_status nml_idx_read(const char *path, size_t max_bytes, nml_idx *idx, nml_error *err);
/* The same for a file held in memory: gzip-compressed (it starts with 1f 8b; concatenated
 * members are read one after another, anything else after them is an error) or not. name is
 * used in messages. */
nml_status nml_idx_parse(const uint8_t *data, size_t size, const char *name, size_t max_bytes,
                         nml_idx *idx, nml_error *err);
void nml_idx_free(nml_idx *idx);

/* Labelled 8-bit images: an idx3 image file and the matching idx1 label file. */
typedef struct nml_idx_dataset {
    int32_t n, rows, cols;
    int32_t n_classes;             /* largest label + 1 */
    uint8_t *images;               /* owned, n x rows x cols */
    uint8_t *labels;               /* owned, n */
} nml_idx_dataset;

/* Fails (naming both files) when the image and label counts differ. */
nml_status nml_idx_load(const char *images_path, const char *labels_path, nml_idx_dataset *ds,
                        nml_error *err);
/* dir/<split>-images-idx3-ubyte.gz and dir/<split>-labels-idx1-ubyte.gz, split "train" or
 * "t10k" (the names MNIST and Fashion-MNIST use). */
nml_status nml_idx_load_split(const char *dir, const char *split, nml_idx_dataset *ds,
                              nml_error *err);
void nml_idx_dataset_free(nml_idx_dataset *ds);

/* Where Debian's dataset-fashion-mnist package puts the files. */
#define NML_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

#ifdef __cplusplus
}
#endif
#endif
