/* YOLOv8 detection-head decoding (see include/nanoml/detect.h). */
#include <math.h>

#include "nanoml/detect.h"

#define YOLO_BOX_ROWS 4

nml_yolov8_config nml_yolov8_defaults(void) {
    nml_yolov8_config c;
    c.num_classes = 80;
    c.anchors_first = 0;
    c.coord_scale = 1.f;
    c.score_threshold = 0.25f;
    c.nms_iou = 0.7f;
    c.per_class_nms = 1;
    c.max_det = 300;
    c.clip = 1;
    c.multi_label = 0;
    c.max_nms = 30000;
    return c;
}

typedef struct head_view {
    const float *data;
    size_t anchors;
    int rows; /* 4 + nc */
    int anchors_first;
} head_view;

static float head_at(const head_view *v, int row, size_t anchor) {
    if (v->anchors_first) return v->data[anchor * (size_t)v->rows + (size_t)row];
    return v->data[(size_t)row * v->anchors + anchor];
}

static int best_class(const head_view *v, size_t a, float *best) {
    int cls = 0;
    *best = head_at(v, YOLO_BOX_ROWS, a);
    for (int c = 1; c < v->rows - YOLO_BOX_ROWS; c++) {
        float s = head_at(v, YOLO_BOX_ROWS + c, a);
        if (s > *best) {
            *best = s;
            cls = c;
        }
    }
    return cls;
}

static nml_detection anchor_box(const head_view *v, size_t a, float scale) {
    float cx = head_at(v, 0, a) * scale, cy = head_at(v, 1, a) * scale;
    float w = head_at(v, 2, a) * scale, h = head_at(v, 3, a) * scale;
    nml_detection d = {cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h, 0.f, 0};
    return d;
}

static nml_status push_best_class(const head_view *v, size_t a, const nml_yolov8_config *cfg,
                                  nml_detections *dets, nml_error *err) {
    float score;
    int cls = best_class(v, a, &score);
    if (!(score > cfg->score_threshold)) return NML_OK;
    nml_detection d = anchor_box(v, a, cfg->coord_scale);
    d.score = score;
    d.cls = cls;
    return nml_detections_push(dets, d, err);
}

/* Ultralytics' multi-label candidates: one per class above the threshold, in class order. */
static nml_status push_all_classes(const head_view *v, size_t a, const nml_yolov8_config *cfg,
                                   nml_detections *dets, nml_error *err) {
    for (int c = 0; c < v->rows - YOLO_BOX_ROWS; c++) {
        float score = head_at(v, YOLO_BOX_ROWS + c, a);
        if (!(score > cfg->score_threshold)) continue;
        nml_detection d = anchor_box(v, a, cfg->coord_scale);
        d.score = score;
        d.cls = c;
        NML_TRY(nml_detections_push(dets, d, err));
    }
    return NML_OK;
}

/* Keeps the max_nms highest-scoring candidates (stable), as Ultralytics does before NMS. */
static nml_status cap_candidates(nml_detections *dets, size_t first, size_t max_nms,
                                 nml_error *err) {
    size_t n = dets->n - first;
    if (max_nms == 0 || n <= max_nms) return NML_OK;
    NML_TRY(nml_detections_sort(dets->v + first, n, err));
    dets->n = first + max_nms;
    return NML_OK;
}

static float clamp_f(float v, float hi) {
    return v < 0.f ? 0.f : v > hi ? hi : v;
}

static void map_to_source(nml_detection *d, const nml_image_transform *tf, int clip) {
    nml_transform_to_source(tf, &d->x1, &d->y1);
    nml_transform_to_source(tf, &d->x2, &d->y2);
    if (!clip) return;
    d->x1 = clamp_f(d->x1, (float)tf->src_w);
    d->x2 = clamp_f(d->x2, (float)tf->src_w);
    d->y1 = clamp_f(d->y1, (float)tf->src_h);
    d->y2 = clamp_f(d->y2, (float)tf->src_h);
}

static nml_status check_config(const nml_yolov8_config *cfg, size_t count,
                               const nml_image_transform *tf, nml_error *err) {
    if (cfg->num_classes < 1 || cfg->num_classes > 100000)
        return nml_fail(err, NML_E_ARG, "yolov8: bad class count %d", cfg->num_classes);
    size_t rows = (size_t)YOLO_BOX_ROWS + (size_t)cfg->num_classes;
    if (count == 0 || count % rows != 0)
        return nml_fail(err, NML_E_SHAPE,
                        "yolov8: output has %zu values, not a multiple of 4 + %d classes", count,
                        cfg->num_classes);
    if (!(cfg->coord_scale > 0.f) || !isfinite(cfg->coord_scale))
        return nml_fail(err, NML_E_ARG, "yolov8: coordinate scale must be positive");
    if (!tf || tf->src_w < 1 || tf->src_h < 1 || !(tf->scale_x > 0.f) || !(tf->scale_y > 0.f))
        return nml_fail(err, NML_E_ARG, "yolov8: missing or invalid image transform");
    return NML_OK;
}

nml_status nml_yolov8_decode(const float *out, size_t count, const nml_yolov8_config *cfg,
                             const nml_image_transform *tf, nml_detections *dets, nml_error *err) {
    NML_TRY(check_config(cfg, count, tf, err));
    head_view v = {out, count / ((size_t)YOLO_BOX_ROWS + (size_t)cfg->num_classes),
                   YOLO_BOX_ROWS + cfg->num_classes, cfg->anchors_first};
    size_t first = dets->n;
    for (size_t a = 0; a < v.anchors; a++)
        NML_TRY(cfg->multi_label ? push_all_classes(&v, a, cfg, dets, err)
                                 : push_best_class(&v, a, cfg, dets, err));
    NML_TRY(cap_candidates(dets, first, cfg->max_nms, err));
    size_t kept = 0;
    NML_TRY(nml_nms(dets->v + first, dets->n - first, cfg->nms_iou, cfg->per_class_nms,
                    cfg->max_det, &kept, err));
    dets->n = first + kept;
    for (size_t i = first; i < dets->n; i++)
        map_to_source(&dets->v[i], tf, cfg->clip);
    return NML_OK;
}
