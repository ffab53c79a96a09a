/* Matching one image's detections to its ground truth at the ten IoU thresholds. */
#include <math.h>
#include <stdlib.h>

#include "nanoml/det_eval.h"

float nml_eval_iou_threshold(int i) {
    return (float)(0.5 + 0.05 * i);
}

static float gt_iou(const nml_gt_box *g, const nml_detection *d) {
    nml_detection b = {g->x1, g->y1, g->x2, g->y2, 0.f, g->cls};
    return nml_box_iou(&b, d);
}

/* Ultralytics: a detection's candidate is its highest-IoU same-class box at IoU >= t; a box
 * claimed by several detections goes to the first of them in input (score) order; the others
 * are false positives even if another box would have matched them. */
static void match_ultralytics(const float *iou, size_t ng, size_t nd, float t, int bit,
                              uint16_t *tp, size_t *claim, size_t *winner) {
    const size_t none = (size_t)-1;
    for (size_t g = 0; g < ng; g++)
        winner[g] = none;
    for (size_t d = 0; d < nd; d++) {
        claim[d] = none;
        float best = -1.f;
        for (size_t g = 0; g < ng; g++) {
            float v = iou[g * nd + d];
            if (v >= t && v > best) {
                best = v;
                claim[d] = g;
            }
        }
        if (claim[d] != none && winner[claim[d]] == none) winner[claim[d]] = d;
    }
    for (size_t g = 0; g < ng; g++)
        if (winner[g] != none) tp[winner[g]] |= (uint16_t)(1u << bit);
}

/* pycocotools: by descending score, each detection takes the best still-unmatched box. */
static void match_coco(const float *iou, size_t ng, size_t nd, float t, int bit, uint16_t *tp,
                       size_t *taken) {
    const size_t none = (size_t)-1;
    for (size_t g = 0; g < ng; g++)
        taken[g] = 0;
    for (size_t d = 0; d < nd; d++) {
        size_t m = none;
        float best = fminf(t, 1.f - 1e-10f);
        for (size_t g = 0; g < ng; g++) {
            float v = iou[g * nd + d];
            if (taken[g] || v < best) continue;
            best = v;
            m = g;
        }
        if (m == none) continue;
        taken[m] = 1;
        tp[d] |= (uint16_t)(1u << bit);
    }
}

nml_status nml_match_detections(const nml_gt_box *gt, size_t ng, const nml_detection *dets,
                                size_t nd, nml_match_rule rule, uint16_t *tp, nml_error *err) {
    for (size_t d = 0; d < nd; d++)
        tp[d] = 0;
    if (ng == 0 || nd == 0) return NML_OK;
    if (rule != NML_MATCH_ULTRALYTICS && rule != NML_MATCH_COCO)
        return nml_fail(err, NML_E_ARG, "match: unknown rule %d", (int)rule);
    if (ng > SIZE_MAX / sizeof(float) / nd)
        return nml_fail(err, NML_E_LIMIT, "match: %zu x %zu IoU matrix too large", ng, nd);
    float *iou = malloc(ng * nd * sizeof *iou);
    size_t *a = malloc((nd > ng ? nd : ng) * sizeof *a), *b = malloc(ng * sizeof *b);
    if (!iou || !a || !b) {
        free(iou);
        free(a);
        free(b);
        return nml_fail(err, NML_E_NOMEM, "match: out of memory (%zu x %zu)", ng, nd);
    }
    for (size_t g = 0; g < ng; g++)
        for (size_t d = 0; d < nd; d++)
            iou[g * nd + d] = gt[g].cls == dets[d].cls ? gt_iou(&gt[g], &dets[d]) : 0.f;
    for (int i = 0; i < NML_EVAL_IOU_STEPS; i++) {
        float t = nml_eval_iou_threshold(i);
        if (rule == NML_MATCH_ULTRALYTICS)
            match_ultralytics(iou, ng, nd, t, i, tp, a, b);
        else
            match_coco(iou, ng, nd, t, i, tp, b);
    }
    free(iou);
    free(a);
    free(b);
    return NML_OK;
}
