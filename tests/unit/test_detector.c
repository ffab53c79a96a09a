/* The detection pipeline: head and input recognition, class names, preprocessing into the input
 * tensor, and decoding of hand-built models through the runtime. Expected values are computed by
 * hand in the comments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nanoml/class_names.h"
#include "nanoml/det_draw.h"
#include "nanoml/detector.h"
#include "nanoml/draw.h"
#include "nanoml/ir.h"
#include "test_util.h"

/* ---- head recognition ---- */

static void test_head_shapes(void **state) {
    (void)state;
    nml_det_head h;
    nml_error err;
    int32_t nchw[4] = {1, 85, 22, 22}, nhwc[4] = {1, 20, 22, 85};
    assert_int_equal(nml_det_head_from_shape(nchw, 4, 80, NML_DET_AUTO, &h, &err), NML_OK);
    assert_int_equal(h.kind, NML_DET_FASTESTDET);
    assert_int_equal(h.layout, NML_LAYOUT_NCHW);
    assert_int_equal(h.grid_h, 22);
    assert_int_equal(nml_det_head_from_shape(nhwc, 4, 80, NML_DET_AUTO, &h, &err), NML_OK);
    assert_int_equal(h.layout, NML_LAYOUT_NHWC);
    assert_int_equal(h.grid_h, 20);
    assert_int_equal(h.grid_w, 22);

    int32_t yolo[3] = {1, 84, 8400}, yolo_t[3] = {1, 8400, 84};
    assert_int_equal(nml_det_head_from_shape(yolo, 3, 80, NML_DET_AUTO, &h, &err), NML_OK);
    assert_int_equal(h.kind, NML_DET_YOLOV8);
    assert_int_equal(h.anchors, 8400);
    assert_int_equal(h.anchors_first, 0);
    assert_int_equal(nml_det_head_from_shape(yolo_t, 3, 80, NML_DET_YOLOV8, &h, &err), NML_OK);
    assert_int_equal(h.anchors_first, 1);
    /* 3 classes: FastestDet has 8 channels, YOLOv8 7 rows */
    int32_t small[3] = {1, 7, 10};
    assert_int_equal(nml_det_head_from_shape(small, 3, 3, NML_DET_AUTO, &h, &err), NML_OK);
    assert_int_equal(h.anchors, 10);
}

static void test_head_errors(void **state) {
    (void)state;
    nml_det_head h;
    nml_error err;
    int32_t yolo[3] = {1, 84, 8400};
    assert_int_equal(nml_det_head_from_shape(yolo, 3, 80, NML_DET_FASTESTDET, &h, &err),
                     NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "1x84x8400 is not a FastestDet head"));
    assert_non_null(strstr(err.msg, "1x85xHxW"));
    int32_t fd[4] = {1, 85, 22, 22};
    assert_int_equal(nml_det_head_from_shape(fd, 4, 80, NML_DET_YOLOV8, &h, &err), NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "not a YOLOv8 head"));
    int32_t cls[2] = {1, 2}; /* person_detect's output */
    assert_int_equal(nml_det_head_from_shape(cls, 2, 80, NML_DET_AUTO, &h, &err), NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "output 1x2 is not a detection head"));
    int32_t batch2[3] = {2, 84, 10};
    assert_int_equal(nml_det_head_from_shape(batch2, 3, 80, NML_DET_AUTO, &h, &err), NML_E_SHAPE);
    nml_det_kind k;
    assert_int_equal(nml_det_kind_parse("yolov8", &k, &err), NML_OK);
    assert_int_equal(k, NML_DET_YOLOV8);
    assert_int_equal(nml_det_kind_parse("yolo", &k, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "fastestdet, yolov8 or auto"));
}

/* The evaluation defaults are the reference protocols (docs/detection-metrics.md for
 * FastestDet's ONNX Runtime figures, docs/detection.md for YOLOv8n's TFLite Micro figures). */
