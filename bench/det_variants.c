/* Model variants for the YOLOv8n study (bench/yolov8n_eval.sh):
 *   det_variants prune MODEL OUT --weights|--filters [--fraction F] [--skip-op I]
 *       int8 convolution weights pruned in place (10% by default), per layer
 *   det_variants twin MODEL OUT
 *       the float32 twin: same graph, constants dequantized (exactly the int8 weights)
 *   det_variants recal MODEL OUT [--dataset DIR --first N --count N] [--mean] [IMAGE ...]
 *       activations requantized from ranges of the float twin on calibration images
 *       (letterboxed like YOLOv8, RGB/255), input scale 1/255, float32 output so boxes and
 *       class scores keep separate scales; --mean: ranges are the mean of per-image min/max
 *   det_variants eval MODEL DATASET [--split N] [--truncate-input] [--multi-label]
 *       the model's default protocol (nml_det_protocol_defaults) on all images and on the
 *       parts before and after image N (64), precision/recall by both rules, in one pass
 *       [--train-size W H]: FastestDet training size (the decoder's default 352 352; the
 *       input size itself turns the box-size correction off); [--stride S]: FastestDet cell
 *       size in input pixels (16; 0: the grid spans the image)
 *       [--box-scale SX SY]: FastestDet box widths and heights further multiplied by SX and SY
 *       before decoding (a diagnostic)
 *   det_variants decode MODEL IMAGE OUTPUT.npy
 *       decodes an output computed by another runtime (LiteRT) for that image as nanoml would
 * Each prints its results on stdout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nanoml/class_names.h"
#include "nanoml/det_dataset.h"
#include "nanoml/detector.h"
#include "nanoml/file.h"
#include "nanoml/npy.h"
#include "nanoml/progress.h"
#include "nanoml/prune_int8.h"
#include "nanoml/recalib.h"
#include "nanoml/runtime_host.h"

static int fail(const nml_error *err) {
    fprintf(stderr, "det_variants: %s\n", err->msg);
    return 1;
}

static nml_status read_model(const char *path, uint8_t **data, size_t *size, nml_ir *ir,
                             nml_error *err) {
    nml_model m;
    NML_TRY(nml_load_model_file(path, data, size, &m, err));
    if (!ir) return NML_OK;
    nml_status st = nml_ir_from_tflite(ir, *data, *size, err);
    if (st != NML_OK) nml_error_prefix(err, "%s: ", path);
    return st;
}

static nml_status write_ir(const nml_ir *ir, const char *path, size_t *bytes, nml_error *err) {
    uint8_t *out;
    size_t size;
    NML_TRY(nml_ir_to_tflite(ir, &out, &size, err));
    nml_status st = nml_write_file(path, out, size, err);
    free(out);
    if (bytes) *bytes = size;
    return st;
}

static int cmd_prune(int argc, char **argv) {
    if (argc < 3) return 2;
    int32_t skip[16];
    nml_prune_options opt = {NML_PRUNE_WEIGHTS, 0.1f, skip, 0};
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--filters"))
            opt.mode = NML_PRUNE_FILTERS;
        else if (!strcmp(argv[i], "--weights"))
            opt.mode = NML_PRUNE_WEIGHTS;
        else if (!strcmp(argv[i], "--fraction") && i + 1 < argc)
            opt.fraction = strtof(argv[++i], NULL);
        else if (!strcmp(argv[i], "--skip-op") && i + 1 < argc && opt.n_skip < 16)
            skip[opt.n_skip++] = (int32_t)strtol(argv[++i], NULL, 10);
        else
            return 2;
    }
    nml_error err;
    uint8_t *data;
    size_t size;
    nml_prune_stats s;
    if (read_model(argv[0], &data, &size, NULL, &err) != NML_OK) return fail(&err);
    nml_status st = nml_prune_int8_convs(data, size, &opt, &s, &err);
    if (st == NML_OK) st = nml_write_file(argv[1], data, size, &err);
    free(data);
    if (st != NML_OK) return fail(&err);
    printf("pruned %s: %d layers, %llu weights, zero before %llu, zero after %llu (%.2f%%), "
           "filters %llu of %llu\n",
           opt.mode == NML_PRUNE_FILTERS ? "filters" : "weights", s.layers,
           (unsigned long long)s.weights, (unsigned long long)s.zero_before,
           (unsigned long long)s.zero_after, 100.0 * (double)s.zero_after / (double)s.weights,
           (unsigned long long)s.filters_pruned, (unsigned long long)s.filters);
    return 0;
}

static int cmd_twin(int argc, char **argv) {
    if (argc != 2) return 2;
    nml_error err;
    uint8_t *data;
    size_t size, bytes = 0;
    nml_ir q, f;
    if (read_model(argv[0], &data, &size, &q, &err) != NML_OK) return fail(&err);
    nml_status st = nml_recalib_float_twin(&q, &f, &err);
    if (st == NML_OK) {
        st = write_ir(&f, argv[1], &bytes, &err);
        nml_ir_free(&f);
    }
    nml_ir_free(&q);
    free(data);
    if (st != NML_OK) return fail(&err);
    printf("float twin: %zu bytes\n", bytes);
    return 0;
}

/* ---- recalibration ---- */

