/* Element-wise, concatenation, splitting, slicing, padding, softmax and resize. These work in
 * whatever layout their input already has: only the axis numbers and constant operands are
 * permuted into it, so no TRANSPOSE is needed around them. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/imp.h"

static int vidx(const imp_ctx *c, const imp_value *v) {
    return (int)(v - c->vals);
}

/* Stored position of ONNX axis a in layout. */
static int stored_axis(const int8_t *layout, int rank, int64_t a) {
    for (int i = 0; i < rank; i++)
        if (layout[i] == a) return i;
    return -1;
}

static nml_status simple_op(imp_ctx *c, int node, int32_t builtin, const nml_op_params *p, int n_in,
                            const int32_t *ins, const int8_t *layout, nml_error *err) {
    int ol;
    NML_TRY(imp_new_output(c, c->nodes[node].out[0], layout, &ol, err));
    return lg_add_op(c, builtin, p, n_in, ins, 1, &ol, err);
}

nml_status imp_lower_unary(imp_ctx *c, int node, nml_error *err) {
    static const struct {
        const char *op;
        int32_t builtin;
        int nonneg;
    } map[] = {{"Relu", NML_OP_RELU, 1},
               {"Sigmoid", NML_OP_LOGISTIC, 1},
               {"Tanh", NML_OP_TANH, 0},
               {"Exp", NML_OP_EXP, 1},
               {"Abs", NML_OP_ABS, 1},
               {"Neg", NML_OP_NEG, 0},
               {"Sqrt", NML_OP_SQRT, 1},
               {"Floor", NML_OP_FLOOR, 0},
               {"HardSwish", NML_OP_HARD_SWISH, 0},
               {"LeakyRelu", NML_OP_LEAKY_RELU, 0},
               {"Clip", -1, 0},
               {"Cast", -2, 0}};
    imp_value *x = imp_in(c, node, 0);
    const char *op = imp_op(c, node);
    int v = vidx(c, x);
    NML_TRY(imp_materialize(c, v, err));
    x = &c->vals[v];
    nml_op_params p;
    nml_op_params_default(&p);
    int32_t ins[1] = {x->lt};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(op, map[i].op) != 0) continue;
        int32_t builtin = map[i].builtin;
        int nonneg = map[i].nonneg;
        if (builtin == -2) { /* Cast between float types: nothing to do */
            imp_value *o = imp_out(c, node, 0);
            if (o->t.dtype != IMP_F32)
                return imp_fail(c, err, node, NML_E_UNSUPPORTED, "cast of an activation to int");
            o->lt = x->lt;
            memcpy(o->layout, x->layout, sizeof o->layout);
            o->nonneg = x->nonneg;
            return NML_OK;
        }
        if (builtin == -1) {
            /* Clip as a standalone operator: the RELU family, else MAXIMUM + MINIMUM */
            imp_value *lo = imp_in(c, node, 1), *hi = imp_in(c, node, 2);
            float l = -FLT_MAX, h = FLT_MAX;
            if (c->opset < 11) {
                NML_TRY(imp_attr_float(c, node, "min", -FLT_MAX, &l, err));
                NML_TRY(imp_attr_float(c, node, "max", FLT_MAX, &h, err));
            } else {
                if ((lo && (!lo->t.data || lo->t.count != 1)) ||
                    (hi && (!hi->t.data || hi->t.count != 1)))
                    return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                                    "min/max must be constant scalars");
                if (lo) l = (float)imp_get(&lo->t, 0);
                if (hi) h = (float)imp_get(&hi->t, 0);
            }
            if (l == 0.0f && h == 6.0f)
                builtin = NML_OP_RELU6, nonneg = 1;
            else if (l == -1.0f && h == 1.0f)
                builtin = NML_OP_RELU_N1_TO_1;
            else if (l == 0.0f && h >= FLT_MAX)
                builtin = NML_OP_RELU, nonneg = 1;
            else {
                int32_t one = 1;
                int lt_lo, lt_hi, mid;
                int32_t d[NML_MAX_RANK];
                char nm[300];
                snprintf(nm, sizeof nm, "%s/min", c->nodes[node].n->name);
                NML_TRY(lg_add_tensor(c, nm, NML_FLOAT32, 1, &one, &l, 4, &lt_lo, err));
                snprintf(nm, sizeof nm, "%s/max", c->nodes[node].n->name);
                NML_TRY(lg_add_tensor(c, nm, NML_FLOAT32, 1, &one, &h, 4, &lt_hi, err));
                imp_stored_dims(x, x->layout, d);
                NML_TRY(lg_add_act(c, x->name, "/clipped_low", x->t.rank, d, &mid, err));
                int32_t i1[2] = {x->lt, lt_lo}, i2[2] = {mid, lt_hi};
                NML_TRY(lg_add_op(c, NML_OP_MAXIMUM, &p, 2, i1, 1, &mid, err));
                NML_TRY(simple_op(c, node, NML_OP_MINIMUM, &p, 2, i2, x->layout, err));
                imp_out(c, node, 0)->nonneg = l >= 0;
                return NML_OK;
            }
        }
        if (builtin == NML_OP_LEAKY_RELU)
            NML_TRY(imp_attr_float(c, node, "alpha", 0.01f, &p.alpha, err));
        NML_TRY(simple_op(c, node, builtin, &p, 1, ins, x->layout, err));
        imp_out(c, node, 0)->nonneg = nonneg;
        return NML_OK;
    }
    return imp_fail(c, err, node, NML_E_UNSUPPORTED, "operator %s is not supported", op);
}