static void test_protocol_defaults(void **state) {
    (void)state;
    nml_det_protocol f = nml_det_protocol_defaults(NML_DET_FASTESTDET, 80);
    assert_float_equal(f.score_threshold, 0.001f, 0.f);
    assert_float_equal(f.nms_iou, 0.45f, 0.f);
    assert_int_equal(f.per_class_nms, 0);
    assert_int_equal(f.max_det, 0);
    assert_int_equal(f.eval.pr, NML_PR_CLASS_F1);
    nml_det_protocol y = nml_det_protocol_defaults(NML_DET_YOLOV8, 80);
    assert_float_equal(y.nms_iou, 0.7f, 0.f);
    assert_int_equal(y.per_class_nms, 1);
    assert_int_equal(y.max_det, 300);
    assert_int_equal(y.multi_label, 0);
    assert_int_equal(y.eval.match, NML_MATCH_ULTRALYTICS);
    assert_int_equal(y.eval.ap, NML_AP_ULTRALYTICS);
    assert_int_equal(y.eval.num_classes, 80);
}

static void test_input_shapes(void **state) {
    (void)state;
    nml_tensor t;
    nml_det_input in;
    nml_error err;
    memset(&t, 0, sizeof t);
    t.rank = 4;
    t.type = NML_INT8;
    int32_t nhwc[4] = {1, 640, 480, 3};
    memcpy(t.dims, nhwc, sizeof nhwc);
    t.n_q = 1;
    t.scale = 0.5f;
    t.zero_point = -3;
    assert_int_equal(nml_det_input_from_tensor(&t, &in, &err), NML_OK);
    assert_int_equal(in.layout, NML_LAYOUT_NHWC);
    assert_int_equal(in.w, 480);
    assert_int_equal(in.h, 640);
    assert_int_equal(in.zero_point, -3);
    t.type = NML_FLOAT32;
    int32_t nchw[4] = {1, 3, 352, 320};
    memcpy(t.dims, nchw, sizeof nchw);
    assert_int_equal(nml_det_input_from_tensor(&t, &in, &err), NML_OK);
    assert_int_equal(in.layout, NML_LAYOUT_NCHW);
    assert_int_equal(in.w, 320);
    t.dims[1] = 1; /* grey 96x96: not an RGB image input */
    assert_int_equal(nml_det_input_from_tensor(&t, &in, &err), NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "not an image tensor"));
    t.dims[1] = 3;
    t.type = NML_INT8;
    t.n_q = 0;
    assert_int_equal(nml_det_input_from_tensor(&t, &in, &err), NML_E_UNSUPPORTED);
}

/* ---- class names ---- */

static void test_builtin_names_match_shared_file(void **state) {
    (void)state;
    const char *path = nml_test_shared("models/fastestdet/coco.names");
    if (!nml_test_exists(path)) skip();
    nml_class_names file, coco = nml_class_names_coco();
    nml_error err;
    assert_int_equal(nml_class_names_load(path, &file, &err), NML_OK);
    assert_int_equal(file.count, 80);
    for (int i = 0; i < 80; i++)
        assert_string_equal(nml_class_name(&file, i), nml_class_name(&coco, i));
    assert_null(nml_class_name(&coco, 80));
    assert_null(nml_class_name(&coco, -1));
    nml_class_names_free(&file);
    nml_class_names_free(&coco);
}

static const char *write_temp(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", NML_BINARY_DIR, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_names_file(void **state) {
    (void)state;
    nml_class_names n;
    nml_error err;
    const char *p = write_temp("names_ok.txt", "cat\r\n\n  dog  \nhot dog\n");
    assert_int_equal(nml_class_names_load(p, &n, &err), NML_OK);
    assert_int_equal(n.count, 3);
    assert_string_equal(nml_class_name(&n, 1), "dog");
    assert_string_equal(nml_class_name(&n, 2), "hot dog");
    nml_class_names_free(&n);
    p = write_temp("names_empty.txt", "\n \n");
    assert_int_equal(nml_class_names_load(p, &n, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "no class names"));
    p = write_temp("names_ctrl.txt", "cat\nd\x01og\n");
    assert_int_equal(nml_class_names_load(p, &n, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "names_ctrl.txt:2: control character"));
    char longname[100];
    memset(longname, 'a', 70);
    strcpy(longname + 70, "\n");
    p = write_temp("names_long.txt", longname);
    assert_int_equal(nml_class_names_load(p, &n, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, ":1: name longer than 64 bytes"));
    assert_int_equal(nml_class_names_load("/nonexistent/names.txt", &n, &err), NML_E_IO);
}

/* ---- hand-built detection models ---- */

