/* Full-integer quantization of a float IR (int8 activations; int8 or int4 weights; int32 bias).
 *
 * One pass over the operators in execution order decides every tensor's quantization from the
 * calibrated ranges and the operator rules (ptq_check.c), creating the quantized constants as it
 * goes; a second step converts graph inputs/outputs to the requested type and finally every
 * float32 activation with a decided quantization becomes int8. Tensors of other types (int32
 * shapes, indices) are left alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress/ptq_internal.h"

enum { Q_NONE = 0, Q_INT8 = 1, Q_UINT8 = 2 };

typedef struct qparam {
    float scale;
    int32_t zero_point;
    int kind; /* Q_NONE: not quantized (stays as it is) */
} qparam;

typedef struct const_entry {
    int original, quantized;
    qparam p;
} const_entry;

typedef struct pass {
    nml_ir *ir;
    const ptq_calibration *cal;
    const nml_quant_options *o;
    nml_quant_report *r;
    qparam *q; /* per tensor */
    int q_cap;
    float *lo, *hi; /* calibrated range per original tensor */
    int n_original;
    const_entry *consts;
    int n_consts, cap_consts;
    int weight_qmax; /* 127 (int8) or 7 (int4) */
} pass;

/* ---- bookkeeping ---- */

static nml_status ensure_q(pass *s, nml_error *err) {
    if (s->ir->n_tensors <= s->q_cap) return NML_OK;
    int cap = s->q_cap ? s->q_cap : 64;
    while (cap < s->ir->n_tensors)
        cap *= 2;
    qparam *q = realloc(s->q, (size_t)cap * sizeof *q);
    if (!q) return nml_fail(err, NML_E_NOMEM, "quantize: out of memory");
    memset(q + s->q_cap, 0, (size_t)(cap - s->q_cap) * sizeof *q);
    s->q = q;
    s->q_cap = cap;
    return NML_OK;
}

static qparam from_range(float lo, float hi) {
    qparam p;
    nml_quant_params(lo, hi, -128, 127, &p.scale, &p.zero_point);
    p.kind = Q_INT8;
    return p;
}

static int same_q(qparam a, qparam b) {
    return a.kind == b.kind && a.scale == b.scale && a.zero_point == b.zero_point;
}

static int is_float_const(const nml_ir_tensor *t) {
    return t->type == NML_FLOAT32 && t->data;
}

/* Range of a float tensor: calibrated for activations, the data's extremes for constants. */
static void range_of(const pass *s, int t, float *lo, float *hi) {
    const nml_ir_tensor *x = &s->ir->tensors[t];
    if (x->data) {
        const float *v = (const float *)(const void *)x->data;
        const uint64_t n = nml_ir_tensor_count(x);
        float a = 0.0f, b = 0.0f;
        for (uint64_t i = 0; i < n; i++) {
            a = v[i] < a ? v[i] : a;
            b = v[i] > b ? v[i] : b;
        }
        *lo = a;
        *hi = b;
        return;
    }
    *lo = t < s->n_original ? s->lo[t] : 0.0f;
    *hi = t < s->n_original ? s->hi[t] : 0.0f;
}

/* A copy of tensor t's shape as a new tensor (no data), returning its index. */
static nml_status add_like(pass *s, int t, const char *suffix, int type, const void *data,
                           size_t bytes, int *index, nml_error *err) {
    char name[512];
    snprintf(name, sizeof name, "%s%s", s->ir->tensors[t].name, suffix);
    int32_t dims[NML_MAX_RANK];
    const int rank = s->ir->tensors[t].rank;
    memcpy(dims, s->ir->tensors[t].dims, sizeof dims);
    NML_TRY(nml_ir_add_tensor(s->ir, name, type, rank, dims, data, bytes, index, err));
    return ensure_q(s, err);
}

/* ---- constants ---- */

