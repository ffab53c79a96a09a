/* Convolution, pooling and matrix operators: NCHW -> NHWC, OIHW weights -> OHWI (depthwise:
 * 1HWO), batch-norm folding, fused activations, and ONNX's explicit padding -> TFLite's
 * SAME/VALID (or an explicit PAD when neither matches: TFLite SAME puts the odd padding row at
 * the end, PyTorch exports put it at the start for stride-2 layers). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/imp.h"

static nml_status clip_bounds(imp_ctx *c, int node, float *lo, float *hi, nml_error *err) {
    *lo = -FLT_MAX;
    *hi = FLT_MAX;
    if (c->opset < 11) {
        NML_TRY(imp_attr_float(c, node, "min", -FLT_MAX, lo, err));
        return imp_attr_float(c, node, "max", FLT_MAX, hi, err);
    }
    for (int k = 1; k <= 2; k++) {
        imp_value *b = imp_in(c, node, k);
        if (!b) continue;
        if (!b->t.data || b->t.count != 1)
            return imp_fail(c, err, node, NML_E_UNSUPPORTED, "min/max must be constant scalars");
        *(k == 1 ? lo : hi) = (float)imp_get(&b->t, 0);
    }
    return NML_OK;
}

/* Fused activation of a Clip node, or -1. */
static int clip_activation(imp_ctx *c, int node) {
    float lo, hi;
    nml_error e;
    if (clip_bounds(c, node, &lo, &hi, &e) != NML_OK) return -1;
    if (lo == 0.0f && hi == 6.0f) return NML_ACT_RELU6;
    if (lo == -1.0f && hi == 1.0f) return NML_ACT_RELU_N1_TO_1;
    if (lo == 0.0f && hi >= FLT_MAX) return NML_ACT_RELU;
    return -1;
}

int imp_fuse_activation(imp_ctx *c, int v, int *out_value) {
    *out_value = v;
    int n = imp_sole_consumer(c, v);
    if (n < 0 || c->nodes[n].in[0] != v || c->nodes[n].n_out < 1 || c->nodes[n].out[0] < 0)
        return NML_ACT_NONE;
    int act = -1;
    if (!strcmp(imp_op(c, n), "Relu"))
        act = NML_ACT_RELU;
    else if (!strcmp(imp_op(c, n), "Clip"))
        act = clip_activation(c, n);
    if (act < 0) return NML_ACT_NONE;
    c->nodes[n].done = 1;
    c->st->fused++;
    *out_value = c->nodes[n].out[0];
    return act;
}

static void set_nonneg(imp_ctx *c, int v, int act) {
    if (act == NML_ACT_RELU || act == NML_ACT_RELU6) c->vals[v].nonneg = 1;
}

nml_status imp_pad_nhwc(imp_ctx *c, int in_lt, const int32_t *in_dims, int64_t pads[4][2],
                        int use_lowest, const char *name, int *out_lt, int32_t *out_dims,
                        nml_error *err) {
    int32_t p[8], pd[2] = {4, 2};
    for (int i = 0; i < 4; i++) {
        p[2 * i] = (int32_t)pads[i][0];
        p[2 * i + 1] = (int32_t)pads[i][1];
        int64_t d = (int64_t)in_dims[i] + pads[i][0] + pads[i][1];
        if (d > NML_MAX_DIM) return nml_fail(err, NML_E_LIMIT, "padded size too large");
        out_dims[i] = (int32_t)d;
    }
    char nm[300];
    int pt, vt = -1;
    snprintf(nm, sizeof nm, "%s/paddings", name);
    NML_TRY(lg_add_i32(c, nm, 2, pd, p, &pt, err));
    if (use_lowest) {
        float lowest = -FLT_MAX; /* padding a max pool must never win */
        int32_t one = 1;
        snprintf(nm, sizeof nm, "%s/pad_value", name);
        NML_TRY(lg_add_tensor(c, nm, NML_FLOAT32, 1, &one, &lowest, 4, &vt, err));
    }
    NML_TRY(lg_add_act(c, name, "/padded", 4, out_dims, out_lt, err));
    nml_op_params par;
    nml_op_params_default(&par);
    int32_t ins[3] = {in_lt, pt, vt};
    return lg_add_op(c, use_lowest ? NML_OP_PADV2 : NML_OP_PAD, &par, use_lowest ? 3 : 2, ins, 1,
                     out_lt, err);
}

