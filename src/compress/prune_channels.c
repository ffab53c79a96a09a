/* Removal of all-zero output channels from a float IR (see nml_remove_zero_channels). A zero
 * filter's output is the constant bias[c]; the per-channel operators between it and the next
 * CONV_2D / FULLY_CONNECTED map that constant to another constant v[c], and the reader's
 * contribution from channel c is then v[c] times the sum of its weights for that channel, a
 * constant that moves into the reader's bias. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress/compress_internal.h"
#include "nanoml/prune.h"

#define MAX_CHAIN 32

typedef struct plan {
    int producer, consumer;
    int chain[MAX_CHAIN], n_chain; /* operators between them, in order */
    int reshape;                   /* chain index of a RESHAPE (flatten), -1 if none */
    int64_t spatial; /* positions per channel the reader sees (H x W), 1 for vectors */
    int32_t channels;
} plan;

typedef struct remover {
    nml_ir *ir;
    nml_channel_report *r;
    nml_error *err;
} remover;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
note(remover *m, const char *fmt, ...) {
    if (m->r->note[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->r->note, sizeof m->r->note, fmt, ap);
    va_end(ap);
}

/* The one operator reading t as its data input; -1 when t is read more than once, is a model
 * output, or is read as something else. */
static int sole_data_reader(const nml_ir *ir, int t) {
    if (nml_ir_count_uses(ir, t) != 1) return -1;
    for (int i = 0; i < ir->n_ops; i++)
        for (int k = 0; k < ir->ops[i].n_inputs; k++)
            if (ir->ops[i].inputs[k] == t) return k == 0 ? i : -1;
    return -1;
}

static int is_per_channel(int32_t op) {
    return op == NML_OP_TANH || op == NML_OP_LOGISTIC || op == NML_OP_RELU || op == NML_OP_RELU6 ||
           op == NML_OP_AVERAGE_POOL_2D || op == NML_OP_MAX_POOL_2D || op == NML_OP_PAD;
}

static int64_t elems(const nml_ir *ir, int t) {
    return (int64_t)nml_ir_tensor_count(&ir->tensors[t]);
}

/* Follows the producer's output to the operator that consumes its channels. */
static int find_reader(remover *m, int producer, plan *p) {
    const nml_ir *ir = m->ir;
    memset(p, 0, sizeof *p);
    p->producer = producer;
    p->reshape = -1;
    p->spatial = 1;
    int t = ir->ops[producer].outputs[0];
    const nml_ir_tensor *out = &ir->tensors[t];
    p->channels = out->dims[out->rank - 1];
    const char *pname = out->name;
    while (p->n_chain < MAX_CHAIN) {
        const int q = sole_data_reader(ir, t);
        if (q < 0) {
            note(m, "%s: its output is read more than once, or is a model output", pname);
            return 0;
        }
        const int32_t op = ir->ops[q].builtin;
        if (op == NML_OP_CONV_2D && p->reshape < 0 && ir->tensors[t].rank == 4) {
            p->consumer = q;
            return 1;
        }
        if (op == NML_OP_FULLY_CONNECTED) {
            p->consumer = q;
            p->spatial = elems(ir, t) / p->channels;
            return 1;
        }
        if (op == NML_OP_RESHAPE && p->reshape < 0) {
            const nml_ir_tensor *y = &ir->tensors[ir->ops[q].outputs[0]];
            if (y->rank != 2 || y->dims[0] != 1) {
                note(m, "%s: reshaped to something other than 1 x N", pname);
                return 0;
            }
            p->reshape = p->n_chain;
        } else if (!is_per_channel(op) || p->reshape >= 0) {
            note(m, "%s: its channels reach %s, which cannot drop channels", pname,
                 nml_op_name(op));
            return 0;
        }
        p->chain[p->n_chain++] = q;
        t = ir->ops[q].outputs[0];
    }
    note(m, "%s: too many operators before the next convolution", pname);
    return 0;
}

static float activate(uint8_t act, float v) {
    switch (act) {
    case NML_ACT_RELU:
        return v > 0.0f ? v : 0.0f;
    case NML_ACT_RELU6:
        return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    case NML_ACT_RELU_N1_TO_1:
        return v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);
    case NML_ACT_TANH:
        return tanhf(v);
    default:
        return v;
    }
}

