/* The ONNX importer's driver: build the value graph, infer shapes (folding constants), find what
 * the outputs need, lower node by node, clean up, hand over to nml_ir. */
#include "onnx/import.h"

#include <stdlib.h>
#include <string.h>

#include "nanoml/parse.h"
#include "onnx/imp.h"

void nml_onnx_import_options_default(nml_onnx_import_options *opt) {
    memset(opt, 0, sizeof *opt);
}

nml_status nml_onnx_parse_shape(const char *text, int64_t *dims, int *rank, nml_error *err) {
    int32_t d[NML_MAX_RANK];
    NML_TRY(nml_parse_shape(text, rank, d, err));
    for (int i = 0; i < *rank; i++)
        dims[i] = d[i];
    return NML_OK;
}

/* Marks nodes and values the graph outputs depend on; counts uses for fusion decisions. */
static void liveness(imp_ctx *c) {
    for (size_t i = 0; i < c->n_vals; i++)
        if (c->vals[i].is_output) c->vals[i].live = 1;
    for (size_t i = c->n_nodes; i-- > 0;) {
        imp_node *n = &c->nodes[i];
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0 && c->vals[n->out[k]].live) n->live = 1;
        if (!n->live || n->folded) continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0) c->vals[n->in[k]].live = 1;
    }
    for (size_t i = 0; i < c->n_vals; i++)
        c->vals[i].uses = c->vals[i].is_output;
    for (size_t i = 0; i < c->n_nodes; i++) {
        imp_node *n = &c->nodes[i];
        if (!n->live || n->folded) continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0) {
                c->vals[n->in[k]].uses++;
                c->vals[n->in[k]].consumer = (int)i;
            }
    }
}

typedef nml_status (*lower_fn)(imp_ctx *c, int node, nml_error *err);

static const struct {
    const char *op;
    lower_fn fn;
} lower_table[] = {
    {"Conv", imp_lower_conv},
    {"MaxPool", imp_lower_pool},
    {"AveragePool", imp_lower_pool},
    {"GlobalAveragePool", imp_lower_global_pool},
    {"GlobalMaxPool", imp_lower_global_pool},
    {"Gemm", imp_lower_gemm},
    {"MatMul", imp_lower_matmul},
    {"BatchNormalization", imp_lower_batchnorm},
    {"Relu", imp_lower_unary},
    {"LeakyRelu", imp_lower_unary},
    {"Clip", imp_lower_unary},
    {"Sigmoid", imp_lower_unary},
    {"Tanh", imp_lower_unary},
    {"Exp", imp_lower_unary},
    {"Abs", imp_lower_unary},
    {"Neg", imp_lower_unary},
    {"Sqrt", imp_lower_unary},
    {"Floor", imp_lower_unary},
    {"HardSwish", imp_lower_unary},
    {"Cast", imp_lower_unary},
    {"Add", imp_lower_binary},
    {"Sub", imp_lower_binary},
    {"Mul", imp_lower_binary},
    {"Div", imp_lower_binary},
    {"Max", imp_lower_binary},
    {"Min", imp_lower_binary},
    {"Softmax", imp_lower_softmax},
    {"LogSoftmax", imp_lower_softmax},
    {"Concat", imp_lower_concat},
    {"Split", imp_lower_split},
    {"Slice", imp_lower_slice},
    {"Pad", imp_lower_pad},
    {"Resize", imp_lower_resize},
    {"Upsample", imp_lower_resize},
    {"Gather", imp_lower_gather_dynamic},
};

static nml_status lower_node(imp_ctx *c, int node, nml_error *err) {
    c->cur_node = node;
    if (imp_is_movement(c, node)) return imp_lower_movement(c, node, err);
    const char *op = imp_op(c, node);
    for (size_t i = 0; i < sizeof lower_table / sizeof lower_table[0]; i++) {
        if (strcmp(op, lower_table[i].op) != 0) continue;
        imp_value *x = imp_in(c, node, 0);
        if (x && x->t.dtype != IMP_F32)
            return imp_fail(c, err, node, NML_E_UNSUPPORTED,
                            "input '%s' is an integer tensor computed at run time", x->name);
        NML_TRY(lower_table[i].fn(c, node, err));
        c->st->converted++;
        return NML_OK;
    }
    return imp_fail(c, err, node, NML_E_UNSUPPORTED, "operator %s cannot be lowered", op);
}

