/* Histograms of activation values and the calibrators that turn them into clipping ranges. */
#include <math.h>
#include <string.h>

#include "nanoml/quantize.h"

#define HALF (NML_HIST_BINS / 2)

void nml_hist_init(nml_histogram *h) {
    memset(h, 0, sizeof *h);
}

double nml_hist_width(const nml_histogram *h) {
    return 2.0 * h->limit / NML_HIST_BINS;
}

double nml_hist_edge(const nml_histogram *h, int i) {
    return -h->limit + (double)i * nml_hist_width(h);
}

/* Doubles the covered range: old bin j covers exactly half of new bin (j + HALF) / 2. */
static void grow(nml_histogram *h) {
    uint64_t merged[NML_HIST_BINS];
    memset(merged, 0, sizeof merged);
    for (int j = 0; j < NML_HIST_BINS; j++)
        merged[(j + HALF) / 2] += h->bins[j];
    memcpy(h->bins, merged, sizeof merged);
    h->limit *= 2.0;
}

static int bin_of(const nml_histogram *h, float x) {
    const double pos = ((double)x + h->limit) / (2.0 * h->limit) * NML_HIST_BINS;
    int i = (int)floor(pos);
    return i < 0 ? 0 : (i >= NML_HIST_BINS ? NML_HIST_BINS - 1 : i);
}

int nml_hist_add(nml_histogram *h, const float *x, size_t n) {
    float lo = 0.0f, hi = 0.0f, mag = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return 0;
        const float a = fabsf(x[i]);
        mag = a > mag ? a : mag;
        if (i == 0 || x[i] < lo) lo = x[i];
        if (i == 0 || x[i] > hi) hi = x[i];
    }
    if (n == 0) return 1;
    if (h->total == 0) {
        h->min = lo;
        h->max = hi;
    } else {
        h->min = lo < h->min ? lo : h->min;
        h->max = hi > h->max ? hi : h->max;
    }
    if (h->limit == 0.0 && mag > 0.0f) {
        h->limit = mag;
        h->bins[HALF] += h->zeros_pending; /* 0 falls on the lower edge of the middle bin */
        h->zeros_pending = 0;
    }
    while (h->limit > 0.0 && (double)mag > h->limit)
        grow(h);
    for (size_t i = 0; i < n; i++) {
        if (h->limit == 0.0)
            h->zeros_pending++;
        else
            h->bins[bin_of(h, x[i])]++;
    }
    h->total += n;
    return 1;
}

/* Smallest value v with (values <= v) >= q * total, interpolated within its bin. */
static double quantile(const nml_histogram *h, double q) {
    if (h->limit == 0.0) return 0.0;
    /* q * total is inexact (0.999 * 10000 = 9990.000000000002): allow for that */
    const double target = q * (double)h->total * (1.0 - 1e-12), w = nml_hist_width(h);
    double cum = 0.0;
    for (int i = 0; i < NML_HIST_BINS; i++) {
        const double c = (double)h->bins[i];
        if (c > 0.0 && cum + c >= target) {
            double frac = (target - cum) / c;
            frac = frac < 0.0 ? 0.0 : (frac > 1.0 ? 1.0 : frac);
            return nml_hist_edge(h, i) + frac * w;
        }
        cum += c;
    }
    return h->max;
}

static double clampd(double v, double lo, double hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Squared distance to `bound` integrated over [a, b] (values uniform in the bin, density 1). */
static double outside_error(double a, double b, double bound) {
    const double da = a - bound, db = b - bound;
    return fabs(db * db * db - da * da * da) / 3.0;
}

double nml_hist_quant_error(const nml_histogram *h, float scale, int32_t zero_point) {
    if (h->limit == 0.0) return 0.0;
    const double s = scale, qlo = (-128.0 - zero_point) * s, qhi = (127.0 - zero_point) * s;
    const double w = nml_hist_width(h), inside_err = s * s / 12.0;
    double err = 0.0;
    for (int i = 0; i < NML_HIST_BINS; i++) {
        if (!h->bins[i]) continue;
        const double a = nml_hist_edge(h, i), b = a + w, density = (double)h->bins[i] / w;
        const double in_a = clampd(a, qlo, qhi), in_b = clampd(b, qlo, qhi);
        err += density * (in_b - in_a) * inside_err;
        if (a < qlo) err += density * outside_error(a, b < qlo ? b : qlo, qlo);
        if (b > qhi) err += density * outside_error(a > qhi ? a : qhi, b, qhi);
    }
    return err;
}

static double range_error(const nml_histogram *h, double lo, double hi) {
    float s;
    int32_t zp;
    nml_quant_params((float)lo, (float)hi, -128, 127, &s, &zp);
    return nml_hist_quant_error(h, s, zp);
}

/* Coordinate descent: alternately the best upper bound for the current lower bound and the best
 * lower bound for the current upper bound, each among MSE_STEPS evenly spaced fractions of the
 * observed extreme. Converges in a few rounds; the error is a function of one bound at a time. */
#define MSE_STEPS 256
#define MSE_ROUNDS 4

static double best_bound(const nml_histogram *h, double extreme, double other, int upper) {
    double best = extreme, best_err = -1.0;
    for (int k = MSE_STEPS; k >= 1; k--) {
        const double v = extreme * k / MSE_STEPS;
        const double e = upper ? range_error(h, other, v) : range_error(h, v, other);
        if (best_err < 0.0 || e < best_err) {
            best_err = e;
            best = v;
        }
    }
    return best;
}

static void mse_range(const nml_histogram *h, float *lo, float *hi) {
    double l = h->min < 0.0f ? h->min : 0.0, u = h->max > 0.0f ? h->max : 0.0;
    for (int r = 0; r < MSE_ROUNDS; r++) {
        if (u > 0.0) u = best_bound(h, h->max, l, 1);
        if (l < 0.0) l = best_bound(h, h->min, u, 0);
    }
    *lo = (float)l;
    *hi = (float)u;
}

nml_status nml_hist_range(const nml_histogram *h, nml_calibrator c, double percentile, float *lo,
                          float *hi, nml_error *err) {
    if (h->total == 0) return nml_fail(err, NML_E_STATE, "no values were observed");
    switch (c) {
    case NML_CALIB_MINMAX:
        *lo = h->min;
        *hi = h->max;
        return NML_OK;
    case NML_CALIB_PERCENTILE: {
        if (!(percentile > 50.0 && percentile <= 100.0))
            return nml_fail(err, NML_E_ARG, "percentile must be in (50, 100]");
        const double p = percentile / 100.0;
        *lo = (float)clampd(quantile(h, 1.0 - p), h->min, h->max);
        *hi = (float)clampd(quantile(h, p), h->min, h->max);
        if (percentile == 100.0) {
            *lo = h->min;
            *hi = h->max;
        }
        return NML_OK;
    }
    case NML_CALIB_MSE:
        mse_range(h, lo, hi);
        return NML_OK;
    default:
        return nml_fail(err, NML_E_ARG, "unknown calibrator %d", (int)c);
    }
}
