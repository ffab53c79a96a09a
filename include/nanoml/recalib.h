/* Recalibrating the activation quantization of an int8 model with real data, weights unchanged.
 *
 *   1. nml_recalib_float_twin: the same graph in float32, every constant dequantized (so the
 *      float model computes with exactly the int8 weights), QUANTIZE/DEQUANTIZE as identities;
 *   2. nml_act_ranges_observe: run the twin on calibration inputs in the nanoml runtime and
 *      record every tensor's min/max (the twin keeps the int8 graph's tensor indices);
 *   3. nml_recalib_requantize: new scale and zero point for every int8 activation from its
 *      range, honouring TFLite's constraints (operators that pass their input's quantization
 *      through share one range; LOGISTIC/SOFTMAX/TANH outputs keep their fixed quantization),
 *      with biases re-expressed in the new input scales. Int8 weights and their scales are not
 *      touched.
 * nml_recalib_float_output turns an int8 graph output into float32 (DEQUANTIZE), so that the
 * parts of a final CONCATENATION (YOLOv8: boxes and class scores) keep separate scales.
 *
 * Host only. Works on the IR (include/nanoml/ir.h; nml_ir_from_tflite reads a .tflite into one). */
#ifndef NANOML_RECALIB_H
#define NANOML_RECALIB_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/ir.h"
#include "nanoml/runtime.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Builds the float32 twin of an int8/uint8 graph into f (initialized by the call). Tensor i of
 * q is tensor i of f; identity reshapes for QUANTIZE/DEQUANTIZE may add tensors at the end. */
nml_status nml_recalib_float_twin(const nml_ir *q, nml_ir *f, nml_error *err);

/* Makes graph output `output` float32: a CONCATENATION producing it is redone in float over
 * DEQUANTIZEd inputs (a QUANTIZE that only requantized an input for the concatenation is
 * bypassed), any other producer gets a DEQUANTIZE appended. Dead operators and unused tensors
 * are removed afterwards (tensor indices change). */
nml_status nml_recalib_float_output(nml_ir *q, int output, nml_error *err);

/* Per-tensor observed ranges, indexed like the graph's tensors: lo/hi are the extremes over all
 * observations (TFLite's calibration); the sums give the mean of each observation's min and max
 * (nml_act_ranges_use_mean), which one outlying image cannot stretch. */
typedef struct nml_act_ranges {
    int n;
    float *lo, *hi;
    uint8_t *seen;
    double *sum_lo, *sum_hi;
    uint32_t *count; /* observations per tensor */
} nml_act_ranges;

nml_status nml_act_ranges_init(nml_act_ranges *r, int n_tensors, nml_error *err);
void nml_act_ranges_free(nml_act_ranges *r);
/* One observation of tensor t (count values): widens its range and adds its min and max to the
 * sums. */
void nml_act_ranges_add(nml_act_ranges *r, int t, const float *v, size_t count);
/* Replaces lo/hi by the mean over observations of each observation's min and max. */
void nml_act_ranges_use_mean(nml_act_ranges *r);
/* Invokes the (float) interpreter once and records the range of its inputs and of every
 * float32 operator output. */
nml_status nml_act_ranges_observe(nml_act_ranges *r, nml_interpreter *it, nml_error *err);

typedef struct nml_recalib_options {
    /* Real range of graph input 0 (0..1 for pixels / 255 gives scale 1/255, zero point -128);
     * lo == hi: take it from the observed ranges like any activation. */
    float input_lo, input_hi;
} nml_recalib_options;

/* Statistics of one requantization, for reports. */
typedef struct nml_recalib_report {
    int activations; /* int8 activation tensors given new parameters */
    int groups;      /* of which sharing one range because of pass-through operators */
    int fixed;       /* tensors with fixed output quantization (LOGISTIC, SOFTMAX, TANH) */
    int unobserved;  /* activations without a range (kept as they were) */
    int biases;      /* bias tensors re-expressed */
} nml_recalib_report;

/* Requantizes every int8 activation of q from the ranges (indexed like q's tensors). report may
 * be NULL. */
nml_status nml_recalib_requantize(nml_ir *q, const nml_act_ranges *r,
                                  const nml_recalib_options *opt, nml_recalib_report *report,
                                  nml_error *err);

/* TFLite's affine int8 parameters for a real range (widened to include 0):
 *     scale = (hi - lo) / 255,  zero_point = round(-128 - lo / scale) clamped to [-128, 127]. */
void nml_recalib_int8_params(float lo, float hi, float *scale, int32_t *zero_point);

#ifdef __cplusplus
}
#endif
#endif