/* How a window's padding maps to TFLite: 0 VALID, 1 SAME, 2 explicit PAD + VALID. */
static int window_padding(const imp_window *w, int64_t pads[4][2]) {
    int valid = 1, same = 1;
    for (int i = 0; i < 2; i++) {
        int64_t eff = (w[i].k - 1) * w[i].dilation + 1;
        int64_t out_same = (w[i].in + w[i].stride - 1) / w[i].stride;
        int64_t total = (out_same - 1) * w[i].stride + eff - w[i].in;
        if (total < 0) total = 0;
        if (!(w[i].out == out_same && w[i].pad_begin == total / 2)) same = 0;
        if (!(w[i].pad_begin == 0 && w[i].out == (w[i].in - eff) / w[i].stride + 1 &&
              w[i].in >= eff))
            valid = 0;
        /* the end padding actually read by the last window */
        int64_t end = (w[i].out - 1) * w[i].stride + eff - w[i].in - w[i].pad_begin;
        pads[1 + i][0] = w[i].pad_begin;
        pads[1 + i][1] = end > 0 ? end : 0;
    }
    pads[0][0] = pads[0][1] = pads[3][0] = pads[3][1] = 0;
    return valid ? 0 : same ? 1 : 2;
}

static void to_params(const imp_window *w, int padding, int act, nml_op_params *p) {
    nml_op_params_default(p);
    p->padding = (uint8_t)(padding == 1 ? NML_PAD_SAME : NML_PAD_VALID);
    p->activation = (uint8_t)act;
    p->stride_h = (int32_t)w[0].stride;
    p->stride_w = (int32_t)w[1].stride;
    p->dilation_h = (int32_t)w[0].dilation;
    p->dilation_w = (int32_t)w[1].dilation;
    p->filter_h = (int32_t)w[0].k;
    p->filter_w = (int32_t)w[1].k;
}

/* Input in NHWC, padded explicitly when padding == 2. */
static nml_status window_input(imp_ctx *c, int node, int v, int padding, int64_t pads[4][2],
                               int use_lowest, int *lt, nml_error *err) {
    NML_TRY(imp_need_layout(c, v, imp_nhwc, lt, err));
    if (padding != 2) return NML_OK;
    int32_t in_dims[4], out_dims[4];
    imp_stored_dims(&c->vals[v], imp_nhwc, in_dims);
    return imp_pad_nhwc(c, *lt, in_dims, pads, use_lowest, c->nodes[node].n->name, lt, out_dims,
                        err);
}