nml_status imp_lower_binary(imp_ctx *c, int node, nml_error *err) {
    static const struct {
        const char *op;
        int32_t builtin;
        int fuses;
    } map[] = {{"Add", NML_OP_ADD, 1}, {"Sub", NML_OP_SUB, 1},     {"Mul", NML_OP_MUL, 1},
               {"Div", NML_OP_DIV, 1}, {"Max", NML_OP_MAXIMUM, 0}, {"Min", NML_OP_MINIMUM, 0}};
    const char *op = imp_op(c, node);
    int32_t builtin = -1;
    int fuses = 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(op, map[i].op)) builtin = map[i].builtin, fuses = map[i].fuses;
    if (builtin < 0 || c->nodes[node].n_in != 2)
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "operator %s with %d inputs", op,
                        c->nodes[node].n_in);
    imp_value *a = imp_in(c, node, 0), *b = imp_in(c, node, 1), *o = imp_out(c, node, 0);
    int r = o->t.rank, act_i = a->t.data ? 1 : 0;
    imp_value *act = act_i ? b : a, *cst = act_i ? a : b;
    int8_t lay[IMP_MAX_RANK];
    int32_t ins[2];
    if (!cst->t.data) { /* two activations */
        NML_TRY(imp_materialize(c, vidx(c, a), err));
        a = imp_in(c, node, 0);
        if (a->t.rank == r && b->t.rank == r)
            memcpy(lay, a->layout, sizeof lay);
        else
            imp_layout_identity(lay, IMP_MAX_RANK); /* numpy broadcasting in ONNX order */
        int8_t la[IMP_MAX_RANK], lb[IMP_MAX_RANK];
        imp_layout_identity(la, a->t.rank);
        imp_layout_identity(lb, b->t.rank);
        NML_TRY(imp_need_layout(c, vidx(c, a), a->t.rank == r && b->t.rank == r ? lay : la, &ins[0],
                                err));
        NML_TRY(imp_need_layout(c, vidx(c, b), a->t.rank == r && b->t.rank == r ? lay : lb, &ins[1],
                                err));
    } else {
        if (act->t.rank != r)
            return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                            "broadcasting an activation of rank %d to rank %d", act->t.rank, r);
        int av = vidx(c, act);
        NML_TRY(imp_materialize(c, av, err));
        act = &c->vals[av];
        memcpy(lay, act->layout, sizeof lay);
        int ct;
        char nm[300];
        snprintf(nm, sizeof nm, "%s/%s", c->nodes[node].n->name, cst->name);
        NML_TRY(imp_const_in_layout(c, &cst->t, r, lay, nm, &ct, err));
        ins[act_i] = act->lt;
        ins[1 - act_i] = ct;
    }
    nml_op_params p;
    nml_op_params_default(&p);
    int out_v = c->nodes[node].out[0], ol;
    if (fuses) p.activation = (uint8_t)imp_fuse_activation(c, out_v, &out_v);
    NML_TRY(imp_new_output(c, out_v, lay, &ol, err));
    NML_TRY(lg_add_op(c, builtin, &p, 2, ins, 1, &ol, err));
    if (p.activation == NML_ACT_RELU || p.activation == NML_ACT_RELU6) c->vals[out_v].nonneg = 1;
    return NML_OK;
}

