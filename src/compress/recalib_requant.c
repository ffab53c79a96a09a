/* New activation quantization from observed ranges (nml_recalib_requantize). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/recalib.h"

#define QMIN (-128)
#define QMAX 127

void nml_recalib_int8_params(float lo, float hi, float *scale, int32_t *zero_point) {
    if (!(lo < 0.f)) lo = 0.f; /* zero must be exactly representable (padding, ReLU) */
    if (!(hi > 0.f)) hi = 0.f;
    double s = ((double)hi - (double)lo) / (QMAX - QMIN);
    if (!(s > 0.0)) s = 1.0 / 255.0; /* an all-zero tensor: any scale represents it */
    double zp = round(QMIN - (double)lo / s);
    *scale = (float)s;
    *zero_point = zp < QMIN ? QMIN : zp > QMAX ? QMAX : (int32_t)zp;
}

/* ---- groups of tensors that must share quantization ---- */

static int find(int *parent, int t) {
    while (parent[t] != t) {
        parent[t] = parent[parent[t]];
        t = parent[t];
    }
    return t;
}

static void unite(int *parent, int a, int b) {
    a = find(parent, a);
    b = find(parent, b);
    if (a != b) parent[b] = a;
}

static int is_q8(const nml_ir_tensor *t) {
    return t->type == NML_INT8 && t->n_q == 1;
}

/* Operators whose int8 kernels copy or select values without rescaling: their data inputs and
 * outputs carry one quantization (TFLite's converter enforces the same). Returns the number of
 * leading data inputs to tie, or -1 for SPLIT (data is input 1), 0 for other operators. */
static int pass_through_inputs(int32_t builtin, int n_inputs) {
    switch (builtin) {
    case NML_OP_CONCATENATION:
    case NML_OP_MAXIMUM:
    case NML_OP_MINIMUM:
        return n_inputs;
    case NML_OP_PAD:
    case NML_OP_PADV2:
    case NML_OP_MIRROR_PAD:
    case NML_OP_RESHAPE:
    case NML_OP_TRANSPOSE:
    case NML_OP_STRIDED_SLICE:
    case NML_OP_SLICE:
    case NML_OP_SQUEEZE:
    case NML_OP_EXPAND_DIMS:
    case NML_OP_GATHER:
    case NML_OP_SPLIT_V:
    case NML_OP_MAX_POOL_2D:
    case NML_OP_AVERAGE_POOL_2D:
    case NML_OP_RESIZE_NEAREST_NEIGHBOR:
    case NML_OP_RESIZE_BILINEAR:
    case NML_OP_DEPTH_TO_SPACE:
    case NML_OP_SPACE_TO_DEPTH:
        return 1;
    case NML_OP_SPLIT:
        return -1;
    default:
        return 0;
    }
}

static void tie_op(const nml_ir *q, const nml_ir_op *op, int *parent) {
    int n = pass_through_inputs(op->builtin, op->n_inputs);
    if (n == 0) return;
    int first = n < 0 ? 1 : 0, last = n < 0 ? 2 : n;
    int32_t anchor = -1;
    for (int k = 0; k < op->n_outputs; k++) {
        if (op->outputs[k] < 0 || !is_q8(&q->tensors[op->outputs[k]])) continue;
        if (anchor < 0) anchor = op->outputs[k];
        unite(parent, anchor, op->outputs[k]);
    }
    for (int k = first; anchor >= 0 && k < last && k < op->n_inputs; k++)
        if (op->inputs[k] >= 0 && is_q8(&q->tensors[op->inputs[k]]))
            unite(parent, anchor, op->inputs[k]);
}

/* ---- fixed quantization ---- */

typedef struct qparams {
    float scale;
    int32_t zp;
    int set;
} qparams;

/* LOGISTIC, SOFTMAX and TANH int8 kernels produce a fixed output quantization. */
static int fixed_output(int32_t builtin, qparams *p) {
    if (builtin == NML_OP_LOGISTIC || builtin == NML_OP_SOFTMAX) {
        p->scale = 1.f / 256.f;
        p->zp = -128;
        return 1;
    }
    if (builtin == NML_OP_TANH) {
        p->scale = 1.f / 128.f;
        p->zp = 0;
        return 1;
    }
    return 0;
}

typedef struct group {
    qparams fixed;
    int32_t fixed_from; /* tensor that fixed it, for messages */
    float lo, hi;
    int seen, members;
} group;

