/* Layouts and data movement.
 *
 * Every lowered activation has a layout: stored axis i holds ONNX axis layout[i]. Rank-4
 * activations are NHWC ({0,2,3,1}); a Transpose node therefore usually costs nothing: its output
 * is the same stored tensor seen through another layout.
 *
 * Chains of data-movement nodes (Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Gather with
 * constant indices, Identity) are not lowered node by node. Their output stays "virtual" until a
 * real operator needs it; then the chain is evaluated on an index map (a tensor whose elements
 * are the source's element numbers) with the same constant evaluator that folds constants. The
 * result says exactly where each output element comes from in the stored source, and is
 * matched against, in order:
 *   1. the source itself seen through another layout (nothing emitted),
 *   2. the source reshaped (RESHAPE),
 *   3. a selection along one stored axis (one GATHER: ShuffleNet's channel shuffle
 *      Reshape/Transpose/Reshape/Gather in NCHW is "even/odd channels" in NHWC),
 *   4. a permutation of the stored axes (one TRANSPOSE),
 * and only otherwise lowered literally in ONNX order between two TRANSPOSEs. The match is
 * checked on every element, so the lowering is correct by construction, not by pattern. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/imp.h"

const int8_t imp_nhwc[4] = {0, 2, 3, 1};

void imp_layout_identity(int8_t *layout, int rank) {
    for (int i = 0; i < rank; i++)
        layout[i] = (int8_t)i;
}

int imp_layout_is(const int8_t *layout, const int8_t *want, int rank) {
    for (int i = 0; i < rank; i++)
        if (layout[i] != want[i]) return 0;
    return 1;
}

void imp_layout_default(int8_t *layout, int rank) {
    if (rank == 4)
        memcpy(layout, imp_nhwc, 4);
    else
        imp_layout_identity(layout, rank);
}

void imp_stored_dims(const imp_value *v, const int8_t *layout, int32_t *dims) {
    for (int i = 0; i < v->t.rank; i++)
        dims[i] = (int32_t)v->t.dims[layout[i]];
}

int imp_is_movement(const imp_ctx *c, int node) {
    static const char *const ops[] = {"Reshape",   "Flatten",  "Squeeze", "Unsqueeze",
                                      "Transpose", "Identity", "Dropout"};
    const char *op = imp_op(c, node);
    const imp_node *n = &c->nodes[node];
    if (n->n_in < 1 || n->in[0] < 0 || c->vals[n->in[0]].t.data) return 0;
    if (!strcmp(op, "Gather"))
        return n->n_in >= 2 && n->in[1] >= 0 && c->vals[n->in[1]].t.data != NULL;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(op, ops[i])) return 1;
    return 0;
}

nml_status imp_lower_movement(imp_ctx *c, int node, nml_error *err) {
    imp_value *x = imp_in(c, node, 0), *o = imp_out(c, node, 0);
    imp_value *mask = imp_out(c, node, 1);
    if (mask && mask->live && !strcmp(imp_op(c, node), "Dropout"))
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "the mask output is not supported");
    if (!o) return NML_OK;
    o->virt = 1;
    o->virt_src = x->virt ? x->virt_src : (int)(x - c->vals);
    c->st->absorbed++;
    /* A chain end is materialized here, in ONNX order, so the source can die as early as the
     * ONNX graph lets it (smaller peak memory); values only read by further data movement stay
     * virtual. */
    int v = c->nodes[node].out[0], end = o->is_output;
    for (size_t i = 0; i < c->n_nodes && !end; i++) {
        const imp_node *n = &c->nodes[i];
        if (!n->live || n->folded || (int)i == node) continue;
        /* Gemm/MatMul read a flattened view directly (their weights get permuted) */
        int takes_view = !strcmp(imp_op(c, (int)i), "Gemm") || !strcmp(imp_op(c, (int)i), "MatMul");
        for (int k = 0; k < n->n_in && !end; k++)
            if (n->in[k] == v && !imp_is_movement(c, (int)i) && !(takes_view && k == 0)) end = 1;
    }
    return end ? imp_materialize(c, v, err) : NML_OK;
}

/* ---- lowered tensors for values ---- */

