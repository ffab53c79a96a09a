/* Running a detector over a YOLO-layout dataset into the metric accumulators. */
#include <stdlib.h>

#include "nanoml/detector.h"
#include "nanoml/progress.h"

static nml_status add_to_all(nml_det_eval *const *evs, size_t n_evs, const nml_gt_box *gt,
                             size_t n_gt, const nml_detections *dets, nml_error *err) {
    for (size_t i = 0; i < n_evs; i++)
        NML_TRY(nml_det_eval_add(evs[i], gt, n_gt, dets->v, dets->n, err));
    return NML_OK;
}

nml_status nml_detector_eval_sample(nml_detector *d, const nml_det_sample *s,
                                    nml_det_eval *const *evs, size_t n_evs, nml_error *err) {
    nml_image img;
    NML_TRY(nml_image_load(s->image_path, 3, &img, err));
    nml_detections dets = {NULL, 0, 0};
    nml_gt_box *gt = malloc((s->num_labels ? s->num_labels : 1) * sizeof *gt);
    nml_status st = gt ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    if (st == NML_OK) st = nml_detector_run(d, &img, &dets, err);
    for (size_t i = 0; st == NML_OK && i < s->num_labels; i++)
        gt[i] = nml_yolo_label_to_box(&s->labels[i], img.w, img.h);
    if (st == NML_OK) st = add_to_all(evs, n_evs, gt, s->num_labels, &dets, err);
    if (st != NML_OK) nml_error_prefix(err, "%s: ", s->image_path);
    free(gt);
    nml_detections_free(&dets);
    nml_image_free(&img);
    return st;
}

nml_status nml_detector_eval_range(nml_detector *d, const nml_det_dataset *ds, size_t first,
                                   size_t count, nml_det_eval *ev, const char *label,
                                   nml_error *err) {
    if (first > ds->count) first = ds->count;
    if (count > ds->count - first) count = ds->count - first;
    nml_progress bar;
    nml_progress_begin_ex(&bar, label ? label : "", count, "img", stderr,
                          label ? NML_PROGRESS_AUTO : NML_PROGRESS_OFF);
    nml_status st = NML_OK;
    for (size_t i = 0; i < count && st == NML_OK; i++) {
        st = nml_detector_eval_sample(d, &ds->samples[first + i], &ev, 1, err);
        nml_progress_add(&bar, 1);
    }
    nml_progress_end(&bar);
    return st;
}
