/* A detection model run end to end on the host, for FastestDet and YOLOv8 heads:
 *
 *   image -> stretch (FastestDet, BGR/255) or letterbox (YOLOv8, pad 114, RGB/255) to the model's
 *   input size -> float input, or quantized when the input is int8/uint8 -> nanoml runtime ->
 *   output dequantized -> decoder (threshold, NMS) -> boxes in original-image pixels.
 *
 * The decoder is recognised from the output shape (nml_det_head_from_shape); the model's input
 * shape fixes the preprocessing size. The decoder settings (fastestdet / yolov8 fields) are
 * public: change them between nml_detector_open and nml_detector_run. An open detector points into
 * itself (interpreter -> model): never copy or move the struct. Host only. */
#ifndef NANOML_DETECTOR_H
#define NANOML_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/det_dataset.h"
#include "nanoml/det_eval.h"
#include "nanoml/detect.h"
#include "nanoml/image.h"
#include "nanoml/runtime.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_det_kind {
    NML_DET_AUTO = 0, /* recognise from the output shape */
    NML_DET_FASTESTDET = 1,
    NML_DET_YOLOV8 = 2
} nml_det_kind;

/* "auto", "fastestdet", "yolov8". */
const char *nml_det_kind_name(nml_det_kind kind);
/* Parses those names; errors name the accepted values. */
nml_status nml_det_kind_parse(const char *s, nml_det_kind *kind, nml_error *err);

/* What an output shape means:
 *   FastestDet  [1, 5+nc, H, W] (NCHW, ONNX) or [1, H, W, 5+nc] (NHWC, TFLite import)
 *   YOLOv8      [1, 4+nc, N] (Ultralytics) or [1, N, 4+nc] (transposed) */
typedef struct nml_det_head {
    nml_det_kind kind;
    nml_tensor_layout layout; /* FastestDet */
    int grid_w, grid_h;       /* FastestDet */
    int anchors_first;        /* YOLOv8: 1 for [1, N, 4+nc] */
    int anchors;              /* YOLOv8: N */
} nml_det_head;

/* Recognises the head from an output shape for nc classes. want = AUTO accepts either kind;
 * otherwise the shape must fit that kind. Errors say which shapes were expected. */
nml_status nml_det_head_from_shape(const int32_t *dims, int rank, int num_classes,
                                   nml_det_kind want, nml_det_head *head, nml_error *err);

/* How the input tensor is laid out: [1, H, W, 3] (NHWC) or [1, 3, H, W] (NCHW); float32, int8 or
 * uint8. */
typedef struct nml_det_input {
    int w, h;
    nml_tensor_layout layout;
    int dtype;   /* nml_dtype */
    float scale; /* quantized inputs */
    int zero_point;
} nml_det_input;

nml_status nml_det_input_from_tensor(const nml_tensor *t, nml_det_input *in, nml_error *err);

/* How float inputs become int8/uint8: TFLite's rule rounds half away from zero; Ultralytics'
 * AutoBackend writes (x / scale + zero_point).astype(int8), which truncates toward zero. */
typedef enum nml_det_input_rounding {
    NML_DET_ROUND = 0,
    NML_DET_TRUNCATE = 1
} nml_det_input_rounding;

/* YOLOv8 box units: Ultralytics' TFLite export divides cx, cy, w, h by the input width/height;
 * ONNX/PyTorch exports keep input pixels. AUTO: normalised when a quantized output cannot
 * represent values above 2, or (float output) when no cx in the output exceeds 2. */
typedef enum nml_det_coords {
    NML_DET_COORDS_AUTO = 0,
    NML_DET_COORDS_PIXELS = 1,
    NML_DET_COORDS_NORMALIZED = 2
} nml_det_coords;

typedef struct nml_detector {
    nml_det_kind kind;
    nml_det_head head;
    nml_det_input input;
    int num_classes;
    /* preprocessing (set by open from the kind) */
    int letterbox;       /* 1: YOLOv8 letterbox; 0: FastestDet stretch */
    uint8_t pad_value;   /* 114 */
    nml_pixel_norm norm; /* FastestDet BGR/255, YOLOv8 RGB/255 */
    nml_det_input_rounding rounding;
    nml_det_coords coords;
    /* decoding (defaults from nml_fastestdet_defaults / nml_yolov8_defaults, layout and grid
     * from the head) */
    nml_fastestdet_config fastestdet;
    nml_yolov8_config yolov8;
    /* owned runtime state */
    uint8_t *model_data;
    size_t model_size;
    uint8_t *arena;
    nml_model model;
    nml_interpreter it;
    float *out; /* dequantized output */
    size_t out_count;
} nml_detector;

