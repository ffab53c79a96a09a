/* The detection-metrics accumulator: per-image matching, then dataset-wide AP and P/R. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "nanoml/det_eval.h"

#define MAX_CLASSES 100000

struct nml_det_eval {
    nml_det_eval_config cfg;
    size_t images;
    size_t *gt_count; /* per class */
    float *score;     /* one entry per detection, all images */
    int *cls;
    uint16_t *tp;
    size_t n, cap;
};

nml_det_eval_config nml_det_eval_defaults(int num_classes) {
    nml_det_eval_config c = {num_classes, NML_MATCH_ULTRALYTICS, NML_AP_ULTRALYTICS,
                             NML_PR_MEAN_F1};
    return c;
}

nml_status nml_det_eval_create(const nml_det_eval_config *cfg, nml_det_eval **out, nml_error *err) {
    *out = NULL;
    if (!cfg || cfg->num_classes < 1 || cfg->num_classes > MAX_CLASSES)
        return nml_fail(err, NML_E_ARG, "eval: bad class count %d", cfg ? cfg->num_classes : 0);
    if ((unsigned)cfg->match > NML_MATCH_COCO || (unsigned)cfg->ap > NML_AP_COCO ||
        (unsigned)cfg->pr > NML_PR_CLASS_F1)
        return nml_fail(err, NML_E_ARG, "eval: unknown match/AP/PR rule");
    nml_det_eval *ev = calloc(1, sizeof *ev);
    if (!ev || !(ev->gt_count = calloc((size_t)cfg->num_classes, sizeof *ev->gt_count))) {
        free(ev);
        return nml_fail(err, NML_E_NOMEM, "eval: out of memory");
    }
    ev->cfg = *cfg;
    *out = ev;
    return NML_OK;
}

void nml_det_eval_destroy(nml_det_eval *ev) {
    if (!ev) return;
    free(ev->gt_count);
    free(ev->score);
    free(ev->cls);
    free(ev->tp);
    free(ev);
}

static nml_status reserve(nml_det_eval *ev, size_t extra, nml_error *err) {
    if (ev->n + extra <= ev->cap) return NML_OK;
    size_t cap = ev->cap ? ev->cap : 1024;
    while (cap < ev->n + extra)
        cap *= 2;
    float *s = realloc(ev->score, cap * sizeof *s);
    if (s) ev->score = s;
    int *c = realloc(ev->cls, cap * sizeof *c);
    if (c) ev->cls = c;
    uint16_t *t = realloc(ev->tp, cap * sizeof *t);
    if (t) ev->tp = t;
    if (!s || !c || !t)
        return nml_fail(err, NML_E_NOMEM, "eval: out of memory (%zu detections)", cap);
    ev->cap = cap;
    return NML_OK;
}

static nml_status check_inputs(const nml_det_eval *ev, const nml_gt_box *gt, size_t ng,
                               const nml_detection *dets, size_t nd, nml_error *err) {
    for (size_t i = 0; i < ng; i++)
        if (gt[i].cls < 0 || gt[i].cls >= ev->cfg.num_classes)
            return nml_fail(err, NML_E_ARG, "eval: ground-truth box %zu has class %d (%d classes)",
                            i, gt[i].cls, ev->cfg.num_classes);
    for (size_t i = 0; i < nd; i++) {
        if (dets[i].cls < 0 || dets[i].cls >= ev->cfg.num_classes)
            return nml_fail(err, NML_E_ARG, "eval: detection %zu has class %d (%d classes)", i,
                            dets[i].cls, ev->cfg.num_classes);
        if (!isfinite(dets[i].score))
            return nml_fail(err, NML_E_ARG, "eval: detection %zu has a non-finite score", i);
    }
    return NML_OK;
}

nml_status nml_det_eval_add(nml_det_eval *ev, const nml_gt_box *gt, size_t ng,
                            const nml_detection *dets, size_t nd, nml_error *err) {
    NML_TRY(check_inputs(ev, gt, ng, dets, nd, err));
    NML_TRY(reserve(ev, nd, err));
    nml_detection *sorted = malloc((nd ? nd : 1) * sizeof *sorted);
    if (!sorted) return nml_fail(err, NML_E_NOMEM, "eval: out of memory");
    if (nd) memcpy(sorted, dets, nd * sizeof *sorted);
    nml_status st = nml_detections_sort(sorted, nd, err);
    if (st == NML_OK)
        st = nml_match_detections(gt, ng, sorted, nd, ev->cfg.match, ev->tp + ev->n, err);
    if (st == NML_OK) {
        for (size_t i = 0; i < nd; i++) {
            ev->score[ev->n + i] = sorted[i].score;
            ev->cls[ev->n + i] = sorted[i].cls;
        }
        ev->n += nd;
        for (size_t i = 0; i < ng; i++)
            ev->gt_count[gt[i].cls]++;
        ev->images++;
    }
    free(sorted);
    return st;
}