/* Batch-norm parameters (scale, shift per channel) of node bn, from constant inputs. */
static nml_status bn_params(imp_ctx *c, int bn, int64_t channels, float **scale, float **shift,
                            nml_error *err) {
    float eps;
    NML_TRY(imp_attr_float(c, bn, "epsilon", 1e-5f, &eps, err));
    imp_value *p[4];
    for (int k = 0; k < 4; k++) {
        p[k] = imp_in(c, bn, k + 1);
        if (!p[k] || !p[k]->t.data || p[k]->t.count != (uint64_t)channels)
            return imp_fail(c, err, bn, NML_E_UNSUPPORTED,
                            "input %d must be a constant with %lld values", k + 1,
                            (long long)channels);
    }
    *scale = malloc((size_t)channels * sizeof(float));
    *shift = malloc((size_t)channels * sizeof(float));
    if (!*scale || !*shift) {
        free(*scale);
        free(*shift);
        return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    for (int64_t ch = 0; ch < channels; ch++) {
        double g = imp_get(&p[0]->t, (uint64_t)ch), b = imp_get(&p[1]->t, (uint64_t)ch);
        double m = imp_get(&p[2]->t, (uint64_t)ch), var = imp_get(&p[3]->t, (uint64_t)ch);
        double s = g / sqrt(var + (double)eps);
        (*scale)[ch] = (float)s;
        (*shift)[ch] = (float)(b - m * s);
    }
    return NML_OK;
}

/* The BatchNormalization node reading only v with constant per-channel parameters, or -1. */
static int is_bn_foldable(imp_ctx *c, int v, int64_t channels) {
    int n = imp_sole_consumer(c, v);
    if (n < 0 || strcmp(imp_op(c, n), "BatchNormalization") != 0 || c->nodes[n].in[0] != v)
        return -1;
    for (int k = 1; k <= 4; k++) {
        imp_value *p = imp_in(c, n, k);
        if (!p || !p->t.data || p->t.count != (uint64_t)channels) return -1;
    }
    return n;
}

nml_status imp_lower_conv(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0), *w = imp_in(c, node, 1), *b = imp_in(c, node, 2);
    if (!w->t.data || (b && !b->t.data))
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "weights and bias must be constant");
    int64_t group, m = w->t.dims[0], cin = x->t.dims[1], kh = w->t.dims[2], kw = w->t.dims[3];
    NML_TRY(imp_attr_int(c, node, "group", 1, &group, err));
    int dw = group > 1 && group == cin && w->t.dims[1] == 1;
    if (group > 1 && !dw)
        return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                        "grouped convolution with %lld groups of %lld channels (only depthwise)",
                        (long long)group, (long long)w->t.dims[1]);
    imp_window win[2];
    NML_TRY(imp_windows(c, node, x->t.dims, w->t.dims + 2, win, err));
    int64_t pads[4][2];
    int padding = window_padding(win, pads);
    /* weights and bias in float, batch norm folded in */
    uint64_t per = (uint64_t)(w->t.count / (uint64_t)m);
    float *wt = malloc(w->t.count * sizeof(float) + 1), *bias = calloc((size_t)m, sizeof(float));
    float *scale = NULL, *shift = NULL;
    nml_status s = wt && bias ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    int out_v = c->nodes[node].out[0];
    int bn = s == NML_OK ? is_bn_foldable(c, out_v, m) : -1;
    if (bn >= 0) s = bn_params(c, bn, m, &scale, &shift, err);
    for (int64_t o = 0; s == NML_OK && o < m; o++) {
        double sc = scale ? scale[o] : 1.0;
        double bo = b ? imp_get(&b->t, (uint64_t)o) : 0.0;
        bias[o] = (float)(scale ? bo * sc + shift[o] : bo);
        for (uint64_t k = 0; k < per; k++) {
            /* OIHW source index -> OHWI (or 1HWO for depthwise) destination index */
            uint64_t src = (uint64_t)o * per + k;
            uint64_t i = k / (uint64_t)(kh * kw), yx = k % (uint64_t)(kh * kw);
            uint64_t dst =
                dw ? yx * (uint64_t)m + (uint64_t)o
                   : ((uint64_t)o * (uint64_t)(kh * kw) + yx) * (per / (uint64_t)(kh * kw)) + i;
            wt[dst] = (float)(imp_get(&w->t, src) * sc);
        }
    }
    free(scale);
    free(shift);
    if (bn >= 0 && s == NML_OK) {
        c->nodes[bn].done = 1;
        c->st->fused++;
        out_v = c->nodes[bn].out[0];
    }
    int act = NML_ACT_NONE, in_lt = -1, wl = -1, bl = -1, ol;
    if (s == NML_OK) act = imp_fuse_activation(c, out_v, &out_v);
    if (s == NML_OK) s = window_input(c, node, (int)(x - c->vals), padding, pads, 0, &in_lt, err);
    char nm[300];
    int32_t wd[4] = {dw ? 1 : (int32_t)m, (int32_t)kh, (int32_t)kw,
                     dw ? (int32_t)m : (int32_t)w->t.dims[1]};
    int32_t bd = (int32_t)m;
    snprintf(nm, sizeof nm, "%s/weights", c->nodes[node].n->name);
    if (s == NML_OK)
        s = lg_add_tensor(c, nm, NML_FLOAT32, 4, wd, wt, w->t.count * sizeof(float), &wl, err);
    snprintf(nm, sizeof nm, "%s/bias", c->nodes[node].n->name);
    if (s == NML_OK) s = lg_add_tensor(c, nm, NML_FLOAT32, 1, &bd, bias, (size_t)m * 4, &bl, err);
    free(wt);
    free(bias);
    NML_TRY(s);
    NML_TRY(imp_new_output(c, out_v, imp_nhwc, &ol, err));
    nml_op_params p;
    to_params(win, padding, act, &p);
    p.depth_multiplier = dw ? (int32_t)(m / cin) : 1;
    int32_t ins[3] = {in_lt, wl, bl};
    NML_TRY(lg_add_op(c, dw ? NML_OP_DEPTHWISE_CONV_2D : NML_OP_CONV_2D, &p, 3, ins, 1, &ol, err));
    set_nonneg(c, out_v, act);
    return NML_OK;
}

