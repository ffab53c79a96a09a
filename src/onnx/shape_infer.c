/* Shape inference and constant folding, node by node in topological order.
 *
 * Re-targeting the input size: FastestDet-style exports store Reshape shapes as constants that
 * were traced at the export size ([24, 2, 1936] = [C/2, 2, H*W] at 44x44). When the user asks
 * for another input size, inference runs twice: first at the model's own size, recording every
 * tensor's original shape, then at the new size. A stored Reshape shape is then re-derived by
 * matching its dimensions to the input's dimensions at the original size (groups of equal
 * products); dimensions built only from unchanged (channel) axes are kept, and a dimension that
 * merged changed axes takes the product of their new sizes. Each dimension remembers which
 * original axes were merged into it, so a later Reshape can split H*W back into H and W.
 * Shapes that the graph computes itself (Shape -> Gather -> Concat -> Reshape) are simply
 * folded at the new size. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "onnx/imp.h"

#define MAX_SPLIT 64

static int is_op(const imp_ctx *c, int node, const char *op) {
    return strcmp(imp_op(c, node), op) == 0;
}

static nml_status set_out(imp_ctx *c, int node, int k, int dtype, int rank, const int64_t *dims,
                          nml_error *err) {
    imp_value *o = imp_out(c, node, k);
    if (!o) return NML_OK;
    if (rank > IMP_MAX_RANK)
        return imp_fail(c, err, node, NML_E_LIMIT, "output rank %d exceeds %d", rank, IMP_MAX_RANK);
    uint64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || dims[i] > NML_MAX_DIM)
            return imp_fail(c, err, node, NML_E_SHAPE, "output dimension %d is %lld", i,
                            (long long)dims[i]);
        if (dims[i] && n > ((uint64_t)1 << 40) / (uint64_t)dims[i])
            return imp_fail(c, err, node, NML_E_LIMIT, "output has too many elements");
        n *= (uint64_t)dims[i];
    }
    imp_tensor_free(&o->t);
    o->t.dtype = dtype;
    o->t.rank = rank;
    for (int i = 0; i < rank; i++)
        o->t.dims[i] = dims[i];
    o->t.count = n;
    o->known = 1;
    /* by default each dimension is its own single constituent */
    for (int i = 0; i < rank; i++) {
        o->cons_n[i] = 1;
        o->cons_new[i][0] = dims[i];
        o->cons_o[i][0] = o->has_orig && o->orig_rank == rank ? o->orig_dims[i] : dims[i];
    }
    return NML_OK;
}

static nml_status same_as_input(imp_ctx *c, int node, int dtype, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    if (!x) return imp_fail(c, err, node, NML_E_FORMAT, "missing input 0");
    return set_out(c, node, 0, dtype ? dtype : x->t.dtype, x->t.rank, x->t.dims, err);
}

static int64_t norm_axis(int64_t axis, int rank) {
    return axis < 0 ? axis + rank : axis;
}

static nml_status check_axis(imp_ctx *c, int node, int64_t *axis, int rank, nml_error *err) {
    int64_t a = norm_axis(*axis, rank);
    if (a < 0 || a >= (rank ? rank : 1))
        return imp_fail(c, err, node, NML_E_FORMAT, "axis %lld out of range for rank %d",
                        (long long)*axis, rank);
    *axis = a;
    return NML_OK;
}

nml_status imp_broadcast(int ra, const int64_t *a, int rb, const int64_t *b, int *r, int64_t *out,
                         nml_error *err) {
    int n = ra > rb ? ra : rb;
    for (int i = 0; i < n; i++) {
        int ia = i - (n - ra), ib = i - (n - rb);
        int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return nml_fail(err, NML_E_SHAPE,
                            "shapes do not broadcast: dimension %d is %lld vs "
                            "%lld",
                            i, (long long)da, (long long)db);
        out[i] = da == 1 ? db : da;
    }
    *r = n;
    return NML_OK;
}

static nml_status infer_broadcast(imp_ctx *c, int node, int out_dtype, nml_error *err) {
    int r = 0;
    int64_t dims[IMP_MAX_RANK];
    int dtype = 0;
    for (int i = 0; i < c->nodes[node].n_in; i++) {
        imp_value *x = imp_in(c, node, i);
        if (!x) continue;
        if (is_op(c, node, "Where") && i == 0) {
            /* the condition broadcasts but does not decide the type */
        } else if (!dtype) {
            dtype = x->t.dtype;
        }
        int64_t tmp[IMP_MAX_RANK];
        int rt;
        if (imp_broadcast(r, dims, x->t.rank, x->t.dims, &rt, tmp, err) != NML_OK)
            return imp_fail(c, err, node, NML_E_SHAPE, "%s", err->msg);
        r = rt;
        memcpy(dims, tmp, sizeof dims);
    }
    return set_out(c, node, 0, out_dtype ? out_dtype : dtype, r, dims, err);
}

/* ---- windows (Conv, pools) ---- */

nml_status imp_window_out(imp_window *w, int ceil_mode, nml_error *err) {
    if (w->k < 1 || w->stride < 1 || w->dilation < 1 || w->pad_begin < 0 || w->pad_end < 0 ||
        w->k > NML_MAX_DIM || w->stride > NML_MAX_DIM || w->dilation > NML_MAX_DIM ||
        w->pad_begin > NML_MAX_DIM || w->pad_end > NML_MAX_DIM)
        return nml_fail(err, NML_E_FORMAT,
                        "bad window: kernel %lld stride %lld dilation %lld pads %lld,%lld",
                        (long long)w->k, (long long)w->stride, (long long)w->dilation,
                        (long long)w->pad_begin, (long long)w->pad_end);
    int64_t eff = (w->k - 1) * w->dilation + 1;
    int64_t span = w->in + w->pad_begin + w->pad_end - eff;
    if (span < 0)
        return nml_fail(err, NML_E_SHAPE,
                        "kernel %lld (dilated %lld) larger than padded input "
                        "%lld",
                        (long long)w->k, (long long)eff,
                        (long long)(w->in + w->pad_begin + w->pad_end));
    w->out = span / w->stride + 1;
    if (ceil_mode && span % w->stride) {
        w->out++;
        /* the last window must start inside the input or its leading padding */
        if ((w->out - 1) * w->stride >= w->in + w->pad_begin) w->out--;
    }
    return NML_OK;
}