/* Indices of all detections by descending score; stable, so ties keep the order of addition. */
static size_t *order_by_score(const float *score, size_t n) {
    size_t *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        a[i] = i;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                b[k++] = score[a[j]] > score[a[i]] ? a[j++] : a[i++];
            while (i < mid)
                b[k++] = a[i++];
            while (j < hi)
                b[k++] = a[j++];
        }
        size_t *t = a;
        a = b;
        b = t;
    }
    free(b);
    return a;
}

/* Per-class working arrays: confidences and one precision/recall curve per IoU threshold. */
typedef struct class_curves {
    double *conf, *precision, *recall; /* recall/precision: NML_EVAL_IOU_STEPS rows of n */
    size_t n;
} class_curves;

static nml_status build_curves(const nml_det_eval *ev, const size_t *order, int c, size_t ngt,
                               class_curves *cc, nml_error *err) {
    size_t n = 0;
    for (size_t k = 0; k < ev->n; k++)
        n += ev->cls[order[k]] == c;
    cc->n = n;
    if (n == 0) return NML_OK;
    cc->conf = malloc(n * sizeof(double));
    cc->precision = malloc(n * NML_EVAL_IOU_STEPS * sizeof(double));
    cc->recall = malloc(n * NML_EVAL_IOU_STEPS * sizeof(double));
    if (!cc->conf || !cc->precision || !cc->recall)
        return nml_fail(err, NML_E_NOMEM, "eval: out of memory for class %d curves", c);
    size_t tpc[NML_EVAL_IOU_STEPS] = {0}, m = 0;
    for (size_t k = 0; k < ev->n; k++) {
        size_t d = order[k];
        if (ev->cls[d] != c) continue;
        cc->conf[m] = ev->score[d];
        for (int t = 0; t < NML_EVAL_IOU_STEPS; t++) {
            tpc[t] += (ev->tp[d] >> t) & 1u;
            double tp = (double)tpc[t], fp = (double)(m + 1 - tpc[t]);
            cc->recall[(size_t)t * n + m] = tp / ((double)ngt + 1e-16);
            cc->precision[(size_t)t * n + m] = tp / (tp + fp);
        }
        m++;
    }
    return NML_OK;
}

static void free_curves(class_curves *cc) {
    free(cc->conf);
    free(cc->precision);
    free(cc->recall);
    memset(cc, 0, sizeof *cc);
}

static nml_status alloc_metrics(nml_det_metrics *m, int nc, nml_error *err) {
    memset(m, 0, sizeof *m);
    m->ap50 = malloc((size_t)nc * sizeof(double));
    m->ap50_95 = malloc((size_t)nc * sizeof(double));
    m->class_precision = malloc((size_t)nc * sizeof(double));
    m->class_recall = malloc((size_t)nc * sizeof(double));
    m->class_gt = calloc((size_t)nc, sizeof(size_t));
    if (!m->ap50 || !m->ap50_95 || !m->class_precision || !m->class_recall || !m->class_gt) {
        nml_det_metrics_free(m);
        return nml_fail(err, NML_E_NOMEM, "eval: out of memory");
    }
    for (int c = 0; c < nc; c++)
        m->ap50[c] = m->ap50_95[c] = m->class_precision[c] = m->class_recall[c] = NAN;
    return NML_OK;
}

void nml_det_metrics_free(nml_det_metrics *m) {
    if (!m) return;
    free(m->ap50);
    free(m->ap50_95);
    free(m->class_precision);
    free(m->class_recall);
    free(m->class_gt);
    m->ap50 = m->ap50_95 = m->class_precision = m->class_recall = NULL;
    m->class_gt = NULL;
}

/* AP at each threshold and the P/R curves of class c; a class without detections has AP 0 and
 * zero curves (it still counts in the means). */