/* count_include_pad = 0 with padding TFLite cannot express: scale the padded VALID average by
 * k*k / (elements inside the input) at every output position. */
static nml_status avg_correction(imp_ctx *c, int node, const imp_window *w, int *lt, int out_v,
                                 int act, nml_error *err) {
    int64_t oh = w[0].out, ow = w[1].out;
    if ((uint64_t)(oh * ow) > IMP_MAX_CONST_ELEMS)
        return imp_fail(c, err, node, NML_E_LIMIT, "output %lldx%lld too large", (long long)oh,
                        (long long)ow);
    float *f = malloc((size_t)(oh * ow) * sizeof(float));
    if (!f) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (int64_t y = 0; y < oh; y++)
        for (int64_t x = 0; x < ow; x++) {
            int64_t n[2];
            for (int a = 0; a < 2; a++) {
                int64_t start = (a ? x : y) * w[a].stride - w[a].pad_begin;
                int64_t lo = start < 0 ? 0 : start, hi = start + w[a].k;
                if (hi > w[a].in) hi = w[a].in;
                n[a] = hi > lo ? hi - lo : 1;
            }
            f[y * ow + x] = (float)(w[0].k * w[1].k) / (float)(n[0] * n[1]);
        }
    int32_t fd[4] = {1, (int32_t)oh, (int32_t)ow, 1};
    char nm[300];
    int ft, ol;
    snprintf(nm, sizeof nm, "%s/count_correction", c->nodes[node].n->name);
    nml_status s = lg_add_tensor(c, nm, NML_FLOAT32, 4, fd, f, (size_t)(oh * ow) * 4, &ft, err);
    free(f);
    NML_TRY(s);
    NML_TRY(imp_new_output(c, out_v, imp_nhwc, &ol, err));
    nml_op_params p;
    nml_op_params_default(&p);
    p.activation = (uint8_t)act;
    int32_t ins[2] = {*lt, ft};
    NML_TRY(lg_add_op(c, NML_OP_MUL, &p, 2, ins, 1, &ol, err));
    *lt = ol;
    return NML_OK;
}