nml_status imp_lower_softmax(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int r = x->t.rank, v = vidx(c, x);
    int64_t axis;
    NML_TRY(imp_attr_int(c, node, "axis", c->opset >= 13 ? -1 : 1, &axis, err));
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) return imp_fail(c, err, node, NML_E_FORMAT, "axis out of range");
    int32_t builtin = strcmp(imp_op(c, node), "LogSoftmax") ? NML_OP_SOFTMAX : NML_OP_LOG_SOFTMAX;
    nml_op_params p;
    nml_op_params_default(&p);
    uint64_t inner = 1;
    for (int d = (int)axis + 1; d < r; d++)
        inner *= (uint64_t)x->t.dims[d];
    if (c->opset < 13 && inner != 1) {
        /* opset < 13: softmax over everything from axis on, as one flattened row */
        int8_t ident[IMP_MAX_RANK];
        imp_layout_identity(ident, r);
        int lt, flat, sm, ol, rs;
        NML_TRY(imp_need_layout(c, v, ident, &lt, err));
        int64_t rows = (int64_t)(x->t.count / (inner * (uint64_t)x->t.dims[axis]));
        int32_t d2[2] = {(int32_t)rows, (int32_t)(inner * (uint64_t)x->t.dims[axis])}, two = 2;
        int32_t rd = r, d[NML_MAX_RANK];
        NML_TRY(imp_dims32(c, node, r, x->t.dims, d, err));
        char nm[300];
        snprintf(nm, sizeof nm, "%s/rows", x->name);
        NML_TRY(lg_add_i32(c, nm, 1, &two, d2, &rs, err));
        NML_TRY(lg_add_act(c, x->name, "/rows", 2, d2, &flat, err));
        nml_op_params rp;
        nml_op_params_default(&rp);
        rp.new_shape_len = 2;
        rp.new_shape[0] = d2[0];
        rp.new_shape[1] = d2[1];
        int32_t i1[2] = {lt, rs};
        NML_TRY(lg_add_op(c, NML_OP_RESHAPE, &rp, 2, i1, 1, &flat, err));
        NML_TRY(lg_add_act(c, x->name, "/softmax_rows", 2, d2, &sm, err));
        NML_TRY(lg_add_op(c, builtin, &p, 1, &flat, 1, &sm, err));
        snprintf(nm, sizeof nm, "%s/shape", x->name);
        NML_TRY(lg_add_i32(c, nm, 1, &rd, d, &rs, err));
        NML_TRY(imp_new_output(c, c->nodes[node].out[0], ident, &ol, err));
        rp.new_shape_len = r;
        for (int i = 0; i < r; i++)
            rp.new_shape[i] = d[i];
        int32_t i2[2] = {sm, rs};
        return lg_add_op(c, NML_OP_RESHAPE, &rp, 2, i2, 1, &ol, err);
    }
    NML_TRY(imp_materialize(c, v, err));
    x = &c->vals[v];
    int8_t lay[IMP_MAX_RANK];
    memcpy(lay, x->layout, sizeof lay);
    if (lay[r - 1] != axis) { /* TFLite's softmax runs over the last stored axis */
        int k = 0;
        for (int i = 0; i < r; i++)
            if (x->layout[i] != axis) lay[k++] = x->layout[i];
        lay[r - 1] = (int8_t)axis;
    }
    int lt;
    NML_TRY(imp_need_layout(c, v, lay, &lt, err));
    int32_t ins[1] = {lt};
    NML_TRY(simple_op(c, node, builtin, &p, 1, ins, lay, err));
    if (builtin == NML_OP_SOFTMAX) imp_out(c, node, 0)->nonneg = 1;
    return NML_OK;
}