/* The int8 version of float constant t under quantization p (shared between uses). */
static nml_status quantize_const(pass *s, int t, qparam p, int *out, nml_error *err) {
    for (int i = 0; i < s->n_consts; i++)
        if (s->consts[i].original == t && same_q(s->consts[i].p, p)) {
            *out = s->consts[i].quantized;
            return NML_OK;
        }
    const uint64_t n = nml_ir_tensor_count(&s->ir->tensors[t]);
    int8_t *q = malloc(n ? (size_t)n : 1);
    if (!q) return nml_fail(err, NML_E_NOMEM, "quantize: out of memory for tensor %d", t);
    const float *v = (const float *)(const void *)s->ir->tensors[t].data;
    for (uint64_t i = 0; i < n; i++) {
        const float r = roundf(v[i] / p.scale) + (float)p.zero_point;
        q[i] = (int8_t)(r < -128.0f ? -128.0f : (r > 127.0f ? 127.0f : r));
    }
    int used = 0;
    for (int i = 0; i < s->n_consts; i++)
        used += s->consts[i].original == t;
    char suffix[32] = "";
    if (used) snprintf(suffix, sizeof suffix, "_q%d", used);
    int index;
    nml_status st = add_like(s, t, suffix, NML_INT8, q, (size_t)n, &index, err);
    free(q);
    NML_TRY(st);
    const int64_t zp = p.zero_point;
    NML_TRY(nml_ir_set_quant(s->ir, index, 1, &p.scale, &zp, 0, err));
    s->q[index] = p;
    if (s->n_consts == s->cap_consts) {
        int cap = s->cap_consts ? s->cap_consts * 2 : 16;
        const_entry *c = realloc(s->consts, (size_t)cap * sizeof *c);
        if (!c) return nml_fail(err, NML_E_NOMEM, "quantize: out of memory");
        s->consts = c;
        s->cap_consts = cap;
    }
    s->consts[s->n_consts++] = (const_entry){t, index, p};
    s->r->weights_quantized++;
    *out = index;
    return NML_OK;
}

/* Points input k of operator i at the quantized version of its float constant. */
static nml_status use_const(pass *s, int i, int k, qparam p, nml_error *err) {
    int q = -1;
    NML_TRY(quantize_const(s, s->ir->ops[i].inputs[k], p, &q, err));
    s->ir->ops[i].inputs[k] = q;
    return NML_OK;
}

/* Own-range quantization of a float input (constant or not) that has none yet. */
static nml_status quantize_input(pass *s, int i, int k, nml_error *err) {
    const int t = s->ir->ops[i].inputs[k];
    if (t < 0 || s->ir->tensors[t].type != NML_FLOAT32) return NML_OK;
    if (is_float_const(&s->ir->tensors[t])) {
        float lo, hi;
        range_of(s, t, &lo, &hi);
        return use_const(s, i, k, from_range(lo, hi), err);
    }
    if (!s->q[t].kind) {
        float lo, hi;
        range_of(s, t, &lo, &hi);
        s->q[t] = from_range(lo, hi);
    }
    return NML_OK;
}

static nml_status set_output_from_range(pass *s, int i, nml_error *err) {
    (void)err;
    const nml_ir_op *op = &s->ir->ops[i];
    for (int k = 0; k < op->n_outputs; k++) {
        const int t = op->outputs[k];
        if (s->ir->tensors[t].type != NML_FLOAT32) continue;
        float lo, hi;
        range_of(s, t, &lo, &hi);
        s->q[t] = from_range(lo, hi);
    }
    return NML_OK;
}

/* ---- weights and bias ---- */

/* TFLite's int8 CONV_2D refuses to run without a bias and the converter always writes one, so a
 * missing bias becomes a zero bias (quantized with everything else). */
static nml_status add_zero_bias(pass *s, int i, nml_error *err) {
    nml_ir *ir = s->ir;
    const int32_t builtin = ir->ops[i].builtin;
    if (builtin == NML_OP_FULLY_CONNECTED) return NML_OK;
    if (ir->ops[i].n_inputs > 2 && ir->ops[i].inputs[2] >= 0) return NML_OK;
    const nml_ir_tensor *w = &ir->tensors[ir->ops[i].inputs[1]];
    const int32_t channels = builtin == NML_OP_DEPTHWISE_CONV_2D ? w->dims[3] : w->dims[0];
    float *zeros = calloc((size_t)channels + 1, sizeof *zeros);
    if (!zeros) return nml_fail(err, NML_E_NOMEM, "quantize: out of memory");
    char name[512];
    snprintf(name, sizeof name, "%s/bias", ir->tensors[ir->ops[i].outputs[0]].name);
    int b;
    nml_status st = nml_ir_add_tensor(ir, name, NML_FLOAT32, 1, &channels, zeros,
                                      (size_t)channels * sizeof *zeros, &b, err);
    free(zeros);
    NML_TRY(st);
    NML_TRY(ensure_q(s, err));
    ir->ops[i].inputs[2] = b;
    ir->ops[i].n_inputs = 3;
    return NML_OK;
}