nml_status imp_lower_pool(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0), *idx = imp_out(c, node, 1);
    int is_max = !strcmp(imp_op(c, node), "MaxPool");
    if (idx && idx->live)
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "the Indices output is not supported");
    imp_window win[2];
    NML_TRY(imp_windows(c, node, x->t.dims, NULL, win, err));
    if (win[0].dilation != 1 || win[1].dilation != 1)
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "dilated pooling is not supported");
    int64_t cip, pads[4][2];
    NML_TRY(imp_attr_int(c, node, "count_include_pad", 0, &cip, err));
    int padding = window_padding(win, pads), correct = 0;
    /* TFLite's AVERAGE_POOL_2D never counts padding: SAME only fits count_include_pad=0 */
    if (!is_max && padding != 0 && !(padding == 1 && !cip)) {
        for (int i = 0; i < 2; i++)
            if (pads[1 + i][1] > win[i].pad_end)
                return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                                "ceil_mode windows past the padding are not supported");
        if (cip)
            padding = 2;
        else
            correct = 1;
    }
    int out_v = c->nodes[node].out[0], lt, ol;
    int act = correct ? NML_ACT_NONE : imp_fuse_activation(c, out_v, &out_v);
    int use_lowest = is_max && !x->nonneg; /* after a ReLU, zero padding is as good as -inf */
    NML_TRY(window_input(c, node, (int)(x - c->vals), padding, pads, use_lowest, &lt, err));
    nml_op_params p;
    to_params(win, padding, act, &p);
    if (correct) {
        int32_t d[4];
        imp_stored_dims(&c->vals[out_v], imp_nhwc, d);
        NML_TRY(lg_add_act(c, c->vals[out_v].name, "/sum_like", 4, d, &ol, err));
    } else {
        NML_TRY(imp_new_output(c, out_v, imp_nhwc, &ol, err));
    }
    int32_t ins[1] = {lt};
    NML_TRY(lg_add_op(c, is_max ? NML_OP_MAX_POOL_2D : NML_OP_AVERAGE_POOL_2D, &p, 1, ins, 1, &ol,
                      err));
    if (correct) {
        int act2 = imp_fuse_activation(c, out_v, &out_v);
        NML_TRY(avg_correction(c, node, win, &ol, out_v, act2, err));
        act = act2;
    }
    set_nonneg(c, out_v, act);
    if (is_max && x->nonneg) c->vals[out_v].nonneg = 1;
    return NML_OK;
}

nml_status imp_lower_global_pool(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    if (x->t.rank != 4)
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "only 2-D global pooling is supported");
    int lt, ol, out_v = c->nodes[node].out[0];
    NML_TRY(imp_need_layout(c, (int)(x - c->vals), imp_nhwc, &lt, err));
    int act = imp_fuse_activation(c, out_v, &out_v);
    NML_TRY(imp_new_output(c, out_v, imp_nhwc, &ol, err));
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_VALID;
    p.activation = (uint8_t)act;
    p.filter_h = (int32_t)x->t.dims[2];
    p.filter_w = (int32_t)x->t.dims[3];
    int is_max = !strcmp(imp_op(c, node), "GlobalMaxPool");
    int32_t ins[1] = {lt};
    NML_TRY(lg_add_op(c, is_max ? NML_OP_MAX_POOL_2D : NML_OP_AVERAGE_POOL_2D, &p, 1, ins, 1, &ol,
                      err));
    set_nonneg(c, out_v, act);
    return NML_OK;
}

/* FULLY_CONNECTED from an [N,K] weight matrix and [N] bias. */
static nml_status emit_fc(imp_ctx *c, int node, int a_lt, const float *wt, int64_t n, int64_t k,
                          const float *bias, int keep_dims, nml_error *err) {
    char nm[300];
    int wl, bl, ol, out_v = c->nodes[node].out[0];
    int32_t wd[2] = {(int32_t)n, (int32_t)k}, bd = (int32_t)n;
    snprintf(nm, sizeof nm, "%s/weights", c->nodes[node].n->name);
    NML_TRY(lg_add_tensor(c, nm, NML_FLOAT32, 2, wd, wt, (size_t)(n * k) * 4, &wl, err));
    snprintf(nm, sizeof nm, "%s/bias", c->nodes[node].n->name);
    NML_TRY(lg_add_tensor(c, nm, NML_FLOAT32, 1, &bd, bias, (size_t)n * 4, &bl, err));
    int act = imp_fuse_activation(c, out_v, &out_v);
    int8_t ident[IMP_MAX_RANK];
    imp_layout_identity(ident, c->vals[out_v].t.rank);
    NML_TRY(imp_new_output(c, out_v, ident, &ol, err));
    nml_op_params p;
    nml_op_params_default(&p);
    p.activation = (uint8_t)act;
    p.keep_num_dims = (uint8_t)keep_dims;
    int32_t ins[3] = {a_lt, wl, bl};
    NML_TRY(lg_add_op(c, NML_OP_FULLY_CONNECTED, &p, 3, ins, 1, &ol, err));
    set_nonneg(c, out_v, act);
    return NML_OK;
}

