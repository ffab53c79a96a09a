/* Pieces of the detection metrics shared inside src/eval. */
#ifndef NML_EVAL_INTERNAL_H
#define NML_EVAL_INTERNAL_H

#include <stddef.h>

/* Confidence grid of the precision/recall/F1 curves: numpy.linspace(0, 1, 1000). */
#define NML_CURVE_POINTS 1000

/* Precision and recall of one class as functions of the confidence threshold, sampled on the
 * grid: p(x) = interp(-x, -conf, precision, left=1), r(x) = interp(-x, -conf, recall, left=0),
 * conf in descending order (n >= 1). */
void nml_pr_curves(const double *conf, const double *precision, const double *recall, size_t n,
                   double *p_curve, double *r_curve);

/* Index of the maximum of the mean F1 curve after Ultralytics' smoothing (a box filter of 101
 * points with edge padding, i.e. a fraction 0.1 of the 1000-point curve); first one on ties. */
size_t nml_best_f1_index(const double *mean_f1);

#endif
