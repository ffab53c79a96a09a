/* nanoml eval-detect: precision, recall, mAP50 and mAP50-95 of a detection model on a YOLO-layout
 * dataset, run in the nanoml runtime. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_detect.h"
#include "cli_tensor.h"

#define CMD "eval-detect"

static void usage(FILE *out) {
    fprintf(out,
            "usage: nanoml eval-detect MODEL.tflite --dataset DIR [--size WxH] [--train-size WxH]\n"
            "                          [--decoder fastestdet|yolov8|auto] [--conf T] [--iou T]\n"
            "                          [--max-det N] [--limit N] [--json] [more options]\n\n"
            "Runs the model on every image of a dataset (DIR/images + DIR/labels, YOLO text\n"
            "labels) and prints precision, recall, mAP50 and mAP50-95 (COCO IoU thresholds\n"
            "0.50:0.05:0.95, 101-point AP; definitions in docs/detection-metrics.md), with a\n"
            "progress bar on stderr. Preprocessing follows the decoder (see nanoml detect).\n\n"
            "Defaults follow each model's reference protocol and are printed:\n"
            "  yolov8      conf > 0.001, class-wise NMS IoU 0.7, max 300 boxes per image\n"
            "              (Ultralytics val), P/R at each class's best F1\n"
            "  fastestdet  score > 0.001, class-agnostic NMS IoU 0.45, no cap, P/R at each\n"
            "              class's best F1 (the FastestDet ONNX Runtime reference)\n\n"
            "options:\n"
            "  --dataset DIR        folder holding images/ and labels/, or an images folder\n"
            "                       with a sibling labels folder (required)\n"
            "  --size WxH           check that the model takes this input size\n"
            "  --decoder KIND       fastestdet, yolov8 or auto (default auto)\n"
            "  --train-size WxH     FastestDet: input size the model was trained at (default\n"
            "                       352x352); box sizes scale by train / input size per\n"
            "                       axis when the model runs at another size\n"
            "  --names FILE         class names, one per line (default: the 80 COCO names)\n"
            "  --conf T             score threshold\n"
            "  --iou T              NMS IoU threshold\n"
            "  --max-det N          boxes kept per image (0 = no limit)\n"
            "  --nms per-class|agnostic   NMS between classes\n"
            "  --pr mean-f1|class-f1      where precision and recall are read\n"
            "  --match ultralytics|coco   detection-to-box matching rule\n"
            "  --ap ultralytics|coco      101-point AP rule\n"
            "  --multi-label        YOLOv8: every class above --conf is a candidate (Ultralytics'\n"
            "                       validation), not only each anchor's best class\n"
            "  --input-rounding round|truncate  how a quantized input is rounded (TFLite\n"
            "                       rounds; Ultralytics' AutoBackend truncates)\n"
            "  --skip N             start at image N (sorted by file name)\n"
            "  --limit N            evaluate at most N images\n"
            "  --json               machine-readable output\n"
            "  -h, --help           show this help\n");
}

typedef struct eval_args {
    cli_det_common c;
    const char *dataset;
    /* protocol overrides; have_* say which were given */
    float conf, iou;
    size_t max_det, limit, skip;
    int have_conf, have_iou, have_max_det;
    int nms, pr, match, ap, rounding; /* -1: default */
    int multi_label;
} eval_args;

/* "--opt a|b": stores 0 for the first word, 1 for the second. */
static int take_choice(int argc, char **argv, int *i, const char *opt, const char *a, const char *b,
                       int *out) {
    const char *v;
    int r = cli_take_value(CMD, argc, argv, i, opt, &v);
    if (r <= 0) return r < 0 ? 2 : 0;
    if (strcmp(v, a) == 0)
        *out = 0;
    else if (strcmp(v, b) == 0)
        *out = 1;
    else
        return cli_usage_error(CMD, "%s takes %s or %s, got '%s'", opt, a, b, v);
    return 1;
}

static int take_number(int argc, char **argv, int *i, eval_args *a) {
    const char *v;
    int r;
    if ((r = cli_take_value(CMD, argc, argv, i, "--conf", &v)) != 0) {
        a->have_conf = 1;
        return r < 0 || !cli_parse_float(CMD, "--conf", v, &a->conf) ? 2 : 1;
    }
    if ((r = cli_take_value(CMD, argc, argv, i, "--iou", &v)) != 0) {
        a->have_iou = 1;
        return r < 0 || !cli_parse_float(CMD, "--iou", v, &a->iou) ? 2 : 1;
    }
    if ((r = cli_take_value(CMD, argc, argv, i, "--max-det", &v)) != 0) {
        a->have_max_det = 1;
        return r < 0 || !cli_parse_count(CMD, "--max-det", v, &a->max_det) ? 2 : 1;
    }
    if ((r = cli_take_value(CMD, argc, argv, i, "--limit", &v)) != 0)
        return r < 0 || !cli_parse_count(CMD, "--limit", v, &a->limit) ? 2 : 1;
    if ((r = cli_take_value(CMD, argc, argv, i, "--skip", &v)) != 0)
        return r < 0 || !cli_parse_count(CMD, "--skip", v, &a->skip) ? 2 : 1;
    if ((r = cli_take_value(CMD, argc, argv, i, "--dataset", &v)) != 0) {
        a->dataset = v;
        return r < 0 ? 2 : 1;
    }
    return 0;
}