nml_status imp_new_output(imp_ctx *c, int v, const int8_t *layout, int *lt, nml_error *err) {
    imp_value *x = &c->vals[v];
    int32_t dims[NML_MAX_RANK];
    int64_t sd[IMP_MAX_RANK];
    if (x->t.rank > NML_MAX_RANK)
        return imp_fail(c, err, c->cur_node, NML_E_LIMIT, "'%s' has rank %d (at most %d)", x->name,
                        x->t.rank, NML_MAX_RANK);
    for (int i = 0; i < x->t.rank; i++)
        sd[i] = x->t.dims[layout[i]];
    NML_TRY(imp_dims32(c, c->cur_node, x->t.rank, sd, dims, err));
    NML_TRY(lg_add_act(c, x->name, "", x->t.rank, dims, lt, err));
    x->lt = *lt;
    memcpy(x->layout, layout, (size_t)x->t.rank);
    return NML_OK;
}

/* Expands t to rank (leading 1s) and stores it permuted by layout, as float32. */
nml_status imp_const_in_layout(imp_ctx *c, const imp_tensor *t, int rank, const int8_t *layout,
                               const char *name, int *lt, nml_error *err) {
    if (t->rank > rank || rank > NML_MAX_RANK)
        return imp_fail(c, err, c->cur_node, NML_E_LIMIT, "constant '%s' of rank %d in rank %d",
                        name, t->rank, rank);
    int64_t ed[IMP_MAX_RANK], sd[IMP_MAX_RANK], es[IMP_MAX_RANK], idx[IMP_MAX_RANK] = {0};
    for (int i = 0; i < rank; i++)
        ed[i] = i < rank - t->rank ? 1 : t->dims[i - (rank - t->rank)];
    for (int i = 0; i < rank; i++)
        sd[i] = ed[layout[i]];
    imp_strides(rank, ed, es);
    float *data = malloc(t->count ? t->count * sizeof(float) : 1);
    if (!data) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (uint64_t k = 0; k < t->count; k++) {
        uint64_t off = 0;
        for (int i = 0; i < rank; i++)
            off += (uint64_t)(idx[layout[i]] * es[layout[i]]);
        data[k] = (float)imp_get(t, off);
        for (int i = rank - 1; i >= 0; i--) { /* next stored index */
            if (++idx[layout[i]] < sd[i]) break;
            idx[layout[i]] = 0;
        }
    }
    int32_t d32[NML_MAX_RANK];
    nml_status s = imp_dims32(c, c->cur_node, rank, sd, d32, err);
    if (s == NML_OK)
        s = lg_add_tensor(c, name, NML_FLOAT32, rank, d32, data, t->count * sizeof(float), lt, err);
    free(data);
    return s;
}

static nml_status emit_reshape(imp_ctx *c, int in_lt, int rank, const int32_t *dims,
                               const char *name, int *out_lt, nml_error *err);

/* 1 when the permutation only moves size-1 axes: the data order does not change. */
static int moves_only_unit_axes(int rank, const int32_t *in_dims, const int32_t *perm) {
    int last = -1;
    for (int i = 0; i < rank; i++) {
        if (in_dims[perm[i]] == 1) continue;
        if (perm[i] < last) return 0;
        last = perm[i];
    }
    return 1;
}

static nml_status emit_transpose(imp_ctx *c, int in_lt, int rank, const int32_t *in_dims,
                                 const int32_t *perm, const char *name, int *out_lt,
                                 nml_error *err) {
    int32_t od[NML_MAX_RANK], pd = rank;
    for (int i = 0; i < rank; i++)
        od[i] = in_dims[perm[i]];
    if (moves_only_unit_axes(rank, in_dims, perm))
        return emit_reshape(c, in_lt, rank, od, name, out_lt, err);
    int pt;
    char nm[300];
    snprintf(nm, sizeof nm, "%s/perm", name);
    NML_TRY(lg_add_i32(c, nm, 1, &pd, perm, &pt, err));
    NML_TRY(lg_add_act(c, name, "", rank, od, out_lt, err));
    nml_op_params p;
    nml_op_params_default(&p);
    int32_t ins[2] = {in_lt, pt};
    return lg_add_op(c, NML_OP_TRANSPOSE, &p, 2, ins, 1, out_lt, err);
}