typedef struct calib_set {
    const char **paths;
    size_t n;
    nml_det_dataset ds;
    int have_ds;
    int mean; /* ranges: mean of per-image min/max instead of the extremes */
} calib_set;

static nml_status observe_image(nml_detector *twin, nml_act_ranges *r, const char *path,
                                nml_error *err) {
    nml_image img;
    NML_TRY(nml_image_load(path, 3, &img, err));
    nml_status st = nml_detector_set_input(twin, &img, NULL, err);
    if (st == NML_OK) st = nml_act_ranges_observe(r, &twin->it, err);
    nml_image_free(&img);
    return st;
}

static nml_status calibrate(const nml_ir *q, const calib_set *cs, nml_act_ranges *r,
                            nml_error *err) {
    nml_ir f;
    uint8_t *bytes;
    size_t size;
    NML_TRY(nml_recalib_float_twin(q, &f, err));
    nml_status st = nml_ir_to_tflite(&f, &bytes, &size, err);
    nml_ir_free(&f);
    if (st != NML_OK) return st;
    nml_detector twin;
    st = nml_detector_open_bytes(&twin, bytes, size, NML_DET_YOLOV8, 80, err);
    free(bytes);
    if (st != NML_OK) return nml_error_prefix(err, "float twin: ");
    st = nml_act_ranges_init(r, q->n_tensors, err);
    nml_progress bar;
    nml_progress_begin(&bar, "calibrate", cs->n, "img");
    for (size_t i = 0; st == NML_OK && i < cs->n; i++) {
        st = observe_image(&twin, r, cs->paths[i], err);
        nml_progress_add(&bar, 1);
    }
    nml_progress_end(&bar);
    nml_detector_close(&twin);
    return st;
}

static int parse_calib(int argc, char **argv, calib_set *cs, nml_error *err) {
    const char *dataset = NULL;
    size_t first = 0, count = (size_t)-1;
    memset(cs, 0, sizeof *cs);
    cs->paths = calloc((size_t)argc + NML_DATASET_MAX_IMAGES / 1000, sizeof *cs->paths);
    if (!cs->paths) return 1;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--dataset") && i + 1 < argc)
            dataset = argv[++i];
        else if (!strcmp(argv[i], "--first") && i + 1 < argc)
            first = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--mean"))
            cs->mean = 1;
        else if (argv[i][0] == '-')
            return 2;
        else
            cs->paths[cs->n++] = argv[i];
    }
    if (dataset) {
        if (nml_det_dataset_open(dataset, 80, &cs->ds, err) != NML_OK) return fail(err);
        cs->have_ds = 1;
        for (size_t i = first; i < cs->ds.count && i - first < count; i++)
            cs->paths[cs->n++] = cs->ds.samples[i].image_path;
    }
    return cs->n ? 0 : 2;
}

static void free_calib(calib_set *cs) {
    if (cs->have_ds) nml_det_dataset_free(&cs->ds);
    free(cs->paths);
}