nml_status imp_lower_concat(imp_ctx *c, int node, nml_error *err) {
    imp_node *nd = &c->nodes[node];
    imp_value *o = imp_out(c, node, 0);
    int r = o->t.rank, first = -1;
    int64_t axis;
    NML_TRY(imp_attr_int(c, node, "axis", 0, &axis, err));
    if (axis < 0) axis += r;
    for (int i = 0; i < nd->n_in && first < 0; i++)
        if (nd->in[i] >= 0 && !c->vals[nd->in[i]].t.data) first = nd->in[i];
    if (first < 0) return imp_fail(c, err, node, NML_E_INTERNAL, "no activation input");
    NML_TRY(imp_materialize(c, first, err));
    int8_t lay[IMP_MAX_RANK];
    memcpy(lay, c->vals[first].layout, sizeof lay);
    int32_t ins[NML_MAX_OP_INPUTS];
    int n = 0, nonneg = 1;
    for (int i = 0; i < nd->n_in; i++) {
        int v = nd->in[i];
        if (v < 0 || c->vals[v].t.count == 0) continue;
        if (n >= NML_MAX_OP_INPUTS)
            return imp_fail(c, err, node, NML_E_LIMIT, "more than %d inputs", NML_MAX_OP_INPUTS);
        if (c->vals[v].t.data) {
            char nm[300];
            snprintf(nm, sizeof nm, "%s/%s", nd->n->name, c->vals[v].name);
            NML_TRY(imp_const_in_layout(c, &c->vals[v].t, r, lay, nm, &ins[n++], err));
            nonneg = 0;
        } else {
            NML_TRY(imp_need_layout(c, v, lay, &ins[n++], err));
            nonneg &= c->vals[v].nonneg;
        }
    }
    nml_op_params p;
    nml_op_params_default(&p);
    p.axis = stored_axis(lay, r, axis);
    NML_TRY(simple_op(c, node, NML_OP_CONCATENATION, &p, n, ins, lay, err));
    o->nonneg = nonneg;
    return NML_OK;
}

nml_status imp_lower_split(imp_ctx *c, int node, nml_error *err) {
    imp_node *nd = &c->nodes[node];
    imp_value *x = imp_in(c, node, 0);
    int v = vidx(c, x), r = x->t.rank;
    NML_TRY(imp_materialize(c, v, err));
    x = &c->vals[v];
    int64_t axis;
    NML_TRY(imp_attr_int(c, node, "axis", 0, &axis, err));
    if (axis < 0) axis += r;
    int sa = stored_axis(x->layout, r, axis), equal = 1;
    int32_t sizes[NML_MAX_OP_OUTPUTS], outs[NML_MAX_OP_OUTPUTS];
    if (nd->n_out > NML_MAX_OP_OUTPUTS)
        return imp_fail(c, err, node, NML_E_LIMIT, "more than %d outputs", NML_MAX_OP_OUTPUTS);
    for (int k = 0; k < nd->n_out; k++) {
        imp_value *o = imp_out(c, node, k);
        if (!o) return imp_fail(c, err, node, NML_E_UNSUPPORTED, "unnamed outputs");
        sizes[k] = (int32_t)o->t.dims[axis];
        if (sizes[k] != sizes[0]) equal = 0;
        NML_TRY(imp_new_output(c, nd->out[k], x->layout, &outs[k], err));
        o->nonneg = x->nonneg;
    }
    int32_t one = 1, at, st;
    int32_t sa32 = sa;
    char nm[300];
    snprintf(nm, sizeof nm, "%s/axis", nd->n->name);
    NML_TRY(lg_add_i32(c, nm, 0, &one, &sa32, &at, err));
    nml_op_params p;
    nml_op_params_default(&p);
    p.num_splits = nd->n_out;
    p.axis = sa;
    if (equal) {
        int32_t ins[2] = {at, x->lt};
        return lg_add_op(c, NML_OP_SPLIT, &p, 2, ins, nd->n_out, outs, err);
    }
    int32_t nsz = nd->n_out;
    snprintf(nm, sizeof nm, "%s/size_splits", nd->n->name);
    NML_TRY(lg_add_i32(c, nm, 1, &nsz, sizes, &st, err));
    int32_t ins[3] = {x->lt, st, at};
    return lg_add_op(c, NML_OP_SPLIT_V, &p, 3, ins, nd->n_out, outs, err);
}

