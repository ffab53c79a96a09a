/* Quantization arithmetic of the TFLite converter (tensorflow/lite/tools/optimize/
 * quantization_utils.cc), reproduced from its documented behaviour: activation ranges to scale
 * and zero point, symmetric weights, int32 bias and the bias-overflow guard. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/quantize.h"

void nml_quant_options_default(nml_quant_options *o) {
    memset(o, 0, sizeof *o);
    o->mode = NML_QUANT_INT8;
    o->calibrator = NML_CALIB_MINMAX;
    o->percentile = 99.99;
    o->io = NML_QIO_FLOAT;
    o->per_channel = 1;
}

void nml_quant_report_free(nml_quant_report *r) {
    if (!r) return;
    for (int i = 0; i < r->n_ranges; i++)
        free(r->ranges[i].name);
    free(r->ranges);
    memset(r, 0, sizeof *r);
}

void nml_quant_params(float lo, float hi, int32_t qmin, int32_t qmax, float *scale,
                      int32_t *zero_point) {
    lo = lo < 0.0f ? lo : 0.0f;
    hi = hi > 0.0f ? hi : 0.0f;
    const float qmin_f = (float)qmin, qmax_f = (float)qmax;
    const float s = (hi - lo) / (qmax_f - qmin_f);
    if (!(s > 0.0f)) { /* the range is {0}: any scale represents it */
        *scale = 1.0f;
        *zero_point = qmin;
        return;
    }
    const float zp = qmin_f - lo / s;
    if (zp < qmin_f)
        *zero_point = qmin;
    else if (zp > qmax_f)
        *zero_point = qmax;
    else
        *zero_point = (int32_t)roundf(zp);
    *scale = s;
}

/* Channel count and the number of elements between consecutive channel indices. */
static nml_status channel_layout(int rank, const int32_t *dims, int axis, uint64_t *count,
                                 int32_t *channels, uint64_t *inner, nml_error *err) {
    if (rank < 0 || rank > NML_MAX_RANK)
        return nml_fail(err, NML_E_ARG, "weights of rank %d", rank);
    if (axis < -1 || axis >= rank)
        return nml_fail(err, NML_E_ARG, "quantization axis %d outside a rank %d tensor", axis,
                        rank);
    *count = 1;
    *inner = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) return nml_fail(err, NML_E_SHAPE, "dimension %d is negative", i);
        *count *= (uint64_t)dims[i];
        if (axis >= 0 && i > axis) *inner *= (uint64_t)dims[i];
    }
    *channels = axis >= 0 ? dims[axis] : 1;
    if (axis < 0) *inner = *count ? *count : 1;
    if (*channels < 1 && *count)
        return nml_fail(err, NML_E_SHAPE, "no channels along axis %d", axis);
    return NML_OK;
}

static float *channel_max_abs(const float *w, uint64_t count, int32_t channels, uint64_t inner,
                              uint64_t *bad) {
    float *m = calloc((size_t)(channels > 0 ? channels : 1), sizeof *m);
    *bad = UINT64_MAX;
    if (!m) return NULL;
    for (uint64_t i = 0; i < count; i++) {
        if (!isfinite(w[i])) {
            *bad = i;
            break;
        }
        const size_t c = (size_t)((i / inner) % (uint64_t)channels);
        const float a = fabsf(w[i]);
        if (a > m[c]) m[c] = a;
    }
    return m;
}

nml_status nml_weight_scales(const float *w, int rank, const int32_t *dims, int axis, int qmax,
                             float *scales, nml_error *err) {
    uint64_t count, inner, bad;
    int32_t channels;
    NML_TRY(channel_layout(rank, dims, axis, &count, &channels, &inner, err));
    float *m = channel_max_abs(w, count, channels, inner, &bad);
    if (!m) return nml_fail(err, NML_E_NOMEM, "out of memory for %d channels", (int)channels);
    if (bad != UINT64_MAX) {
        free(m);
        return nml_fail(err, NML_E_ARG, "weight element %llu is not finite",
                        (unsigned long long)bad);
    }
    for (int32_t c = 0; c < channels; c++)
        scales[c] = m[c] > 0.0f ? m[c] / (float)qmax : 1.0f;
    free(m);
    return NML_OK;
}