/* The constant channel c carries when it reaches the reader; 0 (and *ok 0) when a PAD or a
 * SAME-padded reader would see a non-zero constant, which is not uniform there. */
static float channel_constant(const nml_ir *ir, const plan *p, int32_t c, int *ok) {
    const nml_ir_op *prod = &ir->ops[p->producer];
    const int b = prod->n_inputs > 2 ? prod->inputs[2] : -1;
    float v = b >= 0 ? ((const float *)(const void *)ir->tensors[b].data)[c] : 0.0f;
    v = activate(prod->params.activation, v);
    *ok = 1;
    for (int k = 0; k < p->n_chain; k++) {
        const nml_ir_op *op = &ir->ops[p->chain[k]];
        switch (op->builtin) {
        case NML_OP_TANH:
            v = tanhf(v);
            break;
        case NML_OP_LOGISTIC:
            v = 1.0f / (1.0f + expf(-v));
            break;
        case NML_OP_RELU:
            v = activate(NML_ACT_RELU, v);
            break;
        case NML_OP_RELU6:
            v = activate(NML_ACT_RELU6, v);
            break;
        case NML_OP_AVERAGE_POOL_2D:
        case NML_OP_MAX_POOL_2D:
            v = activate(op->params.activation, v);
            break;
        case NML_OP_PAD:
            *ok &= v == 0.0f;
            break;
        default:
            break;
        }
    }
    const nml_ir_op *cons = &ir->ops[p->consumer];
    if (cons->builtin == NML_OP_CONV_2D && cons->params.padding == NML_PAD_SAME && v != 0.0f)
        *ok = 0;
    return v;
}

static int row_is_zero(const float *w, size_t row_len, int32_t c) {
    for (size_t j = 0; j < row_len; j++)
        if (w[(size_t)c * row_len + j] != 0.0f) return 0;
    return 1;
}

/* Constants this pass rewrites must belong to one operator and be float32. */
static int owned_float_const(const nml_ir *ir, int t) {
    return t >= 0 && ir->tensors[t].type == NML_FLOAT32 && ir->tensors[t].data &&
           ir->tensors[t].n_q == 0 && nml_ir_count_uses(ir, t) == 1;
}

/* ---- rewriting ---- */

/* Keeps the rows of w (rows x row_len) with keep[r] set. */
static nml_status shrink_rows(nml_ir *ir, int t, const uint8_t *keep, int32_t rows,
                              nml_error *err) {
    nml_ir_tensor *x = &ir->tensors[t];
    const size_t row_len = (size_t)(nml_ir_tensor_count(x) / (uint64_t)rows);
    const float *w = (const float *)(const void *)x->data;
    float *out = malloc((size_t)rows * row_len * sizeof *out + 1);
    if (!out) return nml_fail(err, NML_E_NOMEM, "out of memory");
    int32_t n = 0;
    for (int32_t r = 0; r < rows; r++)
        if (keep[r])
            memcpy(out + (size_t)n++ * row_len, w + (size_t)r * row_len, row_len * sizeof *out);
    x->dims[0] = n;
    nml_status st =
        nml_ir_set_data(ir, t, NML_FLOAT32, out, (size_t)n * row_len * sizeof *out, err);
    free(out);
    return st;
}

/* Keeps the entries of the last axis (length channels) with keep[c] set: the reader's weights
 * for the removed input channels go. */
static nml_status shrink_inner(nml_ir *ir, int t, const uint8_t *keep, int32_t channels,
                               int32_t kept, nml_error *err) {
    nml_ir_tensor *x = &ir->tensors[t];
    const size_t total = (size_t)nml_ir_tensor_count(x);
    const float *w = (const float *)(const void *)x->data;
    float *out = malloc(total * sizeof *out + 1);
    if (!out) return nml_fail(err, NML_E_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < total; i++)
        if (keep[i % (size_t)channels]) out[n++] = w[i];
    x->dims[x->rank - 1] = (int32_t)(x->dims[x->rank - 1] / channels * kept);
    nml_status st = nml_ir_set_data(ir, t, NML_FLOAT32, out, n * sizeof *out, err);
    free(out);
    return st;
}

/* bias[o] += sum over the removed channels c of v[c] x (the reader's weights for c). The
 * reader's weights: CONV_2D [O, KH, KW, C] and FULLY_CONNECTED [O, S x C] both have the
 * channel as the fastest index of each output row. */