static int take_option(int argc, char **argv, int *i, eval_args *a) {
    if (strcmp(argv[*i], "--multi-label") == 0) {
        a->multi_label = 1;
        return 1;
    }
    int r = cli_det_common_option(CMD, argc, argv, i, &a->c);
    if (r == 0) r = take_number(argc, argv, i, a);
    if (r == 0) r = take_choice(argc, argv, i, "--nms", "per-class", "agnostic", &a->nms);
    if (r == 0) r = take_choice(argc, argv, i, "--pr", "mean-f1", "class-f1", &a->pr);
    if (r == 0) r = take_choice(argc, argv, i, "--match", "ultralytics", "coco", &a->match);
    if (r == 0) r = take_choice(argc, argv, i, "--ap", "ultralytics", "coco", &a->ap);
    if (r == 0)
        r = take_choice(argc, argv, i, "--input-rounding", "round", "truncate", &a->rounding);
    return r;
}

static int parse(int argc, char **argv, eval_args *a) {
    memset(a, 0, sizeof *a);
    a->nms = a->pr = a->match = a->ap = a->rounding = -1;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        int r = take_option(argc, argv, &i, a);
        if (r == 2) return 2;
        if (r == 1) continue;
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        if (a->c.model) return cli_usage_error(CMD, "more than one model given ('%s')", argv[i]);
        a->c.model = argv[i];
    }
    if (!a->c.model) return cli_usage_error(CMD, "no model given");
    if (!a->dataset) return cli_usage_error(CMD, "no --dataset given");
    return -1;
}

static nml_det_protocol make_protocol(const eval_args *a, const nml_detector *d) {
    nml_det_protocol p = nml_det_protocol_defaults(d->kind, d->num_classes);
    if (a->have_conf) p.score_threshold = a->conf;
    if (a->have_iou) p.nms_iou = a->iou;
    if (a->have_max_det) p.max_det = a->max_det;
    if (a->multi_label) p.multi_label = 1;
    if (a->nms >= 0) p.per_class_nms = a->nms == 0;
    if (a->pr >= 0) p.eval.pr = a->pr ? NML_PR_CLASS_F1 : NML_PR_MEAN_F1;
    if (a->match >= 0) p.eval.match = a->match ? NML_MATCH_COCO : NML_MATCH_ULTRALYTICS;
    if (a->ap >= 0) p.eval.ap = a->ap ? NML_AP_COCO : NML_AP_ULTRALYTICS;
    return p;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void print_text(const eval_args *a, const char *protocol, const nml_det_metrics *m,
                       double secs) {
    printf("model      %s\n", a->c.model);
    printf("dataset    %s (%zu images, %zu boxes, %d classes with boxes)\n", a->dataset, m->images,
           m->ground_truth, m->classes_evaluated);
    printf("protocol   %s\n", protocol);
    printf("detections %zu\n", m->detections);
    printf("time       %.2f s per image\n", m->images ? secs / (double)m->images : 0.0);
    printf("precision  %.4f\nrecall     %.4f\nmAP50      %.4f\nmAP50-95   %.4f\n", m->precision,
           m->recall, m->map50, m->map50_95);
    if (!isnan(m->best_conf)) printf("F1         %.4f (at confidence %.3f)\n", m->f1, m->best_conf);
}

static void print_json(const eval_args *a, const nml_detector *d, const char *protocol,
                       const nml_det_metrics *m, double secs) {
    printf("{\"model\": ");
    cli_json_string(stdout, a->c.model);
    printf(", \"decoder\": \"%s\", \"dataset\": ", nml_det_kind_name(d->kind));
    cli_json_string(stdout, a->dataset);
    printf(", \"protocol\": ");
    cli_json_string(stdout, protocol);
    printf(", \"images\": %zu, \"ground_truth\": %zu, \"classes\": %d, \"detections\": %zu, "
           "\"seconds_per_image\": %.4f, \"precision\": %.6f, \"recall\": %.6f, \"mAP50\": %.6f, "
           "\"mAP50_95\": %.6f}\n",
           m->images, m->ground_truth, m->classes_evaluated, m->detections,
           m->images ? secs / (double)m->images : 0.0, m->precision, m->recall, m->map50,
           m->map50_95);
}

static nml_status evaluate(const eval_args *a, nml_detector *d, nml_error *err) {
    nml_det_protocol p = make_protocol(a, d);
    nml_detector_apply_protocol(d, &p);
    if (a->rounding >= 0) d->rounding = a->rounding ? NML_DET_TRUNCATE : NML_DET_ROUND;
    nml_det_dataset ds;
    NML_TRY(nml_det_dataset_open(a->dataset, d->num_classes, &ds, err));
    nml_det_eval *ev = NULL;
    nml_status st = nml_det_eval_create(&p.eval, &ev, err);
    size_t count = a->limit ? a->limit : ds.count;
    double t0 = now_s();
    if (st == NML_OK) st = nml_detector_eval_range(d, &ds, a->skip, count, ev, "eval", err);
    double secs = now_s() - t0;
    nml_det_metrics m;
    if (st == NML_OK) st = nml_det_eval_compute(ev, &m, err);
    if (st == NML_OK) {
        char protocol[512];
        nml_det_protocol_describe(d, &p, protocol, sizeof protocol);
        if (a->c.json)
            print_json(a, d, protocol, &m, secs);
        else
            print_text(a, protocol, &m, secs);
        nml_det_metrics_free(&m);
    }
    nml_det_eval_destroy(ev);
    nml_det_dataset_free(&ds);
    return st;
}

int cmd_eval_detect(int argc, char **argv);
int cmd_eval_detect(int argc, char **argv) {
    eval_args a;
    int rc = parse(argc, argv, &a);
    if (rc >= 0) return rc;
    nml_error err;
    nml_error_clear(&err);
    nml_class_names names;
    nml_detector d;
    if (cli_det_open(&a.c, &names, &d, &err) != NML_OK) return cli_error(CMD, &err);
    rc = evaluate(&a, &d, &err) == NML_OK ? 0 : cli_error(CMD, &err);
    cli_det_close(&names, &d);
    return rc;
}
