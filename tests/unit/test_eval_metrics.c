/* Detection metrics on tiny hand-made cases; the expected values are worked out in comments. */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "nanoml/det_eval.h"

/* numpy.interp: the last xp[j] <= x decides; an exact hit returns fp[j]; outside -> left/right */
static void interp_follows_numpy(void **state) {
    (void)state;
    const double xp[4] = {0.0, 0.5, 0.5, 1.0}, fp[4] = {1.0, 1.0, 2.0 / 3.0, 0.0};
    assert_float_equal(nml_np_interp(0.25, xp, fp, 4, 9, 9), 1.0, 1e-12);
    assert_float_equal(nml_np_interp(0.5, xp, fp, 4, 9, 9), 2.0 / 3.0, 1e-12); /* fp[2] */
    assert_float_equal(nml_np_interp(0.75, xp, fp, 4, 9, 9), 1.0 / 3.0, 1e-12);
    assert_float_equal(nml_np_interp(1.0, xp, fp, 4, 9, 9), 0.0, 1e-12);
    assert_float_equal(nml_np_interp(-0.1, xp, fp, 4, 7, 9), 7.0, 0);
    assert_float_equal(nml_np_interp(1.1, xp, fp, 4, 7, 9), 9.0, 0);
}

/* Two ground-truth boxes, detections by score: TP, FP, TP.
 *   recall 0.5, 0.5, 1     precision 1, 0.5, 2/3
 * Ultralytics: recall 0 -> 1, recall 1 -> 0 sentinels; envelope 1, 1, 2/3, 2/3, 0 at recall
 *   0, .5, .5, 1, 1. Sampled at r = 0, .01, ..., 1: 1 for r < .5, 2/3 for .5 <= r < 1, 0 at 1.
 *   Trapezoids: 49 * .01 * 1 + .01 * (1 + 2/3)/2 + 49 * .01 * 2/3 + .01 * (2/3)/2
 *             = .49 + .0083333 + .3266667 + .0033333 = .8283333
 * COCO: envelope 1, 2/3, 2/3; r = 0...0.5 (51 points) -> 1, r = .51...1 (50 points) -> 2/3:
 *   (51 + 50 * 2/3) / 101 = .8349835 */
static void ap_full_recall(void **state) {
    (void)state;
    const double r[3] = {0.5, 0.5, 1.0}, p[3] = {1.0, 0.5, 2.0 / 3.0};
    assert_float_equal(nml_average_precision(r, p, 3, NML_AP_ULTRALYTICS), 0.8283333, 1e-6);
    assert_float_equal(nml_average_precision(r, p, 3, NML_AP_COCO), 0.8349835, 1e-6);
}

/* Four boxes, detections TP, TP, FP: recall .25, .5, .5; precision 1, 1, 2/3.
 * Ultralytics: 1 up to r < .5, 2/3 at .5, then the straight line from (.5, 2/3) to the sentinel
 *   (1, 0): .49 + .01 * (1 + 2/3)/2 + (.5 * .5 * 2/3) = .49 + .0083333 + .1666667 = .665
 * COCO: r = 0...0.5 reached (51 points, envelope 1), beyond .5 never reached (0): 51/101 */
static void ap_partial_recall(void **state) {
    (void)state;
    const double r[3] = {0.25, 0.5, 0.5}, p[3] = {1.0, 1.0, 2.0 / 3.0};
    assert_float_equal(nml_average_precision(r, p, 3, NML_AP_ULTRALYTICS), 0.665, 1e-6);
    assert_float_equal(nml_average_precision(r, p, 3, NML_AP_COCO), 51.0 / 101.0, 1e-9);
}

/* Where the matching rules differ. g0 = (0,0)-(10,10), g1 = (2,0)-(12,10), both class 0.
 * d0 = g0 (score .9): IoU 1 with g0, 80/120 = .667 with g1.
 * d1 = (0.8,0)-(10.8,10) (score .8): IoU 92/108 = .852 with g0, 88/112 = .786 with g1.
 * Ultralytics: both detections pick g0 (their best); g0 goes to d0 (first) and d1 is a false
 *   positive at every threshold.
 * COCO: d0 takes g0; d1 takes g1, the best still free, wherever .786 >= t: t = .50 ... .75
 *   (bits 0-5). d0 matches at every threshold (bits 0-9). */
static void matching_rules(void **state) {
    (void)state;
    nml_gt_box gt[2] = {{0, 0, 10, 10, 0}, {2, 0, 12, 10, 0}};
    nml_detection d[2] = {{0, 0, 10, 10, .9f, 0}, {0.8f, 0, 10.8f, 10, .8f, 0}};
    uint16_t tp[2];
    nml_error err;
    assert_int_equal(nml_match_detections(gt, 2, d, 2, NML_MATCH_ULTRALYTICS, tp, &err), NML_OK);
    assert_int_equal(tp[0], 0x3FF);
    assert_int_equal(tp[1], 0);
    assert_int_equal(nml_match_detections(gt, 2, d, 2, NML_MATCH_COCO, tp, &err), NML_OK);
    assert_int_equal(tp[0], 0x3FF);
    assert_int_equal(tp[1], 0x3F);
    /* another class never matches */
    d[0].cls = 1;
    assert_int_equal(nml_match_detections(gt, 2, d, 1, NML_MATCH_COCO, tp, &err), NML_OK);
    assert_int_equal(tp[0], 0);
    assert_float_equal(nml_eval_iou_threshold(0), 0.5f, 0);
    assert_float_equal(nml_eval_iou_threshold(9), 0.95f, 0);
}