nml_status imp_need_layout(imp_ctx *c, int v, const int8_t *layout, int *lt, nml_error *err) {
    NML_TRY(imp_materialize(c, v, err));
    imp_value *x = &c->vals[v];
    int r = x->t.rank;
    if (imp_layout_is(x->layout, layout, r)) {
        *lt = x->lt;
        return NML_OK;
    }
    if (x->alt_lt >= 0 && imp_layout_is(x->alt_layout, layout, r)) {
        *lt = x->alt_lt;
        return NML_OK;
    }
    int32_t perm[NML_MAX_RANK], in_dims[NML_MAX_RANK];
    for (int i = 0; i < r; i++)
        for (int p = 0; p < r; p++)
            if (x->layout[p] == layout[i]) perm[i] = p;
    imp_stored_dims(x, x->layout, in_dims);
    char nm[300];
    snprintf(nm, sizeof nm, "%s/%s", x->name,
             r == 4 && imp_layout_is(layout, imp_nhwc, 4) ? "nhwc" : "relayout");
    NML_TRY(emit_transpose(c, x->lt, r, in_dims, perm, nm, lt, err));
    if (x->alt_lt < 0) {
        x->alt_lt = *lt;
        memcpy(x->alt_layout, layout, (size_t)r);
    }
    return NML_OK;
}

/* ---- index maps ---- */

/* Producer chain from the source to v, in execution order. */
static nml_status chain_of(imp_ctx *c, int v, int *nodes, int *n, int cap, nml_error *err) {
    int src = c->vals[v].virt_src, k = 0, cur = v;
    while (cur != src) {
        if (k >= cap)
            return nml_fail(err, NML_E_LIMIT, "'%s': data-movement chain longer than %d",
                            c->vals[v].name, cap);
        int p = c->vals[cur].producer;
        nodes[k++] = p;
        cur = c->nodes[p].in[0];
    }
    for (int i = 0; i < k / 2; i++) {
        int t = nodes[i];
        nodes[i] = nodes[k - 1 - i];
        nodes[k - 1 - i] = t;
    }
    *n = k;
    return NML_OK;
}

/* map[k] = flat ONNX-order index into the source of v's element k (ONNX order). */
static nml_status compute_map(imp_ctx *c, int v, imp_tensor *map, nml_error *err) {
    enum { CAP = 4096 };
    int *nodes = malloc(CAP * sizeof *nodes), n;
    if (!nodes) return nml_fail(err, NML_E_NOMEM, "out of memory");
    nml_status s = chain_of(c, v, nodes, &n, CAP, err);
    const imp_value *src = &c->vals[c->vals[v].virt_src];
    imp_tensor cur = {0};
    if (s == NML_OK) s = imp_tensor_alloc(&cur, IMP_I64, src->t.rank, src->t.dims, err);
    for (uint64_t i = 0; s == NML_OK && i < cur.count; i++)
        ((int64_t *)cur.data)[i] = (int64_t)i;
    for (int i = 0; s == NML_OK && i < n; i++) {
        int node = nodes[i];
        imp_node *nd = &c->nodes[node];
        imp_tensor *in[8] = {0}, next = {0}, *out[1] = {&next};
        const imp_value *o = imp_out(c, node, 0);
        in[0] = &cur;
        for (int k = 1; k < nd->n_in && k < 8; k++)
            if (nd->in[k] >= 0) in[k] = &c->vals[nd->in[k]].t;
        s = imp_tensor_alloc(&next, IMP_I64, o->t.rank, o->t.dims, err);
        if (s == NML_OK) s = imp_eval(c, node, in, out, err);
        imp_tensor_free(&cur);
        cur = next;
    }
    free(nodes);
    if (s != NML_OK) {
        imp_tensor_free(&cur);
        return s;
    }
    *map = cur;
    return NML_OK;
}

/* Stored flat offset of ONNX-order multi-index nat of a tensor stored with layout. */
static int64_t stored_offset(int rank, const int64_t *nat, const int8_t *layout,
                             const int64_t *stored_strides) {
    int64_t off = 0;
    for (int i = 0; i < rank; i++)
        off += nat[layout[i]] * stored_strides[i];
    return off;
}