nml_status imp_windows(imp_ctx *c, int node, const int64_t *in_nchw, const int64_t *kernel,
                       imp_window w[2], nml_error *err) {
    int64_t ks[4], st[4], dl[4], pads[8];
    int nk, ns, nd, np;
    NML_TRY(imp_attr_ints(c, node, "kernel_shape", ks, &nk, 4, err));
    NML_TRY(imp_attr_ints(c, node, "strides", st, &ns, 4, err));
    NML_TRY(imp_attr_ints(c, node, "dilations", dl, &nd, 4, err));
    NML_TRY(imp_attr_ints(c, node, "pads", pads, &np, 8, err));
    int64_t ceil_mode;
    NML_TRY(imp_attr_int(c, node, "ceil_mode", 0, &ceil_mode, err));
    const char *auto_pad = imp_attr_str(c, node, "auto_pad", "NOTSET");
    if ((nk && nk != 2) || (ns && ns != 2) || (nd && nd != 2) || (np && np != 4))
        return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                        "only 2-D windows are supported (kernel_shape has %d values)", nk);
    if (!nk && !kernel) return imp_fail(c, err, node, NML_E_FORMAT, "kernel_shape is missing");
    for (int i = 0; i < 2; i++) {
        w[i].in = in_nchw[2 + i];
        w[i].k = nk ? ks[i] : kernel[i];
        if (kernel && nk && ks[i] != kernel[i])
            return imp_fail(c, err, node, NML_E_SHAPE,
                            "kernel_shape %lld does not match the weights' %lld", (long long)ks[i],
                            (long long)kernel[i]);
        w[i].stride = ns ? st[i] : 1;
        w[i].dilation = nd ? dl[i] : 1;
        w[i].pad_begin = np ? pads[i] : 0;
        w[i].pad_end = np ? pads[i + 2] : 0;
        int same_upper = !strcmp(auto_pad, "SAME_UPPER"),
            same_lower = !strcmp(auto_pad, "SAME_LOWER");
        if (same_upper || same_lower) {
            if (w[i].stride < 1 || w[i].k < 1 || w[i].dilation < 1 || w[i].k > NML_MAX_DIM ||
                w[i].dilation > NML_MAX_DIM || w[i].stride > NML_MAX_DIM)
                return imp_fail(c, err, node, NML_E_FORMAT, "bad kernel, stride or dilation");
            int64_t out = (w[i].in + w[i].stride - 1) / w[i].stride;
            int64_t eff = (w[i].k - 1) * w[i].dilation + 1;
            int64_t total = (out - 1) * w[i].stride + eff - w[i].in;
            if (total < 0) total = 0;
            w[i].pad_begin = same_upper ? total / 2 : total - total / 2;
            w[i].pad_end = total - w[i].pad_begin;
        } else if (!strcmp(auto_pad, "VALID")) {
            w[i].pad_begin = w[i].pad_end = 0;
        } else if (strcmp(auto_pad, "NOTSET") != 0) {
            return imp_fail(c, err, node, NML_E_FORMAT, "unknown auto_pad '%s'", auto_pad);
        }
        if (imp_window_out(&w[i], (int)ceil_mode, err) != NML_OK)
            return imp_fail(c, err, node, err->status, "%s axis: %s", i ? "width" : "height",
                            err->msg);
    }
    return NML_OK;
}

static nml_status need_rank(imp_ctx *c, int node, const imp_value *x, int rank, nml_error *err) {
    if (x->t.rank != rank)
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "input '%s' has rank %d, expected %d",
                        x->name, x->t.rank, rank);
    return NML_OK;
}

static nml_status infer_conv(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0), *w = imp_in(c, node, 1), *b = imp_in(c, node, 2);
    if (!x || !w) return imp_fail(c, err, node, NML_E_FORMAT, "needs X and W inputs");
    if (x->t.rank != 4 || w->t.rank != 4)
        return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                        "only 2-D convolutions are supported (input rank %d, weight rank %d)",
                        x->t.rank, w->t.rank);
    int64_t group;
    NML_TRY(imp_attr_int(c, node, "group", 1, &group, err));
    int64_t m = w->t.dims[0];
    if (m < 1 || w->t.dims[1] < 1) return imp_fail(c, err, node, NML_E_SHAPE, "empty weights");
    if (group < 1 || group > NML_MAX_DIM || x->t.dims[1] != w->t.dims[1] * group || m % group)
        return imp_fail(c, err, node, NML_E_SHAPE,
                        "input has %lld channels, weights [%lld,%lld,..] with group %lld",
                        (long long)x->t.dims[1], (long long)m, (long long)w->t.dims[1],
                        (long long)group);
    if (b && (b->t.rank != 1 || b->t.dims[0] != m))
        return imp_fail(c, err, node, NML_E_SHAPE, "bias must have %lld values", (long long)m);
    imp_window win[2];
    NML_TRY(imp_windows(c, node, x->t.dims, w->t.dims + 2, win, err));
    int64_t out[4] = {x->t.dims[0], m, win[0].out, win[1].out};
    return set_out(c, node, 0, IMP_F32, 4, out, err);
}

static nml_status infer_pool(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    NML_TRY(need_rank(c, node, x, 4, err));
    imp_window win[2];
    NML_TRY(imp_windows(c, node, x->t.dims, NULL, win, err));
    int64_t out[4] = {x->t.dims[0], x->t.dims[1], win[0].out, win[1].out};
    NML_TRY(set_out(c, node, 0, IMP_F32, 4, out, err));
    return set_out(c, node, 1, IMP_I64, 4, out, err); /* MaxPool indices */
}

static nml_status infer_global_pool(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    if (x->t.rank < 3) return imp_fail(c, err, node, NML_E_SHAPE, "input rank %d < 3", x->t.rank);
    int64_t out[IMP_MAX_RANK];
    for (int i = 0; i < x->t.rank; i++)
        out[i] = i < 2 ? x->t.dims[i] : 1;
    return set_out(c, node, 0, IMP_F32, x->t.rank, out, err);
}

static nml_status infer_gemm(imp_ctx *c, int node, nml_error *err) {
    imp_value *a = imp_in(c, node, 0), *b = imp_in(c, node, 1);
    if (!a || !b || a->t.rank != 2 || b->t.rank != 2)
        return imp_fail(c, err, node, NML_E_SHAPE, "Gemm needs two rank-2 inputs");
    int64_t ta, tb;
    NML_TRY(imp_attr_int(c, node, "transA", 0, &ta, err));
    NML_TRY(imp_attr_int(c, node, "transB", 0, &tb, err));
    int64_t m = ta ? a->t.dims[1] : a->t.dims[0], k = ta ? a->t.dims[0] : a->t.dims[1];
    int64_t kb = tb ? b->t.dims[1] : b->t.dims[0], n = tb ? b->t.dims[0] : b->t.dims[1];
    if (k != kb)
        return imp_fail(c, err, node, NML_E_SHAPE, "inner dimensions %lld and %lld differ",
                        (long long)k, (long long)kb);
    int64_t out[2] = {m, n};
    return set_out(c, node, 0, IMP_F32, 2, out, err);
}

