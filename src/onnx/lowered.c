/* The lowered graph: TFLite-style tensors and operators built by the lowering passes, cleaned
 * by a peephole pass (transpose pairs, reshape chains) and then handed to nml_ir with unused
 * tensors dropped. Kept separate from nml_ir so that passes can delete operators freely. */
#include <stdlib.h>
#include <string.h>

#include "onnx/imp.h"
#include "onnx/pb.h"

static char *dup_str(const char *a, const char *b) {
    size_t la = strlen(a), lb = b ? strlen(b) : 0;
    char *s = malloc(la + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    if (lb) memcpy(s + la, b, lb);
    s[la + lb] = 0;
    return s;
}

nml_status imp_dims32(const imp_ctx *c, int node, int rank, const int64_t *dims, int32_t *out,
                      nml_error *err) {
    if (rank > NML_MAX_RANK)
        return imp_fail(c, err, node, NML_E_LIMIT, "rank %d exceeds %d", rank, NML_MAX_RANK);
    uint64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || dims[i] > NML_MAX_DIM)
            return imp_fail(c, err, node, NML_E_LIMIT, "dimension %lld out of range",
                            (long long)dims[i]);
        n *= (uint64_t)dims[i];
        if (n > NML_MAX_TENSOR_BYTES / 4)
            return imp_fail(c, err, node, NML_E_LIMIT, "tensor larger than %u bytes",
                            NML_MAX_TENSOR_BYTES);
        out[i] = (int32_t)dims[i];
    }
    return NML_OK;
}

nml_status lg_add_tensor(imp_ctx *c, const char *name, int type, int rank, const int32_t *dims,
                         const void *data, size_t bytes, int *index, nml_error *err) {
    NML_TRY(nml_pb_grow((void **)&c->lt, &c->cap_lt, c->n_lt + 1, sizeof *c->lt, err));
    lg_tensor *t = &c->lt[c->n_lt];
    memset(t, 0, sizeof *t);
    t->name = dup_str(name, NULL);
    if (!t->name) return nml_fail(err, NML_E_NOMEM, "out of memory");
    t->type = type;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    if (data) {
        t->data = malloc(bytes ? bytes : 1);
        if (!t->data) {
            free(t->name);
            return nml_fail(err, NML_E_NOMEM, "out of memory for constant '%s'", name);
        }
        if (bytes) memcpy(t->data, data, bytes);
        t->bytes = bytes;
    }
    *index = (int)c->n_lt++;
    return NML_OK;
}

nml_status lg_add_i32(imp_ctx *c, const char *name, int rank, const int32_t *dims, const int32_t *v,
                      int *index, nml_error *err) {
    uint64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (uint64_t)dims[i];
    return lg_add_tensor(c, name, NML_INT32, rank, dims, v, (size_t)n * 4, index, err);
}

nml_status lg_add_act(imp_ctx *c, const char *base, const char *suffix, int rank,
                      const int32_t *dims, int *index, nml_error *err) {
    char *nm = dup_str(base, suffix);
    if (!nm) return nml_fail(err, NML_E_NOMEM, "out of memory");
    nml_status s = lg_add_tensor(c, nm, NML_FLOAT32, rank, dims, NULL, 0, index, err);
    free(nm);
    return s;
}