static nml_status fix_group(const nml_ir *q, group *g, int32_t t, qparams p, nml_error *err) {
    if (g->fixed.set && (g->fixed.scale != p.scale || g->fixed.zp != p.zp))
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "tensors %d (%s) and %d (%s) must share quantization but have fixed, "
                        "different parameters",
                        (int)g->fixed_from, q->tensors[g->fixed_from].name, (int)t,
                        q->tensors[t].name);
    g->fixed = p;
    g->fixed.set = 1;
    g->fixed_from = t;
    return NML_OK;
}

static nml_status collect_fixed(const nml_ir *q, const int *parent, group *groups,
                                const nml_recalib_options *opt, nml_recalib_report *rep,
                                nml_error *err) {
    for (int i = 0; i < q->n_ops; i++) {
        qparams p;
        int32_t t = q->ops[i].outputs[0];
        if (q->ops[i].n_outputs < 1 || t < 0 || !is_q8(&q->tensors[t])) continue;
        if (!fixed_output(q->ops[i].builtin, &p)) continue;
        NML_TRY(fix_group(q, &groups[find((int *)parent, t)], t, p, err));
        rep->fixed++;
    }
    for (int t = 0; t < q->n_tensors; t++) { /* constants tied to activations keep their own */
        const nml_ir_tensor *x = &q->tensors[t];
        if (!x->data || !is_q8(x) || find((int *)parent, t) == t) continue;
        qparams p = {x->scales[0], x->zero_points ? (int32_t)x->zero_points[0] : 0, 1};
        NML_TRY(fix_group(q, &groups[find((int *)parent, t)], t, p, err));
    }
    if (opt && opt->input_hi > opt->input_lo && q->n_inputs > 0 &&
        is_q8(&q->tensors[q->inputs[0]])) {
        qparams p = {0.f, 0, 1};
        nml_recalib_int8_params(opt->input_lo, opt->input_hi, &p.scale, &p.zp);
        NML_TRY(fix_group(q, &groups[find((int *)parent, q->inputs[0])], q->inputs[0], p, err));
    }
    return NML_OK;
}

static void collect_ranges(const nml_ir *q, const int *parent, group *groups,
                           const nml_act_ranges *r) {
    for (int t = 0; t < q->n_tensors; t++) {
        const nml_ir_tensor *x = &q->tensors[t];
        if (x->data || !is_q8(x)) continue;
        group *g = &groups[find((int *)parent, t)];
        g->members++;
        if (t >= r->n || !r->seen[t]) continue;
        g->lo = g->seen ? fminf(g->lo, r->lo[t]) : r->lo[t];
        g->hi = g->seen ? fmaxf(g->hi, r->hi[t]) : r->hi[t];
        g->seen = 1;
    }
}

/* ---- biases ---- */

static int has_bias(int32_t builtin, int *data_in, int *bias_in) {
    switch (builtin) {
    case NML_OP_CONV_2D:
    case NML_OP_DEPTHWISE_CONV_2D:
    case NML_OP_FULLY_CONNECTED:
        *data_in = 0;
        *bias_in = 2;
        return 1;
    case NML_OP_TRANSPOSE_CONV:
        *data_in = 2;
        *bias_in = 3;
        return 1;
    default:
        return 0;
    }
}

/* Bias real value = q * old_scale_c; re-expressed as round(real / (new_in_scale * w_scale_c)). */
static nml_status rescale_bias(nml_ir *q, int op_index, int32_t b, int32_t w, float new_in,
                               nml_error *err) {
    nml_ir_tensor *bt = &q->tensors[b];
    const nml_ir_tensor *wt = &q->tensors[w];
    uint64_t n = nml_ir_tensor_count(bt);
    if (bt->type != NML_INT32 || !bt->data || bt->n_q == 0 || wt->n_q == 0 ||
        (wt->n_q > 1 && wt->n_q != n) || (bt->n_q > 1 && bt->n_q != n))
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "operator %d: bias %d (%s) is not an int32 tensor quantized like its "
                        "weights",
                        op_index, (int)b, bt->name);
    float *scales = malloc((size_t)n * sizeof *scales);
    int32_t *v = malloc((size_t)n * sizeof *v);
    nml_status st = scales && v ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    for (uint64_t c = 0; st == NML_OK && c < n; c++) {
        float old_s = bt->scales[bt->n_q > 1 ? c : 0];
        scales[c] = new_in * wt->scales[wt->n_q > 1 ? c : 0];
        int32_t old_q;
        memcpy(&old_q, bt->data + 4 * c, 4);
        double nq = round((double)old_q * (double)old_s / (double)scales[c]);
        if (!(fabs(nq) <= 2147483647.0))
            st = nml_fail(err, NML_E_LIMIT, "operator %d: bias %d channel %llu overflows int32",
                          op_index, (int)b, (unsigned long long)c);
        v[c] = (int32_t)nq;
    }
    if (st == NML_OK) {
        memcpy(bt->data, v, (size_t)n * 4);
        st = nml_ir_set_quant(q, (int)b, (uint32_t)n, scales, NULL, 0, err);
    }
    free(scales);
    free(v);
    return st;
}