static nml_status infer_matmul(imp_ctx *c, int node, nml_error *err) {
    imp_value *a = imp_in(c, node, 0), *b = imp_in(c, node, 1);
    if (!a || !b || a->t.rank < 1 || b->t.rank < 1)
        return imp_fail(c, err, node, NML_E_SHAPE, "MatMul needs two inputs of rank >= 1");
    int ra = a->t.rank, rb = b->t.rank;
    int64_t da[IMP_MAX_RANK + 1], db[IMP_MAX_RANK + 1];
    memcpy(da, a->t.dims, sizeof(int64_t) * (size_t)ra);
    memcpy(db, b->t.dims, sizeof(int64_t) * (size_t)rb);
    if (ra == 1) {
        da[1] = da[0];
        da[0] = 1;
        ra = 2;
    }
    if (rb == 1) {
        db[1] = 1;
        rb = 2;
    }
    if (da[ra - 1] != db[rb - 2])
        return imp_fail(c, err, node, NML_E_SHAPE, "inner dimensions %lld and %lld differ",
                        (long long)da[ra - 1], (long long)db[rb - 2]);
    int r;
    int64_t out[IMP_MAX_RANK + 2];
    if (imp_broadcast(ra - 2, da, rb - 2, db, &r, out, err) != NML_OK)
        return imp_fail(c, err, node, NML_E_SHAPE, "batch %s", err->msg);
    if (a->t.rank > 1) out[r++] = da[ra - 2];
    if (b->t.rank > 1) out[r++] = db[rb - 1];
    return set_out(c, node, 0, IMP_F32, r, out, err);
}

static nml_status infer_concat(imp_ctx *c, int node, nml_error *err) {
    int64_t axis;
    NML_TRY(imp_attr_int(c, node, "axis", 0, &axis, err));
    imp_value *first = NULL;
    int64_t out[IMP_MAX_RANK];
    for (int i = 0; i < c->nodes[node].n_in; i++) {
        imp_value *x = imp_in(c, node, i);
        if (!x) continue;
        if (!first) {
            first = x;
            NML_TRY(check_axis(c, node, &axis, x->t.rank, err));
            memcpy(out, x->t.dims, sizeof out);
            continue;
        }
        if (x->t.rank != first->t.rank)
            return imp_fail(c, err, node, NML_E_SHAPE, "inputs have ranks %d and %d", first->t.rank,
                            x->t.rank);
        for (int d = 0; d < x->t.rank; d++) {
            if (d == axis) {
                out[d] += x->t.dims[d];
            } else if (x->t.dims[d] != out[d]) {
                return imp_fail(c, err, node, NML_E_SHAPE,
                                "input '%s' dimension %d is %lld, expected %lld", x->name, d,
                                (long long)x->t.dims[d], (long long)out[d]);
            }
        }
    }
    if (!first) return imp_fail(c, err, node, NML_E_FORMAT, "no inputs");
    return set_out(c, node, 0, first->t.dtype, first->t.rank, out, err);
}

/* Split sizes along the axis; *n outputs. */
static nml_status split_sizes(imp_ctx *c, int node, int64_t dim, int64_t *sizes, nml_error *err) {
    int n_out = c->nodes[node].n_out, n = 0;
    if (n_out < 1 || n_out > MAX_SPLIT)
        return imp_fail(c, err, node, NML_E_LIMIT, "%d outputs (1 to %d supported)", n_out,
                        MAX_SPLIT);
    if (c->opset >= 13)
        NML_TRY(imp_const_ints(c, node, 1, sizes, &n, MAX_SPLIT, err));
    else
        NML_TRY(imp_attr_ints(c, node, "split", sizes, &n, MAX_SPLIT, err));
    if (n == 0) {
        int64_t chunk = (dim + n_out - 1) / n_out; /* opset 18: the last chunk may be smaller */
        for (int i = 0; i < n_out; i++) {
            int64_t left = dim - chunk * i;
            sizes[i] = left < 0 ? 0 : left < chunk ? left : chunk;
        }
        if (dim % n_out && c->opset < 18)
            return imp_fail(c, err, node, NML_E_SHAPE, "%lld does not split into %d equal parts",
                            (long long)dim, n_out);
        return NML_OK;
    }
    if (n != n_out)
        return imp_fail(c, err, node, NML_E_SHAPE, "%d split sizes for %d outputs", n, n_out);
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        if (sizes[i] < 0 || sizes[i] > dim)
            return imp_fail(c, err, node, NML_E_SHAPE, "split size %lld", (long long)sizes[i]);
        sum += sizes[i];
    }
    if (sum != dim)
        return imp_fail(c, err, node, NML_E_SHAPE, "split sizes add up to %lld, not %lld",
                        (long long)sum, (long long)dim);
    return NML_OK;
}

static nml_status infer_split(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int64_t axis, sizes[MAX_SPLIT];
    NML_TRY(imp_attr_int(c, node, "axis", 0, &axis, err));
    NML_TRY(check_axis(c, node, &axis, x->t.rank, err));
    NML_TRY(split_sizes(c, node, x->t.dims[axis], sizes, err));
    for (int i = 0; i < c->nodes[node].n_out; i++) {
        int64_t out[IMP_MAX_RANK];
        memcpy(out, x->t.dims, sizeof out);
        out[axis] = sizes[i];
        NML_TRY(set_out(c, node, i, x->t.dtype, x->t.rank, out, err));
    }
    return NML_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* Normalizes one axis of a Slice (ONNX rules for negative and out-of-range values). */
static void slice_axis(int64_t dim, int64_t s, int64_t e, int64_t step, int64_t *start,
                       int64_t *count) {
    if (s < 0) s = s < -dim ? 0 : s + dim;
    if (e < 0) e = e < -dim ? -1 : e + dim;
    if (step > 0) {
        s = clamp64(s, 0, dim);
        e = clamp64(e, 0, dim);
        *count = e > s ? (e - s + step - 1) / step : 0;
    } else {
        s = clamp64(s, 0, dim - 1);
        e = clamp64(e, -1, dim - 1);
        *count = s > e ? (s - e + (-step) - 1) / (-step) : 0;
    }
    *start = s;
}

nml_status imp_slice_params(imp_ctx *c, int node, int64_t *start, int64_t *step, int64_t *count,
                            nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int rank = x->t.rank;
    int64_t starts[IMP_MAX_RANK], ends[IMP_MAX_RANK], axes[IMP_MAX_RANK], steps[IMP_MAX_RANK];
    int ns, ne, na, nst = 0;
    if (c->opset >= 10) {
        NML_TRY(imp_const_ints(c, node, 1, starts, &ns, IMP_MAX_RANK, err));
        NML_TRY(imp_const_ints(c, node, 2, ends, &ne, IMP_MAX_RANK, err));
        NML_TRY(imp_const_ints(c, node, 3, axes, &na, IMP_MAX_RANK, err));
        NML_TRY(imp_const_ints(c, node, 4, steps, &nst, IMP_MAX_RANK, err));
    } else {
        NML_TRY(imp_attr_ints(c, node, "starts", starts, &ns, IMP_MAX_RANK, err));
        NML_TRY(imp_attr_ints(c, node, "ends", ends, &ne, IMP_MAX_RANK, err));
        NML_TRY(imp_attr_ints(c, node, "axes", axes, &na, IMP_MAX_RANK, err));
    }
    if (ns != ne || (na && na != ns) || (nst && nst != ns) || ns > rank)
        return imp_fail(c, err, node, NML_E_FORMAT,
                        "%d starts, %d ends, %d axes, %d steps for rank %d", ns, ne, na, nst, rank);
    for (int d = 0; d < rank; d++) {
        start[d] = 0;
        step[d] = 1;
        count[d] = x->t.dims[d];
    }
    int seen[IMP_MAX_RANK] = {0};
    imp_value *vs = imp_in(c, node, 1), *ve = imp_in(c, node, 2);
    int stored = c->retarget && x->has_orig && !(vs && vs->derived) && !(ve && ve->derived);
    for (int i = 0; i < ns; i++) {
        int64_t a = na ? axes[i] : i;
        NML_TRY(check_axis(c, node, &a, rank, err));
        if (seen[a])
            return imp_fail(c, err, node, NML_E_FORMAT, "axis %lld repeated", (long long)a);
        seen[a] = 1;
        step[a] = nst ? steps[i] : 1;
        if (step[a] == 0) return imp_fail(c, err, node, NML_E_FORMAT, "step 0");
        /* any step longer than the axis selects one element: clamp so arithmetic stays small */
        step[a] = clamp64(step[a], -((int64_t)1 << 32), (int64_t)1 << 32);
        int64_t dim = x->t.dims[a];
        if (stored && x->orig_rank == rank && x->orig_dims[a] != dim) {
            /* a stored slice of an axis whose size changed: only "the whole axis" carries over */
            int64_t s0, n0;
            slice_axis(x->orig_dims[a], starts[i], ends[i], step[a], &s0, &n0);
            if (!(s0 == 0 && step[a] == 1 && n0 == x->orig_dims[a]))
                return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                                "cannot re-target the stored slice of axis %lld (size %lld at "
                                "export, %lld now)",
                                (long long)a, (long long)x->orig_dims[a], (long long)dim);
            start[a] = 0;
            count[a] = dim;
            continue;
        }
        slice_axis(dim, starts[i], ends[i], step[a], &start[a], &count[a]);
    }
    return NML_OK;
}

