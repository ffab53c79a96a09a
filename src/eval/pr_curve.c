/* Precision/recall curves over the confidence threshold and the best-F1 operating point. */
#include <stdlib.h>

#include "eval_internal.h"
#include "nanoml/det_eval.h"

#define SMOOTH_TAPS 101 /* round(1000 * 0.1 * 2) // 2 + 1 */

static double grid_point(size_t i) {
    return i == NML_CURVE_POINTS - 1 ? 1.0 : (double)i * (1.0 / (NML_CURVE_POINTS - 1));
}

void nml_pr_curves(const double *conf, const double *precision, const double *recall, size_t n,
                   double *p_curve, double *r_curve) {
    double *neg = malloc(n * sizeof *neg);
    if (!neg) {
        for (size_t i = 0; i < NML_CURVE_POINTS; i++)
            p_curve[i] = r_curve[i] = 0.0;
        return;
    }
    for (size_t k = 0; k < n; k++)
        neg[k] = -conf[k]; /* ascending, as interp needs */
    for (size_t i = 0; i < NML_CURVE_POINTS; i++) {
        double x = -grid_point(i);
        r_curve[i] = nml_np_interp(x, neg, recall, n, 0.0, recall[n - 1]);
        p_curve[i] = nml_np_interp(x, neg, precision, n, 1.0, precision[n - 1]);
    }
    free(neg);
}

size_t nml_best_f1_index(const double *f1) {
    const int half = SMOOTH_TAPS / 2;
    size_t best = 0;
    double best_v = -1.0;
    for (int i = 0; i < NML_CURVE_POINTS; i++) {
        double sum = 0.0;
        for (int k = i - half; k <= i + half; k++) {
            int j = k < 0 ? 0 : k >= NML_CURVE_POINTS ? NML_CURVE_POINTS - 1 : k;
            sum += f1[j];
        }
        double v = sum / SMOOTH_TAPS;
        if (v > best_v) {
            best_v = v;
            best = (size_t)i;
        }
    }
    return best;
}