static nml_status evaluate_class(const nml_det_eval *ev, const size_t *order, int c,
                                 nml_det_metrics *m, double *p_curve, double *r_curve,
                                 nml_error *err) {
    class_curves cc = {NULL, NULL, NULL, 0};
    nml_status st = build_curves(ev, order, c, ev->gt_count[c], &cc, err);
    if (st != NML_OK || cc.n == 0) {
        free_curves(&cc);
        for (int i = 0; i < NML_CURVE_POINTS; i++)
            p_curve[i] = r_curve[i] = 0.0;
        m->ap50[c] = m->ap50_95[c] = 0.0;
        return st;
    }
    double sum = 0.0;
    for (int t = 0; t < NML_EVAL_IOU_STEPS; t++) {
        double ap = nml_average_precision(cc.recall + (size_t)t * cc.n,
                                          cc.precision + (size_t)t * cc.n, cc.n, ev->cfg.ap);
        if (t == 0) m->ap50[c] = ap;
        sum += ap;
    }
    m->ap50_95[c] = sum / NML_EVAL_IOU_STEPS;
    nml_pr_curves(cc.conf, cc.precision, cc.recall, cc.n, p_curve, r_curve);
    free_curves(&cc);
    return NML_OK;
}

static double f1_score(double p, double r) {
    return 2.0 * p * r / (p + r + 1e-16);
}

/* The grid index where the smoothed mean F1 over the k classes peaks. */
static size_t mean_f1_index(int k, const double *p_curves, const double *r_curves) {
    double f1[NML_CURVE_POINTS];
    for (int i = 0; i < NML_CURVE_POINTS; i++) {
        double s = 0.0;
        for (int j = 0; j < k; j++)
            s += f1_score(p_curves[(size_t)j * NML_CURVE_POINTS + i],
                          r_curves[(size_t)j * NML_CURVE_POINTS + i]);
        f1[i] = s / k;
    }
    return nml_best_f1_index(f1);
}

/* The grid index where one class's F1 peaks (first one on ties). */
static size_t class_f1_index(const double *p, const double *r) {
    size_t best = 0;
    for (size_t i = 1; i < NML_CURVE_POINTS; i++)
        if (f1_score(p[i], r[i]) > f1_score(p[best], r[best])) best = i;
    return best;
}

static void summarise(nml_det_metrics *m, nml_pr_rule rule, const int *classes, int k,
                      const double *p_curves, const double *r_curves) {
    size_t shared = mean_f1_index(k, p_curves, r_curves);
    m->best_conf =
        rule == NML_PR_MEAN_F1
            ? (shared == NML_CURVE_POINTS - 1 ? 1.0 : (double)shared / (NML_CURVE_POINTS - 1))
            : NAN;
    double ps = 0, rs = 0, fs = 0, a50 = 0, a = 0;
    for (int j = 0; j < k; j++) {
        int c = classes[j];
        const double *pc = p_curves + (size_t)j * NML_CURVE_POINTS;
        const double *rc = r_curves + (size_t)j * NML_CURVE_POINTS;
        size_t best = rule == NML_PR_MEAN_F1 ? shared : class_f1_index(pc, rc);
        double p = pc[best], r = rc[best];
        m->class_precision[c] = p;
        m->class_recall[c] = r;
        ps += p;
        rs += r;
        fs += f1_score(p, r);
        a50 += m->ap50[c];
        a += m->ap50_95[c];
    }
    m->precision = ps / k;
    m->recall = rs / k;
    m->f1 = fs / k;
    m->map50 = a50 / k;
    m->map50_95 = a / k;
}

nml_status nml_det_eval_compute(const nml_det_eval *ev, nml_det_metrics *m, nml_error *err) {
    int nc = ev->cfg.num_classes;
    NML_TRY(alloc_metrics(m, nc, err));
    m->images = ev->images;
    m->detections = ev->n;
    int *classes = malloc((size_t)nc * sizeof *classes);
    size_t *order = order_by_score(ev->score, ev->n);
    double *pc = malloc((size_t)nc * NML_CURVE_POINTS * sizeof *pc);
    double *rc = malloc((size_t)nc * NML_CURVE_POINTS * sizeof *rc);
    nml_status st = NML_OK;
    if (!classes || !order || !pc || !rc) st = nml_fail(err, NML_E_NOMEM, "eval: out of memory");
    int k = 0;
    for (int c = 0; st == NML_OK && c < nc; c++) {
        m->class_gt[c] = ev->gt_count[c];
        m->ground_truth += ev->gt_count[c];
        if (ev->gt_count[c] == 0) continue; /* classes without ground truth are not averaged */
        classes[k] = c;
        st = evaluate_class(ev, order, c, m, pc + (size_t)k * NML_CURVE_POINTS,
                            rc + (size_t)k * NML_CURVE_POINTS, err);
        k++;
    }
    m->classes_evaluated = k;
    if (st == NML_OK && k > 0) summarise(m, ev->cfg.pr, classes, k, pc, rc);
    free(classes);
    free(order);
    free(pc);
    free(rc);
    if (st != NML_OK) nml_det_metrics_free(m);
    return st;
}