static nml_status infer_slice(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int64_t start[IMP_MAX_RANK], step[IMP_MAX_RANK], count[IMP_MAX_RANK];
    NML_TRY(imp_slice_params(c, node, start, step, count, err));
    return set_out(c, node, 0, x->t.dtype, x->t.rank, count, err);
}

static nml_status infer_pad(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int64_t pads[2 * IMP_MAX_RANK];
    int n;
    if (c->opset >= 11)
        NML_TRY(imp_const_ints(c, node, 1, pads, &n, 2 * IMP_MAX_RANK, err));
    else
        NML_TRY(imp_attr_ints(c, node, "pads", pads, &n, 2 * IMP_MAX_RANK, err));
    if (n != 2 * x->t.rank)
        return imp_fail(c, err, node, NML_E_FORMAT, "%d pads for rank %d", n, x->t.rank);
    if (c->opset >= 18 && imp_in(c, node, 3))
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "the axes input is not supported");
    int64_t out[IMP_MAX_RANK];
    for (int d = 0; d < x->t.rank; d++) {
        if (pads[d] < -NML_MAX_DIM || pads[d] > NML_MAX_DIM || pads[d + x->t.rank] < -NML_MAX_DIM ||
            pads[d + x->t.rank] > NML_MAX_DIM)
            return imp_fail(c, err, node, NML_E_FORMAT, "pad out of range");
        out[d] = x->t.dims[d] + pads[d] + pads[d + x->t.rank];
        if (out[d] < 0) return imp_fail(c, err, node, NML_E_SHAPE, "negative padded size");
    }
    return set_out(c, node, 0, x->t.dtype, x->t.rank, out, err);
}

static nml_status infer_resize(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int rank = x->t.rank;
    int is_upsample = is_op(c, node, "Upsample");
    /* opset 10 Resize and Upsample: (X, scales); opset 11+: (X, roi, scales, sizes) */
    int scales_in = is_upsample || c->opset < 11 ? 1 : 2;
    imp_value *vs = imp_in(c, node, scales_in),
              *vz = c->opset >= 11 && !is_upsample ? imp_in(c, node, 3) : NULL;
    int64_t out[IMP_MAX_RANK];
    if (vs && vs->t.count > 0) {
        if (!vs->t.data)
            return imp_fail(c, err, node, NML_E_UNSUPPORTED, "scales must be constant");
        if (vs->t.count != (uint64_t)rank)
            return imp_fail(c, err, node, NML_E_FORMAT, "%llu scales for rank %d",
                            (unsigned long long)vs->t.count, rank);
        for (int d = 0; d < rank; d++) {
            double s = imp_get(&vs->t, (uint64_t)d);
            double o = floor((double)x->t.dims[d] * (double)(float)s);
            if (!(s > 0) || !(o <= NML_MAX_DIM))
                return imp_fail(c, err, node, NML_E_FORMAT, "bad scale for axis %d", d);
            out[d] = (int64_t)o;
        }
    } else if (vz && vz->t.count > 0) {
        if (!vz->t.data) return imp_fail(c, err, node, NML_E_UNSUPPORTED, "sizes must be constant");
        if (vz->t.count != (uint64_t)rank)
            return imp_fail(c, err, node, NML_E_FORMAT, "%llu sizes for rank %d",
                            (unsigned long long)vz->t.count, rank);
        for (int d = 0; d < rank; d++) {
            out[d] = imp_geti(&vz->t, (uint64_t)d);
            if (out[d] < 0 || out[d] > NML_MAX_DIM)
                return imp_fail(c, err, node, NML_E_FORMAT, "size %lld for axis %d",
                                (long long)out[d], d);
            if (c->retarget && !vz->derived && x->has_orig && x->orig_rank == rank &&
                x->orig_dims[d] != x->t.dims[d]) {
                /* stored output size of a re-targeted axis: keep the export's ratio */
                int64_t num = out[d] * x->t.dims[d];
                if (x->orig_dims[d] <= 0 || num % x->orig_dims[d])
                    return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                                    "cannot re-target stored size %lld of axis %d",
                                    (long long)out[d], d);
                out[d] = num / x->orig_dims[d];
            }
        }
    } else {
        return imp_fail(c, err, node, NML_E_FORMAT, "neither scales nor sizes given");
    }
    return set_out(c, node, 0, x->t.dtype, rank, out, err);
}

/* ---- Reshape and its re-targeting ---- */

static nml_status resolve_target(imp_ctx *c, int node, const int64_t *in, int rin,
                                 const int64_t *tgt, int rt, int allowzero, int64_t *out,
                                 nml_error *err) {
    uint64_t total = imp_count(rin, in), known = 1;
    int minus = -1;
    for (int i = 0; i < rt; i++) {
        int64_t d = tgt[i];
        if (d == 0 && !allowzero) {
            if (i >= rin) return imp_fail(c, err, node, NML_E_SHAPE, "0 in shape beyond rank");
            d = in[i];
        }
        if (d == -1) {
            if (minus >= 0) return imp_fail(c, err, node, NML_E_SHAPE, "two -1 in shape");
            minus = i;
            continue;
        }
        if (d < 0 || d > NML_MAX_DIM)
            return imp_fail(c, err, node, NML_E_SHAPE, "bad shape value %lld", (long long)d);
        out[i] = d;
        if (d && known > ((uint64_t)1 << 40) / (uint64_t)d)
            return imp_fail(c, err, node, NML_E_LIMIT, "shape too large");
        known *= (uint64_t)d;
    }
    if (minus >= 0) {
        if (known == 0 || total % known)
            return imp_fail(c, err, node, NML_E_SHAPE,
                            "cannot infer -1: %llu elements into blocks of %llu",
                            (unsigned long long)total, (unsigned long long)known);
        out[minus] = (int64_t)(total / known);
        known = total;
    }
    if (known != total)
        return imp_fail(c, err, node, NML_E_SHAPE, "shape has %llu elements, input has %llu",
                        (unsigned long long)known, (unsigned long long)total);
    return NML_OK;
}