static nml_status fold_constants(nml_ir *ir, const plan *p, const uint8_t *keep, const float *v,
                                 nml_error *err) {
    nml_ir_op *cons = &ir->ops[p->consumer];
    const nml_ir_tensor *w = &ir->tensors[cons->inputs[1]];
    const int32_t outs = w->dims[0];
    const size_t row = (size_t)(nml_ir_tensor_count(w) / (uint64_t)outs);
    const float *wv = (const float *)(const void *)w->data;
    double *add = calloc((size_t)outs, sizeof *add);
    if (!add) return nml_fail(err, NML_E_NOMEM, "out of memory");
    int any = 0;
    for (int32_t o = 0; o < outs; o++)
        for (size_t j = 0; j < row; j++) {
            const size_t c = j % (size_t)p->channels;
            if (!keep[c] && v[c] != 0.0f) {
                add[o] += (double)wv[(size_t)o * row + j] * v[c];
                any = 1;
            }
        }
    nml_status st = NML_OK;
    if (any) {
        float *b = malloc((size_t)outs * sizeof *b);
        const int bt = cons->n_inputs > 2 ? cons->inputs[2] : -1;
        if (!b) st = nml_fail(err, NML_E_NOMEM, "out of memory");
        for (int32_t o = 0; st == NML_OK && o < outs; o++)
            b[o] = (float)((bt >= 0 ? (double)((const float *)(const void *)ir->tensors[bt].data)[o]
                                    : 0.0) +
                           add[o]);
        if (st == NML_OK && bt >= 0) {
            st = nml_ir_set_data(ir, bt, NML_FLOAT32, b, (size_t)outs * sizeof *b, err);
        } else if (st == NML_OK) {
            char name[512];
            int nb;
            snprintf(name, sizeof name, "%s/bias", ir->tensors[cons->outputs[0]].name);
            st = nml_ir_add_tensor(ir, name, NML_FLOAT32, 1, &outs, b, (size_t)outs * sizeof *b,
                                   &nb, err);
            if (st == NML_OK) {
                cons = &ir->ops[p->consumer];
                cons->inputs[2] = nb;
                cons->n_inputs = 3;
            }
        }
        free(b);
    }
    free(add);
    return st;
}

/* New channel count along the chain: activations lose channels, the flatten's shape follows. */
static nml_status shrink_chain(nml_ir *ir, const plan *p, int32_t kept, nml_error *err) {
    int t = ir->ops[p->producer].outputs[0];
    ir->tensors[t].dims[ir->tensors[t].rank - 1] = kept;
    for (int k = 0; k < p->n_chain; k++) {
        nml_ir_op *op = &ir->ops[p->chain[k]];
        nml_ir_tensor *y = &ir->tensors[op->outputs[0]];
        if (k != p->reshape) {
            y->dims[y->rank - 1] = kept;
            continue;
        }
        const int32_t n = (int32_t)(p->spatial * kept);
        y->dims[1] = n;
        if (op->params.new_shape_len == 2) op->params.new_shape[1] = n;
        const int s = op->n_inputs > 1 ? op->inputs[1] : -1;
        if (s >= 0 && ir->tensors[s].type == NML_INT32 && ir->tensors[s].data &&
            nml_ir_tensor_count(&ir->tensors[s]) == 2) {
            int32_t shape[2];
            memcpy(shape, ir->tensors[s].data, sizeof shape);
            shape[1] = n;
            int ns;
            char name[512];
            snprintf(name, sizeof name, "%s/shape", y->name);
            const int32_t two = 2;
            /* a fresh tensor: the old shape may be shared with other reshapes */
            NML_TRY(nml_ir_add_tensor(ir, name, NML_INT32, 1, &two, shape, sizeof shape, &ns, err));
            ir->ops[p->chain[k]].inputs[1] = ns;
        }
    }
    return NML_OK;
}

static nml_status remove_channels(remover *m, const plan *p, const uint8_t *keep, const float *v,
                                  int32_t kept) {
    nml_ir *ir = m->ir;
    const nml_ir_op *prod = &ir->ops[p->producer];
    const int w = prod->inputs[1], b = prod->n_inputs > 2 ? prod->inputs[2] : -1;
    NML_TRY(fold_constants(ir, p, keep, v, m->err));
    NML_TRY(shrink_rows(ir, w, keep, p->channels, m->err));
    if (b >= 0) NML_TRY(shrink_rows(ir, b, keep, p->channels, m->err));
    NML_TRY(shrink_inner(ir, ir->ops[p->consumer].inputs[1], keep, p->channels, kept, m->err));
    return shrink_chain(ir, p, kept, m->err);
}

