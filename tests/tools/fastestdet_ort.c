/* Test tool for the FastestDet evaluation check against ONNX Runtime (tests/scripts/
 * test_eval_fastestdet_ort.sh):
 *   fastestdet_ort prep DATASET DIR   images -> DIR/in_NNNN.npy, float32 [1,3,352,352] NCHW,
 *                                     BGR / 255 of a bilinear stretch (nanoml's resize)
 *   fastestdet_ort eval DATASET DIR   DIR/out_NNNN.npy ([1,85,22,22], written by ONNX Runtime)
 *                                     -> decode, NMS, metrics on the dataset's labels
 * eval options: --threshold T (0.001) --nms-iou T (0.45) --match ultralytics|coco
 *               --ap ultralytics|coco --pr mean-f1|class-f1 --clip --class-agnostic
 *               --max-det N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/det_dataset.h"
#include "nanoml/det_eval.h"
#include "nanoml/detect.h"
#include "nanoml/image.h"
#include "nanoml/progress.h"
#include "nanoml/npy.h"

#define INPUT_SIZE 352
#define NUM_CLASSES 80

typedef struct options {
    float threshold, nms_iou;
    nml_match_rule match;
    nml_ap_rule ap;
    nml_pr_rule pr;
    int clip, agnostic;
    size_t max_det;
} options;

static int fail(const nml_error *err) {
    fprintf(stderr, "fastestdet_ort: %s\n", err->msg);
    return 1;
}

static nml_status prep_one(const char *image_path, const char *out_path, nml_error *err) {
    nml_image img, in;
    NML_TRY(nml_image_load(image_path, 3, &img, err));
    nml_status st = nml_image_stretch(&img, INPUT_SIZE, INPUT_SIZE, &in, NULL, err);
    nml_image_free(&img);
    if (st != NML_OK) return st;
    size_t count = (size_t)3 * INPUT_SIZE * INPUT_SIZE;
    float *t = malloc(count * sizeof *t);
    nml_pixel_norm norm = nml_pixel_norm_unit(1);
    if (!t) st = nml_fail(err, NML_E_NOMEM, "out of memory");
    if (st == NML_OK) st = nml_image_to_float(&in, NML_LAYOUT_NCHW, &norm, t, count, err);
    const int32_t shape[4] = {1, 3, INPUT_SIZE, INPUT_SIZE};
    if (st == NML_OK) st = nml_npy_write(out_path, NML_FLOAT32, 4, shape, t, err);
    free(t);
    nml_image_free(&in);
    return st;
}

static int run_prep(const nml_det_dataset *ds, const char *dir) {
    nml_error err;
    nml_progress bar;
    nml_progress_begin(&bar, "prep", ds->count, "img");
    for (size_t i = 0; i < ds->count; i++) {
        char out[4096];
        snprintf(out, sizeof out, "%s/in_%04zu.npy", dir, i);
        if (prep_one(ds->samples[i].image_path, out, &err) != NML_OK) return fail(&err);
        nml_progress_add(&bar, 1);
    }
    nml_progress_end(&bar);
    return 0;
}

static nml_status eval_one(nml_det_eval *ev, const nml_det_sample *s, const char *out_path,
                           const options *o, nml_error *err) {
    nml_image img;
    NML_TRY(nml_image_load(s->image_path, 3, &img, err)); /* for its size */
    int w = img.w, h = img.h;
    nml_image_free(&img);
    nml_npy a;
    NML_TRY(nml_npy_read(out_path, &a, err));
    if (a.dtype != NML_FLOAT32) {
        nml_npy_free(&a);
        return nml_fail(err, NML_E_FORMAT, "%s: expected float32 outputs", out_path);
    }
    nml_fastestdet_config cfg = nml_fastestdet_defaults();
    cfg.score_threshold = o->threshold;
    cfg.nms_iou = o->nms_iou;
    cfg.clip = o->clip;
    cfg.per_class_nms = !o->agnostic;
    cfg.max_det = o->max_det;
    nml_detections dets = {NULL, 0, 0};
    nml_gt_box *gt = malloc((s->num_labels ? s->num_labels : 1) * sizeof *gt);
    nml_status st = gt ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    if (st == NML_OK) st = nml_fastestdet_decode((const float *)a.data, a.bytes / sizeof(float), &cfg, w, h, &dets, err);
    for (size_t i = 0; st == NML_OK && i < s->num_labels; i++)
        gt[i] = nml_yolo_label_to_box(&s->labels[i], w, h);
    if (st == NML_OK) st = nml_det_eval_add(ev, gt, s->num_labels, dets.v, dets.n, err);
    free(gt);
    nml_npy_free(&a);
    nml_detections_free(&dets);
    return st;
}

