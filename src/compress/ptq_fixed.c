/* Activation ranges given by the caller instead of (or on top of) calibration: how an int8
 * model gets the ranges quantization-aware training learned. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/ptq_internal.h"

static nml_status setup(const nml_ir *ir, ptq_calibration *c, nml_error *err) {
    c->t = calloc((size_t)ir->n_tensors + 1, sizeof *c->t);
    if (!c->t) return nml_fail(err, NML_E_NOMEM, "quantize: out of memory");
    c->n_tensors = ir->n_tensors;
    for (int i = 0; i < ir->n_tensors; i++)
        c->t[i].tracked = ptq_is_float_activation(&ir->tensors[i]);
    return NML_OK;
}

/* The tensors whose own range the full-integer rewrite reads: float graph inputs and the float
 * outputs of operators that choose their output range. */
static int needs_range(const nml_ir *ir, int t) {
    if (!ptq_is_float_activation(&ir->tensors[t])) return 0;
    for (int k = 0; k < ir->n_inputs; k++)
        if (ir->inputs[k] == t) return 1;
    const int p = nml_ir_producer(ir, t);
    const ptq_rule *r = p >= 0 ? ptq_rule_for(ir->ops[p].builtin) : NULL;
    return r && (r->kind == PTQ_WEIGHTS || r->kind == PTQ_FREE || r->kind == PTQ_SHARED);
}

nml_status ptq_apply_fixed_ranges(const nml_ir *ir, const nml_quant_options *o, ptq_calibration *c,
                                  int require_all, nml_error *err) {
    if (!c->t) NML_TRY(setup(ir, c, err));
    char a[32], b[32];
    for (int j = 0; j < o->n_fixed_ranges; j++) {
        const nml_quant_fixed_range *f = &o->fixed_ranges[j];
        const int t = f->name ? nml_ir_find_tensor(ir, f->name) : -1;
        if (t < 0)
            return nml_fail(err, NML_E_ARG,
                            "quantize: a range is given for '%s', which is not a "
                            "tensor of the model",
                            f->name ? f->name : "(null)");
        if (!c->t[t].tracked)
            return nml_fail(err, NML_E_ARG,
                            "quantize: a range is given for tensor %d (%s), "
                            "which is not a float activation",
                            t, f->name);
        if (!isfinite(f->lo) || !isfinite(f->hi) || f->lo > f->hi)
            return nml_fail(err, NML_E_ARG,
                            "quantize: tensor %d (%s): range [%s, %s] is not an "
                            "interval",
                            t, f->name, ptq_fmt_float(a, sizeof a, f->lo),
                            ptq_fmt_float(b, sizeof b, f->hi));
        free(c->t[t].hist); /* the given range replaces what calibration saw */
        c->t[t].hist = NULL;
        c->t[t].seen = 1;
        c->t[t].min = f->lo;
        c->t[t].max = f->hi;
    }
    if (!require_all) return NML_OK;
    for (int t = 0; t < ir->n_tensors; t++)
        if (needs_range(ir, t) && !c->t[t].seen)
            return nml_fail(err, NML_E_ARG,
                            "quantize: tensor %d (%s) has no range: give "
                            "calibration data or a range for it",
                            t, ir->tensors[t].name);
    return NML_OK;
}
