/* nanoml detect: run a FastestDet or YOLOv8 .tflite model on one image. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_detect.h"
#include "cli_tensor.h"
#include "nanoml/det_draw.h"
#include "nanoml/npy.h"

#define CMD "detect"

static void usage(FILE *out) {
    fprintf(out,
            "usage: nanoml detect MODEL.tflite --image IMG [--size WxH] [--train-size WxH]\n"
            "                     [--decoder fastestdet|yolov8|auto] [--score T] [--iou T]\n"
            "                     [--max-det N] [--names FILE] [--out OUT.png] [--json]\n\n"
            "Detects objects in one image with the nanoml runtime and prints each box in\n"
            "original-image pixels with its class and score.\n\n"
            "The decoder follows the output shape (auto): 1x85xHxW or 1xHxWx85 is FastestDet,\n"
            "1x84xN (or 1xNx84) YOLOv8, for 80 classes. Preprocessing follows the decoder:\n"
            "  fastestdet  bilinear stretch to the input size, BGR / 255; score =\n"
            "              obj^0.6 * cls^0.4 > 0.65, per-class NMS at IoU 0.45\n"
            "  yolov8      letterbox (bilinear, aspect kept, padding 114), RGB / 255; score >\n"
            "              0.25, class-wise NMS at IoU 0.7, at most 300 boxes\n"
            "An int8/uint8 input is quantized with the model's scale and zero point; an\n"
            "int8/uint8 output is dequantized before decoding.\n\n"
            "options:\n"
            "  --image IMG         JPEG, PNG or BMP picture (required)\n"
            "  --size WxH          check that the model takes this input size (the model's\n"
            "                      input shape decides; a different size is an error)\n"
            "  --decoder KIND      fastestdet, yolov8 or auto (default auto)\n"
            "  --train-size WxH    FastestDet: input size the model was trained at (default\n"
            "                      352x352); box sizes scale by train / input size per\n"
            "                      axis when the model runs at another size\n"
            "  --score T           score threshold (default per decoder: 0.65 / 0.25)\n"
            "  --iou T             NMS IoU threshold (default 0.45 / 0.7)\n"
            "  --max-det N         keep at most N boxes (0 = no limit)\n"
            "  --names FILE        class names, one per line (default: the 80 COCO names)\n"
            "  --out OUT.png       draw the boxes and labels onto the image (PNG; JPEG, quality\n"
            "                      85, when the name ends in .jpg or .jpeg)\n"
            "  --save-input F.npy  write the model input tensor (as fed to the runtime)\n"
            "  --save-output F.npy write the raw model output tensor\n"
            "  --json              machine-readable output\n"
            "  -h, --help          show this help\n");
}

typedef struct detect_args {
    cli_det_common c;
    const char *image, *out, *save_input, *save_output;
    float score, iou;
    int have_score, have_iou, have_max_det;
    size_t max_det;
} detect_args;

static int parse_value_option(int argc, char **argv, int *i, detect_args *a) {
    const char *v;
    int r;
    const char *names[] = {"--image", "--out", "--save-input", "--save-output"};
    const char **dst[] = {&a->image, &a->out, &a->save_input, &a->save_output};
    for (int k = 0; k < 4; k++) {
        if ((r = cli_take_value(CMD, argc, argv, i, names[k], &v)) != 0) {
            if (r < 0) return 2;
            *dst[k] = v;
            return 1;
        }
    }
    if ((r = cli_take_value(CMD, argc, argv, i, "--score", &v)) != 0) {
        a->have_score = 1;
        return r < 0 || !cli_parse_float(CMD, "--score", v, &a->score) ? 2 : 1;
    }
    if ((r = cli_take_value(CMD, argc, argv, i, "--iou", &v)) != 0) {
        a->have_iou = 1;
        return r < 0 || !cli_parse_float(CMD, "--iou", v, &a->iou) ? 2 : 1;
    }
    if ((r = cli_take_value(CMD, argc, argv, i, "--max-det", &v)) != 0) {
        a->have_max_det = 1;
        return r < 0 || !cli_parse_count(CMD, "--max-det", v, &a->max_det) ? 2 : 1;
    }
    return 0;
}

static int parse(int argc, char **argv, detect_args *a) {
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        int r = cli_det_common_option(CMD, argc, argv, &i, &a->c);
        if (r == 0) r = parse_value_option(argc, argv, &i, a);
        if (r == 2) return 2;
        if (r == 1) continue;
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        if (a->c.model) return cli_usage_error(CMD, "more than one model given ('%s')", argv[i]);
        a->c.model = argv[i];
    }
    if (!a->c.model) return cli_usage_error(CMD, "no model given");
    if (!a->image) return cli_usage_error(CMD, "no --image given");
    return -1;
}

static void apply_thresholds(const detect_args *a, nml_detector *d) {
    if (a->have_score) d->fastestdet.score_threshold = d->yolov8.score_threshold = a->score;
    if (a->have_iou) d->fastestdet.nms_iou = d->yolov8.nms_iou = a->iou;
    if (a->have_max_det) d->fastestdet.max_det = d->yolov8.max_det = a->max_det;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static nml_status save_tensor(const char *path, const nml_tensor *t, nml_error *err) {
    return nml_npy_write(path, t->type, t->rank, t->dims, t->data, err);
}

static void print_text(const detect_args *a, const nml_detector *d, const nml_image *img,
                       const nml_detections *dets, const nml_class_names *names, double secs) {
    const nml_tensor *in = nml_input((nml_interpreter *)&d->it, 0);
    const nml_tensor *out = nml_output((nml_interpreter *)&d->it, 0);
    char din[112], dout[112];
    cli_tensor_desc(din, sizeof din, in);
    cli_tensor_desc(dout, sizeof dout, out);
    float score =
        d->kind == NML_DET_YOLOV8 ? d->yolov8.score_threshold : d->fastestdet.score_threshold;
    float iou = d->kind == NML_DET_YOLOV8 ? d->yolov8.nms_iou : d->fastestdet.nms_iou;
    int per_class =
        d->kind == NML_DET_YOLOV8 ? d->yolov8.per_class_nms : d->fastestdet.per_class_nms;
    printf("model     %s (%s; input %s, output %s)\n", a->c.model, nml_det_kind_name(d->kind), din,
           dout);
    printf("image     %s (%dx%d, %s to %dx%d)\n", a->image, img->w, img->h,
           d->letterbox ? "letterboxed" : "stretched", d->input.w, d->input.h);
    printf("inference %.3f s\n", secs);
    printf("%zu detection%s (score > %g, %s NMS IoU %g)\n", dets->n, dets->n == 1 ? "" : "s",
           (double)score, per_class ? "class-wise" : "class-agnostic", (double)iou);
    for (size_t i = 0; i < dets->n; i++) {
        const nml_detection *x = &dets->v[i];
        const char *name = nml_class_name(names, x->cls);
        printf("  %-16s %.3f  [%.1f, %.1f, %.1f, %.1f]\n", name ? name : "?", (double)x->score,
               (double)x->x1, (double)x->y1, (double)x->x2, (double)x->y2);
    }
}

static void print_json(const detect_args *a, const nml_detector *d, const nml_image *img,
                       const nml_detections *dets, const nml_class_names *names, double secs) {
    printf("{\"model\": ");
    cli_json_string(stdout, a->c.model);
    printf(", \"decoder\": \"%s\", \"image\": ", nml_det_kind_name(d->kind));
    cli_json_string(stdout, a->image);
    printf(", \"width\": %d, \"height\": %d, \"input_width\": %d, \"input_height\": %d, "
           "\"inference_s\": %.4f, \"detections\": [",
           img->w, img->h, d->input.w, d->input.h, secs);
    for (size_t i = 0; i < dets->n; i++) {
        const nml_detection *x = &dets->v[i];
        const char *name = nml_class_name(names, x->cls);
        printf("%s\n  {\"class\": %d, \"name\": ", i ? "," : "", x->cls);
        cli_json_string(stdout, name ? name : "");
        printf(", \"score\": %.6f, \"box\": [%.2f, %.2f, %.2f, %.2f]}", (double)x->score,
               (double)x->x1, (double)x->y1, (double)x->x2, (double)x->y2);
    }
    printf("%s]}\n", dets->n ? "\n" : "");
}

static nml_status detect(const detect_args *a, nml_detector *d, const nml_class_names *names,
                         nml_image *img, nml_detections *dets, nml_error *err) {
    NML_TRY(nml_image_load(a->image, 3, img, err));
    nml_image_transform tf;
    NML_TRY(nml_detector_set_input(d, img, &tf, err));
    if (a->save_input) NML_TRY(save_tensor(a->save_input, nml_input(&d->it, 0), err));
    double t0 = now_s();
    NML_TRY(nml_detector_invoke(d, err));
    double secs = now_s() - t0;
    if (a->save_output) NML_TRY(save_tensor(a->save_output, nml_output(&d->it, 0), err));
    NML_TRY(nml_detector_decode(d, &tf, dets, err));
    if (a->c.json)
        print_json(a, d, img, dets, names, secs);
    else
        print_text(a, d, img, dets, names, secs);
    if (!a->out) return NML_OK;
    nml_draw_detections(img, dets->v, dets->n, names);
    if (cli_ends_with(a->out, ".jpg") || cli_ends_with(a->out, ".jpeg"))
        return nml_image_write_jpeg(a->out, img, 85, err);
    return nml_image_write_png(a->out, img, err);
}

int cmd_detect(int argc, char **argv);
int cmd_detect(int argc, char **argv) {
    detect_args a;
    int rc = parse(argc, argv, &a);
    if (rc >= 0) return rc;
    nml_error err;
    nml_error_clear(&err);
    nml_class_names names;
    nml_detector d;
    if (cli_det_open(&a.c, &names, &d, &err) != NML_OK) return cli_error(CMD, &err);
    apply_thresholds(&a, &d);
    nml_image img = {0, 0, 0, NULL};
    nml_detections dets = {NULL, 0, 0};
    rc = detect(&a, &d, &names, &img, &dets, &err) == NML_OK ? 0 : cli_error(CMD, &err);
    nml_detections_free(&dets);
    nml_image_free(&img);
    cli_det_close(&names, &d);
    return rc;
}
