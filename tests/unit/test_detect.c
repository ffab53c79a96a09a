/* IoU, NMS and the FastestDet / YOLOv8 decoders on small hand-built tensors. */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "nanoml/detect.h"

static nml_detection box(float x1, float y1, float x2, float y2, float s, int c) {
    nml_detection d = {x1, y1, x2, y2, s, c};
    return d;
}

static void iou_hand_cases(void **state) {
    (void)state;
    nml_detection a = box(0, 0, 2, 2, 0, 0), b = box(1, 1, 3, 3, 0, 0);
    assert_float_equal(nml_box_iou(&a, &b), 1.f / 7.f, 1e-7); /* inter 1, union 4 + 4 - 1 */
    assert_float_equal(nml_box_iou(&a, &a), 1.f, 1e-7);
    nml_detection far = box(5, 5, 6, 6, 0, 0), flat = box(0, 0, 2, 0, 0, 0);
    assert_float_equal(nml_box_iou(&a, &far), 0.f, 0);
    assert_float_equal(nml_box_iou(&a, &flat), 0.f, 0);
    nml_detection inner = box(0, 0, 1, 2, 0, 0); /* half of a */
    assert_float_equal(nml_box_iou(&a, &inner), 0.5f, 1e-7);
}

static void sort_is_stable(void **state) {
    (void)state;
    nml_detection d[4] = {box(0, 0, 1, 1, .5f, 0), box(0, 0, 1, 1, .9f, 1), box(0, 0, 1, 1, .5f, 2),
                          box(0, 0, 1, 1, .7f, 3)};
    nml_error err;
    assert_int_equal(nml_detections_sort(d, 4, &err), NML_OK);
    int want[4] = {1, 3, 0, 2}; /* equal scores (classes 0 and 2) keep their order */
    for (int i = 0; i < 4; i++)
        assert_int_equal(d[i].cls, want[i]);
}

/* A (0.9) and B (0.8) overlap with IoU 81/119 = 0.68 > 0.45; C is B's box with another class;
 * D is apart. Per class: A, C, D survive. Class-agnostic: A, D. max_det 2: A, C. */
static void nms_per_class_and_agnostic(void **state) {
    (void)state;
    nml_detection src[4] = {box(1, 1, 11, 11, .8f, 0), box(20, 20, 30, 30, .6f, 0),
                            box(0, 0, 10, 10, .9f, 0), box(1, 1, 11, 11, .7f, 1)};
    nml_detection d[4];
    nml_error err;
    size_t kept;
    memcpy(d, src, sizeof d);
    assert_int_equal(nml_nms(d, 4, 0.45f, 1, 0, &kept, &err), NML_OK);
    assert_int_equal(kept, 3);
    assert_float_equal(d[0].score, .9f, 0);
    assert_float_equal(d[1].score, .7f, 0);
    assert_float_equal(d[2].score, .6f, 0);
    memcpy(d, src, sizeof d);
    assert_int_equal(nml_nms(d, 4, 0.45f, 0, 0, &kept, &err), NML_OK);
    assert_int_equal(kept, 2);
    assert_float_equal(d[1].score, .6f, 0);
    memcpy(d, src, sizeof d);
    assert_int_equal(nml_nms(d, 4, 0.45f, 1, 2, &kept, &err), NML_OK);
    assert_int_equal(kept, 2);
    /* IoU 0.68 is not above 0.7: per class nothing is suppressed; class-agnostic, C (0.7) still
     * falls to B (0.8), the same box */
    memcpy(d, src, sizeof d);
    assert_int_equal(nml_nms(d, 4, 0.7f, 1, 0, &kept, &err), NML_OK);
    assert_int_equal(kept, 4);
    memcpy(d, src, sizeof d);
    assert_int_equal(nml_nms(d, 4, 0.7f, 0, 0, &kept, &err), NML_OK);
    assert_int_equal(kept, 3);
}

/* A 2x2 FastestDet grid with 2 classes (7 channels), written in NHWC order first.
 * cell (row 1, col 0): obj 0.7, classes (0.2, 0.7) -> score 0.7^0.6 * 0.7^0.4 = 0.7, class 1;
 *   tanh(atanh(0.5)) = 0.5, tanh(0) = 0, sigmoid(0) = 0.5, sigmoid(ln 3) = 0.75
 *   cx = (0 + 0.5)/2 = 0.25, cy = (1 + 0)/2 = 0.5, w = 0.5, h = 0.75
 *   on a 200x100 image: x 0..100, y 12.5..87.5
 * cell (row 0, col 1): obj 0.9, classes (0.9, 0.1) -> score 0.9, class 0;
 *   cx = 0.5, cy = 0, w = h = 0.5 -> x 50..150, y -25..25 (0..25 when clipped)
 * other cells have objectness 0 -> score 0. */