static nml_status quantize_weights(pass *s, int i, const ptq_rule *rule, nml_error *err) {
    NML_TRY(add_zero_bias(s, i, err));
    nml_ir *ir = s->ir;
    const int w = ir->ops[i].inputs[1];
    const int b = ir->ops[i].n_inputs > 2 ? ir->ops[i].inputs[2] : -1;
    const int in = ir->ops[i].inputs[0];
    const float in_scale = s->q[in].scale;
    const int axis = s->o->per_channel ? rule->weight_axis : -1;
    const int channels = axis >= 0 ? ir->tensors[w].dims[axis] : 1;
    const uint64_t n = nml_ir_tensor_count(&ir->tensors[w]);
    float *scales = malloc((size_t)channels * sizeof *scales);
    int8_t *q = malloc(n ? (size_t)n : 1);
    uint8_t *packed = malloc((size_t)(n + 1) / 2 + 1);
    nml_status st = (!scales || !q || !packed)
                        ? nml_fail(err, NML_E_NOMEM, "quantize: out of memory for weights")
                        : NML_OK;
    const float *wv = (const float *)(const void *)ir->tensors[w].data;
    if (st == NML_OK)
        st = nml_weight_scales(wv, ir->tensors[w].rank, ir->tensors[w].dims, axis, s->weight_qmax,
                               scales, err);
    if (st == NML_OK && b >= 0) {
        const float *bv = (const float *)(const void *)ir->tensors[b].data;
        nml_adjust_weight_scales_for_bias(bv, (size_t)nml_ir_tensor_count(&ir->tensors[b]),
                                          in_scale, scales, (size_t)channels);
    }
    if (st == NML_OK)
        st = nml_quantize_weights(wv, ir->tensors[w].rank, ir->tensors[w].dims, axis,
                                  s->weight_qmax, scales, q, err);
    int wq = -1;
    if (st == NML_OK) {
        const int int4 = s->weight_qmax == 7;
        if (int4) nml_int4_pack(q, (size_t)n, packed);
        st = add_like(s, w, "", int4 ? NML_INT4 : NML_INT8, int4 ? (void *)packed : (void *)q,
                      int4 ? (size_t)(n + 1) / 2 : (size_t)n, &wq, err);
    }
    if (st == NML_OK)
        st = nml_ir_set_quant(ir, wq, (uint32_t)channels, scales, NULL, axis >= 0 ? axis : 0, err);
    if (st == NML_OK) {
        ir->ops[i].inputs[1] = wq;
        s->r->weights_quantized++;
    }
    free(q);
    free(packed);
    if (st != NML_OK || b < 0) {
        free(scales);
        if (st != NML_OK)
            nml_error_prefix(err, "operator %d (%s) weights: ", i, nml_op_name(ir->ops[i].builtin));
        return st;
    }
    /* bias: int32 with scale input_scale * weight_scale, one scale per channel */
    const uint64_t nb = nml_ir_tensor_count(&ir->tensors[b]);
    int32_t *bq = malloc((size_t)(nb ? nb : 1) * sizeof *bq);
    float *bs = malloc((size_t)(nb ? nb : 1) * sizeof *bs);
    int bi = -1;
    if (!bq || !bs) st = nml_fail(err, NML_E_NOMEM, "quantize: out of memory for the bias");
    if (st == NML_OK && channels > 1 && (uint64_t)channels != nb)
        st = nml_fail(err, NML_E_SHAPE, "operator %d (%s): bias has %llu values for %d channels", i,
                      nml_op_name(ir->ops[i].builtin), (unsigned long long)nb, channels);
    if (st == NML_OK) {
        nml_quantize_bias((const float *)(const void *)ir->tensors[b].data, (size_t)nb, in_scale,
                          scales, (size_t)channels, bq, bs);
        st = add_like(s, b, "", NML_INT32, bq, (size_t)nb * sizeof *bq, &bi, err);
    }
    if (st == NML_OK)
        st = nml_ir_set_quant(ir, bi, channels > 1 ? (uint32_t)nb : 1u, bs, NULL, 0, err);
    if (st == NML_OK) {
        ir->ops[i].inputs[2] = bi;
        s->r->weights_quantized++;
    }
    free(bq);
    free(bs);
    free(scales);
    return st;
}

/* ---- shared quantization (CONCATENATION, MAXIMUM, MINIMUM) ---- */

