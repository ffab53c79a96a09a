/* Detection metrics: mAP50, mAP50-95 (COCO IoU thresholds 0.50:0.05:0.95, 101-point
 * interpolation) and precision/recall at the best mean-F1 confidence, the figures Ultralytics
 * reports. docs/detection-metrics.md gives the exact definitions. Host only. */
#ifndef NANOML_DET_EVAL_H
#define NANOML_DET_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/det_dataset.h"
#include "nanoml/detect.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NML_EVAL_IOU_STEPS 10 /* 0.50, 0.55, ..., 0.95 */

/* How detections of one image are matched to its ground truth at each IoU threshold. */
typedef enum nml_match_rule {
    /* Ultralytics (DetectionValidator.match_predictions): each detection picks its
     * highest-IoU same-class box with IoU >= t; each box then keeps, of the detections that
     * picked it, the first in input order (highest score, as NMS returns them). */
    NML_MATCH_ULTRALYTICS = 0,
    /* pycocotools: detections by descending score each take the unmatched same-class box with
     * the highest IoU >= t. */
    NML_MATCH_COCO = 1
} nml_match_rule;

/* How a precision/recall curve becomes AP (both sample 101 recall points 0, 0.01, ..., 1 on the
 * precision envelope). */
typedef enum nml_ap_rule {
    /* Ultralytics compute_ap: the envelope with sentinels (recall 0 -> precision 1, recall 1 ->
     * precision 0), linearly interpolated at the 101 points, integrated by trapezoids. */
    NML_AP_ULTRALYTICS = 0,
    /* pycocotools: the mean of the envelope precision at the first curve point reaching each
     * recall point (0 when the curve never reaches it). */
    NML_AP_COCO = 1
} nml_ap_rule;

/* Which confidence threshold the reported precision and recall are read at. Both use the
 * per-class precision and recall curves at IoU 0.5 sampled at 1000 confidences 0..1. */
typedef enum nml_pr_rule {
    /* Ultralytics (ap_per_class): one threshold for all classes, where the mean over classes of
     * F1 (smoothed by a 101-point box filter) is highest; P and R are the class means there. */
    NML_PR_MEAN_F1 = 0,
    /* Each class at its own highest-F1 threshold (no smoothing); P and R are the class means.
     * This is what reproduces the FastestDet reference figures (docs/detection-metrics.md). */
    NML_PR_CLASS_F1 = 1
} nml_pr_rule;

typedef struct nml_det_eval_config {
    int num_classes;
    nml_match_rule match;
    nml_ap_rule ap;
    nml_pr_rule pr;
} nml_det_eval_config;

nml_det_eval_config nml_det_eval_defaults(int num_classes);

typedef struct nml_det_metrics {
    double precision, recall; /* means over classes at the operating point(s) of cfg.pr */
    double f1;                /* mean over classes of F1 there */
    double best_conf;         /* NML_PR_MEAN_F1: that confidence; NML_PR_CLASS_F1: NaN */
    double map50, map50_95;   /* mean AP over classes with ground truth */
    int classes_evaluated;    /* classes with at least one ground-truth box */
    size_t images, ground_truth, detections;
    /* per class (num_classes entries each, malloc'ed; NaN for classes without ground truth) */
    double *ap50, *ap50_95, *class_precision, *class_recall;
    size_t *class_gt; /* ground-truth boxes per class */
} nml_det_metrics;

typedef struct nml_det_eval nml_det_eval;

nml_status nml_det_eval_create(const nml_det_eval_config *cfg, nml_det_eval **ev, nml_error *err);
void nml_det_eval_destroy(nml_det_eval *ev);

/* Adds one image: its ground truth and its detections (any order; they are sorted by score).
 * Both in the same pixel space. */
nml_status nml_det_eval_add(nml_det_eval *ev, const nml_gt_box *gt, size_t num_gt,
                            const nml_detection *dets, size_t num_dets, nml_error *err);

/* Computes the metrics over all images added so far. Free m with nml_det_metrics_free. */
nml_status nml_det_eval_compute(const nml_det_eval *ev, nml_det_metrics *m, nml_error *err);
void nml_det_metrics_free(nml_det_metrics *m);

/* --- building blocks, exposed for tests --- */

/* IoU thresholds used for mAP50-95: 0.50 + 0.05 * i as float. */
float nml_eval_iou_threshold(int i);

/* Matches one image's detections (already in priority order: descending score) to its ground
 * truth; sets bit i of tp[d] when detection d is a true positive at threshold i. */
nml_status nml_match_detections(const nml_gt_box *gt, size_t num_gt, const nml_detection *dets,
                                size_t num_dets, nml_match_rule rule, uint16_t *tp, nml_error *err);

/* AP of one precision/recall curve (n points ordered by descending confidence). */
double nml_average_precision(const double *recall, const double *precision, size_t n,
                             nml_ap_rule rule);

/* NumPy's interp(x, xp, fp, left, right) for non-decreasing xp (n >= 1). */
double nml_np_interp(double x, const double *xp, const double *fp, size_t n, double left,
                     double right);

#ifdef __cplusplus
}
#endif
#endif
