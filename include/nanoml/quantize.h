/* Post-training quantization of a float32 IR, following the TFLite converter's conventions so
 * that TFLite (Micro) kernels and nanoml's runtime accept the result:
 *
 *   NML_QUANT_INT8     full integer: int8 weights (symmetric, per channel: CONV_2D and
 *                      FULLY_CONNECTED along dimension 0, DEPTHWISE_CONV_2D along 3; scale
 *                      max|w| / 127), int32 bias (scale input_scale * weight_scale, zero point
 *                      0), int8 activations (per tensor, asymmetric, from ranges observed on
 *                      calibration data, always containing 0, zero point nudged onto the int8
 *                      grid). LOGISTIC and SOFTMAX outputs get 1/256 and zero point -128, TANH
 *                      1/128 and 0; operators that only move values (pooling, RESHAPE,
 *                      TRANSPOSE, PAD, SLICE, ...) share their input's quantization;
 *                      CONCATENATION, MAXIMUM and MINIMUM share one quantization over all
 *                      inputs (an input is re-scaled with a QUANTIZE operator when it cannot
 *                      adopt it). Model inputs/outputs are int8, uint8 (QUANTIZE at the
 *                      boundary) or stay float32 (QUANTIZE/DEQUANTIZE operators inserted).
 *   NML_QUANT_INT4     as INT8 but CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED weights are
 *                      INT4 (two per byte, scale max|w| / 7, values in [-7, 7]).
 *   NML_QUANT_DYNAMIC  dynamic range: only the weights of CONV_2D, DEPTHWISE_CONV_2D and
 *                      FULLY_CONNECTED become int8 (per channel); activations and bias stay
 *                      float32 and the runtime's hybrid kernels quantize inputs on the fly. No
 *                      calibration data needed.
 *   NML_QUANT_FLOAT16  every float32 constant is stored as float16 (saturated to +-65504,
 *                      rounded to nearest even) and expanded by a DEQUANTIZE operator at the
 *                      start of the graph; compute stays float32. No calibration data needed.
 *
 * The input must be a float model: tensors already quantized (int8, uint8, int16, int4, float16,
 * or with quantization parameters) or QUANTIZE/DEQUANTIZE operators are refused, as are
 * operators without a quantization rule (the message names them). Every result is checked by
 * loading it into nanoml's runtime. Host only. */
#ifndef NANOML_QUANTIZE_H
#define NANOML_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/calib.h"
#include "nanoml/ir.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_quant_mode {
    NML_QUANT_INT8 = 0,
    NML_QUANT_DYNAMIC,
    NML_QUANT_FLOAT16,
    NML_QUANT_INT4
} nml_quant_mode;

/* How a calibrated tensor's value distribution becomes its clipping range [lo, hi]. */
typedef enum nml_calibrator {
    NML_CALIB_MINMAX = 0, /* the extremes seen */
    NML_CALIB_PERCENTILE, /* lo = the (100 - P)th, hi = the Pth percentile (histogram) */
    NML_CALIB_MSE         /* the range whose int8 quantization has the least squared error over
                             the histogram, searched from the extremes inwards */
} nml_calibrator;

/* Type of the quantized model's float32 inputs and outputs (full-integer modes). */
typedef enum nml_quant_io {
    NML_QIO_FLOAT = 0, /* keep float32; QUANTIZE after inputs, DEQUANTIZE before outputs */
    NML_QIO_INT8,
    NML_QIO_UINT8 /* uint8 with zero point + 128, converted by QUANTIZE operators */
} nml_quant_io;

/* An activation range decided elsewhere (quantization-aware training learns them). */
typedef struct nml_quant_fixed_range {
    const char *name; /* the float model's tensor */
    float lo, hi;
} nml_quant_fixed_range;

/* Progress of long work: done of total steps (total 0 when unknown). */
typedef void (*nml_progress_fn)(void *user, uint64_t done, uint64_t total, const char *what);

typedef struct nml_quant_options {
    nml_quant_mode mode;
    nml_calibrator calibrator;
    double percentile;     /* NML_CALIB_PERCENTILE, in percent: 99.99 */
    nml_quant_io io;       /* INT8 / INT4 modes */
    int per_channel;       /* 1: per-channel weights (default); 0: one scale per tensor */
    uint32_t max_samples;  /* calibration samples to use at most; 0: all the source has */
    uint64_t min_elements; /* DYNAMIC / FLOAT16: constants with fewer elements stay float32
                              (TFLite's converter uses 1024 for dynamic range; default 0) */
    nml_progress_fn progress;
    void *progress_user;
    /* INT8 / INT4: tensors named here take [lo, hi] instead of a calibrated range (borrowed).
     * When they cover every activation whose range the rules need (the inputs and the outputs
     * of operators with an own output range), no calibration source is needed. */
    const nml_quant_fixed_range *fixed_ranges;
    int n_fixed_ranges;
} nml_quant_options;

/* INT8, min/max, percentile 99.99, float I/O, per channel, all samples, min_elements 0. */
void nml_quant_options_default(nml_quant_options *o);

/* One quantized activation of the result. */
typedef struct nml_quant_range {
    char *name;     /* owned: the tensor's name in the quantized model */
    float min, max; /* extremes observed during calibration */
    float lo, hi;   /* range the calibrator chose (before 0 is included) */
    float scale;    /* final quantization (after operator rules) */
    int32_t zero_point;
} nml_quant_range;