static nml_status recalibrate(const char *in, const char *out, const calib_set *cs,
                              nml_error *err) {
    uint8_t *data;
    size_t size, bytes = 0;
    nml_ir q;
    NML_TRY(read_model(in, &data, &size, &q, err));
    nml_act_ranges r = {0, NULL, NULL, NULL, NULL, NULL, NULL};
    nml_recalib_report rep;
    nml_recalib_options opt = {0.f, 1.f}; /* pixels / 255 */
    nml_status st = nml_recalib_float_output(&q, 0, err);
    if (st == NML_OK) st = calibrate(&q, cs, &r, err);
    if (st == NML_OK && cs->mean) nml_act_ranges_use_mean(&r);
    if (st == NML_OK) st = nml_recalib_requantize(&q, &r, &opt, &rep, err);
    if (st == NML_OK) st = write_ir(&q, out, &bytes, err);
    if (st == NML_OK)
        printf("recalibrated on %zu images (%s): %d activations (%d shared groups, %d fixed, %d "
               "unobserved), %d biases; %zu bytes\n",
               cs->n, cs->mean ? "mean per-image ranges" : "min/max", rep.activations, rep.groups,
               rep.fixed, rep.unobserved, rep.biases, bytes);
    nml_act_ranges_free(&r);
    nml_ir_free(&q);
    free(data);
    return st;
}

static int cmd_recal(int argc, char **argv) {
    if (argc < 3) return 2;
    nml_error err;
    calib_set cs;
    int rc = parse_calib(argc - 2, argv + 2, &cs, &err);
    if (rc == 0 && recalibrate(argv[0], argv[1], &cs, &err) != NML_OK) rc = fail(&err);
    free_calib(&cs);
    return rc;
}

/* ---- FastestDet diagnostic: box sizes scaled before decoding ---- */

/* FastestDet predicts box width and height as sigmoid outputs relative to the image. A model run
 * at another input size than it was trained at may read object sizes from pixels; multiplying
 * the decoded sizes by (sx, sy) tests that. The w/h logits in d->out are rewritten so that the
 * decoder's sigmoid yields the scaled size (capped just below 1). Diagnostic only. */
static void scale_fastestdet_sizes(nml_detector *d, double sx, double sy) {
    const nml_fastestdet_config *c = &d->fastestdet;
    size_t cells = (size_t)c->grid_w * (size_t)c->grid_h, ch = 5 + (size_t)c->num_classes;
    for (size_t cell = 0; cell < cells; cell++) {
        for (int k = 0; k < 2; k++) {
            size_t at = c->layout == NML_LAYOUT_NCHW ? (3 + (size_t)k) * cells + cell
                                                     : cell * ch + 3 + (size_t)k;
            double p = 1.0 / (1.0 + exp(-(double)d->out[at])) * (k ? sy : sx);
            if (p > 1.0 - 1e-6) p = 1.0 - 1e-6;
            d->out[at] = (float)log(p / (1.0 - p));
        }
    }
}

static nml_status eval_sample_scaled(nml_detector *d, const nml_det_sample *s, double sx, double sy,
                                     nml_det_eval *const *evs, size_t n_evs, nml_error *err) {
    nml_image img;
    NML_TRY(nml_image_load(s->image_path, 3, &img, err));
    nml_detections dets = {NULL, 0, 0};
    nml_gt_box *gt = malloc((s->num_labels ? s->num_labels : 1) * sizeof *gt);
    nml_image_transform tf;
    nml_status st = gt ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    if (st == NML_OK) st = nml_detector_set_input(d, &img, &tf, err);
    if (st == NML_OK) st = nml_detector_invoke(d, err);
    if (st == NML_OK) {
        scale_fastestdet_sizes(d, sx, sy);
        st = nml_detector_decode(d, &tf, &dets, err);
    }
    for (size_t i = 0; st == NML_OK && i < s->num_labels; i++)
        gt[i] = nml_yolo_label_to_box(&s->labels[i], img.w, img.h);
    for (size_t i = 0; st == NML_OK && i < n_evs; i++)
        st = nml_det_eval_add(evs[i], gt, s->num_labels, dets.v, dets.n, err);
    free(gt);
    nml_detections_free(&dets);
    nml_image_free(&img);
    return st;
}

/* ---- evaluation of one model on a dataset: all images and two parts, both P/R rules ---- */

#define N_RULES 2   /* class-F1, mean-F1 */
#define N_SUBSETS 3 /* all, [0, split), [split, end) */