nml_status imp_lower_slice(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int v = vidx(c, x), r = x->t.rank;
    NML_TRY(imp_materialize(c, v, err));
    x = &c->vals[v];
    int64_t start[IMP_MAX_RANK], step[IMP_MAX_RANK], count[IMP_MAX_RANK];
    NML_TRY(imp_slice_params(c, node, start, step, count, err));
    int32_t b[NML_MAX_RANK], e[NML_MAX_RANK], s[NML_MAX_RANK];
    nml_op_params p;
    nml_op_params_default(&p);
    for (int i = 0; i < r; i++) {
        int a = x->layout[i];
        if (count[a] == 0) return imp_fail(c, err, node, NML_E_UNSUPPORTED, "empty slice");
        if (count[a] == 1) step[a] = 1; /* one element: the step is irrelevant (and may be huge) */
        int64_t last = start[a] + (count[a] - 1) * step[a];
        b[i] = (int32_t)start[a];
        s[i] = (int32_t)step[a];
        e[i] = (int32_t)(step[a] > 0 ? last + 1 : last - 1);
        if (step[a] < 0 && last == 0) { /* end -1 would mean "from the back" in TFLite */
            e[i] = 0;
            p.end_mask |= 1 << i;
        }
    }
    int32_t rd = r;
    int bt, et, stt;
    char nm[300];
    snprintf(nm, sizeof nm, "%s/begin", c->nodes[node].n->name);
    NML_TRY(lg_add_i32(c, nm, 1, &rd, b, &bt, err));
    snprintf(nm, sizeof nm, "%s/end", c->nodes[node].n->name);
    NML_TRY(lg_add_i32(c, nm, 1, &rd, e, &et, err));
    snprintf(nm, sizeof nm, "%s/strides", c->nodes[node].n->name);
    NML_TRY(lg_add_i32(c, nm, 1, &rd, s, &stt, err));
    int32_t ins[4] = {x->lt, bt, et, stt};
    NML_TRY(simple_op(c, node, NML_OP_STRIDED_SLICE, &p, 4, ins, x->layout, err));
    imp_out(c, node, 0)->nonneg = x->nonneg;
    return NML_OK;
}

nml_status imp_lower_pad(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int v = vidx(c, x), r = x->t.rank;
    NML_TRY(imp_materialize(c, v, err));
    x = &c->vals[v];
    int64_t pads[2 * IMP_MAX_RANK];
    int n;
    if (c->opset >= 11)
        NML_TRY(imp_const_ints(c, node, 1, pads, &n, 2 * IMP_MAX_RANK, err));
    else
        NML_TRY(imp_attr_ints(c, node, "pads", pads, &n, 2 * IMP_MAX_RANK, err));
    const char *mode = imp_attr_str(c, node, "mode", "constant");
    float value = 0.0f;
    if (c->opset >= 11) {
        imp_value *cv = imp_in(c, node, 2);
        if (cv && (!cv->t.data || cv->t.count != 1))
            return imp_fail(c, err, node, NML_E_UNSUPPORTED, "constant_value must be a constant");
        if (cv) value = (float)imp_get(&cv->t, 0);
    } else {
        NML_TRY(imp_attr_float(c, node, "value", 0.0f, &value, err));
    }
    int32_t pd[2 * NML_MAX_RANK];
    for (int i = 0; i < r; i++) {
        int a = x->layout[i];
        if (pads[a] < 0 || pads[a + r] < 0)
            return imp_fail(c, err, node, NML_E_UNSUPPORTED, "negative pads are not supported");
        pd[2 * i] = (int32_t)pads[a];
        pd[2 * i + 1] = (int32_t)pads[a + r];
    }
    int32_t dd[2] = {r, 2}, one = 1;
    int pt, vt = -1;
    char nm[300];
    snprintf(nm, sizeof nm, "%s/paddings", c->nodes[node].n->name);
    NML_TRY(lg_add_i32(c, nm, 2, dd, pd, &pt, err));
    nml_op_params p;
    nml_op_params_default(&p);
    int32_t builtin = NML_OP_PAD, ins[3] = {x->lt, pt, -1}, n_in = 2;
    if (!strcmp(mode, "reflect")) {
        builtin = NML_OP_MIRROR_PAD;
        p.mirror_mode = 0;
    } else if (strcmp(mode, "constant") != 0) {
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "pad mode '%s' is not supported", mode);
    } else if (value != 0.0f) {
        builtin = NML_OP_PADV2;
        snprintf(nm, sizeof nm, "%s/value", c->nodes[node].n->name);
        NML_TRY(lg_add_tensor(c, nm, NML_FLOAT32, 1, &one, &value, 4, &vt, err));
        ins[2] = vt;
        n_in = 3;
    }
    NML_TRY(simple_op(c, node, builtin, &p, n_in, ins, x->layout, err));
    imp_out(c, node, 0)->nonneg = x->nonneg && value >= 0;
    return NML_OK;
}