static nml_status lower_inputs(imp_ctx *c, nml_error *err) {
    size_t n = 0;
    for (size_t i = 0; i < c->n_vals; i++)
        n += c->vals[i].is_input;
    c->in_lt = malloc((n ? n : 1) * sizeof *c->in_lt);
    if (!c->in_lt) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (size_t i = 0; i < c->n_vals; i++) {
        imp_value *v = &c->vals[i];
        if (!v->is_input) continue;
        int8_t lay[IMP_MAX_RANK];
        int lt;
        imp_layout_default(lay, v->t.rank);
        NML_TRY(imp_new_output(c, (int)i, lay, &lt, err));
        c->lt[lt].keep = 1;
        c->in_lt[c->n_in_lt++] = lt;
    }
    return NML_OK;
}

/* Swaps tensor names so the graph output carries the ONNX output's name. */
static void claim_name(imp_ctx *c, int lt, const char *name) {
    if (!strcmp(c->lt[lt].name, name)) return;
    for (size_t i = 0; i < c->n_lt; i++)
        if ((int)i != lt && !strcmp(c->lt[i].name, name)) {
            char *t = c->lt[i].name;
            c->lt[i].name = c->lt[lt].name;
            c->lt[lt].name = t;
            return;
        }
}

static nml_status lower_outputs(imp_ctx *c, nml_error *err) {
    const nml_onnx_graph *g = c->g;
    c->out_lt = malloc(g->n_outputs * sizeof *c->out_lt);
    if (!c->out_lt) return nml_fail(err, NML_E_NOMEM, "out of memory");
    c->cur_node = -1;
    for (size_t i = 0; i < g->n_outputs; i++) {
        int v = imp_find(c, g->outputs[i].name);
        imp_value *x = &c->vals[v];
        if (x->t.data && x->lt < 0)
            return nml_fail(err, NML_E_UNSUPPORTED, "graph output '%s' is a constant", x->name);
        if (x->t.dtype != IMP_F32)
            return nml_fail(err, NML_E_UNSUPPORTED, "graph output '%s' is not float", x->name);
        int8_t lay[IMP_MAX_RANK];
        if (x->t.rank == 4 && !c->opt->keep_nchw_output)
            imp_layout_default(lay, 4);
        else
            imp_layout_identity(lay, x->t.rank);
        int lt;
        NML_TRY(imp_need_layout(c, v, lay, &lt, err));
        c->lt[lt].keep = 1;
        claim_name(c, lt, x->name);
        c->out_lt[c->n_out_lt++] = lt;
    }
    return NML_OK;
}

static nml_status run(imp_ctx *c, const nml_onnx_model *model, nml_ir *ir, nml_error *err) {
    NML_TRY(imp_build(c, model, err));
    c->st->onnx_nodes = c->n_nodes;
    for (size_t i = 0; i < c->n_nodes; i++)
        c->st->onnx_transposes += !strcmp(imp_op(c, (int)i), "Transpose");
    NML_TRY(imp_infer_all(c, err));
    liveness(c);
    for (size_t i = 0; i < c->n_nodes; i++) {
        if (c->nodes[i].folded)
            c->st->folded++;
        else if (!c->nodes[i].live)
            c->st->dead++;
    }
    NML_TRY(lower_inputs(c, err));
    for (size_t i = 0; i < c->n_nodes; i++) {
        imp_node *n = &c->nodes[i];
        if (!n->live || n->folded || n->done) continue;
        NML_TRY(lower_node(c, (int)i, err));
        n->done = 1;
    }
    NML_TRY(lower_outputs(c, err));
    NML_TRY(lg_peephole(c, err));
    return lg_to_ir(c, ir, err);
}

nml_status nml_onnx_import_model(const nml_onnx_model *model, const nml_onnx_import_options *opt,
                                 nml_ir *ir, nml_onnx_import_stats *stats, nml_error *err) {
    nml_onnx_import_options def;
    nml_onnx_import_stats local;
    if (!model || !ir) return nml_fail(err, NML_E_ARG, "onnx import: no model or IR");
    if (ir->n_tensors || ir->n_ops)
        return nml_fail(err, NML_E_ARG, "onnx import: the IR must be empty");
    if (!opt) {
        nml_onnx_import_options_default(&def);
        opt = &def;
    }
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    imp_ctx c;
    memset(&c, 0, sizeof c);
    c.opt = opt;
    c.st = stats;
    nml_status s = run(&c, model, ir, err);
    imp_free(&c);
    if (s != NML_OK) {
        nml_ir_free(ir);
        nml_ir_init(ir);
    }
    return s;
}

nml_status nml_onnx_import(const uint8_t *data, size_t size, const nml_onnx_import_options *opt,
                           nml_ir *ir, nml_onnx_import_stats *stats, nml_error *err) {
    nml_onnx_model m;
    NML_TRY(nml_onnx_parse(&m, data, size, err));
    nml_status s = nml_onnx_import_model(&m, opt, ir, stats, err);
    nml_onnx_free(&m);
    return s;
}