typedef struct cons_list {
    int n;
    int64_t o[IMP_MAX_RANK * IMP_MAX_RANK], nw[IMP_MAX_RANK * IMP_MAX_RANK];
} cons_list;

static void fmt_dims(char *buf, size_t cap, int rank, const int64_t *d) {
    size_t p = 0;
    buf[0] = 0;
    for (int i = 0; i < rank && p + 24 < cap; i++)
        p += (size_t)snprintf(buf + p, cap - p, "%s%lld", i ? "x" : "", (long long)d[i]);
}

/* Maps a group of target dims (original sizes tgt_o) onto the constituents of the matching
 * input dims; fills new sizes and per-dim constituents. Returns 0 when they do not line up. */
static int match_group(const cons_list *cl, const int64_t *tgt_o, int nt, int64_t *tgt_n,
                       imp_value *o, int first_out) {
    int unchanged = 1;
    for (int i = 0; i < cl->n; i++)
        if (cl->o[i] != cl->nw[i]) unchanged = 0;
    if (unchanged) {
        for (int j = 0; j < nt; j++) {
            tgt_n[j] = tgt_o[j];
            o->cons_n[first_out + j] = 1;
            o->cons_o[first_out + j][0] = o->cons_new[first_out + j][0] = tgt_o[j];
        }
        return 1;
    }
    int k = 0;
    for (int j = 0; j < nt; j++) {
        int slot = first_out + j;
        o->cons_n[slot] = 0;
        if (tgt_o[j] == 1) {
            tgt_n[j] = 1;
            o->cons_n[slot] = 1;
            o->cons_o[slot][0] = o->cons_new[slot][0] = 1;
            continue;
        }
        int64_t po = 1, pn = 1;
        while (po < tgt_o[j] && k < cl->n) {
            if (o->cons_n[slot] >= IMP_MAX_RANK) return 0;
            po *= cl->o[k];
            pn *= cl->nw[k];
            o->cons_o[slot][o->cons_n[slot]] = cl->o[k];
            o->cons_new[slot][o->cons_n[slot]++] = cl->nw[k];
            k++;
        }
        if (po != tgt_o[j]) return 0;
        tgt_n[j] = pn;
    }
    for (; k < cl->n; k++)
        if (cl->o[k] != 1 || cl->nw[k] != 1) return 0;
    return 1;
}

static nml_status retarget_reshape(imp_ctx *c, int node, const imp_value *x, const int64_t *tgt_o,
                                   int rt, int64_t *tgt_n, nml_error *err) {
    imp_value *o = imp_out(c, node, 0);
    const int64_t *xo = x->orig_dims;
    int rx = x->orig_rank, i = 0, j = 0;
    char a[128], b[128], t[128];
    fmt_dims(a, sizeof a, rx, xo);
    fmt_dims(b, sizeof b, x->t.rank, x->t.dims);
    fmt_dims(t, sizeof t, rt, tgt_o);
    while (i < rx || j < rt) {
        int gi = i, gj = j;
        int64_t pi = 1, pj = 1;
        if (i < rx) pi *= xo[i++];
        if (j < rt) pj *= tgt_o[j++];
        while (pi != pj) {
            if (pi < pj && i < rx)
                pi *= xo[i++];
            else if (pj < pi && j < rt)
                pj *= tgt_o[j++];
            else
                break;
        }
        if (pi != pj || pi == 0) {
            i = -1;
            break;
        }
        cons_list cl;
        cl.n = 0;
        for (int d = gi; d < i; d++)
            for (int q = 0; q < x->cons_n[d] && cl.n < IMP_MAX_RANK * IMP_MAX_RANK; q++) {
                cl.o[cl.n] = x->cons_o[d][q];
                cl.nw[cl.n++] = x->cons_new[d][q];
            }
        if (!match_group(&cl, tgt_o + gj, j - gj, tgt_n + gj, o, gj)) {
            i = -1;
            break;
        }
    }
    if (i != rx || j != rt)
        return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                        "cannot re-target the stored shape %s (input %s at export, %s now); "
                        "export the model at the wanted input size",
                        t, a, b);
    return NML_OK;
}

static nml_status infer_reshape(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0), *s = imp_in(c, node, 1);
    int64_t tgt[IMP_MAX_RANK], out[IMP_MAX_RANK];
    int rt;
    if (c->opset >= 5)
        NML_TRY(imp_const_ints(c, node, 1, tgt, &rt, IMP_MAX_RANK, err));
    else
        NML_TRY(imp_attr_ints(c, node, "shape", tgt, &rt, IMP_MAX_RANK, err));
    int64_t allowzero;
    NML_TRY(imp_attr_int(c, node, "allowzero", 0, &allowzero, err));
    int changed = x->has_orig && x->orig_rank == x->t.rank &&
                  memcmp(x->orig_dims, x->t.dims, sizeof(int64_t) * (size_t)x->t.rank) != 0;
    if (c->retarget && changed && !(s && s->derived)) {
        int64_t tgt_o[IMP_MAX_RANK];
        NML_TRY(resolve_target(c, node, x->orig_dims, x->orig_rank, tgt, rt, (int)allowzero, tgt_o,
                               err));
        NML_TRY(retarget_reshape(c, node, x, tgt_o, rt, out, err));
        imp_value *o = imp_out(c, node, 0);
        uint8_t cn[IMP_MAX_RANK];
        int64_t co[IMP_MAX_RANK][IMP_MAX_RANK], cw[IMP_MAX_RANK][IMP_MAX_RANK];
        memcpy(cn, o->cons_n, sizeof cn);
        memcpy(co, o->cons_o, sizeof co);
        memcpy(cw, o->cons_new, sizeof cw);
        NML_TRY(set_out(c, node, 0, x->t.dtype, rt, out, err));
        memcpy(o->cons_n, cn, sizeof cn); /* set_out reset them to single constituents */
        memcpy(o->cons_o, co, sizeof co);
        memcpy(o->cons_new, cw, sizeof cw);
        if (imp_count(rt, out) != x->t.count)
            return imp_fail(c, err, node, NML_E_INTERNAL, "re-targeted shape lost elements");
        return NML_OK;
    }
    NML_TRY(resolve_target(c, node, x->t.dims, x->t.rank, tgt, rt, (int)allowzero, out, err));
    return set_out(c, node, 0, x->t.dtype, rt, out, err);
}

