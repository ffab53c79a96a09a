/* The importer's view of the ONNX graph: one value per tensor name, nodes referring to values
 * by index, and the small lookups every pass needs (attributes, constant inputs, errors). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/imp.h"

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

int imp_find(const imp_ctx *c, const char *name) {
    if (!c->hash_cap) return -1;
    size_t mask = c->hash_cap - 1;
    for (size_t i = (size_t)hash_name(name) & mask;; i = (i + 1) & mask) {
        size_t e = c->hash[i];
        if (!e) return -1;
        if (strcmp(c->vals[e - 1].name, name) == 0) return (int)(e - 1);
    }
}

static void hash_insert(imp_ctx *c, size_t v) {
    size_t mask = c->hash_cap - 1;
    size_t i = (size_t)hash_name(c->vals[v].name) & mask;
    while (c->hash[i])
        i = (i + 1) & mask;
    c->hash[i] = v + 1;
}

static nml_status add_value(imp_ctx *c, const char *name, int *index, nml_error *err) {
    if (imp_find(c, name) >= 0)
        return nml_fail(err, NML_E_FORMAT, "tensor name '%s' is defined twice", name);
    if (c->n_vals >= c->cap_vals)
        return nml_fail(err, NML_E_INTERNAL, "value table full (%zu)", c->cap_vals);
    imp_value *v = &c->vals[c->n_vals];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->producer = -1;
    v->lt = v->alt_lt = v->nat_lt = -1;
    v->virt_src = -1;
    hash_insert(c, c->n_vals);
    *index = (int)c->n_vals++;
    return NML_OK;
}

static nml_status alloc_tables(imp_ctx *c, nml_error *err) {
    const nml_onnx_graph *g = c->g;
    size_t n = g->n_initializers + g->n_inputs;
    for (size_t i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].n_outputs > SIZE_MAX / 4 - n)
            return nml_fail(err, NML_E_LIMIT, "too many tensors");
        n += g->nodes[i].n_outputs;
    }
    size_t cap = 16;
    while (cap < 2 * n + 1) {
        if (cap > SIZE_MAX / 4) return nml_fail(err, NML_E_LIMIT, "too many tensors");
        cap *= 2;
    }
    c->cap_vals = n;
    c->vals = calloc(n ? n : 1, sizeof *c->vals);
    c->hash = calloc(cap, sizeof *c->hash);
    c->hash_cap = cap;
    c->nodes = calloc(g->n_nodes ? g->n_nodes : 1, sizeof *c->nodes);
    if (!c->vals || !c->hash || !c->nodes)
        return nml_fail(err, NML_E_NOMEM, "out of memory for %zu tensors", n);
    return NML_OK;
}

static nml_status add_initializers_and_inputs(imp_ctx *c, nml_error *err) {
    const nml_onnx_graph *g = c->g;
    for (size_t i = 0; i < g->n_initializers; i++) {
        const nml_onnx_tensor *t = &g->initializers[i];
        int v;
        if (!t->name[0]) return nml_fail(err, NML_E_FORMAT, "initializer %zu has no name", i);
        NML_TRY(add_value(c, t->name, &v, err));
        if (imp_from_onnx(&c->vals[v].t, t, err) != NML_OK)
            return nml_error_prefix(err, "initializer '%s': ", t->name);
        c->vals[v].known = 1;
    }
    for (size_t i = 0; i < g->n_inputs; i++) {
        const nml_onnx_value_info *vi = &g->inputs[i];
        if (imp_find(c, vi->name) >= 0) continue; /* old models list initializers as inputs */
        int v;
        if (!vi->name[0]) return nml_fail(err, NML_E_FORMAT, "graph input %zu has no name", i);
        NML_TRY(add_value(c, vi->name, &v, err));
        c->vals[v].is_input = 1;
    }
    return NML_OK;
}