/* ---- Resize ---- */

/* ONNX Runtime's source coordinate for output index y (float arithmetic, as ORT does). */
static float onnx_coord(const char *mode, float y, float scale, int64_t in, int64_t out, int *ok) {
    if (!strcmp(mode, "asymmetric")) return y / scale;
    if (!strcmp(mode, "half_pixel")) return (y + 0.5f) / scale - 0.5f;
    if (!strcmp(mode, "pytorch_half_pixel")) return out > 1 ? (y + 0.5f) / scale - 0.5f : 0.0f;
    if (!strcmp(mode, "tf_half_pixel_for_nn")) return (y + 0.5f) / scale;
    if (!strcmp(mode, "align_corners"))
        return out == 1 ? 0.0f : y * (float)(in - 1) / (float)(out - 1);
    *ok = 0;
    return 0;
}

static int64_t onnx_nearest(const char *nmode, float x, int *ok) {
    if (!strcmp(nmode, "floor")) return (int64_t)floorf(x);
    if (!strcmp(nmode, "ceil")) return (int64_t)ceilf(x);
    if (!strcmp(nmode, "round_prefer_floor"))
        return x == floorf(x) + 0.5f ? (int64_t)floorf(x) : (int64_t)roundf(x);
    if (!strcmp(nmode, "round_prefer_ceil"))
        return x == floorf(x) + 0.5f ? (int64_t)ceilf(x) : (int64_t)roundf(x);
    *ok = 0;
    return 0;
}

/* TFLite RESIZE_NEAREST_NEIGHBOR's source index (reference kernel semantics). */
static int64_t tflite_nearest(int64_t y, int64_t in, int64_t out, int ac, int hpc) {
    float scale = ac && out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
    float offset = hpc ? 0.5f : 0.0f;
    float v = ((float)y + offset) * scale;
    int64_t r = ac ? (int64_t)roundf(v) : (int64_t)floorf(v);
    if (r > in - 1) r = in - 1;
    if (hpc && r < 0) r = 0;
    return r;
}

static nml_status resize_scale(imp_ctx *c, int node, int axis, float *scale) {
    imp_value *x = imp_in(c, node, 0), *o = imp_out(c, node, 0);
    int is_upsample = !strcmp(imp_op(c, node), "Upsample");
    imp_value *vs = imp_in(c, node, is_upsample || c->opset < 11 ? 1 : 2);
    if (vs && vs->t.count > 0)
        *scale = (float)imp_get(&vs->t, (uint64_t)axis);
    else
        *scale = (float)o->t.dims[axis] / (float)x->t.dims[axis];
    return NML_OK;
}