static nml_status infer_flatten(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int64_t axis;
    NML_TRY(imp_attr_int(c, node, "axis", 1, &axis, err));
    axis = norm_axis(axis, x->t.rank);
    if (axis < 0 || axis > x->t.rank)
        return imp_fail(c, err, node, NML_E_FORMAT, "axis out of range");
    int64_t out[2] = {1, 1};
    for (int d = 0; d < x->t.rank; d++)
        out[d >= axis] *= x->t.dims[d];
    return set_out(c, node, 0, x->t.dtype, 2, out, err);
}

static nml_status read_axes(imp_ctx *c, int node, int64_t *axes, int *n, nml_error *err) {
    if (c->opset >= 13) return imp_const_ints(c, node, 1, axes, n, IMP_MAX_RANK, err);
    return imp_attr_ints(c, node, "axes", axes, n, IMP_MAX_RANK, err);
}

static nml_status infer_squeeze(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int64_t axes[IMP_MAX_RANK], out[IMP_MAX_RANK];
    int n, drop[IMP_MAX_RANK] = {0}, r = 0;
    NML_TRY(read_axes(c, node, axes, &n, err));
    for (int i = 0; i < n; i++) {
        NML_TRY(check_axis(c, node, &axes[i], x->t.rank, err));
        if (x->t.dims[axes[i]] != 1)
            return imp_fail(c, err, node, NML_E_SHAPE, "axis %lld has size %lld, not 1",
                            (long long)axes[i], (long long)x->t.dims[axes[i]]);
        drop[axes[i]] = 1;
    }
    for (int d = 0; d < x->t.rank; d++)
        if (!(n ? drop[d] : x->t.dims[d] == 1)) out[r++] = x->t.dims[d];
    return set_out(c, node, 0, x->t.dtype, r, out, err);
}

static nml_status infer_unsqueeze(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int64_t axes[IMP_MAX_RANK], out[IMP_MAX_RANK];
    int n, add[IMP_MAX_RANK] = {0};
    NML_TRY(read_axes(c, node, axes, &n, err));
    int r = x->t.rank + n;
    if (r > IMP_MAX_RANK) return imp_fail(c, err, node, NML_E_LIMIT, "rank %d too large", r);
    for (int i = 0; i < n; i++) {
        NML_TRY(check_axis(c, node, &axes[i], r, err));
        if (add[axes[i]]) return imp_fail(c, err, node, NML_E_FORMAT, "axis repeated");
        add[axes[i]] = 1;
    }
    for (int d = 0, k = 0; d < r; d++)
        out[d] = add[d] ? 1 : x->t.dims[k++];
    return set_out(c, node, 0, x->t.dtype, r, out, err);
}

static nml_status infer_transpose(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int64_t perm[IMP_MAX_RANK], out[IMP_MAX_RANK];
    int n, seen[IMP_MAX_RANK] = {0};
    NML_TRY(imp_attr_ints(c, node, "perm", perm, &n, IMP_MAX_RANK, err));
    if (n == 0) {
        n = x->t.rank;
        for (int i = 0; i < n; i++)
            perm[i] = n - 1 - i;
    }
    if (n != x->t.rank)
        return imp_fail(c, err, node, NML_E_FORMAT,
                        "perm has %d values for rank "
                        "%d",
                        n, x->t.rank);
    for (int i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n || seen[perm[i]])
            return imp_fail(c, err, node, NML_E_FORMAT, "perm is not a permutation");
        seen[perm[i]] = 1;
        out[i] = x->t.dims[perm[i]];
    }
    NML_TRY(set_out(c, node, 0, x->t.dtype, n, out, err));
    imp_value *o = imp_out(c, node, 0);
    if (o)
        for (int i = 0; i < n; i++) { /* merged-axis bookkeeping follows the axes */
            o->cons_n[i] = x->cons_n[perm[i]];
            memcpy(o->cons_o[i], x->cons_o[perm[i]], sizeof o->cons_o[i]);
            memcpy(o->cons_new[i], x->cons_new[perm[i]], sizeof o->cons_new[i]);
        }
    return NML_OK;
}

static nml_status infer_gather(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0), *ix = imp_in(c, node, 1);
    if (!ix) return imp_fail(c, err, node, NML_E_FORMAT, "missing indices");
    int64_t axis, out[IMP_MAX_RANK];
    NML_TRY(imp_attr_int(c, node, "axis", 0, &axis, err));
    if (x->t.rank < 1) return imp_fail(c, err, node, NML_E_SHAPE, "scalar data");
    NML_TRY(check_axis(c, node, &axis, x->t.rank, err));
    int r = x->t.rank - 1 + ix->t.rank;
    if (r > IMP_MAX_RANK) return imp_fail(c, err, node, NML_E_LIMIT, "rank %d too large", r);
    int k = 0, src[IMP_MAX_RANK];
    for (int d = 0; d < axis; d++)
        src[k] = d, out[k++] = x->t.dims[d];
    for (int d = 0; d < ix->t.rank; d++)
        src[k] = -1, out[k++] = ix->t.dims[d];
    for (int d = (int)axis + 1; d < x->t.rank; d++)
        src[k] = d, out[k++] = x->t.dims[d];
    NML_TRY(set_out(c, node, 0, x->t.dtype, r, out, err));
    imp_value *o = imp_out(c, node, 0);
    if (o)
        for (int i = 0; i < r; i++)
            if (src[i] >= 0) {
                o->cons_n[i] = x->cons_n[src[i]];
                memcpy(o->cons_o[i], x->cons_o[src[i]], sizeof o->cons_o[i]);
                memcpy(o->cons_new[i], x->cons_new[src[i]], sizeof o->cons_new[i]);
            }
    return NML_OK;
}

static nml_status infer_shape_op(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0);
    int64_t start, end;
    NML_TRY(imp_attr_int(c, node, "start", 0, &start, err));
    NML_TRY(imp_attr_int(c, node, "end", x->t.rank, &end, err));
    start = clamp64(norm_axis(start, x->t.rank), 0, x->t.rank);
    end = clamp64(norm_axis(end, x->t.rank), 0, x->t.rank);
    int64_t n = end > start ? end - start : 0;
    int is_size = is_op(c, node, "Size");
    NML_TRY(set_out(c, node, 0, IMP_I64, is_size ? 0 : 1, &n, err));
    imp_value *o = imp_out(c, node, 0);
    if (!o) return NML_OK;
    int64_t one = 1;
    NML_TRY(imp_tensor_alloc(&o->t, IMP_I64, is_size ? 0 : 1, is_size ? &one : &n, err));
    if (is_size)
        ((int64_t *)o->t.data)[0] = (int64_t)x->t.count;
    else
        for (int64_t i = 0; i < n; i++)
            ((int64_t *)o->t.data)[i] = x->t.dims[start + i];
    o->derived = 1;
    return NML_OK;
}

