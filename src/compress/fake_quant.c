/* Fake quantization: values rounded onto the int8 grid they get in the quantized model. */
#include <math.h>
#include <stdlib.h>

#include "compress/compress_internal.h"
#include "nanoml/qat.h"

void nml_fake_quant_sz(const float *x, size_t n, float s, int32_t z, float *y) {
    for (size_t i = 0; i < n; i++) {
        float q = roundf(x[i] / s) + (float)z; /* TFLite's QUANTIZE: round half away from 0 */
        q = q < -128.0f ? -128.0f : (q > 127.0f ? 127.0f : q);
        y[i] = (q - (float)z) * s;
    }
}

void nml_fake_quant_grad_sz(const float *x, const float *dy, size_t n, float s, int32_t z,
                            float *dx) {
    const float lo = (float)(-128 - z) * s, hi = (float)(127 - z) * s;
    for (size_t i = 0; i < n; i++)
        dx[i] = x[i] >= lo && x[i] <= hi ? dy[i] : 0.0f;
}

void nml_fake_quant(const float *x, size_t n, float lo, float hi, float *y) {
    float s;
    int32_t z;
    nml_quant_params(lo, hi, -128, 127, &s, &z);
    nml_fake_quant_sz(x, n, s, z, y);
}

void nml_fake_quant_grad(const float *x, const float *dy, size_t n, float lo, float hi, float *dx) {
    float s;
    int32_t z;
    nml_quant_params(lo, hi, -128, 127, &s, &z);
    nml_fake_quant_grad_sz(x, dy, n, s, z, dx);
}

nml_status nml_fake_quant_weights(const float *w, int rank, const int32_t *dims, int axis, int qmax,
                                  float *out, nml_error *err) {
    if (rank < 1 || rank > NML_MAX_RANK || axis < -1 || axis >= rank)
        return nml_fail(err, NML_E_ARG, "fake quantization axis %d of a rank-%d tensor", axis,
                        rank);
    size_t n = 1, inner = 1;
    for (int d = 0; d < rank; d++)
        n *= (size_t)dims[d];
    for (int d = axis + 1; axis >= 0 && d < rank; d++)
        inner *= (size_t)dims[d];
    const int32_t channels = axis >= 0 ? dims[axis] : 1;
    float *scales = malloc((size_t)channels * sizeof *scales);
    int8_t *q = malloc(n ? n : 1);
    nml_status st = scales && q ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    if (st == NML_OK) st = nml_weight_scales(w, rank, dims, axis, qmax, scales, err);
    if (st == NML_OK) st = nml_quantize_weights(w, rank, dims, axis, qmax, scales, q, err);
    for (size_t i = 0; st == NML_OK && i < n; i++)
        out[i] = (float)q[i] * scales[axis >= 0 ? (i / inner) % (size_t)channels : 0];
    free(scales);
    free(q);
    return st;
}
