/* Detection datasets in the YOLO layout: an images folder and a labels folder holding one text
 * file per image (same stem, .txt), one object per line:
 *     class cx cy w h
 * with class a non-negative integer and the box centre and size normalised to [0, 1] by the
 * image width and height. An image without a label file has no objects. Host only. */
#ifndef NANOML_DET_DATASET_H
#define NANOML_DET_DATASET_H

#include <stddef.h>

#include "nanoml/detect.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NML_LABEL_MAX_FILE_BYTES ((size_t)16 << 20)
#define NML_DATASET_MAX_IMAGES 10000000

typedef struct nml_yolo_label {
    int cls;
    float cx, cy, w, h; /* normalised */
} nml_yolo_label;

/* A ground-truth box in image pixels. */
typedef struct nml_gt_box {
    float x1, y1, x2, y2;
    int cls;
} nml_gt_box;

/* Parses label text (len bytes, need not be NUL-terminated). Blank lines are skipped; any other
 * line must have exactly 5 numbers, an integer class in [0, num_classes) (num_classes <= 0: any
 * non-negative class) and coordinates in [0, 1]. Errors read "PATH:LINE: what is wrong".
 * *labels is malloc'ed (NULL when there are none); free() it. */
nml_status nml_yolo_labels_parse(const char *text, size_t len, const char *path, int num_classes,
                                 nml_yolo_label **labels, size_t *count, nml_error *err);

/* Reads and parses a label file. */
nml_status nml_yolo_labels_load(const char *path, int num_classes, nml_yolo_label **labels,
                                size_t *count, nml_error *err);

/* Normalised centre/size -> pixel corners: x1 = (cx - w/2) * img_w, ... */
nml_gt_box nml_yolo_label_to_box(const nml_yolo_label *label, int img_w, int img_h);

typedef struct nml_det_sample {
    char *image_path;
    char *label_path; /* NULL when the image has no label file (no objects) */
    nml_yolo_label *labels;
    size_t num_labels;
} nml_det_sample;

typedef struct nml_det_dataset {
    nml_det_sample *samples; /* sorted by image file name */
    size_t count;
    char *images_dir, *labels_dir;
} nml_det_dataset;

/* Opens a dataset. path is either a folder holding images/ and labels/, or the images folder
 * itself, whose labels folder is found by replacing its last "images" path component with
 * "labels" (the Ultralytics rule). Images are the files ending in .jpg, .jpeg, .png or .bmp (any
 * case). All label files are parsed here, so a bad line fails early. */
nml_status nml_det_dataset_open(const char *path, int num_classes, nml_det_dataset *ds,
                                nml_error *err);
void nml_det_dataset_free(nml_det_dataset *ds);

#ifdef __cplusplus
}
#endif
#endif