static int add_tensor(nml_ir *ir, const char *name, int type, int rank, const int32_t *dims,
                      const void *data, size_t bytes) {
    nml_error err;
    int index;
    if (nml_ir_add_tensor(ir, name, type, rank, dims, data, bytes, &index, &err) != NML_OK)
        fail_msg("%s", err.msg);
    return index;
}

static void add_op(nml_ir *ir, int32_t builtin, const nml_op_params *p, int n_in, const int32_t *in,
                   int32_t out) {
    nml_error err;
    if (nml_ir_add_op(ir, builtin, p, n_in, in, 1, &out, NULL, &err) != NML_OK)
        fail_msg("%s", err.msg);
}

/* float input [1, in_h, in_w, 3] -> MEAN (all axes) -> MUL 0 -> ADD head: the output is `head`
 * (shape out_dims) whatever the input, so decoding can be checked by hand. */
static uint8_t *constant_head_model(int in_w, int in_h, const int32_t *out_dims, int out_rank,
                                    const float *head, size_t count, size_t *size) {
    nml_ir ir;
    nml_ir_init(&ir);
    int32_t in_dims[4] = {1, in_h, in_w, 3}, one[4] = {1, 1, 1, 1}, axes_dims[1] = {3};
    int32_t axes[3] = {1, 2, 3};
    float zero = 0.f;
    int x = add_tensor(&ir, "x", NML_FLOAT32, 4, in_dims, NULL, 0);
    int ax = add_tensor(&ir, "axes", NML_INT32, 1, axes_dims, axes, sizeof axes);
    int m = add_tensor(&ir, "mean", NML_FLOAT32, 4, one, NULL, 0);
    int z = add_tensor(&ir, "zero", NML_FLOAT32, 4, one, &zero, sizeof zero);
    int mz = add_tensor(&ir, "mean0", NML_FLOAT32, 4, one, NULL, 0);
    int32_t hd[4] = {1, 1, 1, 1};
    memcpy(hd + (4 - out_rank), out_dims, (size_t)out_rank * sizeof *hd);
    int h = add_tensor(&ir, "head_const", NML_FLOAT32, 4, hd, head, count * sizeof *head);
    int o4 = add_tensor(&ir, "head4", NML_FLOAT32, 4, hd, NULL, 0);
    int32_t shape_dims[1] = {out_rank};
    int sh = add_tensor(&ir, "shape", NML_INT32, 1, shape_dims, out_dims,
                        (size_t)out_rank * sizeof *out_dims);
    int o = add_tensor(&ir, "head", NML_FLOAT32, out_rank, out_dims, NULL, 0);
    nml_op_params p;
    nml_op_params_default(&p);
    p.keep_dims = 1;
    add_op(&ir, NML_OP_MEAN, &p, 2, (int32_t[]){x, ax}, m);
    nml_op_params_default(&p);
    add_op(&ir, NML_OP_MUL, &p, 2, (int32_t[]){m, z}, mz);
    add_op(&ir, NML_OP_ADD, &p, 2, (int32_t[]){h, mz}, o4);
    p.new_shape_len = out_rank;
    memcpy(p.new_shape, out_dims, (size_t)out_rank * sizeof *out_dims);
    add_op(&ir, NML_OP_RESHAPE, &p, 2, (int32_t[]){o4, sh}, o);
    nml_error err;
    int32_t io_in[1] = {x}, io_out[1] = {o};
    if (nml_ir_set_io(&ir, 1, io_in, 1, io_out, &err) != NML_OK) fail_msg("%s", err.msg);
    uint8_t *bytes;
    if (nml_ir_to_tflite(&ir, &bytes, size, &err) != NML_OK) fail_msg("%s", err.msg);
    nml_ir_free(&ir);
    return bytes;
}