static void print_subset(const char *name, nml_det_eval *const *evs, double secs, size_t images,
                         nml_error *err) {
    nml_det_metrics m[N_RULES];
    for (int r = 0; r < N_RULES; r++)
        if (nml_det_eval_compute(evs[r], &m[r], err) != NML_OK) {
            fail(err);
            for (int k = 0; k < r; k++)
                nml_det_metrics_free(&m[k]);
            return;
        }
    printf("subset %s images %zu boxes %zu precision %.4f recall %.4f precision_mean_f1 %.4f "
           "recall_mean_f1 %.4f mAP50 %.4f mAP50-95 %.4f seconds_per_image %.3f\n",
           name, m[0].images, m[0].ground_truth, m[0].precision, m[0].recall, m[1].precision,
           m[1].recall, m[0].map50, m[0].map50_95, images ? secs / (double)images : 0.0);
    for (int r = 0; r < N_RULES; r++)
        nml_det_metrics_free(&m[r]);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* box_scale: NULL, or the FastestDet size factors (x, y) of --box-scale */
static nml_status eval_all(nml_detector *d, const nml_det_dataset *ds, size_t split,
                           const double *box_scale, nml_det_eval *evs[N_SUBSETS][N_RULES],
                           double *secs, nml_error *err) {
    nml_progress bar;
    nml_progress_begin(&bar, "eval", ds->count, "img");
    double t0 = now_s();
    nml_status st = NML_OK;
    for (size_t i = 0; st == NML_OK && i < ds->count; i++) {
        nml_det_eval *to[2 * N_RULES];
        int part = i < split ? 1 : 2;
        for (int r = 0; r < N_RULES; r++) {
            to[r] = evs[0][r];
            to[N_RULES + r] = evs[part][r];
        }
        if (box_scale)
            st = eval_sample_scaled(d, &ds->samples[i], box_scale[0], box_scale[1], to, 2 * N_RULES,
                                    err);
        else
            st = nml_detector_eval_sample(d, &ds->samples[i], to, 2 * N_RULES, err);
        nml_progress_add(&bar, 1);
    }
    nml_progress_end(&bar);
    *secs = now_s() - t0;
    return st;
}

static int cmd_eval(int argc, char **argv) {
    if (argc < 2) return 2;
    size_t split = 64;
    int truncate = 0, multi = 0;
    double box_scale[2] = {1.0, 1.0};
    int scaled = 0, train[2] = {0, 0}, stride = -1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--split") && i + 1 < argc)
            split = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--truncate-input"))
            truncate = 1;
        else if (!strcmp(argv[i], "--multi-label"))
            multi = 1;
        else if (!strcmp(argv[i], "--stride") && i + 1 < argc)
            stride = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--train-size") && i + 2 < argc) {
            train[0] = atoi(argv[++i]);
            train[1] = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--box-scale") && i + 2 < argc) {
            box_scale[0] = strtod(argv[++i], NULL);
            box_scale[1] = strtod(argv[++i], NULL);
            scaled = 1;
        } else
            return 2;
    }
    nml_error err;
    nml_detector d;
    nml_det_dataset ds;
    if (nml_detector_open(&d, argv[0], NML_DET_AUTO, 80, &err) != NML_OK) return fail(&err);
    if (nml_det_dataset_open(argv[1], 80, &ds, &err) != NML_OK) {
        nml_detector_close(&d);
        return fail(&err);
    }
    nml_det_protocol p = nml_det_protocol_defaults(d.kind, 80);
    p.multi_label = multi;
    nml_detector_apply_protocol(&d, &p);
    if (truncate) d.rounding = NML_DET_TRUNCATE;
    if (stride >= 0) d.fastestdet.stride = stride;
    if (train[0] > 0 && train[1] > 0) {
        d.fastestdet.train_w = train[0];
        d.fastestdet.train_h = train[1];
    }
    nml_det_eval *evs[N_SUBSETS][N_RULES] = {{NULL}};
    nml_status st = NML_OK;
    for (int s = 0; s < N_SUBSETS && st == NML_OK; s++)
        for (int r = 0; r < N_RULES && st == NML_OK; r++) {
            nml_det_eval_config c = p.eval;
            c.pr = r == 0 ? NML_PR_CLASS_F1 : NML_PR_MEAN_F1;
            st = nml_det_eval_create(&c, &evs[s][r], &err);
        }
    double secs = 0;
    if (st == NML_OK && scaled && d.kind != NML_DET_FASTESTDET)
        st = nml_fail(&err, NML_E_ARG, "--box-scale applies to FastestDet models only");
    if (st == NML_OK) st = eval_all(&d, &ds, split, scaled ? box_scale : NULL, evs, &secs, &err);
    if (st == NML_OK) {
        char protocol[512], name[32];
        nml_det_protocol_describe(&d, &p, protocol, sizeof protocol);
        printf("protocol %s\n", protocol);
        print_subset("all", evs[0], secs, ds.count, &err);
        snprintf(name, sizeof name, "first%zu", split < ds.count ? split : ds.count);
        if (split > 0 && split < ds.count) print_subset(name, evs[1], secs, ds.count, &err);
        snprintf(name, sizeof name, "rest%zu", split < ds.count ? ds.count - split : 0);
        if (split > 0 && split < ds.count) print_subset(name, evs[2], secs, ds.count, &err);
    }
    for (int s = 0; s < N_SUBSETS; s++)
        for (int r = 0; r < N_RULES; r++)
            nml_det_eval_destroy(evs[s][r]);
    nml_det_dataset_free(&ds);
    nml_detector_close(&d);
    return st == NML_OK ? 0 : fail(&err);
}