/* The FC input in ONNX order; when it is a flattened NHWC tensor, the weight columns are
 * permuted to the stored order instead (no TRANSPOSE back to NCHW). */
static nml_status fc_input(imp_ctx *c, int a, float *wt, int64_t n, int64_t k, int *lt,
                           nml_error *err) {
    int32_t *perm;
    int found;
    NML_TRY(imp_row_permutation(c, a, &perm, lt, &found, err));
    if (!found) {
        int8_t ident[2] = {0, 1};
        return imp_need_layout(c, a, ident, lt, err);
    }
    float *row = malloc((size_t)k * sizeof *row);
    if (!row) {
        free(perm);
        return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < k; j++)
            row[perm[j]] = wt[i * k + j];
        memcpy(wt + i * k, row, (size_t)k * sizeof *row);
    }
    free(row);
    free(perm);
    return NML_OK;
}

nml_status imp_lower_gemm(imp_ctx *c, int node, nml_error *err) {
    imp_value *a = imp_in(c, node, 0), *b = imp_in(c, node, 1), *cc = imp_in(c, node, 2);
    int64_t ta, tb;
    float alpha, beta;
    NML_TRY(imp_attr_int(c, node, "transA", 0, &ta, err));
    NML_TRY(imp_attr_int(c, node, "transB", 0, &tb, err));
    NML_TRY(imp_attr_float(c, node, "alpha", 1.0f, &alpha, err));
    NML_TRY(imp_attr_float(c, node, "beta", 1.0f, &beta, err));
    if (ta) return imp_fail(c, err, node, NML_E_UNSUPPORTED, "transA=1 is not supported");
    if (!b->t.data || (cc && !cc->t.data))
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "B and C must be constant");
    int64_t k = tb ? b->t.dims[1] : b->t.dims[0], n = tb ? b->t.dims[0] : b->t.dims[1];
    if (cc && !(cc->t.count == 1 || cc->t.count == (uint64_t)n))
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "C must broadcast along rows");
    float *wt = malloc((size_t)(n * k) * 4 + 4), *bias = calloc((size_t)n + 1, 4);
    nml_status s = wt && bias ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    for (int64_t i = 0; s == NML_OK && i < n; i++) {
        for (int64_t j = 0; j < k; j++)
            wt[i * k + j] = alpha * (float)imp_get(&b->t, (uint64_t)(tb ? i * k + j : j * n + i));
        if (cc) bias[i] = beta * (float)imp_get(&cc->t, cc->t.count == 1 ? 0 : (uint64_t)i);
    }
    int lt = -1;
    if (s == NML_OK) s = fc_input(c, (int)(a - c->vals), wt, n, k, &lt, err);
    if (s == NML_OK) s = emit_fc(c, node, lt, wt, n, k, bias, 0, err);
    free(wt);
    free(bias);
    return s;
}