/* Loads a .tflite detection model, initializes the runtime (exact arena) and recognises its
 * input and output. kind = AUTO takes the decoder from the output shape. */
nml_status nml_detector_open(nml_detector *d, const char *path, nml_det_kind kind, int num_classes,
                             nml_error *err);
/* Same from model bytes in memory (copied into an aligned buffer the detector owns). */
nml_status nml_detector_open_bytes(nml_detector *d, const uint8_t *data, size_t size,
                                   nml_det_kind kind, int num_classes, nml_error *err);
void nml_detector_close(nml_detector *d);

/* Checks a requested input size against the model's: the model decides the preprocessing size,
 * so a different size is an error naming both (re-import the model for that size). */
nml_status nml_detector_check_size(const nml_detector *d, int w, int h, nml_error *err);

/* Preprocesses img into the model's input tensor; *tf (may be NULL) receives the transform. */
nml_status nml_detector_set_input(nml_detector *d, const nml_image *img, nml_image_transform *tf,
                                  nml_error *err);
/* Runs the model on the current input, then nml_detector_read_output. */
nml_status nml_detector_invoke(nml_detector *d, nml_error *err);
/* Dequantizes the output tensor into d->out (YOLOv8 boxes in input pixels). Exposed so that an
 * output computed elsewhere (another runtime) can be decoded the same way: write its bytes into
 * nml_output(&d->it, 0)->data first. */
void nml_detector_read_output(nml_detector *d);
/* Decodes d->out into dets (appended) in the original-image pixels of tf. */
nml_status nml_detector_decode(nml_detector *d, const nml_image_transform *tf, nml_detections *dets,
                               nml_error *err);
/* The three steps above. */
nml_status nml_detector_run(nml_detector *d, const nml_image *img, nml_detections *dets,
                            nml_error *err);

/* Evaluation: runs the detector on one dataset sample (image loaded as RGB) and adds its
 * detections and ground truth to every evaluator in evs. */
nml_status nml_detector_eval_sample(nml_detector *d, const nml_det_sample *s,
                                    nml_det_eval *const *evs, size_t n_evs, nml_error *err);
/* Samples [first, first + count) of ds (count clipped to the dataset) into ev, with a progress
 * bar on stderr labelled label (NULL: none). */
nml_status nml_detector_eval_range(nml_detector *d, const nml_det_dataset *ds, size_t first,
                                   size_t count, nml_det_eval *ev, const char *label,
                                   nml_error *err);

/* An evaluation protocol: decoding settings plus metric rules, with per-decoder defaults that
 * follow each model's reference figures (docs/detection.md, docs/detection-metrics.md):
 *   YOLOv8      conf > 0.001, class-wise NMS IoU 0.7, at most 300 detections (Ultralytics val),
 *               Ultralytics matching and AP, P/R at each class's best F1 (as the reference)
 *   FastestDet  score > 0.001, class-agnostic NMS IoU 0.45, no cap (the author's ONNX Runtime
 *               example), Ultralytics matching and AP, P/R at each class's best F1 */
typedef struct nml_det_protocol {
    float score_threshold;
    float nms_iou;
    int per_class_nms;
    size_t max_det;  /* 0 = no limit */
    int multi_label; /* YOLOv8: every class above the threshold is a candidate */
    nml_det_eval_config eval;
} nml_det_protocol;

nml_det_protocol nml_det_protocol_defaults(nml_det_kind kind, int num_classes);
/* Sets the detector's decoder thresholds from the protocol. */
void nml_detector_apply_protocol(nml_detector *d, const nml_det_protocol *p);
/* One line describing the whole protocol (preprocessing included) for reports. */
void nml_det_protocol_describe(const nml_detector *d, const nml_det_protocol *p, char *buf,
                               size_t cap);

#ifdef __cplusplus
}
#endif
#endif