static void test_yolov8_decode_through_runtime(void **state) {
    (void)state;
    /* 3 classes, 2 anchors; [1, 7, 2]: rows cx, cy, w, h (normalised), class scores */
    int32_t dims[3] = {1, 7, 2};
    float head[14] = {0.5f,  0.25f, /* cx */
                      0.5f,  0.5f,  /* cy */
                      0.25f, 0.1f,  /* w */
                      0.5f,  0.1f,  /* h */
                      0.1f,  0.2f,  0.05f, 0.f, 0.9f, 0.1f};
    size_t size;
    uint8_t *bytes = constant_head_model(32, 32, dims, 3, head, 14, &size);
    nml_detector d;
    nml_error err;
    assert_int_equal(nml_detector_open_bytes(&d, bytes, size, NML_DET_AUTO, 3, &err), NML_OK);
    free(bytes);
    assert_int_equal(d.kind, NML_DET_YOLOV8);
    assert_int_equal(d.letterbox, 1);
    assert_int_equal(d.norm.bgr, 0);
    /* a 64x32 image letterboxes into 32x32 with r = 0.5, content 32x16, pad_y =
     * round((32 - 16) / 2 - 0.1) = 8 */
    nml_image img;
    assert_int_equal(nml_image_alloc(&img, 64, 32, 3, &err), NML_OK);
    nml_detections dets = {NULL, 0, 0};
    assert_int_equal(nml_detector_run(&d, &img, &dets, &err), NML_OK);
    /* max cx 0.5 <= 2: normalised, so x * 32 and y * 32. Anchor 0: class 2 (0.9):
     * cx 16, cy 16, w 8, h 16 -> input box [12, 8, 20, 24] -> original
     * [(12 - 0) / 0.5, (8 - 8) / 0.5, 20 / 0.5, (24 - 8) / 0.5] = [24, 0, 40, 32].
     * Anchor 1: its best class (0, score 0.2) is below 0.25. */
    assert_int_equal(dets.n, 1);
    assert_int_equal(dets.v[0].cls, 2);
    assert_float_equal(dets.v[0].score, 0.9f, 1e-6f);
    assert_float_equal(dets.v[0].x1, 24.f, 1e-4f);
    assert_float_equal(dets.v[0].y1, 0.f, 1e-4f);
    assert_float_equal(dets.v[0].x2, 40.f, 1e-4f);
    assert_float_equal(dets.v[0].y2, 32.f, 1e-4f);
    /* multi-label at 0.09: anchor 0 gives classes 0 (0.1) and 2 (0.9), anchor 1 classes 0 (0.2)
     * and class 2 (0.1): boxes of different classes never suppress each other. */
    dets.n = 0;
    d.yolov8.score_threshold = 0.09f;
    d.yolov8.multi_label = 1;
    assert_int_equal(nml_detector_run(&d, &img, &dets, &err), NML_OK);
    assert_int_equal(dets.n, 4);
    assert_float_equal(dets.v[0].score, 0.9f, 1e-6f);
    assert_float_equal(dets.v[1].score, 0.2f, 1e-6f);
    assert_int_equal(dets.v[1].cls, 0);
    /* pixel coordinates: the same box read as pixels stays tiny */
    dets.n = 0;
    d.yolov8.multi_label = 0;
    d.coords = NML_DET_COORDS_PIXELS;
    assert_int_equal(nml_detector_run(&d, &img, &dets, &err), NML_OK);
    assert_float_equal(dets.v[0].x2 - dets.v[0].x1, 0.25f / 0.5f, 1e-4f);
    nml_detections_free(&dets);
    assert_int_equal(nml_detector_check_size(&d, 32, 32, &err), NML_OK);
    assert_int_equal(nml_detector_check_size(&d, 64, 64, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "64x64 requested"));
    assert_non_null(strstr(err.msg, "built for 32x32"));
    nml_image_free(&img);
    nml_detector_close(&d);
}

/* max_nms keeps the highest-scoring candidates before NMS (Ultralytics' 30000 cap): with a cap
 * of 1 only anchor 1 (0.8) survives although anchor 0 (0.6) would not be suppressed by it. */
static void test_yolov8_candidate_cap(void **state) {
    (void)state;
    /* 1 class, 2 anchors in pixels, far apart */
    const float out[10] = {10.f, 100.f, 10.f, 100.f, 4.f, 4.f, 4.f, 4.f, 0.6f, 0.8f};
    nml_yolov8_config cfg = nml_yolov8_defaults();
    cfg.num_classes = 1;
    nml_image_transform tf = nml_stretch_geometry(200, 200, 200, 200);
    nml_detections dets = {NULL, 0, 0};
    nml_error err;
    assert_int_equal(nml_yolov8_decode(out, 10, &cfg, &tf, &dets, &err), NML_OK);
    assert_int_equal(dets.n, 2);
    dets.n = 0;
    cfg.max_nms = 1;
    assert_int_equal(nml_yolov8_decode(out, 10, &cfg, &tf, &dets, &err), NML_OK);
    assert_int_equal(dets.n, 1);
    assert_float_equal(dets.v[0].score, 0.8f, 1e-7f);
    assert_float_equal(dets.v[0].x1, 98.f, 1e-5f);
    nml_detections_free(&dets);
}

