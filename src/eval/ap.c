/* Average precision of one precision/recall curve, and the interpolation it relies on. */
#include <math.h>
#include <stdlib.h>

#include "nanoml/det_eval.h"

#define RECALL_POINTS 101

double nml_np_interp(double x, const double *xp, const double *fp, size_t n, double left,
                     double right) {
    if (x < xp[0]) return left;
    if (x > xp[n - 1]) return right;
    size_t lo = 0, hi = n; /* find the last j with xp[j] <= x */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (xp[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    size_t j = lo;
    if (j == n - 1 || xp[j] == x) return fp[j];
    double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    double v = slope * (x - xp[j]) + fp[j];
    if (isnan(v)) { /* as NumPy: retry from the right end, then fall back to a flat segment */
        v = slope * (x - xp[j + 1]) + fp[j + 1];
        if (isnan(v) && fp[j] == fp[j + 1]) v = fp[j];
    }
    return v;
}

/* The 101 recall points 0, 0.01, ..., 1 computed like numpy.linspace(0, 1, 101). */
static double recall_point(int i) {
    return i == RECALL_POINTS - 1 ? 1.0 : i * 0.01;
}

static double ap_ultralytics(const double *recall, const double *precision, size_t n) {
    double *mrec = malloc((n + 2) * sizeof *mrec), *mpre = malloc((n + 2) * sizeof *mpre);
    if (!mrec || !mpre) {
        free(mrec);
        free(mpre);
        return NAN;
    }
    mrec[0] = 0.0;
    mpre[0] = 1.0;
    for (size_t i = 0; i < n; i++) {
        mrec[i + 1] = recall[i];
        mpre[i + 1] = precision[i];
    }
    mrec[n + 1] = 1.0;
    mpre[n + 1] = 0.0;
    for (size_t i = n + 1; i > 0; i--) /* precision envelope */
        if (mpre[i] > mpre[i - 1]) mpre[i - 1] = mpre[i];
    double ap = 0.0, prev = nml_np_interp(0.0, mrec, mpre, n + 2, mpre[0], mpre[n + 1]);
    for (int i = 1; i < RECALL_POINTS; i++) {
        double x0 = recall_point(i - 1), x1 = recall_point(i);
        double y = nml_np_interp(x1, mrec, mpre, n + 2, mpre[0], mpre[n + 1]);
        ap += (x1 - x0) * (y + prev) / 2.0;
        prev = y;
    }
    free(mrec);
    free(mpre);
    return ap;
}

static double ap_coco(const double *recall, const double *precision, size_t n) {
    double *env = malloc((n ? n : 1) * sizeof *env);
    if (!env) return NAN;
    for (size_t i = 0; i < n; i++)
        env[i] = precision[i];
    for (size_t i = n; i-- > 1;)
        if (env[i] > env[i - 1]) env[i - 1] = env[i];
    double sum = 0.0;
    size_t k = 0;
    for (int i = 0; i < RECALL_POINTS; i++) {
        double r = recall_point(i);
        while (k < n && recall[k] < r)
            k++; /* first point with recall >= r */
        if (k < n) sum += env[k];
    }
    free(env);
    return sum / RECALL_POINTS;
}

double nml_average_precision(const double *recall, const double *precision, size_t n,
                             nml_ap_rule rule) {
    if (rule == NML_AP_COCO) return ap_coco(recall, precision, n);
    return ap_ultralytics(recall, precision, n);
}