static nml_status rescale_biases(nml_ir *q, nml_recalib_report *rep, nml_error *err) {
    uint8_t *done = calloc((size_t)q->n_tensors + 1, 1);
    float *done_in = calloc((size_t)q->n_tensors + 1, sizeof *done_in);
    if (!done || !done_in) {
        free(done);
        free(done_in);
        return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    nml_status st = NML_OK;
    for (int i = 0; st == NML_OK && i < q->n_ops; i++) {
        const nml_ir_op *op = &q->ops[i];
        int di, bi;
        if (!has_bias(op->builtin, &di, &bi) || op->n_inputs <= bi || op->inputs[bi] < 0) continue;
        int32_t in = op->inputs[di], w = op->inputs[1], b = op->inputs[bi];
        if (!is_q8(&q->tensors[in])) continue;
        float now = q->tensors[in].scales[0];
        if (done[b]) {
            if (done_in[b] != now)
                st = nml_fail(err, NML_E_UNSUPPORTED,
                              "bias %d is shared by operators with different input scales", b);
            continue;
        }
        st = rescale_bias(q, i, b, w, now, err);
        done[b] = 1;
        done_in[b] = now;
        rep->biases++;
    }
    free(done);
    free(done_in);
    return st;
}

/* ---- apply ---- */

static nml_status check_types(const nml_ir *q, nml_error *err) {
    for (int t = 0; t < q->n_tensors; t++) {
        const nml_ir_tensor *x = &q->tensors[t];
        if (x->data || x->n_q == 0) continue;
        if (x->type != NML_INT8 || x->n_q != 1)
            return nml_fail(err, NML_E_UNSUPPORTED,
                            "tensor %d (%s): only per-tensor int8 activations can be recalibrated "
                            "(this one is %s)",
                            t, x->name, nml_dtype_name(x->type));
    }
    return NML_OK;
}

static nml_status apply_groups(nml_ir *q, const int *parent, const group *groups,
                               nml_recalib_report *rep, nml_error *err) {
    for (int t = 0; t < q->n_tensors; t++) {
        nml_ir_tensor *x = &q->tensors[t];
        if (x->data || !is_q8(x)) continue;
        const group *g = &groups[find((int *)parent, t)];
        qparams p = g->fixed;
        if (!p.set && !g->seen) {
            rep->unobserved++;
            continue;
        }
        if (!p.set) nml_recalib_int8_params(g->lo, g->hi, &p.scale, &p.zp);
        int64_t zp = p.zp;
        NML_TRY(nml_ir_set_quant(q, t, 1, &p.scale, &zp, 0, err));
        rep->activations++;
    }
    for (int t = 0; t < q->n_tensors; t++)
        if (find((int *)parent, t) == t && groups[t].members > 1) rep->groups++;
    return NML_OK;
}

nml_status nml_recalib_requantize(nml_ir *q, const nml_act_ranges *r,
                                  const nml_recalib_options *opt, nml_recalib_report *report,
                                  nml_error *err) {
    nml_recalib_report local;
    nml_recalib_report *rep = report ? report : &local;
    memset(rep, 0, sizeof *rep);
    NML_TRY(check_types(q, err));
    int n = q->n_tensors;
    int *parent = malloc(((size_t)n + 1) * sizeof *parent);
    group *groups = calloc((size_t)n + 1, sizeof *groups);
    nml_status st = parent && groups ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    for (int t = 0; st == NML_OK && t < n; t++)
        parent[t] = t;
    for (int i = 0; st == NML_OK && i < q->n_ops; i++)
        tie_op(q, &q->ops[i], parent);
    if (st == NML_OK) st = collect_fixed(q, parent, groups, opt, rep, err);
    if (st == NML_OK) collect_ranges(q, parent, groups, r);
    if (st == NML_OK) st = apply_groups(q, parent, groups, rep, err);
    if (st == NML_OK) st = rescale_biases(q, rep, err);
    if (st == NML_OK) st = nml_ir_validate(q, err);
    free(parent);
    free(groups);
    return st;
}