static nml_status infer_constant(imp_ctx *c, int node, nml_error *err) {
    const nml_onnx_node *n = c->nodes[node].n;
    for (size_t i = 0; i < n->n_attrs; i++) {
        const nml_onnx_attr *a = &n->attrs[i];
        int64_t len;
        if (!strcmp(a->name, "value") && a->t)
            return set_out(c, node, 0,
                           a->t->dtype == NML_ONNX_FLOAT || a->t->dtype == NML_ONNX_DOUBLE ||
                                   a->t->dtype == NML_ONNX_FLOAT16
                               ? IMP_F32
                               : IMP_I64,
                           a->t->rank, a->t->dims, err);
        if (!strcmp(a->name, "value_float") || !strcmp(a->name, "value_int"))
            return set_out(c, node, 0, a->name[6] == 'f' ? IMP_F32 : IMP_I64, 0, NULL, err);
        if (!strcmp(a->name, "value_floats")) {
            len = (int64_t)a->n_floats;
            return set_out(c, node, 0, IMP_F32, 1, &len, err);
        }
        if (!strcmp(a->name, "value_ints")) {
            len = (int64_t)a->n_ints;
            return set_out(c, node, 0, IMP_I64, 1, &len, err);
        }
    }
    return imp_fail(c, err, node, NML_E_UNSUPPORTED, "no supported value attribute");
}

static nml_status infer_constant_of_shape(imp_ctx *c, int node, nml_error *err) {
    int64_t dims[IMP_MAX_RANK];
    int n;
    NML_TRY(imp_const_ints(c, node, 0, dims, &n, IMP_MAX_RANK, err));
    const nml_onnx_attr *a = nml_onnx_attr_find(c->nodes[node].n, "value");
    imp_tensor v = {0};
    if (a && a->t) {
        NML_TRY(imp_from_onnx(&v, a->t, err));
        if (v.count != 1) {
            imp_tensor_free(&v);
            return imp_fail(c, err, node, NML_E_FORMAT, "value must hold one element");
        }
    }
    int dtype = a && a->t ? v.dtype : IMP_F32;
    double fill = a && a->t ? imp_get(&v, 0) : 0.0;
    imp_tensor_free(&v);
    NML_TRY(set_out(c, node, 0, dtype, n, dims, err));
    imp_value *o = imp_out(c, node, 0);
    if (!o) return NML_OK;
    NML_TRY(imp_tensor_alloc(&o->t, dtype, n, dims, err));
    NML_TRY(imp_charge(c, node, o->t.count, 1, err));
    for (uint64_t i = 0; i < o->t.count; i++)
        imp_set(&o->t, i, fill);
    return NML_OK;
}

static nml_status infer_range(imp_ctx *c, int node, nml_error *err) {
    imp_value *s = imp_in(c, node, 0), *l = imp_in(c, node, 1), *d = imp_in(c, node, 2);
    if (!s || !l || !d || !s->t.data || !l->t.data || !d->t.data || !s->t.count || !l->t.count ||
        !d->t.count)
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "start, limit and delta must be constant");
    double a = imp_get(&s->t, 0), b = imp_get(&l->t, 0), st = imp_get(&d->t, 0);
    double n = st != 0 ? ceil((b - a) / st) : -1;
    if (st == 0 || !(n < 1e9)) return imp_fail(c, err, node, NML_E_FORMAT, "bad range");
    int64_t len = n > 0 ? (int64_t)n : 0;
    return set_out(c, node, 0, s->t.dtype, 1, &len, err);
}

static nml_status infer_cast(imp_ctx *c, int node, nml_error *err) {
    int64_t to;
    NML_TRY(imp_attr_int(c, node, "to", 1, &to, err));
    int f = to == NML_ONNX_FLOAT || to == NML_ONNX_DOUBLE || to == NML_ONNX_FLOAT16;
    if (!f && (to == NML_ONNX_STRING || nml_onnx_dtype_size((int)to) == 0))
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "cast to type %lld", (long long)to);
    return same_as_input(c, node, f ? IMP_F32 : IMP_I64, err);
}

typedef nml_status (*infer_fn)(imp_ctx *c, int node, nml_error *err);

static nml_status infer_same(imp_ctx *c, int node, nml_error *err) {
    return same_as_input(c, node, 0, err);
}
static nml_status infer_bcast(imp_ctx *c, int node, nml_error *err) {
    return infer_broadcast(c, node, 0, err);
}
static nml_status infer_compare(imp_ctx *c, int node, nml_error *err) {
    return infer_broadcast(c, node, IMP_I64, err);
}
static nml_status infer_shape_or_size(imp_ctx *c, int node, nml_error *err) {
    return infer_shape_op(c, node, err);
}

static const struct {
    const char *op;
    infer_fn fn;
} infer_table[] = {
    {"Identity", infer_same},
    {"Dropout", infer_same},
    {"Relu", infer_same},
    {"LeakyRelu", infer_same},
    {"Sigmoid", infer_same},
    {"Tanh", infer_same},
    {"Clip", infer_same},
    {"Softmax", infer_same},
    {"LogSoftmax", infer_same},
    {"Exp", infer_same},
    {"Abs", infer_same},
    {"Neg", infer_same},
    {"Sqrt", infer_same},
    {"Floor", infer_same},
    {"Ceil", infer_same},
    {"Reciprocal", infer_same},
    {"HardSwish", infer_same},
    {"BatchNormalization", infer_same},
    {"Cast", infer_cast},
    {"Add", infer_bcast},
    {"Sub", infer_bcast},
    {"Mul", infer_bcast},
    {"Div", infer_bcast},
    {"Min", infer_bcast},
    {"Max", infer_bcast},
    {"Where", infer_bcast},
    {"Equal", infer_compare},
    {"Less", infer_compare},
    {"Greater", infer_compare},
    {"Conv", infer_conv},
    {"MaxPool", infer_pool},
    {"AveragePool", infer_pool},
    {"GlobalAveragePool", infer_global_pool},
    {"GlobalMaxPool", infer_global_pool},
    {"Gemm", infer_gemm},
    {"MatMul", infer_matmul},
    {"Concat", infer_concat},
    {"Split", infer_split},
    {"Slice", infer_slice},
    {"Pad", infer_pad},
    {"Resize", infer_resize},
    {"Upsample", infer_resize},
    {"Reshape", infer_reshape},
    {"Flatten", infer_flatten},
    {"Squeeze", infer_squeeze},
    {"Unsqueeze", infer_unsqueeze},
    {"Transpose", infer_transpose},
    {"Gather", infer_gather},
    {"Shape", infer_shape_or_size},
    {"Size", infer_shape_or_size},
    {"Constant", infer_constant},
    {"ConstantOfShape", infer_constant_of_shape},
    {"Range", infer_range},
};