static void unflatten(uint64_t flat, int rank, const int64_t *dims, int64_t *idx) {
    for (int i = rank - 1; i >= 0; i--) {
        idx[i] = dims[i] ? (int64_t)(flat % (uint64_t)dims[i]) : 0;
        flat = dims[i] ? flat / (uint64_t)dims[i] : 0;
    }
}

/* The dimensions of src in its stored order (its layout). */
static void stored_dims(const imp_value *src, int64_t *sd) {
    for (int i = 0; i < src->t.rank; i++)
        sd[i] = src->t.dims[src->layout[i]];
}

/* compute_map of v turned into stored offsets: element k of v (ONNX order) is stored at
 * map[k] of its source src. */
static nml_status stored_map(imp_ctx *c, int v, const imp_value *src, imp_tensor *map,
                             nml_error *err) {
    NML_TRY(compute_map(c, v, map, err));
    int64_t sd[IMP_MAX_RANK], ss[IMP_MAX_RANK], nat[IMP_MAX_RANK];
    stored_dims(src, sd);
    imp_strides(src->t.rank, sd, ss);
    int64_t *g = map->data;
    for (uint64_t k = 0; k < map->count; k++) {
        unflatten((uint64_t)g[k], src->t.rank, src->t.dims, nat);
        g[k] = stored_offset(src->t.rank, nat, src->layout, ss);
    }
    return NML_OK;
}

/* Finds perm with out stored axis i = source stored axis perm[i], such that
 * g[k] = sum idx_i * src_strides[perm[i]] for every out multi-index. */
static int match_permutation(const int64_t *g, int rank, const int64_t *odims, const int64_t *sdims,
                             int srank, int32_t *perm) {
    if (rank != srank) return 0;
    int64_t os[IMP_MAX_RANK], ss[IMP_MAX_RANK];
    imp_strides(rank, odims, os);
    imp_strides(rank, sdims, ss);
    int used[IMP_MAX_RANK] = {0};
    uint64_t n = imp_count(rank, odims);
    if (n == 0 || g[0] != 0) return 0;
    for (int i = 0; i < rank; i++) {
        perm[i] = -1;
        if (odims[i] == 1) continue;
        int64_t delta = g[os[i]];
        for (int a = 0; a < rank; a++)
            if (!used[a] && sdims[a] == odims[i] && ss[a] == delta) {
                perm[i] = a;
                used[a] = 1;
                break;
            }
        if (perm[i] < 0) return 0;
    }
    for (int i = 0; i < rank; i++) {
        if (perm[i] >= 0) continue;
        for (int a = 0; a < rank; a++)
            if (!used[a] && sdims[a] == 1) {
                perm[i] = a;
                used[a] = 1;
                break;
            }
        if (perm[i] < 0) return 0;
    }
    int64_t idx[IMP_MAX_RANK] = {0};
    for (uint64_t k = 0; k < n; k++) {
        int64_t off = 0;
        for (int i = 0; i < rank; i++)
            off += idx[i] * ss[perm[i]];
        if (g[k] != off) return 0;
        for (int i = rank - 1; i >= 0; i--) {
            if (++idx[i] < odims[i]) break;
            idx[i] = 0;
        }
    }
    return 1;
}

/* out[... i_a ...] = src[... sel[i_a] ...] along one stored axis a, all else equal. */
static int match_axis_gather(const int64_t *g, int rank, const int64_t *odims, const int64_t *sdims,
                             int srank, int a, int32_t *sel) {
    if (rank != srank) return 0;
    for (int d = 0; d < rank; d++)
        if (d != a && odims[d] != sdims[d]) return 0;
    int64_t os[IMP_MAX_RANK], ss[IMP_MAX_RANK];
    imp_strides(rank, odims, os);
    imp_strides(rank, sdims, ss);
    uint64_t n = imp_count(rank, odims);
    if (n == 0) return 0;
    for (int64_t i = 0; i < odims[a]; i++) {
        int64_t v = g[i * os[a]];
        if (v % ss[a] || v / ss[a] >= sdims[a] || v < 0) return 0;
        sel[i] = (int32_t)(v / ss[a]);
    }
    int64_t idx[IMP_MAX_RANK] = {0};
    for (uint64_t k = 0; k < n; k++) {
        int64_t off = 0;
        for (int d = 0; d < rank; d++)
            off += (d == a ? sel[idx[d]] : idx[d]) * ss[d];
        if (g[k] != off) return 0;
        for (int d = rank - 1; d >= 0; d--) {
            if (++idx[d] < odims[d]) break;
            idx[d] = 0;
        }
    }
    return 1;
}