nml_status imp_lower_resize(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0), *o = imp_out(c, node, 0);
    if (x->t.rank != 4 || o->t.dims[0] != x->t.dims[0] || o->t.dims[1] != x->t.dims[1])
        return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                        "only resizing the two spatial axes of a rank-4 tensor is supported");
    int old = c->opset < 11 || !strcmp(imp_op(c, node), "Upsample");
    const char *mode = imp_attr_str(c, node, "mode", "nearest");
    const char *coord =
        old ? "asymmetric" : imp_attr_str(c, node, "coordinate_transformation_mode", "half_pixel");
    const char *nmode = old ? "floor" : imp_attr_str(c, node, "nearest_mode", "round_prefer_floor");
    float scale[2];
    for (int a = 0; a < 2; a++)
        resize_scale(c, node, 2 + a, &scale[a]);
    int ac = 0, hpc = 0, found = 0;
    int32_t builtin;
    if (!strcmp(mode, "nearest")) {
        builtin = NML_OP_RESIZE_NEAREST_NEIGHBOR;
        /* the mapping is compared index by index below: found by the ONNX fuzzer, an output of
         * 1.5 billion columns took 30 s (TFLite sizes are int32; no image is this wide) */
        for (int a = 0; a < 2; a++)
            if (o->t.dims[2 + a] > IMP_MAX_RESIZE_SIDE)
                return imp_fail(c, err, node, NML_E_LIMIT,
                                "nearest resize to %lld pixels along axis %d (at most %d)",
                                (long long)o->t.dims[2 + a], 2 + a, IMP_MAX_RESIZE_SIDE);
        static const int cand[3][2] = {{0, 0}, {0, 1}, {1, 0}};
        for (int k = 0; k < 3 && !found; k++) {
            int match = 1;
            for (int a = 0; a < 2 && match; a++) {
                int64_t in = x->t.dims[2 + a], out = o->t.dims[2 + a];
                for (int64_t y = 0; y < out && match; y++) {
                    int ok = 1;
                    float src = onnx_coord(coord, (float)y, scale[a], in, out, &ok);
                    int64_t want = onnx_nearest(nmode, src, &ok);
                    if (!ok)
                        return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                                        "coordinate_transformation_mode '%s' / nearest_mode '%s'",
                                        coord, nmode);
                    want = want < 0 ? 0 : want > in - 1 ? in - 1 : want;
                    if (want != tflite_nearest(y, in, out, cand[k][0], cand[k][1])) match = 0;
                }
            }
            if (match) ac = cand[k][0], hpc = cand[k][1], found = 1;
        }
        if (!found)
            return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                            "nearest mapping '%s'/'%s' has no RESIZE_NEAREST_NEIGHBOR equivalent",
                            coord, nmode);
    } else if (!strcmp(mode, "linear") || !strcmp(mode, "bilinear")) {
        builtin = NML_OP_RESIZE_BILINEAR;
        for (int a = 0; a < 2; a++)
            if (fabsf(scale[a] * (float)x->t.dims[2 + a] - (float)o->t.dims[2 + a]) > 1e-4f)
                return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                                "bilinear resize with a scale that is not output/input");
        if (!strcmp(coord, "align_corners"))
            ac = 1;
        else if (!strcmp(coord, "half_pixel") || !strcmp(coord, "pytorch_half_pixel"))
            hpc = 1;
        else if (strcmp(coord, "asymmetric") != 0)
            return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                            "linear resize with coordinate_transformation_mode '%s'", coord);
    } else {
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "resize mode '%s' is not supported", mode);
    }
    int lt, st;
    NML_TRY(imp_need_layout(c, vidx(c, x), imp_nhwc, &lt, err));
    int32_t size[2] = {(int32_t)o->t.dims[2], (int32_t)o->t.dims[3]}, two = 2;
    char nm[300];
    snprintf(nm, sizeof nm, "%s/size", c->nodes[node].n->name);
    NML_TRY(lg_add_i32(c, nm, 1, &two, size, &st, err));
    nml_op_params p;
    nml_op_params_default(&p);
    p.align_corners = (uint8_t)ac;
    p.half_pixel_centers = (uint8_t)hpc;
    int32_t ins[2] = {lt, st};
    NML_TRY(simple_op(c, node, builtin, &p, 2, ins, imp_nhwc, err));
    o->nonneg = x->nonneg;
    return NML_OK;
}

nml_status imp_lower_gather_dynamic(imp_ctx *c, int node, nml_error *err) {
    return imp_fail(c, err, node, NML_E_UNSUPPORTED, "Gather with non-constant indices");
}