#define CH 7
static void fill_fastestdet(float nhwc[2][2][CH]) {
    memset(nhwc, 0, sizeof(float) * 2 * 2 * CH);
    float a[CH] = {0.7f, (float)atanh(0.5), 0.f, 0.f, (float)log(3.0), 0.2f, 0.7f};
    float b[CH] = {0.9f, 0.f, 0.f, 0.f, 0.f, 0.9f, 0.1f};
    memcpy(nhwc[1][0], a, sizeof a);
    memcpy(nhwc[0][1], b, sizeof b);
}

static void check_fastestdet_boxes(const nml_detections *d, int clipped) {
    assert_int_equal(d->n, 2);
    assert_int_equal(d->v[0].cls, 0);
    assert_float_equal(d->v[0].score, 0.9f, 1e-6);
    assert_float_equal(d->v[0].x1, 50.f, 1e-3);
    assert_float_equal(d->v[0].x2, 150.f, 1e-3);
    assert_float_equal(d->v[0].y1, clipped ? 0.f : -25.f, 1e-3);
    assert_float_equal(d->v[0].y2, 25.f, 1e-3);
    assert_int_equal(d->v[1].cls, 1);
    assert_float_equal(d->v[1].score, 0.7f, 1e-6);
    assert_float_equal(d->v[1].x1, 0.f, 1e-3);
    assert_float_equal(d->v[1].x2, 100.f, 1e-3);
    assert_float_equal(d->v[1].y1, 12.5f, 1e-3);
    assert_float_equal(d->v[1].y2, 87.5f, 1e-3);
}

static void fastestdet_decode_both_layouts(void **state) {
    (void)state;
    float nhwc[2][2][CH], nchw[CH][2][2];
    fill_fastestdet(nhwc);
    for (int c = 0; c < CH; c++)
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 2; k++)
                nchw[c][r][k] = nhwc[r][k][c];
    nml_fastestdet_config cfg = nml_fastestdet_defaults();
    cfg.grid_w = cfg.grid_h = 2;
    cfg.num_classes = 2;
    cfg.score_threshold = 0.5f;
    nml_detections d = {NULL, 0, 0};
    nml_error err;
    cfg.layout = NML_LAYOUT_NHWC;
    assert_int_equal(nml_fastestdet_decode(&nhwc[0][0][0], 28, &cfg, 200, 100, &d, &err), NML_OK);
    check_fastestdet_boxes(&d, 0);
    d.n = 0;
    cfg.layout = NML_LAYOUT_NCHW;
    cfg.clip = 1;
    assert_int_equal(nml_fastestdet_decode(&nchw[0][0][0], 28, &cfg, 200, 100, &d, &err), NML_OK);
    check_fastestdet_boxes(&d, 1);
    d.n = 0;
    cfg.score_threshold = 0.8f; /* keeps score > 0.8 only */
    assert_int_equal(nml_fastestdet_decode(&nchw[0][0][0], 28, &cfg, 200, 100, &d, &err), NML_OK);
    assert_int_equal(d.n, 1);
    assert_int_equal(nml_fastestdet_decode(&nchw[0][0][0], 27, &cfg, 200, 100, &d, &err),
                     NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "expected 7 x 2 x 2 = 28"));
    nml_detections_free(&d);
}

/* The same grid from a model trained at 64x48 and run at 32x24 with 16-pixel cells. Sizes scale
 * by train / input: x 64/32 = 2, y 48/24 = 2. Columns: 32 / 16 = 2 cells span the image; rows:
 * ceil(24 / 16) = 2 cells, but the image holds only 24 / 16 = 1.5 of them.
 * cell (row 0, col 1), score 0.9: cx = (1 + 0) / 2 = 0.5, cy = 0 / 1.5 = 0, w = 0.5 * 2 = 1,
 *   h = 0.5 * 2 = 1 -> on 200x100: x 0..200, y -50..50
 * cell (row 1, col 0), score 0.7: cx = 0.5 / 2 = 0.25, cy = 1 / 1.5 = 2/3, w = 0.5 * 2 = 1,
 *   h = 0.75 * 2 = 1.5 -> x -50..150, y 100 (2/3 - 3/4) = -8.333..100 (2/3 + 3/4) = 141.667
 * With 40 rows (ceil(40 / 16) = 3, not the grid's 2) the cell size does not explain the grid,
 * and the grid spans the image: cy = 1/2, h = 0.75 * 48/40 = 0.9 -> y 5..95 (x unchanged: the
 * 2 columns span 32 pixels either way). */