static nml_status visit(remover *m, int i) {
    nml_ir *ir = m->ir;
    const nml_ir_op *op = &ir->ops[i];
    if (op->builtin != NML_OP_CONV_2D && op->builtin != NML_OP_FULLY_CONNECTED) return NML_OK;
    const int w = op->n_inputs > 1 ? op->inputs[1] : -1;
    if (!owned_float_const(ir, w)) return NML_OK;
    const int32_t rows = ir->tensors[w].dims[0];
    const size_t row_len = (size_t)(nml_ir_tensor_count(&ir->tensors[w]) / (uint64_t)rows);
    const float *wv = (const float *)(const void *)ir->tensors[w].data;
    int zeros = 0;
    for (int32_t c = 0; c < rows; c++)
        zeros += row_is_zero(wv, row_len, c);
    if (zeros == 0) return NML_OK;
    plan p;
    const int b = op->n_inputs > 2 ? op->inputs[2] : -1;
    if (!find_reader(m, i, &p) || p.channels != rows || (b >= 0 && !owned_float_const(ir, b)) ||
        !owned_float_const(ir, ir->ops[p.consumer].inputs[1]) ||
        (ir->ops[p.consumer].n_inputs > 2 && ir->ops[p.consumer].inputs[2] >= 0 &&
         !owned_float_const(ir, ir->ops[p.consumer].inputs[2]))) {
        note(m, "%s: weights or shapes are shared or unusual", ir->tensors[op->outputs[0]].name);
        m->r->kept_zero += zeros;
        return NML_OK;
    }
    uint8_t *keep = malloc((size_t)rows);
    float *v = calloc((size_t)rows, sizeof *v);
    if (!keep || !v) {
        free(keep);
        free(v);
        return nml_fail(m->err, NML_E_NOMEM, "out of memory");
    }
    int32_t kept = 0;
    for (int32_t c = 0; c < rows; c++) {
        int ok = 1;
        keep[c] = 1;
        if (row_is_zero(wv, row_len, c)) {
            v[c] = channel_constant(ir, &p, c, &ok);
            if (ok)
                keep[c] = 0;
            else {
                note(m, "%s: a zero channel carries a non-zero constant into zero padding",
                     ir->tensors[op->outputs[0]].name);
                m->r->kept_zero++;
            }
        }
        kept += keep[c];
    }
    if (kept == 0) { /* a layer keeps one channel */
        keep[0] = 1;
        kept = 1;
        m->r->kept_zero++;
    }
    nml_status st = NML_OK;
    if (kept < rows) {
        st = remove_channels(m, &p, keep, v, kept);
        if (st == NML_OK)
            m->r->removed += rows - kept;
        else
            nml_error_prefix(m->err, "operator %d (%s): ", i, nml_op_name(op->builtin));
    }
    free(keep);
    free(v);
    return st;
}

static uint64_t float_weights(const nml_ir *ir) {
    uint64_t n = 0;
    for (int t = 0; t < ir->n_tensors; t++)
        if (ir->tensors[t].type == NML_FLOAT32 && ir->tensors[t].data &&
            nml_ir_count_uses(ir, t) > 0)
            n += nml_ir_tensor_count(&ir->tensors[t]);
    return n;
}

nml_status nml_remove_zero_channels(nml_ir *ir, nml_channel_report *report, nml_error *err) {
    nml_channel_report local;
    nml_channel_report *r = report ? report : &local;
    memset(r, 0, sizeof *r);
    NML_TRY(nml_ir_validate(ir, err));
    r->weights_before = float_weights(ir);
    remover m = {ir, r, err};
    for (int i = 0; i < ir->n_ops; i++)
        if (visit(&m, i) != NML_OK) return nml_error_prefix(err, "remove channels: ");
    NML_TRY(nml_ir_compact(ir, err));
    if (nml_ir_validate(ir, err) != NML_OK)
        return nml_error_prefix(err, "remove channels: the result is malformed: ");
    r->weights_after = float_weights(ir);
    return NML_OK;
}
