/* ONNX reader and importer (nanoml import): protobuf wire format, ModelProto, shape inference,
 * constant folding, lowering, then the .tflite writer. A parsed model must be self-consistent
 * (tensor byte counts match their shapes and types), and whatever the importer accepts must
 * become a .tflite file nanoml's own verifier loads, with the graph's inputs and outputs (and
 * possibly no operator: an identity graph).
 *
 * Bounded input shape: a rank-4 graph input whose declared size is larger than 1x4x64x64, or
 * not fully known, is re-targeted to at most that (as `nanoml import --input-shape` would), so
 * a file cannot make every executed input a large-tensor import; smaller models import at their
 * own size, and retargeting itself is exercised by the larger ones (FastestDet: 1x3x352x352).
 * The importer may compute at most 4 M elements (constant folding, index maps) per input
 * instead of its default 128 M: the same budget code, reached sooner, so no input takes
 * seconds. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "nanoml/ir.h"
#include "nanoml/runtime.h"
#include "onnx/import.h"

#define MAX_CHANNELS 4
#define MAX_SIDE 64

static void check_tensor(const nml_onnx_tensor *t) {
    nml_fuzz_check(t->name != NULL, "tensor has a name");
    nml_fuzz_check(t->rank >= 0 && t->rank <= NML_ONNX_MAX_RANK, "tensor rank within the limit");
    uint64_t count = 1;
    for (int i = 0; i < t->rank; i++) {
        nml_fuzz_check(t->dims[i] >= 0, "tensor dimension non-negative");
        count *= (uint64_t)t->dims[i];
    }
    nml_fuzz_check(count == t->count, "tensor count = product of dims");
    if (t->dtype == NML_ONNX_STRING) return;
    nml_fuzz_check(t->bytes == t->count * nml_onnx_dtype_size(t->dtype), "tensor bytes");
    nml_fuzz_check(t->bytes == 0 || t->data != NULL, "tensor data present");
}

static void check_model(const nml_onnx_model *m) {
    const nml_onnx_graph *g = &m->graph;
    for (size_t i = 0; i < g->n_initializers; i++)
        check_tensor(&g->initializers[i]);
    for (size_t i = 0; i < g->n_nodes; i++) {
        const nml_onnx_node *n = &g->nodes[i];
        nml_fuzz_check(n->op_type && n->name && n->domain, "node strings present");
        for (size_t k = 0; k < n->n_attrs; k++) {
            nml_fuzz_check(n->attrs[k].name != NULL, "attribute has a name");
            if (n->attrs[k].t) check_tensor(n->attrs[k].t);
        }
    }
}

/* The first graph input that is not an initializer (ONNX lists both as inputs in old files). */
static const nml_onnx_value_info *first_input(const nml_onnx_graph *g) {
    for (size_t i = 0; i < g->n_inputs; i++) {
        int is_init = 0;
        for (size_t k = 0; k < g->n_initializers && !is_init; k++)
            is_init = strcmp(g->inputs[i].name, g->initializers[k].name) == 0;
        if (!is_init) return &g->inputs[i];
    }
    return NULL;
}

static void bound_input_shape(const nml_onnx_model *m, nml_onnx_import_options *opt) {
    const nml_onnx_value_info *in = first_input(&m->graph);
    if (!in || !in->has_shape || in->rank != 4) return;
    const int64_t limit[4] = {1, MAX_CHANNELS, MAX_SIDE, MAX_SIDE};
    int small = 1;
    for (int i = 0; i < 4; i++)
        small &= in->dims[i] >= 1 && in->dims[i] <= limit[i];
    if (small) return;
    opt->n_input_shape = 4;
    for (int i = 0; i < 4; i++)
        opt->input_shape[i] = in->dims[i] >= 1 && in->dims[i] <= limit[i] ? in->dims[i] : limit[i];
}

static nml_status write_and_load(const nml_ir *ir, nml_error *err) {
    uint8_t *flat = NULL;
    size_t size = 0;
    nml_status st = nml_ir_to_tflite(ir, &flat, &size, err);
    if (st == NML_OK) {
        /* nanoml wrote it: its own verifier must accept it, with the same inputs and outputs */
        nml_model model;
        nml_error load_err;
        nml_status ls = nml_model_load(&model, flat, size, &load_err);
        if (ls != NML_OK) nml_fuzz_check(0, load_err.msg);
        nml_fuzz_check(nml_model_input(&model, (uint32_t)ir->n_inputs - 1) >= 0 &&
                           nml_model_output(&model, (uint32_t)ir->n_outputs - 1) >= 0,
                       "written model keeps the inputs and outputs");
    }
    free(flat);
    return st;
}

static nml_status one(const uint8_t *data, size_t size, nml_error *err) {
    nml_onnx_model m;
    NML_TRY(nml_onnx_parse(&m, data, size, err));
    check_model(&m);
    nml_onnx_import_options opt;
    nml_onnx_import_options_default(&opt);
    bound_input_shape(&m, &opt);
    opt.max_eval_elems = (uint64_t)1 << 22;
    nml_ir ir;
    nml_ir_init(&ir);
    nml_status st = nml_onnx_import_model(&m, &opt, &ir, NULL, err);
    if (st == NML_OK) {
        /* no operator is fine: a graph whose output is its input is an identity model */
        nml_fuzz_check(ir.n_inputs > 0 && ir.n_outputs > 0,
                       "imported graph has inputs and outputs");
        st = write_and_load(&ir, err);
    } else {
        nml_fuzz_check(ir.n_tensors == 0 && ir.n_ops == 0, "failed import leaves the IR empty");
    }
    nml_ir_free(&ir);
    nml_onnx_free(&m);
    return st;
}

NML_FUZZ_TARGET(one, 2u << 20)