/* First float data input of a PTQ_SAME operator. */
static int same_data_input(const nml_ir *ir, const nml_ir_op *op, const ptq_rule *r) {
    for (int k = 0; k < op->n_inputs && k < 16; k++)
        if ((r->data_inputs & (1u << k)) && op->inputs[k] >= 0 && !ir->tensors[op->inputs[k]].data)
            return op->inputs[k];
    return -1;
}

/* Whether tensor t (read only by the shared operator) can simply take quantization p: its
 * producer chooses its own output range, possibly behind single-use value-moving operators.
 * On success every tensor along the chain gets p. */
#define ADOPT_DEPTH 16
static int adopt(pass *s, int t, qparam p) {
    const nml_ir *ir = s->ir;
    int chain[ADOPT_DEPTH], n = 0;
    for (int cur = t; n < ADOPT_DEPTH;) {
        if (nml_ir_count_uses(ir, cur) != 1 || nml_ir_is_graph_io(ir, cur) || ir->tensors[cur].data)
            return 0;
        chain[n++] = cur;
        const int producer = nml_ir_producer(ir, cur);
        if (producer < 0) return 0;
        const nml_ir_op *op = &ir->ops[producer];
        const ptq_rule *r = ptq_rule_for(op->builtin);
        if (!r) return 0;
        if (r->kind == PTQ_WEIGHTS || r->kind == PTQ_FREE) {
            for (int k = 0; k < n; k++)
                s->q[chain[k]] = p;
            return 1;
        }
        if (r->kind != PTQ_SAME || op->n_outputs != 1 || op->builtin == NML_OP_PADV2) return 0;
        cur = same_data_input(ir, op, r);
        if (cur < 0) return 0;
    }
    return 0;
}

/* Gives input k of operator *i quantization p through a QUANTIZE (requantize) operator placed
 * right before it; *i moves to the operator's new position. */
static nml_status requantize_input(pass *s, int *i, int k, qparam p, nml_error *err) {
    const int t = s->ir->ops[*i].inputs[k];
    int t2;
    NML_TRY(add_like(s, t, "_requantized", NML_FLOAT32, NULL, 0, &t2, err));
    s->q[t2] = p;
    const int32_t in = t, out = t2;
    NML_TRY(nml_ir_insert_op(s->ir, *i, NML_OP_QUANTIZE, NULL, 1, &in, 1, &out, NULL, err));
    (*i)++;
    s->ir->ops[*i].inputs[k] = t2;
    s->r->requantize_ops++;
    return NML_OK;
}

static nml_status shared(pass *s, int *i, const ptq_rule *r, nml_error *err) {
    nml_ir *ir = s->ir;
    float lo, hi;
    range_of(s, ir->ops[*i].outputs[0], &lo, &hi);
    for (int k = 0; k < ir->ops[*i].n_inputs && k < 16; k++) {
        const int t = ir->ops[*i].inputs[k];
        if (!(r->data_inputs & (1u << k)) || t < 0 || ir->tensors[t].type != NML_FLOAT32) continue;
        float a, b;
        range_of(s, t, &a, &b);
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
    }
    const qparam p = from_range(lo, hi);
    for (int k = 0; k < ir->ops[*i].n_inputs && k < 16; k++) {
        const int t = ir->ops[*i].inputs[k];
        if (!(r->data_inputs & (1u << k)) || t < 0 || ir->tensors[t].type != NML_FLOAT32) continue;
        if (ir->tensors[t].data) {
            NML_TRY(use_const(s, *i, k, p, err));
        } else if (!same_q(s->q[t], p) && !adopt(s, t, p)) {
            NML_TRY(requantize_input(s, i, k, p, err));
        }
    }
    for (int k = 0; k < ir->ops[*i].n_outputs; k++)
        s->q[ir->ops[*i].outputs[k]] = p;
    return NML_OK;
}

/* ---- one operator ---- */

static nml_status same_as_input(pass *s, int i, const ptq_rule *r, nml_error *err) {
    nml_ir *ir = s->ir;
    int data = -1;
    for (int k = 0; k < ir->ops[i].n_inputs && k < 16 && data < 0; k++)
        if ((r->data_inputs & (1u << k)) && ir->ops[i].inputs[k] >= 0) data = k;
    if (data < 0 || ir->tensors[ir->ops[i].inputs[data]].type != NML_FLOAT32) return NML_OK;
    NML_TRY(quantize_input(s, i, data, err));
    const qparam p = s->q[ir->ops[i].inputs[data]];
    for (int k = data + 1; k < ir->ops[i].n_inputs && k < 16; k++) { /* PADV2's pad value */
        const int t = ir->ops[i].inputs[k];
        if ((r->data_inputs & (1u << k)) && t >= 0 && is_float_const(&ir->tensors[t]))
            NML_TRY(use_const(s, i, k, p, err));
    }
    for (int k = 0; k < ir->ops[i].n_outputs; k++)
        if (ir->tensors[ir->ops[i].outputs[k]].type == NML_FLOAT32) s->q[ir->ops[i].outputs[k]] = p;
    return NML_OK;
}

