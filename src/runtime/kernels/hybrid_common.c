/* Per-batch input quantization of the hybrid kernels, following the semantics (not the code) of
 * TFLite's portable tensor utils: the symmetric form works in float, the asymmetric form
 * derives scale and zero point in double and quantizes in float. */
#include "hybrid_common.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* round-half-away-from-zero of v, clamped to [lo, hi]; NaN gives 0 */
static int8_t round_clamp(float v, float lo, float hi) {
    const float r = roundf(v);
    if (r != r) return 0;
    return (int8_t)(r < lo ? lo : (r > hi ? hi : r));
}

static void min_max(const float *x, uint32_t n, float *lo, float *hi) {
    float a = n ? x[0] : 0.0f, b = a;
    for (uint32_t i = 1; i < n; i++) {
        if (x[i] < a) a = x[i];
        if (x[i] > b) b = x[i];
    }
    *lo = a;
    *hi = b;
}

void nml_hybrid_quantize_symmetric(const float *x, uint32_t n, int8_t *q, float *scale) {
    float lo, hi;
    min_max(x, n, &lo, &hi);
    const float a = fabsf(lo), b = fabsf(hi);
    const float range = a < b ? b : a;
    if (range == 0.0f) {
        memset(q, 0, n);
        *scale = 1.0f;
        return;
    }
    *scale = range / 127.0f;
    const float inv = 127.0f / range;
    for (uint32_t i = 0; i < n; i++)
        q[i] = round_clamp(x[i] * inv, -127.0f, 127.0f);
}

void nml_hybrid_quantize_asymmetric(const float *x, uint32_t n, int8_t *q, float *scale,
                                    int32_t *offset) {
    float lo, hi;
    min_max(x, n, &lo, &hi);
    const double rmin = fmin(0.0, (double)lo), rmax = fmax(0.0, (double)hi);
    if (rmin == rmax) {
        memset(q, 0, n);
        *scale = 1.0f;
        *offset = 0;
        return;
    }
    const double s = (rmax - rmin) / 255.0;
    /* the zero point comes from whichever end of the range loses less precision */
    const double from_min = -128.0 - rmin / s, from_max = 127.0 - rmax / s;
    const double err_min = 128.0 + fabs(rmin / s), err_max = 127.0 + fabs(rmax / s);
    const double zp = err_min < err_max ? from_min : from_max;
    int32_t nudged;
    if (zp <= -128.0)
        nudged = -128;
    else if (zp >= 127.0)
        nudged = 127;
    else
        nudged = (int32_t)round(zp);
    *scale = (float)s;
    *offset = nudged;
    const float inv = (float)(1.0 / (double)*scale);
    for (uint32_t i = 0; i < n; i++)
        q[i] = round_clamp((float)nudged + x[i] * inv, -128.0f, 127.0f);
}

nml_status nml_hybrid_weight_scales(nml_ctx *ctx, const nml_node *node, const nml_tensor *filter,
                                    int32_t channels, int32_t q_dim, float **scales) {
    if (filter->n_q == 0)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                               "int8 weights of a float operator need quantization scales");
    const int per_channel = filter->n_q > 1;
    if (per_channel && (filter->q_dim != q_dim || (int64_t)filter->n_q != channels))
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "weights have %u scales along dimension %d; expected %d along "
                               "dimension %d",
                               (unsigned)filter->n_q, (int)filter->q_dim, (int)channels,
                               (int)q_dim);
    float *s = nml_ctx_alloc_persistent(ctx, (size_t)channels * sizeof *s);
    if (!s)
        return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for %d weight scales",
                               (int)channels);
    for (int32_t c = 0; c < channels; c++) {
        const uint32_t qc = per_channel ? (uint32_t)c : 0u;
        s[c] = nml_tensor_channel_scale(filter, qc);
        if (!(s[c] > 0.0f && s[c] <= FLT_MAX))
            return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                                   "weight scale of channel %d is not a positive finite number",
                                   (int)c);
        if (nml_tensor_channel_zero_point(filter, qc) != 0)
            return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                                   "weight zero point %d on channel %d: hybrid weights must be "
                                   "symmetric",
                                   (int)nml_tensor_channel_zero_point(filter, qc), (int)c);
    }
    *scales = s;
    return NML_OK;
}