/* The evaluation loop on a one-image dataset: the constant head's box [24, 0, 40, 32] (class 2,
 * see test_yolov8_decode_through_runtime) equals the label "2 0.5 0.5 0.25 1" on the 64x32
 * image (x1 = (0.5 - 0.125) * 64 = 24, x2 = 40, y from 0 to 32): IoU 1 at every threshold.
 * Ultralytics' AP of a single perfect detection is 0.995 (its curve drops from precision 1 to 0
 * at recall 1, so the last of the 101 trapezoids is half), P = R = 1. */
static void test_eval_one_image_dataset(void **state) {
    (void)state;
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/det_eval_ds", NML_BINARY_DIR);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/images", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/labels", dir);
    mkdir(path, 0755);
    nml_image img;
    nml_error err;
    assert_int_equal(nml_image_alloc(&img, 64, 32, 3, &err), NML_OK);
    snprintf(path, sizeof path, "%s/images/a.png", dir);
    assert_int_equal(nml_image_write_png(path, &img, &err), NML_OK);
    nml_image_free(&img);
    snprintf(path, sizeof path, "%s/labels/a.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("2 0.5 0.5 0.25 1\n", f);
    fclose(f);

    int32_t dims[3] = {1, 7, 2};
    float head[14] = {0.5f, 0.25f, 0.5f, 0.5f,  0.25f, 0.1f, 0.5f,
                      0.1f, 0.1f,  0.2f, 0.05f, 0.f,   0.9f, 0.1f};
    size_t size;
    uint8_t *bytes = constant_head_model(32, 32, dims, 3, head, 14, &size);
    nml_detector d;
    assert_int_equal(nml_detector_open_bytes(&d, bytes, size, NML_DET_AUTO, 3, &err), NML_OK);
    free(bytes);
    nml_det_protocol p = nml_det_protocol_defaults(d.kind, 3);
    assert_int_equal(p.eval.pr, NML_PR_CLASS_F1);
    p.score_threshold = 0.25f;
    nml_detector_apply_protocol(&d, &p);
    nml_det_dataset ds;
    assert_int_equal(nml_det_dataset_open(dir, 3, &ds, &err), NML_OK);
    nml_det_eval *ev;
    assert_int_equal(nml_det_eval_create(&p.eval, &ev, &err), NML_OK);
    assert_int_equal(nml_detector_eval_range(&d, &ds, 0, 10, ev, NULL, &err), NML_OK);
    nml_det_metrics m;
    assert_int_equal(nml_det_eval_compute(ev, &m, &err), NML_OK);
    assert_int_equal(m.images, 1);
    assert_int_equal(m.detections, 1);
    assert_float_equal(m.map50, 0.995, 1e-9);
    assert_float_equal(m.map50_95, 0.995, 1e-9);
    assert_float_equal(m.precision, 1.0, 1e-9);
    assert_float_equal(m.recall, 1.0, 1e-9);
    nml_det_metrics_free(&m);
    nml_det_eval_destroy(ev);
    nml_det_dataset_free(&ds);
    nml_detector_close(&d);
}

static void test_fastestdet_nhwc_through_runtime(void **state) {
    (void)state;
    /* 1 class, 1x2 grid, NHWC [1, 1, 2, 6]: obj, x, y, w, h, class. Cell (0, 1): obj 0.9,
     * class 0.8 -> score = 0.9^0.6 * 0.8^0.4 = 0.93874 * 0.91461 = 0.85858 > 0.65; raw x = y = 0
     * -> cx = (1 + tanh 0) / 2 = 0.5, cy = (0 + 0) / 1 = 0; raw w = h = 0 -> sigmoid 0.5.
     * On a 100x60 image: x1 = (0.5 - 0.25) * 100 = 25, x2 = 75, y1 = -0.25 * 60 = -15,
     * y2 = 15 (no clipping). Cell (0, 0) has obj 0.1: score 0.25 is dropped. */
    int32_t dims[4] = {1, 1, 2, 6};
    float head[12] = {0.1f, 0.f, 0.f, 0.f, 0.f, 0.9f, 0.9f, 0.f, 0.f, 0.f, 0.f, 0.8f};
    size_t size;
    uint8_t *bytes = constant_head_model(8, 4, dims, 4, head, 12, &size);
    nml_detector d;
    nml_error err;
    assert_int_equal(nml_detector_open_bytes(&d, bytes, size, NML_DET_AUTO, 1, &err), NML_OK);
    free(bytes);
    assert_int_equal(d.kind, NML_DET_FASTESTDET);
    assert_int_equal(d.letterbox, 0);
    assert_int_equal(d.norm.bgr, 1);
    assert_int_equal(d.fastestdet.layout, NML_LAYOUT_NHWC);
    /* the decoder takes the input size from the model; this head counts as trained at it, so
     * box sizes are not rescaled (the 352x352 default would multiply w by 352/8) */
    assert_int_equal(d.fastestdet.input_w, 8);
    assert_int_equal(d.fastestdet.input_h, 4);
    d.fastestdet.train_w = 8;
    d.fastestdet.train_h = 4;
    nml_image img;
    assert_int_equal(nml_image_alloc(&img, 100, 60, 3, &err), NML_OK);
    nml_detections dets = {NULL, 0, 0};
    assert_int_equal(nml_detector_run(&d, &img, &dets, &err), NML_OK);
    assert_int_equal(dets.n, 1);
    assert_float_equal(dets.v[0].score, 0.85858f, 1e-4f);
    assert_float_equal(dets.v[0].x1, 25.f, 1e-3f);
    assert_float_equal(dets.v[0].x2, 75.f, 1e-3f);
    assert_float_equal(dets.v[0].y1, -15.f, 1e-3f);
    assert_float_equal(dets.v[0].y2, 15.f, 1e-3f);
    nml_detections_free(&dets);
    /* a 2-channel image is refused before any work */
    nml_image grey;
    assert_int_equal(nml_image_alloc(&grey, 4, 4, 2, &err), NML_OK);
    assert_int_equal(nml_detector_set_input(&d, &grey, NULL, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "3-channel"));
    nml_image_free(&grey);
    nml_image_free(&img);
    nml_detector_close(&d);
}

/* The preprocessing writes the input tensor: FastestDet stretches and swaps to BGR, YOLOv8 keeps
 * RGB; quantized inputs round (TFLite) or truncate (Ultralytics' astype). */
static void test_input_tensor_values(void **state) {
    (void)state;
    int32_t dims[4] = {1, 1, 1, 6};
    float head[6] = {0};
    size_t size;
    uint8_t *bytes = constant_head_model(2, 1, dims, 4, head, 6, &size);
    nml_detector d;
    nml_error err;
    assert_int_equal(nml_detector_open_bytes(&d, bytes, size, NML_DET_FASTESTDET, 1, &err), NML_OK);
    free(bytes);
    nml_image img;
    assert_int_equal(nml_image_alloc(&img, 2, 1, 3, &err), NML_OK);
    const uint8_t px[6] = {10, 20, 30, 255, 0, 128};
    memcpy(img.data, px, 6);
    assert_int_equal(nml_detector_set_input(&d, &img, NULL, &err), NML_OK);
    const float *in = nml_input(&d.it, 0)->data;
    /* same size: the stretch copies; BGR / 255 */
    assert_float_equal(in[0], 30.f / 255.f, 1e-7f);
    assert_float_equal(in[1], 20.f / 255.f, 1e-7f);
    assert_float_equal(in[2], 10.f / 255.f, 1e-7f);
    assert_float_equal(in[3], 128.f / 255.f, 1e-7f);
    assert_float_equal(in[5], 1.f, 1e-7f);
    nml_detector_close(&d);
    nml_image_free(&img);
}

/* The shared YOLOv8n export (int8 input, scale 0.018658448, zero point -14): pixel 128 is
 * 128 / 255 = 0.501961; / 0.018658448 = 26.9026; rounded 27 - 14 = 13, truncated
 * (26.9026 - 14 = 12.9026) 12. Pixel 0 -> -14 both ways; pixel 255 -> 53.595 -> 54 - 14 = 40
 * rounded, 39 truncated. Only loads the model (no inference). */
static void test_yolov8n_input_quantization(void **state) {
    (void)state;
    const char *path = nml_test_shared("models/yolov8n/yolov8n_full_integer_quant.tflite");
    if (!nml_test_exists(path)) skip();
    nml_detector d;
    nml_error err;
    assert_int_equal(nml_detector_open(&d, path, NML_DET_AUTO, 80, &err), NML_OK);
    assert_int_equal(d.kind, NML_DET_YOLOV8);
    assert_int_equal(d.input.w, 640);
    assert_int_equal(d.head.anchors, 8400);
    nml_image img;
    assert_int_equal(nml_image_alloc(&img, 640, 640, 3, &err), NML_OK);
    img.data[0] = 128;
    img.data[1] = 0;
    img.data[2] = 255;
    assert_int_equal(nml_detector_set_input(&d, &img, NULL, &err), NML_OK);
    const int8_t *q = nml_input(&d.it, 0)->data;
    assert_int_equal(q[0], 13);
    assert_int_equal(q[1], -14);
    assert_int_equal(q[2], 40);
    d.rounding = NML_DET_TRUNCATE;
    assert_int_equal(nml_detector_set_input(&d, &img, NULL, &err), NML_OK);
    q = nml_input(&d.it, 0)->data;
    assert_int_equal(q[0], 12);
    assert_int_equal(q[1], -14);
    assert_int_equal(q[2], 39);
    assert_int_equal(nml_detector_check_size(&d, 320, 320, &err), NML_E_ARG);
    nml_image_free(&img);
    nml_detector_close(&d);
}

static void test_open_errors(void **state) {
    (void)state;
    nml_detector d;
    nml_error err;
    const char *person = nml_test_shared("models/tflm/person_detect.tflite");
    if (!nml_test_exists(person)) skip();
    /* person_detect: int8 1x96x96x1 input -> not an RGB image model */
    assert_int_equal(nml_detector_open(&d, person, NML_DET_AUTO, 80, &err), NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "person_detect.tflite: input 1x96x96x1 is not an image"));
    assert_int_equal(nml_detector_open(&d, "/nonexistent.tflite", NML_DET_AUTO, 80, &err),
                     NML_E_IO);
    uint8_t junk[64] = {0};
    assert_int_equal(nml_detector_open_bytes(&d, junk, sizeof junk, NML_DET_AUTO, 80, &err),
                     NML_E_FORMAT);
}