/* ---- decoding an output computed by another runtime ---- */

static void print_dets(const nml_detections *dets) {
    nml_class_names names = nml_class_names_coco();
    for (size_t i = 0; i < dets->n; i++) {
        const nml_detection *x = &dets->v[i];
        printf("%-12s %.3f [%.1f, %.1f, %.1f, %.1f]\n", nml_class_name(&names, x->cls),
               (double)x->score, (double)x->x1, (double)x->y1, (double)x->x2, (double)x->y2);
    }
}

static nml_status decode_npy(nml_detector *d, const char *image, const char *npy, nml_error *err) {
    nml_image img;
    NML_TRY(nml_image_load(image, 3, &img, err));
    nml_image_transform tf;
    nml_npy a = {0};
    nml_status st = nml_detector_set_input(d, &img, &tf, err);
    nml_image_free(&img);
    if (st == NML_OK) st = nml_npy_read(npy, &a, err);
    nml_tensor *out = nml_output(&d->it, 0);
    if (st == NML_OK && (a.dtype != out->type || a.bytes != out->bytes))
        st = nml_fail(err, NML_E_SHAPE, "%s: not the model's output type and size", npy);
    if (st == NML_OK) {
        memcpy(out->data, a.data, out->bytes);
        nml_detector_read_output(d);
        nml_detections dets = {NULL, 0, 0};
        st = nml_detector_decode(d, &tf, &dets, err);
        if (st == NML_OK) print_dets(&dets);
        nml_detections_free(&dets);
    }
    nml_npy_free(&a);
    return st;
}

static int cmd_decode(int argc, char **argv) {
    if (argc != 3) return 2;
    nml_error err;
    nml_detector d;
    if (nml_detector_open(&d, argv[0], NML_DET_AUTO, 80, &err) != NML_OK) return fail(&err);
    nml_status st = decode_npy(&d, argv[1], argv[2], &err);
    nml_detector_close(&d);
    return st == NML_OK ? 0 : fail(&err);
}

int main(int argc, char **argv) {
    int rc = 2;
    if (argc >= 2 && !strcmp(argv[1], "prune")) rc = cmd_prune(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "twin")) rc = cmd_twin(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "recal")) rc = cmd_recal(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "eval")) rc = cmd_eval(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "decode")) rc = cmd_decode(argc - 2, argv + 2);
    if (rc == 2)
        fprintf(
            stderr,
            "usage: det_variants prune MODEL OUT --weights|--filters [--fraction F] [--skip-op I]\n"
            "       det_variants twin MODEL OUT\n"
            "       det_variants recal MODEL OUT [--dataset DIR --first N --count N] "
            "[--mean] [IMAGE ...]\n"
            "       det_variants eval MODEL DATASET [--split N] [--truncate-input] "
            "[--multi-label] [--train-size W H] [--stride S] [--box-scale SX SY]\n"
            "       det_variants decode MODEL IMAGE OUTPUT.npy\n");
    return rc;
}