static nml_status quantize_op(pass *s, int *i, nml_error *err) {
    const ptq_rule *r = ptq_rule_for(s->ir->ops[*i].builtin);
    if (!r)
        return nml_fail(err, NML_E_INTERNAL, "operator %d (%s) has no rule", *i,
                        nml_op_name(s->ir->ops[*i].builtin));
    switch (r->kind) {
    case PTQ_WEIGHTS:
        NML_TRY(quantize_input(s, *i, 0, err));
        NML_TRY(quantize_weights(s, *i, r, err));
        return set_output_from_range(s, *i, err);
    case PTQ_FREE:
        for (int k = 0; k < s->ir->ops[*i].n_inputs && k < 16; k++)
            if (r->data_inputs & (1u << k)) NML_TRY(quantize_input(s, *i, k, err));
        return set_output_from_range(s, *i, err);
    case PTQ_FIXED:
        NML_TRY(quantize_input(s, *i, 0, err));
        s->q[s->ir->ops[*i].outputs[0]] = (qparam){r->fixed_scale, r->fixed_zero_point, Q_INT8};
        return NML_OK;
    case PTQ_SAME:
        return same_as_input(s, *i, r, err);
    default:
        return shared(s, i, r, err);
    }
}

/* ---- graph inputs and outputs ---- */

static void replace_reads(nml_ir *ir, int from, int to, int except_op) {
    for (int i = 0; i < ir->n_ops; i++) {
        if (i == except_op) continue;
        for (int k = 0; k < ir->ops[i].n_inputs; k++)
            if (ir->ops[i].inputs[k] == from) ir->ops[i].inputs[k] = to;
    }
}

static qparam as_uint8(qparam p) {
    p.zero_point += 128;
    p.kind = Q_UINT8;
    return p;
}

static nml_status convert_input(pass *s, int k, nml_error *err) {
    const int t = s->ir->inputs[k];
    if (!s->q[t].kind || s->o->io == NML_QIO_INT8) return NML_OK;
    int t2;
    NML_TRY(add_like(s, t, "_int8", NML_FLOAT32, NULL, 0, &t2, err));
    s->q[t2] = s->q[t];
    s->q[t] = s->o->io == NML_QIO_UINT8 ? as_uint8(s->q[t]) : (qparam){0.0f, 0, Q_NONE};
    replace_reads(s->ir, t, t2, -1);
    const int32_t in = t, out = t2;
    return nml_ir_insert_op(s->ir, 0, NML_OP_QUANTIZE, NULL, 1, &in, 1, &out, NULL, err);
}

static nml_status convert_output(pass *s, int k, nml_error *err) {
    nml_ir *ir = s->ir;
    const int t = ir->outputs[k];
    if (!s->q[t].kind || s->q[t].kind == Q_UINT8 || s->o->io == NML_QIO_INT8) return NML_OK;
    const int producer = nml_ir_producer(ir, t);
    if (producer < 0 || ir->ops[producer].builtin == NML_OP_DEQUANTIZE) return NML_OK;
    int t2;
    NML_TRY(add_like(s, t, "_int8", NML_FLOAT32, NULL, 0, &t2, err));
    s->q[t2] = s->q[t];
    for (int o = 0; o < ir->ops[producer].n_outputs; o++)
        if (ir->ops[producer].outputs[o] == t) ir->ops[producer].outputs[o] = t2;
    replace_reads(ir, t, t2, -1);
    const int32_t in = t2, out = t;
    if (s->o->io == NML_QIO_UINT8) {
        s->q[t] = as_uint8(s->q[t]);
        return nml_ir_add_op(ir, NML_OP_QUANTIZE, NULL, 1, &in, 1, &out, NULL, err);
    }
    s->q[t] = (qparam){0.0f, 0, Q_NONE};
    return nml_ir_add_op(ir, NML_OP_DEQUANTIZE, NULL, 1, &in, 1, &out, NULL, err);
}