/* Whole evaluation. Class 0: image A has box (0,0)-(10,10) with detections on it (.9, TP) and
 * elsewhere (.8, FP); image B has the same box, detected at .7 (TP). Exact boxes: IoU 1, so the
 * AP is the same at every threshold: .8283333 (see ap_full_recall). A class-3 detection without
 * ground truth of that class is ignored; class 5 has a box in image B but no detection: AP 0,
 * averaged in. mAP50 = mAP50-95 = .8283333 / 2. */
static void evaluate_two_images(void **state) {
    (void)state;
    nml_det_eval_config cfg = nml_det_eval_defaults(8);
    nml_det_eval *ev;
    nml_error err;
    assert_int_equal(nml_det_eval_create(&cfg, &ev, &err), NML_OK);
    nml_gt_box ga[1] = {{0, 0, 10, 10, 0}};
    nml_detection da[3] = {{50, 50, 60, 60, .8f, 0}, {0, 0, 10, 10, .9f, 0}, {0, 0, 5, 5, .95f, 3}};
    nml_gt_box gb[2] = {{0, 0, 10, 10, 0}, {20, 20, 40, 40, 5}};
    nml_detection db[1] = {{0, 0, 10, 10, .7f, 0}};
    assert_int_equal(nml_det_eval_add(ev, ga, 1, da, 3, &err), NML_OK);
    assert_int_equal(nml_det_eval_add(ev, gb, 2, db, 1, &err), NML_OK);
    nml_det_metrics m;
    assert_int_equal(nml_det_eval_compute(ev, &m, &err), NML_OK);
    assert_int_equal(m.classes_evaluated, 2);
    assert_int_equal(m.ground_truth, 3);
    assert_float_equal(m.ap50[0], 0.8283333, 1e-6);
    assert_float_equal(m.ap50_95[0], 0.8283333, 1e-6);
    assert_float_equal(m.ap50[5], 0.0, 0);
    assert_true(isnan(m.ap50[3]));
    assert_float_equal(m.map50, 0.8283333 / 2, 1e-6);
    assert_float_equal(m.map50_95, 0.8283333 / 2, 1e-6);
    nml_det_metrics_free(&m);
    nml_gt_box bad[1] = {{0, 0, 1, 1, 9}};
    assert_int_equal(nml_det_eval_add(ev, bad, 1, NULL, 0, &err), NML_E_ARG);
    nml_det_eval_destroy(ev);
}

/* Precision/recall operating points. One box per class.
 * class 0: detections .9 (TP), .2, .15, .1 (FP): F1 is highest (about 1) near confidence .9.
 * class 1: detections .8 (FP), .3 (TP): F1 is highest (2/3: P = .5, R = 1) below .3.
 * Per-class best F1: class 0 P ~ 1, R = 1; class 1 P = .5, R = 1 -> means P ~ .75, R = 1.
 * One shared threshold (Ultralytics) cannot have both: class 1's recall is 1 only at or below
 * .3, where class 0's precision (interpolated between .5 at .2 and 1 at .9) is at most
 * .5 + .5 * .1/.7 = .571. */
static void precision_recall_rules(void **state) {
    (void)state;
    nml_det_eval_config cfg = nml_det_eval_defaults(2);
    nml_gt_box gt[2] = {{0, 0, 10, 10, 0}, {100, 100, 110, 110, 1}};
    nml_detection d[6] = {{0, 0, 10, 10, .9f, 0},    {30, 30, 40, 40, .2f, 0},
                          {50, 50, 60, 60, .15f, 0}, {70, 70, 80, 80, .1f, 0},
                          {0, 0, 10, 10, .8f, 1},    {100, 100, 110, 110, .3f, 1}};
    nml_det_metrics m;
    nml_error err;
    nml_det_eval *ev;
    cfg.pr = NML_PR_CLASS_F1;
    assert_int_equal(nml_det_eval_create(&cfg, &ev, &err), NML_OK);
    assert_int_equal(nml_det_eval_add(ev, gt, 2, d, 6, &err), NML_OK);
    assert_int_equal(nml_det_eval_compute(ev, &m, &err), NML_OK);
    assert_float_equal(m.class_precision[0], 1.0, 1e-3);
    assert_float_equal(m.class_recall[0], 1.0, 1e-12);
    assert_float_equal(m.class_precision[1], 0.5, 1e-12);
    assert_float_equal(m.class_recall[1], 1.0, 1e-12);
    assert_float_equal(m.precision, 0.75, 1e-3);
    assert_float_equal(m.recall, 1.0, 1e-12);
    nml_det_metrics_free(&m);
    nml_det_eval_destroy(ev);

    cfg.pr = NML_PR_MEAN_F1;
    assert_int_equal(nml_det_eval_create(&cfg, &ev, &err), NML_OK);
    assert_int_equal(nml_det_eval_add(ev, gt, 2, d, 6, &err), NML_OK);
    assert_int_equal(nml_det_eval_compute(ev, &m, &err), NML_OK);
    /* at any shared threshold: recall below 1, or (threshold <= .3) a mean precision of at most
     * (.571 + .5) / 2 = .536 -- never the per-class rule's .75 and 1 */
    assert_true(m.best_conf > 0.0 && m.best_conf < 1.0);
    assert_true(m.recall < 1.0 - 1e-9 || m.precision <= 0.536);
    nml_det_metrics_free(&m);
    nml_det_eval_destroy(ev);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(interp_follows_numpy), cmocka_unit_test(ap_full_recall),
        cmocka_unit_test(ap_partial_recall),    cmocka_unit_test(matching_rules),
        cmocka_unit_test(evaluate_two_images),  cmocka_unit_test(precision_recall_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
