/* nml_ir_from_tflite: a .tflite flatbuffer into the editable IR.
 *
 * The runtime's loader verifies the whole file first (every offset, vector, tensor size and
 * option table), so this reader only walks what is already known to be in bounds through the
 * runtime's accessors and copies it into owned IR memory. The few parts the runtime has no use
 * for (description, metadata, custom options) are read with the same bounds-checked flatbuffer
 * functions. Only subgraph 0 exists in the IR, so models with more subgraphs are refused rather
 * than silently truncated. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/ir.h"
#include "nanoml/runtime.h"
#include "runtime/fb.h"
#include "runtime/schema.h"

/* Metadata table fields (schema.fbs: table Metadata { name: string; buffer: uint; }). */
enum { TFL_METADATA_NAME = 0, TFL_METADATA_BUFFER = 1 };

static nml_fb model_fb(const nml_model *m) {
    nml_fb fb = {m->data, (uint32_t)m->size};
    return fb;
}

/* Per-channel vectors live unaligned-agnostic inside the model: copy them out byte-wise. */
static nml_status read_quant(nml_ir *ir, int index, const nml_tensor *t, nml_error *err) {
    if (t->n_q == 0) return NML_OK;
    float *scales = malloc(t->n_q * sizeof *scales);
    int64_t *zps = calloc(t->n_q, sizeof *zps);
    if (!scales || !zps) {
        free(scales);
        free(zps);
        return nml_fail(err, NML_E_NOMEM, "out of memory for %u scales", (unsigned)t->n_q);
    }
    for (uint32_t c = 0; c < t->n_q; c++) {
        uint32_t bits = nml_fb_load_u32(t->q_scales + 4u * c);
        memcpy(&scales[c], &bits, sizeof bits);
        if (t->q_zero_points) zps[c] = (int64_t)nml_fb_load_u64(t->q_zero_points + 8u * c);
    }
    nml_status st = nml_ir_set_quant(ir, index, t->n_q, scales, zps, t->q_dim, err);
    free(scales);
    free(zps);
    return st;
}

static nml_status read_tensor(nml_ir *ir, const nml_model *m, uint32_t i, nml_error *err) {
    nml_tensor t;
    NML_TRY(nml_model_tensor(m, i, &t, err));
    const int is_const = t.alloc == NML_ALLOC_CONST;
    const int dense = is_const && !t.pack;
    int index;
    NML_TRY(nml_ir_add_tensor(ir, t.name, t.type, t.rank, t.dims, dense ? t.data : NULL,
                              dense ? t.bytes : 0, &index, err));
    ir->tensors[index].is_variable = t.alloc == NML_ALLOC_PERSIST;
    if (t.pack &&
        nml_ir_set_packed(ir, index, t.pack, t.pack_bytes, t.data, t.bytes, err) != NML_OK)
        return nml_error_prefix(err, "tensor %lu: ", (unsigned long)i);
    if (read_quant(ir, index, &t, err) != NML_OK)
        return nml_error_prefix(err, "tensor %lu (%s): ", (unsigned long)i, t.name);
    return NML_OK;
}

/* Custom options are a byte vector on the Operator table; the runtime only stores the table. */
static nml_status read_custom_options(nml_ir *ir, int op_index, const nml_model *m,
                                      const nml_model_op *op, nml_error *err) {
    nml_fb fb = model_fb(m);
    nml_fb_table t;
    nml_fb_vec v;
    NML_TRY(nml_fb_table_at(&fb, op->table, &t, err));
    NML_TRY(nml_fb_vec_field(&fb, &t, TFL_OP_CUSTOM_OPTIONS, 1, &v, err));
    if (!op->custom_code && v.len == 0) return NML_OK;
    return nml_ir_set_custom(ir, op_index, op->custom_code, v.len ? fb.data + v.pos : NULL, v.len,
                             err);
}

static nml_status read_operator(nml_ir *ir, const nml_model *m, uint32_t i, nml_error *err) {
    nml_model_op op;
    nml_op_params params;
    NML_TRY(nml_model_operator(m, i, &op, err));
    NML_TRY(nml_model_op_params(m, i, &params, err));
    int index;
    if (nml_ir_add_op(ir, op.builtin, &params, op.n_inputs, op.inputs, op.n_outputs, op.outputs,
                      &index, err) != NML_OK)
        return nml_error_prefix(err, "operator %lu: ", (unsigned long)i);
    ir->ops[index].version = op.version;
    if (read_custom_options(ir, index, m, &op, err) != NML_OK)
        return nml_error_prefix(err, "operator %lu (%s): ", (unsigned long)i,
                                nml_model_op_name(&op));
    return NML_OK;
}