static nml_status emit_reshape(imp_ctx *c, int in_lt, int rank, const int32_t *dims,
                               const char *name, int *out_lt, nml_error *err) {
    int32_t rd = rank;
    int st;
    char nm[300];
    snprintf(nm, sizeof nm, "%s/shape", name);
    NML_TRY(lg_add_i32(c, nm, 1, &rd, dims, &st, err));
    NML_TRY(lg_add_act(c, name, "", rank, dims, out_lt, err));
    nml_op_params p;
    nml_op_params_default(&p);
    p.new_shape_len = rank;
    for (int i = 0; i < rank; i++)
        p.new_shape[i] = dims[i];
    int32_t ins[2] = {in_lt, st};
    return lg_add_op(c, NML_OP_RESHAPE, &p, 2, ins, 1, out_lt, err);
}

/* Literal lowering in ONNX order: the fallback for chains no single operator expresses. */
static nml_status natural(imp_ctx *c, int v, int *lt, nml_error *err) {
    imp_value *x = &c->vals[v];
    int8_t ident[IMP_MAX_RANK];
    imp_layout_identity(ident, x->t.rank);
    if (!x->virt) return imp_need_layout(c, v, ident, lt, err);
    if (x->nat_lt >= 0) {
        *lt = x->nat_lt;
        return NML_OK;
    }
    int node = x->producer, in_lt;
    NML_TRY(natural(c, c->nodes[node].in[0], &in_lt, err));
    int32_t dims[NML_MAX_RANK];
    if (x->t.rank > NML_MAX_RANK)
        return imp_fail(c, err, node, NML_E_LIMIT, "rank %d exceeds %d", x->t.rank, NML_MAX_RANK);
    NML_TRY(imp_dims32(c, node, x->t.rank, x->t.dims, dims, err));
    const char *op = imp_op(c, node);
    int save = c->cur_node;
    c->cur_node = node;
    nml_status s;
    if (!strcmp(op, "Transpose")) {
        imp_value *in = &c->vals[c->nodes[node].in[0]];
        int64_t perm[IMP_MAX_RANK];
        int n;
        int32_t p32[NML_MAX_RANK], in_dims[NML_MAX_RANK];
        s = imp_attr_ints(c, node, "perm", perm, &n, IMP_MAX_RANK, err);
        for (int i = 0; i < in->t.rank; i++) {
            p32[i] = (int32_t)(n ? perm[i] : in->t.rank - 1 - i);
            in_dims[i] = (int32_t)in->t.dims[i];
        }
        if (s == NML_OK) s = emit_transpose(c, in_lt, in->t.rank, in_dims, p32, x->name, lt, err);
    } else if (!strcmp(op, "Gather")) {
        imp_value *in = &c->vals[c->nodes[node].in[0]], *ix = imp_in(c, node, 1);
        int64_t axis;
        s = imp_attr_int(c, node, "axis", 0, &axis, err);
        if (axis < 0) axis += in->t.rank;
        int32_t *sel = malloc((ix->t.count ? ix->t.count : 1) * sizeof *sel);
        int32_t id[NML_MAX_RANK];
        int it = -1;
        if (!sel) s = nml_fail(err, NML_E_NOMEM, "out of memory");
        for (uint64_t k = 0; s == NML_OK && k < ix->t.count; k++) {
            int64_t j = imp_geti(&ix->t, k);
            sel[k] = (int32_t)(j < 0 ? j + in->t.dims[axis] : j);
        }
        if (s == NML_OK) s = imp_dims32(c, node, ix->t.rank, ix->t.dims, id, err);
        char nm[300];
        snprintf(nm, sizeof nm, "%s/indices", x->name);
        if (s == NML_OK) s = lg_add_i32(c, nm, ix->t.rank, id, sel, &it, err);
        free(sel);
        if (s == NML_OK) s = lg_add_act(c, x->name, "", x->t.rank, dims, lt, err);
        nml_op_params p;
        nml_op_params_default(&p);
        p.axis = (int32_t)axis;
        int32_t ins[2] = {in_lt, it};
        if (s == NML_OK) s = lg_add_op(c, NML_OP_GATHER, &p, 2, ins, 1, lt, err);
    } else {
        s = emit_reshape(c, in_lt, x->t.rank, dims, x->name, lt, err);
    }
    c->cur_node = save;
    NML_TRY(s);
    x->nat_lt = *lt;
    return NML_OK;
}