static nml_status add_nodes(imp_ctx *c, nml_error *err) {
    const nml_onnx_graph *g = c->g;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const nml_onnx_node *n = &g->nodes[i];
        imp_node *nd = &c->nodes[i];
        nd->n = n;
        c->n_nodes = i + 1;
        if (n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
            return imp_fail(c, err, (int)i, NML_E_UNSUPPORTED,
                            "operator domain '%s' is not supported", n->domain);
        nd->in = malloc((n->n_inputs ? n->n_inputs : 1) * sizeof *nd->in);
        nd->out = malloc((n->n_outputs ? n->n_outputs : 1) * sizeof *nd->out);
        if (!nd->in || !nd->out) return nml_fail(err, NML_E_NOMEM, "out of memory");
        if (n->n_inputs > 1000000 || n->n_outputs > 1000000)
            return imp_fail(c, err, (int)i, NML_E_LIMIT, "too many inputs or outputs");
        nd->n_in = (int)n->n_inputs;
        nd->n_out = (int)n->n_outputs;
        for (size_t k = 0; k < n->n_inputs; k++) {
            nd->in[k] = -1;
            if (!n->inputs[k][0]) continue;
            nd->in[k] = imp_find(c, n->inputs[k]);
            if (nd->in[k] < 0) /* also what a node out of topological order looks like */
                return imp_fail(c, err, (int)i, NML_E_FORMAT,
                                "input '%s' is not produced by any earlier node", n->inputs[k]);
        }
        for (size_t k = 0; k < n->n_outputs; k++) {
            nd->out[k] = -1;
            if (!n->outputs[k][0]) continue;
            if (add_value(c, n->outputs[k], &nd->out[k], err) != NML_OK)
                return imp_fail(c, err, (int)i, NML_E_FORMAT, "output '%s' is defined twice",
                                n->outputs[k]);
            c->vals[nd->out[k]].producer = (int)i;
        }
    }
    return NML_OK;
}

nml_status imp_build(imp_ctx *c, const nml_onnx_model *m, nml_error *err) {
    c->model = m;
    c->g = &m->graph;
    c->opset = nml_onnx_opset_version(m);
    c->cur_node = -1;
    if (c->opset <= 0)
        return nml_fail(err, NML_E_FORMAT, "the model imports no default-domain (ai.onnx) opset");
    if (c->opset < 7 || c->opset > 21)
        return nml_fail(err, NML_E_UNSUPPORTED, "opset %lld is not supported (7 to 21 are)",
                        (long long)c->opset);
    NML_TRY(alloc_tables(c, err));
    NML_TRY(add_initializers_and_inputs(c, err));
    NML_TRY(add_nodes(c, err));
    if (!c->g->n_outputs) return nml_fail(err, NML_E_FORMAT, "the graph has no outputs");
    for (size_t i = 0; i < c->g->n_outputs; i++) {
        int v = imp_find(c, c->g->outputs[i].name);
        if (v < 0)
            return nml_fail(err, NML_E_FORMAT, "graph output '%s' is not produced by any node",
                            c->g->outputs[i].name);
        c->vals[v].is_output = 1;
    }
    return NML_OK;
}

void imp_free(imp_ctx *c) {
    for (size_t i = 0; i < c->n_vals; i++)
        imp_tensor_free(&c->vals[i].t);
    for (size_t i = 0; i < c->n_nodes; i++) {
        free(c->nodes[i].in);
        free(c->nodes[i].out);
    }
    free(c->vals);
    free(c->nodes);
    free(c->hash);
    lg_free(c);
    memset(c, 0, sizeof *c);
}

const char *imp_op(const imp_ctx *c, int node) {
    return c->nodes[node].n->op_type;
}

