/* Per-decoder evaluation protocols (see include/nanoml/detector.h). */
#include <stdio.h>

#include "nanoml/detector.h"

nml_det_protocol nml_det_protocol_defaults(nml_det_kind kind, int num_classes) {
    nml_det_protocol p;
    p.eval = nml_det_eval_defaults(num_classes);
    p.score_threshold = 0.001f;
    p.multi_label = 0;
    if (kind == NML_DET_FASTESTDET) {
        /* the ONNX Runtime reference figures (docs/detection-metrics.md) */
        p.nms_iou = 0.45f;
        p.per_class_nms = 0;
        p.max_det = 0;
        p.eval.pr = NML_PR_CLASS_F1;
    } else {
        /* Ultralytics DetectionValidator's decoding; P/R per class as in the reference figures
         * (docs/detection.md: the mean-F1 point is 0.19 below their precision) */
        p.nms_iou = 0.7f;
        p.per_class_nms = 1;
        p.max_det = 300;
        p.eval.pr = NML_PR_CLASS_F1;
    }
    return p;
}

void nml_detector_apply_protocol(nml_detector *d, const nml_det_protocol *p) {
    d->fastestdet.score_threshold = d->yolov8.score_threshold = p->score_threshold;
    d->fastestdet.nms_iou = d->yolov8.nms_iou = p->nms_iou;
    d->fastestdet.per_class_nms = d->yolov8.per_class_nms = p->per_class_nms;
    d->fastestdet.max_det = d->yolov8.max_det = p->max_det;
    d->yolov8.multi_label = p->multi_label;
}

void nml_det_protocol_describe(const nml_detector *d, const nml_det_protocol *p, char *buf,
                               size_t cap) {
    char cap_text[48] = "no cap";
    if (p->max_det) snprintf(cap_text, sizeof cap_text, "max %zu per image", p->max_det);
    char sizes[96] = "";
    const nml_fastestdet_config *f = &d->fastestdet;
    if (d->kind == NML_DET_FASTESTDET && f->train_w > 0 && f->train_h > 0 &&
        (f->train_w != d->input.w || f->train_h != d->input.h))
        snprintf(sizes, sizeof sizes, ", box sizes x %.4g x %.4g (trained at %dx%d)",
                 (double)f->train_w / d->input.w, (double)f->train_h / d->input.h, f->train_w,
                 f->train_h);
    snprintf(buf, cap,
             "%s, %dx%d %s (bilinear%s), %s/255 %s input%s%s; score > %g%s, %s NMS IoU %g, %s; "
             "%s matching, %s 101-point AP, P/R at %s",
             nml_det_kind_name(d->kind), d->input.w, d->input.h,
             d->letterbox ? "letterbox" : "stretch", d->letterbox ? ", pad 114" : "",
             d->norm.bgr ? "BGR" : "RGB", nml_dtype_name(d->input.dtype),
             d->input.dtype == NML_FLOAT32     ? ""
             : d->rounding == NML_DET_TRUNCATE ? " (truncated)"
                                               : " (rounded)",
             sizes, (double)p->score_threshold, p->multi_label ? " (multi-label)" : "",
             p->per_class_nms ? "class-wise" : "class-agnostic", (double)p->nms_iou, cap_text,
             p->eval.match == NML_MATCH_COCO ? "pycocotools" : "Ultralytics",
             p->eval.ap == NML_AP_COCO ? "pycocotools" : "Ultralytics",
             p->eval.pr == NML_PR_CLASS_F1 ? "each class's best F1" : "the best mean F1");
}