static void print_metrics(const nml_det_metrics *m) {
    printf("images %zu  ground truth %zu  detections %zu  classes %d\n", m->images, m->ground_truth,
           m->detections, m->classes_evaluated);
    printf("precision %.4f\nrecall %.4f\nmAP50 %.4f\nmAP50-95 %.4f\n", m->precision, m->recall,
           m->map50, m->map50_95);
    printf("F1 %.4f  (confidence %.4f)\n", m->f1, m->best_conf);
}

static int run_eval(const nml_det_dataset *ds, const char *dir, const options *o) {
    nml_error err;
    nml_det_eval_config cfg = nml_det_eval_defaults(NUM_CLASSES);
    cfg.match = o->match;
    cfg.ap = o->ap;
    cfg.pr = o->pr;
    nml_det_eval *ev;
    if (nml_det_eval_create(&cfg, &ev, &err) != NML_OK) return fail(&err);
    nml_progress bar;
    nml_progress_begin(&bar, "eval", ds->count, "img");
    for (size_t i = 0; i < ds->count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/out_%04zu.npy", dir, i);
        if (eval_one(ev, &ds->samples[i], path, o, &err) != NML_OK) {
            nml_det_eval_destroy(ev);
            return fail(&err);
        }
        nml_progress_add(&bar, 1);
    }
    nml_progress_end(&bar);
    nml_det_metrics m;
    nml_status st = nml_det_eval_compute(ev, &m, &err);
    nml_det_eval_destroy(ev);
    if (st != NML_OK) return fail(&err);
    print_metrics(&m);
    nml_det_metrics_free(&m);
    return 0;
}

static int parse_options(int argc, char **argv, options *o) {
    o->threshold = 0.001f;
    o->nms_iou = 0.45f;
    o->match = NML_MATCH_ULTRALYTICS;
    o->ap = NML_AP_ULTRALYTICS;
    o->pr = NML_PR_MEAN_F1;
    o->clip = 0;
    o->agnostic = 0;
    o->max_det = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--clip"))
            o->clip = 1;
        else if (!strcmp(a, "--class-agnostic"))
            o->agnostic = 1;
        else if (!strcmp(a, "--threshold") && v)
            o->threshold = strtof(argv[++i], NULL);
        else if (!strcmp(a, "--nms-iou") && v)
            o->nms_iou = strtof(argv[++i], NULL);
        else if (!strcmp(a, "--max-det") && v)
            o->max_det = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(a, "--match") && v)
            o->match = !strcmp(argv[++i], "coco") ? NML_MATCH_COCO : NML_MATCH_ULTRALYTICS;
        else if (!strcmp(a, "--pr") && v)
            o->pr = !strcmp(argv[++i], "class-f1") ? NML_PR_CLASS_F1 : NML_PR_MEAN_F1;
        else if (!strcmp(a, "--ap") && v)
            o->ap = !strcmp(argv[++i], "coco") ? NML_AP_COCO : NML_AP_ULTRALYTICS;
        else {
            fprintf(stderr, "fastestdet_ort: unknown option %s\n", a);
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[1], "prep") != 0 && strcmp(argv[1], "eval") != 0)) {
        fprintf(stderr, "usage: fastestdet_ort prep|eval DATASET DIR [options]\n");
        return 2;
    }
    options o;
    if (!parse_options(argc - 4, argv + 4, &o)) return 2;
    nml_error err;
    nml_det_dataset ds;
    if (nml_det_dataset_open(argv[2], NUM_CLASSES, &ds, &err) != NML_OK) return fail(&err);
    int rc = !strcmp(argv[1], "prep") ? run_prep(&ds, argv[3]) : run_eval(&ds, argv[3], &o);
    nml_det_dataset_free(&ds);
    return rc;
}