nml_status imp_fail(const imp_ctx *c, nml_error *err, int node, nml_status st, const char *fmt,
                    ...) {
    char msg[NML_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    nml_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (node < 0 || (size_t)node >= c->n_nodes) return nml_fail(err, st, "%s", msg);
    const nml_onnx_node *n = c->nodes[node].n;
    return nml_fail(err, st, "node '%s' (%s): %s", n->name, n->op_type, msg);
}

imp_value *imp_in(imp_ctx *c, int node, int i) {
    const imp_node *n = &c->nodes[node];
    if (i < 0 || i >= n->n_in || n->in[i] < 0) return NULL;
    return &c->vals[n->in[i]];
}

imp_value *imp_out(imp_ctx *c, int node, int i) {
    const imp_node *n = &c->nodes[node];
    if (i < 0 || i >= n->n_out || n->out[i] < 0) return NULL;
    return &c->vals[n->out[i]];
}

/* Recorded by the liveness pass, so fusion decisions cost O(1) per value instead of a scan of
 * all nodes (a chain of n convolutions took O(n^2): 16,000 nodes 1 s, a 2 MB file minutes). */
int imp_sole_consumer(const imp_ctx *c, int v) {
    if (c->vals[v].is_output || c->vals[v].uses != 1) return -1;
    return c->vals[v].consumer;
}

static const nml_onnx_attr *attr_of(const imp_ctx *c, int node, const char *name) {
    return nml_onnx_attr_find(c->nodes[node].n, name);
}

nml_status imp_attr_int(const imp_ctx *c, int node, const char *name, int64_t def, int64_t *v,
                        nml_error *err) {
    const nml_onnx_attr *a = attr_of(c, node, name);
    *v = def;
    if (!a) return NML_OK;
    if (a->type != NML_ONNX_ATTR_INT)
        return imp_fail(c, err, node, NML_E_FORMAT, "attribute '%s' should be an int (type %d)",
                        name, a->type);
    *v = a->i;
    return NML_OK;
}

nml_status imp_attr_float(const imp_ctx *c, int node, const char *name, float def, float *v,
                          nml_error *err) {
    const nml_onnx_attr *a = attr_of(c, node, name);
    *v = def;
    if (!a) return NML_OK;
    if (a->type != NML_ONNX_ATTR_FLOAT)
        return imp_fail(c, err, node, NML_E_FORMAT, "attribute '%s' should be a float (type %d)",
                        name, a->type);
    *v = a->f;
    return NML_OK;
}

nml_status imp_attr_ints(const imp_ctx *c, int node, const char *name, int64_t *v, int *n, int cap,
                         nml_error *err) {
    const nml_onnx_attr *a = attr_of(c, node, name);
    *n = 0;
    if (!a) return NML_OK;
    if (a->type != NML_ONNX_ATTR_INTS)
        return imp_fail(c, err, node, NML_E_FORMAT,
                        "attribute '%s' should be a list of ints (type %d)", name, a->type);
    if (a->n_ints > (size_t)cap)
        return imp_fail(c, err, node, NML_E_LIMIT, "attribute '%s' has %zu values (at most %d)",
                        name, a->n_ints, cap);
    for (size_t i = 0; i < a->n_ints; i++)
        v[i] = a->ints[i];
    *n = (int)a->n_ints;
    return NML_OK;
}

const char *imp_attr_str(const imp_ctx *c, int node, const char *name, const char *def) {
    const nml_onnx_attr *a = attr_of(c, node, name);
    if (!a || a->type != NML_ONNX_ATTR_STRING || !a->s) return def;
    return a->s;
}

nml_status imp_const_ints(imp_ctx *c, int node, int input, int64_t *v, int *n, int cap,
                          nml_error *err) {
    imp_value *x = imp_in(c, node, input);
    *n = 0;
    if (!x) return NML_OK;
    if (!x->t.data)
        return imp_fail(c, err, node, NML_E_UNSUPPORTED, "input %d ('%s') must be a constant",
                        input, x->name);
    if (x->t.count > (uint64_t)cap)
        return imp_fail(c, err, node, NML_E_LIMIT, "input %d ('%s') has %llu values (at most %d)",
                        input, x->name, (unsigned long long)x->t.count, cap);
    for (uint64_t i = 0; i < x->t.count; i++)
        v[i] = imp_geti(&x->t, i);
    *n = (int)x->t.count;
    return NML_OK;
}