static void fastestdet_decode_other_input_size(void **state) {
    (void)state;
    float nhwc[2][2][CH];
    fill_fastestdet(nhwc);
    nml_fastestdet_config cfg = nml_fastestdet_defaults();
    assert_int_equal(cfg.train_w, 352);
    assert_int_equal(cfg.train_h, 352);
    assert_int_equal(cfg.stride, 16);
    cfg.grid_w = cfg.grid_h = 2;
    cfg.num_classes = 2;
    cfg.score_threshold = 0.5f;
    cfg.layout = NML_LAYOUT_NHWC;
    cfg.train_w = 64;
    cfg.train_h = 48;
    cfg.input_w = 32;
    cfg.input_h = 24;
    nml_detections d = {NULL, 0, 0};
    nml_error err;
    assert_int_equal(nml_fastestdet_decode(&nhwc[0][0][0], 28, &cfg, 200, 100, &d, &err), NML_OK);
    assert_int_equal(d.n, 2);
    assert_float_equal(d.v[0].score, 0.9f, 1e-6);
    assert_float_equal(d.v[0].x1, 0.f, 1e-3);
    assert_float_equal(d.v[0].x2, 200.f, 1e-3);
    assert_float_equal(d.v[0].y1, -50.f, 1e-3);
    assert_float_equal(d.v[0].y2, 50.f, 1e-3);
    assert_float_equal(d.v[1].score, 0.7f, 1e-6);
    assert_float_equal(d.v[1].x1, -50.f, 1e-3);
    assert_float_equal(d.v[1].x2, 150.f, 1e-3);
    assert_float_equal(d.v[1].y1, -25.f / 3.f, 1e-3);
    assert_float_equal(d.v[1].y2, 425.f / 3.f, 1e-3);
    d.n = 0;
    cfg.input_h = 40;
    assert_int_equal(nml_fastestdet_decode(&nhwc[0][0][0], 28, &cfg, 200, 100, &d, &err), NML_OK);
    assert_int_equal(d.n, 2);
    assert_float_equal(d.v[1].y1, 5.f, 1e-3);
    assert_float_equal(d.v[1].y2, 95.f, 1e-3);
    d.n = 0;
    cfg.train_w = -1;
    assert_int_equal(nml_fastestdet_decode(&nhwc[0][0][0], 28, &cfg, 200, 100, &d, &err),
                     NML_E_ARG);
    assert_non_null(strstr(err.msg, "training size"));
    nml_detections_free(&d);
}

/* YOLOv8 head with 2 classes and 3 anchors ([1, 6, 3]) for a 200x100 image letterboxed into
 * 64x64: r = 0.32, content 64x32, top padding round(16 - 0.1) = 16.
 * anchor 0: cx 32, cy 32, w 32, h 16, scores (0.1, 0.8) -> input box (16,24)-(48,40)
 *           -> original ((16-0)/0.32, (24-16)/0.32)-(48/0.32, (40-16)/0.32) = (50,25)-(150,75)
 * anchor 1: best score 0.2, under the 0.25 threshold
 * anchor 2: cx 0, cy 16, w 10, h 10, scores (0.9, 0) -> (-5,11)-(5,21) -> (-15.625,-15.625)-
 *           (15.625,15.625), clipped to (0,0)-(15.625,15.625) */
static void yolov8_decode_letterbox(void **state) {
    (void)state;
    float out[6][3] = {{32, 50, 0}, {32, 50, 16},       {32, 4, 10},
                       {16, 4, 10}, {0.1f, 0.2f, 0.9f}, {0.8f, 0.1f, 0.f}};
    nml_yolov8_config cfg = nml_yolov8_defaults();
    cfg.num_classes = 2;
    nml_image_transform tf = nml_letterbox_geometry(200, 100, 64, 64);
    nml_detections d = {NULL, 0, 0};
    nml_error err;
    assert_int_equal(nml_yolov8_decode(&out[0][0], 18, &cfg, &tf, &d, &err), NML_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[0].cls, 0);
    assert_float_equal(d.v[0].x1, 0.f, 1e-4);
    assert_float_equal(d.v[0].y1, 0.f, 1e-4);
    assert_float_equal(d.v[0].x2, 15.625f, 1e-4);
    assert_float_equal(d.v[0].y2, 15.625f, 1e-4);
    assert_int_equal(d.v[1].cls, 1);
    assert_float_equal(d.v[1].x1, 50.f, 1e-4);
    assert_float_equal(d.v[1].y1, 25.f, 1e-4);
    assert_float_equal(d.v[1].x2, 150.f, 1e-4);
    assert_float_equal(d.v[1].y2, 75.f, 1e-4);
    /* the same head transposed ([1, 3, 6]) with coordinates normalised by 64 */
    float t[3][6];
    for (int r = 0; r < 6; r++)
        for (int a = 0; a < 3; a++)
            t[a][r] = r < 4 ? out[r][a] / 64.f : out[r][a];
    cfg.anchors_first = 1;
    cfg.coord_scale = 64.f;
    d.n = 0;
    assert_int_equal(nml_yolov8_decode(&t[0][0], 18, &cfg, &tf, &d, &err), NML_OK);
    assert_int_equal(d.n, 2);
    assert_float_equal(d.v[1].x2, 150.f, 1e-3);
    assert_int_equal(nml_yolov8_decode(&t[0][0], 17, &cfg, &tf, &d, &err), NML_E_SHAPE);
    nml_detections_free(&d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(iou_hand_cases),
        cmocka_unit_test(sort_is_stable),
        cmocka_unit_test(nms_per_class_and_agnostic),
        cmocka_unit_test(fastestdet_decode_both_layouts),
        cmocka_unit_test(fastestdet_decode_other_input_size),
        cmocka_unit_test(yolov8_decode_letterbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
