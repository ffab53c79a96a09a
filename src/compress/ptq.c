/* nml_quantize: checks, calibration, the chosen rewrite, and a final check that nanoml's
 * runtime accepts the result. */
#include <stdlib.h>
#include <string.h>

#include "compress/ptq_internal.h"
#include "nanoml/runtime_host.h"

static size_t const_bytes(const nml_ir *ir) {
    size_t n = 0;
    for (int t = 0; t < ir->n_tensors; t++)
        n += ir->tensors[t].data ? ir->tensors[t].data_bytes : 0;
    return n;
}

static nml_status check_options(const nml_quant_options *o, nml_error *err) {
    if (o->mode < NML_QUANT_INT8 || o->mode > NML_QUANT_INT4)
        return nml_fail(err, NML_E_ARG, "unknown quantization mode %d", (int)o->mode);
    if (o->calibrator < NML_CALIB_MINMAX || o->calibrator > NML_CALIB_MSE)
        return nml_fail(err, NML_E_ARG, "unknown calibrator %d", (int)o->calibrator);
    if (o->calibrator == NML_CALIB_PERCENTILE && !(o->percentile > 50.0 && o->percentile <= 100.0))
        return nml_fail(err, NML_E_ARG, "percentile must be in (50, 100]");
    if (o->io < NML_QIO_FLOAT || o->io > NML_QIO_UINT8)
        return nml_fail(err, NML_E_ARG, "unknown input/output type %d", (int)o->io);
    return NML_OK;
}

/* The result must load and plan in the runtime with every kernel: that is what "valid" means. */
static nml_status check_runs(const nml_ir *ir, nml_error *err) {
    uint8_t *bytes = NULL, *arena = NULL;
    size_t size;
    nml_model m;
    nml_interpreter it;
    nml_status st = nml_ir_to_tflite(ir, &bytes, &size, err);
    if (st == NML_OK) st = nml_model_load(&m, bytes, size, err);
    if (st == NML_OK) st = nml_interpreter_init_alloc(&it, &m, nml_ops_all(), &arena, err);
    free(arena);
    free(bytes);
    if (st != NML_OK) return nml_error_prefix(err, "the quantized model does not run: ");
    return NML_OK;
}

static nml_status rewrite(nml_ir *work, const nml_ir *in, const nml_quant_options *o,
                          nml_calib_source *calib, nml_quant_report *r, nml_error *err) {
    ptq_calibration cal;
    nml_status st;
    switch (o->mode) {
    case NML_QUANT_DYNAMIC:
        st = ptq_dynamic_range(work, o, r, err);
        break;
    case NML_QUANT_FLOAT16:
        st = ptq_float16(work, o, r, err);
        break;
    default:
        if (calib || o->n_fixed_ranges == 0)
            NML_TRY(ptq_calibrate(in, calib, o, &cal, err));
        else
            memset(&cal, 0, sizeof cal);
        st = ptq_apply_fixed_ranges(in, o, &cal, calib == NULL, err);
        r->samples = cal.samples;
        if (st == NML_OK) st = ptq_full_integer(work, &cal, o, r, err);
        ptq_calibration_free(&cal);
        break;
    }
    NML_TRY(st);
    NML_TRY(nml_ir_compact(work, err));
    if (nml_ir_validate(work, err) != NML_OK)
        return nml_error_prefix(err, "quantize: the result is malformed: ");
    return check_runs(work, err);
}

nml_status nml_quantize(const nml_ir *in, nml_ir *out, const nml_quant_options *opts,
                        nml_calib_source *calib, nml_quant_report *report, nml_error *err) {
    nml_quant_options defaults;
    nml_quant_report local;
    nml_quant_report *r = report ? report : &local;
    memset(r, 0, sizeof *r);
    nml_ir_init(out);
    if (!in) return nml_fail(err, NML_E_ARG, "quantize: no model");
    if (!opts) {
        nml_quant_options_default(&defaults);
        opts = &defaults;
    }
    NML_TRY(check_options(opts, err));
    if (nml_ir_validate(in, err) != NML_OK) return nml_error_prefix(err, "quantize: ");
    if (ptq_check_float_model(in, opts->mode, err) != NML_OK)
        return nml_error_prefix(err, "quantize: ");
    r->const_bytes_before = const_bytes(in);
    nml_ir work;
    NML_TRY(nml_ir_clone(&work, in, err));
    nml_status st = rewrite(&work, in, opts, calib, r, err);
    if (st != NML_OK) {
        nml_ir_free(&work);
        nml_quant_report_free(r);
        return st;
    }
    r->const_bytes_after = const_bytes(&work);
    *out = work;
    if (r == &local) nml_quant_report_free(&local);
    return NML_OK;
}