nml_status imp_lower_matmul(imp_ctx *c, int node, nml_error *err) {
    imp_value *a = imp_in(c, node, 0), *b = imp_in(c, node, 1);
    int8_t ident[IMP_MAX_RANK];
    if (a->t.data || a->t.rank < 2)
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "A must be an activation of rank >= 2");
    imp_layout_identity(ident, a->t.rank);
    int lt = -1;
    if (!b->t.data || a->t.rank != 2)
        NML_TRY(imp_need_layout(c, (int)(a - c->vals), ident, &lt, err));
    if (b->t.data) {
        if (b->t.rank != 2)
            return imp_fail(c, err, node, NML_E_UNSUPPORTED, "constant B must have rank 2");
        int64_t k = b->t.dims[0], n = b->t.dims[1];
        float *wt = malloc((size_t)(n * k) * 4 + 4), *bias = calloc((size_t)n + 1, 4);
        nml_status s = wt && bias ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
        for (int64_t i = 0; s == NML_OK && i < n; i++)
            for (int64_t j = 0; j < k; j++)
                wt[i * k + j] = (float)imp_get(&b->t, (uint64_t)(j * n + i));
        if (s == NML_OK && a->t.rank == 2) s = fc_input(c, (int)(a - c->vals), wt, n, k, &lt, err);
        if (s == NML_OK) s = emit_fc(c, node, lt, wt, n, k, bias, a->t.rank > 2, err);
        free(wt);
        free(bias);
        return s;
    }
    int blt, ol;
    imp_layout_identity(ident, b->t.rank);
    NML_TRY(imp_need_layout(c, (int)(b - c->vals), ident, &blt, err));
    imp_layout_identity(ident, imp_out(c, node, 0)->t.rank);
    NML_TRY(imp_new_output(c, c->nodes[node].out[0], ident, &ol, err));
    nml_op_params p;
    nml_op_params_default(&p);
    int32_t ins[2] = {lt, blt};
    return lg_add_op(c, NML_OP_BATCH_MATMUL, &p, 2, ins, 1, &ol, err);
}

nml_status imp_lower_batchnorm(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    if (x->t.rank < 2) return imp_fail(c, err, node, NML_E_SHAPE, "input rank %d", x->t.rank);
    float *scale, *shift;
    int64_t ch = x->t.dims[1];
    NML_TRY(bn_params(c, node, ch, &scale, &shift, err));
    NML_TRY(imp_materialize(c, (int)(x - c->vals), err));
    x = imp_in(c, node, 0);
    int r = x->t.rank, st = -1, bt = -1, tmp = -1, ol;
    imp_tensor ts = {0}, tb = {0};
    int64_t dims[IMP_MAX_RANK];
    for (int i = 0; i < r; i++)
        dims[i] = i == 1 ? ch : 1;
    nml_status s = imp_tensor_alloc(&ts, IMP_F32, r, dims, err);
    if (s == NML_OK) s = imp_tensor_alloc(&tb, IMP_F32, r, dims, err);
    for (int64_t i = 0; s == NML_OK && i < ch; i++) {
        ((float *)ts.data)[i] = scale[i];
        ((float *)tb.data)[i] = shift[i];
    }
    free(scale);
    free(shift);
    char nm[300];
    snprintf(nm, sizeof nm, "%s/scale", c->nodes[node].n->name);
    if (s == NML_OK) s = imp_const_in_layout(c, &ts, r, x->layout, nm, &st, err);
    snprintf(nm, sizeof nm, "%s/shift", c->nodes[node].n->name);
    if (s == NML_OK) s = imp_const_in_layout(c, &tb, r, x->layout, nm, &bt, err);
    imp_tensor_free(&ts);
    imp_tensor_free(&tb);
    NML_TRY(s);
    int32_t d[NML_MAX_RANK];
    imp_stored_dims(x, x->layout, d);
    NML_TRY(lg_add_act(c, x->name, "/scaled", r, d, &tmp, err));
    nml_op_params p;
    nml_op_params_default(&p);
    int32_t ins[2] = {x->lt, st};
    NML_TRY(lg_add_op(c, NML_OP_MUL, &p, 2, ins, 1, &tmp, err));
    int out_v = c->nodes[node].out[0];
    p.activation = (uint8_t)imp_fuse_activation(c, out_v, &out_v);
    NML_TRY(imp_new_output(c, out_v, x->layout, &ol, err));
    ins[0] = tmp;
    ins[1] = bt;
    NML_TRY(lg_add_op(c, NML_OP_ADD, &p, 2, ins, 1, &ol, err));
    set_nonneg(c, out_v, p.activation);
    return NML_OK;
}
