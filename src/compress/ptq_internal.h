/* Shared by the post-training quantization files in src/compress (not public API). */
#ifndef NML_COMPRESS_PTQ_INTERNAL_H
#define NML_COMPRESS_PTQ_INTERNAL_H

#include "nanoml/quantize.h"

/* What calibration observed for one tensor of the float model. */
typedef struct ptq_observed {
    int tracked;         /* a float32 activation whose range is needed */
    int seen;            /* at least one value observed */
    float min, max;      /* extremes */
    nml_histogram *hist; /* percentile / MSE calibrators only */
} ptq_observed;

typedef struct ptq_calibration {
    int n_tensors;
    ptq_observed *t;
    uint32_t samples;
} ptq_calibration;

/* 1 for a float32 tensor without constant data that is not a variable. */
int ptq_is_float_activation(const nml_ir_tensor *t);

/* Refuses models that are not float (see quantize.h) and, for the full-integer modes,
 * operators without a quantization rule. */
nml_status ptq_check_float_model(const nml_ir *ir, nml_quant_mode mode, nml_error *err);

/* Runs the float model on every calibration sample in nanoml's runtime and records the ranges
 * (and histograms) of all float activations. */
nml_status ptq_calibrate(const nml_ir *ir, nml_calib_source *src, const nml_quant_options *o,
                         ptq_calibration *c, nml_error *err);
void ptq_calibration_free(ptq_calibration *c);

/* Puts the options' fixed ranges into c (set up here when empty). With require_all, every
 * range the rewrite needs must be among them. Unknown tensor names are errors. */
nml_status ptq_apply_fixed_ranges(const nml_ir *ir, const nml_quant_options *o,
                                  ptq_calibration *c, int require_all, nml_error *err);

/* The graph rewrites. They edit ir in place and count into the report. */
nml_status ptq_full_integer(nml_ir *ir, const ptq_calibration *c, const nml_quant_options *o,
                            nml_quant_report *r, nml_error *err);
nml_status ptq_dynamic_range(nml_ir *ir, const nml_quant_options *o, nml_quant_report *r,
                             nml_error *err);
nml_status ptq_float16(nml_ir *ir, const nml_quant_options *o, nml_quant_report *r, nml_error *err);

/* Rules of the full-integer rewrite, also used by the model check. */
typedef enum ptq_rule_kind {
    PTQ_WEIGHTS, /* conv / matrix product: own output range, int8/int4 weights, int32 bias */
    PTQ_FREE,    /* own output range */
    PTQ_FIXED,   /* output quantization fixed by the kernel */
    PTQ_SAME,    /* outputs share the data input's quantization */
    PTQ_SHARED   /* all data inputs and the output share one quantization */
} ptq_rule_kind;

typedef struct ptq_rule {
    int32_t builtin;
    ptq_rule_kind kind;
    uint32_t data_inputs; /* bit k: input k carries values (quantized like activations) */
    int32_t weight_axis;  /* PTQ_WEIGHTS: per-channel dimension of input 1 */
    float fixed_scale;
    int32_t fixed_zero_point;
} ptq_rule;

const ptq_rule *ptq_rule_for(int32_t builtin);

/* "%g" into buf, for messages (nml_fail formats no floating point). */
const char *ptq_fmt_float(char *buf, size_t cap, double v);

#endif