static nml_status emit_gather(imp_ctx *c, imp_value *x, int src_lt, int axis, const int32_t *sel,
                              int n, const int32_t *dims, int rank, nml_error *err) {
    char nm[300];
    int it, lt;
    snprintf(nm, sizeof nm, "%s/indices", x->name);
    NML_TRY(lg_add_i32(c, nm, 1, &n, sel, &it, err));
    NML_TRY(lg_add_act(c, x->name, "", rank, dims, &lt, err));
    nml_op_params p;
    nml_op_params_default(&p);
    p.axis = axis;
    int32_t ins[2] = {src_lt, it};
    NML_TRY(lg_add_op(c, NML_OP_GATHER, &p, 2, ins, 1, &lt, err));
    x->lt = lt;
    return NML_OK;
}

/* Tries the single-operator forms for v in layout lay, given g0 (v ONNX order -> stored source
 * offset). Returns *done = 1 when v got a lowered tensor. */
static nml_status try_forms(imp_ctx *c, imp_value *x, const imp_value *src, const int64_t *g0,
                            int *done, nml_error *err) {
    int r = x->t.rank, sr = src->t.rank;
    int64_t sd[IMP_MAX_RANK], vd[IMP_MAX_RANK], vs[IMP_MAX_RANK], idx[IMP_MAX_RANK] = {0};
    int8_t lay[IMP_MAX_RANK];
    *done = 0;
    stored_dims(src, sd);
    int32_t perm[IMP_MAX_RANK];
    /* 1. the source seen through another layout */
    if (r == sr && match_permutation(g0, r, x->t.dims, sd, sr, perm)) {
        for (int j = 0; j < r; j++)
            x->layout[perm[j]] = (int8_t)j;
        x->lt = src->lt;
        *done = 1;
        return NML_OK;
    }
    if (r > NML_MAX_RANK) return NML_OK;
    imp_layout_default(lay, r);
    for (int i = 0; i < r; i++)
        vd[i] = x->t.dims[lay[i]];
    imp_strides(r, x->t.dims, vs);
    uint64_t n = x->t.count;
    int64_t *g = malloc((n ? n : 1) * sizeof *g);
    if (!g) return nml_fail(err, NML_E_NOMEM, "out of memory");
    int ident = n == src->t.count;
    for (uint64_t k = 0; k < n; k++) {
        int64_t nat = 0;
        for (int i = 0; i < r; i++)
            nat += idx[lay[i]] * vs[lay[i]];
        g[k] = g0[nat];
        if (g[k] != (int64_t)k) ident = 0;
        for (int i = r - 1; i >= 0; i--) {
            if (++idx[lay[i]] < vd[i]) break;
            idx[lay[i]] = 0;
        }
    }
    int32_t d32[NML_MAX_RANK];
    nml_status s = imp_dims32(c, c->cur_node, r, vd, d32, err);
    memcpy(x->layout, lay, (size_t)r);
    if (s == NML_OK && ident) { /* 2. a reshape of the stored source */
        int same = r == sr;
        for (int i = 0; same && i < r; i++)
            same = vd[i] == sd[i];
        if (same)
            x->lt = src->lt;
        else
            s = emit_reshape(c, src->lt, r, d32, x->name, &x->lt, err);
        *done = 1;
    }
    int32_t *sel = NULL;
    for (int a = r - 1; s == NML_OK && !*done && a >= 0 && r == sr; a--) { /* 3. one-axis gather */
        if (!sel)
            sel = malloc((size_t)(vd[a] > 0 ? vd[a] : 1) * sizeof *sel);
        else
            sel = realloc(sel, (size_t)(vd[a] > 0 ? vd[a] : 1) * sizeof *sel);
        if (!sel) {
            s = nml_fail(err, NML_E_NOMEM, "out of memory");
            break;
        }
        if (match_axis_gather(g, r, vd, sd, sr, a, sel)) {
            s = emit_gather(c, x, src->lt, a, sel, (int)vd[a], d32, r, err);
            *done = 1;
        }
    }
    free(sel);
    if (s == NML_OK && !*done && match_permutation(g, r, vd, sd, sr, perm)) { /* 4. transpose */
        int32_t sd32[NML_MAX_RANK];
        for (int i = 0; i < sr; i++)
            sd32[i] = (int32_t)sd[i];
        s = emit_transpose(c, src->lt, r, sd32, perm, x->name, &x->lt, err);
        *done = 1;
    }
    free(g);
    return s;
}