static int8_t round_clamp_sym(float v, int qmax) {
    float r = roundf(v);
    if (r != r) return 0;
    if (r > (float)qmax) r = (float)qmax;
    if (r < (float)-qmax) r = (float)-qmax;
    return (int8_t)r;
}

nml_status nml_quantize_weights(const float *w, int rank, const int32_t *dims, int axis, int qmax,
                                const float *scales, int8_t *q, nml_error *err) {
    uint64_t count, inner, bad;
    int32_t channels;
    NML_TRY(channel_layout(rank, dims, axis, &count, &channels, &inner, err));
    float *m = channel_max_abs(w, count, channels, inner, &bad);
    float *inv = malloc((size_t)(channels > 0 ? channels : 1) * sizeof *inv);
    if (!m || !inv) {
        free(m);
        free(inv);
        return nml_fail(err, NML_E_NOMEM, "out of memory for %d channels", (int)channels);
    }
    for (int32_t c = 0; c < channels; c++) {
        if (m[c] == 0.0f)
            inv[c] = 0.0f;
        else if (scales[c] == m[c] / (float)qmax)
            inv[c] = (float)qmax / m[c]; /* TFLite: half_scale / half_range */
        else
            inv[c] = 1.0f / scales[c]; /* a scale enlarged for the bias */
    }
    for (uint64_t i = 0; i < count; i++)
        q[i] = round_clamp_sym(w[i] * inv[(i / inner) % (uint64_t)channels], qmax);
    free(m);
    free(inv);
    if (bad != UINT64_MAX)
        return nml_fail(err, NML_E_ARG, "weight element %llu is not finite",
                        (unsigned long long)bad);
    return NML_OK;
}

void nml_quantize_bias(const float *b, size_t n, float input_scale, const float *weight_scales,
                       size_t n_weight_scales, int32_t *q, float *scales) {
    for (size_t i = 0; i < n; i++) {
        const float s = input_scale * weight_scales[n_weight_scales == 1 ? 0 : i];
        scales[i] = s;
        const float inv = s == 0.0f ? 0.0f : (float)(1.0 / (double)s);
        const float r = roundf(b[i] * inv);
        if (r != r)
            q[i] = 0;
        else if (r >= 2147483647.0f)
            q[i] = INT32_MAX;
        else if (r <= -2147483647.0f)
            q[i] = -INT32_MAX;
        else
            q[i] = (int32_t)r;
    }
}

int nml_adjust_weight_scales_for_bias(const float *b, size_t n, float input_scale,
                                      float *weight_scales, size_t n_weight_scales) {
    const double k = (double)INT32_MAX;
    int changed = 0;
    if (n_weight_scales > 1) {
        for (size_t i = 0; i < n && i < n_weight_scales; i++) {
            const double a = fabs((double)b[i]);
            if (a >= 0.5 * (double)input_scale * (double)weight_scales[i] * k) {
                weight_scales[i] = (float)(2.0 * a / (k * (double)input_scale));
                changed++;
            }
        }
        return changed;
    }
    double half = 0.0;
    for (size_t i = 0; i < n; i++)
        half = fabs((double)b[i]) > half ? fabs((double)b[i]) : half;
    if (n_weight_scales == 1 && half / k >= 0.5 * (double)input_scale * (double)weight_scales[0]) {
        weight_scales[0] = (float)(2.0 * half / (k * (double)input_scale));
        changed = 1;
    }
    return changed;
}

void nml_int4_pack(const int8_t *values, size_t n, uint8_t *packed) {
    memset(packed, 0, (n + 1) / 2);
    for (size_t i = 0; i < n; i++)
        packed[i / 2] |= (uint8_t)(((uint8_t)values[i] & 0x0fu) << ((i & 1u) ? 4 : 0));
}
