/* Object detection post-processing: decoders for FastestDet and YOLOv8 outputs, IoU and
 * non-maximum suppression. Pure functions over float arrays; nothing here depends on how the
 * network was run. Host only (the detection list grows with malloc). */
#ifndef NANOML_DETECT_H
#define NANOML_DETECT_H

#include <stddef.h>

#include "nanoml/image.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A box in original-image pixels (x2 > x1, y2 > y1 for a non-empty box), with its confidence
 * and class index. */
typedef struct nml_detection {
    float x1, y1, x2, y2;
    float score;
    int cls;
} nml_detection;

typedef struct nml_detections {
    nml_detection *v;
    size_t n, cap;
} nml_detections;

nml_status nml_detections_push(nml_detections *d, nml_detection det, nml_error *err);
void nml_detections_free(nml_detections *d);

/* Intersection over union of two boxes: inter / (area_a + area_b - inter), areas as
 * (x2-x1)*(y2-y1) without the "+1" pixel convention; 0 when the union is empty. */
float nml_box_iou(const nml_detection *a, const nml_detection *b);

/* Sorts by descending score; equal scores keep their order (stable). */
nml_status nml_detections_sort(nml_detection *dets, size_t n, nml_error *err);

/* Greedy non-maximum suppression in place: visits boxes by descending score and drops a box
 * whose IoU with an already kept box is greater than iou_threshold (only boxes of the same class
 * compete when per_class is set). Keeps at most max_det boxes (0 = no limit). The kept boxes end
 * up first, by descending score; *kept receives their number. */
nml_status nml_nms(nml_detection *dets, size_t n, float iou_threshold, int per_class,
                   size_t max_det, size_t *kept, nml_error *err);

/* FastestDet head (dog-qiuqiu/FastestDet): per grid cell, channel 0 objectness (sigmoid
 * applied), 1-2 x/y offsets (raw, tanh), 3-4 w/h (raw, sigmoid), 5.. class probabilities
 * (softmax applied). For cell (row, col) of an H x W grid:
 *     score = obj^0.6 * max_class^0.4       (class = first argmax)
 *     cx = (col + tanh(t1)) / W   cy = (row + tanh(t2)) / H
 *     w = sigmoid(t3) * train_w / input_w   h = sigmoid(t4) * train_h / input_h
 * relative to the image (the input is a stretch of the whole image), so boxes scale straight to
 * the original image's pixels. The network learned w and h as fractions of its training input
 * (352x352), but it sees object sizes in pixels: run at a smaller input, an object spanning half
 * the picture spans as many pixels as a smaller object did in training, and w, h shrink by the
 * input's size ratio. The factors train / input undo that per axis (1 when the model runs at its
 * training size, or when input_w/input_h are 0). Centres count grid cells of `stride` (16) input
 * pixels: when the input is not a multiple of 16 (86 rows: 6 cells over 96 pixels) W and H above
 * become input_w / 16 and input_h / 16, the part of the grid that covers the image. */
typedef struct nml_fastestdet_config {
    int grid_w, grid_h;       /* 22 x 22 for the 352x352 model */
    int num_classes;          /* 80 */
    nml_tensor_layout layout; /* NCHW: [1, 5+nc, H, W] (ONNX); NHWC: [1, H, W, 5+nc] */
    float score_threshold;    /* keeps score > threshold (0.65 for pictures, 0.001 to evaluate) */
    float nms_iou;            /* 0.45 */
    int per_class_nms;        /* 1: classes do not suppress each other */
    size_t max_det;           /* 0 = no limit */
    int clip;                 /* 1: clip boxes to the image */
    int train_w, train_h;     /* input size the model was trained at: 352 x 352 */
    int input_w, input_h;     /* input size it runs at (0 = the training size) */
    int stride;               /* input pixels per grid cell: 16 */
} nml_fastestdet_config;

/* FastestDet's published model was trained at 352x352. */
#define NML_FASTESTDET_TRAIN_SIZE 352
#define NML_FASTESTDET_STRIDE 16

nml_fastestdet_config nml_fastestdet_defaults(void);

/* Decodes one image's output (count = (5+nc)*H*W floats) into dets (appended), with boxes in
 * pixels of an img_w x img_h original image. */
nml_status nml_fastestdet_decode(const float *out, size_t count, const nml_fastestdet_config *cfg,
                                 int img_w, int img_h, nml_detections *dets, nml_error *err);

/* YOLOv8 detection head as exported by Ultralytics: [1, 4+nc, N] with rows 0-3 = cx, cy, w, h in
 * network-input pixels and rows 4.. = class scores (sigmoid applied), one column per anchor. Per
 * anchor the best class is taken; candidates with score > threshold go through NMS in input
 * space, then boxes map back through the stretch/letterbox transform to original pixels. */
typedef struct nml_yolov8_config {
    int num_classes;       /* 80 */
    int anchors_first;     /* 0: [1, 4+nc, N] (Ultralytics); 1: transposed [1, N, 4+nc] */
    float coord_scale;     /* multiplies cx,cy,w,h: 1 for pixels; the input size when the export
                              normalised them (Ultralytics' TFLite export divides by it) */
    float score_threshold; /* 0.25 for pictures, 0.001 to evaluate */
    float nms_iou;         /* 0.7 (Ultralytics default) */
    int per_class_nms;     /* 1 */
    size_t max_det;        /* 300 */
    int clip;              /* 1: clip to the original image (Ultralytics does) */
    int multi_label;       /* 1: every class above the threshold is a candidate (Ultralytics'
                              validation); 0: only the best class of each anchor */
    size_t max_nms;        /* candidates entering NMS, highest scores first (30000; 0 = all) */
} nml_yolov8_config;

nml_yolov8_config nml_yolov8_defaults(void);

/* count = (4+nc)*N floats; N is derived from count. */
nml_status nml_yolov8_decode(const float *out, size_t count, const nml_yolov8_config *cfg,
                             const nml_image_transform *tf, nml_detections *dets, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
