/* Calibration: the float model runs in nanoml's own runtime (one execution engine) on every
 * sample; after each operator the interpreter's hook reads that operator's float outputs, which
 * are valid exactly then because the planner reuses their memory later. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress/ptq_internal.h"
#include "nanoml/runtime_host.h"

typedef struct hook_ctx {
    const nml_ir *ir;
    nml_interpreter *it;
    ptq_calibration *c;
    int bad_tensor; /* first tensor with a NaN or infinity, -1 if none */
} hook_ctx;

void ptq_calibration_free(ptq_calibration *c) {
    if (!c->t) return;
    for (int i = 0; i < c->n_tensors; i++)
        free(c->t[i].hist);
    free(c->t);
    memset(c, 0, sizeof *c);
}

static int observe(ptq_observed *o, const float *x, size_t n) {
    if (o->hist) {
        if (!nml_hist_add(o->hist, x, n)) return 0;
    } else {
        for (size_t i = 0; i < n; i++)
            if (!isfinite(x[i])) return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!o->seen || x[i] < o->min) o->min = x[i];
        if (!o->seen || x[i] > o->max) o->max = x[i];
        o->seen = 1;
    }
    return 1;
}

static void on_node_done(void *user, uint32_t node) {
    hook_ctx *h = user;
    const nml_ir_op *op = &h->ir->ops[node];
    for (int k = 0; k < op->n_outputs; k++) {
        const int32_t t = op->outputs[k];
        ptq_observed *o = &h->c->t[t];
        if (!o->tracked) continue;
        const nml_tensor *rt = &h->it->tensors[t];
        if (!observe(o, rt->data, nml_tensor_count(rt)) && h->bad_tensor < 0) h->bad_tensor = t;
    }
}

static nml_status setup(const nml_ir *ir, const nml_quant_options *o, ptq_calibration *c,
                        nml_error *err) {
    memset(c, 0, sizeof *c);
    c->t = calloc((size_t)ir->n_tensors + 1, sizeof *c->t);
    if (!c->t) return nml_fail(err, NML_E_NOMEM, "calibration: out of memory");
    c->n_tensors = ir->n_tensors;
    for (int i = 0; i < ir->n_tensors; i++) {
        if (!ptq_is_float_activation(&ir->tensors[i])) continue;
        c->t[i].tracked = 1;
        if (o->calibrator == NML_CALIB_MINMAX) continue;
        c->t[i].hist = malloc(sizeof *c->t[i].hist);
        if (!c->t[i].hist) return nml_fail(err, NML_E_NOMEM, "calibration: out of memory");
        nml_hist_init(c->t[i].hist);
    }
    return NML_OK;
}

static void format_dims(char *buf, size_t cap, int rank, const int32_t *dims) {
    size_t n = 0;
    buf[0] = '\0';
    if (rank == 0) snprintf(buf, cap, "scalar");
    for (int i = 0; i < rank && n + 1 < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, i ? "x%d" : "%d", (int)dims[i]);
}

/* Same memory layout: equal once dimensions of size 1 are dropped. */
static int same_layout(int ra, const int32_t *a, int rb, const int32_t *b) {
    int i = 0, j = 0;
    for (;;) {
        while (i < ra && a[i] == 1)
            i++;
        while (j < rb && b[j] == 1)
            j++;
        if (i == ra || j == rb) return i == ra && j == rb;
        if (a[i++] != b[j++]) return 0;
    }
}

/* Checks one source tensor against model input k and copies it into the interpreter. */
static nml_status load_input(const nml_ir *ir, nml_interpreter *it, int k,
                             const nml_calib_tensor *s, nml_error *err) {
    nml_tensor *in = nml_input(it, (uint32_t)k);
    const nml_ir_tensor *want = &ir->tensors[ir->inputs[k]];
    char got[96], need[96];
    const int f64 = s->type == NML_FLOAT64 && want->type == NML_FLOAT32;
    if (s->type != want->type && !f64)
        return nml_fail(err, NML_E_ARG, "input %d (%s): the data is %s, the model input is %s", k,
                        want->name, nml_dtype_name(s->type), nml_dtype_name(want->type));
    if (!same_layout(s->rank, s->dims, want->rank, want->dims)) {
        format_dims(got, sizeof got, s->rank, s->dims);
        format_dims(need, sizeof need, want->rank, want->dims);
        return nml_fail(err, NML_E_SHAPE,
                        "input %d (%s): the data has shape %s, the model input is %s", k,
                        want->name, got, need);
    }
    const size_t n = nml_tensor_count(in);
    const size_t elem = nml_dtype_size(s->type);
    if (!s->data || s->bytes != n * elem)
        return nml_fail(err, NML_E_ARG, "input %d (%s): %zu data bytes for %zu %s values", k,
                        want->name, s->bytes, n, nml_dtype_name(s->type));
    if (f64) {
        float *dst = in->data;
        for (size_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, (const uint8_t *)s->data + 8 * i, 8);
            dst[i] = (float)v;
        }
    } else {
        memcpy(in->data, s->data, s->bytes);
    }
    return NML_OK;
}