typedef struct nml_quant_report {
    uint32_t samples;          /* calibration samples run */
    int weights_quantized;     /* constant tensors converted */
    int requantize_ops;        /* QUANTIZE operators inserted to share a scale */
    size_t const_bytes_before; /* constant data of the float model */
    size_t const_bytes_after;  /* constant data of the quantized model */
    nml_quant_range *ranges;   /* owned, n_ranges entries (full-integer modes) */
    int n_ranges;
} nml_quant_report;

void nml_quant_report_free(nml_quant_report *r);

/* Quantizes a float IR into *out (initialized by the call; left empty on failure). calib is
 * needed for the INT8 and INT4 modes unless fixed ranges cover them (it is read, not closed);
 * report may be NULL. */
nml_status nml_quantize(const nml_ir *in, nml_ir *out, const nml_quant_options *opts,
                        nml_calib_source *calib, nml_quant_report *report, nml_error *err);

/* ---- the arithmetic, for tests and other passes ---- */

/* Quantization of a real range onto [qmin, qmax] the TFLite converter's way
 * (GetAsymmetricQuantizationParams): the range is widened to contain 0, scale = (hi - lo) /
 * (qmax - qmin) in float, zero point = round(qmin - lo / scale) clamped to [qmin, qmax]. An
 * empty range {0} gets scale 1 (TFLite would write 0, which no kernel accepts). */
void nml_quant_params(float lo, float hi, int32_t qmin, int32_t qmax, float *scale,
                      int32_t *zero_point);

/* Symmetric weight scales: one per index of dimension `axis` of a tensor of the given shape
 * (axis -1: one for the whole tensor), scale = max|w| / qmax (qmax 127 for int8, 7 for int4);
 * an all-zero channel gets scale 1. */
nml_status nml_weight_scales(const float *w, int rank, const int32_t *dims, int axis, int qmax,
                             float *scales, nml_error *err);
/* q = round(w * (qmax / max|w|)) per channel as TFLite computes it (the reciprocal in float),
 * clamped to [-qmax, qmax], with the scales from nml_weight_scales (possibly enlarged). */
nml_status nml_quantize_weights(const float *w, int rank, const int32_t *dims, int axis, int qmax,
                                const float *scales, int8_t *q, nml_error *err);
/* Bias of a convolution or matrix product: scales[c] = input_scale * weight_scales[c] (in
 * float; n_weight_scales is 1 or n), q = round(b * (1 / scale)), clamped to +-INT32_MAX. */
void nml_quantize_bias(const float *b, size_t n, float input_scale, const float *weight_scales,
                       size_t n_weight_scales, int32_t *q, float *scales);
/* TFLite's guard against int32 bias overflow (AdjustWeightsForBiasScale): where
 * |b| >= 0.5 * input_scale * weight_scale * INT32_MAX the weight scale grows to
 * 2 |b| / (INT32_MAX * input_scale). Returns the number of scales changed. */
int nml_adjust_weight_scales_for_bias(const float *b, size_t n, float input_scale,
                                      float *weight_scales, size_t n_weight_scales);

/* INT4 storage: element 2k in the low nibble of byte k, 2k + 1 in the high nibble (TFLite). */
void nml_int4_pack(const int8_t *values, size_t n, uint8_t *packed);

/* IEEE 754 binary16 conversion: round to nearest even, subnormals kept, overflow to infinity,
 * NaN stays NaN (quiet, sign and top payload bits kept). */
uint16_t nml_f32_to_f16(float f);
float nml_f16_to_f32(uint16_t h);

/* ---- histograms and calibrators ---- */

#define NML_HIST_BINS 4096

/* Counts of values in NML_HIST_BINS equal bins over [-limit, limit). The limit starts at the
 * first non-zero magnitude seen and doubles (merging bin pairs exactly) whenever a larger value
 * arrives, so no value is ever clipped and no second pass over the data is needed. */
typedef struct nml_histogram {
    double limit;           /* 0 until a non-zero value arrived */
    float min, max;         /* exact extremes */
    uint64_t total;         /* values counted */
    uint64_t zeros_pending; /* zeros seen while limit was 0 */
    uint64_t bins[NML_HIST_BINS];
} nml_histogram;

void nml_hist_init(nml_histogram *h);
/* Adds finite values; returns 0 (and adds nothing) when x holds NaN or infinity. */
int nml_hist_add(nml_histogram *h, const float *x, size_t n);
/* Lower edge of bin i and the bin width. */
double nml_hist_edge(const nml_histogram *h, int i);
double nml_hist_width(const nml_histogram *h);
/* The clipping range [lo, hi] a calibrator picks for int8 ([-128, 127]) quantization. */
nml_status nml_hist_range(const nml_histogram *h, nml_calibrator c, double percentile, float *lo,
                          float *hi, nml_error *err);
/* Expected squared error of quantizing the histogram's values with the given int8
 * parameters: inside the representable range the rounding error of a uniform value (scale^2 /
 * 12); outside, the distance to the nearest representable bound, integrated over each bin
 * assuming values spread uniformly within it. */
double nml_hist_quant_error(const nml_histogram *h, float scale, int32_t zero_point);

#ifdef __cplusplus
}
#endif
#endif