static nml_status read_io(nml_ir *ir, const nml_model *m, nml_error *err) {
    int32_t *in = malloc((m->n_inputs + 1) * sizeof *in);
    int32_t *out = malloc((m->n_outputs + 1) * sizeof *out);
    nml_status st = NML_OK;
    if (!in || !out) st = nml_fail(err, NML_E_NOMEM, "out of memory for graph inputs/outputs");
    for (uint32_t k = 0; st == NML_OK && k < m->n_inputs; k++)
        in[k] = nml_model_input(m, k);
    for (uint32_t k = 0; st == NML_OK && k < m->n_outputs; k++)
        out[k] = nml_model_output(m, k);
    if (st == NML_OK) st = nml_ir_set_io(ir, (int)m->n_inputs, in, (int)m->n_outputs, out, err);
    free(in);
    free(out);
    return st;
}

static nml_status read_description(nml_ir *ir, const nml_fb *fb, const nml_fb_table *root,
                                   nml_error *err) {
    const char *s;
    uint32_t len;
    NML_TRY(nml_fb_str_field(fb, root, TFL_MODEL_DESCRIPTION, &s, &len, err));
    return s ? nml_ir_set_description(ir, s, err) : NML_OK;
}

static nml_status read_metadata(nml_ir *ir, const nml_model *m, const nml_fb *fb,
                                const nml_fb_table *root, nml_error *err) {
    nml_fb_vec v;
    NML_TRY(nml_fb_vec_field(fb, root, TFL_MODEL_METADATA, 4, &v, err));
    for (uint32_t k = 0; k < v.len; k++) {
        nml_fb_table t;
        const char *name;
        uint32_t len, buffer, bytes;
        const uint8_t *data;
        NML_TRY(nml_fb_vec_table(fb, v, k, &t, err));
        NML_TRY(nml_fb_str_field(fb, &t, TFL_METADATA_NAME, &name, &len, err));
        NML_TRY(nml_fb_u32(fb, &t, TFL_METADATA_BUFFER, 0, &buffer, err));
        if (nml_model_buffer(m, buffer, &data, &bytes, err) != NML_OK)
            return nml_error_prefix(err, "metadata %lu: ", (unsigned long)k);
        NML_TRY(nml_ir_add_metadata(ir, name ? name : "", data, bytes, err));
    }
    return NML_OK;
}

static nml_status read_model(nml_ir *ir, const nml_model *m, nml_error *err) {
    if (m->n_subgraphs != 1)
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "model has %lu subgraphs; the IR holds exactly one (control flow is not "
                        "supported)",
                        (unsigned long)m->n_subgraphs);
    for (uint32_t i = 0; i < m->n_tensors; i++)
        NML_TRY(read_tensor(ir, m, i, err));
    for (uint32_t i = 0; i < m->n_operators; i++)
        NML_TRY(read_operator(ir, m, i, err));
    NML_TRY(read_io(ir, m, err));
    nml_fb fb = model_fb(m);
    nml_fb_table root;
    NML_TRY(nml_fb_table_at(&fb, m->model_table, &root, err));
    NML_TRY(read_description(ir, &fb, &root, err));
    return read_metadata(ir, m, &fb, &root, err);
}

nml_status nml_ir_from_tflite(nml_ir *ir, const uint8_t *data, size_t size, nml_error *err) {
    nml_ir_init(ir);
    if (!data) return nml_fail(err, NML_E_ARG, "tflite reader: no model data");
    /* the runtime reads in place and wants 16-byte alignment; copy when the caller's bytes are
     * not aligned */
    uint8_t *copy = NULL;
    const uint8_t *bytes = data;
    if ((uintptr_t)data % 16 && size > 0) {
        copy = aligned_alloc(16, (size + 15) & ~(size_t)15);
        if (!copy) return nml_fail(err, NML_E_NOMEM, "tflite reader: out of memory (%zu)", size);
        memcpy(copy, data, size);
        bytes = copy;
    }
    nml_model m;
    nml_status st = nml_model_load(&m, bytes, size, err);
    if (st == NML_OK) st = read_model(ir, &m, err);
    if (st != NML_OK) {
        nml_error_prefix(err, "tflite reader: ");
        nml_ir_free(ir);
    }
    free(copy);
    return st;
}