static void test_draw_detections(void **state) {
    (void)state;
    nml_image img;
    nml_error err;
    assert_int_equal(nml_image_alloc(&img, 100, 80, 3, &err), NML_OK);
    nml_detection d[2] = {{10.f, 20.f, 50.f, 70.f, 0.9f, 2}, {-1e9f, NAN, 1e9f, 5.f, 0.5f, 999}};
    nml_class_names names = nml_class_names_coco();
    nml_draw_detections(&img, d, 2, &names); /* far-away and NaN corners must not crash */
    int t, s;
    nml_det_draw_style(100, 80, &t, &s);
    assert_int_equal(t, 1);
    assert_int_equal(s, 1);
    /* box 0's outline: left column x = 10 at y = 45 has class 2's colour */
    nml_rgb c = nml_class_color(2);
    const uint8_t *p = img.data + (45 * 100 + 10) * 3;
    assert_int_equal(p[0], c.r);
    assert_int_equal(p[1], c.g);
    assert_int_equal(p[2], c.b);
    /* inside the box, away from the label, stays black */
    p = img.data + (60 * 100 + 30) * 3;
    assert_int_equal(p[0] | p[1] | p[2], 0);
    nml_det_draw_style(640, 480, &t, &s);
    assert_int_equal(t, 2);
    assert_int_equal(s, 2);
    nml_image_free(&img);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_shapes),
        cmocka_unit_test(test_head_errors),
        cmocka_unit_test(test_protocol_defaults),
        cmocka_unit_test(test_input_shapes),
        cmocka_unit_test(test_builtin_names_match_shared_file),
        cmocka_unit_test(test_names_file),
        cmocka_unit_test(test_yolov8_decode_through_runtime),
        cmocka_unit_test(test_yolov8_candidate_cap),
        cmocka_unit_test(test_eval_one_image_dataset),
        cmocka_unit_test(test_fastestdet_nhwc_through_runtime),
        cmocka_unit_test(test_input_tensor_values),
        cmocka_unit_test(test_yolov8n_input_quantization),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_draw_detections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