static nml_status fold(imp_ctx *c, int node, nml_error *err) {
    imp_node *nd = &c->nodes[node];
    imp_tensor *in[NML_MAX_OP_INPUTS * 4] = {0}, *out[MAX_SPLIT] = {0};
    if (nd->n_in > (int)(sizeof in / sizeof in[0]) || nd->n_out > MAX_SPLIT) return NML_OK;
    int derived = 0;
    for (int i = 0; i < nd->n_in; i++) {
        imp_value *v = imp_in(c, node, i);
        if (!v) continue;
        if (!v->t.data) return NML_OK; /* not all inputs constant: keep the node */
        in[i] = &v->t;
        derived |= v->derived;
    }
    for (int k = 0; k < nd->n_out; k++) {
        imp_value *o = imp_out(c, node, k);
        if (!o) continue;
        if (k == 0) NML_TRY(imp_charge(c, node, o->t.count, 1, err)); /* before allocating */
        if (!o->t.data) {
            imp_tensor shape = o->t;
            shape.data = NULL;
            NML_TRY(imp_tensor_alloc(&o->t, shape.dtype, shape.rank, shape.dims, err));
        }
        out[k] = &o->t;
    }
    if (!out[0]) return NML_OK;
    NML_TRY(imp_eval(c, node, in, out, err));
    nd->folded = 1;
    for (int k = 0; k < nd->n_out; k++)
        if (imp_out(c, node, k)) imp_out(c, node, k)->derived |= derived;
    return NML_OK;
}

nml_status imp_infer_node(imp_ctx *c, int node, nml_error *err) {
    imp_node *nd = &c->nodes[node];
    for (int i = 0; i < nd->n_in; i++) {
        imp_value *v = imp_in(c, node, i);
        if (v && !v->known)
            return imp_fail(c, err, node, NML_E_SHAPE, "shape of input '%s' is unknown", v->name);
    }
    const char *op = imp_op(c, node);
    for (size_t i = 0; i < sizeof infer_table / sizeof infer_table[0]; i++) {
        if (strcmp(op, infer_table[i].op) != 0) continue;
        if (nd->n_in < 1 && strcmp(op, "Constant") != 0)
            return imp_fail(c, err, node, NML_E_FORMAT, "has no inputs");
        if (nd->n_in >= 1 && !imp_in(c, node, 0) && strcmp(op, "Constant") != 0 &&
            strcmp(op, "Concat") != 0)
            return imp_fail(c, err, node, NML_E_FORMAT, "input 0 is missing");
        NML_TRY(infer_table[i].fn(c, node, err));
        if (!strcmp(op, "Shape") || !strcmp(op, "Size") || !strcmp(op, "ConstantOfShape")) {
            nd->folded = 1;
            return NML_OK;
        }
        if (imp_foldable(op)) NML_TRY(fold(c, node, err));
        return NML_OK;
    }
    return imp_fail(c, err, node, NML_E_UNSUPPORTED, "operator %s is not supported", op);
}

/* ---- both passes ---- */

static nml_status set_input_shapes(imp_ctx *c, const int64_t *user, int n_user, nml_error *err) {
    int first = 1;
    for (size_t i = 0; i < c->n_vals; i++) {
        imp_value *v = &c->vals[i];
        if (!v->is_input) continue;
        const nml_onnx_value_info *vi = NULL;
        for (size_t k = 0; k < c->g->n_inputs; k++)
            if (!strcmp(c->g->inputs[k].name, v->name)) vi = &c->g->inputs[k];
        if (!vi || vi->elem_type != NML_ONNX_FLOAT)
            return nml_fail(err, NML_E_UNSUPPORTED, "graph input '%s' is not float32 (type %s)",
                            v->name, vi ? nml_onnx_dtype_name(vi->elem_type) : "unknown");
        int64_t dims[IMP_MAX_RANK];
        int rank = vi->rank;
        if (first && n_user) {
            if (vi->has_shape && n_user != vi->rank)
                return nml_fail(err, NML_E_SHAPE,
                                "input '%s' has rank %d; the given shape has "
                                "%d dimensions",
                                v->name, vi->rank, n_user);
            rank = n_user;
            memcpy(dims, user, sizeof(int64_t) * (size_t)n_user);
        } else {
            if (!vi->has_shape)
                return nml_fail(err, NML_E_SHAPE, "input '%s' has no shape; give --input-shape",
                                v->name);
            for (int d = 0; d < rank; d++) {
                if (vi->dims[d] < 0)
                    return nml_fail(err, NML_E_SHAPE,
                                    "input '%s' dimension %d is symbolic; give --input-shape",
                                    v->name, d);
                dims[d] = vi->dims[d];
            }
        }
        for (int d = 0; d < rank; d++)
            if (dims[d] < 1 || dims[d] > NML_MAX_DIM)
                return nml_fail(err, NML_E_SHAPE, "input '%s' dimension %d is %lld", v->name, d,
                                (long long)dims[d]);
        v->t.dtype = IMP_F32;
        v->t.rank = rank;
        memcpy(v->t.dims, dims, sizeof(int64_t) * (size_t)rank);
        v->t.count = imp_count(rank, dims);
        v->known = 1;
        for (int d = 0; d < rank; d++) {
            v->cons_n[d] = 1;
            v->cons_new[d][0] = dims[d];
            v->cons_o[d][0] = v->has_orig ? v->orig_dims[d] : dims[d];
        }
        first = 0;
    }
    return NML_OK;
}

static nml_status run_pass(imp_ctx *c, const int64_t *user, int n_user, nml_error *err) {
    NML_TRY(set_input_shapes(c, user, n_user, err));
    for (size_t i = 0; i < c->n_nodes; i++) {
        NML_TRY(imp_infer_node(c, (int)i, err));
        if (c->opt && c->opt->progress) c->opt->progress(c->opt->progress_user, i + 1, c->n_nodes);
    }
    return NML_OK;
}

static int model_input_known(const imp_ctx *c) {
    for (size_t k = 0; k < c->g->n_inputs; k++) {
        if (imp_find(c, c->g->inputs[k].name) < 0) continue;
        const nml_onnx_value_info *vi = &c->g->inputs[k];
        if (!c->vals[imp_find(c, vi->name)].is_input) continue;
        if (!vi->has_shape) return 0;
        for (int d = 0; d < vi->rank; d++)
            if (vi->dims[d] < 0) return 0;
        return 1; /* the first real input is the one re-targeted */
    }
    return 0;
}

nml_status imp_infer_all(imp_ctx *c, nml_error *err) {
    const nml_onnx_import_options *o = c->opt;
    int n_user = o ? o->n_input_shape : 0;
    if (n_user < 0 || n_user > IMP_MAX_RANK)
        return nml_fail(err, NML_E_ARG, "input shape with %d dimensions", n_user);
    if (!n_user || !model_input_known(c))
        return run_pass(c, o ? o->input_shape : NULL, n_user, err);
    /* pass 1 at the export size records the original shapes */
    if (run_pass(c, NULL, 0, err) != NML_OK)
        return nml_error_prefix(err, "at the model's own input size: ");
    for (size_t i = 0; i < c->n_vals; i++) {
        imp_value *v = &c->vals[i];
        v->has_orig = v->known;
        v->orig_rank = v->t.rank;
        memcpy(v->orig_dims, v->t.dims, sizeof v->orig_dims);
        if (v->producer >= 0) {
            imp_tensor_free(&v->t);
            v->known = 0;
            v->derived = 0;
        } else if (v->is_input) {
            v->known = 0;
        }
    }
    for (size_t i = 0; i < c->n_nodes; i++)
        c->nodes[i].folded = 0;
    c->retarget = 1;
    return run_pass(c, o->input_shape, n_user, err);
}