static nml_status run_sample(const nml_ir *ir, hook_ctx *h, const nml_calib_tensor *inputs, int n,
                             nml_error *err) {
    if (n != ir->n_inputs)
        return nml_fail(err, NML_E_ARG, "%d input tensors for a model with %d inputs", n,
                        ir->n_inputs);
    for (int k = 0; k < n; k++) {
        NML_TRY(load_input(ir, h->it, k, &inputs[k], err));
        ptq_observed *o = &h->c->t[ir->inputs[k]];
        const nml_tensor *t = nml_input(h->it, (uint32_t)k);
        if (o->tracked && !observe(o, t->data, nml_tensor_count(t)))
            return nml_fail(err, NML_E_ARG, "input %d (%s) holds NaN or infinity", k,
                            ir->tensors[ir->inputs[k]].name);
    }
    if (nml_invoke(h->it, err) != NML_OK) return nml_error_prefix(err, "float model: ");
    if (h->bad_tensor >= 0)
        return nml_fail(err, NML_E_ARG,
                        "the float model computed NaN or infinity in tensor %d (%s)", h->bad_tensor,
                        ir->tensors[h->bad_tensor].name);
    return NML_OK;
}

static nml_status calibrate_loop(const nml_ir *ir, nml_calib_source *src,
                                 const nml_quant_options *o, hook_ctx *h, nml_error *err) {
    const int64_t available = src->count ? src->count(src->user) : -1;
    uint64_t total = available > 0 ? (uint64_t)available : 0;
    if (o->max_samples && (total == 0 || total > o->max_samples)) total = o->max_samples;
    nml_calib_tensor inputs[NML_MAX_OP_INPUTS];
    const char *name = src->name ? src->name : "calibration source";
    for (;;) {
        if (o->max_samples && h->c->samples >= o->max_samples) break;
        int n = 0;
        memset(inputs, 0, sizeof inputs);
        if (src->next(src->user, inputs, NML_MAX_OP_INPUTS, &n, err) != NML_OK)
            return nml_error_prefix(err, "calibration: ");
        if (n == 0) break;
        if (run_sample(ir, h, inputs, n, err) != NML_OK) {
            const char *origin = inputs[0].origin;
            if (origin)
                return nml_error_prefix(err, "calibration sample %u (%s) from %s: ",
                                        (unsigned)h->c->samples, origin, name);
            return nml_error_prefix(err, "calibration sample %u from %s: ", (unsigned)h->c->samples,
                                    name);
        }
        h->c->samples++;
        if (o->progress) o->progress(o->progress_user, h->c->samples, total, "calibrating");
    }
    if (h->c->samples == 0)
        return nml_fail(err, NML_E_ARG, "calibration: %s gave no samples", name);
    return NML_OK;
}

nml_status ptq_calibrate(const nml_ir *ir, nml_calib_source *src, const nml_quant_options *o,
                         ptq_calibration *c, nml_error *err) {
    if (!src || !src->next)
        return nml_fail(err, NML_E_ARG,
                        "full-integer quantization needs calibration data (real input samples)");
    nml_status st = setup(ir, o, c, err);
    uint8_t *bytes = NULL, *arena = NULL;
    size_t size = 0;
    nml_model model;
    nml_interpreter it;
    if (st == NML_OK) st = nml_ir_to_tflite(ir, &bytes, &size, err);
    if (st == NML_OK) st = nml_model_load(&model, bytes, size, err);
    if (st == NML_OK) {
        memset(&it, 0, sizeof it);
        st = nml_interpreter_init_alloc(&it, &model, nml_ops_all(), &arena, err);
        if (st != NML_OK) nml_error_prefix(err, "the float model does not run in nanoml: ");
    }
    if (st == NML_OK) {
        hook_ctx h = {ir, &it, c, -1};
        it.on_node_done = on_node_done;
        it.hook_user = &h;
        st = calibrate_loop(ir, src, o, &h, err);
    }
    free(arena);
    free(bytes);
    if (st != NML_OK) ptq_calibration_free(c);
    return st;
}
