/* PRE-MERGE STAND-IN, NOT THE IR LIBRARY. The real nml_ir implementation and the .tflite writer
 * are written on another branch. Until they are merged, CMake compiles this file with
 * NML_IR_PREMERGE=1 / NML_TFLITE_WRITER_PREMERGE=1 so the importer, its CLI and its tests link
 * and can be tested on the in-memory IR. CMake turns each half off by itself as soon as another
 * source in src/ defines the same functions; the lead can delete this file after the merge. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/ir.h"

#if defined(NML_IR_PREMERGE) && NML_IR_PREMERGE

void nml_ir_init(nml_ir *ir) {
    memset(ir, 0, sizeof *ir);
}

void nml_ir_free(nml_ir *ir) {
    if (!ir) return;
    for (int i = 0; i < ir->n_tensors; i++) {
        free(ir->tensors[i].name);
        free(ir->tensors[i].data);
        free(ir->tensors[i].scales);
        free(ir->tensors[i].zero_points);
    }
    for (int i = 0; i < ir->n_ops; i++) {
        free(ir->ops[i].custom_code);
        free(ir->ops[i].custom_options);
        free(ir->ops[i].name);
    }
    for (int i = 0; i < ir->n_metadata; i++) {
        free(ir->metadata[i].name);
        free(ir->metadata[i].data);
    }
    free(ir->tensors);
    free(ir->ops);
    free(ir->inputs);
    free(ir->outputs);
    free(ir->description);
    free(ir->metadata);
    memset(ir, 0, sizeof *ir);
}

uint64_t nml_ir_tensor_count(const nml_ir_tensor *t) {
    uint64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= (uint64_t)(t->dims[i] < 0 ? 0 : t->dims[i]);
    return n;
}

static int grow(void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return 1;
    int n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, (size_t)n * elem);
    if (!q) return 0;
    *p = q;
    *cap = n;
    return 1;
}

nml_status nml_ir_add_tensor(nml_ir *ir, const char *name, int type, int rank, const int32_t *dims,
                             const void *data, size_t data_bytes, int *index, nml_error *err) {
    if (rank < 0 || rank > NML_MAX_RANK)
        return nml_fail(err, NML_E_LIMIT, "ir: tensor '%s' rank %d", name, rank);
    if (!grow((void **)&ir->tensors, &ir->cap_tensors, ir->n_tensors + 1, sizeof *ir->tensors))
        return nml_fail(err, NML_E_NOMEM, "ir: out of memory");
    nml_ir_tensor *t = &ir->tensors[ir->n_tensors];
    memset(t, 0, sizeof *t);
    size_t len = strlen(name);
    t->name = malloc(len + 1);
    if (!t->name) return nml_fail(err, NML_E_NOMEM, "ir: out of memory");
    memcpy(t->name, name, len + 1);
    t->type = type;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    if (data) {
        int ok;
        size_t want = nml_dtype_bytes_for(type, nml_ir_tensor_count(t), &ok);
        if (!ok || want != data_bytes) {
            free(t->name);
            return nml_fail(err, NML_E_ARG, "ir: tensor '%s' data is %zu bytes, shape needs %zu",
                            name, data_bytes, want);
        }
        t->data = malloc(data_bytes ? data_bytes : 1);
        if (!t->data) {
            free(t->name);
            return nml_fail(err, NML_E_NOMEM, "ir: out of memory");
        }
        if (data_bytes) memcpy(t->data, data, data_bytes);
        t->data_bytes = data_bytes;
    }
    *index = ir->n_tensors++;
    return NML_OK;
}

nml_status nml_ir_add_op(nml_ir *ir, int32_t builtin, const nml_op_params *params, int n_inputs,
                         const int32_t *inputs, int n_outputs, const int32_t *outputs, int *index,
                         nml_error *err) {
    if (n_inputs < 0 || n_inputs > NML_MAX_OP_INPUTS || n_outputs < 0 ||
        n_outputs > NML_MAX_OP_OUTPUTS)
        return nml_fail(err, NML_E_LIMIT, "ir: operator with %d inputs, %d outputs", n_inputs,
                        n_outputs);
    if (!grow((void **)&ir->ops, &ir->cap_ops, ir->n_ops + 1, sizeof *ir->ops))
        return nml_fail(err, NML_E_NOMEM, "ir: out of memory");
    nml_ir_op *o = &ir->ops[ir->n_ops];
    memset(o, 0, sizeof *o);
    o->builtin = builtin;
    o->version = 1;
    o->n_inputs = n_inputs;
    o->n_outputs = n_outputs;
    for (int i = 0; i < n_inputs; i++)
        o->inputs[i] = inputs[i];
    for (int i = 0; i < n_outputs; i++)
        o->outputs[i] = outputs[i];
    if (params)
        o->params = *params;
    else
        nml_op_params_default(&o->params);
    *index = ir->n_ops++;
    return NML_OK;
}

nml_status nml_ir_set_io(nml_ir *ir, int n_inputs, const int32_t *inputs, int n_outputs,
                         const int32_t *outputs, nml_error *err) {
    int32_t *in = malloc((size_t)(n_inputs > 0 ? n_inputs : 1) * sizeof *in);
    int32_t *out = malloc((size_t)(n_outputs > 0 ? n_outputs : 1) * sizeof *out);
    if (!in || !out) {
        free(in);
        free(out);
        return nml_fail(err, NML_E_NOMEM, "ir: out of memory");
    }
    for (int i = 0; i < n_inputs; i++)
        in[i] = inputs[i];
    for (int i = 0; i < n_outputs; i++)
        out[i] = outputs[i];
    free(ir->inputs);
    free(ir->outputs);
    ir->inputs = in;
    ir->outputs = out;
    ir->n_inputs = n_inputs;
    ir->n_outputs = n_outputs;
    return NML_OK;
}

#endif

#if defined(NML_TFLITE_WRITER_PREMERGE) && NML_TFLITE_WRITER_PREMERGE

nml_status nml_ir_to_tflite(const nml_ir *ir, uint8_t **out, size_t *size, nml_error *err) {
    (void)ir;
    *out = NULL;
    *size = 0;
    return nml_fail(err, NML_E_UNSUPPORTED,
                    "this build has no .tflite writer yet (the IR library is not merged)");
}

#endif

/* keeps the translation unit non-empty when both halves are switched off */
typedef int nml_ir_premerge_unused;