/* ---- retyping and report ---- */

static nml_status retype(pass *s, nml_error *err) {
    nml_ir *ir = s->ir;
    for (int t = 0; t < ir->n_tensors; t++) {
        const qparam p = s->q[t];
        if (!p.kind || ir->tensors[t].data || ir->tensors[t].type != NML_FLOAT32) continue;
        NML_TRY(nml_ir_set_data(ir, t, p.kind == Q_UINT8 ? NML_UINT8 : NML_INT8, NULL, 0, err));
        const int64_t zp = p.zero_point;
        NML_TRY(nml_ir_set_quant(ir, t, 1, &p.scale, &zp, 0, err));
    }
    return NML_OK;
}

static nml_status record_ranges(pass *s, nml_error *err) {
    nml_quant_report *r = s->r;
    int n = 0;
    for (int t = 0; t < s->n_original; t++)
        n += s->cal->t[t].tracked && s->q[t].kind;
    r->ranges = calloc((size_t)n + 1, sizeof *r->ranges);
    if (!r->ranges) return nml_fail(err, NML_E_NOMEM, "quantize: out of memory for the report");
    for (int t = 0; t < s->n_original; t++) {
        if (!s->cal->t[t].tracked || !s->q[t].kind) continue;
        nml_quant_range *e = &r->ranges[r->n_ranges];
        const char *name = s->ir->tensors[t].name;
        e->name = malloc(strlen(name) + 1);
        if (!e->name) return nml_fail(err, NML_E_NOMEM, "quantize: out of memory for the report");
        memcpy(e->name, name, strlen(name) + 1);
        e->min = s->cal->t[t].min;
        e->max = s->cal->t[t].max;
        e->lo = s->lo[t];
        e->hi = s->hi[t];
        e->scale = s->q[t].scale;
        e->zero_point = s->q[t].zero_point;
        r->n_ranges++;
    }
    return NML_OK;
}

/* The calibrator's clipping range of every tracked tensor. */
static nml_status choose_ranges(pass *s, nml_error *err) {
    for (int t = 0; t < s->n_original; t++) {
        const ptq_observed *o = &s->cal->t[t];
        s->lo[t] = s->hi[t] = 0.0f;
        if (!o->tracked || !o->seen) continue;
        if (!o->hist) {
            s->lo[t] = o->min;
            s->hi[t] = o->max;
            continue;
        }
        if (nml_hist_range(o->hist, s->o->calibrator, s->o->percentile, &s->lo[t], &s->hi[t],
                           err) != NML_OK)
            return nml_error_prefix(err, "tensor %d (%s): ", t, s->ir->tensors[t].name);
    }
    return NML_OK;
}

static nml_status run(pass *s, nml_error *err) {
    NML_TRY(ensure_q(s, err));
    NML_TRY(choose_ranges(s, err));
    for (int k = 0; k < s->ir->n_inputs; k++) {
        const int t = s->ir->inputs[k];
        if (ptq_is_float_activation(&s->ir->tensors[t])) s->q[t] = from_range(s->lo[t], s->hi[t]);
    }
    for (int i = 0; i < s->ir->n_ops; i++)
        if (quantize_op(s, &i, err) != NML_OK) return nml_error_prefix(err, "quantize: ");
    NML_TRY(record_ranges(s, err));
    for (int k = 0; k < s->ir->n_inputs; k++)
        NML_TRY(convert_input(s, k, err));
    for (int k = 0; k < s->ir->n_outputs; k++)
        NML_TRY(convert_output(s, k, err));
    return retype(s, err);
}

nml_status ptq_full_integer(nml_ir *ir, const ptq_calibration *c, const nml_quant_options *o,
                            nml_quant_report *r, nml_error *err) {
    pass s;
    memset(&s, 0, sizeof s);
    s.ir = ir;
    s.cal = c;
    s.o = o;
    s.r = r;
    s.n_original = ir->n_tensors;
    s.weight_qmax = o->mode == NML_QUANT_INT4 ? 7 : 127;
    s.lo = calloc((size_t)ir->n_tensors + 1, sizeof *s.lo);
    s.hi = calloc((size_t)ir->n_tensors + 1, sizeof *s.hi);
    nml_status st =
        s.lo && s.hi ? run(&s, err) : nml_fail(err, NML_E_NOMEM, "quantize: out of memory");
    free(s.q);
    free(s.lo);
    free(s.hi);
    free(s.consts);
    return st;
}
