#include "nanoml/detect.h"

static int suppressed_by_kept(const nml_detection *dets, size_t kept, const nml_detection *cand,
                              float iou_threshold, int per_class) {
    for (size_t k = 0; k < kept; k++) {
        if (per_class && dets[k].cls != cand->cls) continue;
        if (nml_box_iou(&dets[k], cand) > iou_threshold) return 1;
    }
    return 0;
}

nml_status nml_nms(nml_detection *dets, size_t n, float iou_threshold, int per_class,
                   size_t max_det, size_t *kept, nml_error *err) {
    *kept = 0;
    NML_TRY(nml_detections_sort(dets, n, err));
    size_t limit = max_det ? max_det : n;
    size_t m = 0;
    for (size_t i = 0; i < n && m < limit; i++) {
        if (suppressed_by_kept(dets, m, &dets[i], iou_threshold, per_class)) continue;
        dets[m++] = dets[i]; /* m <= i: the kept prefix never overwrites unvisited boxes */
    }
    *kept = m;
    return NML_OK;
}