nml_status lg_add_op(imp_ctx *c, int32_t builtin, const nml_op_params *p, int n_in,
                     const int32_t *in, int n_out, const int32_t *out, nml_error *err) {
    if (n_in > NML_MAX_OP_INPUTS || n_out > NML_MAX_OP_OUTPUTS)
        return imp_fail(c, err, c->cur_node, NML_E_LIMIT, "%d inputs / %d outputs (at most %d)",
                        n_in, n_out, NML_MAX_OP_INPUTS);
    NML_TRY(nml_pb_grow((void **)&c->lo, &c->cap_lo, c->n_lo + 1, sizeof *c->lo, err));
    lg_op *o = &c->lo[c->n_lo];
    memset(o, 0, sizeof *o);
    o->builtin = builtin;
    o->p = *p;
    o->n_in = n_in;
    o->n_out = n_out;
    for (int i = 0; i < n_in; i++) {
        o->in[i] = in[i];
        if (in[i] >= 0) c->lt[in[i]].uses++;
    }
    for (int i = 0; i < n_out; i++)
        o->out[i] = out[i];
    if (c->cur_node >= 0) {
        o->name = dup_str(c->nodes[c->cur_node].n->name, NULL);
        if (!o->name) return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    c->n_lo++;
    return NML_OK;
}

void lg_free(imp_ctx *c) {
    for (size_t i = 0; i < c->n_lt; i++) {
        free(c->lt[i].name);
        free(c->lt[i].data);
    }
    for (size_t i = 0; i < c->n_lo; i++)
        free(c->lo[i].name);
    free(c->lt);
    free(c->lo);
    free(c->in_lt);
    free(c->out_lt);
    c->lt = NULL;
    c->lo = NULL;
    c->n_lt = c->n_lo = c->cap_lt = c->cap_lo = 0;
}

/* ---- peephole ---- */

static void replace_uses(imp_ctx *c, int from, int to) {
    for (size_t i = 0; i < c->n_lo; i++) {
        lg_op *o = &c->lo[i];
        if (o->dead) continue;
        for (int k = 0; k < o->n_in; k++)
            if (o->in[k] == from) {
                o->in[k] = to;
                c->lt[from].uses--;
                c->lt[to].uses++;
            }
    }
}

static void kill_op(imp_ctx *c, lg_op *o) {
    o->dead = 1;
    for (int k = 0; k < o->n_in; k++)
        if (o->in[k] >= 0) c->lt[o->in[k]].uses--;
}

/* Producer op of each tensor (-1 for none). */
static int *producers(imp_ctx *c, nml_error *err) {
    int *p = malloc((c->n_lt ? c->n_lt : 1) * sizeof *p);
    if (!p) {
        nml_fail(err, NML_E_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < c->n_lt; i++)
        p[i] = -1;
    for (size_t i = 0; i < c->n_lo; i++)
        if (!c->lo[i].dead)
            for (int k = 0; k < c->lo[i].n_out; k++)
                p[c->lo[i].out[k]] = (int)i;
    return p;
}

static const int32_t *perm_of(const imp_ctx *c, const lg_op *o) {
    const lg_tensor *t = &c->lt[o->in[1]];
    return t->data && t->type == NML_INT32 ? (const int32_t *)t->data : NULL;
}

/* TRANSPOSE(q) after TRANSPOSE(p) with nothing else reading the middle: one or none. */
static nml_status fuse_transposes(imp_ctx *c, size_t i, const int *prod, int *changed,
                                  nml_error *err) {
    lg_op *b = &c->lo[i];
    int mid = b->in[0], pa = prod[mid];
    if (pa < 0 || c->lo[pa].dead || c->lo[pa].builtin != NML_OP_TRANSPOSE) return NML_OK;
    lg_op *a = &c->lo[pa];
    if (c->lt[mid].uses != 1 || c->lt[mid].keep) return NML_OK;
    const int32_t *p = perm_of(c, a), *q = perm_of(c, b);
    int r = c->lt[mid].rank;
    if (!p || !q) return NML_OK;
    int32_t comp[NML_MAX_RANK];
    int ident = 1;
    for (int k = 0; k < r; k++) {
        comp[k] = p[q[k]];
        if (comp[k] != k) ident = 0;
    }
    int src = a->in[0], out = b->out[0];
    if (ident && !c->lt[out].keep) {
        replace_uses(c, out, src);
        kill_op(c, b);
        kill_op(c, a);
        c->st->transposes_removed += 2;
        *changed = 1;
        return NML_OK;
    }
    int pt = -1;
    int32_t rd = r;
    NML_TRY(lg_add_i32(c, "perm", 1, &rd, comp, &pt, err));
    b = &c->lo[i]; /* lg_add_i32 grows the tensor table only; re-read for clarity */
    kill_op(c, &c->lo[pa]);
    c->lt[b->in[1]].uses--;
    b->in[0] = src;
    b->in[1] = pt;
    c->lt[src].uses++;
    c->lt[pt].uses++;
    c->st->transposes_removed++;
    *changed = 1;
    return NML_OK;
}

/* RESHAPE after RESHAPE: the first one is redundant. */
static void fuse_reshapes(imp_ctx *c, size_t i, const int *prod, int *changed) {
    lg_op *b = &c->lo[i];
    int mid = b->in[0], pa = prod[mid];
    if (pa < 0 || c->lo[pa].dead || c->lo[pa].builtin != NML_OP_RESHAPE) return;
    if (c->lt[mid].uses != 1 || c->lt[mid].keep) return;
    lg_op *a = &c->lo[pa];
    int src = a->in[0];
    kill_op(c, a);
    c->lt[b->in[0]].uses--;
    b->in[0] = src;
    c->lt[src].uses++;
    *changed = 1;
}

nml_status lg_peephole(imp_ctx *c, nml_error *err) {
    int changed = 1;
    while (changed) {
        changed = 0;
        int *prod = producers(c, err);
        if (!prod) return err ? err->status : NML_E_NOMEM;
        nml_status s = NML_OK;
        for (size_t i = 0; i < c->n_lo && s == NML_OK; i++) {
            if (c->lo[i].dead) continue;
            if (c->lo[i].builtin == NML_OP_TRANSPOSE)
                s = fuse_transposes(c, i, prod, &changed, err);
            else if (c->lo[i].builtin == NML_OP_RESHAPE)
                fuse_reshapes(c, i, prod, &changed);
            if (changed) break;
        }
        free(prod);
        NML_TRY(s);
    }
    return NML_OK;
}

/* ---- hand-over to nml_ir ---- */

nml_status lg_to_ir(imp_ctx *c, nml_ir *ir, nml_error *err) {
    int *map = malloc((c->n_lt ? c->n_lt : 1) * sizeof *map);
    uint8_t *used = calloc(c->n_lt ? c->n_lt : 1, 1);
    nml_status s = NML_OK;
    if (!map || !used) s = nml_fail(err, NML_E_NOMEM, "out of memory");
    for (size_t i = 0; s == NML_OK && i < c->n_lo; i++) {
        const lg_op *o = &c->lo[i];
        if (o->dead) continue;
        for (int k = 0; k < o->n_in; k++)
            if (o->in[k] >= 0) used[o->in[k]] = 1;
        for (int k = 0; k < o->n_out; k++)
            used[o->out[k]] = 1;
    }
    for (size_t i = 0; s == NML_OK && i < c->n_in_lt; i++)
        used[c->in_lt[i]] = 1;
    for (size_t i = 0; s == NML_OK && i < c->n_out_lt; i++)
        used[c->out_lt[i]] = 1;
    for (size_t i = 0; s == NML_OK && i < c->n_lt; i++) {
        map[i] = -1;
        if (!used[i]) continue;
        const lg_tensor *t = &c->lt[i];
        s = nml_ir_add_tensor(ir, t->name, t->type, t->rank, t->dims, t->data, t->bytes, &map[i],
                              err);
        if (s == NML_OK && t->data) {
            c->st->param_bytes += t->bytes;
            if (t->type == NML_FLOAT32) c->st->params += t->bytes / 4;
        }
    }
    for (size_t i = 0; s == NML_OK && i < c->n_lo; i++) {
        const lg_op *o = &c->lo[i];
        if (o->dead) continue;
        int32_t in[NML_MAX_OP_INPUTS], out[NML_MAX_OP_OUTPUTS];
        for (int k = 0; k < o->n_in; k++)
            in[k] = o->in[k] >= 0 ? map[o->in[k]] : -1;
        for (int k = 0; k < o->n_out; k++)
            out[k] = map[o->out[k]];
        int idx;
        s = nml_ir_add_op(ir, o->builtin, &o->p, o->n_in, in, o->n_out, out, &idx, err);
        if (s == NML_OK && o->name) {
            ir->ops[idx].name = dup_str(o->name, NULL);
            if (!ir->ops[idx].name) s = nml_fail(err, NML_E_NOMEM, "out of memory");
        }
        if (s == NML_OK) {
            if (o->builtin >= 0 && o->builtin < 256) c->st->op_hist[o->builtin]++;
            if (o->builtin == NML_OP_TRANSPOSE) c->st->ir_transposes++;
        }
    }
    if (s == NML_OK) {
        int32_t *ins = malloc((c->n_in_lt ? c->n_in_lt : 1) * sizeof *ins);
        int32_t *outs = malloc((c->n_out_lt ? c->n_out_lt : 1) * sizeof *outs);
        if (!ins || !outs) s = nml_fail(err, NML_E_NOMEM, "out of memory");
        for (size_t i = 0; s == NML_OK && i < c->n_in_lt; i++)
            ins[i] = map[c->in_lt[i]];
        for (size_t i = 0; s == NML_OK && i < c->n_out_lt; i++)
            outs[i] = map[c->out_lt[i]];
        if (s == NML_OK) s = nml_ir_set_io(ir, (int)c->n_in_lt, ins, (int)c->n_out_lt, outs, err);
        free(ins);
        free(outs);
    }
    if (s == NML_OK) {
        c->st->ir_ops = (size_t)ir->n_ops;
        c->st->ir_tensors = (size_t)ir->n_tensors;
    }
    free(map);
    free(used);
    return s;
}