static nml_status materialize_virtual(imp_ctx *c, int v, nml_error *err) {
    imp_value *x = &c->vals[v];
    int si = x->virt_src;
    NML_TRY(imp_materialize(c, si, err));
    const imp_value *src = &c->vals[si];
    x->nonneg = src->nonneg; /* moving data keeps its sign */
    imp_tensor map = {0};
    NML_TRY(stored_map(c, v, src, &map, err));
    const int64_t *g0 = map.data;
    int done, save = c->cur_node;
    c->cur_node = x->producer; /* operators emitted here are named after the movement node */
    nml_status s = try_forms(c, x, src, g0, &done, err);
    c->cur_node = save;
    imp_tensor_free(&map);
    NML_TRY(s);
    if (done) return NML_OK;
    int lt;
    NML_TRY(natural(c, v, &lt, err));
    x->lt = lt;
    imp_layout_identity(x->layout, x->t.rank);
    return NML_OK;
}

nml_status imp_row_permutation(imp_ctx *c, int v, int32_t **perm, int *src_lt, int *found,
                               nml_error *err) {
    imp_value *x = &c->vals[v];
    *found = 0;
    *perm = NULL;
    if (!x->virt || x->lt >= 0 || x->t.rank != 2) return NML_OK;
    int si = x->virt_src;
    NML_TRY(imp_materialize(c, si, err));
    const imp_value *src = &c->vals[si];
    int64_t m = x->t.dims[0], k = x->t.dims[1];
    if (src->t.count != x->t.count || k <= 0 || k > NML_MAX_DIM) return NML_OK;
    imp_tensor map = {0};
    NML_TRY(stored_map(c, v, src, &map, err));
    const int64_t *g = map.data;
    int32_t *p = malloc((size_t)k * sizeof *p);
    uint8_t *seen = calloc((size_t)k, 1);
    if (!p || !seen) {
        free(p);
        free(seen);
        imp_tensor_free(&map);
        return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    int ok = 1;
    for (uint64_t i = 0; ok && i < map.count; i++) {
        int64_t off = g[i];
        int64_t row = (int64_t)i / k, col = (int64_t)i % k, scol = off - row * k;
        if (scol < 0 || scol >= k)
            ok = 0;
        else if (row == 0) {
            if (seen[scol]) ok = 0;
            seen[scol] = 1;
            p[col] = (int32_t)scol;
        } else if (p[col] != scol) {
            ok = 0;
        }
    }
    imp_tensor_free(&map);
    free(seen);
    if (!ok) {
        free(p);
        return NML_OK;
    }
    int32_t d[2] = {(int32_t)m, (int32_t)k};
    nml_status s = emit_reshape(c, src->lt, 2, d, x->name, src_lt, err);
    if (s != NML_OK) {
        free(p);
        return s;
    }
    *perm = p;
    *found = 1;
    return NML_OK;
}

nml_status imp_materialize(imp_ctx *c, int v, nml_error *err) {
    imp_value *x = &c->vals[v];
    if (x->lt >= 0) return NML_OK;
    if (x->virt) return materialize_virtual(c, v, err);
    if (x->t.data) { /* a constant used where an activation is expected */
        int8_t lay[IMP_MAX_RANK];
        imp_layout_default(lay, x->t.rank);
        NML_TRY(imp_const_in_layout(c, &x->t, x->t.rank, lay, x->name, &x->lt, err));
        memcpy(x->layout, lay, (size_t)x->t.rank);
        return NML_OK;
    }
    return imp_fail(c, err, c->cur_node, NML_E_INTERNAL, "'%s' was used before it was lowered",
                    x->name);
}
